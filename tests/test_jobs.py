"""Jobs: never lost, never run before their data is committed, their effect exactly once.

Runs against the PostgreSQL broker by default; with `BROKER_URL` set (amqp:// or redis://)
the same tests run against RabbitMQ or Redis. The queue is named after the test database, so
parallel runs sharing one RabbitMQ or Redis never take each other's messages.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.ext.asyncio import AsyncEngine

from redscarf.settings import Settings
from tenants.provisioning import County
from tenants.sessions import Tenant, tenant_connection, tenant_session
from workers.broker import JobRuntime
from workers.config import JobSettings
from workers.jobs import county_summaries
from workers.main import in_process_worker
from workers.outbox import (
    enqueue,
    enqueue_async,
    jobs_after_commit,
    jobs_after_commit_async,
    send_pending,
)
from workers.state import JobView, get_job

pytestmark = pytest.mark.broker

ROOT = Path(__file__).resolve().parents[1]
REDSCARF = ROOT / ".venv" / "bin" / "redscarf"

# Short heartbeat and relay interval: a killed worker's job comes back within seconds.
JOB_ENV = {
    "REDSCARF_JOB_HEARTBEAT_TTL": "3",
    "REDSCARF_JOB_RELAY_INTERVAL": "0.5",
    "REDSCARF_JOB_MAX_RETRIES": "1",
    "REDSCARF_JOB_MIN_BACKOFF_MS": "100",
}
JOB_SETTINGS = JobSettings(
    heartbeat_ttl=3, relay_interval=0.5, max_retries=1, min_backoff_ms=100, max_backoff_ms=500
)


def tenant_of(county: County) -> Tenant:
    return Tenant(county.code, county.name, county.schema_name, county.role_name)


def wait_for(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def job(engine: Engine, job_id: UUID) -> JobView | None:
    with engine.connect() as conn:
        return get_job(conn, job_id)


def job_in(engine: Engine, job_id: UUID, *states: str) -> JobView | None:
    view = job(engine, job_id)
    return view if view is not None and view.state in states else None


@pytest.fixture
def worker(settings: Settings) -> Iterator[JobRuntime]:
    with in_process_worker(settings, threads=2, job_settings=JOB_SETTINGS) as runtime:
        yield runtime


def test_a_job_enqueued_in_a_rolled_back_transaction_never_exists(
    engine: Engine, make_county: Callable[..., County], worker: JobRuntime
) -> None:
    county = make_county()
    enqueued: list[UUID] = []

    def request_that_fails() -> None:
        with (
            jobs_after_commit(engine, worker.broker, worker.queue_name),
            tenant_connection(engine, tenant_of(county)) as conn,
        ):
            enqueued.append(enqueue(conn, "refresh_county_summary", county_code=county.code))
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError, match="rolled back"):
        request_that_fails()

    assert send_pending(engine, worker.broker, worker.queue_name) == 0
    time.sleep(1.0)
    assert job(engine, enqueued[0]) is None
    with engine.connect() as conn:
        summary = conn.execute(
            select(county_summaries).where(county_summaries.c.county_code == county.code)
        ).first()
    assert summary is None


def test_a_committed_job_runs_and_reports_done_with_progress(
    engine: Engine, make_county: Callable[..., County], worker: JobRuntime
) -> None:
    county = make_county()
    with (
        jobs_after_commit(engine, worker.broker, worker.queue_name) as sent,
        tenant_connection(engine, tenant_of(county)) as conn,
    ):
        job_id = enqueue(conn, "refresh_county_summary", county_code=county.code)
        # Inside the transaction the row is pending, visible to the county's own role.
        pending = get_job(conn, job_id)
        assert pending is not None
        assert pending.state == "pending"
    assert sent == [job_id]

    done = wait_for(lambda: job_in(engine, job_id, "done", "failed"), 20, "the job to end")
    assert (done.state, done.error) == ("done", None)
    assert (done.progress, done.total, done.attempts) == (1, 1, 1)
    with engine.connect() as conn:
        summary = conn.execute(
            select(county_summaries).where(county_summaries.c.county_code == county.code)
        ).one()
    assert summary.job_id == job_id
    assert summary.figures["units"] == {"county": 1}
    assert summary.figures["guardians"] == done.result["guardians"] == 0


async def test_a_request_enqueues_in_its_async_session_and_the_job_is_sent_after_commit(
    engine: Engine,
    async_engine: AsyncEngine,
    make_county: Callable[..., County],
    worker: JobRuntime,
) -> None:
    county = make_county()
    async with (
        jobs_after_commit_async(async_engine, worker.broker, worker.queue_name) as sent,
        tenant_session(async_engine, tenant_of(county)) as session,
    ):
        job_id = await enqueue_async(session, "refresh_county_summary", county_code=county.code)
    assert sent == [job_id]
    done = await asyncio.to_thread(
        wait_for, lambda: job_in(engine, job_id, "done", "failed"), 20, "the job to end"
    )
    assert done.state == "done"


def test_the_same_dedup_key_is_one_job(engine: Engine, make_county: Callable[..., County]) -> None:
    county = make_county()
    with tenant_connection(engine, tenant_of(county)) as conn:
        first = enqueue(conn, "refresh_county_summary", county_code=county.code, dedup_key="k")
        again = enqueue(conn, "refresh_county_summary", county_code=county.code, dedup_key="k")
    assert first == again


def test_the_relay_sends_a_job_a_crash_left_pending(
    engine: Engine, make_county: Callable[..., County], settings: Settings
) -> None:
    county = make_county()
    # Committed but never sent: the process "crashed" between commit and send.
    with tenant_connection(engine, tenant_of(county)) as conn:
        job_id = enqueue(conn, "refresh_county_summary", county_code=county.code)
    assert job_in(engine, job_id, "pending")

    with in_process_worker(settings, threads=1, job_settings=JOB_SETTINGS):
        done = wait_for(lambda: job_in(engine, job_id, "done"), 20, "the relay to send the job")
    assert done.attempts == 1
    with engine.connect() as conn:
        sent_at = conn.execute(
            text("SELECT sent_at FROM shared.jobs WHERE id = :id"), {"id": job_id}
        ).scalar_one()
    assert sent_at is not None


def test_a_failing_job_ends_failed_with_its_error_after_bounded_retries(
    engine: Engine, worker: JobRuntime
) -> None:
    with jobs_after_commit(engine, worker.broker, worker.queue_name), engine.begin() as conn:
        # The service itself may enqueue for any county; this one does not exist.
        job_id = enqueue(conn, "refresh_county_summary", county_code="529998")

    failed = wait_for(lambda: job_in(engine, job_id, "failed"), 20, "the job to fail")
    assert failed.attempts == 1 + JOB_SETTINGS.max_retries
    assert failed.error is not None
    assert "UnknownCounty" in failed.error


def test_a_county_role_cannot_enqueue_or_read_another_countys_jobs(
    engine: Engine, make_county: Callable[..., County]
) -> None:
    mine, theirs = make_county(), make_county()
    with tenant_connection(engine, tenant_of(theirs)) as conn:
        their_job = enqueue(conn, "refresh_county_summary", county_code=theirs.code)

    with (
        pytest.raises(ProgrammingError, match="row-level security"),
        tenant_connection(engine, tenant_of(mine)) as conn,
    ):
        enqueue(conn, "refresh_county_summary", county_code=theirs.code)
    with tenant_connection(engine, tenant_of(mine)) as conn:
        assert get_job(conn, their_job) is None
    assert job(engine, their_job) is not None


# --- A worker killed midway -------------------------------------------------------------


def start_worker(db_env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    env = {**db_env, **JOB_ENV}
    with log.open("ab") as out:
        return subprocess.Popen(
            [str(REDSCARF), "worker", "--processes", "1", "--threads", "2"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )


def stop_worker(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@pytest.mark.slow
def test_a_job_whose_worker_is_killed_midway_runs_again_and_its_effect_happens_once(
    engine: Engine,
    make_county: Callable[..., County],
    db_env: dict[str, str],
    tmp_path: Path,
) -> None:
    from domain.people.tables import pupils

    county = make_county()
    pupil_count = int(os.environ.get("REDSCARF_TEST_KILL_PUPILS", "20000"))
    with tenant_connection(engine, tenant_of(county)) as conn:
        job_id = enqueue(
            conn,
            "populate_county",
            county_code=county.code,
            args={"pupils": pupil_count, "seed": 7},
        )

    log = tmp_path / "worker.log"
    first = start_worker(db_env, log)
    try:
        # Started (some schools committed) but not finished: kill it without warning.
        midway = wait_for(
            lambda: (
                (view := job_in(engine, job_id, "running", "done")) and view.progress > 0 and view
            ),
            60,
            "the job to make progress",
        )
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        stop_worker(first)
    assert midway.state == "running", f"the job ended before the kill: {log.read_text()}"
    assert midway.total is None or midway.progress < midway.total

    second = start_worker(db_env, log)
    try:
        done = wait_for(lambda: job_in(engine, job_id, "done", "failed"), 60, "the rerun to finish")
    finally:
        stop_worker(second)
    assert done.state == "done", log.read_text()
    assert done.attempts == 2

    # Exactly the pupils asked for: the schools the killed attempt committed were skipped by
    # the rerun, none was written twice, none was lost.
    with tenant_connection(engine, tenant_of(county)) as conn:
        count = conn.execute(select(func.count()).select_from(pupils)).scalar_one()
    assert count == pupil_count
    assert done.result == {"pupils": pupil_count}


def test_the_broker_is_the_one_broker_url_names(worker: JobRuntime) -> None:
    expected = {"amqp": "RabbitmqBroker", "redis": "RedisBroker"}.get(
        (os.environ.get("BROKER_URL") or "postgresql").split(":", 1)[0], "PostgresBroker"
    )
    assert type(worker.broker).__name__ == expected
    assert worker.queue_name == f"redscarf_{worker.database_url.database}"
