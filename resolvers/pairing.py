"""Pairing across counties through the API: a county's pairings (its own side in full, the
other side's card only), proposing, accepting and ending its own side, recording events, a
guardian's separate consent, and the province's coordination view.

Pairings live in the shared schema, so their work runs on the service's own login
(`in_shared_transaction`) after the caller's rights were decided here: a county role acts at
its side's unit path (`pairing write`), a province or prefecture within its region
(`pairing coordinate`). The rules are `domain.pairing`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Annotated, Any

import strawberry
from sqlalchemy import Connection, and_, cast, func, or_, select
from strawberry.types import Info

from authz.principal import COUNTY_ROOT, Principal, PrincipalKind, Scope
from authz.roles import REGIONAL
from authz.sql import scope_predicate
from domain.audit.service import record as audit_entry
from domain.audit.service import record_shared
from domain.imports.common import uploader
from domain.pairing import coverage as coordination
from domain.pairing import service as rules
from domain.pairing.service import Side
from domain.pairing.tables import PairingLevel as DomainLevel
from domain.pairing.tables import PairingState as DomainState
from domain.pairing.tables import pairing_events, pairings
from domain.people.tables import guardians
from domain.types import LTree
from redscarf.errors import Forbidden, InvalidInput, NotFound, RedscarfError
from resolvers.county_work import in_county
from resolvers.paging import After, Before, First, Last, Page, page_info, page_of
from resolvers.pupils import chosen_pupils
from schema.context import Context
from schema.ids import decode_global_id, encode_global_id, encode_key_cursor
from schema.org import Area, SchoolKind, UnitKind
from schema.pairing import (
    EndPairingInput,
    GivePairingConsentInput,
    Pairing,
    PairingCategory,
    PairingConnection,
    PairingConsentPayload,
    PairingCoverage,
    PairingEdge,
    PairingEvent,
    PairingEventKind,
    PairingInput,
    PairingLevel,
    PairingPayload,
    PairingSide,
    PairingState,
    PartnerPupil,
    PartnerPupilConnection,
    PartnerPupilEdge,
    ProposePairingInput,
    PupilPairingLimitPayload,
    RecordPairingEventInput,
    ReviewPairingInput,
    SchoolForPairing,
    SetPupilPairingLimitInput,
    SuggestedPair,
    WithdrawPairingConsentInput,
)
from schema.user_errors import user_errors
from tenants.registry import TenantStatus, tenants

KINDS = {"Unit": "unit", "Counselor": "counselor", "Pupil": "pupil"}


# --- reading -----------------------------------------------------------------------------------


async def _visible(context: Context) -> Any:
    """Pairings with a side in the routed county within the caller's reach; no pupil pairs for
    whoever reads no pupils (a province or prefecture: aggregates, not children)."""
    county = (await context.tenant()).code
    scope = await context.list_scope("pairing", "read")
    if scope.nothing:
        raise Forbidden()
    sides = or_(*[
        and_(pairings.c[f"{p}_county"] == county,
             scope_predicate(scope, cast(pairings.c[f"{p}_path"], LTree)))
        for p in ("a", "b")
    ])  # fmt: skip
    if (await context.list_scope("pupil", "read")).nothing:
        sides = and_(sides, pairings.c.level != DomainLevel.PUPIL.value)
    return sides


def _side(row: Any, prefix: str, names: dict[str, str],
          own: dict[str, Any] | None = None) -> PairingSide:  # fmt: skip
    card = getattr(row, f"{prefix}_card") or own or {}
    county = getattr(row, f"{prefix}_county")
    unit_kind = card.get("kind")
    return PairingSide(
        county_code=county, county_name=names.get(county, county),
        accepted=getattr(row, f"{prefix}_accepted_at") is not None, name=card.get("name"),
        unit_kind=UnitKind(unit_kind) if unit_kind else None,
        area=Area(card["area"]) if card.get("area") else None, unit_name=card.get("unit"),
        given_name=card.get("givenName"), grade=card.get("grade"), school=card.get("school"),
    )  # fmt: skip


def _own_card(conn: Connection, row: Any, prefix: str) -> dict[str, Any] | None:
    """The county's own side not yet accepted: its card as accepting would write it."""
    if getattr(row, f"{prefix}_card") is not None or row.state != DomainState.PROPOSED.value:
        return None
    return rules.own_card(conn, row, prefix)


