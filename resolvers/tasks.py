"""Collection tasks through the API: organising (create, update, publish, close), a family
submitting a child's work or answers or recording a lesson completed, and the counselor's
review queue. The rules live in `domain.tasks`.

Tasks are not personal data: every county role reads the published ones, drafts are their
organisers'. What a child submitted is: the family (`submission write` bound) and the
counselors who review the pupil (`submission read`/`review` in their subtree) see it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from functools import partial
from typing import Annotated, Any

import strawberry
from sqlalchemy import Select, cast, or_, select
from strawberry.types import Info

from authz.sql import scope_predicate
from domain.imports.common import uploader
from domain.org.tables import units
from domain.tasks import service as rules
from domain.tasks.tables import TaskState as DomainState
from domain.tasks.tables import task_submissions, tasks
from domain.types import LTree
from redscarf.errors import Forbidden, InvalidInput, NotFound, RedscarfError
from resolvers.badges import badge_by_id
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
from resolvers.people import pupil_ids_in
from resolvers.pupils import bound_rel, caller_user_id, chosen_pupils
from schema.badges import Badge
from schema.context import Context
from schema.ids import encode_global_id, encode_key_cursor
from schema.tasks import (
    CollectionTask,
    CollectionTaskConnection,
    CollectionTaskEdge,
    CollectionTaskInput,
    CollectionTaskPayload,
    CompleteLessonInput,
    CreateCollectionTaskInput,
    QuestionKind,
    ReviewTaskSubmissionInput,
    SubmissionState,
    SubmitTaskWorkInput,
    TaskAnswer,
    TaskKind,
    TaskQuestion,
    TaskQuestionInput,
    TaskState,
    TaskSubmission,
    TaskSubmissionConnection,
    TaskSubmissionEdge,
    TaskSubmissionPayload,
    UpdateCollectionTaskInput,
)
from schema.user_errors import user_errors

# --- reading tasks -----------------------------------------------------------------------------


def _task(row: Any, county: str) -> CollectionTask:
    return CollectionTask(
        id=strawberry.ID(encode_global_id("CollectionTask", county, row.id)),
        row_id=row.id, unit_id=row.unit_id, badge_id=row.badge_id, county=county,
        kind=TaskKind(row.kind), title=row.title, description=row.description,
        content_url=row.content_url,
        questions=[TaskQuestion(key=q["key"], label=q["label"], kind=QuestionKind(q["kind"]),
                                choices=q["choices"], required=q["required"])
                   for q in row.questions] if row.questions else None,
        grades=list(row.grades) if row.grades else None, opens_at=row.opens_at,
        closes_at=row.closes_at, reward=row.reward, state=TaskState(row.state),
        created_at=row.created_at,
    )  # fmt: skip


def _tasks_query() -> Select[Any]:
    return select(tasks, units.c.path.label("organiser_path")).join(
        units, units.c.id == tasks.c.unit_id
    )


async def _visible(context: Context) -> Any:
    """Published and closed tasks for every reader; drafts for their organisers."""
    writers = await context.list_scope("task", "write")
    return or_(tasks.c.state != DomainState.DRAFT.value, scope_predicate(writers, units.c.path))


async def _visible_task(context: Context, pk: int | None) -> Any:
    """A task the caller may read (drafts: its organisers), or None."""
    if pk is None or not await context.may("task", "read"):
        return None
    async with context.session() as session:
        return (
            await session.execute(_tasks_query().where(tasks.c.id == pk, await _visible(context)))
        ).first()


async def _task_row(context: Context, global_id: str) -> Any:
    row = await _visible_task(context, await context.own_id("CollectionTask", global_id))
    if row is None:
        raise NotFound("没有这项征集任务", code="TASK_NOT_FOUND")
    return row


async def task_by_id(context: Context, pk: int) -> CollectionTask | None:
    row = await _visible_task(context, pk)
    return _task(row, (await context.tenant()).code) if row else None


async def collection_task(
    info: Info[Context, None],
    id: Annotated[strawberry.ID, strawberry.argument(description="征集任务的全局 ID。")],
) -> CollectionTask | None:
    try:
        row = await _task_row(info.context, id)
    except NotFound:
        return None
    return _task(row, (await info.context.tenant()).code)


async def collection_tasks(
    info: Info[Context, None],
    first: First = None,
    after: After = None,
    last: Last = None,
    before: Before = None,
    state: Annotated[TaskState | None, strawberry.argument(description="只列出该状态。")] = None,
    kind: Annotated[TaskKind | None, strawberry.argument(description="只列出该类型。")] = None,
    for_pupil: Annotated[
        strawberry.ID | None,
        strawberry.argument(description="只列出这名队员能参加的（进行中、面向其单位和年级）。"),
    ] = None,
) -> CollectionTaskConnection:
    context = info.context
    await context.user()
    await context.require("task", "read")
    page = page_of(first, after, last, before)
    clauses = [await _visible(context)]
    if state is not None:
        clauses.append(tasks.c.state == state.value)
    if kind is not None:
        clauses.append(tasks.c.kind == kind.value)
    if for_pupil is not None:
        record = (await chosen_pupils(context, [for_pupil]))[0]
        clauses += [
            tasks.c.state == DomainState.PUBLISHED.value,
            units.c.path.op("@>")(cast(record.path, LTree)),
            or_(tasks.c.grades.is_(None), tasks.c.grades.any_() == record.grade),
        ]
    listed = _tasks_query().where(*clauses)
    fetched = await fetch(context.session, listed, tasks.c.id, page, newest_first=True)
    county = (await context.tenant()).code
    edges = [
        CollectionTaskEdge(cursor=encode_key_cursor(r.id), node=_task(r, county))
        for r in fetched.rows
    ]
    return CollectionTaskConnection(
        edges=edges,
        page_info=fetched.page_info([e.cursor for e in edges]),
        count_all=counter(context.session, listed),
    )


async def badge_of_task(context: Context, task: CollectionTask) -> Badge | None:
    if task.badge_id is None:
        return None
    return await badge_by_id(context, task.badge_id)


# --- reading submissions -----------------------------------------------------------------------


def _submission(row: Any, county: str) -> TaskSubmission:
    return TaskSubmission(
        id=strawberry.ID(encode_global_id("TaskSubmission", county, row.id)),
        row_id=row.id, task_id=row.task_id, pupil_id=row.pupil_id,
        state=SubmissionState(row.state), text=row.text, file_urls=list(row.file_urls or []),
        answers=[TaskAnswer(key=k, value=v) for k, v in (row.answers or {}).items()],
        submitted_at=row.submitted_at, reviewed_at=row.reviewed_at, review_note=row.review_note,
    )  # fmt: skip


async def _seen(context: Context) -> Any:
    """Submissions of pupils the caller reviews, or the caller's own children's."""
    scope = await context.list_scope("submission", "read")
    return task_submissions.c.pupil_id.in_(pupil_ids_in(scope, await caller_user_id(context)))


async def submissions_page(
    context: Context,
    page: Page[int],
    state: SubmissionState | None,
    *,
    task_id: int | None = None,
) -> TaskSubmissionConnection:
    clauses = [await _seen(context)]
    if task_id is not None:
        clauses.append(task_submissions.c.task_id == task_id)
    if state is not None:
        clauses.append(task_submissions.c.state == state.value)
    listed = select(task_submissions).where(*clauses)
    fetched = await fetch(context.session, listed, task_submissions.c.id, page)
    county = (await context.tenant()).code
    edges = [
        TaskSubmissionEdge(cursor=encode_key_cursor(r.id), node=_submission(r, county))
        for r in fetched.rows
    ]
    return TaskSubmissionConnection(
        edges=edges,
        page_info=fetched.page_info([e.cursor for e in edges]),
        count_all=counter(context.session, listed),
    )


async def submissions_of_task(
    context: Context, task_id: int, page: Page[int], state: SubmissionState | None
) -> TaskSubmissionConnection:
    """`CollectionTask.submissions`: the submissions of every task of a page read together."""
    fetched = await context.loader("submission_pages", partial(_submission_pages, context)).load(
        (task_id, page, state)
    )
    county = (await context.tenant()).code
    edges = [
        TaskSubmissionEdge(cursor=encode_key_cursor(r.id), node=_submission(r, county))
        for r in fetched.rows
    ]
    counts = context.loader("submission_counts", partial(_submission_counts, context))
    return TaskSubmissionConnection(
        edges=edges,
        page_info=fetched.page_info([e.cursor for e in edges]),
        count_all=partial(counts.load, (task_id, state)),
    )


async def _seen_submissions(context: Context, state: SubmissionState | None) -> Select[Any]:
    clauses = [await _seen(context)]
    if state is not None:
        clauses.append(task_submissions.c.state == state.value)
    return select(task_submissions).where(*clauses)


async def _submission_pages(
    context: Context, keys: list[tuple[int, Page[int], SubmissionState | None]]
) -> list[Fetched[Any]]:
    return await fetch_many(context.session, keys, partial(_seen_submissions, context),
                            task_submissions.c.id, task_submissions.c.task_id)  # fmt: skip


async def _submission_counts(
    context: Context, keys: list[tuple[int, SubmissionState | None]]
) -> list[int]:
    return await count_many(context.session, keys, partial(_seen_submissions, context),
                            task_submissions.c.task_id)  # fmt: skip


async def task_submissions_list(
    info: Info[Context, None],
    first: First = None,
    after: After = None,
    last: Last = None,
    before: Before = None,
    task_id: Annotated[
        strawberry.ID | None, strawberry.argument(description="只列出该征集任务的。")
    ] = None,
    state: Annotated[
        SubmissionState | None,
        strawberry.argument(description="只列出该状态；默认待审核（审核队列）。"),
    ] = SubmissionState.SUBMITTED,
) -> TaskSubmissionConnection:
    context = info.context
    await context.user()
    scope = await context.list_scope("submission", "read")
    if scope.nothing:
        raise Forbidden()
    row_id = (await _task_row(context, task_id)).id if task_id is not None else None
    page = page_of(first, after, last, before)
    return await submissions_page(context, page, state, task_id=row_id)


async def submissions_of_pupils(context: Context, ids: Sequence[int]) -> list[list[TaskSubmission]]:
    """`Pupil.taskSubmissions` (the pupil is one the caller sees), newest first; the content
    only for the family and the pupil's reviewers."""
    async with context.session() as session:
        rows = (
            await session.execute(
                select(task_submissions)
                .where(task_submissions.c.pupil_id.in_(list(ids)), await _seen(context))
                .order_by(task_submissions.c.id.desc())
            )
        ).all()
    county = (await context.tenant()).code
    by_pupil: dict[int, list[TaskSubmission]] = defaultdict(list)
    for r in rows:
        by_pupil[r.pupil_id].append(_submission(r, county))
    return [by_pupil[pk] for pk in ids]


