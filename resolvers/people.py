"""All SQL of the people domain that the API runs: the pupil roster, scoped by the policy."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from authz.enforcer import ListScope
from authz.sql import scope_predicate
from domain.org.tables import units
from domain.people.tables import guardian_bindings, guardians, pupils


@dataclass(frozen=True)
class PupilRecord:
    id: int
    name: str
    gender: str
    grade: int
    status: str
    birth_date: dt.date | None
    joined_on: dt.date | None
    squadron_id: int
    path: str
    """Path of the pupil's team, or squadron when in no team: what scopes are matched against."""
    bound: bool
    """A verified binding to the calling guardian."""


def _bound_to(user_id: int | None) -> ColumnElement[bool]:
    if user_id is None:
        return false()
    return pupils.c.id.in_(
        select(guardian_bindings.c.pupil_id)
        .join(guardians, guardians.c.id == guardian_bindings.c.guardian_id)
        .where(guardians.c.user_id == user_id, guardian_bindings.c.verified_at.is_not(None))
    )


def _roster(scope: ListScope, user_id: int | None) -> Select[Any]:
    bound = _bound_to(user_id)
    return (
        select(
            pupils.c.id,
            pupils.c.name,
            pupils.c.gender,
            pupils.c.grade,
            pupils.c.status,
            pupils.c.birth_date,
            pupils.c.joined_on,
            pupils.c.squadron_id,
            units.c.path,
            bound.label("bound"),
        )
        .select_from(
            pupils.join(units, units.c.id == func.coalesce(pupils.c.team_id, pupils.c.squadron_id))
        )
        .where(scope_predicate(scope, units.c.path, bound=bound))
    )


def _record(row: Any) -> PupilRecord:
    m = row._mapping
    return PupilRecord(**{k: m[k] for k in PupilRecord.__dataclass_fields__})


async def pupils_page(
    session: AsyncSession,
    scope: ListScope,
    *,
    user_id: int | None,
    first: int,
    after: int | None,
    under_path: str | None,
) -> tuple[list[PupilRecord], bool]:
    """A page of the pupils this scope reaches, in a stable order (by key)."""
    stmt = _roster(scope, user_id)
    conditions = []
    if after is not None:
        conditions.append(pupils.c.id > after)
    if under_path is not None:
        conditions.append(scope_predicate(ListScope(paths=(under_path,)), units.c.path))
    if conditions:
        stmt = stmt.where(and_(*conditions))
    rows = (await session.execute(stmt.order_by(pupils.c.id).limit(first + 1))).all()
    return [_record(r) for r in rows[:first]], len(rows) > first


async def pupil_by_id(
    session: AsyncSession, scope: ListScope, pk: int, *, user_id: int | None
) -> PupilRecord | None:
    row = (await session.execute(_roster(scope, user_id).where(pupils.c.id == pk))).first()
    return _record(row) if row else None
