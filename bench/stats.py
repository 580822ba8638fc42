"""Benchmark: county statistics for a 50,000-pupil county and the province view over 100
counties, p50 and p99 (issue 8).

Not a test; run by hand, figures go to docs/benchmarks.md:

    .venv/bin/python -m bench.stats                           # embedded PostgreSQL
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python -m bench.stats
    .venv/bin/python -m bench.stats --counties 5 --pupils 5000 --requests 5     # a quick run

In a database of its own (`--database`, default `redscarf_bench_stats`, recreated each run and
dropped with its county roles at the end unless `--keep`), province 33 (浙江省, 11 prefectures)
gets `--counties` counties (100) onboarded with `create_county`. The first is the big county:
`--pupils` (50,000) demo pupils by `domain.demo.populate_county`; each other county gets
`--small` (300). Then every county gets the flows the figures count, written by set-based SQL
as the county's own role (`flows`): ledger issues and spends with their postings, open holds,
badge awards, activities with attended sign-ups, exchange redemptions, approved task
submissions, status-change history (joining, and a few pupils who left) and one grade
promotion, all spread over the last 12 months. `refresh_county` then summarises every county
(timed, one by one).

Measured, `--requests` (20) calls per question after `--warmup` (3) untimed calls:

- **domain**: `domain.stats.figures.compute` for the big county in this process, on a
  connection of the service's login in one transaction: (a) the whole county today, (b) the
  whole county as of a year ago (stocks rebuilt from history), (c) the largest township for the
  academic year so far, (d) the largest school, all time;
- **API**: `statistics` through `/graphql` of `redscarf serve` (a subprocess on loopback) as a
  signed-in county admin, with the same four questions;
- **province**: `regionStatistics(code: "33")` as a province admin through `/graphql`, and
  `domain.stats.rollup.region_view` alone, `--region-requests` (100) calls at 1 and 4 clients.

A probe (untimed) lists each question's slowest statements; `--explain` prints EXPLAIN
(ANALYZE, BUFFERS) of the slowest statement of each question.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import hashlib
import os
import platform
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, event, text

from authz.roles import Role
from bench.activities import loadavg
from bench.pairing import PREFECTURES, PROVINCE, Cell, county_list, tasks, threads
from bench.roster import _free_port, start_server
from bench.tenants import drop_database, fresh_database, percentile, server_url
from domain import clock
from domain.accounts.service import create_user, grant_role, start_session
from domain.demo import populate_county
from domain.stats.figures import Figures, Period, academic_year_start, compute
from domain.stats.rollup import refresh_county, region_view
from migrations.runner import Migrator
from redscarf.database import libpq_url, make_engine, sqlalchemy_url
from redscarf.keys import load_keys
from redscarf.settings import Settings
from schema.ids import encode_global_id
from tenants.provisioning import create_county, create_prefecture
from tenants.sessions import Tenant, load_tenant, tenant_connection

STATISTICS = """query($unit: ID, $from: Date, $asOf: Date) {
  statistics(unitId: $unit, from: $from, asOf: $asOf) {
    asOf currentPupils pupilsBound guardians boundPercent
    units { kind count }
    pupilsByStatus { status count }
    badges { level academicYear count }
    points { issued spent expired held }
    activities { held servedPupils servedPersonTimes reachedPercent
      byTownship { unit { id name } served { pupils personTimes } currentPupils } }
    redemptions { made verified }
    tasksCompleted { kind count }
    pairing { schools schoolsPaired ruralSchools ruralPaired pupilsInPairs }
  }
}"""
REGION = """{ regionStatistics(code: "33") {
  code name counties countiesMissing computedAt
  statistics { currentPupils pupilsBound badges { level academicYear count }
    points { issued spent held } activities { held servedPupils } }
  byCounty { countyCode countyName statistics { currentPupils pupilsBound
    badges { level academicYear count } points { issued spent held }
    activities { held servedPupils } pairing { schools schoolsPaired } } }
} }"""


# --- the data (untimed, but its building is reported) ----------------------------------------

FLOWS = """
-- Ledger: the county's pool and sink, and an account for every pupil.
INSERT INTO $s.ledger_accounts (kind, owner_id, name)
SELECT 'pool', NULL, '县积分池' WHERE NOT EXISTS
  (SELECT FROM $s.ledger_accounts WHERE kind = 'pool');
