"""The outbox: a job is a row written in the caller's transaction, sent only after commit.

`dramatiq-postgres` (like any broker) enqueues on a connection of its own, so a bare `.send()`
inside a transaction would run a job whose data may yet roll back. Instead:

1. `enqueue(conn, ...)` inserts a `pending` row in `shared.jobs` in the caller's transaction
   (a county role may only insert its own county's jobs: row-level security);
2. after commit, `send_jobs` (or the `jobs_after_commit` block) sends the rows it recorded;
3. the relay (`send_pending`, run periodically by every worker) sends whatever a crash
   between commit and send left `pending`.

Sending locks the rows (`FOR UPDATE SKIP LOCKED`) and marks them `queued` in the same
transaction, so several relays never send a row twice at once; a crash between the send and
the commit sends it again later, which is why delivery is at least once and actors are
idempotent. A job inside a rolled-back transaction never existed, so it never runs.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from typing import Any
from uuid import UUID

from dramatiq.broker import Broker
from dramatiq.message import Message
from sqlalchemy import Connection, Engine, Select, Update, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from workers.jobs import JobState, jobs

log = logging.getLogger(__name__)

_recorded: ContextVar[list[UUID] | None] = ContextVar("redscarf_recorded_jobs", default=None)


def _insert(
    actor_name: str, county_code: str, args: dict[str, Any], dedup_key: str | None
) -> tuple[Any, str | None]:
    # Dedup keys are scoped to the county, so one county never learns of another's keys.
    key = f"{county_code}:{dedup_key}" if dedup_key is not None else None
    return (
        insert(jobs)
        .values(actor=actor_name, county_code=county_code, args=args, dedup_key=key)
        .on_conflict_do_nothing(index_elements=["dedup_key"])
        .returning(jobs.c.id)
    ), key


def _record(job_id: UUID) -> UUID:
    buffer = _recorded.get()
    if buffer is not None:
        buffer.append(job_id)
    return job_id


def enqueue(
    conn: Connection,
    actor_name: str,
    *,
    county_code: str,
    args: dict[str, Any] | None = None,
    dedup_key: str | None = None,
) -> UUID:
    """Record a job in the caller's transaction; it is sent once that transaction commits.

    With `dedup_key`, enqueueing the same key again returns the first job's id.
    """
    stmt, key = _insert(actor_name, county_code, dict(args or {}), dedup_key)
    job_id = conn.execute(stmt).scalar()
    if job_id is None:
        job_id = conn.execute(select(jobs.c.id).where(jobs.c.dedup_key == key)).scalar_one()
    return _record(job_id)


async def enqueue_async(
    conn: AsyncConnection | AsyncSession,
    actor_name: str,
    *,
    county_code: str,
    args: dict[str, Any] | None = None,
    dedup_key: str | None = None,
) -> UUID:
    """`enqueue` for the API's asynchronous sessions (`tenants.sessions.tenant_session`)."""
    stmt, key = _insert(actor_name, county_code, dict(args or {}), dedup_key)
    job_id = (await conn.execute(stmt)).scalar()
    if job_id is None:
        job_id = (await conn.execute(select(jobs.c.id).where(jobs.c.dedup_key == key))).scalar_one()
    return _record(job_id)


