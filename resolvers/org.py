"""All SQL of the organisation domain that the API runs, and its DataLoaders.

Every function takes a session already bound to one county (schema translated, county role
set), so none of them can name another county. "Everything under a unit" is always the one
indexed ltree predicate `path <@ unit.path`. Archived units are left out of lists and counts
but can still be fetched by id.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from authz.enforcer import ListScope
from authz.sql import scope_predicate
from domain.org.tables import UnitKind, units
from domain.people.tables import CURRENT_STATUSES, counselors, pupils

SessionFactory = Callable[[], AbstractAsyncContextManager[AsyncSession]]


@dataclass(frozen=True)
class UnitRecord:
    id: int
    parent_id: int | None
    kind: str
    name: str
    path: str
    area: str | None
    school_kind: str | None
    grade: int | None
    archived_at: dt.datetime | None


@dataclass(frozen=True)
class CountyStats:
    units_by_kind: dict[str, int]
    pupils: int
    counselors: int


_UNIT_COLUMNS = (
    units.c.id,
    units.c.parent_id,
    units.c.kind,
    units.c.name,
    units.c.path,
    units.c.area,
    units.c.school_kind,
    units.c.grade,
    units.c.archived_at,
)


def _record(row: Any) -> UnitRecord:
    return UnitRecord(**row._mapping)


def _under(unit_id: int) -> ColumnElement[bool]:
    return units.c.path.op("<@")(
        select(units.c.path).where(units.c.id == unit_id).scalar_subquery()
    )


def _filtered(
    stmt: Select[Any], kind: UnitKind | None, under: int | None, scope: ListScope
) -> Select[Any]:
    stmt = stmt.where(units.c.archived_at.is_(None), scope_predicate(scope, units.c.path))
    if kind is not None:
        stmt = stmt.where(units.c.kind == kind.value)
    if under is not None:
        stmt = stmt.where(_under(under))
    return stmt


def units_query(*, kind: UnitKind | None, under: int | None, scope: ListScope) -> Select[Any]:
    """The units of a list (paged in tree order, by `units.c.path`; rows made records by
    `unit_record`)."""
    return _filtered(select(*_UNIT_COLUMNS), kind, under, scope)


def unit_record(row: Any) -> UnitRecord:
    return _record(row)


async def county_stats(session: AsyncSession) -> CountyStats:
    kinds = await session.execute(
        select(units.c.kind, func.count())
        .where(units.c.archived_at.is_(None))
        .group_by(units.c.kind)
    )
    people = (
        await session.execute(
            select(
                select(func.count())
                .select_from(pupils)
                .where(pupils.c.status.in_(CURRENT_STATUSES))
                .scalar_subquery(),
                select(func.count())
                .select_from(counselors)
                .where(counselors.c.ended_on.is_(None))
                .scalar_subquery(),
            )
        )
    ).one()
    return CountyStats(
        units_by_kind={k: int(n) for k, n in kinds.all()},
        pupils=int(people[0]),
        counselors=int(people[1]),
    )


# --- DataLoaders: one statement per batch, whatever the number of keys ----------------------


async def _units_by_id(session: AsyncSession, ids: Sequence[int]) -> list[UnitRecord | None]:
    rows = await session.execute(select(*_UNIT_COLUMNS).where(units.c.id.in_(ids)))
    found = {r.id: _record(r) for r in rows}
    return [found.get(i) for i in ids]


async def load_units(
    session: AsyncSession, loader: DataLoader[int, UnitRecord | None], ids: Sequence[int]
) -> list[UnitRecord | None]:
    """Units by id, as `loader` (the request's `org.unit`) would give them, read in a county
    transaction the caller has open rather than one of the loader's own; the loader keeps
    them, and those it has already cost no statement."""
    missing = [pk for pk in dict.fromkeys(ids) if loader.cache_map.get(pk) is None]
    if missing:
        loader.prime_many(dict(zip(missing, await _units_by_id(session, missing), strict=True)))
    return [await loader.load(pk) for pk in ids]


async def _children(session: AsyncSession, ids: Sequence[int]) -> list[list[UnitRecord]]:
    rows = await session.execute(
        select(*_UNIT_COLUMNS)
        .where(units.c.parent_id.in_(ids), units.c.archived_at.is_(None))
        .order_by(units.c.path)
    )
    by_parent: dict[int, list[UnitRecord]] = defaultdict(list)
    for r in rows:
        by_parent[r.parent_id].append(_record(r))
    return [by_parent.get(i, []) for i in ids]


def _count_under(counted: ColumnElement[int], ids: Sequence[int]) -> Select[Any]:
    return select(units.c.id, counted).where(units.c.id.in_(ids))


async def _pupil_counts(session: AsyncSession, ids: Sequence[int]) -> list[int]:
    squadron = units.alias("squadron")
    counted = (
        select(func.count())
        .select_from(pupils.join(squadron, squadron.c.id == pupils.c.squadron_id))
        .where(squadron.c.path.op("<@")(units.c.path), pupils.c.status.in_(CURRENT_STATUSES))
        .scalar_subquery()
    )
    rows = await session.execute(_count_under(counted, ids))
    found = {r[0]: int(r[1]) for r in rows}
    return [found.get(i, 0) for i in ids]


async def _counselor_counts(session: AsyncSession, ids: Sequence[int]) -> list[int]:
    unit = units.alias("counselor_unit")
    counted = (
        select(func.count())
        .select_from(counselors.join(unit, unit.c.id == counselors.c.unit_id))
        .where(unit.c.path.op("<@")(units.c.path), counselors.c.ended_on.is_(None))
        .scalar_subquery()
    )
    rows = await session.execute(_count_under(counted, ids))
    found = {r[0]: int(r[1]) for r in rows}
    return [found.get(i, 0) for i in ids]


async def _unit_counts(session: AsyncSession, ids: Sequence[int]) -> list[dict[str, int]]:
    """Units by kind under each unit (itself not counted), one statement for all."""
    top, below = units.alias("top"), units.alias("below")
    rows = await session.execute(
        select(top.c.id, below.c.kind, func.count())
        .select_from(top.join(below, below.c.path.op("<@")(top.c.path)))
        .where(top.c.id.in_(ids), below.c.id != top.c.id, below.c.archived_at.is_(None))
        .group_by(top.c.id, below.c.kind)
    )
    found: dict[int, dict[str, int]] = defaultdict(dict)
    for pk, kind, n in rows:
        found[pk][kind] = int(n)
    return [found.get(i, {}) for i in ids]


@dataclass(frozen=True)
class OrgLoaders:
    unit: DataLoader[int, UnitRecord | None]
    children: DataLoader[int, list[UnitRecord]]
    pupil_count: DataLoader[int, int]
    counselor_count: DataLoader[int, int]
    unit_counts: DataLoader[int, dict[str, int]]


def make_org_loaders(open_session: SessionFactory) -> OrgLoaders:
    """Loaders of one request; each batch runs in its own short county transaction."""

    def loader(fn: Callable[[AsyncSession, Sequence[int]], Any]) -> Any:
        async def load(keys: list[int]) -> Any:
            async with open_session() as session:
                return await fn(session, keys)

        return DataLoader(load_fn=load)

    return OrgLoaders(
        unit=loader(_units_by_id),
        children=loader(_children),
        pupil_count=loader(_pupil_counts),
        counselor_count=loader(_counselor_counts),
        unit_counts=loader(_unit_counts),
    )
