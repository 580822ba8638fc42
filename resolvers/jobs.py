"""`job(id:)`: a background job of the county, for the staff who start them."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import strawberry
from strawberry.types import Info

from schema.context import Context
from schema.jobs import Job, JobState
from workers.state import JobView, get_job


def _job(view: JobView) -> Job:
    assert view.created_at is not None
    return Job(
        id=strawberry.ID(str(view.id)),
        kind=view.actor,
        state=JobState(view.state),
        progress=view.progress,
        total=view.total,
        phase=view.message,
        attempts=view.attempts,
        created_at=view.created_at,
        started_at=view.started_at,
        finished_at=view.finished_at,
    )


async def find_job(context: Context, job_id: str) -> Job | None:
    """The job, if it is the routed county's (row-level security reads no other) and the
    caller may follow the county's jobs; its arguments, result and error text stay inside."""
    await context.require("job", "read")
    try:
        key = UUID(job_id)
    except ValueError:
        return None
    async with context.session() as session:
        view = await session.run_sync(lambda s: get_job(s.connection(), key))
    return _job(view) if view is not None else None


async def job(
    info: Info[Context, None],
    id: Annotated[
        strawberry.ID,
        strawberry.argument(description="任务 ID（如 cancelActivity 返回的 jobId）。"),
    ],
) -> Job | None:
    return await find_job(info.context, str(id))
