"""Pairing across counties (结对共建): propose, accept each side, record events, end.

A pairing joins two sides — units (counties, townships, schools), counselors or pupils —
within one county or across two. It is proposed by one side's county (whose side is accepted
at once) or by the province or prefecture, and becomes active when each county has accepted
its own side; no county acts on the other's side. Accepting writes the side's `card`, the only
thing the other side sees of it (`partner_card`): a unit's name, kind and area; a counselor's
name and unit; a pupil's given name, grade and school — and a pupil's only with the guardian's
separate consent to that sharing when the other side is in another county (PIPL art. 23).

Functions take a connection on the service's own login in one transaction: the pairing is in
the shared schema, and each side is read in its own county's schema (`_county`), one county at
a time — never a join across counties.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select, case, cast, func, insert, or_, select, update

from authz.enforcer import within
from domain import clock
from domain.ledger.service import county_setting, set_county_setting
from domain.org.tables import units
from domain.pairing.tables import (
    LIVE,
    PairingLevel,
    PairingState,
    pairing_consents,
    pairing_events,
    pairings,
)
from domain.people.tables import CURRENT_STATUSES, counselors, pupils
from domain.types import LTree
from redscarf.errors import Conflict, Forbidden, InvalidInput, NotFound, RedscarfError
from tenants.codes import schema_name
from tenants.metadata import translate_map
from tenants.registry import TenantStatus, tenants

# What each level pairs: the kind of side, and for units the unit kinds.
SIDES: dict[PairingLevel, tuple[str, frozenset[str]]] = {
    PairingLevel.COUNTY: ("unit", frozenset({"county"})),
    PairingLevel.TOWNSHIP: ("unit", frozenset({"township", "community"})),
    PairingLevel.SCHOOL: ("unit", frozenset({"brigade"})),
    PairingLevel.COUNSELOR: ("counselor", frozenset()),
    PairingLevel.PUPIL: ("pupil", frozenset()),
}
# What paired sides record: the "六个一" of pupils, schools' and counselors' exchanges.
EVENTS: dict[PairingLevel, frozenset[str]] = {
    PairingLevel.PUPIL: frozenset({"friend", "letter", "card", "weekend_visit", "badge_together",
                                   "good_deed"}),
    PairingLevel.SCHOOL: frozenset({"joint_activity", "class_observation", "counselor_exchange",
                                    "donation", "visit"}),
    PairingLevel.COUNSELOR: frozenset({"observation_lesson", "secondment", "exchange"}),
    PairingLevel.TOWNSHIP: frozenset({"joint_activity", "visit", "meeting"}),
    PairingLevel.COUNTY: frozenset({"joint_activity", "visit", "meeting"}),
}  # fmt: skip
CATEGORIES = frozenset({"urban_rural", "migrant", "strong_weak", "other"})
PUPIL_LIMIT = "pupil_pairing_limit"
DEFAULT_PUPIL_LIMIT = 1
COMPOUND_SURNAMES = frozenset({"欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙",
                               "慕容", "长孙", "宇文", "司徒", "夏侯", "令狐", "独孤", "端木"})  # fmt: skip
MAX_TEXT = 2000


class PairingRefused(InvalidInput):
    code = "PAIRING_REFUSED"
    message = "不能结对"


class NotYourSide(Forbidden):
    code = "NOT_YOUR_SIDE"
    message = "只能为本县（区）的一方操作"


@dataclass(frozen=True)
class Side:
    county: str
    kind: str  # unit, counselor or pupil
    id: int


def given_name(name: str) -> str:
    """A pupil's given name (the partner view shows no surname): 王小红 → 小红; a name with a
    middle dot (Uyghur and other minority names) gives its first part: 阿卜杜·热合曼 → 阿卜杜."""
    name = name.strip()
    for dot in ("·", "•", "・", "."):
        if dot in name:
            return name.split(dot, 1)[0]
    if len(name) > 2 and name[:2] in COMPOUND_SURNAMES:
        return name[2:]
    return name[1:] if len(name) > 1 else name


def _county(conn: Connection, code: str) -> Connection:
    """`conn` reading the county `code`'s own schema (an active county, else not found)."""
    status = conn.execute(select(tenants.c.status).where(tenants.c.code == code)).scalar()
    if status != TenantStatus.ACTIVE:
        raise NotFound(f"没有行政区划代码为 {code} 的县（区）", code="COUNTY_NOT_FOUND")
    return conn.execution_options(schema_translate_map=translate_map(schema_name(code)))