def _pairings(conn: Connection, rows: Sequence[Any], county: str) -> list[Pairing]:
    """Pairings as `county` sees them: its side, the other side's card, the events."""
    codes = {r.a_county for r in rows} | {r.b_county for r in rows}
    names = dict(conn.execute(select(tenants.c.code, tenants.c.name)
                              .where(tenants.c.code.in_(sorted(codes)))).all())  # fmt: skip
    events: dict[int, list[Any]] = defaultdict(list)
    for e in conn.execute(
        select(pairing_events)
        .where(pairing_events.c.pairing_id.in_([r.id for r in rows]))
        .order_by(pairing_events.c.on_date, pairing_events.c.id)
    ):
        events[e.pairing_id].append(e)
    found = []
    for r in rows:
        mine = "a" if r.a_county == county else "b"
        other = rules.other_side(mine)
        found.append(Pairing(
            id=strawberry.ID(encode_global_id("Pairing", county, r.id)), row_id=r.id,
            level=PairingLevel(r.level),
            category=PairingCategory(r.category) if r.category else None,
            state=PairingState(r.state), goals=r.goals, starts_on=r.starts_on,
            ends_on=r.ends_on, proposed_by=r.proposed_by, created_at=r.created_at,
            my_side=_side(r, mine, names, _own_card(conn, r, mine)),
            partner=_side(r, other, names),
            my_review=getattr(r, f"{mine}_review"), partner_review=getattr(r, f"{other}_review"),
            events=[PairingEvent(kind=PairingEventKind(e.kind), on=e.on_date, note=e.note,
                                 by_my_side=e.county_code == county) for e in events[r.id]],
        ))  # fmt: skip
    return found


async def pairings_list(
    info: Info[Context, None],
    first: First = None,
    after: After = None,
    last: Last = None,
    before: Before = None,
    state: Annotated[PairingState | None, strawberry.argument(description="只列出该状态。")] = None,
    level: Annotated[PairingLevel | None, strawberry.argument(description="只列出该层级。")] = None,
) -> PairingConnection:
    context = info.context
    await context.user()
    page = page_of(first, after, last, before)
    county = (await context.tenant()).code
    clauses = [await _visible(context)]
    if state is not None:
        clauses.append(pairings.c.state == state.value)
    if level is not None:
        clauses.append(pairings.c.level == level.value)
    paged, order, limit = page.keyset(pairings.c.id, newest_first=True)

    def run(conn: Connection) -> tuple[list[Pairing], bool, bool]:
        found = conn.execute(
            select(pairings).where(*clauses, *paged).order_by(order).limit(limit)
        ).all()
        rows, has_next, has_previous = page.take(found)
        return _pairings(conn, rows, county), has_next, has_previous

    def count(conn: Connection) -> int:
        return int(conn.execute(select(func.count()).where(*clauses)).scalar_one())

    nodes, has_next, has_previous = await context.in_shared_transaction(run)
    edges = [
        PairingEdge(cursor=encode_key_cursor(decode_global_id(n.id)[2]), node=n) for n in nodes
    ]
    return PairingConnection(
        edges=edges,
        page_info=page_info(
            [e.cursor for e in edges], has_next=has_next, has_previous=has_previous
        ),
        count_all=lambda: context.in_shared_transaction(count),
    )


async def _pairing_row(context: Context, global_id: str) -> Any:
    pk = await context.own_id("Pairing", global_id)
    visible = await _visible(context)

    def run(conn: Connection) -> Any:
        return conn.execute(select(pairings).where(pairings.c.id == pk, visible)).first()

    row = await context.in_shared_transaction(run) if pk is not None else None
    if row is None:
        raise NotFound("没有这个结对", code="PAIRING_NOT_FOUND")
    return row


async def pairing(
    info: Info[Context, None],
    id: Annotated[strawberry.ID, strawberry.argument(description="结对的全局 ID。")],
) -> Pairing | None:
    await info.context.user()
    try:
        row = await _pairing_row(info.context, id)
    except (NotFound, Forbidden):
        return None
    return await _fresh(info.context, row.id)


