"""Badges through the API: the catalogue, direct awards, the selection of star awards,
revocation and points rules. The rules live in `domain.badges.awards`; here: who may, which
pupils the caller reaches, one county transaction with its audit entry, and the answers."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar

import strawberry
from sqlalchemy import Connection, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from authz.enforcer import ListScope
from authz.principal import COUNTY_ROOT
from authz.sql import scope_predicate
from domain.badges import awards as rules
from domain.badges.tables import award_objections, badge_awards, badges
from domain.imports.common import uploader
from domain.ledger import service as ledger
from domain.org.tables import units
from domain.people.tables import pupils
from redscarf.errors import InvalidInput, NotFound, RedscarfError
from resolvers.county_work import in_county
from resolvers.people import PupilRecord, bound_to, pupils_by_ids
from resolvers.pupils import caller_user_id, chosen_pupils
from schema.badges import (
    AwardBadgeInput,
    AwardCollectiveBadgeInput,
    AwardObjection,
    AwardObjectionPayload,
    AwardState,
    Badge,
    BadgeAward,
    BadgeAwardsPayload,
    BadgeLevel,
    BadgePayload,
    BadgeQuota,
    BadgeQuotaPayload,
    ConfirmBadgeAwardsInput,
    CreateBadgeInput,
    NominateForBadgeInput,
    PointsExpiryPayload,
    PointsRule,
    PointsRulePayload,
    RecordAwardObjectionInput,
    ResolveAwardObjectionInput,
    ReviewBadgeCandidatesInput,
    RevokeBadgeAwardInput,
    SetBadgeQuotaInput,
    SetPointsExpiryInput,
    SetPointsRuleInput,
    StartBadgeNoticeInput,
    UpdateBadgeInput,
)
from schema.context import Context
from schema.ids import encode_global_id
from schema.user_errors import user_errors

T = TypeVar("T")
MAX_LISTED = 500


def _badge(row: Any, county: str) -> Badge:
    return Badge(
        id=strawberry.ID(encode_global_id("Badge", county, row.id)),
        code=row.code,
        name=row.name,
        level=BadgeLevel(row.level),
        family=row.family,
        criteria=row.criteria,
        icon=row.icon,
        points=row.points,
        academic_year=row.academic_year,
        national=row.national,
    )


async def badge_catalogue(info: Info[Context, None]) -> list[Badge]:
    """The county's badges, in ladder order."""
    context = info.context
    await context.user()
    await context.require("badge", "read")
    async with context.session() as session:
        rows = (
            await session.execute(select(badges).order_by(badges.c.sort_order, badges.c.id))
        ).all()
    county = (await context.tenant()).code
    return [_badge(r, county) for r in rows]


async def awards_by_id(context: Context, ids: Sequence[int]) -> list[BadgeAward]:
    """Awards as the API shows them (pupils' names where the caller sees the pupil)."""
    if not ids:
        return []
    async with context.session() as session:
        return await _awards_in(session, context, ids)


