"""Benchmark: onboard N counties, then one more migration across all of them.

Not a test; run by hand, figures go to docs/benchmarks.md:

    .venv/bin/python -m bench.tenants                        # embedded PostgreSQL, 1000 counties
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python -m bench.tenants

It works in a database of its own (`--database`, default `redscarf_bench`) on the configured
server, dropped with its roles at the start of each run. Targets (issue 2): a county onboarded
in under 2 s; the migration across 1,000 counties in under 60 s on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL

from migrations.runner import Migrator, upgrade_all
from redscarf.database import make_engine, sqlalchemy_url, start_embedded
from redscarf.settings import Settings
from tenants.provisioning import create_county
from tenants.roles import roles_of_database

BENCH_MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BENCH_REVISION = "b0001_bench"


def server_url() -> str:
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    return start_embedded(Settings().data_dir)


def _admin(server: str) -> psycopg.Connection:
    url = sqlalchemy_url(server, "postgres").set(drivername="postgresql")
    return psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)


def drop_database(server: str, name: str) -> int:
    """Drop the benchmark database and its county roles (roles are cluster-wide)."""
    with _admin(server) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        roles = conn.execute(
            "SELECT rolname FROM pg_roles WHERE rolname ~ %s", (roles_of_database(name),)
        ).fetchall()
        for (role,) in roles:
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))
    return len(roles)


def fresh_database(server: str, name: str) -> URL:
    dropped = drop_database(server, name)
    with _admin(server) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        version = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
    print(f"PostgreSQL {version}; database {name} recreated, {dropped} old roles dropped")
    return sqlalchemy_url(server, name)


def county_codes(n: int) -> list[str]:
    """n valid county codes (GB/T 2260 shape) in provinces 52, 53, 51, ..."""
    codes: list[str] = []
    for province in ("52", "53", "51", "45", "43"):
        for prefecture in range(1, 100):
            for county in range(1, 100):
                codes.append(f"{province}{prefecture:02d}{county:02d}")
                if len(codes) == n:
                    return codes
    raise ValueError(f"at most {len(codes)} codes")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def onboard(engine: Engine, n: int) -> list[float]:
    migrator = Migrator()
    timings: list[float] = []
    started = time.perf_counter()
    for i, code in enumerate(county_codes(n), 1):
        t0 = time.perf_counter()
        create_county(engine, migrator, code, f"基准县{code}", code[:2])
        timings.append(time.perf_counter() - t0)
        if i % 100 == 0:
            print(f"  {i} counties, {time.perf_counter() - started:.1f} s", flush=True)
    return timings


def take_back_bench_migration(engine: Engine) -> None:
    """Undo the benchmark migration in every county (untimed), so the next trial redoes it."""
    with engine.begin() as conn:
        schemas = conn.execute(text("SELECT schema_name FROM shared.tenants")).scalars().all()
        head = Migrator().head("tenant")
        for schema in schemas:
            conn.execute(text(f'ALTER TABLE "{schema}".units DROP COLUMN IF EXISTS bench_note'))
            conn.execute(
                text(f'UPDATE "{schema}".alembic_version SET version_num = :v'), {"v": head}
            )
        conn.execute(text("UPDATE shared.tenants SET schema_version = :v"), {"v": head})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counties", type=int, default=1000)
    parser.add_argument("--processes", default="2,3,4", help="comma-separated pool sizes to try")
    parser.add_argument("--database", default="redscarf_bench")
    parser.add_argument(
        "--keep", action="store_true", help="keep the database and its roles afterwards"
    )
    args = parser.parse_args()
    pools = [int(p) for p in args.processes.split(",")]

    print(f"{platform.node()}: {os.cpu_count()} CPUs, Python {platform.python_version()}")
    server = server_url()
    url = fresh_database(server, args.database)
    engine = make_engine(url, Settings(), pool_size=1)
    try:
        with engine.begin() as conn:
            Migrator().upgrade_shared(conn)

        print(f"onboarding {args.counties} counties (create_county, one after another)")
        started = time.perf_counter()
        timings = onboard(engine, args.counties)
        total = time.perf_counter() - started
        print(
            f"onboarding: total {total:.1f} s; per county p50 {statistics.median(timings):.3f} s,"
            f" p95 {percentile(timings, 0.95):.3f} s, max {max(timings):.3f} s"
        )

        results: list[tuple[int, float, float]] = []
        for i, processes in enumerate(pools):
            if i:
                take_back_bench_migration(engine)
            t0 = time.perf_counter()
            report = upgrade_all(
                url, processes=processes, extra_version_locations=[BENCH_MIGRATIONS]
            )
            elapsed = time.perf_counter() - t0
            assert report.ok, report.failed
            assert report.head == BENCH_REVISION
            assert len(report.upgraded) == args.counties, report
            t0 = time.perf_counter()
            idle = upgrade_all(url, processes=processes, extra_version_locations=[BENCH_MIGRATIONS])
            noop = time.perf_counter() - t0
            assert idle.already_at_head == args.counties
            results.append((processes, elapsed, noop))
            print(
                f"upgrade_all, {processes} processes: {elapsed:.1f} s"
                f" ({elapsed / args.counties * 1000:.1f} ms per county); no-op {noop:.2f} s",
                flush=True,
            )

        print("\n| processes | upgrade of all counties (s) | per county (ms) | no-op upgrade (s) |")
        print("|---|---|---|---|")
        for processes, elapsed, noop in results:
            print(
                f"| {processes} | {elapsed:.1f} | {elapsed / args.counties * 1000:.1f} |"
                f" {noop:.2f} |"
            )
        best = min(results, key=lambda r: r[1])
        print(f"\nbest: {best[0]} processes")
    finally:
        engine.dispose()
        if not args.keep:
            # A thousand county roles left in the cluster would confuse anything that looks
            # roles up by county code.
            print(f"dropped {args.database} and {drop_database(server, args.database)} roles")


if __name__ == "__main__":
    main()
