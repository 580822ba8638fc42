"""The dramatiq broker, built from settings, and the runtime the actors use.

`BROKER_URL` unset means PostgreSQL (`dramatiq-postgres`, queue tables in the `dramatiq` schema
of the service's own database); `amqp://` means RabbitMQ, `redis://` Redis. The broker is built
explicitly and the actors are declared on it (`workers.actors.declare_actors`), so building a
second runtime, e.g. in a test that switches brokers, never reuses a stale global.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import dramatiq
from dramatiq.broker import Broker
from dramatiq.middleware import (
    AgeLimit,
    Callbacks,
    CurrentMessage,
    Middleware,
    Pipelines,
    Retries,
    ShutdownNotifications,
    TimeLimit,
)
from sqlalchemy import Engine
from sqlalchemy.engine import URL

from redscarf.database import libpq_url, make_engine, resolve_database_url, sqlalchemy_url
from redscarf.settings import Settings
from workers.config import JobSettings

QUEUE_SCHEMA = "dramatiq"


@dataclass
class JobRuntime:
    """Everything a worker process needs: settings, the database and the broker."""

    settings: Settings
    job_settings: JobSettings
    database_url: URL
    engine: Engine
    broker: Broker
    queue_name: str

    def close(self) -> None:
        self.broker.close()
        self.engine.dispose()


_current: JobRuntime | None = None
_lock = threading.Lock()


def current_runtime() -> JobRuntime:
    """The runtime of this process (set by `open_runtime`); actors reach the database here."""
    if _current is None:
        raise RuntimeError("no job runtime: call workers.broker.open_runtime first")
    return _current


def queue_name_for(database_url: URL, job_settings: JobSettings) -> str:
    if job_settings.queue:
        return job_settings.queue
    database = re.sub(r"[^A-Za-z0-9_]", "_", database_url.database or "redscarf")
    return f"redscarf_{database}"


def _middleware(job_settings: JobSettings) -> list[Middleware]:
    from workers.state import JobStateMiddleware

    return [
        AgeLimit(),
        TimeLimit(),
        ShutdownNotifications(),
        Callbacks(),
        Pipelines(),
        # Before Retries: "after" hooks run in reverse order, so this one runs after Retries
        # has decided whether the retries are exhausted (`message.failed`).
        JobStateMiddleware(),
        Retries(
            max_retries=job_settings.max_retries,
            min_backoff=job_settings.min_backoff_ms,
            max_backoff=job_settings.max_backoff_ms,
        ),
        CurrentMessage(),
    ]


def ensure_queue_schema(database_url: URL) -> None:
    """Create the `dramatiq` schema of the PostgreSQL broker if missing (idempotent, locked)."""
    import dramatiq_postgres
    import psycopg

    with (
        psycopg.connect(libpq_url(database_url), connect_timeout=10) as conn,
        conn.transaction(),
        conn.cursor() as curs,
    ):
        dramatiq_postgres.init(curs, schema=QUEUE_SCHEMA)


def build_broker(settings: Settings, database_url: URL, job_settings: JobSettings) -> Broker:
    middleware = _middleware(job_settings)
    url = settings.broker_url
    if not url or url.startswith(("postgres://", "postgresql://", "postgresql+")):
        from dramatiq_postgres import PostgresBroker

        # A separate PostgreSQL for the queue may be named; the outbox stays in the database.
        target = sqlalchemy_url(url) if url else database_url
        ensure_queue_schema(target)
        return PostgresBroker(
            url=libpq_url(target),
            schema=QUEUE_SCHEMA,
            results=False,
            middleware=middleware,
            heartbeat_ttl=job_settings.heartbeat_ttl,
            heartbeat_interval=job_settings.heartbeat_interval,
            maintenance_interval=job_settings.maintenance_interval,
        )
    if url.startswith(("amqp://", "amqps://")):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        return RabbitmqBroker(url=url, middleware=middleware, confirm_delivery=True)
    if url.startswith(("redis://", "rediss://", "unix://")):
        from dramatiq.brokers.redis import MAINTENANCE_SCALE, RedisBroker

        heartbeat_ms = int(job_settings.heartbeat_ttl * 1000)
        return RedisBroker(
            url=url,
            middleware=middleware,
            heartbeat_timeout=heartbeat_ms,
            # Dead workers' messages are requeued during maintenance; with a short heartbeat
            # (tests) run it often enough that a killed worker's job comes back promptly.
            maintenance_chance=MAINTENANCE_SCALE // 1000
            if job_settings.heartbeat_ttl >= 60
            else MAINTENANCE_SCALE // 10,
        )
    raise ValueError(f"BROKER_URL must be amqp://, redis:// or empty (PostgreSQL), not {url!r}")


@contextmanager
def open_runtime(
    settings: Settings, job_settings: JobSettings | None = None
) -> Iterator[JobRuntime]:
    """Build the engine and broker, declare the actors on the broker and make it current."""
    global _current
    from workers.actors import declare_actors

    job_settings = job_settings or JobSettings()
    database_url = resolve_database_url(settings)
    engine = make_engine(database_url, settings, pool_size=4, max_overflow=4)
    try:
        broker = build_broker(settings, database_url, job_settings)
    except BaseException:
        engine.dispose()
        raise
    queue = queue_name_for(database_url, job_settings)
    runtime = JobRuntime(settings, job_settings, database_url, engine, broker, queue)
    with _lock:
        dramatiq.set_broker(broker)
        declare_actors(broker, queue, job_settings)
        previous, _current = _current, runtime
    try:
        yield runtime
    finally:
        with _lock:
            _current = previous
        runtime.close()
