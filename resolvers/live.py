"""Subscriptions: an object as it changes, for as long as a frontend waits on it.

Each answers at once with the object as it stands, then again after every committed change
(`redscarf.live`), and completes when the object reaches an end (a job done, a redemption
picked up, an activity held or cancelled). Every answer is read afresh through the same checks
as the query of the same name, so a subscription shows nothing its subscriber could not ask
for. The subscriber's session is checked again every `RECHECK_S` seconds: when it has ended
(signed out, disabled, expired), the subscription ends with that error.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable
from typing import Annotated, TypeVar
from uuid import UUID

import strawberry
from strawberry.types import Info

from redscarf.errors import InvalidInput, NotFound
from redscarf.live import county_key, job_key
from resolvers.activities import activity as read_activity
from resolvers.archive_exports import archive_export as read_archive_export
from resolvers.exchange import redemption as read_redemption
from resolvers.imports import roster_import as read_roster_import
from resolvers.jobs import find_job
from schema.activities import Activity, ActivityState
from schema.context import Context
from schema.exchange import Redemption, RedemptionState
from schema.imports import ImportState, RosterImport
from schema.jobs import Job
from schema.points import ArchiveExport

T = TypeVar("T")

RECHECK_S = 60.0
"""Seconds between two checks of a waiting subscriber's session."""
MIN_INTERVAL_S = 0.5
"""Shortest time between two answers of one subscription (what one subscriber may cost)."""
MAX_SUBSCRIPTIONS = 20
"""Subscriptions one connection may have running at once."""


class TooManySubscriptions(InvalidInput):
    code = "TOO_MANY_SUBSCRIPTIONS"


async def follow(
    context: Context,
    keys: Iterable[str],
    read: Callable[[], Awaitable[T | None]],
    ended: Callable[[T], bool],
    missing: NotFound,
) -> AsyncGenerator[T, None]:
    """`read()` now and after each change of `keys`, until `ended(found)`."""
    await context.user()
    if context.following >= MAX_SUBSCRIPTIONS:
        raise TooManySubscriptions(
            f"一个连接最多同时订阅 {MAX_SUBSCRIPTIONS} 项；请结束（complete）不再需要的订阅"
        )
    context.following += 1
    try:
        async with context.services.live.watch(keys) as watch:
            while True:
                context.forget()
                found = await read()
                if found is None:  # never there, gone, or out of the subscriber's reach now
                    raise missing
                yield found
                if ended(found):
                    return
                # At most one read per interval: the changes of a busy object (sign-ups at
                # an opening minute) wait a moment and are read together.
                await asyncio.sleep(MIN_INTERVAL_S)
                while not await watch.changed(RECHECK_S):
                    await context.reauthenticate()
    finally:
        context.following -= 1


async def _in_county(context: Context, type_name: str, kind: str, id: str) -> list[str]:
    """The key of a county object named by global ID (none for another county's)."""
    await context.user()
    pk = await context.own_id(type_name, id)
    return [] if pk is None else [county_key((await context.tenant()).code, kind, pk)]


async def activity(
    info: Info[Context, None],
    id: Annotated[strawberry.ID, strawberry.argument(description="活动的全局 ID。")],
) -> AsyncGenerator[Activity, None]:
    context = info.context
    async for found in follow(
        context,
        await _in_county(context, "Activity", "activity", id),
        lambda: read_activity(info, id),
        lambda a: a.state in (ActivityState.FINISHED, ActivityState.CANCELLED),
        NotFound("没有这个活动", code="ACTIVITY_NOT_FOUND"),
    ):
        yield found


async def redemption(
    info: Info[Context, None],
    id: Annotated[strawberry.ID, strawberry.argument(description="兑换的全局 ID。")],
) -> AsyncGenerator[Redemption, None]:
    context = info.context
    async for found in follow(
        context,
        await _in_county(context, "Redemption", "redemption", id),
        lambda: read_redemption(info, id),
        lambda r: r.state != RedemptionState.ISSUED,
        NotFound("没有这个兑换", code="REDEMPTION_NOT_FOUND"),
    ):
        yield found


async def _by_its_job(
    context: Context,
    read: Callable[[], Awaitable[T | None]],
    ended: Callable[[T], bool],
    missing: NotFound,
) -> AsyncGenerator[T, None]:
    """`follow` an import or an export: read once to learn the job that runs it, whose
    progress is what changes."""
    found = await read()
    if found is None:
        raise missing
    job_id = getattr(found, "job_id", None)
    async for again in follow(
        context, [] if job_id is None else [job_key(job_id)], read, ended, missing
    ):
        yield again


async def roster_import(
    info: Info[Context, None],
    id: Annotated[strawberry.ID, strawberry.argument(description="导入的全局 ID。")],
) -> AsyncGenerator[RosterImport, None]:
    async for found in _by_its_job(
        info.context,
        lambda: read_roster_import(info, id),
        lambda i: i.state in (ImportState.DONE, ImportState.INVALID, ImportState.FAILED),
        NotFound("没有这次导入", code="IMPORT_NOT_FOUND"),
    ):
        yield found


async def archive_export(
    info: Info[Context, None],
    id: Annotated[strawberry.ID, strawberry.argument(description="导出的全局 ID。")],
) -> AsyncGenerator[ArchiveExport, None]:
    async for found in _by_its_job(
        info.context,
        lambda: read_archive_export(info, id),
        lambda e: e.done or e.failed,
        NotFound("没有这次导出", code="EXPORT_NOT_FOUND"),
    ):
        yield found


async def job(
    info: Info[Context, None],
    id: Annotated[
        strawberry.ID,
        strawberry.argument(description="任务 ID（如 cancelActivity 返回的 jobId）。"),
    ],
) -> AsyncGenerator[Job, None]:
    try:
        keys = [job_key(UUID(str(id)))]
    except ValueError:
        keys = []  # no such job: `find_job` says so
    async for found in follow(
        info.context,
        keys,
        lambda: find_job(info.context, str(id)),
        lambda j: j.ended,
        NotFound("没有这个任务", code="JOB_NOT_FOUND"),
    ):
        yield found