async def _awards_in(
    session: AsyncSession, context: Context, ids: Sequence[int]
) -> list[BadgeAward]:
    """`awards_by_id` in a county transaction the caller has open."""
    if not ids:
        return []
    county = (await context.tenant()).code
    rows = (
        await session.execute(
            select(
                badge_awards,
                badges.c.code,
                badges.c.name,
                badges.c.level,
                badges.c.family,
                badges.c.criteria,
                badges.c.icon,
                badges.c.points.label("badge_points"),
                badges.c.academic_year.label("badge_year"),
                badges.c.national,
                units.c.name.label("unit_name"),
            )
            .join(badges, badges.c.id == badge_awards.c.badge_id)
            .outerjoin(units, units.c.id == badge_awards.c.unit_id)
            .where(badge_awards.c.id.in_(list(ids)))
        )
    ).all()
    objections = (
        await session.execute(
            select(award_objections)
            .where(award_objections.c.award_id.in_(list(ids)))
            .order_by(award_objections.c.id)
        )
    ).all()
    seen = await pupils_by_ids(
        session,
        await context.list_scope("pupil", "read"),
        [r.pupil_id for r in rows if r.pupil_id is not None],
        user_id=await caller_user_id(context),
    )
    by_award: dict[int, list[AwardObjection]] = defaultdict(list)
    for o in objections:
        by_award[o.award_id].append(
            AwardObjection(
                id=strawberry.ID(encode_global_id("AwardObjection", county, o.id)),
                content=o.content, raised_by=o.raised_by, raised_at=o.raised_at, upheld=o.upheld,
                resolution=o.resolution, resolved_at=o.resolved_at,
            )
        )  # fmt: skip
    order = {pk: i for i, pk in enumerate(ids)}
    found = []
    for r in sorted(rows, key=lambda r: order[r.id]):
        found.append(
            BadgeAward(
                id=strawberry.ID(encode_global_id("BadgeAward", county, r.id)),
                badge=_badge_of_award(r, county),
                pupil_id=strawberry.ID(encode_global_id("Pupil", county, r.pupil_id))
                if r.pupil_id is not None else None,
                pupil_name=seen[r.pupil_id].name if r.pupil_id in seen else None,
                unit_name=r.unit_name,
                academic_year=r.academic_year, term=r.term, state=AwardState(r.state),
                evidence=r.evidence, conferred_by=r.conferred_by, notice_until=r.notice_until,
                points=r.points, awarded_at=r.awarded_at, rejected_reason=r.rejected_reason,
                revoked_reason=r.revoked_reason, objections=by_award[r.id],
            )
        )  # fmt: skip
    return found


def _badge_of_award(row: Any, county: str) -> Badge:
    return Badge(
        id=strawberry.ID(encode_global_id("Badge", county, row.badge_id)),
        code=row.code, name=row.name, level=BadgeLevel(row.level), family=row.family,
        criteria=row.criteria, icon=row.icon, points=row.badge_points,
        academic_year=row.badge_year, national=row.national,
    )  # fmt: skip


async def _badge_row(context: Context, global_id: str) -> Any:
    pk = await context.own_id("Badge", global_id)
    row = None
    if pk is not None:
        async with context.session() as session:
            row = (await session.execute(select(badges).where(badges.c.id == pk))).first()
    if row is None:
        raise NotFound("没有这枚奖章", code="BADGE_NOT_FOUND")
    return row


async def _may_award(context: Context, level: str, paths: Sequence[str]) -> None:
    for path in sorted(set(paths)):
        await context.require(f"award:{level}", "write", path)


def _payload(exc: RedscarfError) -> BadgeAwardsPayload:
    return BadgeAwardsPayload(awards=[], user_errors=user_errors(exc))


def _entries(
    action: str, details: dict[str, Any] | None = None
) -> Callable[[Sequence[int]], list[dict[str, Any]]]:
    return lambda ids: [
        {"object_type": "BadgeAward", "object_id": pk, "details": details} for pk in ids
    ]


async def award_badge(info: Info[Context, None], input: AwardBadgeInput) -> BadgeAwardsPayload:
    context = info.context
    principal = await context.user()
    badge = await _badge_row(context, input.badge_id)
    try:
        chosen = await chosen_pupils(context, not_found="NOT_FOUND", global_ids=input.pupil_ids)
    except InvalidInput as exc:
        return _payload(exc)
    await _may_award(context, badge.level, [p.path for p in chosen])
    try:
        ids = await in_county(
            context,
            lambda conn: rules.award(
                conn, badge.id, [p.id for p in chosen], input.academic_year, by=uploader(principal),
                term=input.term, evidence=input.evidence, conferred_by=input.conferred_by,
            ),
            "awardBadge",
            _entries("awardBadge", {"badge": badge.code}),
        )  # fmt: skip
    except RedscarfError as exc:
        return _payload(exc)
    return BadgeAwardsPayload(awards=await awards_by_id(context, ids), user_errors=[])


async def create_badge(info: Info[Context, None], input: CreateBadgeInput) -> BadgePayload:
    context = info.context
    await context.user()
    await context.require("badge", "write")
    try:
        pk = await in_county(
            context,
            lambda conn: rules.create_badge(
                conn, input.name, input.level.value, criteria=input.criteria, icon=input.icon,
                points=input.points, academic_year=input.academic_year,
            ),
            "createBadge",
            lambda made: [{"object_type": "Badge", "object_id": made, "details": {"name": input.name}}],
        )  # fmt: skip
    except RedscarfError as exc:
        return BadgePayload(badge=None, user_errors=user_errors(exc))
    return BadgePayload(badge=await badge_by_id(context, pk), user_errors=[])


