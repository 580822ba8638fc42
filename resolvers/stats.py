"""Statistics: a county's figures for a unit and a period (computed on asking, exact), and the
prefecture's or province's rollups (read from what the summary jobs wrote)."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from authz.principal import COUNTY_ROOT
from authz.roles import REGIONAL
from domain import clock
from domain.stats import rollup
from domain.stats.figures import Figures, Period, compute
from redscarf.errors import Forbidden, InvalidInput, NotFound
from resolvers.activities import areas_reached, percent, townships_reached
from schema.activities import TownshipReach
from schema.badges import BadgeLevel
from schema.context import Context
from schema.counselors import CounselorKind
from schema.org import Unit, UnitKind, UnitKindCount
from schema.pupils import PupilStatus
from schema.stats import (
    ActivityFigures,
    BadgeCount,
    CounselorKindCount,
    CountySummary,
    PairingFigures,
    PointsFigures,
    PupilCount,
    PupilStatusCount,
    RedemptionFigures,
    RegionLevel,
    RegionStatistics,
    Statistics,
    TaskKindCount,
)
from schema.tasks import TaskKind
from tenants.sessions import Tenant


@dataclass(frozen=True)
class Question:
    """What was asked, of which county and unit, and the answer."""

    tenant: Tenant
    unit: Any
    """The unit's record (None: the whole county)."""
    period: Period
    figures: Figures
    computed_at: dt.datetime


def check_period(since: dt.date | None, as_of: dt.date | None) -> tuple[dt.date | None, dt.date]:
    today = clock.today()
    as_of = as_of or today
    if as_of > today:
        raise InvalidInput("统计截止日期不能晚于今天", code="INVALID_PERIOD")
    if since is not None and since > as_of:
        raise InvalidInput("起始日期不能晚于截止日期", code="INVALID_PERIOD")
    return since, as_of


async def ask(
    context: Context, unit_id: str | None, since: dt.date | None, as_of: dt.date | None
) -> Question:
    """The county's figures under a unit (the whole county without one), for whoever may read
    the statistics there; a unit outside the caller's sight is not found."""
    await context.user()
    unit = None
    if unit_id is not None:
        pk = await context.own_id("Unit", unit_id)
        unit = await context.org.unit.load(pk) if pk is not None else None
        if unit is None or not await context.may("unit", "read", unit.path):
            raise NotFound("没有这个单位", code="UNIT_NOT_FOUND")
    path = unit.path if unit is not None else COUNTY_ROOT
    await context.require("statistics", "read", path)
    if unit is not None:
        # A province or prefecture sees a county whole, never a school's or class's figures
        # (small numbers point at children): only a role of the county's own may ask those.
        local = [s for s in await context.scopes() if s.role not in REGIONAL]
        if not context.services.authorizer.allowed(local, "statistics", "read", path):
            raise Forbidden()
    since, as_of = check_period(since, as_of)
    tenant = await context.tenant()
    period = Period(path, as_of, since)
    figures = await context.in_shared_transaction(lambda conn: compute(conn, tenant, period))
    return Question(tenant, unit, period, figures, dt.datetime.now(clock.ZONE))


async def require_region(context: Context, code: str) -> str:
    """The region's code, checked: a prefecture's or province's figures are for its own admins
    (a province's also for the prefectures in it) and the operator."""
    await context.user()
    code = code.strip()
    if not (code.isascii() and code.isdigit() and len(code) in (2, 4)):
        raise InvalidInput("地区代码应为 2 位（省）或 4 位（地市）数字", code="INVALID_REGION")
    if not await context.may_above_counties("region_statistics", "read", code):
        raise Forbidden()
    return code


async def ask_region(context: Context, code: str) -> rollup.RegionView:
    """A prefecture's or province's rollup (see `require_region` for who may read it)."""
    code = await require_region(context, code)
    found = await context.in_shared_transaction(lambda conn: rollup.region_view(conn, code))
    if found is None:
        raise NotFound("没有这个地区", code="REGION_NOT_FOUND")
    return found


# --- GraphQL ---------------------------------------------------------------------------------


