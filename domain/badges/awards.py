"""Awarding badges, and the selection star awards go through, with their points.

Basic badges (per term, by the school), the county's special and collective badges, and the
four and five stars conferred from above are awarded directly. Star levels one to three are a
selection: a candidate must hold the level below; each level's candidacies are capped by the
county's quota of those who could be candidates; candidacies are reviewed, put under public
notice (公示), may meet objections, and are awarded once the notice has ended with no objection
open. An award grants its points once, by the county's points rule in force on the day (ledger
key `award:<id>`); revoking it takes them back by a reversing transaction.

Every function runs in the caller's county transaction (see `domain.ledger.service`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError

from authz.enforcer import ListScope
from authz.sql import scope_predicate
from domain import clock
from domain.badges.tables import (
    LIVE,
    AwardState,
    BadgeLevel,
    award_objections,
    badge_awards,
    badge_quotas,
    badges,
    points_rules,
)
from domain.ledger import service as ledger
from domain.org.tables import units
from domain.people.tables import CURRENT_STATUSES, pupils
from redscarf.errors import Conflict, InvalidInput, NotFound

SELECTED = (BadgeLevel.STAR1, BadgeLevel.STAR2, BadgeLevel.STAR3)
CONFERRED = (BadgeLevel.STAR4, BadgeLevel.STAR5)
BELOW = {BadgeLevel.STAR1: BadgeLevel.BASIC, BadgeLevel.STAR2: BadgeLevel.STAR1,
         BadgeLevel.STAR3: BadgeLevel.STAR2}  # fmt: skip


class AwardRefused(InvalidInput):
    code = "AWARD_REFUSED"
    message = "不能颁发这枚奖章"


class DuplicateAward(Conflict):
    code = "DUPLICATE_AWARD"
    message = "该队员本学年（学期）已获得或正在评选这枚奖章"


class QuotaExceeded(InvalidInput):
    code = "QUOTA_EXCEEDED"
    message = "超出本级奖章的评选名额"


@dataclass(frozen=True)
class Badge:
    id: int
    code: str
    name: str
    level: str
    points: int


def badge(conn: Connection, badge_id: int) -> Badge:
    row = conn.execute(
        select(badges.c.id, badges.c.code, badges.c.name, badges.c.level, badges.c.points).where(
            badges.c.id == badge_id
        )
    ).first()
    if row is None:
        raise NotFound("没有这枚奖章", code="BADGE_NOT_FOUND")
    return Badge(*row)


# --- the catalogue ----------------------------------------------------------------------


def _catalogue_values(name: str | None, points: int | None, academic_year: int | None) -> None:
    if name is not None and not 1 <= len(name.strip()) <= 50:
        raise InvalidInput("奖章名称为 1–50 个字", code="INVALID_NAME")
    if points is not None and not 0 <= points <= 100_000:
        raise InvalidInput("积分应在 0–100000 之间", code="INVALID_POINTS")
    if academic_year is not None and not 2000 <= academic_year <= 2100:
        raise InvalidInput("学年应写成 2025 这样的年份", code="INVALID_YEAR")


def create_badge(conn: Connection, name: str, level: str, *, criteria: str | None,
                 icon: str | None, points: int, academic_year: int | None) -> int:  # fmt: skip
    """A county's own badge (special or collective); its code is `<level>.<id>`."""
    if level not in (BadgeLevel.SPECIAL, BadgeLevel.COLLECTIVE):
        raise InvalidInput("本县只能新设特色章或集体奖章", code="INVALID_LEVEL")
    _catalogue_values(name, points, academic_year)
    order = conn.execute(select(func.coalesce(func.max(badges.c.sort_order), 0) + 1)).scalar_one()
    pk = conn.execute(
        insert(badges)
        .values(code=f"{level}.new.{order}", name=name.strip(), level=level, sort_order=order,
                criteria=criteria, icon=icon, points=points, academic_year=academic_year)
        .returning(badges.c.id)
    ).scalar_one()  # fmt: skip
    conn.execute(update(badges).where(badges.c.id == pk).values(code=f"{level}.{pk}"))
    return int(pk)


def update_badge(conn: Connection, badge_id: int, values: dict[str, Any]) -> None:
    badge(conn, badge_id)
    _catalogue_values(values.get("name"), values.get("points"), values.get("academic_year"))
    if "name" in values:
        values["name"] = values["name"].strip()
    if values:
        conn.execute(update(badges).where(badges.c.id == badge_id).values(**values))