def _claim(job_ids: Sequence[UUID] | None, limit: int) -> Select[Any]:
    query = (
        select(jobs.c.id, jobs.c.county_code, jobs.c.actor, jobs.c.args)
        .where(jobs.c.state == JobState.PENDING.value)
        .order_by(jobs.c.created_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if job_ids is not None:
        query = query.where(jobs.c.id.in_(list(job_ids)))
    return query


def _message(broker: Broker, queue_name: str, row: Any) -> Message[Any]:
    kwargs = dict(row.args or {})
    kwargs["county_code"] = row.county_code
    kwargs["job_id"] = str(row.id)
    # The job id is the message id: a message sent twice is one message to the broker
    # wherever it deduplicates (PostgreSQL upserts on it), and one job row everywhere.
    return Message(
        queue_name=queue_name,
        actor_name=row.actor,
        args=(),
        kwargs=kwargs,
        options={},
        message_id=str(row.id),
    )


def _mark_queued(ids: list[UUID]) -> Update:
    return (
        update(jobs)
        .where(jobs.c.id.in_(ids))
        .values(state=JobState.QUEUED.value, sent_at=func.now(), updated_at=func.now())
    )


def send_jobs(
    engine: Engine,
    broker: Broker,
    queue_name: str,
    job_ids: Sequence[UUID] | None = None,
    *,
    limit: int = 500,
) -> int:
    """Send pending jobs (those of `job_ids`, or the oldest `limit`); returns how many."""
    if job_ids is not None and not job_ids:
        return 0
    with engine.begin() as conn:
        rows = conn.execute(_claim(job_ids, limit)).all()
        for row in rows:
            broker.enqueue(_message(broker, queue_name, row))
        if rows:
            conn.execute(_mark_queued([row.id for row in rows]))
    if rows:
        log.info("sent %d job(s)", len(rows))
    return len(rows)


def send_pending(engine: Engine, broker: Broker, queue_name: str, *, limit: int = 500) -> int:
    """One pass of the relay: send every job left `pending` (safe in several processes)."""
    total = 0
    while True:
        sent = send_jobs(engine, broker, queue_name, limit=limit)
        total += sent
        if sent < limit:
            return total


async def send_jobs_async(
    engine: AsyncEngine, broker: Broker, queue_name: str, job_ids: Sequence[UUID]
) -> int:
    """`send_jobs` for the API process (the broker call runs in a thread)."""
    if not job_ids:
        return 0
    async with engine.begin() as conn:
        rows = (await conn.execute(_claim(job_ids, len(job_ids)))).all()
        for row in rows:
            await asyncio.to_thread(broker.enqueue, _message(broker, queue_name, row))
        if rows:
            await conn.execute(_mark_queued([row.id for row in rows]))
    return len(rows)


@contextmanager
def jobs_after_commit(engine: Engine, broker: Broker, queue_name: str) -> Iterator[list[UUID]]:
    """Send the jobs enqueued inside the block once it ends without error.

    Wrap the whole transaction in it, e.g.::

        with jobs_after_commit(engine, runtime.broker, runtime.queue_name):
            with tenant_connection(engine, tenant) as conn:
                ...
                enqueue(conn, "refresh_county_summary", county_code=tenant.code)

    A job whose transaction rolled back has no row, so it is never sent; a send that fails
    (broker down) leaves the row `pending` for the relay.
    """
    buffer: list[UUID] = []
    token = _recorded.set(buffer)
    try:
        yield buffer
    finally:
        _recorded.reset(token)
    _send_quietly(lambda: send_jobs(engine, broker, queue_name, buffer))


@asynccontextmanager
async def jobs_after_commit_async(
    engine: AsyncEngine, broker: Broker, queue_name: str
) -> AsyncIterator[list[UUID]]:
    """`jobs_after_commit` for the API (e.g. around a request in a middleware)."""
    buffer: list[UUID] = []
    token = _recorded.set(buffer)
    try:
        yield buffer
    finally:
        _recorded.reset(token)
    try:
        await send_jobs_async(engine, broker, queue_name, buffer)
    except Exception:
        log.exception("could not send %d job(s) now; the relay will", len(buffer))


def _send_quietly(send: Any) -> None:
    try:
        send()
    except Exception:
        log.exception("could not send job(s) now; the relay will")


class Periodic(threading.Thread):
    """A pass of work every `interval` seconds until stopped (the first at once, or after one
    interval); a failed pass is logged and the next one comes as usual."""

    name_of_pass = "pass"
    at_once = True

    def __init__(self, name: str, interval: float) -> None:
        super().__init__(name=name, daemon=True)
        self.interval = interval
        self.stopping = threading.Event()

    def pass_once(self) -> None:
        raise NotImplementedError

    def run(self) -> None:
        if not self.at_once and self.stopping.wait(self.interval):
            return
        while True:
            try:
                self.pass_once()
            except Exception:
                log.exception("%s failed; retrying in %.0f s", self.name_of_pass, self.interval)
            if self.stopping.wait(self.interval):
                return

    def stop(self, timeout: float = 10.0) -> None:
        self.stopping.set()
        self.join(timeout)


class Relay(Periodic):
    """Sends, every `interval` seconds, whatever a crash left `pending`."""

    name_of_pass = "relay pass"

    def __init__(self, engine: Engine, broker: Broker, queue_name: str, interval: float) -> None:
        super().__init__("redscarf-relay", interval)
        self.engine = engine
        self.broker = broker
        self.queue_name = queue_name

    def pass_once(self) -> None:
        send_pending(self.engine, self.broker, self.queue_name)