INSERT INTO $s.ledger_accounts (kind, owner_id, name)
SELECT 'sink', NULL, '消费' WHERE NOT EXISTS (SELECT FROM $s.ledger_accounts WHERE kind = 'sink');
INSERT INTO $s.ledger_accounts (kind, owner_id, name, balance)
SELECT 'pupil', p.id, p.name, 0 FROM $s.pupils p;
-- Three issues per pupil (pool -> pupil), two spends (pupil -> sink), each a posting pair.
WITH t AS (
  INSERT INTO $s.ledger_transactions (idempotency_key, kind, memo, created_by, created_at)
  SELECT 'bench:' || k.kind || ':' || p.id || ':' || g, k.kind, 'bench', 'bench',
         now() - interval '365 days' * random()
    FROM $s.pupils p
   CROSS JOIN (VALUES ('issue', 3), ('spend', 2)) k(kind, n)
   CROSS JOIN LATERAL generate_series(1, k.n) g
  RETURNING id, idempotency_key, kind, created_at
), a AS (
  SELECT t.*, acc.id AS pupil_account, 5 + (t.id % 20) AS points
    FROM t JOIN $s.ledger_accounts acc
      ON acc.kind = 'pupil' AND acc.owner_id = split_part(t.idempotency_key, ':', 3)::bigint
)
INSERT INTO $s.ledger_postings (transaction_id, account_id, amount, created_at)
SELECT a.id, a.pupil_account, CASE a.kind WHEN 'issue' THEN a.points ELSE -a.points END,
       a.created_at FROM a
UNION ALL
SELECT a.id, (SELECT id FROM $s.ledger_accounts WHERE kind = CASE a.kind WHEN 'issue'
              THEN 'pool' ELSE 'sink' END), CASE a.kind WHEN 'issue' THEN -a.points
              ELSE a.points END, a.created_at FROM a;
-- Open holds (sign-ups not settled yet) for one pupil in twenty.
INSERT INTO $s.ledger_holds (idempotency_key, account_id, amount, state, memo, created_at)
SELECT 'bench:hold:' || acc.id, acc.id, 10, 'open', 'bench', now() - interval '20 days' * random()
  FROM $s.ledger_accounts acc WHERE acc.kind = 'pupil' AND acc.owner_id % 20 = 0;
-- Badges of the national ladder for 40 % of pupils (basic and star levels), awarded.
INSERT INTO $s.badge_awards (badge_id, pupil_id, academic_year, state, awarded_by, awarded_at,
                             points)
SELECT b.id, x.id, extract(year FROM x.at - interval '8 months')::int, 'awarded', 'bench', x.at,
       b.points
  FROM (SELECT p.id, now() - interval '365 days' * random() AS at,
               (p.id % 4) AS k FROM $s.pupils p WHERE p.id % 5 < 2) x
  JOIN LATERAL (SELECT id, points FROM $s.badges WHERE national AND level <> 'collective'
                 ORDER BY sort_order OFFSET x.k LIMIT 1) b ON true;
-- 40 finished activities organised by schools, attended by 30 % of pupils (1-3 each).
INSERT INTO $s.activities (unit_id, title, starts_at, ends_at, signup_opens_at,
                           signup_closes_at, capacity, area, state, created_by, finished_at)
SELECT u.id, '红领巾实践活动' || g, d.at, d.at + interval '3 hours', d.at - interval '14 days',
       d.at - interval '1 day', 100000, u.area, 'finished', 'bench', d.at + interval '3 hours'
  FROM generate_series(1, 40) g
  CROSS JOIN LATERAL (SELECT now() - interval '1 day' * (g * 9) AS at) d
  CROSS JOIN LATERAL (SELECT id, area FROM $s.units WHERE kind = 'brigade'
                       ORDER BY id OFFSET (g * 7) % greatest(1, (SELECT count(*) FROM
                       $s.units WHERE kind = 'brigade')) LIMIT 1) u;
