"""Load test: a realistic mix against `redscarf serve`, with the floor and a peer (issue 10).

Not a test (but `--short` runs inside the test suite, tests/test_load.py); figures go to
docs/benchmarks.md:

    .venv/bin/python -m bench.load                     # embedded PostgreSQL, benchmark size
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python -m bench.load
    .venv/bin/python -m bench.load --short             # seconds, small data, no peer

**Data**: `redscarf demo` at benchmark size (`domain.demo.build_demo`: `--counties` 100, the
first, 惠水县, of `--pupils` 50,000, each other of `--others` 1,000, each with a year of history,
about 20 ledger postings per pupil) in a database of its own (`--database`, recreated unless
`--reuse` finds it built), then VACUUM ANALYZE and every county's summary. In the big county,
`--guardians` (1,000) demo families get an account and a session (as a first sign-in by phone
code would give them), their child is granted points for the run, and `--activities` (20)
activities open for sign-up now (200 places each, 5 points).

**Load**: `redscarf serve` in a subprocess on loopback (rate limits off: the clients are few and
fast). For each number of clients in `--levels`, each client sends requests back to back for
`--seconds` over its own keep-alive connection (a small HTTP/1.1 client, so that the load
generator spends little of the 2 cores), each request drawn from the mix:

| operation | who | share |
|---|---|---|
| guardian: a child's page (`pupil`: squadron, points, last 20 points entries, badges) | parent | 40 % |
| guardian: the growth archive (`pupil { archive }`) | parent | 10 % |
| roster: a squadron's first 50 pupils (`pupils(under:)`) | county admin | 25 % |
| sign-up for one of the activities at its opening (`signUpForActivity`) | parent | 10 % |
| redemption of goods on sale (`redeemItem`) | parent | 10 % |
| the county's dashboard (`countySummary`: the academic year, as last summarised) | county admin | 5 % |

Any HTTP error, GraphQL error or user error counts as an error of its operation (the mix is
built so that none should occur: every sign-up is a new pupil for its activity, every child
has points for every redemption).

**The floor and the peer**: the two main reads (guardian page and roster) are then measured
alone, at each level, through the API, by hand-written SQL over psycopg (one statement each,
a pool of the same size, in this process) and through PostGraphile 4 (`bench.peer`, installed
with npm by this script only) over the same database and schema. `--no-peer` skips it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from psycopg_pool import AsyncConnectionPool
from sqlalchemy import Engine, bindparam, insert, select, text, update
from sqlalchemy.engine import make_url

from authz.roles import Role
from bench import peer
from bench.activities import cpu_ticks, loadavg
from bench.roster import _free_port, start_server
from bench.stats import token
from bench.tenants import fresh_database, percentile, server_url
from domain.accounts.service import create_user, grant_role, start_session
from domain.activities.service import activity_account
from domain.activities.tables import activities
from domain.demo import build_demo
from domain.ledger import service as ledger
from domain.people.tables import PupilStatus, guardian_bindings, guardians, pupils
from domain.stats.rollup import refresh_county
from migrations.runner import Migrator
from redscarf.database import libpq_url, make_engine, sqlalchemy_url
from redscarf.keys import load_keys
from redscarf.settings import Settings
from schema.ids import encode_global_id
from tenants.sessions import load_tenant, tenant_connection

BIG = "522731"  # 惠水县, the first demo county
SCHEMA = f"county_{BIG}"

GUARDIAN = """query($id: ID!) { pupil(id: $id) { id name grade squadron { name }
  points { balance held available }
  pointsHistory(first: 20) { edges { node { amount kind memo at balanceAfter } } }
  badges { badge { name level } state awardedAt } } }"""
ARCHIVE = """query($id: ID!) { pupil(id: $id) { archive { on kind title detail points } } }"""
ROSTER = """query($s: ID!) { pupils(first: 50, under: $s) { edges { node {
  id name gender grade status birthDate squadron { name } } } } }"""
SIGN_UP = """mutation($a: ID!, $p: ID!) { signUpForActivity(input: {activityId: $a, pupilIds: [$p]})
  { signups { state } userErrors { code } } }"""
REDEEM = """mutation($i: ID!, $p: ID!) { redeemItem(input: {itemId: $i, pupilId: $p})
  { redemption { state expiresAt } userErrors { code } } }"""
DASHBOARD = """{ countySummary { statistics { computedAt currentPupils pupilsBound boundPercent
  points { issued spent held } activities { held servedPupils }
  badges { level count } redemptions { made verified } } } }"""
STATISTICS = """{ statistics { currentPupils pupilsBound boundPercent
  points { issued spent held } activities { held servedPupils }
  badges { level count } redemptions { made verified } } }"""

FLOOR_ROSTER = f"""
SELECT p.id, p.name, p.gender, p.grade, p.status, p.birth_date, s.name AS squadron
  FROM {SCHEMA}.pupils p JOIN {SCHEMA}.units s ON s.id = p.squadron_id
 WHERE p.squadron_id = %s ORDER BY p.id LIMIT 50"""
FLOOR_GUARDIAN = f"""
SELECT p.id, p.name, p.grade, s.name, a.balance, a.held, a.balance - a.held,
  (SELECT json_agg(h) FROM (
     SELECT x.amount, t.kind, t.memo, x.created_at,
            a.balance - coalesce(sum(x.amount) OVER (ORDER BY x.id DESC
              ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS balance_after
       FROM {SCHEMA}.ledger_postings x JOIN {SCHEMA}.ledger_transactions t
         ON t.id = x.transaction_id
      WHERE x.account_id = a.id ORDER BY x.id DESC LIMIT 20) h),
  (SELECT json_agg(b) FROM (
     SELECT g.name, g.level, w.state, w.awarded_at FROM {SCHEMA}.badge_awards w
       JOIN {SCHEMA}.badges g ON g.id = w.badge_id WHERE w.pupil_id = p.id
      ORDER BY w.created_at, w.id) b)
  FROM {SCHEMA}.pupils p JOIN {SCHEMA}.units s ON s.id = p.squadron_id
  LEFT JOIN {SCHEMA}.ledger_accounts a ON a.kind = 'pupil' AND a.owner_id = p.id
 WHERE p.id = %s"""


# --- the data ----------------------------------------------------------------------------------


@dataclass
class World:
    """What the clients need: tokens and ids."""

    admin: str
    squadrons: list[int]
    families: list[tuple[str, int]]  # (guardian's token, its child)
    activities: list[int]
    items: list[int]


def build(engine: Engine, args: argparse.Namespace) -> list[str]:
    notes = []
    t0 = time.perf_counter()
    with engine.begin() as conn:
        Migrator().upgrade_shared(conn)
    summary = build_demo(engine, Migrator(), pupils=args.pupils, counties=args.counties,
                         others=args.others, seed=1)  # fmt: skip
    notes.append(f"demo: {len(summary.counties)} counties, {summary.total('pupils'):,} pupils, "
                 f"{summary.total('postings'):,} postings in {summary.seconds:.0f} s")  # fmt: skip
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    t1 = time.perf_counter()
    for county in summary.counties:
        refresh_county(engine, county.code)
    notes.append(f"summaries of {len(summary.counties)} counties: {time.perf_counter() - t1:.0f} s;"
                 f" build in all {time.perf_counter() - t0:.0f} s")  # fmt: skip
    return notes


def prepare(engine: Engine, settings: Settings, args: argparse.Namespace, run: str) -> World:
    """Accounts, points and today's activities for this run (the demo data stays as it was)."""
    keys = load_keys(settings)
    long = settings.model_copy(update={"access_token_minutes": 600, "idle_timeout_minutes": 600})
    with engine.connect() as conn:
        tenant = load_tenant(conn, BIG)
    with tenant_connection(engine, tenant) as conn:
        squadrons = list(conn.execute(text(
            f"SELECT id FROM {SCHEMA}.units WHERE kind = 'squadron' ORDER BY id")).scalars())  # fmt: skip
        chosen, seen = [], set()  # one child per family, one family per child
        for guardian, pupil in conn.execute(
            select(guardians.c.id, guardian_bindings.c.pupil_id)
            .join(guardian_bindings, guardian_bindings.c.guardian_id == guardians.c.id)
            .join(pupils, pupils.c.id == guardian_bindings.c.pupil_id)
            .where(
                guardians.c.user_id.is_(None),
                guardian_bindings.c.verified_at.is_not(None),
                pupils.c.status == PupilStatus.MEMBER,
            )
            .order_by(guardians.c.id)
        ):
            if len(chosen) < args.guardians and not {("g", guardian), ("p", pupil)} & seen:
                chosen.append((guardian, pupil))
                seen |= {("g", guardian), ("p", pupil)}
        items = list(conn.execute(text(
            f"SELECT id FROM {SCHEMA}.exchange_items WHERE state = 'on_sale' ORDER BY id")).scalars())  # fmt: skip
        ledger.issue_many(conn, [ledger.Grant(f"bench:{run}:{pupil}", pupil, 100_000, "基准测试")
                                 for _, pupil in chosen], kind="other", by="bench")  # fmt: skip
        opened = _open_activities(conn, args.activities)
    families = []
    with engine.begin() as conn:
        for n, (guardian, pupil) in enumerate(chosen):
            user = create_user(conn, keys.cipher, display_name=f"家长{n}",
                               username=f"bench-{run}-g{n}")  # fmt: skip
            grant_role(conn, user, Role.GUARDIAN, BIG, "c", granted_by=None)
            session = start_session(conn, keys, long, user, mfa=False, client="bench")
            families.append((session.access_token, pupil, user, guardian))
    with tenant_connection(engine, tenant) as conn:
        conn.execute(
            update(guardians).where(guardians.c.id == bindparam("g")).values(user_id=bindparam("u")),
            [{"g": g, "u": u} for _, _, u, g in families],
        )  # fmt: skip
    admin = token(settings, f"bench-{run}-admin", Role.COUNTY_ADMIN, BIG, "c")
    return World(admin, squadrons, [(t, p) for t, p, _, _ in families], opened, items)


def _open_activities(conn: Any, n: int) -> list[int]:
    root = conn.execute(text(f"SELECT id FROM {SCHEMA}.units WHERE kind = 'county'")).scalar_one()
    opened = []
    for k in range(n):
        pk = conn.execute(
            insert(activities)
            .values(unit_id=root, title=f"开放日活动{k + 1}", starts_at=text("now() + interval '7 days'"),
                    ends_at=text("now() + interval '7 days 3 hours'"), signup_opens_at=text("now()"),
                    signup_closes_at=text("now() + interval '6 days'"), capacity=200, cost=5,
                    state="published", created_by="bench")
            .returning(activities.c.id)
        ).scalar_one()  # fmt: skip
        activity_account(conn, pk)
        opened.append(pk)
    return opened


# --- a small HTTP/1.1 client -----------------------------------------------------------------


class Http:
    """One keep-alive connection; requests pre-encoded, answers read by Content-Length."""

    def __init__(self, port: int, path: str = "/graphql") -> None:
        self.port, self.path = port, path
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, body: dict[str, Any], headers: dict[str, str]) -> tuple[int, Any]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        data = json.dumps(body).encode()
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.writer.write(
            f"POST {self.path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Accept: application/json\r\nContent-Length: {len(data)}\r\n{head}\r\n".encode()
            + data
        )
        assert self.reader is not None
        status = int((await self.reader.readline()).split()[1])
        length, chunked = 0, False
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "transfer-encoding" and "chunked" in value:
                chunked = True
        if chunked:
            parts = []
            while size := int((await self.reader.readline()).strip(), 16):
                parts.append(await self.reader.readexactly(size + 2))
            await self.reader.readline()
            raw = b"".join(p[:-2] for p in parts)
        else:
            raw = await self.reader.readexactly(length)
        return status, json.loads(raw) if raw else None

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


# --- the load ----------------------------------------------------------------------------------


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))

    def error(self, op: str, what: str) -> None:
        self.errors[op][what] = self.errors[op].get(what, 0) + 1


