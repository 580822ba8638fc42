"""Activities through the API: organising (create, update, publish, close, finish, cancel),
signing up (a guardian for a bound child, a counselor for a group), attendance and reach.

The rules live in `domain.activities`; here: who may, which pupils the caller reaches, one
county transaction with its audit entries, and the answers. Activities are not personal data:
every county role reads the published ones; drafts and whole sign-up lists are their
organisers' (`activity write` at the organising unit).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Annotated, Any

import strawberry
from sqlalchemy import Select, case, cast, func, literal, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import SmallInteger
from strawberry.types import Info

from authz.principal import COUNTY_ROOT
from authz.sql import scope_predicate
from domain.activities import reach as reach_rules
from domain.activities import service as rules
from domain.activities.tables import ActivityState as DomainState
from domain.activities.tables import SignupState as DomainSignupState
from domain.activities.tables import activities, activity_signups
from domain.imports.common import uploader
from domain.org.tables import units
from domain.types import LTree
from redscarf.errors import Forbidden, InvalidInput, NotFound, RedscarfError
from resolvers.county_work import in_county
from resolvers.paging import (
    After,
    Before,
    Fetched,
    First,
    Last,
    Page,
    count_many,
    counter,
    fetch,
    fetch_many,
    page_of,
)
from resolvers.people import PupilRecord, pupil_ids_in, pupils_by_ids
from resolvers.pupils import bound_rel, caller_user_id, chosen_pupils
from schema.activities import (
    Activity,
    ActivityConnection,
    ActivityEdge,
    ActivityInput,
    ActivityPayload,
    ActivityReach,
    ActivitySignup,
    ActivitySignupConnection,
    ActivitySignupEdge,
    ActivityState,
    AreaReach,
    CancelActivityPayload,
    CancelSignupInput,
    CheckinCodePayload,
    CheckInInput,
    CheckInWithCodeInput,
    CreateActivityInput,
    FinishActivityPayload,
    Served,
    SignUpForActivityInput,
    SignupPayload,
    SignupsPayload,
    SignupState,
    TownshipReach,
    UpdateActivityInput,
)
from schema.context import Context
from schema.ids import encode_global_id, encode_key_cursor
from schema.org import Area, Unit
from schema.user_errors import user_errors
from workers.outbox import enqueue

MAX_GROUP = 500
FIELDS = ("title", "description", "place", "starts_at", "ends_at", "signup_opens_at",
          "signup_closes_at", "cancel_until", "capacity", "grades", "area", "cost", "reward",
          "no_show_keeps_cost")  # fmt: skip


# --- reading -----------------------------------------------------------------------------------


def _activity_query() -> Select[Any]:
    waiting = (
        select(func.count())
        .where(
            activity_signups.c.activity_id == activities.c.id,
            activity_signups.c.state == DomainSignupState.WAITLISTED.value,
        )
        .scalar_subquery()
    )
    return select(
        activities, waiting.label("waitlisted"), units.c.path.label("organiser_path")
    ).join(units, units.c.id == activities.c.unit_id)


async def _visible_filter(context: Context) -> Any:
    """Published activities for every reader; drafts for their organisers."""
    writers = await context.list_scope("activity", "write")
    return or_(activities.c.state != DomainState.DRAFT.value,
               scope_predicate(writers, units.c.path))  # fmt: skip


async def activities_by_id(context: Context, ids: Sequence[int]) -> list[Activity | None]:
    """Activities the caller may see, in the order of `ids` (None for the rest)."""
    if not await context.may("activity", "read"):
        return [None] * len(ids)
    county = (await context.tenant()).code
    async with context.session() as session:
        rows = (
            await session.execute(
                _activity_query().where(
                    activities.c.id.in_(list(ids)), await _visible_filter(context)
                )
            )
        ).all()
    found = {r.id: Activity.from_row(r, county) for r in rows}
    return [found.get(pk) for pk in ids]


async def _row(context: Context, global_id: str) -> Any:
    """An activity the caller may see (with its organiser's path), or ACTIVITY_NOT_FOUND."""
    pk = await context.own_id("Activity", global_id)
    row = None
    if pk is not None and await context.may("activity", "read"):
        async with context.session() as session:
            row = (
                await session.execute(
                    _activity_query().where(activities.c.id == pk, await _visible_filter(context))
                )
            ).first()
    if row is None:
        raise NotFound("没有这项活动", code="ACTIVITY_NOT_FOUND")
    return row


async def activity(
    info: Info[Context, None],
    id: Annotated[strawberry.ID, strawberry.argument(description="活动的全局 ID。")],
) -> Activity | None:
    pk = await info.context.own_id("Activity", id)
    return await info.context.activities.load(pk) if pk is not None else None


async def activities_list(
    info: Info[Context, None],
    first: First = None,
    after: After = None,
    last: Last = None,
    before: Before = None,
    state: Annotated[
        ActivityState | None, strawberry.argument(description="只列出该状态。")
    ] = None,
    organiser_id: Annotated[
        strawberry.ID | None,
        strawberry.argument(description="只列出该单位及其下级组织的活动。"),
    ] = None,
    for_pupil: Annotated[
        strawberry.ID | None,
        strawberry.argument(
            description="只列出这名队员能报名的活动（已发布、面向其单位、年级和城乡；家长用）。"
        ),
    ] = None,
) -> ActivityConnection:
    context = info.context
    await context.user()
    await context.require("activity", "read")
    page = page_of(first, after, last, before)
    clauses = [await _visible_filter(context)]
    if state is not None:
        clauses.append(activities.c.state == state.value)
    if organiser_id is not None:
        organiser = await _unit(context, organiser_id)
        clauses.append(units.c.path.op("<@")(cast(organiser.path, LTree)))
    if for_pupil is not None:
        record = (await chosen_pupils(context, [for_pupil]))[0]
        clauses.extend(await _open_to(context, record))
    listed = _activity_query().where(*clauses)
    fetched = await fetch(context.session, listed, activities.c.id, page, newest_first=True)
    county = (await context.tenant()).code
    edges = [
        ActivityEdge(cursor=encode_key_cursor(r.id), node=Activity.from_row(r, county))
        for r in fetched.rows
    ]
    return ActivityConnection(
        edges=edges,
        page_info=fetched.page_info([e.cursor for e in edges]),
        count_all=counter(context.session, listed),
    )


async def _open_to(context: Context, record: PupilRecord) -> list[Any]:
    """Activities a pupil could sign up for: published, organised above its place, of its
    grade and its school's area."""
    async with context.session() as session:
        area = (
            await session.execute(
                select(units.c.area).where(units.c.kind == "brigade",
                                           units.c.path.op("@>")(cast(record.path, LTree)))
            )
        ).scalar()  # fmt: skip
    return [
        activities.c.state == DomainState.PUBLISHED.value,
        units.c.path.op("@>")(cast(record.path, LTree)),
        or_(activities.c.grades.is_(None),
            activities.c.grades.contains(cast([record.grade], ARRAY(SmallInteger)))),
        or_(activities.c.area.is_(None), activities.c.area == literal(area)),
    ]  # fmt: skip


def _signup_query() -> Select[Any]:
    waiting = activity_signups.alias("waiting")
    position = (
        select(func.count())
        .where(
            waiting.c.activity_id == activity_signups.c.activity_id,
            waiting.c.state == DomainSignupState.WAITLISTED.value,
            waiting.c.id <= activity_signups.c.id,
        )
        .scalar_subquery()
    )
    return select(
        activity_signups,
        case((activity_signups.c.state == DomainSignupState.WAITLISTED.value, position)).label(
            "position"
        ),
    )


def _signup(row: Any, county: str) -> ActivitySignup:
    return ActivitySignup(
        id=strawberry.ID(encode_global_id("ActivitySignup", county, row.id)),
        row_id=row.id, pupil_id=row.pupil_id, activity_id=row.activity_id,
        state=SignupState(row.state), position=row.position, created_at=row.created_at,
        updated_at=row.updated_at,
    )  # fmt: skip


async def _pupil_filter(context: Context) -> Any:
    """Sign-ups of the pupils the caller sees (by place, or a guardian's binding)."""
    scope = await context.list_scope("pupil", "read")
    return activity_signups.c.pupil_id.in_(pupil_ids_in(scope, await caller_user_id(context)))


SignupList = tuple[SignupState | None, bool]
"""Which sign-ups of an activity a caller lists: of one state or all, and only those of the
pupils the caller sees (True) or all (the activity's organisers)."""


async def signups_of_activity(
    context: Context, found: Activity, page: Page[int], state: SignupState | None
) -> ActivitySignupConnection:
    """The whole list for its organisers; the rest see the sign-ups of the pupils they see.
    The sign-ups of every activity of a page are read together (`_signup_pages`)."""
    record = await context.org.unit.load(found.unit_id)
    limited = record is None or not await context.may("activity", "write", record.path)
    which: SignupList = (state, limited)
    fetched = await context.loader("signup_pages", partial(_signup_pages, context)).load(
        (found.row_id, page, which)
    )
    edges = [
        ActivitySignupEdge(cursor=encode_key_cursor(r.id), node=_signup(r, found.county))
        for r in fetched.rows
    ]
    counts = context.loader("signup_counts", partial(_signup_counts, context))
    return ActivitySignupConnection(
        edges=edges,
        page_info=fetched.page_info([e.cursor for e in edges]),
        count_all=partial(counts.load, (found.row_id, which)),
    )


async def _listed_signups(context: Context, which: SignupList, *columns: Any) -> Select[Any]:
    """The sign-ups `which` asks for (with `columns`, else all and the waiting position)."""
    state, limited = which
    clauses = [await _pupil_filter(context)] if limited else []
    if state is not None:
        clauses.append(activity_signups.c.state == state.value)
    return (select(*columns) if columns else _signup_query()).where(*clauses)


async def _signup_pages(
    context: Context, keys: list[tuple[int, Page[int], SignupList]]
) -> list[Fetched[Any]]:
    return await fetch_many(context.session, keys, partial(_listed_signups, context),
                            activity_signups.c.id, activity_signups.c.activity_id)  # fmt: skip


async def _signup_counts(context: Context, keys: list[tuple[int, SignupList]]) -> list[int]:
    async def listed(which: SignupList) -> Select[Any]:
        return await _listed_signups(context, which, activity_signups.c.activity_id)

    return await count_many(context.session, keys, listed, activity_signups.c.activity_id)


async def signups_of_pupils(context: Context, ids: Sequence[int]) -> list[list[ActivitySignup]]:
    """`Pupil.activitySignups` (the pupil is already one the caller sees), newest first."""
    county = (await context.tenant()).code
    async with context.session() as session:
        rows = (
            await session.execute(
                _signup_query()
                .where(activity_signups.c.pupil_id.in_(list(ids)))
                .order_by(activity_signups.c.id.desc())
            )
        ).all()
    by_pupil: dict[int, list[ActivitySignup]] = defaultdict(list)
    for r in rows:
        by_pupil[r.pupil_id].append(_signup(r, county))
    return [by_pupil[pk] for pk in ids]


async def _signups(context: Context, ids: Sequence[int]) -> list[ActivitySignup]:
    county = (await context.tenant()).code
    async with context.session() as session:
        rows = (
            await session.execute(_signup_query().where(activity_signups.c.id.in_(list(ids))))
        ).all()
    found = {r.id: _signup(r, county) for r in rows}
    return [found[pk] for pk in ids if pk in found]


# --- reach -------------------------------------------------------------------------------------


def percent(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


async def townships_reached(
    context: Context, rows: Sequence[tuple[int, int, int, int]]
) -> list[TownshipReach]:
    """(unit id, pupils served, person-times, current pupils) of each township as the API
    shows them; the unit only to who may read it (the operator's aggregates are nameless)."""
    county = (await context.tenant()).code
    records = await context.org.unit.load_many([row[0] for row in rows])
    found = []
    for (_, served, times, current), record in zip(rows, records, strict=True):
        if record is not None:
            readable = await context.may("unit", "read", record.path)
            found.append(TownshipReach(
                unit=Unit.from_record(record, county) if readable else None,
                served=Served(pupils=served, person_times=times),
                current_pupils=current,
                reached_percent=percent(served, current),
            ))  # fmt: skip
    return found


def areas_reached(by_area: Mapping[str, tuple[int, int]]) -> list[AreaReach]:
    """(pupils served, person-times) by urban/rural as the API shows them."""
    return [
        AreaReach(area=Area(a) if a in ("urban", "rural") else None,
                  served=Served(pupils=n, person_times=times))
        for a, (n, times) in sorted(by_area.items())
    ]  # fmt: skip


async def activity_reach(
    info: Info[Context, None],
    unit_id: Annotated[
        strawberry.ID | None,
        strawberry.argument(description="统计该单位之下的队员；不填为全县（区）。"),
    ] = None,
    start: Annotated[
        dt.date | None, strawberry.argument(name="from", description="起始日期（含）。")
    ] = None,
    end: Annotated[
        dt.date | None, strawberry.argument(name="to", description="截止日期（含）。")
    ] = None,
) -> ActivityReach:
    context = info.context
    await context.user()
    path = COUNTY_ROOT if unit_id is None else (await _unit(context, unit_id)).path
    await context.require("statistics", "read", path)
    if start is not None and end is not None and end < start:
        raise InvalidInput("截止日期不能早于起始日期", code="INVALID_PERIOD")
    async with context.session() as session:
        conn = await session.connection()
        found = await conn.run_sync(lambda c: reach_rules.reach(c, path, start, end))
    townships = await townships_reached(context, [
        (t.unit_id, t.served.pupils, t.served.person_times, t.current_pupils)
        for t in found.by_township])  # fmt: skip
    return ActivityReach(
        activities=found.activities,
        served=Served(pupils=found.served.pupils, person_times=found.served.person_times),
        current_pupils=found.current_pupils,
        reached_percent=percent(found.served.pupils, found.current_pupils),
        by_township=townships,
        by_area=areas_reached({a: (s.pupils, s.person_times) for a, s in found.by_area.items()}),
    )


# --- organising --------------------------------------------------------------------------------


async def _unit(context: Context, global_id: str) -> Any:
    pk = await context.own_id("Unit", global_id)
    record = await context.org.unit.load(pk) if pk is not None else None
    if record is None or not await context.may("unit", "read", record.path):
        raise NotFound("没有这个单位", code="UNIT_NOT_FOUND")
    return record


def _activity_entry(pk: int, **details: Any) -> list[dict[str, Any]]:
    return [{"object_type": "Activity", "object_id": pk, "details": details or None}]


def _payload(exc: RedscarfError, field: str | None = None) -> ActivityPayload:
    return ActivityPayload(activity=None, user_errors=user_errors(exc, field))


async def _fresh(context: Context, pk: int) -> Activity | None:
    return (await activities_by_id(context, [pk]))[0]


async def create_activity(info: Info[Context, None], input: CreateActivityInput) -> ActivityPayload:
    context = info.context
    principal = await context.user()
    organiser = await _unit(context, input.organiser_id)
    await context.require("activity", "write", organiser.path)
    values = {name: getattr(input, name) for name in FIELDS}
    values["area"] = input.area.value if input.area else None
    try:
        pk = await in_county(
            context,
            lambda conn: rules.create_activity(conn, organiser.id, values, by=uploader(principal)),
            "createActivity",
            lambda made: _activity_entry(made, title=input.title),
        )
    except RedscarfError as exc:
        return _payload(exc)
    return ActivityPayload(activity=await _fresh(context, pk), user_errors=[])


async def _organised(context: Context, global_id: str) -> Any:
    """An activity the caller organises (may write at its unit)."""
    row = await _row(context, global_id)
    await context.require("activity", "write", row.organiser_path)
    return row


async def update_activity(info: Info[Context, None], input: UpdateActivityInput) -> ActivityPayload:
    context = info.context
    await context.user()
    row = await _organised(context, input.id)
    values = {name: getattr(input, name) for name in FIELDS if getattr(input, name) is not None}
    if input.area is not None:
        values["area"] = input.area.value
    try:
        await in_county(
            context,
            lambda conn: rules.update_activity(conn, row.id, values),
            "updateActivity",
            lambda _: [{"object_type": "Activity", "object_id": row.id, "fields": sorted(values)}],
        )
    except RedscarfError as exc:
        return _payload(exc)
    return ActivityPayload(activity=await _fresh(context, row.id), user_errors=[])


async def _step(context: Context, global_id: str, step: Any, action: str) -> ActivityPayload:
    """One step of an activity's life (`step(conn, id)`) by its organiser, audited."""
    await context.user()
    row = await _organised(context, global_id)
    try:
        await in_county(context, lambda conn: step(conn, row.id), action,
                        lambda _: _activity_entry(row.id))  # fmt: skip
    except RedscarfError as exc:
        return _payload(exc)
    return ActivityPayload(activity=await _fresh(context, row.id), user_errors=[])


async def publish_activity(info: Info[Context, None], input: ActivityInput) -> ActivityPayload:
    return await _step(info.context, input.id, rules.publish_activity, "publishActivity")


async def close_activity_signup(info: Info[Context, None], input: ActivityInput) -> ActivityPayload:
    return await _step(info.context, input.id, rules.close_signup, "closeActivitySignup")


async def finish_activity(info: Info[Context, None], input: ActivityInput) -> FinishActivityPayload:
    context = info.context
    principal = await context.user()
    row = await _organised(context, input.id)
    try:
        done = await in_county(
            context,
            lambda conn: rules.finish_activity(conn, row.id, by=uploader(principal)),
            "finishActivity",
            lambda d: _activity_entry(row.id, attended=d.attended, no_shows=d.no_shows),
        )
    except RedscarfError as exc:
        return FinishActivityPayload(activity=None, attended=None, no_shows=None,
                                     user_errors=user_errors(exc))  # fmt: skip
    return FinishActivityPayload(
        activity=await _fresh(context, row.id), attended=done.attended, no_shows=done.no_shows,
        user_errors=[],
    )  # fmt: skip


async def cancel_activity(info: Info[Context, None], input: ActivityInput) -> CancelActivityPayload:
    """Cancelled at once (no more sign-ups); every hold is released by the `refund_activity`
    job, enqueued in the same transaction (and again, harmlessly, when asked again)."""
    context = info.context
    await context.user()
    row = await _organised(context, input.id)
    county = (await context.tenant()).code

    def work(conn: Any) -> Any:
        rules.cancel_activity(conn, row.id)
        return enqueue(conn, "refund_activity", county_code=county, args={"activity_id": row.id},
                       dedup_key=f"refund-activity:{row.id}")  # fmt: skip

    try:
        job = await in_county(context, work, "cancelActivity", lambda _: _activity_entry(row.id))
    except RedscarfError as exc:
        return CancelActivityPayload(activity=None, job_id=None, user_errors=user_errors(exc))
    return CancelActivityPayload(
        activity=await _fresh(context, row.id), job_id=strawberry.ID(str(job)), user_errors=[]
    )


# --- signing up and attending ------------------------------------------------------------------


async def sign_up_for_activity(
    info: Info[Context, None], input: SignUpForActivityInput
) -> SignupsPayload:
    context = info.context
    principal = await context.user()
    row = await _row(context, input.activity_id)
    try:
        chosen = await chosen_pupils(context, input.pupil_ids)
    except InvalidInput as exc:
        return SignupsPayload(signups=[], user_errors=user_errors(exc, "pupilIds"))
    for record in chosen:
        await context.require("signup", "write", record.path, bound_rel(record))
    by = uploader(principal)
    try:
        made = await in_county(
            context,
            lambda conn: [rules.sign_up(conn, row.id, p.id, by=by) for p in chosen],
            "signUpForActivity",
            lambda done: [{"object_type": "ActivitySignup", "object_id": s.id,
                           "details": {"activity": row.id, "pupil": p.id, "state": s.state.value}}
                          for s, p in zip(done, chosen, strict=True)],
        )  # fmt: skip
    except RedscarfError as exc:
        return SignupsPayload(signups=[], user_errors=user_errors(exc))
    # The answer is what the transaction made, not a read of it again (one county transaction
    # less per sign-up; the same fields, as stored).
    county = (await context.tenant()).code
    return SignupsPayload(signups=[_signup(s, county) for s in made], user_errors=[])


async def _signup_row(context: Context, global_id: str) -> tuple[Any, PupilRecord]:
    pk = await context.own_id("ActivitySignup", global_id)
    row = None
    if pk is not None:
        async with context.session() as session:
            row = (
                await session.execute(select(activity_signups).where(activity_signups.c.id == pk))
            ).first()
    records = await _visible_records(context, [row.pupil_id]) if row is not None else {}
    if row is None or row.pupil_id not in records:
        raise NotFound("没有这条报名", code="SIGNUP_NOT_FOUND")
    return row, records[row.pupil_id]


async def _visible_records(context: Context, ids: list[int]) -> dict[int, PupilRecord]:
    async with context.session() as session:
        return await pupils_by_ids(session, await context.list_scope("pupil", "read"), ids,
                                   user_id=await caller_user_id(context))  # fmt: skip


async def cancel_activity_signup(
    info: Info[Context, None], input: CancelSignupInput
) -> SignupPayload:
    context = info.context
    await context.user()
    row, record = await _signup_row(context, input.signup_id)
    await context.require("signup", "write", record.path, bound_rel(record))
    try:
        await in_county(
            context,
            lambda conn: rules.cancel_signup(conn, row.id),
            "cancelActivitySignup",
            lambda _: [{"object_type": "ActivitySignup", "object_id": row.id,
                        "details": {"activity": row.activity_id}}],
        )  # fmt: skip
    except RedscarfError as exc:
        return SignupPayload(signup=None, user_errors=user_errors(exc))
    return SignupPayload(signup=(await _signups(context, [row.id]))[0], user_errors=[])


async def _attendance(
    context: Context, activity_gid: str, pupil_gid: str
) -> tuple[Any, PupilRecord]:
    row = await _row(context, activity_gid)
    try:
        record = (await chosen_pupils(context, [pupil_gid]))[0]
    except InvalidInput:
        raise NotFound("没有这名队员", code="PUPIL_NOT_FOUND") from None
    return row, record


async def _checked_in(context: Context, row: Any, record: PupilRecord) -> SignupPayload:
    async with context.session() as session:
        pk = (
            await session.execute(
                select(activity_signups.c.id).where(
                    activity_signups.c.activity_id == row.id,
                    activity_signups.c.pupil_id == record.id,
                    activity_signups.c.state == DomainSignupState.ATTENDED.value,
                )
            )
        ).scalar_one()
    return SignupPayload(signup=(await _signups(context, [pk]))[0], user_errors=[])


def _checkin_entry(row: Any, record: PupilRecord, how: str) -> list[dict[str, Any]]:
    return [{"object_type": "Activity", "object_id": row.id,
             "details": {"pupil": record.id, "how": how}}]  # fmt: skip


async def check_in_pupil(info: Info[Context, None], input: CheckInInput) -> SignupPayload:
    context = info.context
    principal = await context.user()
    row, record = await _attendance(context, input.activity_id, input.pupil_id)
    # The organisers, or the counselors who bring their own pupils (never by a binding alone:
    # a family checks in with the code shown at the venue).
    if not (await context.may("attendance", "write", row.organiser_path)
            or await context.may("attendance", "write", record.path)):  # fmt: skip
        raise Forbidden()
    try:
        await in_county(
            context,
            lambda conn: rules.check_in(conn, row.id, record.id, by=uploader(principal)),
            "checkInPupil",
            lambda _: _checkin_entry(row, record, "counselor"),
        )
    except RedscarfError as exc:
        return SignupPayload(signup=None, user_errors=user_errors(exc))
    return await _checked_in(context, row, record)


async def issue_checkin_code(info: Info[Context, None], input: ActivityInput) -> CheckinCodePayload:
    context = info.context
    await context.user()
    row = await _row(context, input.id)
    await context.require("attendance", "write", row.organiser_path)
    cipher = context.services.keys.cipher
    try:
        code = await in_county(
            context,
            lambda conn: rules.issue_checkin_code(conn, cipher, row.id),
            "issueCheckinCode",
            lambda _: _activity_entry(row.id),
        )
    except RedscarfError as exc:
        return CheckinCodePayload(code=None, user_errors=user_errors(exc))
    return CheckinCodePayload(code=code, user_errors=[])


async def check_in_with_code(
    info: Info[Context, None], input: CheckInWithCodeInput
) -> SignupPayload:
    context = info.context
    principal = await context.user()
    row, record = await _attendance(context, input.activity_id, input.pupil_id)
    await context.require("attendance", "write", record.path, bound_rel(record))
    cipher = context.services.keys.cipher
    try:
        await in_county(
            context,
            lambda conn: rules.check_in_with_code(conn, cipher, row.id, record.id, input.code,
                                                  by=uploader(principal)),
            "checkInWithCode",
            lambda _: _checkin_entry(row, record, "code"),
        )  # fmt: skip
    except RedscarfError as exc:
        return SignupPayload(signup=None, user_errors=user_errors(exc, "code"))
    return await _checked_in(context, row, record)


async def signup(
    info: Info[Context, None],
    id: Annotated[strawberry.ID, strawberry.argument(description="报名的全局 ID。")],
) -> ActivitySignup | None:
    """A sign-up of a pupil the caller sees (`node(id:)`)."""
    try:
        row, _ = await _signup_row(info.context, id)
    except NotFound:
        return None
    return (await _signups(info.context, [row.id]))[0]