async def _submissions(context: Context, pk: int) -> TaskSubmission:
    async with context.session() as session:
        row = (
            await session.execute(select(task_submissions).where(task_submissions.c.id == pk))
        ).one()
    return _submission(row, (await context.tenant()).code)


async def task_submission(
    info: Info[Context, None],
    id: Annotated[strawberry.ID, strawberry.argument(description="提交的全局 ID。")],
) -> TaskSubmission | None:
    context = info.context
    pk = await context.own_id("TaskSubmission", id)
    if pk is None:
        return None
    async with context.session() as session:
        row = (
            await session.execute(
                select(task_submissions).where(task_submissions.c.id == pk, await _seen(context))
            )
        ).first()
    return _submission(row, (await context.tenant()).code) if row else None


# --- organising --------------------------------------------------------------------------------


def _questions(given: list[TaskQuestionInput] | None) -> list[dict[str, Any]] | None:
    if given is None:
        return None
    return [{"key": q.key, "label": q.label, "kind": q.kind.value, "choices": q.choices or [],
             "required": q.required} for q in given]  # fmt: skip


async def _badge_pk(context: Context, global_id: str | None) -> int | None:
    if global_id is None:
        return None
    pk = await context.own_id("Badge", global_id)
    if pk is None:
        raise NotFound("没有这枚奖章", code="BADGE_NOT_FOUND")
    return pk


