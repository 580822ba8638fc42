"""Leak test: many interleaved requests for 20 counties over a small pool leave no trace.

Given 20 counties whose every unit name starts with its own code, and an app over a pool of
3 connections (+2 overflow), when 2,000 requests run interleaved — most ordinary, some
cancelled midway (also in the middle of a statement), some failing inside the county's
transaction (a statement the database refuses, a county whose schema is broken) — then every
answer holds only its own county's rows, and afterwards every pooled connection is back to the
service's own login with no role, no search_path change and no open transaction.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from psycopg.pq import TransactionStatus
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from redscarf.app import create_app
from redscarf.database import make_async_engine
from redscarf.settings import Settings
from tenants.provisioning import County
from tenants.sessions import tenant_session
from tests.graphql_client import GraphQLClient, create_unit, create_units, tenant_of

COUNTIES = 20
REQUESTS = int(os.environ.get("LEAK_REQUESTS", "2000"))
IN_FLIGHT = 64
POOL_SIZE, MAX_OVERFLOW = 3, 2

# Two county transactions per request: the page, then one DataLoader batch for the children.
QUERY = "{ units(first: 10) { edges { node { name children { name } } } } }"
BAD_CURSOR = '{ units(first: 5, after: "bm8gc3VjaCBjdXJzb3I=") { totalCount } }'

pytestmark = pytest.mark.slow


@pytest.fixture
def counties(engine: Engine, make_county: Callable[..., County]) -> list[County]:
    made = []
    for _ in range(COUNTIES):
        county = make_county()
        root = create_unit(engine, county, "county", f"{county.code}-县")
        townships = create_units(
            engine, county, root, "township", [f"{county.code}-镇{i}" for i in range(3)]
        )
        create_units(
            engine, county, townships[0], "brigade", [f"{county.code}-校{i}" for i in range(4)]
        )
        made.append(county)
    return made


@pytest.fixture
def broken_county(engine: Engine, make_county: Callable[..., County]) -> County:
    """A county whose schema lost its units table: every query of it fails mid-transaction."""
    county = make_county()
    with engine.begin() as conn:
        conn.execute(text(f'DROP TABLE "{county.schema_name}".units CASCADE'))
    return county


def _names(body: dict[str, Any]) -> list[str]:
    names = []
    for edge in body["data"]["units"]["edges"]:
        names.append(edge["node"]["name"])
        names += [child["name"] for child in edge["node"]["children"]]
    return names


async def test_interleaved_cancelled_and_failing_requests_leak_nothing(
    database_url: URL,
    settings: Settings,
    counties: list[County],
    broken_county: County,
) -> None:
    small_pool: AsyncEngine = make_async_engine(
        database_url, settings, pool_size=POOL_SIZE, max_overflow=MAX_OVERFLOW, pool_timeout=60
    )
    app = create_app(settings, async_engine=small_pool)
    rng = random.Random(20260101)
    outcomes: Counter[str] = Counter()
    wrong: list[str] = []
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def ordinary(gql: GraphQLClient, county: County) -> None:
        body = await gql.execute(QUERY, county=county.code)
        assert not body.get("errors"), body
        names = _names(body)
        assert names
        wrong.extend(f"{county.code} got {n}" for n in names if not n.startswith(county.code))
        outcomes["ok"] += 1

    async def cancelled(gql: GraphQLClient, county: County) -> None:
        try:
            await asyncio.wait_for(ordinary(gql, county), timeout=rng.uniform(0.0005, 0.02))
        except TimeoutError:
            outcomes["cancelled"] += 1

    async def cancelled_mid_statement(county: County) -> None:
        async def slow() -> None:
            async with tenant_session(small_pool, tenant_of(county)) as session:
                await session.execute(text("SELECT pg_sleep(0.05)"))

        try:
            await asyncio.wait_for(slow(), timeout=0.005)
        except TimeoutError:
            outcomes["cancelled_mid_statement"] += 1

    async def refused_by_the_database(county: County, other: County) -> None:
        # A query naming another county's schema, as a bug would: the county role is refused.
        try:
            async with tenant_session(small_pool, tenant_of(county)) as session:
                await session.execute(text(f'SELECT count(*) FROM "{other.schema_name}".units'))
        except DBAPIError as exc:
            if "permission denied" not in str(exc.orig):
                raise
            outcomes["refused"] += 1
        else:
            wrong.append(f"{county.code} could read {other.schema_name}")

    async def failing(gql: GraphQLClient, county: County) -> None:
        if rng.random() < 0.5:
            body = await gql.execute(QUERY, county=broken_county.code)
            codes = [e.get("extensions", {}).get("code") for e in body.get("errors") or []]
            assert "INTERNAL_ERROR" in codes, body
            outcomes["failed_in_transaction"] += 1
        else:
            assert await gql.error_codes(BAD_CURSOR, county=county.code) == ["INVALID_CURSOR"]
            outcomes["bad_input"] += 1

    async def one(gql: GraphQLClient) -> None:
        county, other = rng.sample(counties, 2)
        roll = rng.random()
        async with gate:
            if roll < 0.08:
                await cancelled(gql, county)
            elif roll < 0.10:
                await cancelled_mid_statement(county)
            elif roll < 0.14:
                await refused_by_the_database(county, other)
            elif roll < 0.20:
                await failing(gql, county)
            else:
                await ordinary(gql, county)

    started = time.monotonic()
    try:
        async with GraphQLClient(app) as gql:
            await asyncio.gather(*(one(gql) for _ in range(REQUESTS)))
            # Loader batches run in tasks of their own; let those of cancelled requests end.
            deadline = time.monotonic() + 10
            while small_pool.pool.checkedout() and time.monotonic() < deadline:  # type: ignore[attr-defined]  # noqa: ASYNC110 - polling the pool, nothing to wait on
                await asyncio.sleep(0.05)
        elapsed = time.monotonic() - started
        print(f"\n{REQUESTS} requests in {elapsed:.1f}s: {dict(outcomes)}")

        assert wrong == []
        assert sum(outcomes.values()) == REQUESTS
        for kind in (
            "ok",
            "cancelled",
            "cancelled_mid_statement",
            "refused",
            "failed_in_transaction",
            "bad_input",
        ):
            assert outcomes[kind] > 0, outcomes
        assert small_pool.pool.checkedout() == 0  # type: ignore[attr-defined]
        await _assert_pool_is_clean(small_pool)
    finally:
        await small_pool.dispose()


async def _assert_pool_is_clean(engine: AsyncEngine) -> None:
    """Check out every pooled connection at once and look at what each one carries."""
    pooled = engine.pool.checkedin()  # type: ignore[attr-defined]
    assert 1 <= pooled <= POOL_SIZE
    login = engine.url.username
    conns = [await engine.connect() for _ in range(pooled)]
    try:
        for conn in conns:
            raw = await conn.get_raw_connection()
            driver = raw.driver_connection
            assert driver is not None
            # Before we run anything: no transaction left open by a previous user.
            assert driver.info.transaction_status == TransactionStatus.IDLE
            row = (
                await conn.execute(
                    text(
                        "SELECT current_user, session_user, current_setting('role'),"
                        " current_setting('search_path')"
                    )
                )
            ).one()
            current_user, session_user, role, search_path = row
            assert current_user == session_user
            if login:
                assert session_user == login
            assert role == "none"
            assert search_path == '"$user", public'
            await conn.rollback()
    finally:
        for conn in conns:
            await conn.close()
