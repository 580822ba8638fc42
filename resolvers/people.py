"""All SQL of the people domain that the API runs: the pupil roster, scoped by the policy."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, false, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from authz.enforcer import ListScope
from authz.sql import scope_predicate
from domain.org.tables import units
from domain.people.tables import (
    CURRENT_STATUSES,
    NOT_ERASED,
    grade_promotions,
    guardian_bindings,
    guardians,
    pupil_status_changes,
    pupils,
)


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
    team_id: int | None
    id_number_enc: str | None
    path: str
    """Path of the pupil's team, or squadron when in no team: what scopes are matched against."""
    bound: bool
    """A verified binding to the calling guardian."""


def bound_to(user_id: int | None) -> ColumnElement[bool]:
    if user_id is None:
        return false()
    return pupils.c.id.in_(
        select(guardian_bindings.c.pupil_id)
        .join(guardians, guardians.c.id == guardian_bindings.c.guardian_id)
        .where(
            guardians.c.user_id == user_id,
            guardian_bindings.c.verified_at.is_not(None),
            guardian_bindings.c.ended_at.is_(None),
        )
    )


def pupil_ids_in(scope: ListScope, user_id: int | None) -> Select[Any]:
    """The ids of the pupils a list scope reaches (by place, or a guardian's binding): for
    lists of what belongs to pupils (sign-ups, submissions)."""
    place = units.alias("place")
    return (
        select(pupils.c.id)
        .join(place, place.c.id == func.coalesce(pupils.c.team_id, pupils.c.squadron_id))
        .where(scope_predicate(scope, place.c.path, bound=bound_to(user_id)))
    )


def _roster(scope: ListScope, user_id: int | None) -> Select[Any]:
    bound = bound_to(user_id)
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
            pupils.c.team_id,
            pupils.c.id_number_enc,
            units.c.path,
            bound.label("bound"),
        )
        .select_from(
            pupils.join(units, units.c.id == func.coalesce(pupils.c.team_id, pupils.c.squadron_id))
        )
        .where(scope_predicate(scope, units.c.path, bound=bound), NOT_ERASED)
    )


def record(row: Any) -> PupilRecord:
    m = row._mapping
    return PupilRecord(**{k: m[k] for k in PupilRecord.__dataclass_fields__})


def roster_query(
    scope: ListScope,
    *,
    user_id: int | None,
    under_path: str | None,
    search: str | None = None,
    grade: int | None = None,
    status: str | None = None,
) -> Select[Any]:
    """The pupils this scope reaches (paged by `pupils.c.id`, made records by `record`),
    filtered by a search (part of the name, or the start of its pinyin or pinyin initials),
    grade, status."""
    stmt = _roster(scope, user_id)
    conditions = []
    if search:
        conditions.append(
            or_(
                pupils.c.name.contains(search, autoescape=True),
                pupils.c.name_pinyin.startswith(search, autoescape=True),
                pupils.c.name_initials.startswith(search, autoescape=True),
            )
        )
    if grade is not None:
        conditions.append(pupils.c.grade == grade)
    if status is not None:
        conditions.append(pupils.c.status == status)
    if under_path is not None:
        conditions.append(scope_predicate(ListScope(paths=(under_path,)), units.c.path))
    return stmt.where(and_(*conditions)) if conditions else stmt


async def pupil_by_id(
    session: AsyncSession, scope: ListScope, pk: int, *, user_id: int | None
) -> PupilRecord | None:
    row = (await session.execute(_roster(scope, user_id).where(pupils.c.id == pk))).first()
    return record(row) if row else None


async def pupils_by_ids(
    session: AsyncSession, scope: ListScope, ids: list[int], *, user_id: int | None
) -> dict[int, PupilRecord]:
    """The pupils of `ids` the scope reaches (one query, for lists that point at pupils)."""
    if not ids:
        return {}
    rows = (await session.execute(_roster(scope, user_id).where(pupils.c.id.in_(ids)))).all()
    return {r.id: record(r) for r in rows}


# --- writing ---------------------------------------------------------------------------------


async def insert_pupil(session: AsyncSession, values: dict[str, Any]) -> int | None:
    """The new pupil's key; None when the ID number is registered already."""
    stmt = (
        insert(pupils)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["id_number_hash"])
        .returning(pupils.c.id)
    )
    return (await session.execute(stmt)).scalar()


async def update_pupil(session: AsyncSession, pk: int, values: dict[str, Any]) -> bool:
    """False when another pupil holds the ID number given."""
    if "id_number_hash" in values:
        taken = await session.execute(
            select(pupils.c.id).where(
                pupils.c.id_number_hash == values["id_number_hash"], pupils.c.id != pk
            )
        )
        if taken.first() is not None:
            return False
    await session.execute(
        update(pupils).where(pupils.c.id == pk).values(**values, updated_at=func.now())
    )
    return True


async def record_status(
    session: AsyncSession,
    pupil_ids: list[int],
    to_status: str,
    on_date: dt.date,
    *,
    from_status: str | None,
    batch: str | None = None,
    note: str | None = None,
) -> None:
    await session.execute(
        insert(pupil_status_changes),
        [
            {
                "pupil_id": pk,
                "from_status": from_status,
                "to_status": to_status,
                "on_date": on_date,
                "batch": batch,
                "note": note,
            }
            for pk in pupil_ids
        ],
    )


async def promote_grades(session: AsyncSession, year: int) -> tuple[int, int] | None:
    """Every current pupil and every squadron one grade up; None if this year's was done."""
    claimed = await session.execute(
        insert(grade_promotions)
        .values(academic_year=year, pupils=0, squadrons=0)
        .on_conflict_do_nothing()
        .returning(grade_promotions.c.academic_year)
    )
    if claimed.first() is None:
        return None
    moved = await session.execute(
        update(pupils)
        .where(pupils.c.status.in_(CURRENT_STATUSES), pupils.c.grade < 9)
        .values(grade=pupils.c.grade + 1, updated_at=func.now())
    )
    # A class keeps its number and moves up: 三（1）中队 becomes 四（1）中队.
    renamed = case(
        *(
            (
                units.c.grade == g,
                func.regexp_replace(units.c.name, f"^{NUMERALS[g]}", NUMERALS[g + 1]),
            )
            for g in range(1, 9)
        ),
        else_=units.c.name,
    )
    squadrons = await session.execute(
        update(units)
        .where(units.c.kind == "squadron", units.c.grade < 9, units.c.archived_at.is_(None))
        .values(grade=units.c.grade + 1, name=renamed)
    )
    counts = (moved.rowcount, squadrons.rowcount)
    await session.execute(
        update(grade_promotions)
        .where(grade_promotions.c.academic_year == year)
        .values(pupils=counts[0], squadrons=counts[1])
    )
    return counts


NUMERALS = " 一二三四五六七八九"
