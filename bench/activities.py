"""Benchmark: activity sign-ups and exchange redemptions under contention (issue 6).

Not a test; run by hand, figures go to docs/benchmarks.md:

    .venv/bin/python -m bench.activities                      # embedded PostgreSQL
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python -m bench.activities
    .venv/bin/python -m bench.activities --levels 1,16 --attempts 500 --parts one,many  # quick

In a database of its own (`--database`, default `redscarf_bench_activities`, recreated each
run and dropped at the end unless `--keep`) one county (522730) is onboarded with a school
and 50 grade-4 squadrons, and `--attempts` pupils (2,000), each granted enough points for
every trial. Then, for each number of concurrent clients in `--levels` (1, 4, 16, 64), each a
thread with its own connection from a pool of that size (as the API holds one connection per
request), every pupil makes one attempt, each in its own committed county transaction
(`tenant_connection`: begin, `SET LOCAL ROLE`, the service call, commit):

- **one**: 2,000 pupils sign up for one activity of `--capacity` places (200, cost 5), as at
  its opening minute: `activities.sign_up`, which locks the activity's row;
- **many**: the same 2,000 sign-ups spread round robin over `--activities` activities (50)
  holding the same places in all (4 each), so the same share is confirmed;
- **item**: 2,000 redemptions of one item of `--stock` (200, price 20): `exchange.redeem`,
  which locks the item's row and then the pupil's and the partner's ledger accounts;
- **items**: the same over `--items` items (50) of one partner, the same stock in all (4 each);
- **partners**: the same over 50 items each of its own partner (so no shared ledger account).

Every trial gets new activities or items (untimed: created, the tables analysed, the pool's
connections opened before the clock starts); the clients start together at a barrier. Timed
per attempt: from asking the pool for a connection to the commit (or rollback of a refusal).
Checked after each trial: exactly the places (or stock) confirmed (or issued), the rest
waitlisted in arrival order with positions 1..n (or refused as out of stock), the counters and
holds (or stock, codes and the partner's balance) as they must be, and `ledger.verify` of the
county with no problem. The client threads share the 2 cores with the server.

Printed as a markdown table, one line per part and number of clients: attempts per second
(confirmed and waitlisted sign-ups alike; codes issued and refusals alike), p50 and p99 of all
attempts and of those that got a place or a code, and when the last place or code went
(seconds from the start), the CPU time of this process (the clients) per attempt, and the
share of the machine's CPU that was busy during the trial (any process: clients, server,
anything else running); then the ratios of many activities (or items) to one.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, text

from bench.tenants import drop_database, fresh_database, percentile, server_url
from domain.activities import service as activities
from domain.activities.tables import activities as activity_table
from domain.activities.tables import activity_signups
from domain.exchange import service as exchange
from domain.exchange.tables import exchange_items, partners, redemptions
from domain.ledger import service as ledger
from domain.ledger.tables import AccountKind, ledger_holds
from domain.org.tables import units
from domain.people.tables import pupils
from migrations.runner import Migrator
from redscarf.database import libpq_url, make_engine, sqlalchemy_url
from redscarf.errors import RedscarfError
from redscarf.keys import load_keys
from redscarf.settings import Settings
from tenants.provisioning import create_county
from tenants.sessions import Tenant, load_tenant, tenant_connection

CODE = "522730"
COST = 5  # an activity's cost, held while confirmed
PRICE = 20  # an item's price
PARTS = ("one", "many", "item", "items", "partners")
TITLES = {
    "one": "sign-up, one activity",
    "many": "sign-up, many activities",
    "item": "redemption, one item",
    "items": "redemption, many items, one partner",
    "partners": "redemption, many items, many partners",
}


def loadavg() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


def cpu_ticks() -> tuple[int, int]:
    """The machine's busy and total CPU ticks so far (all cores, from /proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle and iowait
    return sum(fields) - idle, sum(fields)


# --- setting up (untimed) ---------------------------------------------------------------------