INSERT INTO $s.activity_signups (activity_id, pupil_id, state, signed_up_by, created_at)
SELECT a.id, p.id, 'attended', 'bench', a.starts_at - interval '2 days'
  FROM $s.pupils p
  CROSS JOIN LATERAL generate_series(0, p.id % 3) j
  JOIN LATERAL (SELECT id, starts_at FROM $s.activities ORDER BY id
                 OFFSET (p.id + j * 13) % 40 LIMIT 1) a ON true
 WHERE p.id % 10 < 3;
-- Exchange: one partner, one item, redemptions by 10 % of pupils, half picked up.
INSERT INTO $s.partners (name) VALUES ('新华书店');
INSERT INTO $s.exchange_items (partner_id, name, price, stock, valid_from, valid_until)
SELECT id, '课外读物', 30, 100000, now() - interval '1 year', now() + interval '1 year'
  FROM $s.partners;
INSERT INTO $s.redemptions (item_id, pupil_id, code_hash, state, created_at, expires_at,
                            verified_at)
SELECT i.id, p.id, decode(md5('bench' || p.id), 'hex'),
       CASE WHEN p.id % 20 = 0 THEN 'verified' ELSE 'issued' END, x.at, x.at + interval '30 days',
       CASE WHEN p.id % 20 = 0 THEN x.at + interval '3 days' END
  FROM $s.pupils p CROSS JOIN $s.exchange_items i
  CROSS JOIN LATERAL (SELECT now() - interval '300 days' * random() AS at) x
 WHERE p.id % 10 = 0;
-- Collection tasks of the county, approved submissions by 20 % of pupils.
INSERT INTO $s.tasks (unit_id, kind, title, opens_at, closes_at, state, created_by)
SELECT (SELECT id FROM $s.units WHERE path = 'c'), k, '征集' || k, now() - interval '1 year',
       now() + interval '1 month', 'published', 'bench'
  FROM unnest(ARRAY['lesson', 'submission', 'feedback']) k;
INSERT INTO $s.task_submissions (task_id, pupil_id, state, submitted_by, submitted_at,
                                 reviewed_by, reviewed_at)
SELECT t.id, p.id, 'approved', 'bench', x.at, 'bench', x.at + interval '2 days'
  FROM $s.pupils p
  CROSS JOIN LATERAL (SELECT now() - interval '330 days' * random() AS at) x
  JOIN LATERAL (SELECT id FROM $s.tasks ORDER BY id OFFSET p.id % 3 LIMIT 1) t ON true
 WHERE p.id % 5 = 1;
-- History: every pupil's joining, and 2 % who left (transferred) in the last year.
INSERT INTO $s.pupil_status_changes (pupil_id, from_status, to_status, on_date, note)
SELECT p.id, NULL, p.status, coalesce(p.joined_on, current_date - 400), 'bench'
  FROM $s.pupils p;
INSERT INTO $s.pupil_status_changes (pupil_id, from_status, to_status, on_date, note)
SELECT p.id, p.status, 'transferred', current_date - (p.id % 300)::int, 'bench'
  FROM $s.pupils p WHERE p.id % 50 = 7;
UPDATE $s.pupils SET status = 'transferred' WHERE id % 50 = 7;
-- The last promotion: 1 September of this academic year.
INSERT INTO $s.grade_promotions (academic_year, promoted_at, pupils, squadrons)
SELECT :year, :promoted, (SELECT count(*) FROM $s.pupils),
       (SELECT count(*) FROM $s.units WHERE kind = 'squadron');
