"""Keeping the summaries fresh: each county's figures for the academic year so far, and each
prefecture's and province's sum of them (DESIGN.md part 11: "rolled up by a worker").

- `refresh_county` computes a county's figures (one read transaction) and, in one write
  transaction, stores them and recomputes the county's province and prefecture from their
  counties' rows. Nothing is added to a total, so a job delivered twice, or retried after a
  crash at any point, leaves the same numbers; an older computation never overwrites a newer.
- `due_counties` is the summariser's pass: the counties whose tables changed (marks left by a
  trigger, `migrations/tenant/0024`) and those whose summary is older than the schedule
  allows; the summariser (`workers.summariser`) turns them into jobs in the same
  transaction as it takes the marks.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Engine, delete, func, literal, select, text
from sqlalchemy.dialects.postgresql import insert

from domain import clock
from domain.stats.figures import Figures, Period, academic_year_start, compute, total
from domain.stats.tables import region_summaries, summary_marks
from tenants.registry import TenantStatus, prefectures, provinces, tenants
from tenants.sessions import load_tenant
from workers.jobs import county_summaries


def summary_period(today: dt.date | None = None) -> Period:
    """What a summary holds: stocks as of today, flows of the academic year so far."""
    today = today or clock.today()
    return Period("c", today, academic_year_start(today))


def refresh_county(engine: Engine, county_code: str, job_id: UUID | None = None) -> Figures:
    """Recount a county and recompute its regions (idempotent: see the module)."""
    period = summary_period()
    with engine.connect() as conn, conn.begin():
        tenant = load_tenant(conn, county_code)
        started = conn.execute(select(func.now())).scalar_one()
        figures = compute(conn, tenant, period)
    with engine.begin() as conn:
        save_county(conn, county_code, figures, period, started, job_id)
        refresh_regions(conn, county_code)
    return figures


def save_county(conn: Connection, county_code: str, figures: Figures, period: Period,
                computed_at: dt.datetime, job_id: UUID | None) -> None:  # fmt: skip
    values = {"county_code": county_code, "figures": figures.to_json(), "as_of": period.as_of,
              "since": period.since, "computed_at": computed_at, "job_id": job_id}  # fmt: skip
    stmt = insert(county_summaries).values(**values)
    conn.execute(stmt.on_conflict_do_update(
        index_elements=["county_code"],
        set_={k: stmt.excluded[k] for k in values if k != "county_code"},
        # Two jobs of one county may overlap: the later count wins, whichever ends last.
        where=county_summaries.c.computed_at <= stmt.excluded.computed_at,
    ))  # fmt: skip


# A summary without its period is of the format before these figures: it counts as none.
_CURRENT_SUMMARY = (county_summaries.c.county_code == tenants.c.code) & (
    county_summaries.c.as_of.is_not(None)
)


def in_region(code: str) -> Any:
    """The counties of a province (2 digits) or a prefecture (4)."""
    column = tenants.c.province_code if len(code) == 2 else tenants.c.prefecture_code
    return column == code


def _regions(conn: Connection, county_code: str) -> list[tuple[str, str]]:
    row = conn.execute(
        select(tenants.c.province_code, tenants.c.prefecture_code).where(
            tenants.c.code == county_code
        )
    ).one()
    found = [("province", str(row.province_code))]
    if row.prefecture_code is not None:
        found.append(("prefecture", str(row.prefecture_code)))
    return found


def refresh_regions(conn: Connection, county_code: str) -> None:
    """Recompute the county's province and prefecture from all their counties' summaries,
    one region at a time under a lock (two counties' jobs never interleave a region)."""
    for level, code in _regions(conn, county_code):
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"region:{code}"})
        rows = conn.execute(
            select(tenants.c.status, county_summaries.c.figures, county_summaries.c.computed_at)
            .outerjoin(county_summaries, _CURRENT_SUMMARY)
            .where(in_region(code), tenants.c.status != TenantStatus.ARCHIVED)
        ).all()
        summed = [r for r in rows if r.status == TenantStatus.ACTIVE and r.figures is not None]
        values = {
            "code": code,
            "level": level,
            "figures": total(Figures.from_json(r.figures) for r in summed).to_json(),
            "counties": len(summed),
            "counties_missing": sum(r.status == TenantStatus.ACTIVE and r.figures is None
                                    for r in rows),
            "counties_onboarding": sum(r.status == TenantStatus.PROVISIONING for r in rows),
            "oldest_county_at": min((r.computed_at for r in summed), default=None),
            "computed_at": func.now(),
        }  # fmt: skip
        stmt = insert(region_summaries).values(**values)
        conn.execute(stmt.on_conflict_do_update(
            index_elements=["code"], set_={k: stmt.excluded[k] for k in values if k != "code"}))  # fmt: skip