def set_quota(conn: Connection, level: str, percent: int) -> None:
    if level not in (BadgeLevel.STAR1, BadgeLevel.STAR2, BadgeLevel.STAR3, BadgeLevel.STAR4):
        raise InvalidInput("名额只适用于一至四星章", code="INVALID_LEVEL")
    if not 0 <= percent <= 100:
        raise InvalidInput("名额百分比应在 0–100 之间", code="INVALID_PERCENT")
    conn.execute(
        pg_insert(badge_quotas)
        .values(level=level, percent=percent)
        .on_conflict_do_update(index_elements=["level"], set_={"percent": percent})
    )


# --- points rules --------------------------------------------------------------------------


def subject_of_badge(found: Badge) -> str:
    return f"badge:{found.code}"


def subject_of_level(level: str) -> str:
    return f"level:{level}"


def set_points_rule(
    conn: Connection, subject: str, points: int, effective_from: dt.date, by: str
) -> tuple[int, int]:
    """A new version of a rule (rules are never edited); returns (rule id, version)."""
    if points < 0 or points > 100_000:
        raise InvalidInput("积分应在 0–100000 之间", code="INVALID_POINTS")
    conn.execute(select(func.pg_advisory_xact_lock(func.hashtext(subject))))
    version = conn.execute(
        select(func.coalesce(func.max(points_rules.c.version), 0) + 1).where(
            points_rules.c.subject == subject
        )
    ).scalar_one()
    pk = conn.execute(
        insert(points_rules)
        .values(subject=subject, points=points, version=version, effective_from=effective_from,
                created_by=by)
        .returning(points_rules.c.id)
    ).scalar_one()  # fmt: skip
    return int(pk), int(version)


def points_for(conn: Connection, found: Badge, on: dt.date) -> tuple[int | None, int]:
    """(rule id, points) in force on a day: the badge's own rule, else its level's, else the
    catalogue's points."""
    for subject in (subject_of_badge(found), subject_of_level(found.level)):
        rule = conn.execute(
            select(points_rules.c.id, points_rules.c.points)
            .where(points_rules.c.subject == subject, points_rules.c.effective_from <= on)
            .order_by(points_rules.c.effective_from.desc(), points_rules.c.version.desc())
            .limit(1)
        ).first()
        if rule is not None:
            return int(rule.id), int(rule.points)
    return None, found.points


# --- awarding ------------------------------------------------------------------------------


def _current_pupils(conn: Connection, pupil_ids: Sequence[int]) -> None:
    found = set(
        conn.execute(
            select(pupils.c.id).where(
                pupils.c.id.in_(list(pupil_ids)), pupils.c.status.in_(CURRENT_STATUSES)
            )
        ).scalars()
    )
    missing = [pk for pk in pupil_ids if pk not in found]
    if missing:
        raise AwardRefused("已离队、转出或不存在的队员不能获得奖章", code="PUPIL_NOT_CURRENT")


def _insert(conn: Connection, rows: list[dict[str, Any]]) -> list[int]:
    try:
        with conn.begin_nested():
            return list(
                conn.execute(
                    insert(badge_awards).returning(badge_awards.c.id, sort_by_parameter_order=True),
                    rows,
                ).scalars()
            )
    except IntegrityError as exc:
        if "uq_badge_awards_live" in str(exc):
            raise DuplicateAward() from None
        raise


def grant(conn: Connection, award_id: int, found: Badge, pupil_id: int | None, by: str,
          today: dt.date) -> int:  # fmt: skip
    """Mark an award awarded and grant its points once; returns the points."""
    rule_id, points = points_for(conn, found, today)
    transaction_id = None
    if points and pupil_id is not None:
        account = ledger.pupil_account(conn, pupil_id)
        transaction_id = ledger.post(
            conn, f"award:{award_id}", "award", [(ledger.pool(conn), -points), (account, points)],
            memo=found.name, by=by,
        ).transaction_id  # fmt: skip
    conn.execute(
        update(badge_awards)
        .where(badge_awards.c.id == award_id)
        .values(state=AwardState.AWARDED.value, awarded_by=by, awarded_at=func.now(),
                points=points if pupil_id is not None else 0, rule_id=rule_id,
                transaction_id=transaction_id)
    )  # fmt: skip
    return points