def build_county(engine: Engine, pupils_n: int, points: int, squadrons: int = 50) -> Tenant:
    with engine.begin() as conn:
        Migrator().upgrade_shared(conn)
    create_county(engine, Migrator(), CODE, "平塘县", "52")
    with engine.connect() as conn:
        tenant = load_tenant(conn, CODE)
    with tenant_connection(engine, tenant) as conn:
        root = conn.execute(select(units.c.id).where(units.c.path == "c")).scalar_one()
        school = conn.execute(
            insert(units)
            .values(kind="brigade", name="城关小学", path="c.b000001", parent_id=root, area="urban")
            .returning(units.c.id)
        ).scalar_one()
        squads = list(
            conn.execute(
                insert(units).returning(units.c.id, sort_by_parameter_order=True),
                [
                    {"kind": "squadron", "name": f"四（{k + 1}）中队", "path": f"c.b000001.s{k:06d}",
                     "parent_id": school, "grade": 4}
                    for k in range(squadrons)
                ],
            ).scalars()
        )  # fmt: skip
        conn.execute(
            insert(pupils),
            [
                {"squadron_id": squads[i % len(squads)], "name": f"队员{i}",
                 "gender": "female" if i % 2 else "male", "grade": 4, "status": "member"}
                for i in range(pupils_n)
            ],
        )  # fmt: skip
        ids = list(conn.execute(select(pupils.c.id).order_by(pupils.c.id)).scalars())
        ledger.issue_many(
            conn, [ledger.Grant(f"bench:seed:{pk}", pk, points) for pk in ids], kind="award"
        )
    return tenant


def pupil_ids(engine: Engine, tenant: Tenant) -> list[int]:
    with tenant_connection(engine, tenant) as conn:
        return list(conn.execute(select(pupils.c.id).order_by(pupils.c.id)).scalars())


def new_activities(engine: Engine, tenant: Tenant, count: int, capacity: int) -> list[int]:
    now = dt.datetime.now(dt.UTC)
    with tenant_connection(engine, tenant) as conn:
        root = conn.execute(select(units.c.id).where(units.c.path == "c")).scalar_one()
        return list(
            conn.execute(
                insert(activity_table).returning(activity_table.c.id, sort_by_parameter_order=True),
                [
                    {"unit_id": root, "title": f"红色研学 {k + 1}", "starts_at": now + dt.timedelta(days=7),
                     "ends_at": now + dt.timedelta(days=7, hours=3),
                     "signup_opens_at": now - dt.timedelta(minutes=1),
                     "signup_closes_at": now + dt.timedelta(days=1),
                     "cancel_until": now + dt.timedelta(days=2), "capacity": capacity,
                     "cost": COST, "reward": 8, "state": "published"}
                    for k in range(count)
                ],
            ).scalars()
        )  # fmt: skip


def new_items(
    engine: Engine, tenant: Tenant, count: int, stock: int, partners_n: int
) -> tuple[list[int], list[int]]:
    """`count` items of `stock` each, over `partners_n` new partners (round robin)."""
    now = dt.datetime.now(dt.UTC)
    with tenant_connection(engine, tenant) as conn:
        owners = list(
            conn.execute(
                insert(partners).returning(partners.c.id, sort_by_parameter_order=True),
                [{"name": f"县宾馆 {k + 1}"} for k in range(partners_n)],
            ).scalars()
        )
        items = list(
            conn.execute(
                insert(exchange_items).returning(exchange_items.c.id, sort_by_parameter_order=True),
                [
                    {"partner_id": owners[k % partners_n], "name": f"亲子套餐券 {k + 1}",
                     "price": PRICE, "stock": stock, "per_pupil": 1,
                     "valid_from": now - dt.timedelta(days=1), "valid_until": now + dt.timedelta(days=30)}
                    for k in range(count)
                ],
            ).scalars()
        )  # fmt: skip
    return items, owners


def analyse(engine: Engine) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))


def warm(engine: Engine, clients: int) -> None:
    """Open `clients` pooled connections at once, so none is opened on the clock."""
    held = [engine.connect() for _ in range(clients)]
    for conn in held:
        conn.close()


# --- the timed part ---------------------------------------------------------------------------

Attempt = Callable[[Connection], Any]