async def update_badge(info: Info[Context, None], input: UpdateBadgeInput) -> BadgePayload:
    context = info.context
    await context.user()
    await context.require("badge", "write")
    row = await _badge_row(context, input.id)
    values = {k: v for k, v in (("name", input.name), ("criteria", input.criteria),
                                 ("icon", input.icon), ("points", input.points),
                                 ("academic_year", input.academic_year)) if v is not None}  # fmt: skip
    try:
        await in_county(
            context,
            lambda conn: rules.update_badge(conn, row.id, dict(values)),
            "updateBadge",
            lambda _: [{"object_type": "Badge", "object_id": row.id, "fields": sorted(values)}],
        )
    except RedscarfError as exc:
        return BadgePayload(badge=None, user_errors=user_errors(exc))
    return BadgePayload(badge=await badge_by_id(context, row.id), user_errors=[])


async def set_badge_quota(
    info: Info[Context, None], input: SetBadgeQuotaInput
) -> BadgeQuotaPayload:
    context = info.context
    await context.user()
    await context.require("badge", "write")
    try:
        await in_county(
            context,
            lambda conn: rules.set_quota(conn, input.level.value, input.percent),
            "setBadgeQuota",
            lambda _: [{"object_type": "BadgeQuota", "object_id": input.level.value,
                        "details": {"percent": input.percent}}],
        )  # fmt: skip
    except RedscarfError as exc:
        return BadgeQuotaPayload(quota=None, user_errors=user_errors(exc, "percent"))
    return BadgeQuotaPayload(
        quota=BadgeQuota(level=input.level, percent=input.percent), user_errors=[]
    )


async def set_points_expiry(
    info: Info[Context, None], input: SetPointsExpiryInput
) -> PointsExpiryPayload:
    context = info.context
    await context.user()
    await context.require("points_rule", "write", COUNTY_ROOT)
    try:
        await in_county(
            context,
            lambda conn: ledger.set_expiry(conn, input.years),
            "setPointsExpiry",
            lambda _: [{"object_type": "CountySetting", "object_id": ledger.EXPIRY_SETTING,
                        "details": {"years": input.years}}],
        )  # fmt: skip
    except RedscarfError as exc:
        return PointsExpiryPayload(years=None, user_errors=user_errors(exc, "years"))
    return PointsExpiryPayload(years=input.years, user_errors=[])


async def badge_awards_list(
    info: Info[Context, None],
    badge_id: Annotated[
        strawberry.ID | None, strawberry.argument(description="只列这枚奖章。")
    ] = None,
    state: Annotated[AwardState | None, strawberry.argument(description="只列这一状态。")] = None,
    academic_year: Annotated[int | None, strawberry.argument(description="只列这一学年。")] = None,
    under: Annotated[
        strawberry.ID | None, strawberry.argument(description="只列该单位之下队员的。")
    ] = None,
    first: Annotated[
        int, strawberry.argument(description=f"最多条数（不超过 {MAX_LISTED}）。")
    ] = 100,
) -> list[BadgeAward]:
    """Awards and candidacies of the pupils the caller sees (the selection's worklist)."""
    context = info.context
    await context.user()
    scope = await context.list_scope("pupil", "read")
    place = units.alias("place")
    stmt = (
        select(badge_awards.c.id)
        .join(pupils, pupils.c.id == badge_awards.c.pupil_id)
        .join(place, place.c.id == func.coalesce(pupils.c.team_id, pupils.c.squadron_id))
        .where(scope_predicate(scope, place.c.path, bound=bound_to(await caller_user_id(context))))
        .order_by(badge_awards.c.created_at.desc(), badge_awards.c.id.desc())
        .limit(max(0, min(first, MAX_LISTED)))
    )
    if badge_id is not None:
        stmt = stmt.where(badge_awards.c.badge_id == (await _badge_row(context, badge_id)).id)
    if state is not None:
        stmt = stmt.where(badge_awards.c.state == state.value)
    if academic_year is not None:
        stmt = stmt.where(badge_awards.c.academic_year == academic_year)
    if under is not None:
        pk = await context.own_id("Unit", under)
        unit = await context.org.unit.load(pk) if pk is not None else None
        if unit is None:
            raise NotFound("没有这个单位", code="UNIT_NOT_FOUND")
        stmt = stmt.where(scope_predicate(ListScope(paths=(unit.path,)), place.c.path))
    async with context.session() as session:
        ids = list((await session.execute(stmt)).scalars())
    return await awards_by_id(context, ids)