def award(
    conn: Connection,
    badge_id: int,
    pupil_ids: Sequence[int],
    academic_year: int,
    *,
    by: str,
    term: int | None = None,
    evidence: str | None = None,
    conferred_by: str | None = None,
    today: dt.date | None = None,
) -> list[int]:
    """Award a badge outright to pupils (basic, special, conferred stars); returns award ids."""
    today = today or clock.today()
    found = badge(conn, badge_id)
    if found.level in SELECTED:
        raise AwardRefused(
            f"{found.name}须经评选：提名、审核、公示后颁发", code="SELECTION_REQUIRED"
        )
    if found.level == BadgeLevel.COLLECTIVE:
        raise AwardRefused("集体奖章颁给中队或大队，不颁给个人", code="COLLECTIVE_BADGE")
    if found.level == BadgeLevel.BASIC and term not in (1, 2):
        raise AwardRefused("基础章按学期颁发：请填写第 1 或第 2 学期", code="TERM_REQUIRED")
    if found.level in CONFERRED and not (conferred_by or "").strip():
        raise AwardRefused(f"{found.name}由上级授予：请填写授予单位", code="CONFERRED_BY_REQUIRED")
    _current_pupils(conn, pupil_ids)
    ids = _insert(
        conn,
        [
            {"badge_id": badge_id, "pupil_id": pk, "academic_year": academic_year,
             "term": term if found.level == BadgeLevel.BASIC else None,
             "state": AwardState.NOMINATED.value, "evidence": evidence,
             "conferred_by": conferred_by}
            for pk in pupil_ids
        ],
    )  # fmt: skip
    for award_id, pupil_id in zip(ids, pupil_ids, strict=True):
        grant(conn, award_id, found, pupil_id, by, today)
    return ids


def award_collective(conn: Connection, badge_id: int, unit_id: int, academic_year: int, *,
                     by: str, evidence: str | None = None) -> int:  # fmt: skip
    found = badge(conn, badge_id)
    if found.level != BadgeLevel.COLLECTIVE:
        raise AwardRefused("这不是集体奖章", code="NOT_COLLECTIVE")
    kind = conn.execute(select(units.c.kind).where(units.c.id == unit_id)).scalar()
    if kind not in ("squadron", "brigade"):
        raise AwardRefused("集体奖章颁给中队或大队", code="WRONG_UNIT_KIND")
    (award_id,) = _insert(
        conn,
        [{"badge_id": badge_id, "unit_id": unit_id, "academic_year": academic_year,
          "state": AwardState.NOMINATED.value, "evidence": evidence}],
    )  # fmt: skip
    grant(conn, award_id, found, None, by, clock.today())
    return award_id


def revoke(conn: Connection, award_id: int, reason: str, *, by: str) -> None:
    """Revoke an award; its points are taken back (refused if they were spent already)."""
    row = conn.execute(
        select(badge_awards).where(badge_awards.c.id == award_id).with_for_update()
    ).first()
    if row is None:
        raise NotFound("没有这项奖章记录", code="AWARD_NOT_FOUND")
    if row.state == AwardState.REVOKED:
        return
    if row.state != AwardState.AWARDED:
        raise AwardRefused("只能撤销已颁发的奖章；评选中的请在审核或公示中处理", code="NOT_AWARDED")
    if not reason.strip():
        raise AwardRefused("请写明撤销原因", code="REASON_REQUIRED")
    if row.transaction_id is not None:
        try:
            ledger.reverse(conn, row.transaction_id, f"revoke:{award_id}", by=by, memo=reason)
        except ledger.InsufficientPoints:
            raise ledger.InsufficientPoints(
                "这枚奖章的积分已被使用，无法收回，撤销未执行；请先与家长沟通"
            ) from None
    conn.execute(
        update(badge_awards)
        .where(badge_awards.c.id == award_id)
        .values(state=AwardState.REVOKED.value, revoked_by=by, revoked_at=func.now(),
                revoked_reason=reason.strip())
    )  # fmt: skip


# --- the selection of star awards ----------------------------------------------------------


def holders_of(conn: Connection, level: str, within: str) -> Any:
    """Pupils under the unit path `within` who hold `level` (for basic: every basic badge)."""
    place = units.alias("place")
    held = (
        select(badge_awards.c.pupil_id)
        .join(badges, badges.c.id == badge_awards.c.badge_id)
        .join(pupils, pupils.c.id == badge_awards.c.pupil_id)
        .join(place, place.c.id == func.coalesce(pupils.c.team_id, pupils.c.squadron_id))
        .where(
            badges.c.level == level,
            badge_awards.c.state == AwardState.AWARDED.value,
            pupils.c.status.in_(CURRENT_STATUSES),
            scope_predicate(ListScope(paths=(within,)), place.c.path),
        )
        .group_by(badge_awards.c.pupil_id)
    )
    if level == BadgeLevel.BASIC:
        every = select(func.count()).select_from(badges).where(badges.c.level == level)
        held = held.having(
            func.count(func.distinct(badge_awards.c.badge_id)) >= every.scalar_subquery()
        )
    return held