def run_clients(
    engine: Engine, tenant: Tenant, attempts: list[Attempt], clients: int
) -> tuple[float, list[float], list[float], list[Any]]:
    """`clients` threads take the attempts in order, each in its own county transaction
    (committed; rolled back when refused). Returns the wall time and, for each attempt, its
    latency, when it ended (seconds from the start) and its outcome (its result, or the
    refusal's code)."""
    outcomes: list[Any] = [None] * len(attempts)
    latencies: list[float] = [0.0] * len(attempts)
    ended: list[float] = [0.0] * len(attempts)
    following = iter(range(len(attempts)))
    taking = threading.Lock()
    start = threading.Barrier(clients + 1)

    def client() -> None:
        start.wait()
        while True:
            with taking:
                i = next(following, None)
            if i is None:
                return
            t0 = time.perf_counter()
            try:
                with tenant_connection(engine, tenant) as conn:
                    outcomes[i] = attempts[i](conn)
            except RedscarfError as exc:
                outcomes[i] = exc.code
            except Exception as exc:  # a deadlock or a timeout: counted, and fails the checks
                outcomes[i] = f"error: {type(exc).__name__}: {str(exc).splitlines()[0]}"
            ended[i] = time.perf_counter()
            latencies[i] = ended[i] - t0

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    t0 = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - t0
    return wall, latencies, [t - t0 for t in ended], outcomes


# --- the checks (untimed) ---------------------------------------------------------------------


def check_signups(
    engine: Engine, tenant: Tenant, activity_ids: list[int], capacity: int, outcomes: list[Any]
) -> int:
    """Exactly `capacity` confirmed in each activity, with the cost held once each, the rest
    waitlisted after them in arrival order; returns how many were confirmed."""
    errors = [o for o in outcomes if not isinstance(o, activities.Signup)]
    assert not errors, errors[:5]
    with tenant_connection(engine, tenant) as conn:
        for activity in activity_ids:
            rows = conn.execute(
                select(activity_signups.c.id, activity_signups.c.state, activity_signups.c.hold_id)
                .where(activity_signups.c.activity_id == activity)
                .order_by(activity_signups.c.id)
            ).all()
            confirmed = [r for r in rows if r.state == "confirmed"]
            waiting = [r for r in rows if r.state == "waitlisted"]
            assert len(confirmed) == min(capacity, len(rows)), (activity, len(confirmed))
            assert len(waiting) == len(rows) - len(confirmed), (activity, len(waiting))
            if waiting:
                assert max(r.id for r in confirmed) < min(r.id for r in waiting), activity
            counter = conn.execute(
                select(activity_table.c.confirmed).where(activity_table.c.id == activity)
            ).scalar_one()
            assert counter == len(confirmed), (activity, counter)
            holds = conn.execute(
                select(func.count(), func.coalesce(func.sum(ledger_holds.c.amount), 0)).where(
                    ledger_holds.c.id.in_([r.hold_id for r in confirmed]),
                    ledger_holds.c.state == "open",
                )
            ).one()
            assert tuple(holds) == (len(confirmed), COST * len(confirmed)), (activity, holds)
        by_activity: dict[int, list[int]] = {}
        for activity, signup in zip(
            attempted_activities(outcomes, activity_ids), outcomes, strict=True
        ):
            if signup.state == "waitlisted":
                by_activity.setdefault(activity, []).append(signup.position)
    for activity, positions in by_activity.items():
        assert sorted(positions) == list(range(1, len(positions) + 1)), activity
    verified(engine, tenant)
    return sum(o.state == "confirmed" for o in outcomes)


def attempted_activities(outcomes: list[Any], activity_ids: list[int]) -> list[int]:
    """The activity of each attempt: round robin, as the attempts were made."""
    return [activity_ids[i % len(activity_ids)] for i in range(len(outcomes))]


