"""Benchmark: read latency with 10, 1,000 and 5,000 counties on one server, and the memory of a
database connection after it has served many counties.

Not a test; run by hand, figures go to docs/benchmarks.md:

    .venv/bin/python -m bench.tenant_scale                   # embedded PostgreSQL
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python -m bench.tenant_scale

It works in a database of its own (`--database`, default `redscarf_bench_scale`), dropped with
its county roles at the start and the end of each run. For each step of `--steps`:

1. counties are onboarded up to that number (`create_county`, `--processes` at a time); the first
   `--demo-counties` get demo data (`populate_county`, `--demo-pupils` each), every other one a
   township, a school, one squadron and 50 pupils (SQL, cheap), so that reads can rotate over
   all counties and every roster page has the same shape; each county gets its own admin
   account and token;
2. for each value of `--max-counties` (`REDSCARF_POOL_MAX_COUNTIES` of the server; 0: no
   limit, the service before the limit existed), `redscarf serve` is started in a subprocess and
   each read (a squadron's 50-pupil roster page; one pupil as a guardian sees it: points and
   badges) is sent for `--seconds` at each of `--levels` concurrent clients, every request to a
   county drawn at random among all of them; then the memory of the server's pooled
   connections (their backends' RssAnon and Pss) is read from /proc.

`--reuse` keeps the counties a previous run left (`--keep`) and onboards only beyond them;
with `--steps 0 --no-api` it measures only the memory of one connection (below). Onboarding
5,000 counties takes over an hour on 2 shared cores (about 1 s a county past 2,000): onboard
once with `--keep`, then measure with `--reuse`. `--spreads 10,1000` also sends the same
reads to only the first 10 (1,000) counties in the same run, cell after cell, so that the
effect of spreading requests over many counties is measured under the same machine load.

After the last step, one connection (an in-process app whose pool has one connection) serves
the two reads for the counties one after another; after 1, 10, 100, ... distinct counties its
memory is read (`pg_backend_memory_contexts`: all, CacheMemoryContext; RssAnon and Pss of the
backend from /proc: the server must be local), for each `--max-counties` again.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import platform
import random
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
import psycopg
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL

from authz.roles import Role
from bench.roster import _free_port, load, start_server
from bench.tenants import county_codes, drop_database, fresh_database, percentile, server_url
from domain.accounts.service import create_user, grant_role, start_session
from domain.demo import populate_county
from migrations.runner import Migrator
from redscarf.database import (
    COUNTIES_SERVED,
    libpq_url,
    make_async_engine,
    make_engine,
    sqlalchemy_url,
)
from redscarf.keys import load_keys
from redscarf.settings import Settings
from schema.ids import encode_global_id
from tenants.provisioning import create_county
from tenants.sessions import load_tenant

ROSTER = """query($s: ID!) { pupils(first: 50, under: $s) { edges { node {
  id name gender grade status birthDate squadron { name } } } } }"""
PUPIL = """query($id: ID!) { pupil(id: $id) { id name grade squadron { name }
  points { balance held available } badges { state } } }"""

SEED = """
WITH t AS (
  INSERT INTO "{s}".units (parent_id, kind, name, path, area)
  SELECT id, 'township', '基准镇', 'c.t1', 'rural' FROM "{s}".units WHERE path = 'c'
  RETURNING id
), b AS (
  INSERT INTO "{s}".units (parent_id, kind, name, path, area, school_kind)
  SELECT id, 'brigade', '基准小学', 'c.t1.b1', 'rural', 'ordinary' FROM t RETURNING id
), q AS (
  INSERT INTO "{s}".units (parent_id, kind, name, path, area, grade)
  SELECT id, 'squadron', '三（1）中队', 'c.t1.b1.s1', 'rural', 3 FROM b RETURNING id
)
INSERT INTO "{s}".pupils (squadron_id, name, gender, birth_date, grade, status, joined_on)
SELECT q.id, '基准队员' || g, CASE WHEN g % 2 = 0 THEN 'male' ELSE 'female' END,
       date '2016-09-01' + g, 3, 'member', date '2023-10-13'
  FROM q, generate_series(1, 50) g
