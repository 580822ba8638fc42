"""The README's run command, as a newcomer meets it: `redscarf serve --demo` on a database with
nothing in it builds the demo, prints demo accounts with tokens, and answers over HTTP."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from websockets.sync.client import connect as ws_connect

from tests.conftest import _drop_database, _prepare_database
from tests.live_client import PROTOCOL
from tests.test_cli import REDSCARF

TOKEN_AFTER = re.compile(r"^\s+(demo-[\w-]+)\s.*\n\s+(\S+\.\S+\.\S+)\s*$", re.MULTILINE)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_ready(server: subprocess.Popen, base: str, log: Path, seconds: float) -> None:
    """Until the started `redscarf serve` answers `/readyz` (it fails the test if the process
    ends or time runs out, with what it logged)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert server.poll() is None, log.read_text()
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    pytest.fail("the service was not ready in time:\n" + log.read_text())


@pytest.fixture
def empty_database(server_url: str, worker_id: str) -> Iterator[str]:
    name = f"{os.environ.get('REDSCARF_TEST_DB_PREFIX', 'rs_test')}_{worker_id}serve"
    url = _prepare_database(server_url, name)
    yield url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(server_url, autocommit=True) as conn:
        _drop_database(conn, name)


@pytest.mark.slow
def test_serve_demo_builds_the_demo_and_answers_with_the_printed_tokens(
    empty_database: str, db_env: dict[str, str], tmp_path: Path
) -> None:
    port = _free_port()
    env = {
        **db_env,
        "DATABASE_URL": empty_database,
        "REDSCARF_DATA_DIR": str(tmp_path),
        "COLUMNS": "80",
        "NO_COLOR": "1",
    }
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [REDSCARF, "serve", "--demo", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(server, base, log, 240)
        printed = log.read_text()
        tokens = dict(TOKEN_AFTER.findall(printed))
        admin = next(t for user, t in tokens.items() if user.startswith("demo-admin-"))
        counselor = next(t for user, t in tokens.items() if user.startswith("demo-counselor-"))
        assert "demo-province" in tokens

        def ask(query: str, token: str) -> dict:
            response = httpx.post(
                f"{base}/graphql",
                json={"query": query},
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
            body = response.json()
            assert not body.get("errors"), body
            return body["data"]

        county = ask("{ county { name pupilCount } }", admin)["county"]
        assert county["pupilCount"] > 1000
        assert county["name"] in printed
        roster = ask("{ pupils(first: 100) { edges { node { name grade } } } }", counselor)
        grades = {e["node"]["grade"] for e in roster["pupils"]["edges"]}
        assert roster["pupils"]["edges"]
        assert len(grades) == 1  # one squadron: one grade

        # Live updates are served too: a WebSocket signs in and follows (here: no such job).
        with ws_connect(f"ws://127.0.0.1:{port}/graphql", subprotocols=[PROTOCOL]) as ws:
            ws.send(json.dumps({"type": "connection_init",
                                "payload": {"Authorization": f"Bearer {admin}"}}))  # fmt: skip
            assert json.loads(ws.recv(timeout=30))["type"] == "connection_ack"
            query = 'subscription { job(id: "00000000-0000-4000-8000-000000000000") { state } }'
            ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
            answer = json.loads(ws.recv(timeout=30))
            errors = answer["payload"]["errors"]
            assert [e["extensions"]["code"] for e in errors] == ["JOB_NOT_FOUND"], answer
    finally:
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=60) == 0, log.read_text()


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


@pytest.mark.slow
def test_serve_with_two_workers_answers_from_two_processes(
    empty_database: str, db_env: dict[str, str], tmp_path: Path
) -> None:
    port = _free_port()
    env = {**db_env, "DATABASE_URL": empty_database, "REDSCARF_DATA_DIR": str(tmp_path)}
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen([REDSCARF, "serve", "--workers", "2", "--port", str(port)],
                                  env=env, stdout=out, stderr=subprocess.STDOUT)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        ready = 0
        while time.monotonic() < deadline and ready < 10:  # both processes up, asked again
            assert server.poll() is None, log.read_text()
            try:
                ready += httpx.get(f"{base}/readyz", timeout=2).status_code == 200
            except httpx.TransportError:
                time.sleep(0.5)
        assert ready == 10, log.read_text()
        for _ in range(10):
            answer = httpx.post(f"{base}/graphql", json={"query": "{ __typename }"}, timeout=30)
            assert answer.json() == {"data": {"__typename": "Query"}}
        printed = log.read_text()
        assert len(set(re.findall(r"Started server process \[(\d+)\]", printed))) == 2, printed
        assert len(_children(server.pid)) >= 2
    finally:
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=60) == 0, log.read_text()