def check_redemptions(
    engine: Engine,
    tenant: Tenant,
    items: list[int],
    owners: list[int],
    stock: int,
    outcomes: list[Any],
    paid_before: dict[int, int],
) -> int:
    """Exactly `stock` codes issued per item, the rest refused as out of stock, stock at zero
    (never below: a check constraint), the partners paid for each code; returns the codes."""
    codes = [o for o in outcomes if isinstance(o, exchange.Redeemed)]
    others = {o for o in outcomes if not isinstance(o, exchange.Redeemed)}
    assert others <= {"OUT_OF_STOCK"}, sorted(map(str, others))[:5]
    assert len(codes) == stock * len(items), len(codes)
    assert len({c.code for c in codes}) == len(codes)
    with tenant_connection(engine, tenant) as conn:
        left = conn.execute(
            select(exchange_items.c.stock).where(exchange_items.c.id.in_(items))
        ).scalars()
        assert set(left) == {0}
        issued = conn.execute(
            select(func.count(), func.count(func.distinct(redemptions.c.code_hash))).where(
                redemptions.c.item_id.in_(items)
            )
        ).one()
        assert tuple(issued) == (len(codes), len(codes)), issued
        paid = sum(ledger.balance_of(conn, AccountKind.PARTNER, p) for p in owners)
    assert paid - sum(paid_before.values()) == PRICE * len(codes), paid
    verified(engine, tenant)
    return len(codes)


def verified(engine: Engine, tenant: Tenant) -> None:
    with engine.connect() as conn:
        problems = ledger.verify(conn, tenant.schema_name).problems
    assert not problems, problems


# --- a trial ----------------------------------------------------------------------------------


@dataclass
class Measured:
    wall: float
    latencies: list[float]
    won: list[float]
    """Latencies of the attempts that got a place (confirmed) or a code."""
    last: float
    """Seconds from the start until the last place or code went."""
    done: int
    client_cpu: float
    """CPU seconds of this process (the clients) per attempt."""
    busy: float
    """The share of the machine's CPU time that was busy (any process)."""