async def _fresh(context: Context, pk: int, county: str | None = None) -> Pairing:
    """A pairing as `county` (default: the routed one) sees it."""
    county = county or (await context.tenant()).code

    def run(conn: Connection) -> Pairing:
        row = conn.execute(select(pairings).where(pairings.c.id == pk)).one()
        return _pairings(conn, [row], county)[0]

    return await context.in_shared_transaction(run)


# --- pupils to pair with -----------------------------------------------------------------------

CANDIDATE = "pairing.candidate"
CANDIDATE_PREFIX = "candidate:"


def _candidate_id(context: Context, pairing_id: int, prefix: str, side: Side) -> str:
    """A partner pupil as the other county may name it: sealed (not a global ID, which would
    carry the pupil's key in its county) and bound to the side of the school pairing it was
    listed on."""
    sealed = context.services.keys.cipher.encrypt(
        f"{pairing_id}:{prefix}:{side.county}:{side.id}", context=CANDIDATE
    )
    return CANDIDATE_PREFIX + sealed


def _opened_candidate(context: Context, value: str) -> tuple[int, str, Side]:
    try:
        pairing_id, prefix, county, pk = context.services.keys.cipher.decrypt(
            value.removeprefix(CANDIDATE_PREFIX), context=CANDIDATE
        ).split(":")
        return int(pairing_id), prefix, Side(county, "pupil", int(pk))
    except (RedscarfError, ValueError):
        raise NotFound("对方队员不存在或已不能结对", code="SIDE_NOT_FOUND") from None


async def _acting_sides(context: Context, row: Any, res: str = "pairing") -> list[str]:
    """The sides (`a`, `b`) of a pairing the caller acts for: of the routed county, where its
    role may `res write`."""
    county = (await context.tenant()).code
    return [p for p in ("a", "b") if getattr(row, f"{p}_county") == county
            and await context.may(res, "write", getattr(row, f"{p}_path"))]  # fmt: skip


async def partner_pupils(context: Context, pairing: Pairing, grade: int | None,
                         page: Page[int]) -> PartnerPupilConnection:  # fmt: skip
    """`Pairing.partnerPupils`: for who may propose on its side of the school pairing."""
    row = await context.in_shared_transaction(
        lambda conn: conn.execute(select(pairings).where(pairings.c.id == pairing.row_id)).one()
    )
    acting = await _acting_sides(context, row)
    if not acting or (await context.list_scope("pupil", "read")).nothing:
        raise Forbidden()
    mine = acting[0]  # within one county, the first side the caller acts for
    theirs = rules.other_side(mine)

    def count(conn: Connection) -> int:
        return rules.count_candidates(conn, row.id, theirs, grade=grade)

    # The list is by grade, then pupil: a cursor is a position (1 for the first pupil).
    if page.backward:
        end = page.before - 1 if page.before is not None else None
        if end is None:
            end = await context.in_shared_transaction(count)
        offset = max(0, end - page.size)
        size = max(0, end - offset)
    else:
        offset = max(0, page.after) if page.after is not None else 0
        size = page.size
    found, more = await context.in_shared_transaction(
        lambda conn: rules.candidates(conn, row.id, theirs, grade=grade, offset=offset, limit=size)
    )
    has_next, has_previous = (
        (page.before is not None, offset > 0) if page.backward else (more, offset > 0)
    )
    edges = [
        PartnerPupilEdge(
            cursor=encode_key_cursor(offset + i + 1),
            node=PartnerPupil(candidate_id=strawberry.ID(_candidate_id(context, row.id, theirs,
                                                                       side)),
                              given_name=card["givenName"], grade=card["grade"],
                              school=card["school"]),
        )
        for i, (side, card) in enumerate(found)
    ]  # fmt: skip
    return PartnerPupilConnection(
        edges=edges,
        page_info=page_info(
            [e.cursor for e in edges], has_next=has_next, has_previous=has_previous
        ),
        count_all=lambda: context.in_shared_transaction(count),
    )


# --- coordination ------------------------------------------------------------------------------


def _regional_scopes(principal: Principal) -> list[Scope]:
    return [Scope(g.role, g.scope) for g in principal.grants if g.role in REGIONAL]


