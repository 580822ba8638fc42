"""Mutations of the organisation: set up, change, move and archive units.

Units are not secret within a county (everyone of it reads the tree), so a unit the caller
may not change is `FORBIDDEN`, not hidden; another county's unit is simply not found.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, insert, select, text, update
from strawberry.types import Info

from domain.audit.service import county_entries, record
from domain.org.moves import move_scopes, move_subtree
from domain.org.rules import check_child, check_unit_fields, label
from domain.org.tables import units
from domain.people.tables import CURRENT_STATUSES, pupils
from redscarf.errors import InvalidInput, NotFound, RedscarfError
from resolvers.org import UnitRecord
from schema.context import Context
from schema.org import (
    ArchiveUnitInput,
    CreateUnitInput,
    MoveUnitInput,
    Unit,
    UnitPayload,
    UpdateUnitInput,
)
from schema.user_errors import user_errors
from tenants.sessions import act_as_county


def _error(exc: RedscarfError, field: str | None = None) -> UnitPayload:
    return UnitPayload(unit=None, user_errors=user_errors(exc, field))


async def _unit(context: Context, global_id: str) -> UnitRecord:
    pk = await context.own_id("Unit", global_id)
    found = await context.org.unit.load(pk) if pk is not None else None
    if found is None or found.archived_at is not None:
        raise NotFound("没有这个单位", code="UNIT_NOT_FOUND")
    return found


async def _fresh(context: Context, pk: int) -> Unit:
    context.org.unit.clear_all()  # the request's cache holds the unit as it was
    found = await context.org.unit.load(pk)
    assert found is not None
    return Unit.from_record(found, (await context.tenant()).code)


def _name(raw: str) -> str:
    name = raw.strip()
    if not name or len(name) > 100:
        raise InvalidInput("单位名称为 1–100 个字", code="INVALID_NAME")
    return name


async def create_unit(info: Info[Context, None], input: CreateUnitInput) -> UnitPayload:
    context = info.context
    parent = await _unit(context, input.parent_id)
    await context.require("unit", "write", parent.path)
    kind = input.kind.value
    try:
        check_child(parent.kind, kind)
        check_unit_fields(
            kind,
            grade=input.grade,
            school_kind=input.school_kind.value if input.school_kind else None,
        )
        name = _name(input.name)
    except RedscarfError as exc:
        return _error(exc)
    tenant = await context.tenant()
    principal = await context.principal()
    async with context.session() as session:
        pk = (
            await session.execute(
                text("SELECT nextval(pg_get_serial_sequence(:t, 'id'))"),
                {"t": f'"{tenant.schema_name}".units'},
            )
        ).scalar_one()
        await session.execute(
            insert(units).values(
                id=pk,
                parent_id=parent.id,
                kind=kind,
                name=name,
                path=f"{parent.path}.{label(pk)}",
                area=input.area.value if input.area else parent.area,
                school_kind=input.school_kind.value if input.school_kind else None,
                grade=input.grade,
            )
        )
        await record(session, principal, "createUnit", "Unit", pk, details={"name": name})
    return UnitPayload(unit=await _fresh(context, pk), user_errors=[])


async def update_unit(info: Info[Context, None], input: UpdateUnitInput) -> UnitPayload:
    context = info.context
    found = await _unit(context, input.id)
    await context.require("unit", "write", found.path)
    values: dict[str, Any] = {}
    try:
        if input.name is not None:
            values["name"] = _name(input.name)
        if input.area is not None:
            values["area"] = input.area.value
        if input.school_kind is not None or input.grade is not None:
            check_unit_fields(
                found.kind,
                grade=input.grade if input.grade is not None else found.grade,
                school_kind=input.school_kind.value if input.school_kind else None,
            )
        if input.school_kind is not None:
            values["school_kind"] = input.school_kind.value
        if input.grade is not None:
            values["grade"] = input.grade
    except RedscarfError as exc:
        return _error(exc)
    if values:
        before = {k: getattr(found, k) for k in values}
        principal = await context.principal()
        async with context.session() as session:
            await session.execute(update(units).where(units.c.id == found.id).values(**values))
            await record(
                session,
                principal,
                "updateUnit",
                "Unit",
                found.id,
                fields=sorted(values),
                details={"before": before, "after": values},
            )
    return UnitPayload(unit=await _fresh(context, found.id), user_errors=[])


async def move_unit(info: Info[Context, None], input: MoveUnitInput) -> UnitPayload:
    context = info.context
    found = await _unit(context, input.id)
    parent = await _unit(context, input.parent_id)
    await context.require("unit", "write", found.path)
    await context.require("unit", "write", parent.path)
    try:
        if parent.path == found.path or parent.path.startswith(found.path + "."):
            raise InvalidInput("不能把单位移到它自己之下", code="INVALID_PLACEMENT")
        check_child(parent.kind, found.kind)
    except RedscarfError as exc:
        return _error(exc, "parentId")
    if parent.id == found.parent_id:  # where it is already: nothing to do
        return UnitPayload(unit=await _fresh(context, found.id), user_errors=[])
    old = found.path
    new = f"{parent.path}.{label(found.id)}"
    tenant = await context.tenant()
    principal = await context.principal()

    def run(conn: Connection) -> None:
        move_scopes(conn, tenant.code, old, new)  # as the service: shared rows first
        county = act_as_county(conn, tenant)
        size = move_subtree(county, tenant, found.id, parent.id, old, new)
        county.execute(
            county_entries(
                principal,
                "moveUnit",
                [
                    {
                        "object_type": "Unit",
                        "object_id": found.id,
                        "details": {"from": old, "to": new, "units": size},
                    }
                ],
            )
        )

    await context.in_shared_transaction(run)
    return UnitPayload(unit=await _fresh(context, found.id), user_errors=[])


async def archive_unit(info: Info[Context, None], input: ArchiveUnitInput) -> UnitPayload:
    context = info.context
    found = await _unit(context, input.id)
    await context.require("unit", "write", found.path)
    if found.parent_id is None:
        return _error(InvalidInput("县（区）本身不能撤销", code="INVALID_PLACEMENT"))
    principal = await context.principal()
    subtree = units.c.path.op("<@")(
        select(units.c.path).where(units.c.id == found.id).scalar_subquery()
    )
    async with context.session() as session:
        members = (
            await session.execute(
                select(func.count())
                .select_from(pupils.join(units, units.c.id == pupils.c.squadron_id))
                .where(subtree, pupils.c.status.in_(CURRENT_STATUSES))
            )
        ).scalar_one()
        if members:
            return _error(
                InvalidInput(
                    f"「{found.name}」之下还有 {members} 名在册队员，请先调出",
                    code="UNIT_NOT_EMPTY",
                )
            )
        await session.execute(
            update(units)
            .where(subtree, units.c.archived_at.is_(None))
            .values(archived_at=func.now())
        )
        await record(session, principal, "archiveUnit", "Unit", found.id)
    return UnitPayload(unit=await _fresh(context, found.id), user_errors=[])