def _school_of(county: Connection, path: str) -> Any:
    return county.execute(
        select(units.c.name)
        .where(units.c.kind == "brigade", units.c.path.op("@>")(cast(path, LTree)))
    ).first()  # fmt: skip


def describe(conn: Connection, level: PairingLevel, side: Side) -> tuple[str, dict[str, Any]]:
    """The side's unit path and card, after checking it may be paired now: a unit that is
    not archived and of the level's kind, a serving counselor, a current pupil."""
    kind, unit_kinds = SIDES[level]
    if side.kind != kind:
        raise PairingRefused(f"这一层级的结对双方应为{_KIND_LABELS[kind]}", code="INVALID_SIDE")
    county = _county(conn, side.county)
    if kind == "unit":
        row = county.execute(select(units).where(units.c.id == side.id)).first()
        if row is None:
            raise NotFound("没有这个单位", code="UNIT_NOT_FOUND")
        if row.archived_at is not None:
            raise PairingRefused(f"{row.name}已撤销，不能结对", code="UNIT_ARCHIVED")
        if row.kind not in unit_kinds:
            raise PairingRefused(f"{row.name}不是这一层级的单位", code="INVALID_SIDE")
        return row.path, {"name": row.name, "kind": row.kind, "area": row.area}
    if kind == "counselor":
        row = county.execute(
            select(counselors.c.name, counselors.c.ended_on, units.c.name.label("unit"),
                   units.c.path, units.c.area)
            .join(units, units.c.id == counselors.c.unit_id)
            .where(counselors.c.id == side.id)
        ).first()  # fmt: skip
        if row is None:
            raise NotFound("没有这位辅导员", code="COUNSELOR_NOT_FOUND")
        if row.ended_on is not None:
            raise PairingRefused(f"{row.name}已离任，不能结对", code="COUNSELOR_ENDED")
        return row.path, {"name": row.name, "unit": row.unit, "area": row.area}
    place = units.alias("place")
    row = county.execute(
        select(pupils.c.name, pupils.c.grade, pupils.c.status, place.c.path)
        .join(place, place.c.id == func.coalesce(pupils.c.team_id, pupils.c.squadron_id))
        .where(pupils.c.id == side.id)
    ).first()
    if row is None:
        raise NotFound("没有这名队员", code="PUPIL_NOT_FOUND")
    if row.status not in CURRENT_STATUSES:
        raise PairingRefused("这名队员已不在册，不能结对", code="PUPIL_NOT_CURRENT")
    school = _school_of(county, row.path)
    return row.path, {"givenName": given_name(row.name), "grade": row.grade,
                      "school": school.name if school else None}  # fmt: skip


_KIND_LABELS = {"unit": "单位", "counselor": "辅导员", "pupil": "队员"}


def consented(conn: Connection, county_code: str, pupil_id: int) -> bool:
    """The guardian's separate consent to share the pupil's partner view across counties."""
    county = _county(conn, county_code)
    return (
        county.execute(
            select(pairing_consents.c.id).where(
                pairing_consents.c.pupil_id == pupil_id, pairing_consents.c.withdrawn_at.is_(None)
            )
        ).first()
        is not None
    )


def _prefix(row: Any, county: str) -> list[str]:
    """The sides (`a`, `b`) of a pairing that belong to `county`."""
    return [p for p in ("a", "b") if getattr(row, f"{p}_county") == county]


def other_side(prefix: str) -> str:
    """The other side of a pairing: `b` for `a`, `a` for `b`."""
    return "b" if prefix == "a" else "a"


def _side(row: Any, prefix: str) -> Side:
    return Side(getattr(row, f"{prefix}_county"), getattr(row, f"{prefix}_kind"),
                getattr(row, f"{prefix}_id"))  # fmt: skip


def own_card(conn: Connection, row: Any, prefix: str) -> dict[str, Any] | None:
    """What a county sees of its own side before accepting it (the card accepting would
    write), so that it knows which of its schools, counselors or pupils it is asked about;
    None for a side that could no longer be paired (archived, ended, left)."""
    try:
        return describe(conn, PairingLevel(row.level), _side(row, prefix))[1]
    except (PairingRefused, NotFound):
        return None


def _card(conn: Connection, level: PairingLevel, side: Side, other: Side) -> dict[str, Any]:
    """A side's card as it accepts: a pupil's crosses to another county only with consent."""
    _, card = describe(conn, level, side)
    if side.kind == "pupil":
        if side.county != other.county and not consented(conn, side.county, side.id):
            raise PairingRefused("与外县（区）队员结对须先取得家长对共享信息的单独同意",
                                 code="CONSENT_REQUIRED")  # fmt: skip
        _check_pupil_limit(conn, side)
    return card