def nominate(
    conn: Connection,
    badge_id: int,
    pupil_ids: Sequence[int],
    academic_year: int,
    within: str,
    *,
    by: str,
    evidence: str | None = None,
) -> list[int]:
    """Candidacies for a star level one to three, within a unit (the squadron for one star,
    the school for two, the county for three): each must hold the level below, and the
    level's quota of those holders is not exceeded."""
    found = badge(conn, badge_id)
    if found.level not in SELECTED:
        raise AwardRefused(f"{found.name}不经评选，直接颁发", code="NO_SELECTION")
    _current_pupils(conn, pupil_ids)
    conn.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"quota:{badge_id}:{within}"))))
    below = BELOW[BadgeLevel(found.level)]
    eligible = set(conn.execute(holders_of(conn, below.value, within)).scalars())
    if missing := [pk for pk in pupil_ids if pk not in eligible]:
        label = "全部基础章" if below == BadgeLevel.BASIC else badge_label(below)
        raise AwardRefused(
            f"{len(missing)} 名队员尚未获得{label}，不能提名", code="PREREQUISITE_MISSING"
        )
    percent = conn.execute(
        select(badge_quotas.c.percent).where(badge_quotas.c.level == found.level)
    ).scalar()
    quota = math.floor(len(eligible) * (100 if percent is None else percent) / 100)
    place = units.alias("place")
    taken = conn.execute(
        select(func.count())
        .select_from(badge_awards)
        .join(pupils, pupils.c.id == badge_awards.c.pupil_id)
        .join(place, place.c.id == func.coalesce(pupils.c.team_id, pupils.c.squadron_id))
        .where(
            badge_awards.c.badge_id == badge_id,
            badge_awards.c.academic_year == academic_year,
            badge_awards.c.state.in_([s.value for s in LIVE]),
            scope_predicate(ListScope(paths=(within,)), place.c.path),
        )
    ).scalar_one()
    if taken + len(pupil_ids) > quota:
        raise QuotaExceeded(
            f"{found.name}名额为 {quota} 名（{percent}% × {len(eligible)} 名候选），"
            f"已提名或颁发 {taken} 名，本次 {len(pupil_ids)} 名"
        )
    return _insert(
        conn,
        [
            {"badge_id": badge_id, "pupil_id": pk, "academic_year": academic_year,
             "state": AwardState.NOMINATED.value, "evidence": evidence, "nominated_by": by,
             "nominated_at": dt.datetime.now(dt.UTC)}
            for pk in pupil_ids
        ],
    )  # fmt: skip


def badge_label(level: BadgeLevel) -> str:
    return {BadgeLevel.STAR1: "一星章", BadgeLevel.STAR2: "二星章",
            BadgeLevel.STAR3: "三星章"}.get(level, level.value)  # fmt: skip


def _move(conn: Connection, award_ids: Sequence[int], frm: AwardState, to: dict[str, Any]) -> None:
    rows = conn.execute(
        select(badge_awards.c.id, badge_awards.c.state)
        .where(badge_awards.c.id.in_(list(award_ids)))
        .with_for_update()
    ).all()
    if len(rows) != len(set(award_ids)):
        raise NotFound("没有这项评选记录", code="AWARD_NOT_FOUND")
    if wrong := [r.id for r in rows if r.state != frm]:
        raise AwardRefused(
            f"{len(wrong)} 项不在这一步（应为{STEP_LABELS[frm]}）", code="WRONG_STEP"
        )
    conn.execute(update(badge_awards).where(badge_awards.c.id.in_(list(award_ids))).values(**to))


STEP_LABELS = {AwardState.NOMINATED: "已提名", AwardState.REVIEWED: "已审核",
               AwardState.NOTICED: "公示中"}  # fmt: skip


def review(conn: Connection, award_ids: Sequence[int], approve: bool, *, by: str,
           reason: str | None = None) -> None:  # fmt: skip
    if not approve and not (reason or "").strip():
        raise AwardRefused("不通过须写明理由", code="REASON_REQUIRED")
    to = (
        {"state": AwardState.REVIEWED.value, "reviewed_by": by, "reviewed_at": func.now()}
        if approve
        else {"state": AwardState.REJECTED.value, "reviewed_by": by, "reviewed_at": func.now(),
              "rejected_reason": reason}
    )  # fmt: skip
    _move(conn, award_ids, AwardState.NOMINATED, to)


