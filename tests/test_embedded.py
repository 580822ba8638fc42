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


def _run(data_dir: Path) -> int:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(data_dir)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(data_dir.parent)},
    )
    return int(done.stdout.strip().splitlines()[-1])


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
