"""The actors. Each takes the county code and ids only, opens its own tenant connection, and
is idempotent: delivery is at least once (a killed worker's job runs again).

Actors are plain functions registered here and declared on a broker by `declare_actors`
(called by `workers.broker.open_runtime`), so no broker has to exist at import time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import dramatiq
from dramatiq.broker import Broker
from sqlalchemy import Engine

from tenants.sessions import Tenant, load_tenant, tenant_connection
from workers.broker import current_runtime
from workers.config import JobSettings
from workers.state import finish_job, job_context, running_job, start_job


@dataclass(frozen=True)
class ActorSpec:
    fn: Callable[..., Any]
    options: dict[str, Any]


ACTORS: dict[str, ActorSpec] = {}


def job_actor(**options: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a job actor: `fn(county_code, ..., job_id)`; its return value is the result."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        ACTORS[fn.__name__] = ActorSpec(fn, options)
        return fn

    return register


def _run(fn: Callable[..., Any]) -> Callable[..., None]:
    def run(*, county_code: str, job_id: str, **kwargs: Any) -> None:
        engine = current_runtime().engine
        job = UUID(job_id)
        if not start_job(engine, job, county_code):
            return
        with job_context(engine, job, county_code):
            result = fn(county_code=county_code, job_id=job_id, **kwargs)
        finish_job(engine, job, result)

    run.__name__ = fn.__name__
    run.__qualname__ = fn.__qualname__
    run.__doc__ = fn.__doc__
    return run


def declare_actors(broker: Broker, queue_name: str, job_settings: JobSettings) -> None:
    for name, spec in ACTORS.items():
        options = {"max_retries": job_settings.max_retries, **spec.options}
        dramatiq.actor(
            _run(spec.fn), actor_name=name, queue_name=queue_name, broker=broker, **options
        )


def county_tenant(engine: Engine, county_code: str) -> Tenant:
    with engine.connect() as conn:
        return load_tenant(conn, county_code)


@job_actor(time_limit=4 * 3600 * 1000)
def populate_county(county_code: str, pupils: int, seed: int, job_id: str) -> dict[str, Any]:
    """Fill a county with demo data, school by school; a rerun skips the schools done."""
    from domain.demo import populate_county as populate

    engine = current_runtime().engine
    tenant = county_tenant(engine, county_code)
    created = populate(
        engine,
        tenant,
        pupils=pupils,
        seed=seed,
        run_key=f"job:{job_id}",
        on_progress=running_job().on_progress("生成演示数据"),
    )
    return {"pupils": created}


@job_actor(time_limit=30 * 60 * 1000)
def refresh_county_summary(county_code: str, job_id: str) -> dict[str, Any]:
    """Recount a county's figures into `shared.county_summaries` and recompute its province
    and prefecture (idempotent: nothing is added to a total, see `domain.stats.rollup`)."""
    from domain.stats.rollup import refresh_county

    job = running_job()
    job.progress(0, 1, "统计中")
    figures = refresh_county(current_runtime().engine, county_code, UUID(job_id))
    job.progress(1, 1, "完成")
    return {"pupils": figures.current_pupils, "guardians": figures.guardians}


@job_actor(time_limit=2 * 3600 * 1000)
def import_roster(county_code: str, import_id: int, job_id: str) -> dict[str, Any]:
    """Check a roster spreadsheet and apply it all, or keep its error report (idempotent:
    the import's row is locked, and an import that has ended is not run again)."""
    from domain.imports.service import run_import
    from redscarf.keys import load_keys

    runtime = current_runtime()
    job = running_job()
    return run_import(
        runtime.engine,
        county_tenant(runtime.engine, county_code),
        import_id,
        load_keys(runtime.settings).cipher,
        lambda done, total, message: job.progress(done, total, message),
        report_days=runtime.settings.import_report_days,
    )


@job_actor(time_limit=2 * 3600 * 1000)
def export_archives(county_code: str, export_id: int, job_id: str) -> dict[str, Any]:
    """The growth archives of a unit's pupils in one file (idempotent: an export done stays)."""
    from domain.archive import export_unit
    from domain.people.pupils import STATUS_LABELS

    runtime = current_runtime()
    tenant = county_tenant(runtime.engine, county_code)
    job = running_job()
    job.progress(0, None, "生成成长档案")
    with tenant_connection(runtime.engine, tenant) as conn:
        written = export_unit(conn, export_id, tenant.name,
                              {str(k): v for k, v in STATUS_LABELS.items()})  # fmt: skip
    job.progress(1, 1, "完成")
    return {"pupils": written}


@job_actor(time_limit=30 * 60 * 1000)
def refund_activity(county_code: str, activity_id: int, job_id: str) -> dict[str, Any]:
    """Release every hold of a cancelled activity (idempotent: a hold is voided once, so a
    retried job refunds nobody twice)."""
    from domain.activities.service import refund_signups

    runtime = current_runtime()
    with tenant_connection(runtime.engine, county_tenant(runtime.engine, county_code)) as conn:
        return {"refunded": refund_signups(conn, activity_id)}
