"""A peer for the benchmarks: the same county reads served by PostGraphile (issue 10).

PostGraphile v4 (`POSTGRAPHILE_VERSION`, from the npm registry) is installed by the benchmark
only, into `.redscarf/bench-postgraphile/` (outside git's view; never a dependency of the
service), and run over the same database and one county schema in the same run, so that a
load generator (bench/load.py) can report the ratio of throughput and latency.

    .venv/bin/python -m bench.peer --database-url URL --schema county_522731

installs it, starts it, asks each read once for a squadron and a pupil of the schema, prints
the answers' sizes and stops it.

Fairness: one Node process (as `redscarf serve` is one uvicorn process), a pool of 10
connections (`REDSCARF_POOL_SIZE`), no GraphiQL, no query log, no mutations, no watch, simple
lists instead of Relay connections (cheaper: no cursors or pageInfo). The peer's advantage:
it connects with the URL it is given (the benchmark's superuser) and does no authentication or
authorization at all: no token, no Casbin policy, no scope predicate on the roster, no county
role or `search_path` per request, no audit, no cost limit or rate limit.

What its answers differ in from our API's (`ROSTER_QUERY`, `GUARDIAN_QUERY`, aliased to our
field names where the shape allows):

- ids are the raw `bigint` keys (PostGraphile's BigInt: JSON strings), not global IDs;
  `balance`, `held` and `amount` are BigInt strings as well;
- enums (`gender`, `status`, `kind`, `state`, `level`) are the stored lower-case text;
- `birthDate` is the full date (ours masks it to the year, `2015-**-**`);
- timestamps (`at`, `awardedAt`) are UTC with microseconds (ours: +08:00, to the second);
- `squadron` is read by the pupil's `squadron_id`; ours reads pupils *under* the squadron's
  path, which is the same set (a team's pupils keep their squadron);
- points: the pupil's `ledger_accounts` row (`kind = 'pupil'`) is a root field next to the
  pupil (no foreign key links them), null for a pupil who never had points (ours: zeros);
  `available` (balance - held) is not computed;
- history: the newest 20 postings of that account with their transaction's kind and memo, in
  a list, without cursors; `balanceAfter` (ours: a window sum over all the account's
  postings) is not computed; a client derives it from the answer: the newest posting leaves
  `balance`, each older one the next newer one's less that one's amount;
- badges: all the pupil's awards, oldest first (created_at, id), as ours, without the award's
  global ID.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

POSTGRAPHILE_VERSION = "4.14.1"  # the latest 4.x on the registry (5 is a rewrite)
INSTALL_DIR = Path(__file__).resolve().parent.parent / ".redscarf" / "bench-postgraphile"
ENDPOINT = "/graphql"
POOL_SIZE = 10  # as REDSCARF_POOL_SIZE
# PostGraphile names both sides of the self-referencing unique `reverses_id` alike and refuses
# to start. Smart tags from a file in its working directory rename one side without a smart
# comment in the database; a constraint named without its table matches in every county.
SMART_TAGS = """{version: 1, config: {constraint: {
  fk_ledger_transactions_reverses_id_ledger_transactions: {tags: {foreignSingleFieldName: "reversedBy"}},
}}}
"""

ROSTER_QUERY = """query($s: BigInt!) {
  pupils: allPupilsList(condition: {squadronId: $s}, orderBy: PRIMARY_KEY_ASC, first: 50) {
    id name gender grade status birthDate squadron: unitBySquadronId { name } } }"""

GUARDIAN_QUERY = """query($id: BigInt!) {
  pupil: pupilById(id: $id) {
    id name grade squadron: unitBySquadronId { name }
    badges: badgeAwardsByPupilIdList(orderBy: [CREATED_AT_ASC, ID_ASC]) {
      badge: badgeByBadgeId { name level } state awardedAt } }
  points: ledgerAccountByKindAndOwnerId(kind: "pupil", ownerId: $id) {
    balance held
    pointsHistory: ledgerPostingsByAccountIdList(orderBy: ID_DESC, first: 20) {
      amount at: createdAt transaction: ledgerTransactionByTransactionId { kind memo } } } }"""


def roster_variables(squadron_id: int) -> dict[str, Any]:
    return {"s": str(squadron_id)}


def guardian_variables(pupil_id: int) -> dict[str, Any]:
    return {"id": str(pupil_id)}


def balances_after(points: dict[str, Any] | None) -> list[int]:
    """Our `balanceAfter` of each posting of a GUARDIAN_QUERY answer's `points`, newest first
    (the newest leaves the balance; each older one the next newer one's, less its amount)."""
    after: list[int] = []
    if points:
        balance = int(points["balance"])
        for posting in points["pointsHistory"]:
            after.append(balance)
            balance -= int(posting["amount"])
    return after


def ensure_postgraphile() -> Path:
    """Install PostGraphile into `INSTALL_DIR` unless that version is there; its CLI."""
    cli = INSTALL_DIR / "node_modules" / ".bin" / "postgraphile"
    installed = INSTALL_DIR / "node_modules" / "postgraphile" / "package.json"
    if cli.exists() and f'"version": "{POSTGRAPHILE_VERSION}"' in installed.read_text():
        return cli
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        message = (
            f"the PostGraphile peer needs Node.js and npm ({', '.join(missing)} not found on"
            " PATH): install Node.js 18 or newer, or leave the peer out of the benchmark"
        )
        print(message, file=sys.stderr)
        raise RuntimeError(message)
    INSTALL_DIR.mkdir(parents=True, exist_ok=True)
    print(f"installing postgraphile@{POSTGRAPHILE_VERSION} into {INSTALL_DIR}", flush=True)
    started = time.perf_counter()
    subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--save-exact", "--prefix",
         str(INSTALL_DIR), f"postgraphile@{POSTGRAPHILE_VERSION}"],
        check=True,
    )  # fmt: skip
    print(f"installed in {time.perf_counter() - started:.1f} s", flush=True)
    return cli