"""


def flows(engine: Engine, tenant: Tenant) -> None:
    """The flows the figures count, by set-based SQL as the county's own role."""
    start = academic_year_start(clock.today())
    with tenant_connection(engine, tenant) as conn:
        for statement in FLOWS.replace("$s.", f'"{tenant.schema_name}".').split(";\n"):
            body = "\n".join(x for x in statement.splitlines() if not x.startswith("--"))
            if ":year" in body:
                conn.execute(text(body), {"year": start.year, "promoted": clock.start_of(start)})
            elif body.strip():
                conn.execute(text(body))


COUNTS = (
    "pupils",
    "ledger_transactions",
    "ledger_postings",
    "ledger_holds",
    "badge_awards",
    "activities",
    "activity_signups",
    "redemptions",
    "task_submissions",
    "pupil_status_changes",
    "units",
    "guardians",
)


def counts(engine: Engine, tenant: Tenant) -> str:
    with engine.connect() as conn:
        found = {
            t: conn.execute(text(f'SELECT count(*) FROM "{tenant.schema_name}".{t}')).scalar_one()
            for t in COUNTS
        }
    return ", ".join(f"{t} {n:,}" for t, n in found.items())


@dataclass
class Built:
    big: Tenant
    codes: list[str]
    onboard: list[float]
    populate_small: list[float]
    flows_small: list[float]
    refresh: dict[str, float]
    notes: list[str]


def build(engine: Engine, args: argparse.Namespace) -> Built:
    with engine.begin() as conn:
        Migrator().upgrade_shared(conn)
    for code, name in PREFECTURES.items():
        create_prefecture(engine, code, name, PROVINCE[0])
    onboard, populate_small, flows_small, notes = [], [], [], []
    codes: list[str] = []
    big: Tenant | None = None
    t00 = time.perf_counter()
    for n, (code, name, prefecture, urban) in enumerate(county_list(args.counties, 0)):
        t0 = time.perf_counter()
        create_county(engine, Migrator(), code, name, code[:2], prefecture)
        onboard.append(time.perf_counter() - t0)
        with engine.connect() as conn:
            tenant = load_tenant(conn, code)
        codes.append(code)
        pupils = args.pupils if n == 0 else args.small
        t0 = time.perf_counter()
        populate_county(engine, tenant, pupils=pupils, seed=args.seed + n, run_key="bench",
                        urban=urban)  # fmt: skip
        took = time.perf_counter() - t0
        t1 = time.perf_counter()
        flows(engine, tenant)
        flowed = time.perf_counter() - t1
        if n == 0:
            big = tenant
            notes.append(f"big county {code} {name}: populate_county({pupils:,}) {took:.1f} s,"
                         f" flows {flowed:.1f} s")  # fmt: skip
            print(notes[-1], flush=True)
        else:
            populate_small.append(took)
            flows_small.append(flowed)
        if (n + 1) % 20 == 0:
            print(f"  {n + 1} counties, {time.perf_counter() - t00:.1f} s", flush=True)
    assert big is not None
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        t0 = time.perf_counter()
        conn.execute(text("VACUUM ANALYZE"))
        notes.append(f"VACUUM ANALYZE {time.perf_counter() - t0:.1f} s")
    refresh: dict[str, float] = {}
    for code in codes:
        t0 = time.perf_counter()
        refresh_county(engine, code)
        refresh[code] = time.perf_counter() - t0
    return Built(big, codes, onboard, populate_small, flows_small, refresh, notes)


# --- the questions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    key: str
    title: str
    period: Period
    unit_id: int | None