def pupil_limit(county: Connection) -> int:
    """How many hand-in-hand pairs a pupil of this county may be in at once (its setting)."""
    stored = county_setting(county, PUPIL_LIMIT)
    return stored if stored is not None else DEFAULT_PUPIL_LIMIT


MAX_PUPIL_LIMIT = 10


def set_pupil_limit(county: Connection, limit: int) -> None:
    """The county's rule for hand-in-hand pairs per pupil; pairs already active stay."""
    if not 1 <= limit <= MAX_PUPIL_LIMIT:
        raise PairingRefused(f"每名队员的手拉手结对数应为 1–{MAX_PUPIL_LIMIT}",
                             code="INVALID_LIMIT")  # fmt: skip
    set_county_setting(county, PUPIL_LIMIT, limit)


def _active_pupil_pairs(county_code: str, pupil_id: Any) -> Any:
    """The number of active hand-in-hand pairs of the pupil `pupil_id` (a value or a column)."""
    return (
        select(func.count())
        .where(
            pairings.c.state == PairingState.ACTIVE.value,
            or_(*[(pairings.c[f"{p}_county"] == county_code) & (pairings.c[f"{p}_kind"] == "pupil")
                  & (pairings.c[f"{p}_id"] == pupil_id) for p in ("a", "b")]),
        )
        .scalar_subquery()
    )  # fmt: skip


def _check_pupil_limit(conn: Connection, side: Side) -> None:
    limit = pupil_limit(_county(conn, side.county))
    active = conn.execute(select(_active_pupil_pairs(side.county, side.id))).scalar_one()
    if active >= limit:
        raise PairingRefused(f"本县（区）规定每名队员至多 {limit} 个手拉手结对",
                             code="PUPIL_ALREADY_PAIRED")  # fmt: skip


def candidates(conn: Connection, pairing_id: int, partner: str, *, grade: int | None = None,
               offset: int = 0, limit: int = 50) -> tuple[list[tuple[Side, dict[str, Any]]], bool]:  # fmt: skip
    """The pupils of the school on side `partner` ("a" or "b") of an active school pairing who
    may be paired hand in hand now: current, under their county's limit of pairs, and, when
    the other school is in another county, whose guardian gave the separate consent. Each is
    its side and its card (given name, grade, school), by grade; a page of `limit` from
    `offset`, and whether there are more."""
    found = _candidates(conn, pairing_id, partner, grade)
    if found is None:
        return [], False
    county, query, code, school = found
    rows = county.execute(
        query.order_by(pupils.c.grade, pupils.c.id).offset(offset).limit(limit + 1)
    ).all()
    return [
        (Side(code, "pupil", r.id), {"givenName": given_name(r.name), "grade": r.grade,
                                     "school": school})
        for r in rows[:limit]
    ], len(rows) > limit  # fmt: skip


def count_candidates(conn: Connection, pairing_id: int, partner: str, *,
                     grade: int | None = None) -> int:  # fmt: skip
    """How many `candidates` there are (every page)."""
    found = _candidates(conn, pairing_id, partner, grade)
    if found is None:
        return 0
    county, query, _code, _school = found
    return int(county.execute(select(func.count()).select_from(query.subquery())).scalar_one())


def _candidates(
    conn: Connection, pairing_id: int, partner: str, grade: int | None
) -> tuple[Connection, Select[Any], str, str | None] | None:
    """The county connection and query of `candidates`; None when the pairing has none."""
    row = conn.execute(select(pairings).where(pairings.c.id == pairing_id)).first()
    if (row is None or row.level != PairingLevel.SCHOOL.value
            or row.state != PairingState.ACTIVE.value):  # fmt: skip
        return None
    other = other_side(partner)
    code, path = getattr(row, f"{partner}_county"), getattr(row, f"{partner}_path")
    school = (getattr(row, f"{partner}_card") or {}).get("name")
    county = _county(conn, code)
    place = units.alias("place")
    query = (
        select(pupils.c.id, pupils.c.name, pupils.c.grade)
        .join(place, place.c.id == func.coalesce(pupils.c.team_id, pupils.c.squadron_id))
        .where(place.c.path.op("<@")(cast(path, LTree)),
               pupils.c.status.in_(CURRENT_STATUSES), pupils.c.erased_at.is_(None),
               _active_pupil_pairs(code, pupils.c.id) < pupil_limit(county))
    )  # fmt: skip
    if code != getattr(row, f"{other}_county"):
        query = query.where(
            select(pairing_consents.c.id)
            .where(pairing_consents.c.pupil_id == pupils.c.id,
                   pairing_consents.c.withdrawn_at.is_(None))
            .exists()
        )  # fmt: skip
    if grade is not None:
        query = query.where(pupils.c.grade == grade)
    return county, query, code, school


