"""Signing up for activities, under the rush of an opening minute.

A sign-up locks its activity's row: of any number of families signing up at once, each in turn
sees the places left, so the first `capacity` (in the order the database grants the lock) are
confirmed, with their cost held in the ledger, and the rest waitlisted in that same order.
A place that frees up (a cancellation) goes to the first waitlisted pupil who still has the
points; attendance posts the held cost to the activity and grants the reward; cancelling the
activity releases every hold (each once: a void of a voided hold changes nothing, so a retried
job refunds nobody twice).
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from domain.activities.tables import (
    LIVE_SIGNUP,
    ActivityState,
    SignupState,
    activities,
    activity_signups,
)
from domain.ledger import service as ledger
from domain.ledger.tables import AccountKind
from domain.org.tables import units
from domain.people.tables import CURRENT_STATUSES, pupils
from domain.personal.crypto import FieldCipher
from redscarf.errors import Conflict, InvalidInput, NotFound

MAX_CAPACITY = 100_000
MAX_POINTS = 100_000
CHECKIN_CODE = "activities.checkin_code"
CHECKIN_DIGITS = 6
# What may change once families can see an activity (the rest would change what they signed
# up for): words, and more places.
PUBLISHED_EDITS = frozenset({"title", "description", "place", "capacity"})


class SignupRefused(InvalidInput):
    code = "SIGNUP_REFUSED"
    message = "不能报名"


class AlreadySignedUp(Conflict):
    code = "ALREADY_SIGNED_UP"
    message = "已报名这项活动"


@dataclass(frozen=True)
class Signup:
    id: int
    activity_id: int
    pupil_id: int
    state: SignupState
    position: int | None
    """Place on the waiting list (1 is next), for a waitlisted sign-up."""
    created_at: dt.datetime
    updated_at: dt.datetime
    """As stored: the API answers with the sign-up without reading it again."""


class ActivityRefused(InvalidInput):
    code = "INVALID_ACTIVITY"
    message = "活动信息有误"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --- organising --------------------------------------------------------------------------------


def check_activity(values: dict[str, Any]) -> None:
    """The fields of an activity make sense together (a whole row's worth of `values`)."""
    if not (values.get("title") or "").strip():
        raise ActivityRefused("请填写活动名称", code="TITLE_REQUIRED")
    if values["ends_at"] <= values["starts_at"]:
        raise ActivityRefused("结束时间应晚于开始时间", code="INVALID_TIME")
    if values["signup_closes_at"] <= values["signup_opens_at"]:
        raise ActivityRefused("报名截止应晚于报名开始", code="INVALID_WINDOW")
    if values["signup_closes_at"] > values["ends_at"]:
        raise ActivityRefused("报名截止不能晚于活动结束", code="INVALID_WINDOW")
    cancel_until = values.get("cancel_until")
    if cancel_until is not None and cancel_until > values["ends_at"]:
        raise ActivityRefused("取消报名的截止时间不能晚于活动结束", code="INVALID_WINDOW")
    if not 1 <= values["capacity"] <= MAX_CAPACITY:
        raise ActivityRefused(f"名额应为 1–{MAX_CAPACITY}", code="INVALID_CAPACITY")
    for name in ("cost", "reward"):
        if not 0 <= values.get(name, 0) <= MAX_POINTS:
            raise ActivityRefused(f"积分应为 0–{MAX_POINTS}", code="INVALID_POINTS")
    grades = values.get("grades")
    if grades is not None and (not grades or any(not 1 <= g <= 9 for g in grades)):
        raise ActivityRefused("年级应为 1–9", code="INVALID_GRADES")


def create_activity(conn: Connection, unit_id: int, values: dict[str, Any], *, by: str) -> int:
    """A draft activity organised by `unit_id` (a county, township, school or squadron)."""
    kind = conn.execute(select(units.c.kind).where(units.c.id == unit_id,
                                                   units.c.archived_at.is_(None))).scalar()  # fmt: skip
    if kind is None:
        raise NotFound("没有这个单位", code="UNIT_NOT_FOUND")
    if kind == "team":
        raise ActivityRefused("活动由县、乡镇（街道）、学校或中队组织", code="INVALID_ORGANISER")
    check_activity(values)
    return int(
        conn.execute(
            insert(activities)
            .values(unit_id=unit_id, created_by=by, **values)
            .returning(activities.c.id)
        ).scalar_one()
    )


def update_activity(conn: Connection, activity_id: int, values: dict[str, Any]) -> None:
    """Change a draft freely; once published only its words and (more) places."""
    activity = _locked(conn, activity_id)
    if activity.state in (ActivityState.FINISHED, ActivityState.CANCELLED):
        raise ActivityRefused("已结束或已取消的活动不能修改", code="NOT_EDITABLE")
    if activity.state != ActivityState.DRAFT and set(values) - PUBLISHED_EDITS:
        raise ActivityRefused("已发布的活动只能修改名称、介绍、地点和增加名额", code="NOT_EDITABLE")
    if values.get("capacity", activity.capacity) < activity.confirmed:
        raise ActivityRefused(f"名额不能少于已确认的 {activity.confirmed} 人",
                              code="INVALID_CAPACITY")  # fmt: skip
    check_activity({**activity._asdict(), **values})
    conn.execute(update(activities).where(activities.c.id == activity_id).values(**values))
    if values.get("capacity", activity.capacity) > activity.capacity:
        _promote(conn, _locked(conn, activity_id))


def _move(conn: Connection, activity_id: int, allowed: tuple[ActivityState, ...],
          to: ActivityState, message: str) -> Any:  # fmt: skip
    activity = _locked(conn, activity_id)
    if activity.state == to:
        return activity
    if activity.state not in allowed:
        raise ActivityRefused(message, code="INVALID_STATE")
    conn.execute(update(activities).where(activities.c.id == activity_id).values(state=to.value))
    return activity


def publish_activity(conn: Connection, activity_id: int) -> None:
    """Families can see it and sign up in its window (publishing again changes nothing)."""
    _move(conn, activity_id, (ActivityState.DRAFT,), ActivityState.PUBLISHED, "只有草稿可以发布")


def close_signup(conn: Connection, activity_id: int) -> None:
    """Stop sign-ups early (attendance still open)."""
    _move(conn, activity_id, (ActivityState.PUBLISHED,), ActivityState.CLOSED,
          "只有报名中的活动可以截止报名")  # fmt: skip


@dataclass(frozen=True)
class Finished:
    attended: int
    no_shows: int


def finish_activity(conn: Connection, activity_id: int, *, by: str) -> Finished:
    """The activity is over: confirmed pupils who did not come are no-shows (their held cost
    posted to the activity, or released when the activity forgives no-shows), the waiting
    list lapses. Finishing again changes nothing."""
    activity = _locked(conn, activity_id)
    if activity.state not in (ActivityState.PUBLISHED, ActivityState.CLOSED,
                              ActivityState.FINISHED):  # fmt: skip
        raise ActivityRefused("只有已发布的活动可以结束", code="INVALID_STATE")
    no_shows = 0
    if activity.state != ActivityState.FINISHED:
        for row in conn.execute(
            select(activity_signups.c.id, activity_signups.c.hold_id)
            .where(activity_signups.c.activity_id == activity_id,
                   activity_signups.c.state == SignupState.CONFIRMED.value)
            .order_by(activity_signups.c.id)
        ).all():  # fmt: skip
            if row.hold_id is not None and activity.no_show_keeps_cost:
                ledger.post_hold(conn, row.hold_id, activity.cost,
                                 activity_account(conn, activity_id),
                                 f"activity:{activity_id}:no-show:{row.id}", by=by,
                                 memo=f"{activity.title}（未到）")  # fmt: skip
            elif row.hold_id is not None:
                ledger.void_hold(conn, row.hold_id)
            conn.execute(update(activity_signups).where(activity_signups.c.id == row.id)
                         .values(state=SignupState.NO_SHOW.value, updated_at=func.now()))  # fmt: skip
            no_shows += 1
        conn.execute(
            update(activity_signups)
            .where(activity_signups.c.activity_id == activity_id,
                   activity_signups.c.state == SignupState.WAITLISTED.value)
            .values(state=SignupState.LAPSED.value, updated_at=func.now())
        )  # fmt: skip
        conn.execute(update(activities).where(activities.c.id == activity_id)
                     .values(state=ActivityState.FINISHED.value, finished_at=func.now()))  # fmt: skip
    else:
        no_shows = conn.execute(
            select(func.count()).where(activity_signups.c.activity_id == activity_id,
                                       activity_signups.c.state == SignupState.NO_SHOW.value)
        ).scalar_one()  # fmt: skip
    attended = conn.execute(
        select(func.count()).where(activity_signups.c.activity_id == activity_id,
                                   activity_signups.c.state == SignupState.ATTENDED.value)
    ).scalar_one()  # fmt: skip
    return Finished(int(attended), int(no_shows))


def issue_checkin_code(conn: Connection, cipher: FieldCipher, activity_id: int) -> str:
    """A new six-digit code shown at the venue; families check in with it (the old one stops
    working). Only its keyed hash is kept."""
    activity = _locked(conn, activity_id)
    if activity.state not in (ActivityState.PUBLISHED, ActivityState.CLOSED):
        raise SignupRefused("这项活动不能签到", code="NOT_OPEN")
    code = "".join(secrets.choice("0123456789") for _ in range(CHECKIN_DIGITS))
    conn.execute(update(activities).where(activities.c.id == activity_id)
                 .values(checkin_code_hash=_checkin_hash(cipher, activity_id, code)))  # fmt: skip
    return code


def _checkin_hash(cipher: FieldCipher, activity_id: int, code: str) -> bytes:
    return cipher.keyed_hash(f"{activity_id}:{code.strip()}", context=CHECKIN_CODE)


def check_code(conn: Connection, cipher: FieldCipher, activity_id: int, code: str) -> None:
    """The code shown at the venue, or a refusal."""
    stored = conn.execute(
        select(activities.c.checkin_code_hash).where(activities.c.id == activity_id)
    ).scalar()
    if stored is None or not hmac.compare_digest(stored, _checkin_hash(cipher, activity_id, code)):
        raise SignupRefused("签到码不正确", code="WRONG_CHECKIN_CODE")


def activity_account(conn: Connection, activity_id: int) -> int:
    return ledger.account(conn, AccountKind.ACTIVITY, activity_id, f"活动 {activity_id}")


def _locked(conn: Connection, activity_id: int) -> Any:
    row = conn.execute(
        select(activities).where(activities.c.id == activity_id).with_for_update()
    ).first()
    if row is None:
        raise NotFound("没有这项活动", code="ACTIVITY_NOT_FOUND")
    return row


def _eligible(conn: Connection, activity: Any, pupil_id: int) -> None:
    place, school = units.alias("place"), units.alias("school")
    squadron, organiser_unit = units.alias("squadron"), units.alias("organiser")
    organiser_path = (
        select(organiser_unit.c.path)
        .where(organiser_unit.c.id == activity.unit_id)
        .scalar_subquery()
    )
    row = conn.execute(
        select(
            pupils.c.grade,
            pupils.c.status,
            place.c.path,
            school.c.area,
            organiser_path.label("organiser"),
        )
        .join(place, place.c.id == func.coalesce(pupils.c.team_id, pupils.c.squadron_id))
        .join(squadron, squadron.c.id == pupils.c.squadron_id)
        .outerjoin(school, school.c.id == squadron.c.parent_id)
        .where(pupils.c.id == pupil_id)
    ).first()
    if row is None or row.status not in CURRENT_STATUSES:
        raise SignupRefused("只有在册队员可以报名", code="PUPIL_NOT_CURRENT")
    organiser = row.organiser
    if not (row.path == organiser or row.path.startswith(organiser + ".")):
        raise SignupRefused("这项活动只面向主办单位的队员", code="NOT_ELIGIBLE")
    if activity.grades and row.grade not in activity.grades:
        raise SignupRefused(f"这项活动只面向 {'、'.join(map(str, activity.grades))} 年级",
                            code="NOT_ELIGIBLE")  # fmt: skip
    if activity.area and row.area != activity.area:
        raise SignupRefused("这项活动只面向{}学校的队员".format("城镇" if activity.area == "urban" else "农村"),
                            code="NOT_ELIGIBLE")  # fmt: skip


def _hold(conn: Connection, activity: Any, signup_id: int, pupil_id: int,
          account_id: int | None = None) -> int | None:  # fmt: skip
    if activity.cost == 0:
        return None
    account = account_id if account_id is not None else ledger.pupil_account(conn, pupil_id)
    return ledger.hold(conn, f"activity:{activity.id}:signup:{signup_id}", account, activity.cost,
                       memo=activity.title)  # fmt: skip


def sign_up(conn: Connection, activity_id: int, pupil_id: int, *, by: str,
            now: dt.datetime | None = None) -> Signup:  # fmt: skip
    """Confirm (cost held) while places last, else waitlist; refused outside the window, for an
    ineligible pupil, twice, or without the points."""
    now = now or _now()
    activity = _locked(conn, activity_id)
    if activity.state != ActivityState.PUBLISHED:
        raise SignupRefused("这项活动不在报名中", code="NOT_OPEN")
    if not activity.signup_opens_at <= now <= activity.signup_closes_at:
        raise SignupRefused("不在报名时间内", code="OUTSIDE_WINDOW")
    _eligible(conn, activity, pupil_id)
    account_id, available = ledger.available_account(conn, AccountKind.PUPIL, pupil_id)
    if available < activity.cost:
        raise ledger.InsufficientPoints(f"积分不足：可用 {available}，需要 {activity.cost}")
    confirmed = activity.confirmed < activity.capacity
    # ON CONFLICT on the live sign-ups' unique index rather than a savepoint around a plain
    # INSERT: the same refusal in one statement instead of three.
    made = conn.execute(
        pg_insert(activity_signups)
        .values(activity_id=activity_id, pupil_id=pupil_id, signed_up_by=by,
                state=(SignupState.CONFIRMED if confirmed else SignupState.WAITLISTED).value)
        .on_conflict_do_nothing(index_elements=["activity_id", "pupil_id"],
                                index_where=LIVE_SIGNUP)
        .returning(activity_signups.c.id, activity_signups.c.created_at,
                   activity_signups.c.updated_at)
    ).first()  # fmt: skip
    if made is None:
        raise AlreadySignedUp()
    signup_id = int(made.id)
    if not confirmed:
        return Signup(signup_id, activity_id, pupil_id, SignupState.WAITLISTED,
                      _position(conn, activity_id, signup_id), made.created_at,
                      made.updated_at)  # fmt: skip
    hold_id = _hold(conn, activity, signup_id, pupil_id, account_id)
    conn.execute(
        update(activity_signups).where(activity_signups.c.id == signup_id).values(hold_id=hold_id)
    )
    conn.execute(
        update(activities)
        .where(activities.c.id == activity_id)
        .values(confirmed=activities.c.confirmed + 1)
    )
    return Signup(signup_id, activity_id, pupil_id, SignupState.CONFIRMED, None, made.created_at,
                  made.updated_at)  # fmt: skip


def _position(conn: Connection, activity_id: int, signup_id: int) -> int:
    return int(
        conn.execute(
            select(func.count()).where(
                activity_signups.c.activity_id == activity_id,
                activity_signups.c.state == SignupState.WAITLISTED.value,
                activity_signups.c.id <= signup_id,
            )
        ).scalar_one()
    )


def _promote(conn: Connection, activity: Any) -> None:
    """Give freed places to the waiting list in order; a pupil without the points lapses."""
    free = activity.capacity - activity.confirmed
    while free > 0:
        nxt = conn.execute(
            select(activity_signups.c.id, activity_signups.c.pupil_id)
            .where(activity_signups.c.activity_id == activity.id,
                   activity_signups.c.state == SignupState.WAITLISTED.value)
            .order_by(activity_signups.c.id)
            .limit(1)
        ).first()  # fmt: skip
        if nxt is None:
            return
        try:
            with conn.begin_nested():
                hold_id = _hold(conn, activity, nxt.id, nxt.pupil_id)
        except ledger.InsufficientPoints:
            conn.execute(update(activity_signups).where(activity_signups.c.id == nxt.id)
                         .values(state=SignupState.LAPSED.value, updated_at=func.now()))  # fmt: skip
            continue
        conn.execute(
            update(activity_signups).where(activity_signups.c.id == nxt.id)
            .values(state=SignupState.CONFIRMED.value, hold_id=hold_id, updated_at=func.now())
        )  # fmt: skip
        conn.execute(update(activities).where(activities.c.id == activity.id)
                     .values(confirmed=activities.c.confirmed + 1))  # fmt: skip
        free -= 1


def cancel_signup(conn: Connection, signup_id: int, *, now: dt.datetime | None = None) -> None:
    """The family withdraws before the deadline: the hold is released, the place moves on."""
    now = now or _now()
    found = conn.execute(select(activity_signups).where(activity_signups.c.id == signup_id)).first()
    if found is None:
        raise NotFound("没有这条报名", code="SIGNUP_NOT_FOUND")
    activity = _locked(conn, found.activity_id)
    row = conn.execute(
        select(activity_signups).where(activity_signups.c.id == signup_id).with_for_update()
    ).one()
    if row.state == SignupState.CANCELLED:
        return
    if row.state not in (SignupState.CONFIRMED, SignupState.WAITLISTED):
        raise SignupRefused("这条报名已结束，不能取消", code="NOT_CANCELLABLE")
    if activity.cancel_until is not None and now > activity.cancel_until:
        raise SignupRefused("已过取消报名的截止时间", code="TOO_LATE")
    if row.hold_id is not None:
        ledger.void_hold(conn, row.hold_id)
    conn.execute(update(activity_signups).where(activity_signups.c.id == signup_id)
                 .values(state=SignupState.CANCELLED.value, updated_at=func.now()))  # fmt: skip
    if row.state == SignupState.CONFIRMED:
        conn.execute(update(activities).where(activities.c.id == activity.id)
                     .values(confirmed=activities.c.confirmed - 1))  # fmt: skip
        _promote(conn, _locked(conn, activity.id))


def check_in(conn: Connection, activity_id: int, pupil_id: int, *, by: str) -> None:
    """Attended: the held cost goes to the activity, the reward to the pupil (each once)."""
    activity = _locked(conn, activity_id)
    if activity.state not in (ActivityState.PUBLISHED, ActivityState.CLOSED):
        raise SignupRefused("这项活动不能签到", code="NOT_OPEN")
    # The accounts this touches, in key order before any of them (as every posting locks them):
    # the pupil's, the activity's, and the pool the reward comes from.
    ledger.lock_accounts(
        conn,
        [
            ledger.pool(conn),
            ledger.pupil_account(conn, pupil_id),
            activity_account(conn, activity_id),
        ],
    )
    row = conn.execute(
        select(activity_signups)
        .where(activity_signups.c.activity_id == activity_id,
               activity_signups.c.pupil_id == pupil_id,
               activity_signups.c.state.in_([SignupState.CONFIRMED.value, SignupState.ATTENDED.value]))
        .with_for_update()
    ).first()  # fmt: skip
    if row is None:
        raise SignupRefused("这名队员没有确认的报名", code="NOT_SIGNED_UP")
    if row.state == SignupState.ATTENDED:
        return
    if row.hold_id is not None:
        ledger.post_hold(conn, row.hold_id, activity.cost, activity_account(conn, activity_id),
                         f"activity:{activity_id}:cost:{row.id}", by=by)  # fmt: skip
    if activity.reward:
        account = ledger.pupil_account(conn, pupil_id)
        ledger.post(conn, f"activity:{activity_id}:reward:{row.id}", "reward",
                    [(ledger.pool(conn), -activity.reward), (account, activity.reward)],
                    memo=activity.title, by=by)  # fmt: skip
    conn.execute(update(activity_signups).where(activity_signups.c.id == row.id)
                 .values(state=SignupState.ATTENDED.value, updated_at=func.now()))  # fmt: skip


def cancel_activity(conn: Connection, activity_id: int) -> bool:
    """Cancel an activity: no more sign-ups or check-ins; the refunds are `refund_signups`'
    (a job). False when it was cancelled already."""
    activity = _locked(conn, activity_id)
    if activity.state == ActivityState.CANCELLED:
        return False
    if activity.state == ActivityState.FINISHED:
        raise SignupRefused("已结束的活动不能取消", code="FINISHED")
    if conn.execute(
        select(func.count()).where(activity_signups.c.activity_id == activity_id,
                                   activity_signups.c.state == SignupState.ATTENDED.value)
    ).scalar_one():  # fmt: skip
        raise SignupRefused("已有队员签到，不能取消活动", code="ALREADY_ATTENDED")
    conn.execute(update(activities).where(activities.c.id == activity_id)
                 .values(state=ActivityState.CANCELLED.value, cancelled_at=func.now()))  # fmt: skip
    return True


def refund_signups(conn: Connection, activity_id: int) -> int:
    """Release every hold of a cancelled activity and mark its sign-ups refunded; returns how
    many holds were released now (a rerun releases nobody twice)."""
    activity = _locked(conn, activity_id)
    if activity.state != ActivityState.CANCELLED:
        raise SignupRefused("活动未取消", code="NOT_CANCELLED")
    refunded = 0
    for row in conn.execute(
        select(activity_signups.c.id, activity_signups.c.hold_id)
        .where(activity_signups.c.activity_id == activity_id,
               activity_signups.c.state.in_([SignupState.CONFIRMED.value, SignupState.WAITLISTED.value]))
        .order_by(activity_signups.c.id)
    ).all():  # fmt: skip
        if row.hold_id is not None and ledger.void_hold(conn, row.hold_id):
            refunded += 1
        conn.execute(update(activity_signups).where(activity_signups.c.id == row.id)
                     .values(state=SignupState.REFUNDED.value, updated_at=func.now()))  # fmt: skip
    conn.execute(update(activities).where(activities.c.id == activity_id).values(confirmed=0))
    return refunded


CHECKIN_EARLY = dt.timedelta(hours=1)


def check_in_with_code(conn: Connection, cipher: FieldCipher, activity_id: int, pupil_id: int,
                       code: str, *, by: str, now: dt.datetime | None = None) -> None:  # fmt: skip
    """A family checks its child in at the venue with the code shown there, during the
    activity (from an hour before it starts)."""
    now = now or _now()
    activity = _locked(conn, activity_id)
    if not activity.starts_at - CHECKIN_EARLY <= now <= activity.ends_at:
        raise SignupRefused("不在活动时间内，不能签到", code="OUTSIDE_ACTIVITY_TIME")
    check_code(conn, cipher, activity_id, code)
    check_in(conn, activity_id, pupil_id, by=by)
