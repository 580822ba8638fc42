"""A job's life as the API sees it: running, progress, done or failed.

Every change is committed at once on its own short transaction (never the actor's data
transaction), so the API reads a running job's progress while the job works.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from dramatiq.broker import Broker
from dramatiq.message import Message
from dramatiq.middleware import Middleware
from sqlalchemy import Connection, Engine, func, select, update

from workers.jobs import JobState, jobs

log = logging.getLogger(__name__)

#: States from which a delivered message may (re)start its job. A redelivered message of a
#: job already `done` (a worker killed between commit and ack) is skipped.
STARTABLE = (JobState.PENDING, JobState.QUEUED, JobState.RUNNING)


@dataclass(frozen=True)
class JobView:
    id: UUID
    county_code: str | None
    actor: str
    state: str
    progress: int
    total: int | None
    message: str | None
    attempts: int
    error: str | None
    result: Any
    created_at: dt.datetime | None = None
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None


def get_job(conn: Connection, job_id: UUID | str) -> JobView | None:
    """A job as the API reports it (through RLS when `conn` runs as a county role)."""
    row = conn.execute(
        select(
            jobs.c.id,
            jobs.c.county_code,
            jobs.c.actor,
            jobs.c.state,
            jobs.c.progress,
            jobs.c.total,
            jobs.c.message,
            jobs.c.attempts,
            jobs.c.error,
            jobs.c.result,
            jobs.c.created_at,
            jobs.c.started_at,
            jobs.c.finished_at,
        ).where(jobs.c.id == UUID(str(job_id)))
    ).first()
    return JobView(**row._asdict()) if row else None


def start_job(engine: Engine, job_id: UUID, county_code: str | None) -> bool:
    """Mark the job running (one more attempt); False when it must not run (done, unknown)."""
    with engine.begin() as conn:
        row = conn.execute(
            update(jobs)
            .where(jobs.c.id == job_id, jobs.c.state.in_([s.value for s in STARTABLE]))
            .values(
                state=JobState.RUNNING.value,
                attempts=jobs.c.attempts + 1,
                started_at=func.coalesce(jobs.c.started_at, func.now()),
                updated_at=func.now(),
            )
            .returning(jobs.c.county_code)
        ).first()
    if row is None:
        log.info("job %s is done or unknown: skipped", job_id)
        return False
    if row.county_code != county_code:
        raise ValueError(f"job {job_id} belongs to county {row.county_code}, not {county_code}")
    return True


def set_progress(
    engine: Engine, job_id: UUID, done: int, total: int | None, message: str | None = None
) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(jobs)
            .where(jobs.c.id == job_id)
            .values(progress=done, total=total, message=message, updated_at=func.now())
        )


def finish_job(engine: Engine, job_id: UUID, result: Any) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(jobs)
            .where(jobs.c.id == job_id)
            .values(
                state=JobState.DONE.value,
                result=result,
                error=None,
                finished_at=func.now(),
                updated_at=func.now(),
            )
        )


def record_failure(engine: Engine, job_id: UUID, error: str, *, final: bool) -> None:
    """`failed` when the retries are exhausted, back to `queued` (with the error) otherwise."""
    with engine.begin() as conn:
        conn.execute(
            update(jobs)
            .where(jobs.c.id == job_id, jobs.c.state != JobState.DONE.value)
            .values(
                state=(JobState.FAILED if final else JobState.QUEUED).value,
                error=error,
                finished_at=func.now() if final else None,
                updated_at=func.now(),
            )
        )


@dataclass
class RunningJob:
    engine: Engine
    id: UUID
    county_code: str | None

    def progress(self, done: int, total: int | None = None, message: str | None = None) -> None:
        set_progress(self.engine, self.id, done, total, message)

    def on_progress(self, message: str | None = None) -> Callable[[int, int], None]:
        """A `(done, total)` callback for domain code that reports its own progress."""
        return lambda done, total: self.progress(done, total, message)


_running: ContextVar[RunningJob | None] = ContextVar("redscarf_running_job", default=None)


def running_job() -> RunningJob:
    job = _running.get()
    if job is None:
        raise RuntimeError("not inside a job actor")
    return job


@contextmanager
def job_context(engine: Engine, job_id: UUID, county_code: str | None) -> Iterator[RunningJob]:
    job = RunningJob(engine, job_id, county_code)
    token = _running.set(job)
    try:
        yield job
    finally:
        _running.reset(token)


class JobStateMiddleware(Middleware):
    """Records a failing job's error; `failed` once dramatiq's Retries gives up on it."""

    def after_process_message(
        self,
        broker: Broker,
        message: Message[Any],
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        if exception is None or "job_id" not in message.kwargs:
            return
        from workers.broker import current_runtime

        error = f"{type(exception).__name__}: {exception}"
        try:
            record_failure(
                current_runtime().engine,
                UUID(message.kwargs["job_id"]),
                error[:4000],
                final=bool(message.failed),
            )
        except Exception:
            log.exception("could not record the failure of job %s", message.kwargs["job_id"])