def trial(
    engine: Engine,
    tenant: Tenant,
    cipher: Any,
    part: str,
    clients: int,
    ids: list[int],
    args: argparse.Namespace,
) -> Measured:
    """One part at one number of clients, every pupil in `ids` making one attempt."""
    signups = part in ("one", "many")
    if signups:
        count = 1 if part == "one" else args.activities
        activity_ids = new_activities(engine, tenant, count, args.capacity // count)
        attempts: list[Attempt] = [
            lambda c, a=activity_ids[i % count], p=pk: activities.sign_up(c, a, p, by="bench")
            for i, pk in enumerate(ids)
        ]
    else:
        count = 1 if part == "item" else args.items
        owners_n = count if part == "partners" else 1
        items, owners = new_items(engine, tenant, count, args.stock // count, owners_n)
        attempts = [
            lambda c, t=items[i % count], p=pk: exchange.redeem(c, cipher, t, p, by="bench")
            for i, pk in enumerate(ids)
        ]
        with tenant_connection(engine, tenant) as conn:
            before = {p: ledger.balance_of(conn, AccountKind.PARTNER, p) for p in owners}
    analyse(engine)
    warm(engine, clients)
    cpu0, (busy0, total0) = time.process_time(), cpu_ticks()
    wall, latencies, ended, outcomes = run_clients(engine, tenant, attempts, clients)
    cpu1, (busy1, total1) = time.process_time(), cpu_ticks()
    if signups:
        done = check_signups(engine, tenant, activity_ids, args.capacity // count, outcomes)
        assert done == args.capacity // count * count
        won = [i for i, o in enumerate(outcomes) if o.state == "confirmed"]
    else:
        done = check_redemptions(
            engine, tenant, items, owners, args.stock // count, outcomes, before
        )
        won = [i for i, o in enumerate(outcomes) if isinstance(o, exchange.Redeemed)]
    return Measured(
        wall,
        latencies,
        [latencies[i] for i in won],
        max(ended[i] for i in won),
        done,
        (cpu1 - cpu0) / len(attempts),
        (busy1 - busy0) / max(1, total1 - total0),
    )


def warm_up(engine: Engine, tenant: Tenant, cipher: Any, ids: list[int]) -> None:
    """A few sign-ups and redemptions, one after another, before anything is timed."""
    (activity,) = new_activities(engine, tenant, 1, 10)
    (item,), _ = new_items(engine, tenant, 1, 10, 1)
    for pk in ids[:20]:
        for work in (
            lambda c, p=pk: activities.sign_up(c, activity, p, by="bench"),
            lambda c, p=pk: exchange.redeem(c, cipher, item, p, by="bench"),
        ):
            try:
                with tenant_connection(engine, tenant) as conn:
                    work(conn)
            except RedscarfError:
                pass


def ms(values: list[float], q: float) -> str:
    return f"{percentile(values, q) * 1000:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=2_000, help="pupils, one attempt each")
    parser.add_argument("--capacity", type=int, default=200, help="places in all")
    parser.add_argument("--activities", type=int, default=50)
    parser.add_argument("--stock", type=int, default=200, help="items in stock in all")
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--levels", default="1,4,16,64", help="concurrent clients to try")
    parser.add_argument("--parts", default=",".join(PARTS), help=f"some of {', '.join(PARTS)}")
    parser.add_argument("--database", default="redscarf_bench_activities")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    parts = [p for p in args.parts.split(",") if p]
    if unknown := set(parts) - set(PARTS):
        raise SystemExit(f"unknown parts: {', '.join(sorted(unknown))}")
    if args.capacity % args.activities or args.stock % args.items:
        raise SystemExit("--capacity must divide by --activities and --stock by --items")

    print(f"{platform.node()}: {os.cpu_count()} CPUs, Python {platform.python_version()}")
    server = server_url()
    url = fresh_database(server, args.database)
    settings = Settings(
        database_url=libpq_url(url), data_dir=Settings().data_dir / "bench-activities"
    )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    cipher = load_keys(settings).cipher
    engine = make_engine(
        sqlalchemy_url(settings.database_url or ""), settings, pool_size=max(levels), max_overflow=0
    )
    # Points for every trial: the cost held in each sign-up trial, the price in each redemption.
    points = len(levels) * (COST * 2 + PRICE * 3) + 100
    t0 = time.perf_counter()
    tenant = build_county(engine, args.attempts, points)
    ids = pupil_ids(engine, tenant)
    print(f"county {CODE}: {len(ids):,} pupils with {points} points each, set up in"
          f" {time.perf_counter() - t0:.1f} s; load average {loadavg()}", flush=True)  # fmt: skip

    warm_up(engine, tenant, cipher, ids)
    lines = [
        "| what | clients | attempts | confirmed / codes | attempts/s | p50 (ms) | p99 (ms)"
        " | confirmed / codes: p50 (ms) | p99 (ms) | last one went at (s)"
        " | client CPU per attempt (ms) | machine CPU busy |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    rates: dict[tuple[str, int], float] = {}
    started = time.perf_counter()
    try:
        for part in parts:
            for clients in levels:
                m = trial(engine, tenant, cipher, part, clients, ids, args)
                n = len(m.latencies)
                rates[part, clients] = n / m.wall
                lines.append(
                    f"| {TITLES[part]} | {clients} | {n:,} | {m.done:,} | {n / m.wall:,.0f}"
                    f" | {ms(m.latencies, 0.5)} | {ms(m.latencies, 0.99)} | {ms(m.won, 0.5)}"
                    f" | {ms(m.won, 0.99)} | {m.last:.2f} | {m.client_cpu * 1000:.1f}"
                    f" | {m.busy:.0%} |"
                )
                print(f"{time.strftime('%H:%M:%S')} {lines[-1]} load {loadavg()}", flush=True)
    finally:
        engine.dispose()
        if not args.keep:
            drop_database(server, args.database)
    print(
        f"trials took {time.perf_counter() - started:.1f} s, ended {time.strftime('%H:%M:%S')};"
        f" load average {loadavg()}; all checks passed"
    )

    ratios = ["", "| ratio | " + " | ".join(f"{c} clients" for c in levels) + " |",
              "|---|" + "---|" * len(levels)]  # fmt: skip
    for over, under, name in (
        ("many", "one", "many activities / one activity"),
        ("items", "item", "many items, one partner / one item"),
        ("partners", "item", "many items, many partners / one item"),
    ):
        if over in parts and under in parts:
            cells = " | ".join(f"{rates[over, c] / rates[under, c]:.2f}" for c in levels)
            ratios.append(f"| {name} | {cells} |")
    print("\n" + "\n".join(lines + (ratios if len(ratios) > 3 else [])))


if __name__ == "__main__":
    main()
