"""A worker killed (SIGKILL) while writing a 10,000-row import: the transaction it held leaves
nothing, and the rerun ends with exactly the file's rows.

Kept apart from `test_imports`, whose module-wide in-process worker would otherwise take the
job from the worker this test kills.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, insert, select

from domain.imports.common import Requester
from domain.imports.tables import roster_imports, uploads
from domain.people.tables import pupils
from domain.spreadsheets.rosters import HEADERS
from tenants.sessions import tenant_connection
from tests.graphql_client import tenant_of
from tests.test_imports import count_pupils, pupil_row, school, xlsx
from tests.test_jobs import job, job_in, start_worker, stop_worker, wait_for
from tests.test_pupils import id_number
from workers.outbox import enqueue

__all__ = ["school"]  # the fixture


@pytest.mark.broker
@pytest.mark.slow
def test_a_worker_killed_while_writing_a_10000_row_import_ends_with_exactly_the_files_rows(
    engine: Engine, school: dict[str, Any], db_env: dict[str, str], tmp_path: Path
) -> None:
    county = school["county"]
    rows = [
        pupil_row(
            "王" + "一二三四五六七八九十"[i % 10] + "甲乙丙丁戊己庚辛壬癸"[i // 10 % 10],
            id_number(f"2015{(i // 28) % 12 + 1:02d}{i % 28 + 1:02d}", f"{i // 336:03d}"),
            中队=["四（1）中队", "五（2）中队"][i % 2],
        )
        for i in range(10_000)
    ]
    assert len({r[HEADERS.index("身份证号码")] for r in rows}) == 10_000
    content = xlsx(rows)
    someone = Requester("user", 1, "kill-test", "county_admin", False, ("c",)).as_json()
    with tenant_connection(engine, tenant_of(county)) as conn:
        upload = conn.execute(
            insert(uploads)
            .values(filename="名册.xlsx", size=len(content), sha256=b"-", content=content)
            .returning(uploads.c.id)
        ).scalar_one()
        import_id = conn.execute(
            insert(roster_imports)
            .values(kind="pupils", upload_id=upload, requested_by=someone)
            .returning(roster_imports.c.id)
        ).scalar_one()
        job_id = enqueue(
            conn, "import_roster", county_code=county.code, args={"import_id": import_id}
        )

    log = tmp_path / "worker.log"
    first = start_worker(db_env, log)
    try:
        # Writing, some batches in (inside the one transaction), not done: kill it.
        deadline = time.monotonic() + 120
        while (view := job(engine, job_id)) is None or not (
            view.message == "写入" and 0 < view.progress < (view.total or 0)
        ):
            assert view is None or view.state not in ("done", "failed"), log.read_text()
            assert time.monotonic() < deadline, f"never caught writing: {view}"
            time.sleep(0.005)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        stop_worker(first)
    assert count_pupils(engine, county) == 0  # the killed transaction left nothing

    second = start_worker(db_env, log)
    try:
        done = wait_for(lambda: job_in(engine, job_id, "done", "failed"), 120, "the rerun")
    finally:
        stop_worker(second)
    assert done.state == "done", log.read_text()
    assert done.attempts == 2
    assert done.result["created"] == 10_000
    with tenant_connection(engine, tenant_of(county)) as conn:
        stored = conn.execute(
            select(func.count(), func.count(func.distinct(pupils.c.id_number_hash)))
        ).one()
        ended = conn.execute(
            select(roster_imports.c.state, uploads.c.content)
            .join(uploads, uploads.c.id == roster_imports.c.upload_id)
            .where(roster_imports.c.id == import_id)
        ).one()
    assert tuple(stored) == (10_000, 10_000)
    assert ended.state == "done"
    assert ended.content is None  # the file with the children's data is not kept