Op = Callable[[Http], Awaitable[tuple[int, Any]]]


def _problem(status: int, body: Any, op: str) -> str | None:
    if status != 200:
        return f"HTTP {status}"
    if body is None or body.get("errors"):
        return ((body or {}).get("errors") or [{}])[0].get("extensions", {}).get("code", "error")
    for value in (body.get("data") or {}).values():
        if isinstance(value, dict) and value.get("userErrors"):
            return value["userErrors"][0]["code"]
    return None


class Mix:
    """The operations of the mix, each a function of a connection, with their shares."""

    def __init__(self, world: World, rng: random.Random) -> None:
        self.world, self.rng = world, rng
        self.signups = ((a, f) for a in world.activities for f in world.families)
        admin = {"Authorization": f"Bearer {world.admin}"}
        gid = encode_global_id

        def parent() -> tuple[dict[str, str], str]:
            tok, pupil = rng.choice(world.families)
            return {"Authorization": f"Bearer {tok}"}, gid("Pupil", BIG, pupil)

        async def guardian(http: Http) -> tuple[int, Any]:
            headers, pupil = parent()
            return await http.post({"query": GUARDIAN, "variables": {"id": pupil}}, headers)

        async def archive(http: Http) -> tuple[int, Any]:
            headers, pupil = parent()
            return await http.post({"query": ARCHIVE, "variables": {"id": pupil}}, headers)

        async def roster(http: Http) -> tuple[int, Any]:
            squadron = gid("Unit", BIG, rng.choice(world.squadrons))
            return await http.post({"query": ROSTER, "variables": {"s": squadron}}, admin)

        async def sign_up(http: Http) -> tuple[int, Any]:
            pair = next(self.signups, None)
            if pair is None:  # each pupil signs up once for each activity
                raise RuntimeError(
                    "every family has signed up for every activity: more --activities"
                )
            activity, (tok, pupil) = pair
            return await http.post(
                {"query": SIGN_UP, "variables": {"a": gid("Activity", BIG, activity),
                                                 "p": gid("Pupil", BIG, pupil)}},
                {"Authorization": f"Bearer {tok}"},
            )  # fmt: skip

        async def redeem(http: Http) -> tuple[int, Any]:
            headers, pupil = parent()
            item = gid("ExchangeItem", BIG, rng.choice(world.items))
            return await http.post({"query": REDEEM, "variables": {"i": item, "p": pupil}},
                                   headers)  # fmt: skip

        async def dashboard(http: Http) -> tuple[int, Any]:
            return await http.post({"query": DASHBOARD}, admin)

        async def statistics(http: Http) -> tuple[int, Any]:
            return await http.post({"query": STATISTICS}, admin)

        self.ops: dict[str, tuple[Op, int]] = {  # shares in 40ths
            "guardian page": (guardian, 16),
            "guardian archive": (archive, 4),
            "roster page": (roster, 10),
            "activity sign-up": (sign_up, 4),
            "redemption": (redeem, 4),
            "county dashboard": (dashboard, 2),
        }
        self.statistics = statistics  # measured alone: see `compare`
        self.deck: list[str] = []

    def draw(self) -> str:
        """The next operation: dealt from a shuffled deck of 40 in the shares of the mix, so
        that every operation comes in every 40 requests."""
        if not self.deck:
            self.deck = [name for name, (_, share) in self.ops.items() for _ in range(share)]
            self.rng.shuffle(self.deck)
        return self.deck.pop()