def _entry(pk: int, **details: Any) -> list[dict[str, Any]]:
    return [{"object_type": "CollectionTask", "object_id": pk, "details": details or None}]


async def _payload(context: Context, pk: int) -> CollectionTaskPayload:
    return CollectionTaskPayload(task=await task_by_id(context, pk), user_errors=[])


async def create_collection_task(
    info: Info[Context, None], input: CreateCollectionTaskInput
) -> CollectionTaskPayload:
    context = info.context
    principal = await context.user()
    unit_pk = await context.own_id("Unit", input.organiser_id)
    organiser = await context.org.unit.load(unit_pk) if unit_pk is not None else None
    if organiser is None or not await context.may("unit", "read", organiser.path):
        raise NotFound("没有这个单位", code="UNIT_NOT_FOUND")
    await context.require("task", "write", organiser.path)
    badge = await _badge_pk(context, input.badge_id)
    try:
        pk = await in_county(
            context,
            lambda conn: rules.create_task(
                conn, organiser.id, input.kind.value, input.title, opens_at=input.opens_at,
                closes_at=input.closes_at, by=uploader(principal), description=input.description,
                content_url=input.content_url, questions=_questions(input.questions),
                grades=input.grades, reward=input.reward, badge_id=badge,
            ),
            "createCollectionTask",
            lambda made: _entry(made, title=input.title, kind=input.kind.value),
        )  # fmt: skip
    except RedscarfError as exc:
        return CollectionTaskPayload(task=None, user_errors=user_errors(exc))
    return await _payload(context, pk)


