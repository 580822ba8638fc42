"""Statistics rolled up by the summary jobs: every change marks its county, the summariser
turns marks (and the schedule) into jobs, a county's job recounts it and recomputes its
prefecture and province, and a retried job doubles nothing."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, delete, func, insert, select, update

from domain import clock
from domain.pairing.tables import pairings
from domain.people.tables import pupil_status_changes, pupils
from domain.stats import rollup
from domain.stats.figures import Figures, compute, total
from domain.stats.rollup import due_counties, refresh_county, summary_period
from domain.stats.tables import region_summaries, summary_marks
from migrations.runner import Migrator
from redscarf.settings import Settings
from tenants.provisioning import County
from tenants.registry import tenants
from tenants.sessions import load_tenant, tenant_connection
from tests.graphql_client import create_pupils, create_unit, tenant_of
from tests.stats_world import build_world, region
from tests.test_cli import redscarf
from workers.config import JobSettings
from workers.jobs import county_summaries
from workers.main import in_process_worker
from workers.outbox import enqueue, jobs_after_commit
from workers.state import get_job


def summary_of(engine: Engine, code: str) -> Any:
    with engine.connect() as conn:
        return conn.execute(select(region_summaries).where(region_summaries.c.code == code)).one()


def fresh_count(engine: Engine, county: County) -> Figures:
    with engine.connect() as conn, conn.begin():
        return compute(conn, load_tenant(conn, county.code), summary_period())


def marks(engine: Engine, code: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).where(summary_marks.c.county_code == code))
                   .scalar_one())  # fmt: skip


def test_every_change_marks_its_county_once_per_transaction(
    engine: Engine, make_county: Any
) -> None:
    county = make_county()
    root = create_unit(engine, county, "county", county.name)
    before = marks(engine, county.code)
    # Given a transaction of many statements on counted tables
    with tenant_connection(engine, tenant_of(county)) as conn:
        school = conn.execute(select(func.count()).select_from(pupils)).scalar_one()
        for n in range(3):
            conn.execute(insert(pupils).values(squadron_id=root.id, name=f"甲{n}",
                                               gender="male", grade=3))  # fmt: skip
        conn.execute(update(pupils).values(grade=4))
    # Then one mark, for that county
    assert school == 0
    assert marks(engine, county.code) == before + 1
    # A read, or a transaction that rolls back, marks nothing
    with tenant_connection(engine, tenant_of(county)) as conn:
        conn.execute(select(func.count()).select_from(pupils)).scalar_one()

    def rolled_back() -> None:
        with tenant_connection(engine, tenant_of(county)) as conn:
            conn.execute(update(pupils).values(grade=5))
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        rolled_back()
    assert marks(engine, county.code) == before + 1
    # A pairing that changes marks both of its counties
    other = make_county()
    with engine.begin() as conn:
        conn.execute(insert(pairings).values(
            level="county", proposed_by=f"county:{county.code}", a_county=county.code,
            a_kind="unit", a_id=root.id, a_path="c", b_county=other.code, b_kind="unit",
            b_id=1, b_path="c"))  # fmt: skip
    assert (marks(engine, county.code), marks(engine, other.code)) == (before + 2, 1)


def test_the_summariser_takes_marks_and_the_schedule_into_jobs(
    engine: Engine, make_county: Any
) -> None:
    county, quiet = make_county(), make_county()
    for c in (county, quiet):
        create_pupils(engine, c, create_unit(engine, c, "county", c.name), 2)
        refresh_county(engine, c.code)
    with engine.begin() as conn:  # as the summariser's pass that made those jobs did
        conn.execute(delete(summary_marks).where(summary_marks.c.county_code.in_(
            [county.code, quiet.code])))  # fmt: skip
    day = dt.timedelta(days=1)

    def due(max_age: dt.timedelta) -> list[str]:
        # In a transaction rolled back at the end: other tests' counties share this database.
        with engine.connect() as conn:
            found = due_counties(conn, max_age)
            left = marks_in(conn)
            conn.rollback()
        return [c for c in found if c in (county.code, quiet.code)], left

    def marks_in(conn: Any) -> int:
        return int(conn.execute(select(func.count()).select_from(summary_marks)
                                .where(summary_marks.c.county_code.in_([county.code, quiet.code])))
                   .scalar_one())  # fmt: skip

    # Freshly summarised and unchanged: neither is due
    assert due(day) == ([], 0)
    # A change in one county makes it due, and taking it takes its marks
    with tenant_connection(engine, tenant_of(county)) as conn:
        conn.execute(update(pupils).values(status="left"))
    assert due(day) == ([county.code], 0)
    # The schedule makes every summary older than the allowed age due, changed or not
    time.sleep(0.05)
    assert due(dt.timedelta(milliseconds=1)) == (sorted([county.code, quiet.code]), 0)
    # A summary of the format before these figures (no period) is recounted at once
    refresh_county(engine, county.code)
    with engine.begin() as conn:
        conn.execute(delete(summary_marks).where(summary_marks.c.county_code == county.code))
        conn.execute(update(county_summaries).where(county_summaries.c.county_code == quiet.code)
                     .values(as_of=None, figures={"pupils_by_status": {"member": 2}}))  # fmt: skip
    assert due(day) == ([quiet.code], 0)


@pytest.fixture
def province_world(engine: Engine, migrator: Migrator) -> Iterator[dict[str, Any]]:
    prefecture, (a, b, onboarding) = region(engine, migrator, 3)
    worlds = [build_world(engine, c, seed=n, pupils_per_squadron=3) for n, c in enumerate((a, b))]
    with engine.begin() as conn:
        conn.execute(update(tenants).where(tenants.c.code == onboarding.code)
                     .values(status="provisioning"))  # fmt: skip
    yield {"prefecture": prefecture, "counties": (a, b), "worlds": worlds}
    with engine.begin() as conn:
        conn.execute(update(tenants).where(tenants.c.code == onboarding.code)
                     .values(status="active"))  # fmt: skip


def assert_rollup_is_the_sum(engine: Engine, code: str, counties: tuple[County, ...]) -> Figures:
    row = summary_of(engine, code)
    counted = total(fresh_count(engine, c) for c in counties)
    counted.served_by_township = []
    assert Figures.from_json(row.figures) == counted
    assert (row.counties, row.counties_missing, row.counties_onboarding) == (2, 0, 1)
    return counted


def test_a_rollup_after_changes_in_two_counties_is_the_sum_of_the_counties(
    engine: Engine, province_world: dict[str, Any]
) -> None:
    a, b = province_world["counties"]
    for c in (a, b):
        refresh_county(engine, c.code)
    before = assert_rollup_is_the_sum(engine, province_world["prefecture"], (a, b))

    # When a pupil of county A leaves and county B enrols two new pupils
    with tenant_connection(engine, tenant_of(a)) as conn:
        leaving = conn.execute(select(pupils.c.id).where(pupils.c.status == "member")
                               .order_by(pupils.c.id).limit(1)).scalar_one()  # fmt: skip
        conn.execute(update(pupils).where(pupils.c.id == leaving).values(status="left"))
        conn.execute(insert(pupil_status_changes).values(
            pupil_id=leaving, from_status="member", to_status="left", on_date=clock.today()))  # fmt: skip
    squadron = province_world["worlds"][1].pupils[0]
    with tenant_connection(engine, tenant_of(b)) as conn:
        placed = conn.execute(select(pupils.c.squadron_id).where(pupils.c.id == squadron.id)
                              ).scalar_one()  # fmt: skip
        conn.execute(insert(pupils), [{"squadron_id": placed, "name": f"新生{n}",
                                        "gender": "female", "grade": 3} for n in range(2)])  # fmt: skip
    # And the jobs the summariser made run
    with engine.connect() as conn:
        assert {a.code, b.code} <= set(due_counties(conn, dt.timedelta(days=1)))
        conn.rollback()
    for c in (a, b):
        refresh_county(engine, c.code)

    # Then the prefecture and the province are the sums of the counties as they are now
    after = assert_rollup_is_the_sum(engine, province_world["prefecture"], (a, b))
    assert after.current_pupils == before.current_pupils - 1 + 2
    province = Figures.from_json(summary_of(engine, "63").figures)
    assert province.current_pupils >= after.current_pupils
    row = summary_of(engine, province_world["prefecture"])
    with engine.connect() as conn:
        at = dict(conn.execute(select(county_summaries.c.county_code,
                                      county_summaries.c.computed_at)
                               .where(county_summaries.c.county_code.in_([a.code, b.code]))).all())  # fmt: skip
    assert row.oldest_county_at == min(at.values())


@pytest.mark.broker
def test_a_summary_job_retried_after_a_crash_doubles_nothing(
    engine: Engine, settings: Settings, province_world: dict[str, Any], monkeypatch: Any
) -> None:
    a, b = province_world["counties"]
    refresh_county(engine, b.code)
    # Given a worker that dies after writing a county's summary and its region, before commit
    real, attempts = rollup.refresh_regions, []

    def crashing(conn: Any, county_code: str) -> None:
        real(conn, county_code)
        if county_code != a.code:  # jobs other tests left pending run in this worker too
            return
        attempts.append(county_code)
        if len(attempts) == 1:
            raise RuntimeError("worker killed")

    monkeypatch.setattr(rollup, "refresh_regions", crashing)
    job_settings = JobSettings(relay_interval=0.2, max_retries=1, min_backoff_ms=100,
                               max_backoff_ms=200)  # fmt: skip
    with in_process_worker(settings, threads=1, job_settings=job_settings) as runtime:
        with jobs_after_commit(engine, runtime.broker, runtime.queue_name), engine.begin() as conn:
            job_id = enqueue(conn, "refresh_county_summary", county_code=a.code)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                view = get_job(conn, job_id)
            if view is not None and view.state in ("done", "failed"):
                break
            time.sleep(0.1)
    # Then the job ran twice, and ended done
    assert (view.state, view.attempts, len(attempts)) == ("done", 2, 2)
    assert_rollup_is_the_sum(engine, province_world["prefecture"], (a, b))
    # And the same job delivered once more (at least once) changes no figure
    monkeypatch.setattr(rollup, "refresh_regions", real)
    refresh_county(engine, a.code)
    assert_rollup_is_the_sum(engine, province_world["prefecture"], (a, b))


def test_the_command_line_refreshes_a_county_and_its_regions_again_and_again(
    engine: Engine, migrator: Migrator, db_env: dict[str, str]
) -> None:
    prefecture, (county,) = region(engine, migrator, 1)
    create_pupils(engine, county, create_unit(engine, county, "county", county.name), 3)
    for _ in range(2):  # as a daily cron would, or by hand after a restore
        done = redscarf("stats", "refresh", "--county", county.code, env=db_env)
        assert done.returncode == 0, done.stderr
        assert "已汇总 1 个县（区）" in done.stdout
        row = summary_of(engine, prefecture)
        assert (row.counties, Figures.from_json(row.figures).current_pupils) == (1, 3)
    unknown = redscarf("stats", "refresh", "--county", "639999", env=db_env)
    assert unknown.returncode != 0
    assert "639999" in unknown.stderr + unknown.stdout