async def run_level(target: tuple[int, str], clients: int, seconds: float, pick: Callable[[], str],
                    ops: dict[str, Op]) -> tuple[Tally, float]:  # fmt: skip
    tally = Tally()
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        http = Http(*target)
        try:
            while time.perf_counter() < deadline:
                name = pick()
                t0 = time.perf_counter()
                try:
                    status, body = await ops[name](http)
                except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                    tally.error(name, type(exc).__name__)
                    http.close()
                    http = Http(*target)
                    continue
                tally.latencies[name].append(time.perf_counter() - t0)
                if problem := _problem(status, body, name):
                    tally.error(name, problem)
        finally:
            http.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return tally, time.perf_counter() - started


def always(name: str) -> Callable[[], str]:
    return lambda: name


def ms(values: list[float], q: float) -> str:
    return f"{percentile(values, q) * 1000:.1f}" if values else "–"


def table(title: str, clients: int, tally: Tally, took: float, cpu: str) -> list[str]:
    total = sum(len(v) for v in tally.latencies.values())
    lines = [f"| {title} | {clients} | all | {total / took:,.0f} | | | | "
             f"{sum(sum(e.values()) for e in tally.errors.values())} | {cpu} |"]  # fmt: skip
    for name, values in tally.latencies.items():
        errors = ", ".join(f"{k} × {v}" for k, v in tally.errors.get(name, {}).items()) or "0"
        lines.append(f"| | | {name} | {len(values) / took:,.1f} | {ms(values, 0.5)} |"
                     f" {ms(values, 0.95)} | {ms(values, 0.99)} | {errors} | |")  # fmt: skip
    return lines


