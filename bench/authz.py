"""Benchmark: what authorization costs a 50-pupil roster page.

Not a test; run by hand, figures go to docs/benchmarks.md:

    .venv/bin/python -m bench.authz                           # embedded PostgreSQL
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python -m bench.authz

A county of `--pupils` demo pupils is built in a database of its own (`redscarf_bench_authz`).
The same request, a brigade counselor's first 50 pupils of the school with their squadron, is
sent in turns to two copies of the app in this process (httpx over ASGI, no network):

- **checked**: the real app: the token is read, the caller's roles loaded, the policy turned
  into the SQL scope of the list and checked on every field that asks;
- **unchecked**: the same app and the same token, with an authorizer that allows everything
  (the scope predicate is `true`, every decision yes) — what the page would cost without
  authorization.

Both return the same 50 pupils. Target (issue 3): the checks add under 10% to the median.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import statistics
import time
from typing import Any

import httpx
from sqlalchemy import text

from authz.enforcer import ListScope, authorizer
from authz.principal import Scope
from authz.roles import Role
from bench.tenants import fresh_database, percentile, server_url
from domain.demo import populate_county
from migrations.runner import Migrator
from redscarf.app import create_app
from redscarf.database import libpq_url, make_engine
from redscarf.settings import Settings
from schema.ids import encode_global_id
from tenants.provisioning import create_county
from tenants.sessions import load_tenant
from tests.graphql_client import sign_in_as

CODE = "522731"
QUERY = """query($school: ID!) { pupils(first: 50, under: $school) { edges { node {
  id name gender grade status birthDate squadron { name } } } } }"""


class AllowEverything:
    """An authorizer that says yes to everything: the 'unchecked' side of the comparison."""

    def allowed(self, *args: Any, **kwargs: Any) -> bool:
        return True

    def list_scope(self, *args: Any, **kwargs: Any) -> ListScope:
        return ListScope(everything=True)


def build(settings: Settings, pupils: int) -> tuple[str, str]:
    """The county, its largest school's path and global id."""
    engine = make_engine(settings_url(settings), settings, pool_size=2)
    with engine.begin() as conn:
        Migrator().upgrade_shared(conn)
    create_county(engine, Migrator(), CODE, "惠水县", "52")
    with engine.connect() as conn:
        tenant = load_tenant(conn, CODE)
    started = time.perf_counter()
    populate_county(engine, tenant, pupils=pupils, seed=7, run_key="bench")
    print(f"county of {pupils:,} pupils built in {time.perf_counter() - started:.1f} s")
    with engine.connect() as conn:
        school = conn.execute(
            text(
                f'SELECT b.id, b.path::text FROM "{tenant.schema_name}".units b'
                f" JOIN \"{tenant.schema_name}\".units s ON s.path <@ b.path AND s.kind = 'squadron'"
                f' JOIN "{tenant.schema_name}".pupils p ON p.squadron_id = s.id'
                " WHERE b.kind = 'brigade' GROUP BY b.id ORDER BY count(*) DESC LIMIT 1"
            )
        ).one()
    engine.dispose()
    return school.path, encode_global_id("Unit", CODE, school.id)


def settings_url(settings: Settings) -> Any:
    from redscarf.database import sqlalchemy_url

    return sqlalchemy_url(settings.database_url or "")


async def measure(settings: Settings, school_path: str, school_id: str, n: int) -> None:
    # As `redscarf serve` makes it (start-up objects frozen out of the collector's sight).
    checked_app = create_app(settings, freeze_gc=True)
    unchecked_app = create_app(settings, freeze_gc=True)
    clients = {}
    async with (
        checked_app.router.lifespan_context(checked_app),
        unchecked_app.router.lifespan_context(unchecked_app),
    ):
        services = checked_app.state.services
        unchecked_app.state.services = dataclasses.replace(
            unchecked_app.state.services, authorizer=AllowEverything()
        )
        token = sign_in_as(services, "brigade_counselor", CODE, school_path)
        headers = {"Authorization": f"Bearer {token}"}
        body = {"query": QUERY, "variables": {"school": school_id}}
        for name, app in (("checked", checked_app), ("unchecked", unchecked_app)):
            clients[name] = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://bench"
            )
        timings: dict[str, list[float]] = {"checked": [], "unchecked": []}
        answers: dict[str, Any] = {}
        try:
            for i in range(n + 50):
                # Alternate which side goes first, so neither always meets a warmer cache.
                order = ("checked", "unchecked") if i % 2 else ("unchecked", "checked")
                for name in order:
                    t0 = time.perf_counter()
                    response = await clients[name].post("/graphql", json=body, headers=headers)
                    elapsed = time.perf_counter() - t0
                    data = response.json()
                    assert not data.get("errors"), data
                    if i >= 50:  # the first 50 rounds warm up
                        timings[name].append(elapsed)
                    answers[name] = data
        finally:
            for client in clients.values():
                await client.aclose()
    assert answers["checked"] == answers["unchecked"], "both sides must return the same page"
    assert len(answers["checked"]["data"]["pupils"]["edges"]) == 50

    print(f"\n{n} requests each, interleaved; the same 50 pupils on both sides\n")
    print("| side | median (ms) | p95 (ms) | p99 (ms) |")
    print("|---|---|---|---|")
    for name in ("unchecked", "checked"):
        t = timings[name]
        print(
            f"| {name} | {statistics.median(t) * 1000:.2f} | {percentile(t, 0.95) * 1000:.2f}"
            f" | {percentile(t, 0.99) * 1000:.2f} |"
        )
    ratio = statistics.median(timings["checked"]) / statistics.median(timings["unchecked"])
    print(f"\nchecked / unchecked median: {ratio:.3f} ({(ratio - 1) * 100:+.1f} %)")


def decisions() -> None:
    """The cost of one decision of the policy, without and with the memo."""
    a = authorizer()
    scopes = [Scope(Role.SQUADRON_COUNSELOR, "c.t1.b2.s3")]
    n = 20_000
    t0 = time.perf_counter()
    for i in range(n):
        a._enforce("squadron_counselor", "pupil", "read", "c.t1.b2.s3", f"c.t1.b2.s3.m{i}", "")
    uncached = (time.perf_counter() - t0) / n
    t0 = time.perf_counter()
    for _ in range(n):
        a.allowed(scopes, "pupil", "read", "c.t1.b2.s3.m1")
    cached = (time.perf_counter() - t0) / n
    print(
        f"one decision: {uncached * 1e6:.1f} µs (Casbin FastEnforcer), {cached * 1e6:.2f} µs memoised"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pupils", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--database", default="redscarf_bench_authz")
    args = parser.parse_args()

    server = server_url()
    url = fresh_database(server, args.database)
    settings = Settings(
        database_url=libpq_url(url),
        data_dir=Settings().data_dir / "bench-authz",
        pool_size=5,
        max_overflow=0,
    )
    os.makedirs(settings.data_dir, exist_ok=True)
    school_path, school_id = build(settings, args.pupils)
    decisions()
    asyncio.run(measure(settings, school_path, school_id, args.requests))


if __name__ == "__main__":
    main()