def questions(engine: Engine, tenant: Tenant) -> list[Question]:
    today = clock.today()
    with tenant_connection(engine, tenant) as conn:
        township = conn.execute(text("""
            SELECT t.id, t.path::text, t.name FROM units t JOIN units s
              ON s.kind = 'squadron' AND s.path <@ t.path JOIN pupils p ON p.squadron_id = s.id
             WHERE t.kind = 'township' GROUP BY t.id ORDER BY count(*) DESC LIMIT 1
        """.replace("units", f'"{tenant.schema_name}".units')
            .replace("pupils p", f'"{tenant.schema_name}".pupils p'))).one()  # fmt: skip
        school = conn.execute(text("""
            SELECT b.id, b.path::text, b.name FROM units b JOIN units s ON s.parent_id = b.id
              JOIN pupils p ON p.squadron_id = s.id
             WHERE b.kind = 'brigade' GROUP BY b.id ORDER BY count(*) DESC LIMIT 1
        """.replace("units", f'"{tenant.schema_name}".units')
            .replace("pupils p", f'"{tenant.schema_name}".pupils p'))).one()  # fmt: skip
    year_ago = today - dt.timedelta(days=365)
    return [
        Question("county", "(a) whole county, today", Period("c", today), None),
        Question("year_ago", f"(b) whole county as of {year_ago}", Period("c", year_ago), None),
        Question("township", f"(c) township {township.name}, academic year so far",
                 Period(township.path, today, academic_year_start(today)), township.id),
        Question("school", f"(d) school {school.name}, today",
                 Period(school.path, today), school.id),
    ]  # fmt: skip


def run_compute(engine: Engine, tenant: Tenant, period: Period) -> Figures:
    with engine.connect() as conn, conn.begin():
        return compute(conn, tenant, period)


# --- measuring -------------------------------------------------------------------------------


def ms(values: list[float], q: float) -> str:
    return f"{percentile(values, q) * 1000:,.1f}"


def line(title: str, path: str, clients: int, cell: Cell) -> str:
    t = cell.latencies
    return (
        f"| {title} | {path} | {clients} | {len(t)} | {ms(t, 0.5)} | {ms(t, 0.99)}"
        f" | {sum(t) / len(t) * 1000:,.1f} | {max(t) * 1000:,.1f} | {cell.busy:.0%}"
        f" | {cell.before} → {cell.after} |"
    )


HEADER = [
    "| question | path | clients | N | p50 (ms) | p99 (ms) | mean (ms) | max (ms)"
    " | machine CPU busy | load average |",
    "|---|---|---|---|---|---|---|---|---|---|",
]


def measure_domain(engine: Engine, tenant: Tenant, asked: list[Question],
                   args: argparse.Namespace) -> tuple[list[str], dict[str, Figures]]:  # fmt: skip
    lines, answers = [], {}
    for q in asked:
        answers[q.key] = run_compute(engine, tenant, q.period)
        for _ in range(args.warmup - 1):
            run_compute(engine, tenant, q.period)
        cell = threads(lambda q=q: run_compute(engine, tenant, q.period), args.requests, 1)
        lines.append(line(q.title, "domain", 1, cell))
        print(lines[-1], flush=True)
    return lines, answers


def token(settings: Settings, username: str, role: Role, county: str | None, scope: str) -> str:
    engine = make_engine(sqlalchemy_url(settings.database_url or ""), settings, pool_size=1)
    keys = load_keys(settings)
    with engine.begin() as conn:
        user = create_user(conn, keys.cipher, display_name=username, username=username)
        grant_role(conn, user, role, county, scope, granted_by=None)
        long = settings.model_copy(
            update={"access_token_minutes": 600, "idle_timeout_minutes": 600}
        )
        found = start_session(conn, keys, long, user, mfa=True, client="bench").access_token
    engine.dispose()
    return found


