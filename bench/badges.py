"""Benchmark: verifying a county's ledger of 1,000,000 postings, and one pupil's growth archive.

Not a test; run by hand, figures go to docs/benchmarks.md:

    .venv/bin/python -m bench.badges                          # embedded PostgreSQL
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python -m bench.badges
    .venv/bin/python -m bench.badges --part ledger            # only the verification
    .venv/bin/python -m bench.badges --part archive --pupils 5000 --seconds 3   # a quick run

Both parts work in a database of their own (`--database`, default `redscarf_bench_badges`,
recreated each run).

Ledger (issue 5): a county (522729) gets `--accounts` pupil accounts (opened with
`ledger.pupil_accounts`, 50,000), the pool and a sink, then `--transactions` transactions of
two postings each (500,000, so 1,000,000 postings), written by set-based SQL as the service's
owner login (transactions and postings are append-only, so INSERT only): four fifths are
grants from the pool to a pupil (10 points), the rest, written after them, spends from a pupil
to the sink (7 points), round robin over the pupils, so no pupil's running balance ever goes
below zero. One UPDATE then sets every balance to the sum of its postings, and the tables are
vacuumed and analysed (as autovacuum would). `ledger.verify` (what `redscarf ledger verify`
runs) is timed `--repeat` times, each of its checks alone once, and the command line itself
once in a subprocess; every verification must report no problem.

Archive: a county (522731) of `--pupils` demo pupils (`populate_county`, as bench/roster.py)
whose pupils each get a growth archive of 20 entries: a status change (入队, or registration
as a pre-member), the 12 basic badges awarded (set-based SQL), a one-star award with its 10
points (`ledger.issue_many`, the import's path), two task grants of 5 points
(`ledger.issue_many`, kind `task`) and four spends of 4 points to a sink (set-based SQL).
`redscarf serve` runs in a subprocess on loopback; for each concurrency level (`--levels`,
1 and 4) that many clients ask, for `--seconds`, for a random pupil's name and archive as the
county's admin. In the same run, the same reads by `domain.archive.archives_async` (what the
API's DataLoader calls) in this process, one county transaction (`tenant_session`) each, and
by one hand-written SQL statement over psycopg (the floor).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import Connection, Engine, text

from bench.roster import _free_port, admin_token, load, start_server
from bench.tenants import fresh_database, percentile, server_url
from domain.archive import archives_async
from domain.demo import populate_county
from domain.ledger import service as ledger
from domain.ledger.tables import AccountKind
from migrations.runner import Migrator
from redscarf.database import libpq_url, make_async_engine, make_engine, sqlalchemy_url
from redscarf.settings import Settings
from schema.ids import encode_global_id
from tenants.provisioning import create_county
from tenants.sessions import Tenant, load_tenant, tenant_connection, tenant_session

CODE = "522731"  # the archive's county (as bench/roster.py: admin_token grants it)
SCHEMA = f"county_{CODE}"
LEDGER_CODE = "522729"
LEDGER_SCHEMA = f"county_{LEDGER_CODE}"
QUERY = "query($p: ID!) { pupil(id: $p) { name archive { on kind title detail points } } }"
FLOOR = f"""
SELECT on_date AS on, 0 AS k, to_status AS title, coalesce(batch, note) AS detail,
       NULL::bigint AS points, id
  FROM "{SCHEMA}".pupil_status_changes WHERE pupil_id = %(p)s
UNION ALL
SELECT coalesce(a.awarded_at, a.created_at)::date, 1, b.name, coalesce(a.evidence, a.conferred_by),
       a.points, a.id
  FROM "{SCHEMA}".badge_awards a JOIN "{SCHEMA}".badges b ON b.id = a.badge_id
 WHERE a.pupil_id = %(p)s AND a.state IN ('awarded', 'revoked')