def _enum(kind: type[enum.Enum], value: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        return None  # e.g. a pupil whose data was erased: counted in no status


def statistics_of(
    figures: Figures,
    *,
    as_of: dt.date,
    since: dt.date | None,
    computed_at: dt.datetime,
    unit: Unit | None = None,
    townships: list[TownshipReach] | None = None,
) -> Statistics:
    by_status = figures.pupils_by_status()
    f = figures
    return Statistics(
        as_of=as_of, since=since, computed_at=computed_at, unit=unit,
        units=[UnitKindCount(kind=k, count=f.units.get(k.value, 0)) for k in UnitKind],
        counselors=[CounselorKindCount(kind=k, count=f.counselors.get(k.value, 0))
                    for k in CounselorKind],
        current_pupils=f.current_pupils,
        pupils_by_status=[PupilStatusCount(status=s, count=by_status.get(s.value, 0))
                          for s in PupilStatus],
        pupils=[PupilCount(status=status, grade=grade, count=n)
                for (s, grade), n in sorted(f.pupils.items())
                if (status := _enum(PupilStatus, s)) is not None],
        guardians=f.guardians, pupils_bound=f.pupils_bound,
        bound_percent=percent(f.pupils_bound, f.current_pupils),
        badges=[BadgeCount(level=level, academic_year=year, count=n)
                for (lv, year), n in sorted(f.badges.items())
                if (level := _enum(BadgeLevel, lv)) is not None],
        points=PointsFigures(issued=f.points_issued, spent=f.points_spent,
                             expired=f.points_expired, held=f.points_held),
        activities=ActivityFigures(
            held=f.activities, served_pupils=f.served_pupils,
            served_person_times=f.served_person_times,
            reached_percent=percent(f.served_pupils, f.current_pupils),
            by_area=areas_reached(f.served_by_area),
            by_township=townships or [],
        ),
        redemptions=RedemptionFigures(made=f.redemptions, verified=f.redemptions_verified),
        tasks_completed=[TaskKindCount(kind=k, count=f.tasks_completed.get(k.value, 0))
                         for k in TaskKind],
        pairing=PairingFigures(
            schools=f.schools, schools_paired=f.schools_paired,
            schools_paired_percent=percent(f.schools_paired, f.schools),
            rural_schools=f.rural_schools, rural_paired=f.rural_paired,
            rural_paired_percent=percent(f.rural_paired, f.rural_schools),
            migrant_schools=f.migrant_schools, migrant_paired=f.migrant_paired,
            pupils_in_pairs=f.pupils_in_pairs,
        ),
    )  # fmt: skip


async def statistics(
    info: Info[Context, None],
    unit_id: Annotated[
        strawberry.ID | None,
        strawberry.argument(description="统计该单位（及其下级）；不填为全县（区）。"),
    ] = None,
    since: Annotated[
        dt.date | None,
        strawberry.argument(name="from", description="流量的起始日期（含）；不填为自有记录起。"),
    ] = None,
    as_of: Annotated[
        dt.date | None, strawberry.argument(description="截止日期（含），不晚于今天；不填为今天。")
    ] = None,
) -> Statistics:
    context = info.context
    asked = await ask(context, unit_id, since, as_of)
    county = asked.tenant.code
    townships = await townships_reached(context, [
        (t.unit_id, t.pupils, t.person_times, t.current_pupils)
        for t in asked.figures.served_by_township])  # fmt: skip
    return statistics_of(
        asked.figures,
        as_of=asked.period.as_of,
        since=asked.period.since,
        computed_at=asked.computed_at,
        unit=Unit.from_record(asked.unit, county) if asked.unit is not None else None,
        townships=townships,
    )


def _summary(row: rollup.CountyRow) -> CountySummary:
    return CountySummary(county_code=row.code, county_name=row.name, statistics=statistics_of(
        Figures.from_json(row.figures), as_of=row.as_of, since=row.since,
        computed_at=row.computed_at))  # fmt: skip


async def county_summary(info: Info[Context, None]) -> CountySummary | None:
    """The county's own summary, for whoever may read its whole statistics: a dashboard's
    first figures in one read, however large the county (`statistics` computes them)."""
    context = info.context
    await context.user()
    await context.require("statistics", "read", COUNTY_ROOT)
    code = (await context.tenant()).code
    row = await context.in_shared_transaction(lambda conn: rollup.county_view(conn, code))
    return _summary(row) if row is not None else None


async def region_statistics(
    info: Info[Context, None],
    code: Annotated[str, strawberry.argument(description="省（2 位）或地市（4 位）代码。")],
) -> RegionStatistics:
    found = await ask_region(info.context, code)
    code = code.strip()
    return RegionStatistics(
        code=code, name=found.name,
        level=RegionLevel.PROVINCE if len(code) == 2 else RegionLevel.PREFECTURE,
        computed_at=found.row.computed_at if found.row else None,
        oldest_county_at=found.row.oldest_county_at if found.row else None,
        counties=found.row.counties if found.row else 0,
        counties_missing=found.row.counties_missing if found.row else found.active,
        counties_onboarding=found.row.counties_onboarding if found.row else found.onboarding,
        statistics=statistics_of(Figures.from_json(found.row.figures), as_of=found.as_of,
                                 since=found.since, computed_at=found.row.computed_at)
        if found.row else None,
        by_county=[_summary(c) for c in found.counties],
    )  # fmt: skip