RETURNING squadron_id, id
"""

MEMORY = """
SELECT pg_backend_pid(),
       (SELECT sum(total_bytes) FROM pg_backend_memory_contexts),
       (SELECT sum(total_bytes) FROM pg_backend_memory_contexts
         WHERE name = 'CacheMemoryContext' OR parent = 'CacheMemoryContext')
"""
# PostgreSQL 18 names a context's ancestors by `path` (and has no `parent` column any more):
# CacheMemoryContext with all its descendants.
MEMORY_18 = """
SELECT pg_backend_pid(),
       (SELECT sum(total_bytes) FROM pg_backend_memory_contexts),
       (SELECT sum(m.total_bytes)
          FROM pg_backend_memory_contexts m,
               (SELECT level, path[level] AS id FROM pg_backend_memory_contexts
                 WHERE name = 'CacheMemoryContext') c
         WHERE m.path[c.level] = c.id)
"""


@dataclass
class County:
    code: str
    squadrons: list[int]
    pupils: list[int]
    token: str = ""


@dataclass
class World:
    counties: list[County] = field(default_factory=list)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')} load {loadavg()}] {message}", flush=True)


def loadavg() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


# --- building -------------------------------------------------------------------------------


_worker: dict[str, Any] = {}


def _onboard_one(url: str, code: str, seed: bool) -> None:
    """One county, in a worker process (tenant migrations keep module state: no threads)."""
    if "engine" not in _worker:
        _worker["engine"] = make_engine(
            sqlalchemy_url(url),
            Settings(pool_max_counties=0),
            pool_size=1,
        )
        _worker["migrator"] = Migrator()
    engine = _worker["engine"]
    create_county(engine, _worker["migrator"], code, f"基准县{code}", code[:2])
    if seed:
        with engine.begin() as conn:
            conn.execute(text(SEED.format(s=f"county_{code}"))).all()


def onboard(engine: Engine, codes: list[str], processes: int, demo: set[str], args: Any) -> float:
    started = time.perf_counter()
    url = libpq_url(engine.url)
    with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("fork")) as pool:
        futures = [pool.submit(_onboard_one, url, code, code not in demo) for code in codes]
        for i, future in enumerate(futures, 1):
            future.result()
            if i % 250 == 0:
                log(f"  {i}/{len(codes)} counties, {time.perf_counter() - started:.0f} s")
    elapsed = time.perf_counter() - started
    for code in sorted(demo & set(codes)):
        with engine.connect() as conn:
            tenant = load_tenant(conn, code)
        t0 = time.perf_counter()
        populate_county(engine, tenant, pupils=args.demo_pupils, seed=int(code), run_key="bench")
        log(f"  demo data in {code}: {args.demo_pupils} pupils, {time.perf_counter() - t0:.1f} s")
    return elapsed


def describe(
    engine: Engine, settings: Settings, codes: list[str], prefix: str = "a"
) -> list[County]:
    """Each county's squadrons and pupils, and an admin's token (one account per county)."""
    keys = load_keys(settings)
    long = settings.model_copy(update={"access_token_minutes": 600, "idle_timeout_minutes": 600})
    found: list[County] = []
    for i in range(0, len(codes), 100):
        # 100 counties a transaction: each holds locks on two tables of every county it reads.
        with engine.begin() as conn:
            found += _describe(conn, keys, long, codes[i : i + 100], prefix)
    return found


def _describe(conn: Any, keys: Any, long: Settings, codes: list[str], prefix: str) -> list[County]:
    found: list[County] = []
    for code in codes:
        s = f"county_{code}"
        squadrons = list(
            conn.execute(text(f"SELECT id FROM \"{s}\".units WHERE kind = 'squadron'")).scalars()
        )
        pupils = list(conn.execute(text(f'SELECT id FROM "{s}".pupils')).scalars())
        user = create_user(
            conn, keys.cipher, display_name=f"管理员{code}", username=f"{prefix}{code}"
        )
        grant_role(conn, user, Role.COUNTY_ADMIN, code, "c", granted_by=None)
        token = start_session(conn, keys, long, user, mfa=True, client="bench").access_token
        found.append(County(code, squadrons, pupils, token))
    return found


# --- reads ------------------------------------------------------------------------------------


def reads(
    http: httpx.AsyncClient, world: World, rng: random.Random
) -> dict[str, Callable[[], Awaitable[None]]]:
    async def post(county: County, query: str, variables: dict[str, str]) -> dict[str, Any]:
        response = await http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {county.token}"},
        )
        body = response.json()
        assert not body.get("errors"), body
        return body["data"]

    async def roster(county: County | None = None) -> None:
        county = county or rng.choice(world.counties)
        squadron = encode_global_id("Unit", county.code, rng.choice(county.squadrons))
        data = await post(county, ROSTER, {"s": squadron})
        assert data["pupils"]["edges"], data

    async def pupil(county: County | None = None) -> None:
        county = county or rng.choice(world.counties)
        pupil_id = encode_global_id("Pupil", county.code, rng.choice(county.pupils))
        data = await post(county, PUPIL, {"id": pupil_id})
        assert data["pupil"]["points"] is not None, data

    return {"roster": roster, "pupil": pupil}  # type: ignore[dict-item]


# --- memory -----------------------------------------------------------------------------------


def proc_memory(pid: int) -> tuple[int, int]:
    """RssAnon and Pss of a (local) process, in kB."""
    rss_anon = pss = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                rss_anon = int(line.split()[1])
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith("Pss:"):
                pss = int(line.split()[1])
    return rss_anon, pss


def pool_memory(url: URL, database: str) -> tuple[int, int, int]:
    """Backends of the served app's connections (application_name redscarf) in `database`:
    how many, and the sum of their RssAnon and Pss (kB)."""
    with psycopg.connect(libpq_url(url), autocommit=True, application_name="bench") as conn:
        pids = [
            r[0]
            for r in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s"
                " AND application_name = 'redscarf' AND backend_type = 'client backend'",
                (database,),
            )
        ]
    total_anon = total_pss = 0
    for pid in pids:
        try:
            anon, pss = proc_memory(pid)
        except FileNotFoundError:
            continue
        total_anon += anon
        total_pss += pss
    return len(pids), total_anon, total_pss


async def one_connection(
    url: URL, settings: Settings, world: World, checkpoints: list[int]
) -> list[tuple[int, int, int, int, int, int, int]]:
    """One pooled connection serves both reads for county after county, through the real app
    (in process, over ASGI); its memory after each checkpoint of distinct counties."""
    from redscarf.app import create_app

    engine = make_async_engine(url, settings, pool_size=1, max_overflow=0, pool_timeout=60)
    # The tokens were made before the load: their sessions must not have idled out.
    app = create_app(settings.model_copy(update={"idle_timeout_minutes": 600}), async_engine=engine)
    rows = []
    rng = random.Random(5)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://bench", timeout=120
        ) as http,
    ):
        read = reads(http, World(world.counties), rng)
        served = 0
        for n in checkpoints:
            t0 = time.perf_counter()
            while served < n:
                county = world.counties[served]
                await read["roster"](county)  # type: ignore[call-arg]
                await read["pupil"](county)  # type: ignore[call-arg]
                served += 1
            elapsed = time.perf_counter() - t0
            async with engine.connect() as conn:
                version = int(await conn.scalar(text("SHOW server_version_num")))
                query = MEMORY_18 if version >= 180000 else MEMORY
                pid, total, cache = (await conn.exec_driver_sql(query)).one()
                on_conn = len(conn.info.get(COUNTIES_SERVED, ()))
            anon, pss = proc_memory(pid)
            rows.append((n, on_conn, int(total), int(cache), anon, pss, pid))
            log(
                f"  after {n} counties ({elapsed:.0f} s): backend {pid} has served {on_conn};"
                f" contexts {total / 2**20:.1f} MiB, cache {cache / 2**20:.1f} MiB,"
                f" RssAnon {anon / 1024:.1f} MiB, Pss {pss / 1024:.1f} MiB"
            )
    await engine.dispose()
    return rows


# --- the run ----------------------------------------------------------------------------------


def ms(values: list[float], q: float) -> str:
    return f"{percentile(values, q) * 1000:.1f}"


async def measure_api(
    settings: Settings, url: URL, database: str, world: World, args: Any, max_counties: int
) -> tuple[list[str], tuple[int, int, int]]:
    os.environ["REDSCARF_POOL_MAX_COUNTIES"] = str(max_counties)
    port = args.port or _free_port()
    server = start_server(settings, port)
    n = len(world.counties)
    lines: list[str] = []
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", timeout=60, limits=httpx.Limits(max_connections=16)
        ) as http:
            # Each cell rotates over the first `spread` counties; several spreads are measured
            # one after the other for the same read, so that they share the machine's load.
            spreads = [k for k in args.spreads if k < n] + [n]
            read = {k: reads(http, World(world.counties[:k]), random.Random(k)) for k in spreads}
            await load(4, args.warmup, read[n]["roster"])
            await load(4, args.warmup, read[n]["pupil"])
            for concurrency in args.levels:
                for name in ("roster", "pupil"):
                    for k in spreads:
                        t = await load(concurrency, args.seconds, read[k][name])
                        lines.append(
                            f"| {n:,} | {k:,} | {max_counties or 'no limit'} | {name} |"
                            f" {concurrency} | {len(t) / args.seconds:,.0f} | {ms(t, 0.5)} |"
                            f" {ms(t, 0.95)} | {ms(t, 0.99)} | {loadavg()} |"
                        )
                        print(lines[-1], flush=True)
        memory = pool_memory(url, database)
        log(
            f"  pool after the load: {memory[0]} backends, RssAnon {memory[1] / 1024:.0f} MiB,"
            f" Pss {memory[2] / 1024:.0f} MiB"
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    return lines, memory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", default="10,1000,5000")
    parser.add_argument("--processes", type=int, default=2, help="onboarding processes")
    parser.add_argument("--demo-counties", type=int, default=3)
    parser.add_argument("--demo-pupils", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=10, help="per latency cell")
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--levels", default="1,4")
    parser.add_argument(
        "--spreads",
        default="10",
        help="also rotate reads over only this many counties, in the same run (comma-separated)",
    )
    parser.add_argument(
        "--max-counties",
        default="0,100",
        help="REDSCARF_POOL_MAX_COUNTIES values to compare (0: no limit)",
    )
    parser.add_argument("--memory-checkpoints", default="1,10,100,1000,5000")
    parser.add_argument("--database", default="redscarf_bench_scale")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the counties already in --database; onboard only beyond them",
    )
    parser.add_argument("--no-api", dest="api", action="store_false", help="no latency cells")
    args = parser.parse_args()
    args.levels = [int(x) for x in args.levels.split(",")]
    args.spreads = [int(x) for x in args.spreads.split(",") if x]
    steps = [int(x) for x in args.steps.split(",")]
    limits = [int(x) for x in args.max_counties.split(",")]

    print(f"{platform.node()}: {os.cpu_count()} CPUs, Python {platform.python_version()}")
    server = server_url()
    url = (
        sqlalchemy_url(server, args.database)
        if args.reuse
        else fresh_database(server, args.database)
    )
    settings = Settings(
        database_url=libpq_url(url),
        data_dir=Settings().data_dir / "bench-scale",
        pool_max_counties=0,
    )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(url, settings, pool_size=args.processes, max_overflow=0)
    codes = county_codes(max(steps)) if max(steps) else []
    demo = set(codes[: args.demo_counties])
    world = World()
    latency: list[str] = []
    pools: list[str] = []
    try:
        with engine.begin() as conn:
            Migrator().upgrade_shared(conn)
        if args.reuse:
            with engine.connect() as conn:
                found = conn.execute(
                    text("SELECT code FROM shared.tenants WHERE status = 'active' ORDER BY code")
                ).scalars()
                world.counties = describe(engine, settings, list(found), prefix=f"m{os.getpid()}x")
            # A county onboarded by a run that was stopped before seeding it has nothing to read.
            world.counties = [c for c in world.counties if c.squadrons and c.pupils]
            log(f"{len(world.counties)} counties with pupils found in {args.database}")
            steps = [s for s in steps if s > len(world.counties)] or [len(world.counties)]
        for step in steps:
            new = codes[len(world.counties) : step]
            if new:
                log(f"onboarding {len(new)} counties (to {step})")
                elapsed = onboard(engine, new, args.processes, demo, args)
                log(
                    f"onboarded {len(new)} in {elapsed:.1f} s"
                    f" ({elapsed / len(new) * 1000:.0f} ms each)"
                )
                world.counties += describe(engine, settings, new)
            for max_counties in limits if args.api else []:
                lines, (backends, anon, pss) = asyncio.run(
                    measure_api(settings, url, args.database, world, args, max_counties)
                )
                latency += lines
                pools.append(
                    f"| {step:,} | {max_counties or 'no limit'} | {backends} |"
                    f" {anon / 1024:.0f} | {pss / 1024:.0f} | {loadavg()} |"
                )

        memory: list[str] = []
        checkpoints = [
            n for n in map(int, args.memory_checkpoints.split(",")) if n <= len(world.counties)
        ]
        for max_counties in limits:
            log(f"one connection, county after county (pool_max_counties={max_counties})")
            limited = settings.model_copy(update={"pool_max_counties": max_counties})
            for n, on_conn, total, cache, anon, pss, _ in asyncio.run(
                one_connection(url, limited, world, checkpoints)
            ):
                memory.append(
                    f"| {n:,} | {max_counties or 'no limit'} | {on_conn:,} |"
                    f" {total / 2**20:.1f} | {cache / 2**20:.1f} | {anon / 1024:.1f} |"
                    f" {pss / 1024:.1f} |"
                )

        print("\n| counties | reads rotate over | max counties per connection | read"
              " | concurrency | requests/s | p50 (ms) | p95 (ms) | p99 (ms) | load |")  # fmt: skip
        print("|---|---|---|---|---|---|---|---|---|---|")
        print("\n".join(latency))
        print("\n| counties | max counties per connection | server's backends"
              " | sum RssAnon (MiB) | sum Pss (MiB) | load |")  # fmt: skip
        print("|---|---|---|---|---|---|")
        print("\n".join(pools))
        print("\n| distinct counties served | max counties per connection"
              " | served by the connection now | memory contexts (MiB)"
              " | CacheMemoryContext (MiB) | RssAnon (MiB) | Pss (MiB) |")  # fmt: skip
        print("|---|---|---|---|---|---|---|")
        print("\n".join(memory))
        _summary(latency)
    finally:
        engine.dispose()
        if not args.keep:
            log(f"dropped {args.database} and {drop_database(server, args.database)} roles")


def _summary(latency: list[str]) -> None:
    """p50 of each cell as a ratio to the same read, concurrency and limit over 10 counties:
    on the same server in the same run (`reads rotate over` 10) and at the first step."""
    cells: dict[tuple[str, str, str], dict[tuple[str, str], float]] = {}
    for line in latency:
        n, k, limit, name, conc, _, p50 = [p.strip() for p in line.strip("|").split("|")][:7]
        cells.setdefault((limit, name, conc), {})[(n, k)] = float(p50)
    print("\np50 relative to reads over the fewest counties:")
    for (limit, name, conc), by_n in cells.items():
        first = next(iter(by_n.values()))
        same_run = {
            n: v
            for (n, k), v in by_n.items()
            if k == min((kk for nn, kk in by_n if nn == n), key=lambda x: int(x.replace(",", "")))
        }
        parts = []
        for (n, k), v in by_n.items():
            parts.append(
                f"{n} over {k}: {v / first:.2f}x (vs {same_run[n]:.1f} ms same run: {v / same_run[n]:.2f}x)"
            )
        print(f"  {name}, concurrency {conc}, limit {limit}: " + "; ".join(parts))


if __name__ == "__main__":
    main()
