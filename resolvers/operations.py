"""The platform operator's view (`Query.operations`): every county tenant with the size and
migration state of its schema, and the job queue.

Everything is read as the service's own login (county roles have no grant on the registry,
the job table beyond their own rows, or other schemas). Each part is one statement whatever
the number of counties: the job counts one `GROUP BY` over `shared.jobs`, the tenants one
join of the registry, the last summaries and the catalogue's relation sizes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import strawberry
from psycopg.errors import LockNotAvailable
from sqlalchemy import Select, column, func, literal_column, null, select, table, text
from sqlalchemy.exc import OperationalError
from strawberry.types import Info

from domain.stats.figures import Figures
from domain.stats.rollup import in_region
from redscarf.errors import Forbidden
from resolvers.paging import page_size
from schema.context import Context
from schema.operations import FailedJob, JobCounts, Operations, TenantOperations, TenantStatus
from tenants.registry import tenants
from workers.jobs import JobState, county_summaries, jobs

#: `pg_total_relation_size` takes each table's ACCESS SHARE lock in turn, so it waits behind a
#: migration's ACCESS EXCLUSIVE one. The operator is often looking precisely then: after this
#: long the sizes are left out (null) rather than the whole view hanging.
SIZE_LOCK_TIMEOUT = "2s"

#: How much of a failed job's error the view shows.
ERROR_CHARS = 500

_STATES = tuple(state.value for state in JobState)
# Ordinary tables, materialised views and partitioned tables; indexes and TOAST are counted
# with their table by `pg_total_relation_size`.
_TABLE_KINDS = ("r", "m", "p")

_pg_namespace = table("pg_namespace", column("oid"), column("nspname"), schema="pg_catalog")
_pg_class = table(
    "pg_class", column("oid"), column("relnamespace"), column("relkind"), schema="pg_catalog"
)


async def operations(info: Info[Context, None]) -> Operations:
    context = info.context
    # The operator works outside any county: its roles are the ones that name none.
    if not await context.may_above_counties("operations", "read"):
        raise Forbidden()
    async with context.services.engine.connect() as conn:
        rows = (await conn.execute(_job_counts())).all()
    by_county = {row.county_code: _counts(row) for row in rows}
    platform = by_county.pop(None, _counts(None))
    return Operations(
        computed_at=dt.datetime.now(dt.UTC),
        latest_schema_version=context.services.migrator.head("tenant"),
        jobs=_total([platform, *by_county.values()]),
        platform_jobs=platform,
        county_jobs=by_county,
    )


async def tenant_operations(context: Context, ops: Operations) -> list[TenantOperations]:
    """`Operations.tenants`: every county of the registry, by code."""
    async with context.services.engine.connect() as conn:
        try:
            await conn.execute(text(f"SET LOCAL lock_timeout = '{SIZE_LOCK_TIMEOUT}'"))
            rows = (await conn.execute(registry(sized=True))).all()
        except OperationalError as exc:
            if not isinstance(exc.orig, LockNotAvailable):
                raise
            await conn.rollback()
            rows = (await conn.execute(registry(sized=False))).all()
    return [
        TenantOperations(
            **registered(row, ops.latest_schema_version),
            province_code=row.province_code,
            migration_error=row.migration_error,
            size_bytes=None if row.size_bytes is None else int(row.size_bytes),
            jobs=ops.county_jobs.get(row.code) or _counts(None),
        )
        for row in rows
    ]


async def recent_failures(context: Context, first: int) -> list[FailedJob]:
    """`Operations.recentFailures`: the latest failed jobs, without their arguments."""
    stmt = (
        select(
            jobs.c.id,
            jobs.c.actor,
            jobs.c.county_code,
            func.left(jobs.c.error, ERROR_CHARS).label("error"),
            jobs.c.finished_at,
            jobs.c.attempts,
        )
        .where(jobs.c.state == JobState.FAILED.value)
        .order_by(jobs.c.finished_at.desc().nulls_last(), jobs.c.id)
        .limit(page_size(first))
    )
    async with context.services.engine.connect() as conn:
        rows = (await conn.execute(stmt)).all()
    return [
        FailedJob(
            id=strawberry.ID(str(row.id)),
            actor=row.actor,
            county_code=row.county_code,
            error=row.error,
            finished_at=row.finished_at,
            attempts=row.attempts,
        )
        for row in rows
    ]


# --- statements ------------------------------------------------------------------------------


def _job_counts() -> Select[Any]:
    """Jobs by county (null: platform jobs) and state, in one pass over the job table."""
    return select(
        jobs.c.county_code,
        *(func.count().filter(jobs.c.state == state).label(state) for state in _STATES),
        func.count().filter(jobs.c.attempts > 1).label("retried"),
        func.min(jobs.c.created_at)
        .filter(jobs.c.state == JobState.PENDING.value)
        .label("oldest_pending_at"),
        # A queued job's row last changed when it entered the queue: sent, or put back for a
        # retry (`workers.state.record_failure`).
        func.min(jobs.c.updated_at)
        .filter(jobs.c.state == JobState.QUEUED.value)
        .label("oldest_queued_at"),
    ).group_by(jobs.c.county_code)


def registry(*, sized: bool, region: str | None = None) -> Select[Any]:
    """The registry (a province's or prefecture's counties with `region`) with each county's
    last summary and (when `sized`) the on-disk size of its schema: the catalogue joined to the
    registry, summed per county, in the same statement."""
    columns = [
        tenants.c.code,
        tenants.c.name,
        tenants.c.province_code,
        tenants.c.prefecture_code,
        tenants.c.status,
        tenants.c.schema_version,
        tenants.c.migration_error,
        tenants.c.created_at,
        county_summaries.c.figures,
        county_summaries.c.computed_at.label("summary_computed_at"),
    ]
    joined = tenants.outerjoin(county_summaries, county_summaries.c.county_code == tenants.c.code)
    if not sized:
        stmt = select(*columns, null().label("size_bytes")).select_from(joined)
        if region is not None:
            stmt = stmt.where(in_region(region))
        return stmt.order_by(tenants.c.code)
    assert region is None, "sizes are the operator's alone"
    # A relation dropped while this runs has no size (null), which the sum skips.
    sizes = (
        select(
            tenants.c.code,
            func.sum(func.pg_total_relation_size(_pg_class.c.oid)).label("size_bytes"),
        )
        .select_from(
            tenants.join(_pg_namespace, _pg_namespace.c.nspname == tenants.c.schema_name).join(
                _pg_class, _pg_class.c.relnamespace == _pg_namespace.c.oid
            )
        )
        .where(_pg_class.c.relkind.in_([literal_column(f"'{kind}'") for kind in _TABLE_KINDS]))
        .group_by(tenants.c.code)
        .subquery("sizes")
    )
    return (
        select(*columns, func.coalesce(sizes.c.size_bytes, 0).label("size_bytes"))
        .select_from(joined.outerjoin(sizes, sizes.c.code == tenants.c.code))
        .order_by(tenants.c.code)
    )


# --- shaping ---------------------------------------------------------------------------------


def _counts(row: Any) -> JobCounts:
    """One group's counts (all zero for a county without jobs)."""
    if row is None:
        return JobCounts(
            **dict.fromkeys((*_STATES, "retried"), 0), oldest_pending_at=None, oldest_queued_at=None
        )
    return JobCounts(
        pending=row.pending,
        queued=row.queued,
        running=row.running,
        done=row.done,
        failed=row.failed,
        retried=row.retried,
        oldest_pending_at=row.oldest_pending_at,
        oldest_queued_at=row.oldest_queued_at,
    )