def _text(value: str | None, label: str) -> str | None:
    value = (value or "").strip() or None
    if value is not None and len(value) > MAX_TEXT:
        raise InvalidInput(f"{label}至多 {MAX_TEXT} 个字", code="TEXT_TOO_LONG")
    return value


def check_candidate(conn: Connection, school_pairing: int, partner: str, level: PairingLevel,
                    side: Side, path: str) -> None:  # fmt: skip
    """A pupil listed by `candidates` on side `partner` of a school pairing is paired, while
    that pairing is active, with a pupil (`side`, at `path`) of the pairing's other school."""
    row = conn.execute(select(pairings).where(pairings.c.id == school_pairing)).first()
    if row is None or row.state != PairingState.ACTIVE.value:
        raise PairingRefused("两校的结对已结束，请重新选择", code="PAIRING_NOT_ACTIVE")
    if level != PairingLevel.PUPIL:
        raise PairingRefused("对方学校的队员只能结成手拉手", code="INVALID_SIDE")
    mine = other_side(partner)
    school = getattr(row, f"{mine}_path")
    if side.county != getattr(row, f"{mine}_county") or not within(path, school):
        raise PairingRefused("本方队员应是结对学校的队员", code="NOT_IN_PAIRED_SCHOOL")


def propose(
    conn: Connection,
    level: PairingLevel,
    a: Side,
    b: Side,
    *,
    proposer: str,
    by: str,
    county: str | None = None,
    category: str | None = None,
    goals: str | None = None,
    starts_on: dt.date | None = None,
    ends_on: dt.date | None = None,
) -> int:
    """Propose a pairing of `a` and `b`. `proposer` names who proposes (`county:<code>`,
    `province:<code>`, `prefecture:<code>`); a proposing `county` must be one of the sides,
    and its side is accepted at once."""
    if category is not None and category not in CATEGORIES:
        raise PairingRefused("结对类别应为 urban_rural、migrant、strong_weak 或 other",
                             code="INVALID_CATEGORY")  # fmt: skip
    if starts_on and ends_on and ends_on < starts_on:
        raise PairingRefused("结束日期不能早于开始日期", code="INVALID_PERIOD")
    if a == b:
        raise PairingRefused("不能与自己结对", code="INVALID_SIDE")
    if county is not None and county not in (a.county, b.county):
        raise NotYourSide("县（区）只能提议本县（区）一方参与的结对")
    a_path, b_path = (_path(conn, level, s, county) for s in (a, b))
    first, second = sorted((a, b), key=lambda s: (s.county, s.kind, s.id))
    paths = {a: a_path, b: b_path}
    found = conn.execute(
        select(pairings.c.id).where(
            pairings.c.state.in_(LIVE),
            pairings.c.a_county == first.county, pairings.c.a_kind == first.kind,
            pairings.c.a_id == first.id, pairings.c.b_county == second.county,
            pairings.c.b_kind == second.kind, pairings.c.b_id == second.id,
        )
    ).first()  # fmt: skip
    if found is not None:
        raise Conflict("这两方已有进行中或待确认的结对", code="ALREADY_PAIRED")
    pk = conn.execute(
        insert(pairings).values(
            level=level.value, category=category, proposed_by=proposer,
            goals=_text(goals, "结对目标"), starts_on=starts_on, ends_on=ends_on,
            a_county=first.county, a_kind=first.kind, a_id=first.id, a_path=paths[first],
            b_county=second.county, b_kind=second.kind, b_id=second.id, b_path=paths[second],
        ).returning(pairings.c.id)
    ).scalar_one()  # fmt: skip
    if county is not None:
        accept(conn, int(pk), county, by=by)
    return int(pk)


def _path(conn: Connection, level: PairingLevel, side: Side, county: str | None) -> str:
    """The side's path; a county proposing learns nothing of another county's side beyond
    "not available" (whether it exists, left or was archived stays that county's)."""
    try:
        return describe(conn, level, side)[0]
    except RedscarfError:
        if county is None or side.county == county:
            raise
        raise PairingRefused("对方不存在或现在不能结对", code="PARTNER_UNAVAILABLE") from None