async def badge_by_id(context: Context, pk: int) -> Badge:
    async with context.session() as session:
        row = (await session.execute(select(badges).where(badges.c.id == pk))).one()
    return _badge(row, (await context.tenant()).code)


async def award_collective_badge(
    info: Info[Context, None], input: AwardCollectiveBadgeInput
) -> BadgeAwardsPayload:
    context = info.context
    principal = await context.user()
    badge = await _badge_row(context, input.badge_id)
    pk = await context.own_id("Unit", input.unit_id)
    unit = await context.org.unit.load(pk) if pk is not None else None
    if unit is None or unit.archived_at is not None:
        raise NotFound("没有这个单位", code="UNIT_NOT_FOUND")
    await context.require(f"award:{badge.level}", "write", unit.path)
    try:
        award_id = await in_county(
            context,
            lambda conn: rules.award_collective(
                conn, badge.id, unit.id, input.academic_year, by=uploader(principal),
                evidence=input.evidence,
            ),
            "awardCollectiveBadge",
            lambda made: [{"object_type": "BadgeAward", "object_id": made,
                           "details": {"badge": badge.code, "unit": unit.id}}],
        )  # fmt: skip
    except RedscarfError as exc:
        return _payload(exc)
    return BadgeAwardsPayload(awards=await awards_by_id(context, [award_id]), user_errors=[])


async def unit_awards(context: Context, unit_ids: Sequence[int]) -> list[list[BadgeAward]]:
    """Collective awards of each unit, and, for a brigade, of its squadrons (they count
    towards the brigade's own), newest first."""
    owner = units.alias("owner")
    asked = units.alias("asked")
    async with context.session() as session:
        rows = (
            await session.execute(
                select(asked.c.id.label("asked"), badge_awards.c.id)
                .join(owner, owner.c.path.op("<@")(asked.c.path))
                .join(badge_awards, badge_awards.c.unit_id == owner.c.id)
                .where(asked.c.id.in_(list(unit_ids)), owner.c.kind.in_(["squadron", "brigade"]))
                .order_by(badge_awards.c.created_at.desc(), badge_awards.c.id.desc())
            )
        ).all()
    ids = list(dict.fromkeys(r.id for r in rows))
    shown = dict(zip(ids, await awards_by_id(context, ids), strict=True))
    by_unit: dict[int, list[BadgeAward]] = defaultdict(list)
    for r in rows:
        by_unit[r.asked].append(shown[r.id])
    return [by_unit[pk] for pk in unit_ids]


async def nominate_for_badge(
    info: Info[Context, None], input: NominateForBadgeInput
) -> BadgeAwardsPayload:
    context = info.context
    principal = await context.user()
    badge = await _badge_row(context, input.badge_id)
    try:
        chosen = await chosen_pupils(context, not_found="NOT_FOUND", global_ids=input.pupil_ids)
        within = await _selection_unit(context, badge.level, chosen)
    except InvalidInput as exc:
        return _payload(exc)
    await _may_award(context, badge.level, [within])
    try:
        ids = await in_county(
            context,
            lambda conn: rules.nominate(
                conn, badge.id, [p.id for p in chosen], input.academic_year, within,
                by=uploader(principal), evidence=input.evidence,
            ),
            "nominateForBadge",
            _entries("nominateForBadge", {"badge": badge.code}),
        )  # fmt: skip
    except RedscarfError as exc:
        return _payload(exc)
    return BadgeAwardsPayload(awards=await awards_by_id(context, ids), user_errors=[])