def _earliest(times: Iterable[dt.datetime | None]) -> dt.datetime | None:
    return min((t for t in times if t is not None), default=None)


def _total(parts: list[JobCounts]) -> JobCounts:
    return JobCounts(
        pending=sum(p.pending for p in parts),
        queued=sum(p.queued for p in parts),
        running=sum(p.running for p in parts),
        done=sum(p.done for p in parts),
        failed=sum(p.failed for p in parts),
        retried=sum(p.retried for p in parts),
        oldest_pending_at=_earliest(p.oldest_pending_at for p in parts),
        oldest_queued_at=_earliest(p.oldest_queued_at for p in parts),
    )


def registered(row: Any, head: str) -> dict[str, Any]:
    """What the operator's and a region's views of a county share, from a `registry` row
    (`head`: the tenant schema's latest revision)."""
    return {
        "code": row.code,
        "name": row.name,
        "prefecture_code": row.prefecture_code,
        "status": TenantStatus(row.status.value),
        "schema_version": row.schema_version,
        "behind": row.schema_version != head,
        "created_at": row.created_at,
        "pupils": pupils_of(row.figures),
        "summary_computed_at": row.summary_computed_at,
    }


def pupils_of(figures: dict[str, Any] | None) -> int | None:
    """Current pupils (members and pre-members) in the last summary, as `County.pupilCount`
    counts them; None before the county's first summary."""
    return None if figures is None else Figures.from_json(figures).current_pupils
