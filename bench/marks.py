"""Benchmark: what the statistics' change marks cost a county's writes (issue 8).

Not a test; run by hand, figures go to docs/benchmarks.md:

    .venv/bin/python -m bench.marks                       # embedded PostgreSQL
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python -m bench.marks

Every writing transaction of a county appends one row to `shared.summary_marks` (a statement
trigger on the tables the figures read, once per transaction). In a database of its own, one
county with `--pupils` pupils runs `--transactions` short write transactions as the county's
role at each number of concurrent clients in `--levels`: each updates one pupil's row and
records a status change (two statements, as a status change in the API does). The same
work runs with the county's mark triggers enabled and disabled (`ALTER TABLE ... DISABLE
TRIGGER`), alternating rounds; the table gives transactions per second and p50/p99.
"""

from __future__ import annotations

import argparse
import random
import threading
import time

from sqlalchemy import Engine, insert, select, text, update

from bench.tenants import drop_database, fresh_database, percentile, server_url
from domain import clock
from domain.demo import populate_county
from domain.people.tables import pupil_status_changes, pupils
from migrations.runner import Migrator
from redscarf.database import make_engine
from redscarf.settings import Settings
from tenants.provisioning import create_county
from tenants.sessions import Tenant, load_tenant, tenant_connection


def switch(engine: Engine, tenant: Tenant, on: bool) -> None:
    verb = "ENABLE" if on else "DISABLE"
    with engine.begin() as conn:
        found = conn.execute(text(
            "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = :s AND t.tgname LIKE '%mark_summary'"), {"s": tenant.schema_name}
        ).all()  # fmt: skip
        for table, trigger in found:
            conn.execute(text(f'ALTER TABLE "{tenant.schema_name}".{table} '
                              f"{verb} TRIGGER {trigger}"))  # fmt: skip


def run(engine: Engine, tenant: Tenant, ids: list[int], clients: int, total: int) -> list[float]:
    times: list[float] = []
    lock = threading.Lock()
    today = clock.today()

    def client(n: int) -> None:
        rng = random.Random(n)
        for _ in range(total // clients):
            pk = rng.choice(ids)
            t0 = time.perf_counter()
            with tenant_connection(engine, tenant) as conn:
                conn.execute(update(pupils).where(pupils.c.id == pk).values(batch="b"))
                conn.execute(insert(pupil_status_changes).values(
                    pupil_id=pk, from_status="member", to_status="member", on_date=today))  # fmt: skip
            with lock:
                times.append(time.perf_counter() - t0)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pupils", type=int, default=5_000)
    parser.add_argument("--transactions", type=int, default=2_000, help="per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each, alternating")
    parser.add_argument("--levels", default="1,4")
    parser.add_argument("--database", default="redscarf_bench_marks")
    args = parser.parse_args()
    server = server_url()
    url = fresh_database(server, args.database)
    engine = make_engine(url, Settings(), pool_size=8, max_overflow=0)
    try:
        with engine.begin() as conn:
            Migrator().upgrade_shared(conn)
        create_county(engine, Migrator(), "330102", "和平县", "33")
        with engine.connect() as conn:
            tenant = load_tenant(conn, "330102")
        populate_county(engine, tenant, pupils=args.pupils, seed=1, run_key="marks")
        with tenant_connection(engine, tenant) as conn:
            ids = list(conn.execute(select(pupils.c.id)).scalars())
        print("| marks | clients | transactions | tx/s | p50 (ms) | p99 (ms) |")
        print("|---|---|---|---|---|---|")
        for clients in (int(n) for n in args.levels.split(",")):
            for _ in range(args.rounds):
                for on in (True, False):
                    switch(engine, tenant, on)
                    t0 = time.perf_counter()
                    times = run(engine, tenant, ids, clients, args.transactions)
                    wall = time.perf_counter() - t0
                    print(f"| {'on' if on else 'off'} | {clients} | {len(times)} | "
                          f"{len(times) / wall:,.0f} | {percentile(times, 0.5) * 1000:.2f} | "
                          f"{percentile(times, 0.99) * 1000:.2f} |", flush=True)  # fmt: skip
        with engine.connect() as conn:
            marks = conn.execute(text("SELECT count(*) FROM shared.summary_marks")).scalar()
        print(f"marks written: {marks:,}")
    finally:
        engine.dispose()
        drop_database(server, args.database)


if __name__ == "__main__":
    main()
