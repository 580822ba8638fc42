"""The load test of bench/load.py in its short mode: it runs to the end without an error.

Seconds of load on small demo data, through a real `redscarf serve`, with the floor (no peer:
that needs npm). Its figures are not asserted: they are measured by hand at benchmark size
(docs/benchmarks.md); what is asserted is that every operation of the mix and every path of
the comparison ran and none answered an error.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from .conftest import _drop_database, _prepare_database

OPERATIONS = ("guardian page", "guardian archive", "roster page", "activity sign-up",
              "redemption", "county dashboard")  # fmt: skip


@pytest.mark.slow
def test_the_load_test_runs_its_short_mode_without_errors(
    server_url: str, worker_id: str, tmp_path: Path
) -> None:
    name = f"{os.environ.get('REDSCARF_TEST_DB_PREFIX', 'rs_test')}_{worker_id}load"
    _prepare_database(server_url, name)
    env = {k: v for k, v in os.environ.items() if not k.startswith("REDSCARF_")}
    env |= {"DATABASE_URL": server_url, "REDSCARF_DATA_DIR": str(tmp_path)}
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bench.load", "--short", "--reuse", "--database", name],
            env=env, capture_output=True, text=True, timeout=600,
            cwd=Path(__file__).resolve().parent.parent,
        )  # fmt: skip
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            _drop_database(conn, name)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert "errors: 0" in out
    report = out[out.rindex("| run | clients | operation |") :].splitlines()
    mix = [line.split("|")[3].strip() for line in report if line.startswith("| | |")]
    assert sorted(mix) == sorted(OPERATIONS * 2), out  # each operation at each of two levels
    for path in ("API", "floor (SQL)"):
        for read in ("guardian page", "roster page"):
            assert any(line.startswith(f"| {read} | 4 | {path} |") for line in report), out
    assert any(line.startswith("| county statistics (exact) | 1 | API |") for line in report)