def _acting_region(principal: Principal) -> tuple[list[Scope], str] | None:
    """A caller acting as a province or prefecture (no county role of its own): its scopes and
    its name as a proposer (`province:52`); None for anyone else."""
    regional = _regional_scopes(principal)
    if not regional or any(g.county_code for g in principal.grants):
        return None
    first = regional[0]
    return regional, f"{first.role.value.removesuffix('_admin')}:{first.path}"


async def _region(context: Context) -> list[str]:
    """The active counties the caller coordinates (a province's or prefecture's)."""
    principal = await context.user()
    regional = _regional_scopes(principal)
    if not regional and principal.kind != PrincipalKind.OPERATOR:
        raise Forbidden()
    authorizer = context.services.authorizer

    def run(conn: Connection) -> list[str]:
        # A county whose tables are not there (a restore or a migration under way) has nothing
        # to count yet.
        units_table = func.to_regclass(func.format("%I.units", tenants.c.schema_name))
        codes = conn.execute(
            select(tenants.c.code).where(tenants.c.status == TenantStatus.ACTIVE,
                                         units_table.is_not(None))
            .order_by(tenants.c.code)
        ).scalars()  # fmt: skip
        return [c for c in codes if authorizer.allowed(regional, "pairing", "coordinate", c)]

    counties = await context.in_shared_transaction(run)
    if not counties:
        raise Forbidden()
    return counties


async def pairing_coverage(info: Info[Context, None]) -> list[PairingCoverage]:
    counties = await _region(info.context)
    found = await info.context.in_shared_transaction(
        lambda conn: coordination.coverage(conn, counties)
    )
    return [
        PairingCoverage(
            county_code=c.county, county_name=c.name, schools=c.schools,
            schools_paired=c.schools_paired, rural_schools=c.rural_schools,
            rural_paired=c.rural_paired, migrant_schools=c.migrant_schools,
            migrant_paired=c.migrant_paired, pupils_in_pairs=c.pupils_in_pairs,
        )
        for c in found
    ]  # fmt: skip


def _school(s: coordination.School) -> SchoolForPairing:
    return SchoolForPairing(
        unit_id=strawberry.ID(encode_global_id("Unit", s.county, s.id)), county_code=s.county,
        name=s.name, area=Area(s.area) if s.area else None,
        school_kind=SchoolKind(s.school_kind) if s.school_kind else None, partners=s.partners,
    )  # fmt: skip


async def unpaired_schools(info: Info[Context, None]) -> list[SchoolForPairing]:
    counties = await _region(info.context)
    found = await info.context.in_shared_transaction(
        lambda conn: coordination.unpaired(conn, counties)
    )
    return [_school(s) for s in found]


async def suggested_pairs(
    info: Info[Context, None],
    limit: Annotated[int, strawberry.argument(description="至多几对，默认 100。")] = 100,
    partners_from: Annotated[
        list[str] | None,
        strawberry.argument(
            description="只从这些县（区）的城区学校中选（如指定帮扶的城区）；须在辖区内。"
        ),
    ] = None,
) -> list[SuggestedPair]:
    counties = await _region(info.context)
    if partners_from is not None and not set(partners_from) <= set(counties):
        raise InvalidInput("指定的县（区）不在您的辖区内", code="COUNTY_NOT_IN_REGION")
    found = await info.context.in_shared_transaction(
        lambda conn: coordination.suggest(
            conn, counties, limit=max(0, min(limit, 500)), partners_from=partners_from
        )
    )
    return [SuggestedPair(school=_school(s.rural), partner=_school(s.urban)) for s in found]


# --- acting ------------------------------------------------------------------------------------


def _decoded(global_id: str) -> Side:
    type_name, county, pk = decode_global_id(global_id)
    if type_name not in KINDS:
        raise NotFound("结对的一方应为单位、辅导员或队员", code="SIDE_NOT_FOUND")
    return Side(county, KINDS[type_name], pk)