def _pg_environment(database_url: str) -> dict[str, str]:
    """The libpq URL as PG* variables (libpq parses it, so `?host=/socket/dir` works too);
    PostGraphile reads them when given no connection string and no DATABASE_URL."""
    names = {"host": "PGHOST", "port": "PGPORT", "user": "PGUSER", "password": "PGPASSWORD"}
    names["dbname"] = "PGDATABASE"
    params = conninfo_to_dict(database_url)
    return {var: str(params[key]) for key, var in names.items() if params.get(key)}


def start_postgraphile(
    database_url: str, schema: str, port: int, *, timeout: float = 120
) -> subprocess.Popen[bytes]:
    """PostGraphile on 127.0.0.1:`port` over `schema` of the database, once it answers."""
    cli = ensure_postgraphile()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL" and not k.startswith("PG")}
    env |= _pg_environment(database_url) | {"NODE_ENV": "production"}
    (INSTALL_DIR / "postgraphile.tags.json5").write_text(SMART_TAGS)
    with tempfile.TemporaryFile() as stderr:  # the server keeps its own descriptor
        server = subprocess.Popen(
            [str(cli), "--schema", schema, "--host", "127.0.0.1", "--port", str(port),
             "--max-pool-size", str(POOL_SIZE), "--disable-graphiql", "--disable-query-log",
             "--disable-default-mutations", "--simple-collections", "only",
             "--legacy-relations", "omit", "--dynamic-json", "--no-setof-functions-contain-nulls"],
            cwd=INSTALL_DIR,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and server.poll() is None:
            try:
                answer = httpx.post(
                    f"http://127.0.0.1:{port}{ENDPOINT}",
                    json={"query": "{ __typename }"},
                    timeout=5,
                )
                if answer.status_code == 200 and answer.json().get("data"):
                    return server
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        stop_postgraphile(server)
        stderr.seek(0)
        log = stderr.read().decode(errors="replace").strip()
    raise RuntimeError(f"PostGraphile did not answer on port {port}:\n{log}")


def stop_postgraphile(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def _samples(database_url: str, schema: str) -> tuple[int, int]:
    """A squadron with pupils, and a pupil, preferring one with points and badges."""
    s = sql.Identifier(schema)
    with psycopg.connect(database_url) as conn:
        squadron = conn.execute(
            sql.SQL(
                "SELECT squadron_id FROM {}.pupils GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
            ).format(s)
        ).fetchone()
        pupil = conn.execute(
            sql.SQL(
                "SELECT p.id FROM {0}.pupils p"
                " LEFT JOIN {0}.ledger_accounts a ON a.kind = 'pupil' AND a.owner_id = p.id"
                " ORDER BY a.id IS NULL, NOT EXISTS"
                " (SELECT FROM {0}.badge_awards w WHERE w.pupil_id = p.id), p.id LIMIT 1"
            ).format(s)
        ).fetchone()
    if squadron is None or pupil is None:
        raise SystemExit(f"{schema} has no pupils")
    return int(squadron[0]), int(pupil[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="libpq URL of the database")
    parser.add_argument("--schema", default="county_522731")
    parser.add_argument("--port", type=int, default=5055)
    args = parser.parse_args()

    squadron, pupil = _samples(args.database_url, args.schema)
    ensure_postgraphile()
    started = time.perf_counter()
    server = start_postgraphile(args.database_url, args.schema, args.port)
    print(
        f"PostGraphile {POSTGRAPHILE_VERSION} answering after {time.perf_counter() - started:.1f} s"
    )
    try:
        for name, query, variables in (
            ("roster", ROSTER_QUERY, roster_variables(squadron)),
            ("guardian", GUARDIAN_QUERY, guardian_variables(pupil)),
        ):
            t0 = time.perf_counter()
            answer = httpx.post(
                f"http://127.0.0.1:{args.port}{ENDPOINT}",
                json={"query": query, "variables": variables},
                timeout=30,
            )
            elapsed = (time.perf_counter() - t0) * 1000
            body = answer.json()
            if answer.status_code != 200 or body.get("errors"):
                raise SystemExit(f"{name}: {answer.status_code} {body}")
            data = body["data"]
            if name == "roster":
                if not data["pupils"]:
                    raise SystemExit(f"roster: no pupils in squadron {squadron}")
                found = f"{len(data['pupils'])} pupils"
            else:
                if not data["pupil"]:
                    raise SystemExit(f"guardian: no pupil {pupil}")
                points = data["points"] or {"balance": None, "pointsHistory": []}
                found = (
                    f"{len(data['pupil']['badges'])} badges, balance {points['balance']},"
                    f" {len(points['pointsHistory'])} postings,"
                    f" balanceAfter {balances_after(data['points'])}"
                )
            print(f"{name} {variables}: {len(answer.content):,} bytes, {found}, {elapsed:.0f} ms")
    finally:
        stop_postgraphile(server)


if __name__ == "__main__":
    main()