async def _selection_unit(context: Context, level: str, chosen: Sequence[PupilRecord]) -> str:
    """Where a star level is selected: one star in a squadron, two in a school, three in the
    county; the candidates of one nomination share it."""
    if level == "star3":
        return COUNTY_ROOT
    squadrons = {p.squadron_id for p in chosen}
    records = [await context.org.unit.load(pk) for pk in squadrons]
    if level == "star1":
        if len(squadrons) != 1:
            raise InvalidInput("一星章在中队内评选：一次只提名同一中队的队员", code="MIXED_UNITS")
        return records[0].path  # type: ignore[union-attr]
    schools = {r.parent_id for r in records if r is not None}
    if len(schools) != 1:
        raise InvalidInput("二星章在学校内评选：一次只提名同一学校的队员", code="MIXED_UNITS")
    school = await context.org.unit.load(schools.pop())  # type: ignore[arg-type]
    assert school is not None
    return school.path


async def _own_awards(context: Context, global_ids: Sequence[str]) -> list[int]:
    """Award ids the caller may act on: the pupil in sight (not found otherwise), and award
    write for the badge's level where the pupil sits (forbidden otherwise)."""
    ids = [await context.own_id("BadgeAward", g) for g in global_ids]
    rows: list[Any] = []
    seen: dict[int, PupilRecord] = {}
    if ids and None not in ids:
        async with context.session() as session:
            rows = (
                await session.execute(
                    select(badge_awards.c.id, badge_awards.c.pupil_id, badges.c.level)
                    .join(badges, badges.c.id == badge_awards.c.badge_id)
                    .where(badge_awards.c.id.in_(ids), badge_awards.c.pupil_id.is_not(None))
                )
            ).all()
            seen = await pupils_by_ids(
                session, await context.list_scope("pupil", "read"), [r.pupil_id for r in rows],
                user_id=await caller_user_id(context),
            )  # fmt: skip
    visible = [r for r in rows if r.pupil_id in seen]
    if not ids or None in ids or len(visible) != len(set(ids)):
        raise NotFound("没有这项奖章记录", code="AWARD_NOT_FOUND")
    for r in visible:
        await context.require(f"award:{r.level}", "write", seen[r.pupil_id].path)
    return [i for i in ids if i is not None]


async def _step(
    context: Context,
    global_ids: Sequence[str],
    action: str,
    work: Callable[[Connection, list[int]], Any],
) -> BadgeAwardsPayload:
    await context.user()
    ids = await _own_awards(context, global_ids)
    try:
        await in_county(
            context, lambda conn: work(conn, ids), action, lambda _: _entries(action)(ids)
        )
    except RedscarfError as exc:
        return _payload(exc)
    return BadgeAwardsPayload(awards=await awards_by_id(context, ids), user_errors=[])


async def review_badge_candidates(
    info: Info[Context, None], input: ReviewBadgeCandidatesInput
) -> BadgeAwardsPayload:
    by = uploader(await info.context.user())
    return await _step(
        info.context, input.ids, "reviewBadgeCandidates",
        lambda conn, ids: rules.review(conn, ids, input.approve, by=by, reason=input.reason),
    )  # fmt: skip


async def start_badge_notice(
    info: Info[Context, None], input: StartBadgeNoticeInput
) -> BadgeAwardsPayload:
    return await _step(
        info.context, input.ids, "startBadgeNotice",
        lambda conn, ids: rules.start_notice(conn, ids, input.until),
    )  # fmt: skip


async def confirm_badge_awards(
    info: Info[Context, None], input: ConfirmBadgeAwardsInput
) -> BadgeAwardsPayload:
    by = uploader(await info.context.user())
    return await _step(
        info.context, input.ids, "confirmBadgeAwards",
        lambda conn, ids: rules.confirm(conn, ids, by=by),
    )  # fmt: skip


async def revoke_badge_award(
    info: Info[Context, None], input: RevokeBadgeAwardInput
) -> BadgeAwardsPayload:
    by = uploader(await info.context.user())
    return await _step(
        info.context, [input.id], "revokeBadgeAward",
        lambda conn, ids: rules.revoke(conn, ids[0], input.reason, by=by),
    )  # fmt: skip