async def measure_api(settings: Settings, tenant: Tenant, asked: list[Question],
                      answers: dict[str, Figures], codes: list[str],
                      args: argparse.Namespace) -> list[str]:  # fmt: skip
    county = token(settings, "bench-county-admin", Role.COUNTY_ADMIN, tenant.code, "c")
    province = token(settings, "bench-province-admin", Role.PROVINCE_ADMIN, None, PROVINCE[0])
    port = args.port or _free_port()
    server = start_server(settings, port)
    lines: list[str] = []
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", timeout=120, limits=httpx.Limits(max_connections=8)
        ) as http:

            def ask(q: Question) -> Callable[[], Any]:
                variables = {
                    "unit": encode_global_id("Unit", tenant.code, q.unit_id) if q.unit_id else None,
                    "from": q.period.since.isoformat() if q.period.since else None,
                    "asOf": q.period.as_of.isoformat(),
                }
                headers = {"Authorization": f"Bearer {county}", "X-County": tenant.code}

                async def run() -> dict[str, Any]:
                    response = await http.post(
                        "/graphql", json={"query": STATISTICS, "variables": variables},
                        headers=headers,
                    )  # fmt: skip
                    body = response.json()
                    assert not body.get("errors"), body["errors"]
                    return dict(body["data"]["statistics"])

                return run

            for q in asked:
                first = await ask(q)()
                want = answers[q.key]
                assert first["currentPupils"] == want.current_pupils, (q.key, first, want)
                assert first["points"]["issued"] == want.points_issued, q.key
                assert first["activities"]["servedPupils"] == want.served_pupils, q.key
                for _ in range(args.warmup - 1):
                    await ask(q)()
                cell = await tasks(ask(q), args.requests, 1)
                lines.append(line(q.title, "API", 1, cell))
                print(lines[-1], flush=True)

            async def region() -> None:
                response = await http.post(
                    "/graphql", json={"query": REGION},
                    headers={"Authorization": f"Bearer {province}"},
                )  # fmt: skip
                body = response.json()
                assert not body.get("errors"), body["errors"]
                assert len(body["data"]["regionStatistics"]["byCounty"]) == len(codes)

            for _ in range(args.warmup * 3):
                await region()
            for clients in (1, 4):
                cell = await tasks(region, args.region_requests, clients)
                lines.append(line('regionStatistics(code: "33")', "API", clients, cell))
                print(lines[-1], flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return lines


def measure_region_domain(engine: Engine, codes: list[str], args: argparse.Namespace) -> list[str]:
    def call() -> None:
        with engine.connect() as conn:
            found = region_view(conn, PROVINCE[0])
            conn.commit()
        assert found is not None
        assert len(found.counties) == len(codes)

    for _ in range(args.warmup * 3):
        call()
    lines = []
    for clients in (1, 4):
        lines.append(line("`region_view(\"33\")`", "domain", clients,
                          threads(call, args.region_requests, clients)))  # fmt: skip
        print(lines[-1], flush=True)
    return lines


def probe(engine: Engine, tenant: Tenant, asked: list[Question], explain: bool) -> list[str]:
    """Per question: statements, time in them, and the three slowest (one call, untimed)."""
    captured: list[tuple[str, Any, float]] = []
    started: list[float] = []

    def before(*_: Any) -> None:
        started.append(time.perf_counter())

    def after(_c: Any, _cur: Any, statement: str, parameters: Any, *_: Any) -> None:
        captured.append((statement, parameters, time.perf_counter() - started.pop()))

    lines = []
    for q in asked:
        captured.clear()
        event.listen(engine, "before_cursor_execute", before)
        event.listen(engine, "after_cursor_execute", after)
        try:
            t0 = time.perf_counter()
            run_compute(engine, tenant, q.period)
            whole = time.perf_counter() - t0
        finally:
            event.remove(engine, "before_cursor_execute", before)
            event.remove(engine, "after_cursor_execute", after)
        slow = sorted(captured, key=lambda c: -c[2])
        lines.append(f"{q.title}: {len(captured)} statements, {sum(c[2] for c in captured) * 1000:,.0f}"
                     f" ms in them of {whole * 1000:,.0f} ms")  # fmt: skip
        for statement, _, spent in slow[:3]:
            shape = re.sub(r"\s+", " ", re.sub(r"\"?county_\d+\"?\.", "", statement))
            lines.append(f"    {spent * 1000:8,.1f} ms  {shape[:160]}")
        if explain and slow:
            statement, parameters, _ = slow[0]
            with engine.connect() as conn, conn.begin():
                conn.execute(text(f'SET LOCAL ROLE "{tenant.role_name}"'))
                plan = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {statement}", parameters)
                lines += [f"        {r[0]}" for r in plan]
    return lines


MEASURED = ("domain/stats/figures.py", "domain/stats/rollup.py", "domain/activities/reach.py",
            "resolvers/stats.py")  # fmt: skip


def fingerprint() -> str:
    root = Path(__file__).resolve().parent.parent
    return ", ".join(
        f"{name} {hashlib.sha256((root / name).read_bytes()).hexdigest()[:12]}" for name in MEASURED
    )


def spread(values: list[float]) -> str:
    if not values:
        return "none"
    return (f"p50 {ms(values, 0.5)} ms, p99 {ms(values, 0.99)} ms, mean"
            f" {sum(values) / len(values) * 1000:,.1f} ms, max {max(values) * 1000:,.1f} ms"
            f" (N {len(values)})")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counties", type=int, default=100, help="counties of the province")
    parser.add_argument("--pupils", type=int, default=50_000, help="pupils of the big county")
    parser.add_argument("--small", type=int, default=300, help="pupils of each other county")
    parser.add_argument("--requests", type=int, default=20, help="timed calls per question")
    parser.add_argument("--region-requests", type=int, default=100, help="province view calls")
    parser.add_argument("--warmup", type=int, default=3, help="untimed calls first")
    parser.add_argument("--paths", default="domain,api", help="domain, api or both")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN the slowest statements")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--database", default="redscarf_bench_stats")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    paths = args.paths.split(",")

    began = time.perf_counter()
    print(f"{platform.node()}: {os.cpu_count()} CPUs, Python {platform.python_version()};"
          f" load average {loadavg()}")  # fmt: skip
    code = fingerprint()
    print(f"code measured: {code}")
    server = server_url()
    url = fresh_database(server, args.database)
    settings = Settings(database_url=libpq_url(url), data_dir=Settings().data_dir / "bench-stats")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(url, settings, pool_size=4, max_overflow=0)
    output: list[str] = []
    try:
        t0 = time.perf_counter()
        built = build(engine, args)
        print(f"province built in {time.perf_counter() - t0:.1f} s", flush=True)
        big = built.big
        refresh_others = [v for k, v in built.refresh.items() if k != big.code]
        output += [
            f"big county {big.code}: {counts(engine, big)}",
            f"a small county: {counts(engine, load_small(engine, built.codes))}"
            if len(built.codes) > 1
            else "",
            *built.notes,
            f"create_county: {spread(built.onboard)}",
            f"populate_county({args.small}) of the small counties: {spread(built.populate_small)}",
            f"flows of the small counties: {spread(built.flows_small)}",
            f"refresh_county of the small counties: {spread(refresh_others)}",
            f"refresh_county of the big county: {built.refresh[big.code] * 1000:,.1f} ms",
        ]
        print("\n".join(output), flush=True)
        asked = questions(engine, big)
        gc.collect()
        gc.freeze()
        output += ["", *HEADER]
        answers: dict[str, Figures] = {}
        if "domain" in paths:
            found, answers = measure_domain(engine, big, asked, args)
            output += found
            output += measure_region_domain(engine, built.codes, args)
        if "api" in paths:
            if not answers:
                answers = {q.key: run_compute(engine, big, q.period) for q in asked}
            output += asyncio.run(measure_api(settings, big, asked, answers, built.codes, args))
        output += ["", *probe(engine, big, asked, args.explain)]
        # A refresh of the big county again, now that everything is warm.
        again = []
        for _ in range(3):
            t0 = time.perf_counter()
            refresh_county(engine, big.code)
            again.append(time.perf_counter() - t0)
        output.append(f"refresh_county of the big county, warm, 3 more: {spread(again)}")
    finally:
        engine.dispose()
        if not args.keep:
            print(f"dropped {args.database} and {drop_database(server, args.database)} roles")
    if fingerprint() != code:
        print(f"THE CODE CHANGED DURING THE RUN: now {fingerprint()}")
    print(f"done in {time.perf_counter() - began:.0f} s; load average {loadavg()}; code: {code}")
    print("\n" + "\n".join(output))


def load_small(engine: Engine, codes: list[str]) -> Tenant:
    with engine.connect() as conn:
        return load_tenant(conn, codes[1])


if __name__ == "__main__":
    main()