async def propose_pairing(info: Info[Context, None], input: ProposePairingInput) -> PairingPayload:
    """A county for its own side (accepted at once), or a province or prefecture for any two
    sides in its region."""
    context = info.context
    principal = await context.user()
    side = _decoded(input.side_id)
    # A partner pupil listed by `Pairing.partnerPupils`, or any side by its global ID.
    listed = None
    if input.partner_id.startswith(CANDIDATE_PREFIX):
        *listed, partner = _opened_candidate(context, input.partner_id)
    else:
        partner = _decoded(input.partner_id)
    level = DomainLevel(input.level.value)
    authorizer = context.services.authorizer
    by = uploader(principal)
    if (region := _acting_region(principal)) is not None:
        regional, proposer = region
        # A province or prefecture pairs units and counselors; pupils are the counties' own.
        reached = all(authorizer.allowed(regional, "pairing", "coordinate", s.county)
                      for s in (side, partner))  # fmt: skip
        if level == DomainLevel.PUPIL or not reached:
            raise Forbidden()
        county = None
    else:
        tenant = await context.tenant()
        if side.county != tenant.code:
            raise NotFound("本方应是本县（区）的单位、辅导员或队员", code="SIDE_NOT_FOUND")
        scopes = await context.scopes()
        proposer, county = f"county:{tenant.code}", tenant.code

    def run(conn: Connection) -> int:
        if county is not None:
            path, _ = rules.describe(conn, level, side)
            if not authorizer.allowed(scopes, "pairing", "write", path):
                raise NotFound("本方不在您的管辖范围内", code="SIDE_NOT_FOUND")
            if listed is not None:
                rules.check_candidate(conn, *listed, level, side, path)
        pk = rules.propose(
            conn, level, side, partner, proposer=proposer, by=by, county=county,
            category=input.category.value if input.category else None, goals=input.goals,
            starts_on=input.starts_on, ends_on=input.ends_on,
        )  # fmt: skip
        record_shared(conn, principal, "proposePairing", "Pairing", pk, county_code=county,
                      details={"level": level.value, "a": side.county, "b": partner.county})  # fmt: skip
        return pk

    try:
        pk = await context.in_shared_transaction(run)
    except (NotFound, Forbidden):
        raise
    except RedscarfError as exc:
        return PairingPayload(pairing=None, user_errors=user_errors(exc))
    # A province or prefecture sees it as the first side's county does (units, never pupils).
    return PairingPayload(pairing=await _fresh(context, pk, county or side.county), user_errors=[])


async def _own_side(context: Context, global_id: str, res: str = "pairing") -> Any:
    """A visible pairing whose side in the routed county the caller may act for."""
    row = await _pairing_row(context, global_id)
    if not await _acting_sides(context, row, res):
        raise Forbidden()
    return row


async def _act(context: Context, global_id: str, action: str, work: Any,
               res: str = "pairing", field: str | None = None,
               act_as_proposer: bool = False) -> PairingPayload:  # fmt: skip
    """`work(conn, pairing, county, by)` for the caller's side (or, `act_as_proposer`, as the
    province or prefecture that proposed it), audited."""
    principal = await context.user()
    row = (await _pairing_row(context, global_id) if act_as_proposer
           else await _own_side(context, global_id, res))  # fmt: skip
    county = (await context.tenant()).code
    by = uploader(principal)

    def run(conn: Connection) -> None:
        work(conn, row.id, county, by)
        record_shared(conn, principal, action, "Pairing", row.id, county_code=county)

    try:
        await context.in_shared_transaction(run)
    except RedscarfError as exc:
        if isinstance(exc, (NotFound, Forbidden)):
            raise
        return PairingPayload(pairing=None, user_errors=user_errors(exc, field))
    return PairingPayload(pairing=await _fresh(context, row.id), user_errors=[])


async def accept_pairing(info: Info[Context, None], input: PairingInput) -> PairingPayload:
    return await _act(info.context, input.id, "acceptPairing",
                      lambda conn, pk, county, by: rules.accept(conn, pk, county, by=by))  # fmt: skip


async def decline_pairing(info: Info[Context, None], input: PairingInput) -> PairingPayload:
    return await _act(info.context, input.id, "declinePairing",
                      lambda conn, pk, county, by: rules.decline(conn, pk, county, by=by))  # fmt: skip


async def end_pairing(info: Info[Context, None], input: EndPairingInput) -> PairingPayload:
    return await _act(
        info.context, input.id, "endPairing",
        lambda conn, pk, county, by: rules.end(conn, pk, county, input.review, by=by), field="review",
    )  # fmt: skip