async def record_award_objection(
    info: Info[Context, None], input: RecordAwardObjectionInput
) -> AwardObjectionPayload:
    context = info.context
    await context.user()
    (award_id,) = await _own_awards(context, [input.award_id])
    try:
        await in_county(
            context,
            lambda conn: rules.object_to(conn, award_id, input.content, input.raised_by or "匿名"),
            "recordAwardObjection",
            lambda pk: [{"object_type": "AwardObjection", "object_id": pk}],
        )
    except RedscarfError as exc:
        return AwardObjectionPayload(award=None, user_errors=user_errors(exc))
    return AwardObjectionPayload(award=(await awards_by_id(context, [award_id]))[0], user_errors=[])


async def resolve_award_objection(
    info: Info[Context, None], input: ResolveAwardObjectionInput
) -> AwardObjectionPayload:
    context = info.context
    by = uploader(await context.user())
    pk = await context.own_id("AwardObjection", input.objection_id)
    award_id = None
    if pk is not None:
        async with context.session() as session:
            award_id = (
                await session.execute(
                    select(award_objections.c.award_id).where(award_objections.c.id == pk)
                )
            ).scalar()
    if pk is None or award_id is None:
        raise NotFound("没有这条异议", code="OBJECTION_NOT_FOUND")
    await _own_awards(
        context, [encode_global_id("BadgeAward", (await context.tenant()).code, award_id)]
    )
    try:
        await in_county(
            context,
            lambda conn: rules.resolve_objection(conn, pk, input.upheld, input.resolution, by=by),
            "resolveAwardObjection",
            lambda _: [{"object_type": "AwardObjection", "object_id": pk,
                        "details": {"upheld": input.upheld}}],
        )  # fmt: skip
    except RedscarfError as exc:
        return AwardObjectionPayload(award=None, user_errors=user_errors(exc))
    return AwardObjectionPayload(award=(await awards_by_id(context, [award_id]))[0], user_errors=[])


async def set_points_rule(
    info: Info[Context, None], input: SetPointsRuleInput
) -> PointsRulePayload:
    context = info.context
    principal = await context.user()
    await context.require("points_rule", "write", COUNTY_ROOT)
    if (input.badge_id is None) == (input.level is None):
        return PointsRulePayload(
            rule=None,
            user_errors=user_errors(
                InvalidInput("请在 badgeId 和 level 中选择一个", code="SUBJECT_REQUIRED")
            ),
        )
    if input.badge_id is not None:
        subject = f"badge:{(await _badge_row(context, input.badge_id)).code}"
    else:
        assert input.level is not None
        subject = rules.subject_of_level(input.level.value)
    try:
        _, version = await in_county(
            context,
            lambda conn: rules.set_points_rule(
                conn, subject, input.points, input.effective_from, uploader(principal)
            ),
            "setPointsRule",
            lambda made: [{"object_type": "PointsRule", "object_id": made[0],
                           "details": {"subject": subject, "points": input.points}}],
        )  # fmt: skip
    except RedscarfError as exc:
        return PointsRulePayload(rule=None, user_errors=user_errors(exc, "points"))
    return PointsRulePayload(
        rule=PointsRule(subject=subject, points=input.points, version=version,
                        effective_from=input.effective_from),
        user_errors=[],
    )  # fmt: skip


async def pupil_awards(context: Context, pupil_ids: Sequence[int]) -> list[list[BadgeAward]]:
    """Each pupil's awards and candidacies, oldest first (for `Pupil.badges`)."""
    async with context.session() as session:  # one transaction for the awards and their details
        rows = (
            await session.execute(
                select(badge_awards.c.id, badge_awards.c.pupil_id)
                .where(badge_awards.c.pupil_id.in_(list(pupil_ids)))
                .order_by(badge_awards.c.created_at, badge_awards.c.id)
            )
        ).all()
        ids = [r.id for r in rows]
        shown = dict(zip(ids, await _awards_in(session, context, ids), strict=True))
    by_pupil: dict[int, list[BadgeAward]] = defaultdict(list)
    for r in rows:
        by_pupil[r.pupil_id].append(shown[r.id])
    return [by_pupil[pk] for pk in pupil_ids]