def start_notice(conn: Connection, award_ids: Sequence[int], until: dt.date, *,
                 today: dt.date | None = None) -> None:  # fmt: skip
    """Put reviewed candidacies under public notice until a day (at least the next one)."""
    if until <= (today or clock.today()):
        raise AwardRefused("公示截止日期应在今天之后", code="INVALID_NOTICE")
    _move(conn, award_ids, AwardState.REVIEWED,
          {"state": AwardState.NOTICED.value, "notice_until": until})  # fmt: skip


def object_to(conn: Connection, award_id: int, content: str, raised_by: str) -> int:
    state = conn.execute(select(badge_awards.c.state).where(badge_awards.c.id == award_id)).scalar()
    if state is None:
        raise NotFound("没有这项评选记录", code="AWARD_NOT_FOUND")
    if state != AwardState.NOTICED:
        raise AwardRefused("只有公示期间可以提出异议", code="NOT_UNDER_NOTICE")
    if not content.strip():
        raise AwardRefused("请写明异议内容", code="CONTENT_REQUIRED")
    return int(
        conn.execute(
            insert(award_objections)
            .values(award_id=award_id, content=content.strip(), raised_by=raised_by)
            .returning(award_objections.c.id)
        ).scalar_one()
    )


def resolve_objection(conn: Connection, objection_id: int, upheld: bool, resolution: str, *,
                      by: str) -> None:  # fmt: skip
    """Record how an objection was settled; an upheld one rejects the candidacy."""
    row = conn.execute(
        select(award_objections).where(award_objections.c.id == objection_id).with_for_update()
    ).first()
    if row is None:
        raise NotFound("没有这条异议", code="OBJECTION_NOT_FOUND")
    if row.resolved_at is not None:
        raise AwardRefused("这条异议已处理", code="ALREADY_RESOLVED")
    if not resolution.strip():
        raise AwardRefused("请写明处理结果", code="REASON_REQUIRED")
    conn.execute(
        update(award_objections)
        .where(award_objections.c.id == objection_id)
        .values(upheld=upheld, resolution=resolution.strip(), resolved_by=by,
                resolved_at=func.now())
    )  # fmt: skip
    if upheld:
        _move(conn, [row.award_id], AwardState.NOTICED,
              {"state": AwardState.REJECTED.value, "rejected_reason": resolution.strip()})  # fmt: skip


def confirm(conn: Connection, award_ids: Sequence[int], *, by: str,
            today: dt.date | None = None) -> int:  # fmt: skip
    """Award the candidacies whose public notice has ended with no objection open; returns the
    points granted."""
    today = today or clock.today()
    rows = conn.execute(
        select(badge_awards.c.id, badge_awards.c.state, badge_awards.c.notice_until,
               badge_awards.c.badge_id, badge_awards.c.pupil_id)
        .where(badge_awards.c.id.in_(list(award_ids)))
        .with_for_update()
    ).all()  # fmt: skip
    if len(rows) != len(set(award_ids)):
        raise NotFound("没有这项评选记录", code="AWARD_NOT_FOUND")
    if [r for r in rows if r.state != AwardState.NOTICED]:
        raise AwardRefused("只有公示中的可以确认颁发", code="WRONG_STEP")
    if [r for r in rows if r.notice_until >= today]:
        raise AwardRefused("公示期尚未结束", code="NOTICE_NOT_ENDED")
    open_objections = conn.execute(
        select(func.count())
        .select_from(award_objections)
        .where(award_objections.c.award_id.in_(list(award_ids)),
               award_objections.c.resolved_at.is_(None))
    ).scalar_one()  # fmt: skip
    if open_objections:
        raise AwardRefused(f"还有 {open_objections} 条异议未处理", code="OBJECTIONS_OPEN")
    granted = 0
    for row in rows:
        granted += grant(conn, row.id, badge(conn, row.badge_id), row.pupil_id, by, today)
    return granted


def awards_of(conn: Connection, pupil_id: int) -> list[Any]:
    """A pupil's awards (and candidacies), oldest first."""
    return conn.execute(
        select(badge_awards, badges.c.name, badges.c.level, badges.c.code)
        .join(badges, badges.c.id == badge_awards.c.badge_id)
        .where(badge_awards.c.pupil_id == pupil_id)
        .order_by(badge_awards.c.created_at, badge_awards.c.id)
    ).all()