async def _organised(context: Context, global_id: str) -> Any:
    row = await _task_row(context, global_id)
    await context.require("task", "write", row.organiser_path)
    return row


async def update_collection_task(
    info: Info[Context, None], input: UpdateCollectionTaskInput
) -> CollectionTaskPayload:
    context = info.context
    await context.user()
    row = await _organised(context, input.id)
    values: dict[str, Any] = {
        k: v
        for k, v in (("title", input.title), ("description", input.description),
                     ("content_url", input.content_url), ("grades", input.grades),
                     ("opens_at", input.opens_at), ("closes_at", input.closes_at),
                     ("reward", input.reward))
        if v is not None
    }  # fmt: skip
    if input.questions is not None:
        values["questions"] = _questions(input.questions)
    if input.badge_id is not None:
        values["badge_id"] = await _badge_pk(context, input.badge_id)
    try:
        await in_county(
            context,
            lambda conn: rules.update_task(conn, row.id, values),
            "updateCollectionTask",
            lambda _: [{"object_type": "CollectionTask", "object_id": row.id,
                        "fields": sorted(values)}],
        )  # fmt: skip
    except RedscarfError as exc:
        return CollectionTaskPayload(task=None, user_errors=user_errors(exc))
    return await _payload(context, row.id)


async def _step(context: Context, global_id: str, step: Any, action: str) -> CollectionTaskPayload:
    """One step of a task's life (`step(conn, id)`) by its organiser, audited."""
    await context.user()
    row = await _organised(context, global_id)
    try:
        await in_county(context, lambda conn: step(conn, row.id), action,
                        lambda _: _entry(row.id))  # fmt: skip
    except RedscarfError as exc:
        return CollectionTaskPayload(task=None, user_errors=user_errors(exc))
    return await _payload(context, row.id)