def _locked(conn: Connection, pairing_id: int) -> Any:
    row = conn.execute(
        select(pairings).where(pairings.c.id == pairing_id).with_for_update()
    ).first()
    if row is None:
        raise NotFound("没有这个结对", code="PAIRING_NOT_FOUND")
    return row


def _own(row: Any, county: str) -> list[str]:
    mine = _prefix(row, county)
    if not mine:
        raise NotYourSide()
    return mine


def accept(conn: Connection, pairing_id: int, county: str, *, by: str) -> PairingState:
    """The county accepts its own side (both, when the pairing is within it): its card is
    written; once both sides have accepted the pairing is active. Accepting again changes
    nothing."""
    row = _locked(conn, pairing_id)
    mine = _own(row, county)
    if row.state == PairingState.ACTIVE:
        return PairingState.ACTIVE
    if row.state != PairingState.PROPOSED:
        raise PairingRefused("这个结对已结束或被拒绝", code="INVALID_STATE")
    level = PairingLevel(row.level)
    for prefix in mine:
        if getattr(row, f"{prefix}_accepted_at") is not None:
            continue
        other = _side(row, other_side(prefix))
        card = _card(conn, level, _side(row, prefix), other)
        conn.execute(
            update(pairings).where(pairings.c.id == pairing_id)
            .values({f"{prefix}_accepted_at": func.now(), f"{prefix}_accepted_by": by,
                     f"{prefix}_card": card})
        )  # fmt: skip
    row = _locked(conn, pairing_id)
    if row.a_accepted_at is not None and row.b_accepted_at is not None:
        conn.execute(
            update(pairings).where(pairings.c.id == pairing_id)
            .values(state=PairingState.ACTIVE.value,
                    starts_on=func.coalesce(pairings.c.starts_on, clock.today()))
        )  # fmt: skip
        return PairingState.ACTIVE
    return PairingState.PROPOSED


def _close(conn: Connection, pairing_id: int, state: PairingState, by: str,
           **values: Any) -> None:  # fmt: skip
    conn.execute(
        update(pairings).where(pairings.c.id == pairing_id)
        .values(state=state.value, closed_at=func.now(), closed_by=by, **values)
    )  # fmt: skip


def decline(conn: Connection, pairing_id: int, county: str, *, by: str) -> None:
    """A side's county declines a proposed pairing (of its own side)."""
    row = _locked(conn, pairing_id)
    _own(row, county)
    if row.state != PairingState.PROPOSED:
        raise PairingRefused("只有待确认的结对可以拒绝", code="INVALID_STATE")
    _close(conn, pairing_id, PairingState.DECLINED, by)


def withdraw(conn: Connection, pairing_id: int, proposer: str, *, by: str) -> None:
    """Who proposed a pairing withdraws it before it is active."""
    row = _locked(conn, pairing_id)
    if row.proposed_by != proposer:
        raise NotYourSide("只有提议方可以撤回")
    if row.state != PairingState.PROPOSED:
        raise PairingRefused("只有待确认的结对可以撤回", code="INVALID_STATE")
    _close(conn, pairing_id, PairingState.WITHDRAWN, by)


def end(conn: Connection, pairing_id: int, county: str, review: str | None, *, by: str) -> None:
    """A side's county ends an active pairing with its review (the other side may add its
    own review afterwards, `review`)."""
    row = _locked(conn, pairing_id)
    mine = _own(row, county)
    if row.state != PairingState.ACTIVE:
        raise PairingRefused("只有进行中的结对可以结束", code="PAIRING_NOT_ACTIVE")
    text = _text(review, "总结")
    _close(conn, pairing_id, PairingState.ENDED, by, ends_on=func.coalesce(
        pairings.c.ends_on, clock.today()), **{f"{p}_review": text for p in mine})  # fmt: skip


def end_lapsed(conn: Connection, *, by: str, today: dt.date | None = None) -> int:
    """Active pairings whose period ended before `today` end, each once (each side may still
    write its review): the coordination view then counts only pairings still running."""
    ended = conn.execute(
        update(pairings)
        .where(pairings.c.state == PairingState.ACTIVE.value,
               pairings.c.ends_on < (today or clock.today()))
        .values(state=PairingState.ENDED.value, closed_at=func.now(), closed_by=by)
        .returning(pairings.c.id)
    ).all()  # fmt: skip
    return len(ended)


