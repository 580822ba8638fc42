"""Benchmark: a squadron's 50-pupil roster page under concurrent load, against the floor.

Not a test; run by hand, figures go to docs/benchmarks.md:

    .venv/bin/python -m bench.roster                          # embedded PostgreSQL
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python -m bench.roster

A county of `--pupils` demo pupils (Huishui scale by default: 50,000) is built in a database of
its own (`redscarf_bench_roster`). `redscarf serve` runs in a subprocess on loopback; for each
concurrency level, `--seconds` of requests are sent by that many concurrent clients, each asking
for the roster of a random squadron (first 50 pupils: name, gender, grade, status, masked birth
date, squadron name) as the county's admin. The floor is the same page fetched by one
hand-written SQL statement over psycopg with a pool of the same size, in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import text

from authz.roles import Role
from bench.tenants import fresh_database, percentile, server_url
from domain.demo import populate_county
from migrations.runner import Migrator
from redscarf.database import libpq_url, make_engine, sqlalchemy_url
from redscarf.keys import load_keys
from redscarf.settings import Settings
from schema.ids import encode_global_id
from tenants.provisioning import create_county
from tenants.sessions import load_tenant

CODE = "522731"
SCHEMA = f"county_{CODE}"
QUERY = """query($s: ID!) { pupils(first: 50, under: $s) { edges { node {
  id name gender grade status birthDate squadron { name } } } } }"""
FLOOR = f"""
SELECT p.id, p.name, p.gender, p.grade, p.status, p.birth_date, s.name AS squadron
  FROM "{SCHEMA}".pupils p JOIN "{SCHEMA}".units s ON s.id = p.squadron_id
 WHERE p.squadron_id = %s
 ORDER BY p.id LIMIT 50
"""


def build(settings: Settings, pupils: int) -> list[int]:
    engine = make_engine(sqlalchemy_url(settings.database_url or ""), settings, pool_size=2)
    with engine.begin() as conn:
        Migrator().upgrade_shared(conn)
    create_county(engine, Migrator(), CODE, "惠水县", "52")
    with engine.connect() as conn:
        tenant = load_tenant(conn, CODE)
    started = time.perf_counter()
    populate_county(engine, tenant, pupils=pupils, seed=11, run_key="bench")
    print(f"county of {pupils:,} pupils built in {time.perf_counter() - started:.1f} s")
    with engine.connect() as conn:
        squadrons = list(
            conn.execute(
                text(f"SELECT id FROM \"{SCHEMA}\".units WHERE kind = 'squadron'")
            ).scalars()
        )
    engine.dispose()
    print(f"{len(squadrons):,} squadrons")
    return squadrons


def admin_token(settings: Settings) -> str:
    from domain.accounts.service import create_user, grant_role, start_session

    engine = make_engine(sqlalchemy_url(settings.database_url or ""), settings, pool_size=1)
    keys = load_keys(settings)
    with engine.begin() as conn:
        user = create_user(conn, keys.cipher, display_name="基准管理员", username="bench-admin")
        grant_role(conn, user, Role.COUNTY_ADMIN, CODE, "c", granted_by=None)
        long = settings.model_copy(
            update={"access_token_minutes": 600, "idle_timeout_minutes": 600}
        )
        token = start_session(conn, keys, long, user, mfa=True, client="bench").access_token
    engine.dispose()
    return token


def start_server(settings: Settings, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url or "",
        "REDSCARF_DATA_DIR": str(settings.data_dir),
        "REDSCARF_IDLE_TIMEOUT_MINUTES": "600",
        "REDSCARF_POOL_SIZE": "10",
        # A benchmark is one client asking as fast as it can: no per-client budget.
        "REDSCARF_RATE_LIMIT_POINTS": "0",
    }
    redscarf = str(Path(sys.executable).parent / "redscarf")
    server = subprocess.Popen(
        [redscarf, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(120):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    server.kill()
    raise RuntimeError("the server did not become ready")


async def load(concurrency: int, seconds: float, one: Any) -> list[float]:
    """`concurrency` clients call `one()` back to back for `seconds`; the latencies."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            await one()
            latencies.append(time.perf_counter() - t0)

    await asyncio.gather(*(client() for _ in range(concurrency)))
    return latencies


def row(name: str, concurrency: int, seconds: float, t: list[float]) -> str:
    return (
        f"| {name} | {concurrency} | {len(t) / seconds:,.0f} | {statistics.median(t) * 1000:.1f}"
        f" | {percentile(t, 0.99) * 1000:.1f} |"
    )


async def measure(
    settings: Settings, squadrons: list[int], port: int, levels: list[int], seconds: float
) -> None:
    token = admin_token(settings)
    rng = random.Random(3)
    server = start_server(settings, port)
    lines = ["| path | concurrency | requests/s | p50 (ms) | p99 (ms) |", "|---|---|---|---|---|"]
    try:
        async with (
            httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{port}",
                timeout=30,
                limits=httpx.Limits(max_connections=64),
            ) as http,
            AsyncConnectionPool(
                libpq_url(settings.database_url or ""), min_size=1, max_size=max(levels), open=False
            ) as pool,
        ):
            await pool.open(wait=True)

            async def api() -> None:
                squadron = encode_global_id("Unit", CODE, rng.choice(squadrons))
                response = await http.post(
                    "/graphql",
                    json={"query": QUERY, "variables": {"s": squadron}},
                    headers={"Authorization": f"Bearer {token}"},
                )
                body = response.json()
                assert not body.get("errors"), body
                assert body["data"]["pupils"]["edges"], body

            async def floor() -> None:
                async with pool.connection() as conn:
                    rows = await (await conn.execute(FLOOR, (rng.choice(squadrons),))).fetchall()
                    assert rows

            await load(4, 3, api)  # warm up both
            await load(4, 3, floor)
            for concurrency in levels:
                for name, one in (
                    ("API (GraphQL over HTTP)", api),
                    ("floor (one SQL, psycopg)", floor),
                ):
                    t = await load(concurrency, seconds, one)
                    lines.append(row(name, concurrency, seconds, t))
                    print(lines[-1], flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print("\n" + "\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pupils", type=int, default=50_000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--levels", default="1,8,32")
    parser.add_argument("--database", default="redscarf_bench_roster")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()

    url = fresh_database(server_url(), args.database)
    settings = Settings(database_url=libpq_url(url), data_dir=Settings().data_dir / "bench-roster")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    squadrons = build(settings, args.pupils)
    port = args.port or _free_port()
    asyncio.run(
        measure(settings, squadrons, port, [int(x) for x in args.levels.split(",")], args.seconds)
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


if __name__ == "__main__":
    main()
