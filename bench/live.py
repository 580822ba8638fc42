"""Benchmark: live updates fanned out to many subscribers (issue 9).

Not a test; run by hand, figures go to docs/benchmarks.md:

    .venv/bin/python -m bench.live                            # embedded PostgreSQL
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python -m bench.live

A county of `--pupils` demo pupils (2,000) is built in a database of its own
(`redscarf_bench_live`) with a published activity of as many places as there will be
sign-ups (cost 0). `redscarf serve` runs in a subprocess on loopback. For each number of
subscribers in `--levels` (0, 10, 100, 500), that many WebSocket connections (graphql-ws's
protocol) subscribe to the activity's places; then `--signups` pupils (50) sign up one after
another through the API, `--gap` seconds apart (0.1), as the county's admin. Measured:

- **sign-up**: the mutation's own latency, from its request to its answer, so that what the
  fan-out costs the writer shows against 0 subscribers;
- **delivered**: for every subscriber and sign-up, from the sign-up's request to the
  subscriber receiving the answer that shows the places it left (answers may be coalesced:
  a later one stands for the earlier when it arrives first);
- **roster**: a 50-pupil roster page asked by another client during the sign-ups, so that
  what the fan-out costs everyone else shows too.

The subscribers run in this process (one event loop, the 2 cores shared with the server).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from typing import Any

import httpx
import websockets
from sqlalchemy import text

from bench.roster import CODE, SCHEMA, _free_port, admin_token, build, start_server
from bench.tenants import fresh_database, percentile, server_url
from domain.people.tables import CURRENT_STATUSES
from redscarf.database import libpq_url, make_engine, sqlalchemy_url
from redscarf.settings import Settings
from schema.ids import encode_global_id

PLACES = "subscription($id: ID!) { activity(id: $id) { placesLeft } }"
SIGN_UP = """mutation($a: ID!, $p: [ID!]!) { signUpForActivity(input: {activityId: $a,
  pupilIds: $p}) { userErrors { code } } }"""
ROSTER = """query($s: ID!) { pupils(first: 50, under: $s) { edges { node { id name } } } }"""


def ms(values: list[float], q: float | None = None) -> str:
    if not values:
        return "–"
    value = statistics.median(values) if q is None else percentile(values, q)
    return f"{value * 1000:.1f}"


async def subscriber(
    url: str,
    token: str,
    activity: str,
    ready: asyncio.Event,
    seen: dict[int, float],
    count: list[int],
) -> None:
    """One phone: subscribe, and note when each number of places left is first seen."""
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"], max_queue=None) as ws:
        await ws.send(json.dumps({"type": "connection_init",
                                  "payload": {"Authorization": f"Bearer {token}"}}))  # fmt: skip
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe",
                                  "payload": {"query": PLACES, "variables": {"id": activity}}}))  # fmt: skip
        first = json.loads(await ws.recv())
        assert first["type"] == "next", first
        count[0] += 1
        if count[0] == count[1]:
            ready.set()
        async for raw in ws:
            message = json.loads(raw)
            if message["type"] == "next":
                left = message["payload"]["data"]["activity"]["placesLeft"]
                seen.setdefault(left, time.perf_counter())
            elif message["type"] == "complete":
                return


async def trial(
    port: int, token: str, pupils: list[int], squadrons: list[int], subscribers: int,
    signups: int, gap: float,
) -> list[str]:  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, timeout=60, headers=headers) as http:

        async def ask(query: str, variables: dict[str, Any]) -> Any:
            body = (
                await http.post("/graphql", json={"query": query, "variables": variables})
            ).json()
            assert not body.get("errors"), body
            return body["data"]

        root = (await ask("{ units(first: 1) { edges { node { id } } } }", {}))["units"]["edges"][
            0
        ]["node"]["id"]
        now = time.time()
        made = await ask(
            """mutation($i: CreateActivityInput!) { createActivity(input: $i) {
              activity { id } userErrors { code } } }""",
            {"i": {"organiserId": root, "title": "基准活动", "capacity": signups, "cost": 0,
                   "startsAt": _iso(now + 3 * 86400), "endsAt": _iso(now + 3 * 86400 + 3600),
                   "signupOpensAt": _iso(now - 3600), "signupClosesAt": _iso(now + 86400)}},
        )  # fmt: skip
        activity = made["createActivity"]["activity"]["id"]
        await ask("mutation($a: ID!) { publishActivity(input: {id: $a}) { activity { id } } }",
                  {"a": activity})  # fmt: skip

        ready = asyncio.Event()
        count = [0, subscribers]
        seen: list[dict[int, float]] = [{} for _ in range(subscribers)]
        url = f"ws://127.0.0.1:{port}/graphql"
        phones = [asyncio.create_task(subscriber(url, token, activity, ready, seen[i], count))
                  for i in range(subscribers)]  # fmt: skip
        if subscribers:
            await asyncio.wait_for(ready.wait(), 300)
        roster_times: list[float] = []
        stop = asyncio.Event()

        async def reader() -> None:
            i = 0
            while not stop.is_set():
                squadron = encode_global_id("Unit", CODE, squadrons[i % len(squadrons)])
                t0 = time.perf_counter()
                await ask(ROSTER, {"s": squadron})
                roster_times.append(time.perf_counter() - t0)
                i += 1

        reading = asyncio.create_task(reader())
        sent: dict[int, float] = {}
        signup_times: list[float] = []
        for n in range(signups):
            pupil = encode_global_id("Pupil", CODE, pupils[n])
            t0 = time.perf_counter()
            done = await ask(SIGN_UP, {"a": activity, "p": [pupil]})
            signup_times.append(time.perf_counter() - t0)
            assert done["signUpForActivity"]["userErrors"] == [], done
            sent[signups - n - 1] = t0
            await asyncio.sleep(gap)
        await asyncio.sleep(2)  # the last answers
        stop.set()
        await reading
        for phone in phones:
            phone.cancel()
        await asyncio.gather(*phones, return_exceptions=True)

    delivered: list[float] = []
    missing = 0
    for mine in seen:
        for left, t0 in sent.items():
            # the first answer showing this many places or fewer (a coalesced answer counts)
            at = min((t for n, t in mine.items() if n <= left), default=None)
            if at is None:
                missing += 1
            else:
                delivered.append(max(at - t0, 0.0))
    assert missing == 0, f"{missing} deliveries never arrived"
    return [
        f"| {subscribers} | {ms(signup_times)} | {ms(signup_times, 0.99)} | {ms(delivered)} | "
        f"{ms(delivered, 0.99)} | {ms(roster_times)} | {ms(roster_times, 0.99)} |"
    ]


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(epoch))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pupils", type=int, default=2_000)
    parser.add_argument("--levels", default="0,10,100,500")
    parser.add_argument("--signups", type=int, default=50)
    parser.add_argument("--gap", type=float, default=0.1)
    parser.add_argument("--database", default="redscarf_bench_live")
    args = parser.parse_args()

    url = fresh_database(server_url(), args.database)
    settings = Settings(database_url=libpq_url(url), data_dir=Settings().data_dir / "bench-live")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    squadrons = build(settings, args.pupils)
    engine = make_engine(sqlalchemy_url(settings.database_url or ""), settings, pool_size=1)
    with engine.connect() as conn:
        pupils = list(conn.execute(
            text(f'SELECT id FROM "{SCHEMA}".pupils WHERE status = ANY(:s) ORDER BY id'),
            {"s": list(CURRENT_STATUSES)},
        ).scalars())  # fmt: skip
    engine.dispose()
    token = admin_token(settings)
    port = _free_port()
    server = start_server(settings, port)
    lines = [
        "| subscribers | sign-up p50 (ms) | sign-up p99 | delivered p50 (ms) | delivered p99 | "
        "roster p50 (ms) | roster p99 |",
        "|---|---|---|---|---|---|---|",
    ]
    try:
        offset = 0
        for level in (int(x) for x in args.levels.split(",")):
            batch = pupils[offset : offset + args.signups]
            offset += args.signups
            lines += asyncio.run(
                trial(port, token, batch, squadrons, level, args.signups, args.gap)
            )
            print(lines[-1], flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print("\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