HEADER = ["| run | clients | operation | requests/s | p50 (ms) | p95 (ms) | p99 (ms) | errors "
          "| CPU ms per request: server / load generator; machine busy |",
          "|---|---|---|---|---|---|---|---|---|"]  # fmt: skip


def cpu_seconds(pid: int) -> float:
    """CPU time of a process and its children (a server's workers), from /proc."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(stat.parent.name) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


async def measure(settings: Settings, world: World, args: argparse.Namespace) -> tuple[list[str], int]:  # fmt: skip
    port = _free_port()
    server = start_server(settings, port)
    lines, errors = list(HEADER), 0
    rng = random.Random(5)
    try:
        mix = Mix(world, rng)
        ops = {name: op for name, (op, _) in mix.ops.items()}
        api = (port, "/graphql")
        await run_level(api, 2, min(2.0, args.seconds), mix.draw, ops)  # warm up
        for clients in args.levels:
            before = cpu_seconds(server.pid), time.process_time(), cpu_ticks()
            tally, took = await run_level(api, clients, args.seconds, mix.draw, ops)
            done = sum(len(v) for v in tally.latencies.values()) or 1
            busy = [b - a for a, b in zip(before[2], cpu_ticks(), strict=True)]
            cpu = (f"{(cpu_seconds(server.pid) - before[0]) * 1000 / done:.1f} /"
                   f" {(time.process_time() - before[1]) * 1000 / done:.1f};"
                   f" {busy[0] / max(busy[1], 1):.0%}")  # fmt: skip
            errors += sum(sum(e.values()) for e in tally.errors.values())
            lines.extend(table("mix", clients, tally, took, cpu))
            print("\n".join(lines[-len(tally.latencies) - 1 :]), f"  load {loadavg()}", flush=True)
        lines += ["", "| read | clients | path | requests/s | p50 (ms) | p95 (ms) | p99 (ms) | errors |",
                  "|---|---|---|---|---|---|---|---|"]  # fmt: skip
        errors += await compare(settings, world, args, port, mix, lines)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return lines, errors


async def compare(settings: Settings, world: World, args: argparse.Namespace, port: int,
                  mix: Mix, lines: list[str]) -> int:  # fmt: skip
    """The two main reads alone: API, floor and peer, level by level; then the statistics."""
    rng = random.Random(7)
    url = libpq_url(settings.database_url or "")
    api = {"guardian page": mix.ops["guardian page"][0], "roster page": mix.ops["roster page"][0]}
    paths: dict[str, tuple[tuple[int, str], dict[str, Op]]] = {"API": ((port, "/graphql"), api)}
    pool = AsyncConnectionPool(url, min_size=1, max_size=max(args.levels), open=False)
    await pool.open(wait=True)
    floor: dict[str, Any] = {}

    def floor_op(sql: str, ids: Callable[[], int]) -> Op:
        async def run(_http: Http) -> tuple[int, Any]:
            async with pool.connection() as conn:
                rows = await (await conn.execute(sql, (ids(),))).fetchall()
            return 200, {"data": {"rows": len(rows)}}

        return run

    floor["guardian page"] = floor_op(FLOOR_GUARDIAN, lambda: rng.choice(world.families)[1])
    floor["roster page"] = floor_op(FLOOR_ROSTER, lambda: rng.choice(world.squadrons))
    paths["floor (SQL)"] = ((port, "/graphql"), floor)  # the connection is not used
    peer_server = None
    if args.peer:
        peer_port = _free_port()
        peer.ensure_postgraphile()
        peer_server = peer.start_postgraphile(url, SCHEMA, peer_port)

        def peer_op(query: str, variables: Callable[[], dict[str, Any]]) -> Op:
            async def run(http: Http) -> tuple[int, Any]:
                return await http.post({"query": query, "variables": variables()}, {})

            return run

        paths["PostGraphile"] = (peer_port, peer.ENDPOINT), {
            "guardian page": peer_op(peer.GUARDIAN_QUERY,
                                     lambda: peer.guardian_variables(rng.choice(world.families)[1])),
            "roster page": peer_op(peer.ROSTER_QUERY,
                                   lambda: peer.roster_variables(rng.choice(world.squadrons))),
        }  # fmt: skip
    errors = 0
    try:
        for read in ("guardian page", "roster page"):
            for clients in args.levels:
                for path, (target, ops) in paths.items():
                    await run_level(target, 1, 0.5, always(read), ops)  # warm up
                    tally, took = await run_level(target, clients, args.seconds, always(read), ops)
                    values = tally.latencies[read]
                    wrong = sum(tally.errors.get(read, {}).values())
                    errors += wrong
                    lines.append(f"| {read} | {clients} | {path} | {len(values) / took:,.0f} |"
                                 f" {ms(values, 0.5)} | {ms(values, 0.95)} | {ms(values, 0.99)} |"
                                 f" {wrong} |")  # fmt: skip
                    print(lines[-1], f"  load {loadavg()}", flush=True)
        # A county's statistics counted afresh, by one admin at a time (not in the mix: each
        # takes the county's every row, seconds at 50,000 pupils; dashboards read the summary).
        exact = "county statistics (exact)"
        tally, took = await run_level((port, "/graphql"), 1, args.seconds, always(exact),
                                      {exact: mix.statistics})  # fmt: skip
        values, wrong = tally.latencies[exact], sum(tally.errors.get(exact, {}).values())
        errors += wrong
        lines.append(f"| {exact} | 1 | API | {len(values) / took:,.1f} | {ms(values, 0.5)} |"
                     f" {ms(values, 0.95)} | {ms(values, 0.99)} | {wrong} |")  # fmt: skip
        print(lines[-1], f"  load {loadavg()}", flush=True)
    finally:
        await pool.close()
        if peer_server is not None:
            peer.stop_postgraphile(peer_server)
    return errors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counties", type=int, default=100)
    parser.add_argument("--pupils", type=int, default=50_000)
    parser.add_argument("--others", type=int, default=1_000)
    parser.add_argument("--guardians", type=int, default=1_000)
    parser.add_argument("--activities", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--levels", default="1,4,16,64")
    parser.add_argument("--database", default="redscarf_bench_load")
    parser.add_argument("--reuse", action="store_true", help="keep a database built before")
    parser.add_argument("--peer", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--workers", type=int, default=1, help="processes of redscarf serve")
    parser.add_argument("--short", action="store_true", help="seconds, small data, no peer")
    args = parser.parse_args(argv)
    if args.short:
        args.counties, args.pupils, args.others, args.guardians = 2, 400, 100, 40
        args.activities, args.seconds, args.levels, args.peer = 10, 4, "1,4", False
    args.levels = [int(x) for x in str(args.levels).split(",")]
    os.environ["REDSCARF_WORKERS"] = str(args.workers)  # read by the server start_server starts

    server = server_url()
    url = _database(server, args)
    settings = Settings(database_url=libpq_url(url), data_dir=Settings().data_dir / "bench-load")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(sqlalchemy_url(settings.database_url or ""), settings, pool_size=2)
    notes = []
    with engine.connect() as conn:
        built = conn.execute(text("SELECT to_regclass('shared.tenants') IS NOT NULL")).scalar()
        built = built and conn.execute(text("SELECT count(*) FROM shared.tenants")).scalar()
    if not built:
        notes = build(engine, args)
        print("\n".join(notes), flush=True)
    run = f"{int(time.time())}"
    world = prepare(engine, settings, args, run)
    engine.dispose()
    lines, errors = asyncio.run(measure(settings, world, args))
    print(f"\n{platform.node()}: {os.cpu_count()} cores, {platform.python_version()}, "
          f"database {server.rsplit('@', 1)[-1]}, load {loadavg()}")  # fmt: skip
    print("\n".join([*notes, "", *lines]))
    print(f"\nerrors: {errors}")
    return 1 if errors else 0


def _database(server: str, args: argparse.Namespace) -> Any:
    if args.reuse:
        return make_url(sqlalchemy_url(server)).set(database=args.database)
    return fresh_database(server, args.database)


if __name__ == "__main__":
    raise SystemExit(main())
