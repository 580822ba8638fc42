"""Benchmark: the two main reads (issue 10), in process and against `redscarf serve`.

Not a test; run by hand:

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python -m bench.reads --build         # once: the county and the tokens
    DATABASE_URL=... .venv/bin/python -m bench.reads    # measure (again, e.g. on other code)

`--build` makes a county of `--pupils` demo pupils in a database of its own (`--database`)
whose pupils each have an archive (bench/badges.py `build_archive`: 13 badges, 7 ledger
entries), and writes three callers' tokens (valid 10 hours) beside the data directory:
the county's admin, a squadron's counselor and a guardian bound to one pupil of it.

Measuring sends, for each read, `--rounds` requests (after warm-up) to the app in this
process (httpx over ASGI: server work only, no network) at one client, and then `--seconds`
of requests by `--clients` concurrent clients to `redscarf serve` in a subprocess:

- roster: `pupils(first: 50, under: <squadron>)` with id, name, gender, grade, status, masked
  birth date and squadron, as the admin and as the squadron's counselor;
- guardian: one pupil with squadron, points, 20 entries of points history and badges, as the
  pupil's guardian.

Run it from two work trees (`PYTHONPATH=<tree>`) against the same build to compare code.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert, text

from authz.roles import Role
from bench.roster import _free_port, load, start_server
from bench.tenants import fresh_database, percentile, server_url
from redscarf.database import libpq_url, make_engine, sqlalchemy_url
from redscarf.settings import Settings
from schema.ids import encode_global_id

CODE = "522731"
SCHEMA = f"county_{CODE}"
ROSTER = """query($s: ID!) { pupils(first: 50, under: $s) { edges { node {
  id name gender grade status birthDate squadron { name } } } } }"""
GUARDIAN = """query($id: ID!) { pupil(id: $id) { id name grade squadron { name }
  points { balance held available }
  pointsHistory(first: 20) { edges { node { amount kind memo at balanceAfter } } }
  badges { badge { name level } state awardedAt } } }"""


def _settings(database: str) -> Settings:
    url = sqlalchemy_url(server_url(), database)
    data_dir = Path(os.environ.get("REDSCARF_DATA_DIR") or "/tmp/rs_perf_reads").resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    return Settings(
        database_url=libpq_url(url),
        data_dir=data_dir,
        idle_timeout_minutes=600,
        access_token_minutes=600,
    )


def build(settings: Settings, database: str, pupils: int) -> None:
    from bench.badges import build_archive
    from domain.people.tables import guardian_bindings, guardians
    from redscarf.keys import load_keys
    from tenants.sessions import load_tenant, tenant_connection

    fresh_database(server_url(), database)
    ids = build_archive(settings, pupils)
    engine = make_engine(sqlalchemy_url(settings.database_url or ""), settings, pool_size=1)
    with engine.connect() as conn:
        squadron = conn.execute(
            text(f"""SELECT s.id, s.path, count(*) AS n FROM "{SCHEMA}".units s
                      JOIN "{SCHEMA}".pupils p ON p.squadron_id = s.id
                     GROUP BY s.id ORDER BY count(*) DESC, s.id LIMIT 1""")
        ).one()
        pupil = conn.execute(
            text(f'SELECT min(id) FROM "{SCHEMA}".pupils WHERE squadron_id = :s'),
            {"s": squadron.id},
        ).scalar_one()
        tenant = load_tenant(conn, CODE)
    keys = load_keys(settings)
    tokens = {
        "admin": _token(engine, keys, settings, "county_admin", "c"),
        "counselor": _token(engine, keys, settings, "squadron_counselor", squadron.path),
        "guardian": _token(engine, keys, settings, "guardian", "c"),
    }
    from domain.accounts.tokens import read_access_token

    user_id = read_access_token(keys.token_secret, tokens["guardian"]).user_id
    with tenant_connection(engine, tenant) as conn:
        # Demo squadrons hold about 40: copies of its pupils make the page a full 50.
        conn.execute(
            text(f"""INSERT INTO "{SCHEMA}".pupils
                            (squadron_id, team_id, name, gender, birth_date, grade, status)
                     SELECT squadron_id, team_id, name, gender, birth_date, grade, status
                       FROM "{SCHEMA}".pupils WHERE squadron_id = :s ORDER BY id LIMIT :n"""),
            {"s": squadron.id, "n": max(50 - squadron.n, 0)},
        )
        guardian = conn.execute(
            insert(guardians).values(name="王妈妈", user_id=user_id).returning(guardians.c.id)
        ).scalar_one()
        conn.execute(
            insert(guardian_bindings).values(
                guardian_id=guardian, pupil_id=pupil, relation="mother",
                verified_at=dt.datetime.now(dt.UTC),
            )
        )  # fmt: skip
    engine.dispose()
    state = {
        "squadron": encode_global_id("Unit", CODE, squadron.id),
        "pupil": encode_global_id("Pupil", CODE, pupil),
        "tokens": tokens,
        "pupils": len(ids),
    }
    (settings.data_dir / "reads.json").write_text(json.dumps(state))
    print(f"built: {len(ids):,} pupils; squadron {squadron.path}, pupil {pupil}")


def _token(engine: Any, keys: Any, settings: Settings, role: str, scope: str) -> str:
    import uuid

    from domain.accounts.service import create_user, grant_role, start_session

    with engine.begin() as conn:
        user = create_user(conn, keys.cipher, display_name=role, username=f"b{uuid.uuid4().hex}")
        grant_role(conn, user, Role(role), CODE, scope, granted_by=None)
        return start_session(conn, keys, settings, user, mfa=True, client="bench").access_token


def cases(state: dict[str, Any]) -> list[tuple[str, str, dict[str, Any], str]]:
    tokens = state["tokens"]
    return [
        ("roster, county admin", ROSTER, {"s": state["squadron"]}, tokens["admin"]),
        ("roster, squadron counselor", ROSTER, {"s": state["squadron"]}, tokens["counselor"]),
        ("guardian, one pupil", GUARDIAN, {"id": state["pupil"]}, tokens["guardian"]),
    ]


def _check(body: dict[str, Any]) -> None:
    assert not body.get("errors"), body
    data = body["data"]
    assert data.get("pupils", {}).get("edges") or data.get("pupil"), body


async def in_process(settings: Settings, state: dict[str, Any], rounds: int) -> dict[str, float]:
    from redscarf.app import create_app

    os.environ["REDSCARF_RATE_LIMIT_POINTS"] = "0"  # as start_server: no per-client budget
    app = create_app(settings, freeze_gc=True)
    medians: dict[str, float] = {}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://redscarf.test"
        ) as http,
    ):
        for name, query, variables, token in cases(state):
            headers = {"Authorization": f"Bearer {token}"}
            body = {"query": query, "variables": variables}
            times: list[float] = []
            for i in range(rounds + 30):
                if i == 30:
                    cpu = time.process_time()
                t0 = time.perf_counter()
                response = await http.post("/graphql", json=body, headers=headers)
                elapsed = time.perf_counter() - t0
                _check(response.json())
                if i >= 30:
                    times.append(elapsed)
            # CPU time of this process (server and client) per request: steadier than the
            # latency on a machine that other work shares.
            cpu_ms = (time.process_time() - cpu) / rounds * 1000
            medians[name] = statistics.median(times) * 1000
            print(
                f"in process | {name} | p50 {medians[name]:.2f} ms"
                f" | p95 {percentile(times, 0.95) * 1000:.2f} ms | CPU {cpu_ms:.2f} ms",
                flush=True,
            )
    return medians


async def served(
    settings: Settings, state: dict[str, Any], clients: int, seconds: float
) -> dict[str, tuple[float, float]]:
    port = _free_port()
    server = start_server(settings, port)
    found: dict[str, tuple[float, float]] = {}
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", timeout=30,
            limits=httpx.Limits(max_connections=64),
        ) as http:  # fmt: skip
            for name, query, variables, token in cases(state):
                headers = {"Authorization": f"Bearer {token}"}
                body = {"query": query, "variables": variables}

                async def one(body: Any = body, headers: Any = headers) -> None:
                    response = await http.post("/graphql", json=body, headers=headers)
                    _check(response.json())

                await load(clients, 2, one)  # warm up
                t = await load(clients, seconds, one)
                found[name] = (len(t) / seconds, statistics.median(t) * 1000)
                print(
                    f"served, {clients} clients | {name} | {found[name][0]:.0f} req/s"
                    f" | p50 {found[name][1]:.1f} ms",
                    flush=True,
                )
    finally:
        server.terminate()
        server.wait(timeout=30)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", action="store_true")
    parser.add_argument("--pupils", type=int, default=5000)
    parser.add_argument("--database", default="rs_perf_reads")
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--skip-served", action="store_true")
    args = parser.parse_args()

    settings = _settings(args.database)
    if args.build:
        build(settings, args.database, args.pupils)
        return
    state = json.loads((settings.data_dir / "reads.json").read_text())
    print(f"load average {Path('/proc/loadavg').read_text().strip()}")
    asyncio.run(in_process(settings, state, args.rounds))
    if not args.skip_served:
        asyncio.run(served(settings, state, args.clients, args.seconds))


if __name__ == "__main__":
    main()