def due_counties(conn: Connection, max_age: dt.timedelta) -> list[str]:
    """Take the change marks and return the counties whose summary is due: changed, never
    summarised, or older than `max_age`. Only active counties whose tables are there (not
    one being restored or migrated) are due."""
    marked = set(conn.execute(delete(summary_marks).returning(summary_marks.c.county_code))
                 .scalars())  # fmt: skip
    has_tables = func.to_regclass(func.format("%I.units", tenants.c.schema_name)).is_not(None)
    rows = conn.execute(
        select(tenants.c.code, county_summaries.c.computed_at)
        .outerjoin(county_summaries, _CURRENT_SUMMARY)
        .where(tenants.c.status == TenantStatus.ACTIVE, has_tables)
        .order_by(tenants.c.code)
    ).all()
    cutoff = conn.execute(select(func.now() - literal(max_age))).scalar_one()
    return [code for code, at in rows if code in marked or at is None or at < cutoff]


@dataclass(frozen=True)
class CountyRow:
    code: str
    name: str
    figures: dict[str, Any]
    as_of: dt.date
    since: dt.date | None
    computed_at: dt.datetime


@dataclass(frozen=True)
class RegionView:
    name: str
    row: Any
    """The region's rollup (None before its first county summary)."""
    counties: list[CountyRow]
    as_of: dt.date
    since: dt.date | None
    active: int
    """Active counties of the region, summarised or not."""
    onboarding: int


def county_view(conn: Connection, code: str) -> CountyRow | None:
    """A county's own summary (None before its first)."""
    s = county_summaries.c
    row = conn.execute(
        select(tenants.c.code, tenants.c.name, s.figures, s.as_of, s.since, s.computed_at)
        .join(county_summaries, _CURRENT_SUMMARY)
        .where(tenants.c.code == code)
    ).first()
    return CountyRow(*row) if row is not None else None


def region_name(conn: Connection, code: str) -> str | None:
    """A province's (2 digits) or prefecture's (4) name; None for one that is not registered."""
    level = provinces if len(code) == 2 else prefectures
    return conn.execute(select(level.c.name).where(level.c.code == code)).scalar()


def region_view(conn: Connection, code: str) -> RegionView | None:
    """A province's (2 digits) or prefecture's (4) rollup, its counties' summaries and how
    many of its counties are active or onboarding; None for a region that is not registered."""
    name = region_name(conn, code)
    if name is None:
        return None
    row = conn.execute(select(region_summaries).where(region_summaries.c.code == code)).first()
    s = county_summaries.c
    counties = [CountyRow(*r) for r in conn.execute(
        select(tenants.c.code, tenants.c.name, s.figures, s.as_of, s.since, s.computed_at)
        .join(county_summaries, _CURRENT_SUMMARY)
        .where(in_region(code), tenants.c.status == TenantStatus.ACTIVE)
        .order_by(tenants.c.code)
    )]  # fmt: skip
    by_status = dict(conn.execute(select(tenants.c.status, func.count()).where(in_region(code))
                                  .group_by(tenants.c.status)).all())  # fmt: skip
    as_of = min((c.as_of for c in counties), default=clock.today())
    return RegionView(str(name), row, counties, as_of, academic_year_start(as_of),
                      by_status.get(TenantStatus.ACTIVE, 0),
                      by_status.get(TenantStatus.PROVISIONING, 0))  # fmt: skip