UNION ALL
SELECT p.created_at::date, 3, t.kind, t.memo, p.amount, p.id
  FROM "{SCHEMA}".ledger_accounts a
  JOIN "{SCHEMA}".ledger_postings p ON p.account_id = a.id
  JOIN "{SCHEMA}".ledger_transactions t ON t.id = p.transaction_id
 WHERE a.kind = 'pupil' AND a.owner_id = %(p)s AND t.kind NOT IN ('award', 'reversal')
 ORDER BY 1, 2, 6
"""


def loadavg(full: bool = False) -> str:
    """The load average: of the last minute, or all three figures."""
    figures = Path("/proc/loadavg").read_text().split()
    return " ".join(figures[:3]) if full else figures[0]


def county(engine: Engine, code: str, name: str) -> Tenant:
    with engine.begin() as conn:
        Migrator().upgrade_shared(conn)
    create_county(engine, Migrator(), code, name, "52")
    with engine.connect() as conn:
        return load_tenant(conn, code)


# --- writing a ledger fast ------------------------------------------------------------------


def bulk_transactions(
    conn: Connection,
    schema: str,
    *,
    kind: str,
    count: int,
    amount: int,
    other: int,
    pupil_pays: bool,
    memo: str | None = None,
    days: int = 1,
) -> None:
    """`count` transactions of two postings each, between the county's pupil accounts (round
    robin, in key order) and the account `other`: the pupil pays `amount` to `other`, or
    receives it. Written as the owner login, keys taken from the identity sequences in one
    block; postings in transaction order, so their keys follow it. `created_at` spread over
    the last `days` days."""
    s = f'"{schema}"'
    base = conn.execute(
        text("SELECT nextval(pg_get_serial_sequence(:t, 'id'))"),
        {"t": f"{s}.ledger_transactions"},
    ).scalar_one()
    conn.execute(
        text("SELECT setval(pg_get_serial_sequence(:t, 'id'), :last)"),
        {"t": f"{s}.ledger_transactions", "last": base + count - 1},
    )
    params = {
        "base": base,
        "n": count,
        "kind": kind,
        "memo": memo,
        "amount": amount,
        "other": other,
        "pays": pupil_pays,
        "days": days,
    }
    conn.execute(
        text(f"""
        INSERT INTO {s}.ledger_transactions (id, idempotency_key, kind, memo, created_by, created_at)
        SELECT :base + g, 'bench:' || CAST(:kind AS text) || ':' || (:base + g), CAST(:kind AS text),
               CAST(:memo AS text), 'bench',
               now() - make_interval(days => ((g::bigint * 7919) % :days)::int)
          FROM generate_series(0, :n - 1) g"""),
        params,
    )
    conn.execute(
        text(f"""
        WITH a AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k
                     FROM {s}.ledger_accounts WHERE kind = 'pupil'),
             n AS (SELECT count(*) AS n FROM a)
        INSERT INTO {s}.ledger_postings (transaction_id, account_id, amount, created_at)
        SELECT t.id, x.account, x.amount, t.created_at
          FROM generate_series(0, :n - 1) g
          JOIN {s}.ledger_transactions t ON t.id = :base + g
          JOIN a ON a.k = g % (SELECT n FROM n)
         CROSS JOIN LATERAL (VALUES
               (CASE WHEN :pays THEN a.id ELSE CAST(:other AS bigint) END, -CAST(:amount AS bigint)),
               (CASE WHEN :pays THEN CAST(:other AS bigint) ELSE a.id END, CAST(:amount AS bigint))
               ) x(account, amount)
         ORDER BY g"""),
        params,
    )


def settle(engine: Engine, conn: Connection, schema: str) -> None:
    """Every account's balance set to the sum of its postings (one UPDATE), and each pupil's
    lots (`ledger_lots`, what it holds by expiry) replaced by one lot of its balance that never
    expires, as a carried-over lot: the spends written by SQL took nothing from the lots."""
    s = f'"{schema}"'
    conn.execute(
        text(f"""
        UPDATE {s}.ledger_accounts a SET balance = t.total
          FROM (SELECT account_id, sum(amount) AS total FROM {s}.ledger_postings
                 GROUP BY account_id) t
         WHERE a.id = t.account_id AND a.balance <> t.total""")
    )
    conn.execute(text(f"UPDATE {s}.ledger_lots SET remaining = 0 WHERE remaining > 0"))
    conn.execute(
        text(f"""
        INSERT INTO {s}.ledger_lots (account_id, amount, remaining)
        SELECT id, balance, balance FROM {s}.ledger_accounts
         WHERE kind = 'pupil' AND balance > 0""")
    )


def vacuum(engine: Engine, schema: str, tables: tuple[str, ...]) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in tables:
            conn.execute(text(f'VACUUM (ANALYZE) "{schema}".{table}'))


LEDGER_TABLES = ("ledger_accounts", "ledger_transactions", "ledger_postings", "ledger_lots")


def build_ledger(settings: Settings, accounts: int, transactions: int) -> None:
    spends = transactions // 5
    grants = transactions - spends
    if accounts < 1 or grants < spends:
        raise SystemExit("need at least one account and transactions >= 0")
    engine = make_engine(sqlalchemy_url(settings.database_url or ""), settings, pool_size=2)
    tenant = county(engine, LEDGER_CODE, "长顺县")
    started = time.perf_counter()
    with tenant_connection(engine, tenant) as conn:
        source = ledger.pool(conn)
        sink = ledger.account(conn, AccountKind.SINK, None, "兑换")
        ledger.pupil_accounts(conn, range(1, accounts + 1))
    opened = time.perf_counter()
    with engine.begin() as conn:
        # Grants first, spends after them: a pupil's spends follow its grants (at least as
        # many, 10 points against 7), so no running balance goes below zero.
        bulk_transactions(conn, LEDGER_SCHEMA, kind="award", count=grants, amount=10,
                          other=source, pupil_pays=False)  # fmt: skip
        bulk_transactions(conn, LEDGER_SCHEMA, kind="spend", count=spends, amount=7,
                          other=sink, pupil_pays=True, memo="兑换")  # fmt: skip
        written = time.perf_counter()
        settle(engine, conn, LEDGER_SCHEMA)
    settled = time.perf_counter()
    vacuum(engine, LEDGER_SCHEMA, LEDGER_TABLES)
    print(
        f"ledger: {accounts:,} pupil accounts opened in {opened - started:.1f} s;"
        f" {transactions:,} transactions, {2 * transactions:,} postings written in"
        f" {written - opened:.1f} s; balances set in {settled - written:.1f} s;"
        f" vacuum analyse {time.perf_counter() - settled:.1f} s",
        flush=True,
    )
    engine.dispose()


def measure_ledger(settings: Settings, repeat: int) -> list[str]:
    engine = make_engine(sqlalchemy_url(settings.database_url or ""), settings, pool_size=1)
    lines = ["| what | run | time (s) | load |", "|---|---|---|---|"]
    with engine.connect() as conn:
        for run in range(1, repeat + 1):
            before = loadavg()
            t0 = time.perf_counter()
            result = ledger.verify(conn, LEDGER_SCHEMA)
            elapsed = time.perf_counter() - t0
            assert not result.problems, result.problems
            assert result.postings == 2 * result.transactions, result
            lines.append(
                f"| `ledger.verify` ({result.transactions:,} transactions, {result.postings:,}"
                f" postings, {result.accounts:,} accounts) | {run} | {elapsed:.2f}"
                f" | {before} → {loadavg()} |"
            )
            print(lines[-1], flush=True)
            conn.rollback()
        s = f'"{LEDGER_SCHEMA}"'
        for what, query in ledger._CHECKS.items():
            before = loadavg()
            t0 = time.perf_counter()
            found = conn.execute(text(query.format(s=s) + " LIMIT 10")).all()
            elapsed = time.perf_counter() - t0
            assert not found, (what, found)
            lines.append(f"| check alone: {what} | 1 | {elapsed:.2f} | {before} → {loadavg()} |")
            print(lines[-1], flush=True)
        conn.rollback()
    engine.dispose()
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url or "",
        "REDSCARF_DATA_DIR": str(settings.data_dir),
    }
    redscarf = str(Path(sys.executable).parent / "redscarf")
    before = loadavg()
    t0 = time.perf_counter()
    done = subprocess.run(
        [redscarf, "ledger", "verify", "--county", LEDGER_CODE],
        env=env,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - t0
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert "平衡" in done.stdout, done.stdout
    lines.append(
        f"| `redscarf ledger verify --county {LEDGER_CODE}` (a process, from its start)"
        f" | 1 | {elapsed:.2f} | {before} → {loadavg()} |"
    )
    print(lines[-1], flush=True)
    return lines


# --- a county whose pupils have archives ------------------------------------------------------


def build_archive(settings: Settings, pupils: int) -> list[int]:
    engine = make_engine(sqlalchemy_url(settings.database_url or ""), settings, pool_size=2)
    tenant = county(engine, CODE, "惠水县")
    started = time.perf_counter()
    populate_county(engine, tenant, pupils=pupils, seed=11, run_key="bench")
    populated = time.perf_counter()
    s = f'"{SCHEMA}"'
    with tenant_connection(engine, tenant) as conn:
        ids = list(conn.execute(text(f"SELECT id FROM {s}.pupils ORDER BY id")).scalars())
        conn.execute(
            text(f"""
            INSERT INTO {s}.pupil_status_changes (pupil_id, from_status, to_status, on_date, batch)
            SELECT id, CASE WHEN status = 'member' THEN 'pre_member' END, status,
                   coalesce(joined_on, current_date - 700 + (id % 60)::int), batch
              FROM {s}.pupils""")
        )
        # The 12 basic badges, two a term over three years.
        conn.execute(
            text(f"""
            INSERT INTO {s}.badge_awards
                   (badge_id, pupil_id, academic_year, term, state, awarded_by, awarded_at)
            SELECT b.id, p.id, extract(year FROM current_date)::int - 3 + (b.sort_order - 1) / 4,
                   1 + ((b.sort_order - 1) / 2) % 2, 'awarded', 'bench',
                   now() - make_interval(days => 1100 - 90 * b.sort_order + (p.id % 30)::int)
              FROM {s}.pupils p CROSS JOIN {s}.badges b WHERE b.level = 'basic'""")
        )
        ledger.pool(conn)
        sink = ledger.account(conn, AccountKind.SINK, None, "兑换")
        ledger.pupil_accounts(conn, ids)
        star = ledger.issue_many(
            conn,
            [ledger.Grant(f"bench:star1:{pk}", pk, 10, "一星章") for pk in ids],
            kind="award",
            by="bench",
        )
        for round_ in (1, 2):
            ledger.issue_many(
                conn,
                [ledger.Grant(f"bench:task{round_}:{pk}", pk, 5, "征集任务") for pk in ids],
                kind="task",
                by="bench",
            )
        conn.execute(
            text(f"""
            INSERT INTO {s}.badge_awards (badge_id, pupil_id, academic_year, state, awarded_by,
                                          awarded_at, points, transaction_id)
            SELECT (SELECT id FROM {s}.badges WHERE code = 'star.1'), :p,
                   extract(year FROM current_date)::int - 1, 'awarded', 'bench',
                   now() - interval '20 days', 10, :t"""),
            [{"p": int(key.rsplit(":", 1)[1]), "t": pk} for key, pk in star.items()],
        )
    with engine.begin() as conn:
        for _ in range(4):
            bulk_transactions(conn, SCHEMA, kind="spend", count=len(ids), amount=4, other=sink,
                              pupil_pays=True, memo="兑换文具", days=300)  # fmt: skip
        settle(engine, conn, SCHEMA)
        result = ledger.verify(conn, SCHEMA)
        assert not result.problems, result.problems
    vacuum(engine, SCHEMA, (*LEDGER_TABLES, "badge_awards", "pupil_status_changes"))
    with engine.connect() as conn:
        entries = conn.execute(
            text(f"""SELECT (SELECT count(*) FROM {s}.pupil_status_changes)
                          + (SELECT count(*) FROM {s}.badge_awards)
                          + (SELECT count(*) FROM {s}.ledger_transactions WHERE kind <> 'award')""")
        ).scalar_one()
    print(
        f"archive county: {len(ids):,} pupils populated in {populated - started:.1f} s;"
        f" archives of {entries / len(ids):.1f} entries on average ({entries:,}) written in"
        f" {time.perf_counter() - populated:.1f} s; ledger {result.postings:,} postings, verified",
        flush=True,
    )
    engine.dispose()
    return ids


def row(name: str, concurrency: int, seconds: float, t: list[float], before: str) -> str:
    return (
        f"| {name} | {concurrency} | {len(t) / seconds:,.0f} | {statistics.median(t) * 1000:.1f}"
        f" | {percentile(t, 0.95) * 1000:.1f} | {percentile(t, 0.99) * 1000:.1f}"
        f" | {before} → {loadavg()} |"
    )


async def measure_archive(
    settings: Settings, ids: list[int], port: int, levels: list[int], seconds: float
) -> list[str]:
    token = admin_token(settings)
    engine = make_engine(sqlalchemy_url(settings.database_url or ""), settings, pool_size=1)
    with engine.connect() as conn:
        tenant = load_tenant(conn, CODE)
    engine.dispose()
    rng = random.Random(5)
    sizes: list[int] = []
    server = start_server(settings, port)
    lines = [
        "| path | concurrency | requests/s | p50 (ms) | p95 (ms) | p99 (ms) | load |",
        "|---|---|---|---|---|---|---|",
    ]
    aengine = make_async_engine(
        sqlalchemy_url(settings.database_url or ""), settings, pool_size=max(levels)
    )
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
                pupil = encode_global_id("Pupil", CODE, rng.choice(ids))
                response = await http.post(
                    "/graphql",
                    json={"query": QUERY, "variables": {"p": pupil}},
                    headers={"Authorization": f"Bearer {token}"},
                )
                body = response.json()
                assert not body.get("errors"), body
                sizes.append(len(body["data"]["pupil"]["archive"]))

            async def in_process() -> None:
                async with tenant_session(aengine, tenant) as session:
                    (events,) = await archives_async(session, [rng.choice(ids)])
                assert events

            async def floor() -> None:
                async with pool.connection() as conn:
                    found = await (await conn.execute(FLOOR, {"p": rng.choice(ids)})).fetchall()
                    assert found

            paths: list[tuple[str, Any]] = [
                ("API (GraphQL over HTTP)", api),
                ("`archives_async()` in process", in_process),
                ("floor (one SQL, psycopg)", floor),
            ]
            for _, one in paths:  # warm up
                await load(4, 3, one)
            for concurrency in levels:
                for name, one in paths:
                    before = loadavg()
                    t = await load(concurrency, seconds, one)
                    lines.append(row(name, concurrency, seconds, t, before))
                    print(lines[-1], flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)
        await aengine.dispose()
    print(f"archive entries per pupil through the API: {statistics.mean(sizes):.1f} on average")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("all", "ledger", "archive"), default="all")
    parser.add_argument("--accounts", type=int, default=50_000)
    parser.add_argument("--transactions", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pupils", type=int, default=50_000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--levels", default="1,4")
    parser.add_argument("--database", default="redscarf_bench_badges")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()

    url = fresh_database(server_url(), args.database)
    settings = Settings(database_url=libpq_url(url), data_dir=Settings().data_dir / "bench-badges")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    print(f"load average at start: {loadavg(full=True)}", flush=True)
    output: list[str] = []
    if args.part in ("all", "ledger"):
        build_ledger(settings, args.accounts, args.transactions)
        output += [*measure_ledger(settings, args.repeat), ""]
    if args.part in ("all", "archive"):
        ids = build_archive(settings, args.pupils)
        levels = [int(x) for x in args.levels.split(",")]
        port = args.port or _free_port()
        output += asyncio.run(measure_archive(settings, ids, port, levels, args.seconds))
    print(f"load average at end: {loadavg(full=True)}")
    print("\n" + "\n".join(output))


if __name__ == "__main__":
    main()
