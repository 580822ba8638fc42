"""Care through the API: a child in hardship taken into care, its carers, aid and visit log;
and volunteer projects from need to review. The rules live in `domain.care`.

A care record is read by the child's current carers (`care read own`: an account named on the
record) and the county admin (`care read subtree`), and by no one else whatever their reach
over the pupil: not the brigade's counselor, not the family. Reading the child's situation or
the visit log leaves a `reveal` entry in the county's audit log.

Volunteer projects are not personal data: every county staff role reads the published ones;
a need before it is published is seen by those who may raise or publish it there.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Annotated, Any

import strawberry
from sqlalchemy import Select, Table, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from authz.roles import Role
from authz.sql import scope_predicate
from domain.accounts.tables import role_assignments, users
from domain.care import service as rules
from domain.care.tables import (
    ProjectState,
    care_aid,
    care_carers,
    care_records,
    care_visits,
    volunteer_projects,
)
from domain.imports.common import uploader
from domain.org.tables import units
from domain.people.tables import pupils
from redscarf.errors import Forbidden, InvalidInput, NotFound, RedscarfError
from resolvers.county_work import in_county
from resolvers.paging import After, Before, First, Last, counter, fetch, page_of
from resolvers.pupils import caller_user_id, chosen_pupils
from schema.care import (
    AssignCarerInput,
    CareAid,
    CareKind,
    Carer,
    CareRecord,
    CareRecordConnection,
    CareRecordEdge,
    CareRecordPayload,
    CareVisit,
    ClaimVolunteerProjectInput,
    CloseCareInput,
    EndCarerInput,
    OpenCareInput,
    RaiseVolunteerNeedInput,
    RecordCareAidInput,
    RecordCareVisitInput,
    VolunteerProject,
    VolunteerProjectConnection,
    VolunteerProjectEdge,
    VolunteerProjectInput,
    VolunteerProjectPayload,
    VolunteerProjectState,
    VolunteerProjectTextInput,
)
from schema.context import Context
from schema.ids import encode_global_id, encode_key_cursor
from schema.user_errors import user_errors

# --- reading care records ----------------------------------------------------------------------

SQUADRON = units.alias("squadron")
SCHOOL = units.alias("school")


def _records_query() -> Select[Any]:
    """Care records with the child's name, grade, place (its squadron's path) and school, and
    the aid given in all."""
    aid = (
        select(func.coalesce(func.sum(care_aid.c.amount), 0))
        .where(care_aid.c.record_id == care_records.c.id)
        .scalar_subquery()
    )
    return (
        select(care_records, pupils.c.name.label("pupil_name"), pupils.c.grade,
               SQUADRON.c.path, SCHOOL.c.name.label("school"), aid.label("aid_total"))
        .join(pupils, pupils.c.id == care_records.c.pupil_id)
        .join(SQUADRON, SQUADRON.c.id == pupils.c.squadron_id)
        .outerjoin(SCHOOL, and_(SCHOOL.c.kind == "brigade",
                                SCHOOL.c.path.op("@>")(SQUADRON.c.path)))
    )  # fmt: skip


async def _readable(context: Context) -> Any:
    """The records the caller may read: those under the county admin's scope, and those of the
    children the caller cares for."""
    scope = await context.list_scope("care", "read")
    if scope.nothing:
        raise Forbidden()
    own = rules.cared_for_by(await caller_user_id(context))
    return scope_predicate(scope, SQUADRON.c.path, own=own)


def _record(row: Any, county: str) -> CareRecord:
    return CareRecord(
        id=strawberry.ID(encode_global_id("CareRecord", county, row.id)),
        row_id=row.id, pupil_id=row.pupil_id, county=county, note_text=row.note,
        kind=CareKind(row.kind),
        pupil_name=row.pupil_name, grade=row.grade, school=row.school,
        started_on=row.started_on, ended_on=row.ended_on, aid_total=f"{row.aid_total:.2f}",
    )  # fmt: skip


async def _readable_row(context: Context, pk: int | None) -> Any:
    """A record the caller may read, with whether the caller is one of its carers
    (`cared_for`: the `own` relation of its policy lines)."""
    if pk is None:
        return None
    cares = rules.cared_for_by(await caller_user_id(context))
    query = (
        _records_query()
        .add_columns(cares.label("cared_for"))
        .where(care_records.c.id == pk, await _readable(context))
    )
    async with context.session() as session:
        return (await session.execute(query)).first()


async def _record_row(context: Context, global_id: str) -> Any:
    """A record the caller may read; any other looks exactly like a missing one."""
    row = await _readable_row(context, await context.own_id("CareRecord", global_id))
    if row is None:
        raise NotFound("没有这条关爱记录", code="CARE_RECORD_NOT_FOUND")
    return row


async def care_record(
    info: Info[Context, None],
    id: Annotated[strawberry.ID, strawberry.argument(description="关爱记录的全局 ID。")],
) -> CareRecord | None:
    context = info.context
    await context.user()
    if (await context.list_scope("care", "read")).nothing:
        return None
    row = await _readable_row(context, await context.own_id("CareRecord", id))
    return _record(row, (await context.tenant()).code) if row else None


async def care_records_list(
    info: Info[Context, None],
    first: First = None,
    after: After = None,
    last: Last = None,
    before: Before = None,
    open_only: Annotated[
        bool, strawberry.argument(description="只列出仍在关爱的（默认）。")
    ] = True,
    kind: Annotated[CareKind | None, strawberry.argument(description="只列出该类别。")] = None,
    pupil_id: Annotated[
        strawberry.ID | None, strawberry.argument(description="只列出这名队员的。")
    ] = None,
) -> CareRecordConnection:
    context = info.context
    await context.user()
    page = page_of(first, after, last, before)
    clauses = [await _readable(context)]
    if open_only:
        clauses.append(care_records.c.ended_on.is_(None))
    if kind is not None:
        clauses.append(care_records.c.kind == kind.value)
    if pupil_id is not None:
        clauses.append(care_records.c.pupil_id == await context.own_id("Pupil", pupil_id))
    listed = _records_query().where(*clauses)
    fetched = await fetch(context.session, listed, care_records.c.id, page, newest_first=True)
    county = (await context.tenant()).code
    edges = [CareRecordEdge(cursor=encode_key_cursor(r.id), node=_record(r, county))
             for r in fetched.rows]  # fmt: skip
    return CareRecordConnection(
        edges=edges,
        page_info=fetched.page_info([e.cursor for e in edges]),
        count_all=counter(context.session, listed),
    )


async def record_note(context: Context, record: CareRecord) -> str | None:
    if record.note_text is not None:
        await context.reveals.load(("CareRecord", record.row_id, "note"))
    return record.note_text


# What belongs to a record, each in its order.
PARTS: dict[str, tuple[Table, tuple[Any, ...]]] = {
    "carers": (care_carers, (care_carers.c.id,)),
    "aid": (care_aid, (care_aid.c.on_date, care_aid.c.id)),
    "visits": (care_visits, (care_visits.c.visited_on.desc(), care_visits.c.id.desc())),
}


async def care_rows(session: AsyncSession, keys: Sequence[tuple[str, int]]) -> list[list[Any]]:
    """The rows of each (part, record) asked for: one query per part for a whole page. Only
    fields of a record the caller may read ask (the record was read under the rules above)."""
    found: dict[tuple[str, int], list[Any]] = defaultdict(list)
    for part in {p for p, _ in keys}:
        table, order = PARTS[part]
        ids = sorted({pk for p, pk in keys if p == part})
        for row in await session.execute(
            select(table).where(table.c.record_id.in_(ids)).order_by(*order)
        ):
            found[(part, row.record_id)].append(row)
    return [found[key] for key in keys]


async def carers_of(context: Context, record: CareRecord) -> list[Carer]:
    rows = await context.care_rows.load(("carers", record.row_id))
    return [Carer(id=strawberry.ID(str(r.id)), name=r.name, since=r.since, until=r.until)
            for r in rows]  # fmt: skip


async def aid_of(context: Context, record: CareRecord) -> list[CareAid]:
    rows = await context.care_rows.load(("aid", record.row_id))
    return [CareAid(id=strawberry.ID(str(r.id)), on_date=r.on_date, amount=f"{r.amount:.2f}",
                    source=r.source, note=r.note) for r in rows]  # fmt: skip


async def visits_of(context: Context, record: CareRecord) -> list[CareVisit]:
    rows = await context.care_rows.load(("visits", record.row_id))
    if rows:
        await context.reveals.load(("CareRecord", record.row_id, "visits"))
    return [CareVisit(id=strawberry.ID(str(r.id)), visited_on=r.visited_on,
                      volunteer=r.volunteer, what=r.what, needs=r.needs,
                      created_at=r.created_at) for r in rows]  # fmt: skip


# --- caring -----------------------------------------------------------------------------------


def _entry(pk: int, **details: Any) -> list[dict[str, Any]]:
    return [{"object_type": "CareRecord", "object_id": pk, "details": details or None}]


async def _payload(context: Context, pk: int) -> CareRecordPayload:
    row = await _readable_row(context, pk)
    record = _record(row, (await context.tenant()).code) if row else None
    return CareRecordPayload(record=record, user_errors=[])


async def _care(context: Context, global_id: str, work: Any, action: str,
                res: str = "care", **details: Any) -> CareRecordPayload:  # fmt: skip
    """One change to a record the caller may read and `res write` (the county admin; a carer
    for the visit log), audited."""
    row = await _record_row(context, global_id)
    await context.require(res, "write", row.path, "own" if row.cared_for else "")
    try:
        await in_county(context, lambda conn: work(conn, row), action,
                        lambda _: _entry(row.id, **details))  # fmt: skip
    except RedscarfError as exc:
        return CareRecordPayload(record=None, user_errors=user_errors(exc))
    return await _payload(context, row.id)


async def open_care(info: Info[Context, None], input: OpenCareInput) -> CareRecordPayload:
    context = info.context
    principal = await context.user()
    try:
        record = (await chosen_pupils(context, [input.pupil_id]))[0]
    except InvalidInput:
        raise NotFound("没有这名队员", code="PUPIL_NOT_FOUND") from None
    await context.require("care", "write", record.path)
    try:
        pk = await in_county(
            context,
            lambda conn: rules.open_care(conn, record.id, input.kind.value, input.note,
                                         by=uploader(principal), started_on=input.started_on),
            "openCare",
            lambda made: _entry(made, pupil=record.id, kind=input.kind.value),
        )  # fmt: skip
    except RedscarfError as exc:
        return CareRecordPayload(record=None, user_errors=user_errors(exc))
    return await _payload(context, pk)


async def close_care(info: Info[Context, None], input: CloseCareInput) -> CareRecordPayload:
    await info.context.user()
    return await _care(info.context, input.record_id,
                       lambda conn, row: rules.close_care(conn, row.id, on=input.ended_on),
                       "closeCare")  # fmt: skip


async def _carer_account(context: Context, assignment_id: str) -> Any:
    """The holder of a role in this county that may care for a child (the policy lets it read
    the records it cares for)."""
    tenant = await context.tenant()
    try:
        pk = int(assignment_id)
    except ValueError:
        pk = None

    def find(conn: Any) -> Any:
        return conn.execute(
            select(role_assignments.c.user_id, role_assignments.c.role, users.c.display_name)
            .join(users, users.c.id == role_assignments.c.user_id)
            .where(role_assignments.c.id == pk, role_assignments.c.county_code == tenant.code,
                   role_assignments.c.revoked_at.is_(None))
        ).first()  # fmt: skip

    found = await context.in_shared_transaction(find) if pk is not None else None
    if found is None:
        raise NotFound("没有这项角色授权", code="GRANT_NOT_FOUND")
    if not context.services.authorizer.reach(Role(found.role), "care", "read"):
        raise InvalidInput("关爱人须是本县（区）的工作人员（辅导员、志愿者）",
                           code="CARER_INELIGIBLE")  # fmt: skip
    return found


async def assign_carer(info: Info[Context, None], input: AssignCarerInput) -> CareRecordPayload:
    context = info.context
    await context.user()
    try:
        carer = await _carer_account(context, input.assignment_id)
    except InvalidInput as exc:
        return CareRecordPayload(record=None, user_errors=user_errors(exc, "assignmentId"))
    return await _care(
        context, input.record_id,
        lambda conn, row: rules.assign_carer(conn, row.id, carer.user_id, carer.display_name),
        "assignCarer", carer=carer.user_id,
    )  # fmt: skip


async def end_carer(info: Info[Context, None], input: EndCarerInput) -> CareRecordPayload:
    context = info.context
    await context.user()
    try:
        carer_pk = int(input.carer_id)
    except ValueError:
        carer_pk = 0

    def end(conn: Any, row: Any) -> None:
        user_id = conn.execute(
            select(care_carers.c.user_id).where(care_carers.c.id == carer_pk,
                                                care_carers.c.record_id == row.id)
        ).scalar()  # fmt: skip
        if user_id is None:
            raise NotFound("这条记录上没有这位关爱人", code="CARER_NOT_FOUND")
        rules.end_carer(conn, row.id, user_id)

    return await _care(context, input.record_id, end, "endCarer", carer=carer_pk)


async def record_care_aid(
    info: Info[Context, None], input: RecordCareAidInput
) -> CareRecordPayload:
    context = info.context
    principal = await context.user()
    return await _care(
        context, input.record_id,
        lambda conn, row: rules.record_aid(conn, row.id, input.on_date, input.amount,
                                           input.source, input.note, by=uploader(principal)),
        "recordCareAid", amount=input.amount, source=input.source,
    )  # fmt: skip


async def record_care_visit(
    info: Info[Context, None], input: RecordCareVisitInput
) -> CareRecordPayload:
    context = info.context
    principal = await context.user()
    return await _care(
        context, input.record_id,
        lambda conn, row: rules.record_visit(conn, row.id, input.visited_on, input.volunteer,
                                             input.what, input.needs, by=uploader(principal)),
        "recordCareVisit", "care_visit", visited_on=input.visited_on.isoformat(),
    )  # fmt: skip


# --- volunteer projects -------------------------------------------------------------------------


def _project(row: Any, county: str) -> VolunteerProject:
    return VolunteerProject(
        id=strawberry.ID(encode_global_id("VolunteerProject", county, row.id)),
        row_id=row.id, unit_id=row.unit_id, county=county, title=row.title, need=row.need,
        state=VolunteerProjectState(row.state), claimed_by=row.claimed_by,
        claimed_at=row.claimed_at, summary=row.summary, carried_out_at=row.carried_out_at,
        review=row.review, reviewed_at=row.reviewed_at, created_at=row.created_at,
    )  # fmt: skip


def _projects_query() -> Select[Any]:
    return select(volunteer_projects, units.c.path).join(
        units, units.c.id == volunteer_projects.c.unit_id
    )


async def _visible_projects(context: Context) -> Any:
    """Published projects (and on) for every reader; a need for those who may raise or publish
    it where it was raised."""
    await context.require("volunteer_project", "read")
    raisers = await context.list_scope("volunteer_project", "write")
    publishers = await context.list_scope("volunteer_project", "publish")
    return or_(
        volunteer_projects.c.state != ProjectState.NEED.value,
        scope_predicate(raisers, units.c.path),
        scope_predicate(publishers, units.c.path),
    )


async def _project_row(context: Context, global_id: str) -> Any:
    pk = await context.own_id("VolunteerProject", global_id)
    row = None
    if pk is not None:
        query = _projects_query().where(volunteer_projects.c.id == pk,
                                        await _visible_projects(context))  # fmt: skip
        async with context.session() as session:
            row = (await session.execute(query)).first()
    if row is None:
        raise NotFound("没有这个志愿服务项目", code="PROJECT_NOT_FOUND")
    return row


async def volunteer_project(
    info: Info[Context, None],
    id: Annotated[strawberry.ID, strawberry.argument(description="项目的全局 ID。")],
) -> VolunteerProject | None:
    context = info.context
    await context.user()
    if not await context.may("volunteer_project", "read"):
        return None
    try:
        row = await _project_row(context, id)
    except NotFound:
        return None
    return _project(row, (await context.tenant()).code)


async def volunteer_projects_list(
    info: Info[Context, None],
    first: First = None,
    after: After = None,
    last: Last = None,
    before: Before = None,
    state: Annotated[
        VolunteerProjectState | None,
        strawberry.argument(description="只列出该阶段（如 PUBLISHED：等待认领的）。"),
    ] = None,
) -> VolunteerProjectConnection:
    context = info.context
    await context.user()
    page = page_of(first, after, last, before)
    clauses = [await _visible_projects(context)]
    if state is not None:
        clauses.append(volunteer_projects.c.state == state.value)
    listed = _projects_query().where(*clauses)
    fetched = await fetch(context.session, listed, volunteer_projects.c.id, page, newest_first=True)
    county = (await context.tenant()).code
    edges = [VolunteerProjectEdge(cursor=encode_key_cursor(r.id), node=_project(r, county))
             for r in fetched.rows]  # fmt: skip
    return VolunteerProjectConnection(
        edges=edges,
        page_info=fetched.page_info([e.cursor for e in edges]),
        count_all=counter(context.session, listed),
    )


async def _project_payload(context: Context, pk: int) -> VolunteerProjectPayload:
    async with context.session() as session:
        row = (await session.execute(_projects_query().where(volunteer_projects.c.id == pk))).one()
    return VolunteerProjectPayload(project=_project(row, (await context.tenant()).code),
                                   user_errors=[])  # fmt: skip


def _project_entry(pk: int, **details: Any) -> list[dict[str, Any]]:
    return [{"object_type": "VolunteerProject", "object_id": pk, "details": details or None}]


async def raise_volunteer_need(
    info: Info[Context, None], input: RaiseVolunteerNeedInput
) -> VolunteerProjectPayload:
    context = info.context
    principal = await context.user()
    unit_pk = await context.own_id("Unit", input.unit_id)
    unit = await context.org.unit.load(unit_pk) if unit_pk is not None else None
    if unit is None or not await context.may("unit", "read", unit.path):
        raise NotFound("没有这个单位", code="UNIT_NOT_FOUND")
    await context.require("volunteer_project", "write", unit.path)
    try:
        pk = await in_county(
            context,
            lambda conn: rules.raise_need(conn, unit.id, input.title, input.need,
                                          by=uploader(principal)),
            "raiseVolunteerNeed",
            lambda made: _project_entry(made, title=input.title),
        )  # fmt: skip
    except RedscarfError as exc:
        return VolunteerProjectPayload(project=None, user_errors=user_errors(exc))
    return await _project_payload(context, pk)


async def _project_step(context: Context, global_id: str, to: ProjectState, action: str,
                        *, text: str | None = None) -> VolunteerProjectPayload:  # fmt: skip
    """One step of a project: publishing and reviewing by a publisher where it was raised;
    claiming by any staff role of the county, for a team; reporting it carried out by the
    account that claimed it, or a publisher."""
    user_id = await caller_user_id(context)
    row = await _project_row(context, global_id)
    if to == ProjectState.CLAIMED:
        await context.require("volunteer_project", "claim", row.path)
    elif not (to == ProjectState.CARRIED_OUT and user_id is not None
              and row.claimed_by_user == user_id):  # fmt: skip
        await context.require("volunteer_project", "publish", row.path)
    try:
        await in_county(
            context,
            lambda conn: rules.step(conn, row.id, to, text=text, user_id=user_id),
            action,
            lambda _: _project_entry(row.id, state=to.value),
        )
    except RedscarfError as exc:
        field = "team" if to == ProjectState.CLAIMED else "text"
        return VolunteerProjectPayload(project=None, user_errors=user_errors(exc, field))
    return await _project_payload(context, row.id)


async def publish_volunteer_project(
    info: Info[Context, None], input: VolunteerProjectInput
) -> VolunteerProjectPayload:
    await info.context.user()
    return await _project_step(info.context, input.id, ProjectState.PUBLISHED,
                               "publishVolunteerProject")  # fmt: skip


async def claim_volunteer_project(
    info: Info[Context, None], input: ClaimVolunteerProjectInput
) -> VolunteerProjectPayload:
    await info.context.user()
    return await _project_step(info.context, input.id, ProjectState.CLAIMED,
                               "claimVolunteerProject", text=input.team)  # fmt: skip


async def report_volunteer_project(
    info: Info[Context, None], input: VolunteerProjectTextInput
) -> VolunteerProjectPayload:
    await info.context.user()
    return await _project_step(info.context, input.id, ProjectState.CARRIED_OUT,
                               "reportVolunteerProject", text=input.text)  # fmt: skip


async def review_volunteer_project(
    info: Info[Context, None], input: VolunteerProjectTextInput
) -> VolunteerProjectPayload:
    await info.context.user()
    return await _project_step(info.context, input.id, ProjectState.REVIEWED,
                               "reviewVolunteerProject", text=input.text)  # fmt: skip
