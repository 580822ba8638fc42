"""The embedded default: a newcomer's database starts with the service, is reused, and stops."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = """
import sys
from pathlib import Path
from redscarf.database import connect, ensure_database, resolve_database_url
from redscarf.settings import Settings

settings = Settings(database_url=None, data_dir=Path(sys.argv[1]))
url = resolve_database_url(settings)
with connect(url, autocommit=True) as conn:
    conn.execute("CREATE TABLE IF NOT EXISTS visits (n int)")
    conn.execute("INSERT INTO visits VALUES (1)")
    print(conn.execute("SELECT count(*) FROM visits").fetchone()[0])
"""


def _start(data_dir: Path, script: str = SCRIPT) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", script, str(data_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(data_dir.parent)},
    )


def _result(process: subprocess.Popen[str]) -> int:
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    return int(out.strip().splitlines()[-1])


def _run(data_dir: Path) -> int:
    return _result(_start(data_dir))


def test_embedded_server_starts_keeps_its_data_and_stops_with_the_process(tmp_path: Path) -> None:
    data_dir = tmp_path / "redscarf-data"

    assert _run(data_dir) == 1
    pgdata = data_dir / "pgdata"
    assert (pgdata / "PG_VERSION").read_text().strip() >= "17"
    # stopped cleanly when the process that started it exited
    assert not (pgdata / "postmaster.pid").exists()

    # the next start reuses the same data
    assert _run(data_dir) == 2
    assert not (pgdata / "postmaster.pid").exists()


def test_two_processes_starting_on_a_new_machine_share_one_server(tmp_path: Path) -> None:
    # Given no data directory yet, when the service and a worker start at the same moment
    data_dir = tmp_path / "fresh"
    script = (
        SCRIPT.replace("CREATE TABLE IF NOT EXISTS visits (n int)", "SELECT 1")
        .replace("INSERT INTO visits VALUES (1)", "SELECT 1")
        .replace("SELECT count(*) FROM visits", "SELECT 7")
    )
    both = [_start(data_dir, script), _start(data_dir, script)]

    # Then both reach the one server the first of them initialised
    assert [_result(p) for p in both] == [7, 7]
    assert (data_dir / "pgdata" / "PG_VERSION").exists()
