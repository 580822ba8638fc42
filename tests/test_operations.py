"""The platform operator's view (`operations`): counties, their schemas and the job queue,
through the real endpoint.

Other tests of this process onboard counties and leave jobs in the same database, so the
assertions are about this module's own counties; totals are checked against a count made in
the same test.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import Engine, insert, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.stats.rollup import refresh_county
from migrations.runner import Migrator
from redscarf.app import create_app
from redscarf.settings import Settings
from resolvers import operations as operation_resolvers
from tenants.provisioning import County
from tenants.registry import tenants
from tests.graphql_client import GraphQLClient, create_pupils, create_unit
from workers.jobs import jobs

OPERATOR_TOKEN = "operator-secret-for-the-operations-view"
OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
STATES = ("pending", "queued", "running", "done", "failed")

QUERY = """
query($first: Int! = 10) {
  operations {
    computedAt latestSchemaVersion
    jobs { ...counts }
    platformJobs { ...counts }
    tenants {
      code name provinceCode prefectureCode status schemaVersion behind migrationError
      createdAt sizeBytes pupils summaryComputedAt jobs { ...counts }
    }
    recentFailures(first: $first) { id actor countyCode error finishedAt attempts }
  }
}
fragment counts on JobCounts {
  pending queued running done failed retried oldestPendingAt oldestQueuedAt
}
"""


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def client(settings: Settings, async_engine: AsyncEngine) -> AsyncIterator[GraphQLClient]:
    app = create_app(
        settings.model_copy(update={"operator_token": OPERATOR_TOKEN}), async_engine=async_engine
    )
    async with GraphQLClient(app) as gql:
        yield gql


async def operations(client: GraphQLClient, **variables: Any) -> dict[str, Any]:
    data = await client.data(QUERY, variables, headers=OPERATOR)
    view: dict[str, Any] = data["operations"]
    return view


def tenant_in(view: dict[str, Any], county: County) -> dict[str, Any]:
    (found,) = [t for t in view["tenants"] if t["code"] == county.code]
    return found


def at(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)


# --- given: jobs in every state -------------------------------------------------------------


def add_job(
    engine: Engine,
    county_code: str | None,
    state: str,
    *,
    attempts: int = 1,
    error: str | None = None,
    age: dt.timedelta = dt.timedelta(0),
    args: dict[str, Any] | None = None,
) -> None:
    """A job row as the outbox, the relay and the actors leave it; `age` sets back its
    creation (and, queued, its entry into the queue)."""
    with engine.begin() as conn:
        when = conn.execute(text("SELECT now() - :age"), {"age": age}).scalar_one()
        conn.execute(
            insert(jobs).values(
                county_code=county_code,
                actor="refresh_county_summary",
                args=args or {},
                state=state,
                attempts=attempts,
                error=error,
                created_at=when,
                updated_at=when,
                sent_at=None if state == "pending" else when,
                finished_at=when if state in ("done", "failed") else None,
            )
        )


def direct_counts(
    engine: Engine, where: str, params: dict[str, Any] | None = None
) -> dict[str, int]:
    """The same counts, straight from the table (what the view must agree with)."""
    states = ", ".join(f"count(*) FILTER (WHERE state = '{s}') AS {s}" for s in STATES)
    with engine.connect() as conn:
        row = conn.execute(
            text(
                f"SELECT {states}, count(*) FILTER (WHERE attempts > 1) AS retried"
                f" FROM shared.jobs WHERE {where}"
            ),
            params or {},
        ).one()
    return dict(row._mapping)


def numbers(counts: dict[str, Any]) -> dict[str, int]:
    return {k: counts[k] for k in (*STATES, "retried")}


def schema_size(engine: Engine, county: County) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c"
                    " JOIN pg_namespace n ON n.oid = c.relnamespace"
                    " WHERE n.nspname = :s AND c.relkind IN ('r', 'm', 'p')"
                ),
                {"s": county.schema_name},
            ).scalar_one()
        )


# --- the view -------------------------------------------------------------------------------


async def test_the_operator_sees_each_countys_jobs_by_state_and_the_totals(
    client: GraphQLClient, engine: Engine, make_county: Callable[..., County]
) -> None:
    # Given two counties with jobs in every state, some retried, and a platform job
    a, b = make_county(), make_county()
    hours = dt.timedelta(hours=1)
    add_job(engine, a.code, "pending", age=3 * hours)
    add_job(engine, a.code, "pending")
    add_job(engine, a.code, "queued", attempts=2, age=hours)
    add_job(engine, a.code, "running")
    for attempts in (1, 1, 2):
        add_job(engine, a.code, "done", attempts=attempts, age=24 * hours)
    for _ in range(2):
        add_job(engine, a.code, "failed", attempts=3, error="RuntimeError", age=24 * hours)
    add_job(engine, b.code, "pending", age=2 * hours)
    add_job(engine, b.code, "done", attempts=3)
    add_job(engine, None, "queued", attempts=2, age=5 * hours)

    # When the operator opens the view
    view = await operations(client)

    # Then each county shows its own jobs, as the table counts them
    mine_a, mine_b = tenant_in(view, a)["jobs"], tenant_in(view, b)["jobs"]
    assert numbers(mine_a) == dict(pending=2, queued=1, running=1, done=3, failed=2, retried=4)
    assert numbers(mine_b) == dict(pending=1, queued=0, running=0, done=1, failed=0, retried=1)
    for county, counts in ((a, mine_a), (b, mine_b)):
        assert numbers(counts) == direct_counts(engine, "county_code = :c", {"c": county.code})
    # and how long its queue has waited
    with engine.connect() as conn:
        oldest = conn.execute(
            text(
                "SELECT min(created_at) FILTER (WHERE state = 'pending'),"
                " min(updated_at) FILTER (WHERE state = 'queued')"
                " FROM shared.jobs WHERE county_code = :c"
            ),
            {"c": a.code},
        ).one()
    assert at(mine_a["oldestPendingAt"]) == oldest[0].replace(microsecond=0)  # to the second
    assert at(mine_a["oldestQueuedAt"]) == oldest[1].replace(microsecond=0)
    assert mine_b["oldestQueuedAt"] is None
    # and the totals are every job of the platform, platform jobs included
    assert numbers(view["jobs"]) == direct_counts(engine, "true")
    assert numbers(view["platformJobs"]) == direct_counts(engine, "county_code IS NULL")
    assert view["platformJobs"]["queued"] >= 1
    for state in (*STATES, "retried"):
        assert view["jobs"][state] >= mine_a[state] + mine_b[state] + view["platformJobs"][state]
    assert at(view["jobs"]["oldestQueuedAt"]) <= at(mine_a["oldestQueuedAt"])


async def test_a_county_shows_its_schema_version_and_whether_it_is_behind(
    client: GraphQLClient, engine: Engine, migrator: Migrator, make_county: Callable[..., County]
) -> None:
    # Given two counties just onboarded (at head)
    a, b = make_county(name="运维甲县"), make_county()
    head = migrator.head("tenant")

    view = await operations(client)

    assert view["latestSchemaVersion"] == head
    mine = tenant_in(view, a)
    assert mine["name"] == "运维甲县"
    assert (mine["provinceCode"], mine["prefectureCode"]) == ("52", None)
    assert mine["status"] == "ACTIVE"
    assert mine["schemaVersion"] == head
    assert mine["behind"] is False
    assert mine["migrationError"] is None
    assert at(mine["createdAt"]) <= at(view["computedAt"])
    # codes in order
    codes = [t["code"] for t in view["tenants"]]
    assert codes == sorted(codes)

    # When county B's last migration failed and left it behind
    with engine.begin() as conn:
        conn.execute(
            update(tenants)
            .where(tenants.c.code == b.code)
            .values(schema_version="t0001", migration_error="CheckViolation: units_grade")
        )
    try:
        view = await operations(client)
    finally:
        with engine.begin() as conn:
            conn.execute(
                update(tenants)
                .where(tenants.c.code == b.code)
                .values(schema_version=head, migration_error=None)
            )

    # Then the operator sees it, and county A is still fine
    behind = tenant_in(view, b)
    assert behind["schemaVersion"] == "t0001"
    assert behind["behind"] is True
    assert behind["migrationError"] == "CheckViolation: units_grade"
    assert tenant_in(view, a)["behind"] is False


async def test_a_countys_size_on_disk_is_its_schemas_tables_and_grows_with_its_data(
    client: GraphQLClient, engine: Engine, make_county: Callable[..., County]
) -> None:
    a, b = make_county(), make_county()

    before = schema_size(engine, a)
    view = await operations(client)
    after = schema_size(engine, a)

    size = tenant_in(view, a)["sizeBytes"]
    assert size > 0
    assert min(before, after) <= size <= max(before, after)
    assert tenant_in(view, b)["sizeBytes"] > 0

    # When county A gets a school of pupils, its size grows
    root = create_unit(engine, a, "county", a.name)
    school = create_unit(engine, a, "brigade", "运维小学", root)
    squadron = create_unit(engine, a, "squadron", "三（1）中队", school)
    create_pupils(engine, a, squadron, 3000)

    before = schema_size(engine, a)
    grown = tenant_in(await operations(client), a)["sizeBytes"]
    after = schema_size(engine, a)
    assert grown > size
    assert min(before, after) <= grown <= max(before, after)


async def test_pupils_come_from_the_last_summary_not_an_estimate(
    client: GraphQLClient, engine: Engine, make_county: Callable[..., County]
) -> None:
    # Given a county with 7 current pupils and 2 who left, never summarised
    county = make_county()
    root = create_unit(engine, county, "county", county.name)
    school = create_unit(engine, county, "brigade", "汇总小学", root)
    squadron = create_unit(engine, county, "squadron", "四（2）中队", school)
    create_pupils(engine, county, squadron, 5)
    create_pupils(engine, county, squadron, 2, status="pre_member")
    create_pupils(engine, county, squadron, 2, status="left")

    mine = tenant_in(await operations(client), county)
    assert (mine["pupils"], mine["summaryComputedAt"]) == (None, None)

    # When its summary is computed (as the refresh_county_summary job does)
    refresh_county(engine, county.code)
    with engine.begin() as conn:
        computed_at = conn.execute(
            text("SELECT computed_at FROM shared.county_summaries WHERE county_code = :c"),
            {"c": county.code},
        ).scalar_one()

    # Then the view shows its current pupils, as of that summary
    mine = tenant_in(await operations(client), county)
    assert mine["pupils"] == 7
    assert at(mine["summaryComputedAt"]) == computed_at.replace(microsecond=0)


async def test_recent_failures_are_the_latest_failed_jobs_without_their_arguments(
    client: GraphQLClient, engine: Engine, make_county: Callable[..., County]
) -> None:
    county = make_county()
    add_job(engine, county.code, "failed", attempts=2, error="older", age=dt.timedelta(minutes=1))
    add_job(engine, county.code, "failed", attempts=3, error="错" * 800, args={"import_id": 42})

    view = await operations(client, first=50)

    # (other tests' jobs fail in this database too: only this county's are looked at)
    latest, older = [f for f in view["recentFailures"] if f["countyCode"] == county.code]
    assert (latest["countyCode"], latest["actor"], latest["attempts"]) == (
        county.code,
        "refresh_county_summary",
        3,
    )
    assert latest["error"] == "错" * 500
    assert latest["finishedAt"] is not None
    assert (older["countyCode"], older["error"]) == (county.code, "older")
    # A job's arguments are not part of the view at all
    body = await client.execute("{ operations { recentFailures { args } } }", headers=OPERATOR)
    assert body["errors"]
    assert len((await operations(client, first=1))["recentFailures"]) == 1
    codes = await client.error_codes(QUERY, {"first": -1}, headers=OPERATOR)
    assert codes == ["INVALID_PAGE_SIZE"]


async def test_a_county_with_a_table_dropped_or_locked_does_not_break_the_view(
    client: GraphQLClient,
    engine: Engine,
    make_county: Callable[..., County],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a county whose units table is gone (as the leak test leaves one)
    broken, other = make_county(), make_county()
    with engine.begin() as conn:
        conn.execute(text(f'DROP TABLE "{broken.schema_name}".units CASCADE'))

    view = await operations(client)
    assert tenant_in(view, broken)["sizeBytes"] == schema_size(engine, broken) > 0

    # When a migration holds one of a county's tables, the sizes are left out, not waited for
    monkeypatch.setattr(operation_resolvers, "SIZE_LOCK_TIMEOUT", "200ms")
    with engine.connect() as locker:
        locker.execute(text(f'LOCK TABLE "{other.schema_name}".pupils IN ACCESS EXCLUSIVE MODE'))
        view = await operations(client)
        locker.rollback()

    assert {t["sizeBytes"] for t in view["tenants"]} == {None}
    mine = tenant_in(view, other)
    assert (mine["status"], mine["behind"]) == ("ACTIVE", False)
    assert view["jobs"] is not None

    # and once it is released they are back
    assert tenant_in(await operations(client), other)["sizeBytes"] > 0


# --- who may see it ------------------------------------------------------------------------


async def test_only_the_operator_sees_the_view(
    client: GraphQLClient, make_county: Callable[..., County]
) -> None:
    county = make_county()
    county_admin = client.token_for("county_admin", county.code)
    province_admin = client.token_for("province_admin", None, "52")
    callers = {
        "county admin": (county_admin, "FORBIDDEN"),
        "province admin": (province_admin, "FORBIDDEN"),
        "anonymous": (None, "UNAUTHENTICATED"),
    }
    for who, (token, code) in callers.items():
        headers = {"X-County": county.code}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        body = await client.execute(QUERY, headers=headers)
        assert [e["extensions"]["code"] for e in body["errors"]] == [code], who
        assert body["data"] is None, who

    # The operator needs no county to be named
    assert (await operations(client))["tenants"]