async def publish_collection_task(
    info: Info[Context, None], input: CollectionTaskInput
) -> CollectionTaskPayload:
    return await _step(info.context, input.id, rules.publish_task, "publishCollectionTask")


async def close_collection_task(
    info: Info[Context, None], input: CollectionTaskInput
) -> CollectionTaskPayload:
    return await _step(info.context, input.id, rules.close_task, "closeCollectionTask")


# --- taking part and reviewing -----------------------------------------------------------------


async def _taking_part(context: Context, task_gid: str, pupil_gid: str) -> tuple[Any, Any]:
    row = await _task_row(context, task_gid)
    try:
        record = (await chosen_pupils(context, [pupil_gid]))[0]
    except InvalidInput:
        raise NotFound("没有这名队员", code="PUPIL_NOT_FOUND") from None
    await context.require("submission", "write", record.path, bound_rel(record))
    return row, record


def _submission_entry(row: Any, record: Any) -> Any:
    return lambda s: [{"object_type": "TaskSubmission", "object_id": s.id,
                       "details": {"task": row.id, "pupil": record.id, "state": s.state.value}}]  # fmt: skip


async def submit_task_work(
    info: Info[Context, None], input: SubmitTaskWorkInput
) -> TaskSubmissionPayload:
    context = info.context
    principal = await context.user()
    row, record = await _taking_part(context, input.task_id, input.pupil_id)
    answers = {a.key: a.value for a in input.answers} if input.answers is not None else None
    try:
        done = await in_county(
            context,
            lambda conn: rules.submit(conn, row.id, record.id, by=uploader(principal),
                                      text=input.text, file_urls=input.file_urls or (),
                                      answers=answers),
            "submitTaskWork",
            _submission_entry(row, record),
        )  # fmt: skip
    except RedscarfError as exc:
        return TaskSubmissionPayload(submission=None, user_errors=user_errors(exc))
    return TaskSubmissionPayload(submission=await _submissions(context, done.id), user_errors=[])


async def complete_lesson(
    info: Info[Context, None], input: CompleteLessonInput
) -> TaskSubmissionPayload:
    context = info.context
    principal = await context.user()
    row, record = await _taking_part(context, input.task_id, input.pupil_id)
    try:
        done = await in_county(
            context,
            lambda conn: rules.complete_lesson(conn, row.id, record.id, by=uploader(principal)),
            "completeLesson",
            _submission_entry(row, record),
        )
    except RedscarfError as exc:
        return TaskSubmissionPayload(submission=None, user_errors=user_errors(exc))
    return TaskSubmissionPayload(submission=await _submissions(context, done.id), user_errors=[])


async def review_task_submission(
    info: Info[Context, None], input: ReviewTaskSubmissionInput
) -> TaskSubmissionPayload:
    context = info.context
    principal = await context.user()
    pk = await context.own_id("TaskSubmission", input.submission_id)
    found = None
    if pk is not None:
        async with context.session() as session:
            found = (
                await session.execute(
                    select(task_submissions.c.id, task_submissions.c.pupil_id)
                    .where(task_submissions.c.id == pk, await _seen(context))
                )
            ).first()  # fmt: skip
    record = await context.visible_pupils.load(found.pupil_id) if found else None
    if found is None or record is None:
        raise NotFound("没有这份提交", code="SUBMISSION_NOT_FOUND")
    await context.require("submission", "review", record.path)
    try:
        done = await in_county(
            context,
            lambda conn: rules.review(conn, found.id, approve=input.approve, note=input.note,
                                      by=uploader(principal)),
            "reviewTaskSubmission",
            lambda s: [{"object_type": "TaskSubmission", "object_id": s.id,
                        "details": {"state": s.state.value}}],
        )  # fmt: skip
    except RedscarfError as exc:
        return TaskSubmissionPayload(submission=None, user_errors=user_errors(exc, "note"))
    return TaskSubmissionPayload(submission=await _submissions(context, done.id), user_errors=[])
