"""Care (关爱): a pupil in hardship, who cares for them, the aid given and the visit log; and
volunteer projects, claimed rather than assigned (需求—发布—认领—承办—总结).

A care record is personal data of the most sensitive kind: only the child's carers (each an
account named on the record) and the county admin read it (`may_read`). Functions take the
county's connection and never commit.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Connection, exists, false, func, insert, select, update

from domain import clock
from domain.care.tables import (
    ProjectState,
    care_aid,
    care_carers,
    care_records,
    care_visits,
    volunteer_projects,
)
from domain.people.tables import CURRENT_STATUSES, pupils
from redscarf.errors import Conflict, InvalidInput, NotFound

KINDS = frozenset({"hope_room", "aid", "other"})
MAX_TEXT = 2000
# The steps of a project, each from the one before.
STEPS = {
    ProjectState.PUBLISHED: ProjectState.NEED,
    ProjectState.CLAIMED: ProjectState.PUBLISHED,
    ProjectState.CARRIED_OUT: ProjectState.CLAIMED,
    ProjectState.REVIEWED: ProjectState.CARRIED_OUT,
}


class CareRefused(InvalidInput):
    code = "CARE_REFUSED"
    message = "关爱记录有误"


def _text(value: str | None, label: str, *, required: bool = False) -> str | None:
    value = (value or "").strip() or None
    if value is None and required:
        raise CareRefused(f"请填写{label}", code="TEXT_REQUIRED")
    if value is not None and len(value) > MAX_TEXT:
        raise CareRefused(f"{label}至多 {MAX_TEXT} 个字", code="TEXT_TOO_LONG")
    return value


def _record(conn: Connection, record_id: int, *, open_only: bool = False) -> Any:
    row = conn.execute(select(care_records).where(care_records.c.id == record_id)).first()
    if row is None:
        raise NotFound("没有这条关爱记录", code="CARE_RECORD_NOT_FOUND")
    if open_only and row.ended_on is not None:
        raise CareRefused("这条关爱记录已结束", code="CARE_ENDED")
    return row


def open_care(conn: Connection, pupil_id: int, kind: str, note: str | None, *, by: str,
              started_on: dt.date | None = None) -> int:  # fmt: skip
    """A pupil in hardship taken into care (a Hope Room, aid, ...)."""
    if kind not in KINDS:
        raise CareRefused(
            "类别应为 hope_room（希望小屋）、aid（资助）或 other", code="INVALID_KIND"
        )
    # The pupil's row locked: of two admins taking the child in at once, the second sees the first.
    status = conn.execute(
        select(pupils.c.status).where(pupils.c.id == pupil_id).with_for_update()
    ).scalar()
    if status is None:
        raise NotFound("没有这名队员", code="PUPIL_NOT_FOUND")
    if status not in CURRENT_STATUSES:
        raise CareRefused("这名队员已不在册", code="PUPIL_NOT_CURRENT")
    open_already = conn.execute(
        select(care_records.c.id).where(care_records.c.pupil_id == pupil_id,
                                        care_records.c.kind == kind,
                                        care_records.c.ended_on.is_(None))
    ).first()  # fmt: skip
    if open_already is not None:
        raise Conflict("这名队员已有同类的关爱记录", code="ALREADY_IN_CARE")
    return int(
        conn.execute(
            insert(care_records)
            .values(pupil_id=pupil_id, kind=kind, note=_text(note, "情况说明"), created_by=by,
                    started_on=started_on or clock.today())
            .returning(care_records.c.id)
        ).scalar_one()
    )  # fmt: skip


def close_care(conn: Connection, record_id: int, *, on: dt.date | None = None) -> None:
    _record(conn, record_id, open_only=True)
    conn.execute(update(care_records).where(care_records.c.id == record_id)
                 .values(ended_on=on or clock.today()))  # fmt: skip
    conn.execute(update(care_carers).where(care_carers.c.record_id == record_id,
                                           care_carers.c.until.is_(None))
                 .values(until=func.now()))  # fmt: skip


def assign_carer(conn: Connection, record_id: int, user_id: int, name: str) -> int:
    """A carer (a volunteer paired one to one, a counselor) who may read and add to the log."""
    _record(conn, record_id, open_only=True)
    found = conn.execute(
        select(care_carers.c.id).where(care_carers.c.record_id == record_id,
                                       care_carers.c.user_id == user_id,
                                       care_carers.c.until.is_(None))
    ).scalar()  # fmt: skip
    if found is not None:
        return int(found)
    return int(
        conn.execute(
            insert(care_carers)
            .values(record_id=record_id, user_id=user_id, name=_text(name, "姓名", required=True))
            .returning(care_carers.c.id)
        ).scalar_one()
    )


def end_carer(conn: Connection, record_id: int, user_id: int) -> None:
    conn.execute(update(care_carers).where(care_carers.c.record_id == record_id,
                                           care_carers.c.user_id == user_id,
                                           care_carers.c.until.is_(None))
                 .values(until=func.now()))  # fmt: skip


def cared_for_by(user_id: int | None) -> Any:
    """A predicate on `care_records`: the record has `user_id` among its current carers
    (false for no user)."""
    if user_id is None:
        return false()
    return exists().where(
        care_carers.c.record_id == care_records.c.id,
        care_carers.c.user_id == user_id,
        care_carers.c.until.is_(None),
    )


def may_read(conn: Connection, record_id: int, user_id: int | None) -> bool:
    """A current carer of the child (the county admin reads through the policy)."""
    return bool(
        conn.execute(select(cared_for_by(user_id)).where(care_records.c.id == record_id)).scalar()
    )


def record_aid(conn: Connection, record_id: int, on: dt.date, amount: str | Decimal,
               source: str, note: str | None = None, *, by: str) -> int:  # fmt: skip
    """Aid given (yuan, to the fen) and where it came from."""
    _record(conn, record_id)
    try:
        value = Decimal(str(amount)).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise CareRefused("金额应为数字，如 500 或 500.50", code="INVALID_AMOUNT") from None
    if value <= 0 or value >= Decimal("1e10"):
        raise CareRefused("金额应大于零", code="INVALID_AMOUNT")
    if on > clock.today():
        raise CareRefused("不能登记未来的资助", code="INVALID_DATE")
    return int(
        conn.execute(
            insert(care_aid)
            .values(record_id=record_id, on_date=on, amount=value,
                    source=_text(source, "资助来源", required=True), note=_text(note, "说明"),
                    recorded_by=by)
            .returning(care_aid.c.id)
        ).scalar_one()
    )  # fmt: skip


def record_visit(conn: Connection, record_id: int, visited_on: dt.date, volunteer: str,
                 what: str, needs: str | None, *, by: str) -> int:  # fmt: skip
    """One line of the visit log: who, when, what was done, what the child needs next."""
    _record(conn, record_id, open_only=True)
    if visited_on > clock.today():
        raise CareRefused("不能登记未来的走访", code="INVALID_DATE")
    return int(
        conn.execute(
            insert(care_visits)
            .values(record_id=record_id, visited_on=visited_on,
                    volunteer=_text(volunteer, "走访人", required=True),
                    what=_text(what, "走访内容", required=True), needs=_text(needs, "下一步需要"),
                    recorded_by=by)
            .returning(care_visits.c.id)
        ).scalar_one()
    )  # fmt: skip


def aid_total(conn: Connection, record_id: int) -> Decimal:
    total = conn.execute(
        select(func.coalesce(func.sum(care_aid.c.amount), 0)).where(
            care_aid.c.record_id == record_id
        )
    ).scalar_one()
    return Decimal(total)


# --- volunteer projects ------------------------------------------------------------------------


def raise_need(conn: Connection, unit_id: int, title: str, need: str, *, by: str) -> int:
    return int(
        conn.execute(
            insert(volunteer_projects)
            .values(unit_id=unit_id, title=_text(title, "项目名称", required=True),
                    need=_text(need, "需求", required=True), created_by=by)
            .returning(volunteer_projects.c.id)
        ).scalar_one()
    )  # fmt: skip


def step(conn: Connection, project_id: int, to: ProjectState, *, text: str | None = None,
         user_id: int | None = None) -> None:  # fmt: skip
    """Move a project one step on: publish the need; claim it (once, `text` naming the team,
    `user_id` the account claiming for it); report it carried out (`text`: what was done);
    review it (`text`: the review)."""
    row = conn.execute(
        select(volunteer_projects).where(volunteer_projects.c.id == project_id).with_for_update()
    ).first()
    if row is None:
        raise NotFound("没有这个志愿服务项目", code="PROJECT_NOT_FOUND")
    if to == ProjectState.CLAIMED and row.claimed_by is not None:
        raise Conflict(f"这个项目已被{row.claimed_by}认领", code="ALREADY_CLAIMED")
    if to not in STEPS or row.state != STEPS[to]:
        raise CareRefused("项目不在这一步", code="INVALID_STATE")
    values: dict[str, Any] = {"state": to.value}
    if to == ProjectState.CLAIMED:
        values.update(claimed_by=_text(text, "认领的队伍", required=True), claimed_by_user=user_id,
                      claimed_at=func.now())  # fmt: skip
    elif to == ProjectState.CARRIED_OUT:
        values.update(summary=_text(text, "承办情况", required=True), carried_out_at=func.now())
    elif to == ProjectState.REVIEWED:
        values.update(review=_text(text, "总结评价", required=True), reviewed_at=func.now())
    conn.execute(
        update(volunteer_projects).where(volunteer_projects.c.id == project_id).values(**values)
    )