def add_review(conn: Connection, pairing_id: int, county: str, review: str) -> None:
    """A side's own review of an ended pairing."""
    row = _locked(conn, pairing_id)
    mine = _own(row, county)
    if row.state != PairingState.ENDED:
        raise PairingRefused("结对结束后才能写总结", code="PAIRING_NOT_ENDED")
    text = _text(review, "总结")
    conn.execute(update(pairings).where(pairings.c.id == pairing_id)
                 .values({f"{p}_review": text for p in mine}))  # fmt: skip


def record_event(conn: Connection, pairing_id: int, county: str, kind: str, on: dt.date,
                 note: str | None, *, by: str) -> int:  # fmt: skip
    """Either side records what they did together, while the pairing is active."""
    row = conn.execute(select(pairings).where(pairings.c.id == pairing_id).with_for_update(
        read=True)).first()  # fmt: skip
    if row is None:
        raise NotFound("没有这个结对", code="PAIRING_NOT_FOUND")
    _own(row, county)
    if row.state != PairingState.ACTIVE:
        raise PairingRefused("结对不在进行中，不能记录活动", code="PAIRING_NOT_ACTIVE")
    if kind not in EVENTS[PairingLevel(row.level)]:
        raise PairingRefused("这类活动不属于这一层级的结对", code="INVALID_EVENT")
    if on > clock.today():
        raise PairingRefused("不能记录未来的活动", code="INVALID_DATE")
    return int(
        conn.execute(
            insert(pairing_events)
            .values(pairing_id=pairing_id, kind=kind, on_date=on, note=_text(note, "说明"),
                    county_code=county, recorded_by=by)
            .returning(pairing_events.c.id)
        ).scalar_one()
    )  # fmt: skip


def partner_card(row: Any, county: str) -> tuple[str, dict[str, Any] | None]:
    """What `county` sees of the other side of a pairing: its county code and card (None
    until that side has accepted). Within one county, `a` looks at `b`."""
    other = "b" if row.a_county == county else "a"
    return getattr(row, f"{other}_county"), getattr(row, f"{other}_card")


def give_consent(county: Connection, pupil_id: int, guardian_id: int, notice_version: str) -> int:
    """A guardian's separate consent (in the county's own transaction)."""
    found = county.execute(
        select(pairing_consents.c.id).where(pairing_consents.c.pupil_id == pupil_id,
                                            pairing_consents.c.withdrawn_at.is_(None))
    ).scalar()  # fmt: skip
    if found is not None:
        return int(found)
    return int(
        county.execute(
            insert(pairing_consents)
            .values(pupil_id=pupil_id, guardian_id=guardian_id, notice_version=notice_version)
            .returning(pairing_consents.c.id)
        ).scalar_one()
    )


def withdraw_consent(conn: Connection, county_code: str, pupil_id: int, *, by: str) -> int:
    """The guardian takes the consent back: the pupil's card leaves every pairing with another
    county, and those pairings end. Returns how many ended."""
    county = _county(conn, county_code)
    county.execute(
        update(pairing_consents)
        .where(pairing_consents.c.pupil_id == pupil_id, pairing_consents.c.withdrawn_at.is_(None))
        .values(withdrawn_at=func.now())
    )
    return forget_pupil(conn, county_code, pupil_id, by=by, across_only=True)


def forget_pupil(conn: Connection, county_code: str, pupil_id: int, *, by: str,
                 across_only: bool = False) -> int:  # fmt: skip
    """Take a pupil's card out of its pairings (with other counties only, or all) and end the
    live ones; returns how many pairings it was in."""
    done = 0
    for prefix in ("a", "b"):
        other = other_side(prefix)
        where = [pairings.c[f"{prefix}_county"] == county_code,
                 pairings.c[f"{prefix}_kind"] == "pupil", pairings.c[f"{prefix}_id"] == pupil_id]  # fmt: skip
        if across_only:
            where.append(pairings.c[f"{other}_county"] != county_code)
        done += conn.execute(
            update(pairings).where(*where)
            .values({f"{prefix}_card": None,
                     "state": case((pairings.c.state.in_(LIVE), PairingState.ENDED.value),
                                   else_=pairings.c.state),
                     "closed_at": func.coalesce(pairings.c.closed_at, func.now()),
                     "closed_by": func.coalesce(pairings.c.closed_by, by)})
        ).rowcount  # fmt: skip
    return done
