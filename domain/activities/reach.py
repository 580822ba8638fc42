"""Reach (服务人数): how many pupils activities served, unique and person-times, by township
and by urban/rural — the Lingshui document's measure of whether remote townships are reached.

A pupil counts where they are placed now (their squadron's township and school); a
person-time is one attended sign-up; an activity counts in the period it starts in.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, cast, func, literal, or_, select, true, tuple_

from domain import clock
from domain.activities.tables import ActivityState, SignupState, activities, activity_signups
from domain.org.tables import units
from domain.people.tables import CURRENT_STATUSES, pupils
from domain.types import LTree


@dataclass(frozen=True)
class Served:
    pupils: int
    """Unique pupils who attended at least one activity."""
    person_times: int


@dataclass(frozen=True)
class TownshipReach:
    unit_id: int
    name: str
    kind: str
    """A township or community; a school directly under the county stands for itself."""
    served: Served
    current_pupils: int


@dataclass(frozen=True)
class Reach:
    activities: int
    """Activities held in the period (published and not cancelled) organised in the scope."""
    served: Served
    current_pupils: int
    by_township: list[TownshipReach]
    by_area: dict[str, Served]


def reach(conn: Connection, under: str, start: dt.date | None, end: dt.date | None) -> Reach:
    """Reach of activities starting in [start, end] (China's days) among the pupils placed
    under the unit path `under`."""
    squadron, school = units.alias("squadron"), units.alias("school")
    township_path = func.subpath(squadron.c.path, 0, 2)
    within = squadron.c.path.op("<@")(cast(under, LTree))
    period = [true()]
    if start is not None:
        period.append(activities.c.starts_at >= clock.start_of(start))
    if end is not None:
        period.append(activities.c.starts_at < clock.start_of(end + dt.timedelta(days=1)))
    attended = (
        select(
            township_path.label("township"),
            func.coalesce(school.c.area, literal("unknown")).label("area"),
            activity_signups.c.pupil_id,
        )
        .join(activities, activities.c.id == activity_signups.c.activity_id)
        .join(pupils, pupils.c.id == activity_signups.c.pupil_id)
        .join(squadron, squadron.c.id == pupils.c.squadron_id)
        .join(school, school.c.id == squadron.c.parent_id)
        .where(activity_signups.c.state == SignupState.ATTENDED.value, within, *period)
        .subquery()
    )
    grouped = conn.execute(
        select(
            attended.c.township,
            attended.c.area,
            func.grouping(attended.c.township).label("g_township"),
            func.grouping(attended.c.area).label("g_area"),
            func.count(func.distinct(attended.c.pupil_id)).label("pupils"),
            func.count().label("times"),
        ).group_by(
            func.grouping_sets(tuple_(attended.c.township), tuple_(attended.c.area), tuple_())
        )
    ).all()
    total, townships, areas = Served(0, 0), {}, {}
    for row in grouped:
        served = Served(int(row.pupils), int(row.times))
        if row.g_township and row.g_area:
            total = served
        elif not row.g_township:
            townships[row.township] = served
        else:
            areas[row.area] = served
    current = _current_pupils(conn, under)
    organiser = units.alias("organiser")
    held = conn.execute(
        select(func.count())
        .select_from(activities)
        .join(organiser, organiser.c.id == activities.c.unit_id)
        .where(
            activities.c.state.in_([ActivityState.PUBLISHED.value, ActivityState.CLOSED.value,
                                    ActivityState.FINISHED.value]),
            or_(organiser.c.path.op("<@")(cast(under, LTree)),
                organiser.c.path.op("@>")(cast(under, LTree))),
            *period,
        )
    ).scalar_one()  # fmt: skip
    return Reach(
        activities=int(held),
        served=total,
        current_pupils=sum(current.values()),
        by_township=_townships(conn, under, townships, current),
        by_area=areas,
    )


def _current_pupils(conn: Connection, under: str) -> dict[str, int]:
    """Pupils placed under `under` now, by township path."""
    squadron = units.alias("squadron")
    township_path = func.subpath(squadron.c.path, 0, 2)
    return {
        str(path): int(n)
        for path, n in conn.execute(
            select(township_path, func.count())
            .select_from(pupils)
            .join(squadron, squadron.c.id == pupils.c.squadron_id)
            .where(
                pupils.c.status.in_(CURRENT_STATUSES),
                squadron.c.path.op("<@")(cast(under, LTree)),
            )
            .group_by(township_path)
        )
    }


def _townships(
    conn: Connection, under: str, served: dict[str, Served], current: dict[str, int]
) -> list[TownshipReach]:
    paths = sorted(set(served) | set(current))
    if not paths:
        return []
    rows: dict[str, Any] = {
        str(r.path): r
        for r in conn.execute(
            select(units.c.id, units.c.name, units.c.kind, units.c.path).where(
                units.c.path.in_([cast(p, LTree) for p in paths])
            )
        )
    }
    return [
        TownshipReach(rows[p].id, rows[p].name, rows[p].kind, served.get(p, Served(0, 0)),
                      current.get(p, 0))
        for p in paths
        if p in rows
    ]  # fmt: skip