async def review_pairing(info: Info[Context, None], input: ReviewPairingInput) -> PairingPayload:
    return await _act(
        info.context, input.id, "reviewPairing",
        lambda conn, pk, county, by: rules.add_review(conn, pk, county, input.review),
        field="review",
    )  # fmt: skip


async def withdraw_pairing(info: Info[Context, None], input: PairingInput) -> PairingPayload:
    """Who proposed a pairing withdraws it: a county (where it may act for its side), or the
    province or prefecture that proposed it."""
    context = info.context
    region = _acting_region(await context.user())
    proposer = region[1] if region else f"county:{(await context.tenant()).code}"
    return await _act(
        context, input.id, "withdrawPairing",
        lambda conn, pk, county, by: rules.withdraw(conn, pk, proposer, by=by),
        act_as_proposer=region is not None,
    )  # fmt: skip


async def record_pairing_event(
    info: Info[Context, None], input: RecordPairingEventInput
) -> PairingPayload:
    return await _act(
        info.context, input.pairing_id, "recordPairingEvent",
        lambda conn, pk, county, by: rules.record_event(conn, pk, county, input.kind.value, input.on,
                                                        input.note, by=by),
        res="pairing_event", field="kind",
    )  # fmt: skip


async def _own_child(context: Context, pupil_id: str) -> Any:
    """A child of the calling guardian (consent is the family's alone to give or take back)."""
    record = (await chosen_pupils(context, [pupil_id]))[0]
    if not record.bound:
        raise Forbidden()
    await context.require("pairing_consent", "write", record.path, "bound")
    return record


async def give_pairing_consent(
    info: Info[Context, None], input: GivePairingConsentInput
) -> PairingConsentPayload:
    """The guardian's own consent, for their own child."""
    context = info.context
    principal = await context.user()
    record = await _own_child(context, input.pupil_id)
    async with context.session() as session:
        guardian = (
            (
                await session.execute(
                    select(guardians.c.id).where(guardians.c.user_id == principal.id)
                )
            )
            .scalars()
            .first()
        )
        if guardian is None:
            raise Forbidden()
        conn = await session.connection()
        made = await conn.run_sync(
            lambda c: rules.give_consent(c, record.id, guardian, input.notice_version)
        )
        await audit_entry(session, principal, "givePairingConsent", "Pupil", record.id,
                          details={"consent": made, "notice": input.notice_version})  # fmt: skip
    return PairingConsentPayload(ok=True, user_errors=[])


async def withdraw_pairing_consent(
    info: Info[Context, None], input: WithdrawPairingConsentInput
) -> PairingConsentPayload:
    """The guardian takes the consent back: the child's card leaves every pairing with another
    county, and those pairings end."""
    context = info.context
    principal = await context.user()
    record = await _own_child(context, input.pupil_id)
    county = (await context.tenant()).code

    def run(conn: Connection) -> int:
        ended = rules.withdraw_consent(conn, county, record.id, by=uploader(principal))
        record_shared(conn, principal, "withdrawPairingConsent", "Pupil", record.id,
                      county_code=county, details={"pairings_ended": ended})  # fmt: skip
        return ended

    await context.in_shared_transaction(run)
    return PairingConsentPayload(ok=True, user_errors=[])


async def set_pupil_pairing_limit(
    info: Info[Context, None], input: SetPupilPairingLimitInput
) -> PupilPairingLimitPayload:
    """The county's rule (its admin): how many hand-in-hand pairs a pupil may be in at once."""
    context = info.context
    await context.user()
    await context.require("pairing", "write", COUNTY_ROOT)
    try:
        await in_county(
            context,
            lambda conn: rules.set_pupil_limit(conn, input.limit),
            "setPupilPairingLimit",
            lambda _: [{"object_type": "CountySetting", "object_id": rules.PUPIL_LIMIT,
                        "details": {"limit": input.limit}}],
        )  # fmt: skip
    except RedscarfError as exc:
        return PupilPairingLimitPayload(limit=None, user_errors=user_errors(exc, "limit"))
    return PupilPairingLimitPayload(limit=input.limit, user_errors=[])
