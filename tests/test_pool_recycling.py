"""A pooled connection that has served more than `REDSCARF_POOL_MAX_COUNTIES` distinct counties
is closed when it is checked in, and the pool opens a new one: a server process keeps the
catalog caches of every county's tables it touched, so this bounds a connection's memory
(bench/tenant_scale.py, docs/benchmarks.md). Real PostgreSQL: the backend's pid tells one
connection from the next."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL

from redscarf.database import COUNTIES_SERVED, libpq_url, make_async_engine, make_engine
from redscarf.settings import Settings
from tenants.provisioning import County
from tenants.sessions import Tenant, load_tenant, tenant_connection, tenant_session

LIMIT = 3


def _tenants(engine: Engine, make_county: Callable[..., County], n: int) -> list[Tenant]:
    codes = [make_county().code for _ in range(n)]
    with engine.connect() as conn:
        return [load_tenant(conn, code) for code in codes]


def _alive(database_url: URL, pid: int) -> bool:
    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone()
        return found is not None


def test_a_connection_is_replaced_once_it_served_more_than_the_limit(
    database_url: URL, settings: Settings, engine: Engine, make_county: Callable[..., County]
) -> None:
    tenants = _tenants(engine, make_county, LIMIT + 2)
    limited = settings.model_copy(update={"pool_max_counties": LIMIT})
    one = make_engine(database_url, limited, pool_size=1, max_overflow=0)
    try:

        def serve(tenant: Tenant) -> tuple[int, int]:
            with tenant_connection(one, tenant) as conn:
                pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
                # Really in the county: its table, as its role.
                conn.execute(text(f'SELECT count(*) FROM "{tenant.schema_name}".units')).one()
                return pid, len(conn.info[COUNTIES_SERVED])

        first, served = serve(tenants[0])
        assert served == 1
        # The same county again and again does not count twice.
        for _ in range(5):
            assert serve(tenants[0]) == (first, 1)
        # Up to the limit: the same connection.
        assert serve(tenants[1]) == (first, 2)
        assert serve(tenants[2]) == (first, LIMIT)
        # One more county: still served by that connection, which is closed on check-in...
        assert serve(tenants[3]) == (first, LIMIT + 1)
        assert not _alive(database_url, first)
        # ...and the next transaction gets a new one, with nothing counted yet.
        second, served = serve(tenants[4])
        assert second != first
        assert served == 1
        assert _alive(database_url, second)
        # Connections that serve no county (the shared schema) are not counted.
        with one.connect() as conn:
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() == second
    finally:
        one.dispose()


def test_no_limit_keeps_the_connection(
    database_url: URL, settings: Settings, engine: Engine, make_county: Callable[..., County]
) -> None:
    tenants = _tenants(engine, make_county, 3)
    unlimited = settings.model_copy(update={"pool_max_counties": 0})
    one = make_engine(database_url, unlimited, pool_size=1, max_overflow=0)
    try:
        pids = set()
        for tenant in tenants:
            with tenant_connection(one, tenant) as conn:
                pids.add(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())
        assert len(pids) == 1
    finally:
        one.dispose()


async def test_the_service_engine_replaces_its_connections_too(
    database_url: URL, settings: Settings, engine: Engine, make_county: Callable[..., County]
) -> None:
    """The API's engine (asyncio), through `tenant_session` as every request uses it."""
    tenants = _tenants(engine, make_county, LIMIT + 2)
    limited = settings.model_copy(update={"pool_max_counties": LIMIT})
    one = make_async_engine(database_url, limited, pool_size=1, max_overflow=0)
    try:
        pids = []
        for tenant in tenants:
            async with tenant_session(one, tenant) as session:
                pids.append((await session.execute(text("SELECT pg_backend_pid()"))).scalar_one())
        # Four counties on the first connection (closed after the fourth), the fifth on a new one.
        assert pids[:4] == [pids[0]] * 4
        assert pids[4] != pids[0]
        assert not _alive(database_url, pids[0])
    finally:
        await one.dispose()
