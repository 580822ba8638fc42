"""Counselors: the list, appointing, reassigning and ending, with the history kept."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import strawberry
from sqlalchemy import insert, select, update
from strawberry.types import Info

from authz.sql import scope_predicate
from domain.audit.service import record
from domain.org.tables import units
from domain.people.names import normalise_name
from domain.people.tables import COUNSELOR_UNIT_KINDS, counselor_appointments, counselors
from redscarf.errors import InvalidInput, NotFound, RedscarfError
from resolvers.org import UnitRecord
from resolvers.paging import After, Before, First, Last, counter, fetch, page_of
from schema.context import Context
from schema.counselors import (
    AppointCounselorInput,
    Appointment,
    Counselor,
    CounselorConnection,
    CounselorEdge,
    CounselorKind,
    CounselorPayload,
    EndCounselorInput,
    ReassignCounselorInput,
)
from schema.ids import encode_global_id, encode_key_cursor
from schema.user_errors import user_errors

# Which unit a counselor of each kind leads (external counselors: any unit below the county).


def _error(exc: RedscarfError) -> CounselorPayload:
    return CounselorPayload(counselor=None, user_errors=user_errors(exc))


async def _counselors(context: Context, ids: list[int]) -> list[Counselor]:
    county = (await context.tenant()).code
    async with context.session() as session:
        people = {
            r.id: r
            for r in await session.execute(select(counselors).where(counselors.c.id.in_(ids)))
        }
        history: dict[int, list[Appointment]] = defaultdict(list)
        for a in await session.execute(
            select(counselor_appointments)
            .where(counselor_appointments.c.counselor_id.in_(ids))
            .order_by(counselor_appointments.c.started_on, counselor_appointments.c.id)
        ):
            history[a.counselor_id].append(
                Appointment(
                    unit_id=a.unit_id,
                    county=county,
                    kind=CounselorKind(a.kind),
                    started_on=a.started_on,
                    ended_on=a.ended_on,
                )
            )
    return [
        Counselor(
            id=strawberry.ID(encode_global_id("Counselor", county, pk)),
            name=people[pk].name,
            kind=CounselorKind(people[pk].kind),
            ended_on=people[pk].ended_on,
            appointments=history[pk],
        )
        for pk in ids
    ]


async def counselors_list(
    info: Info[Context, None],
    first: First = None,
    after: After = None,
    last: Last = None,
    before: Before = None,
) -> CounselorConnection:
    context = info.context
    page = page_of(first, after, last, before)
    scope = await context.list_scope("counselor", "read")
    listed = (
        select(counselors.c.id)
        .join(units, units.c.id == counselors.c.unit_id)
        .where(scope_predicate(scope, units.c.path), counselors.c.ended_on.is_(None))
    )
    fetched = await fetch(context.session, listed, counselors.c.id, page)
    ids = [r.id for r in fetched.rows]
    found = await _counselors(context, ids)
    edges = [
        CounselorEdge(cursor=encode_key_cursor(pk), node=c)
        for pk, c in zip(ids, found, strict=True)
    ]
    return CounselorConnection(
        edges=edges,
        page_info=fetched.page_info([e.cursor for e in edges]),
        count_all=counter(context.session, listed),
    )


async def _unit_for(context: Context, global_id: str, kind: str) -> UnitRecord:
    pk = await context.own_id("Unit", global_id)
    found = await context.org.unit.load(pk) if pk is not None else None
    if found is None or found.archived_at is not None:
        raise NotFound("没有这个单位", code="UNIT_NOT_FOUND")
    await context.require("counselor", "write", found.path)
    if found.kind not in COUNSELOR_UNIT_KINDS[kind]:
        raise InvalidInput("这一类辅导员不能任于这一层级的单位", code="WRONG_UNIT_KIND")
    return found


async def _current(context: Context, global_id: str) -> Any:
    """A counselor in sight and in office (not found otherwise); its unit must be writable."""
    pk = await context.own_id("Counselor", global_id)
    scope = await context.list_scope("counselor", "read")
    row = None
    if pk is not None:
        async with context.session() as session:
            row = (
                await session.execute(
                    select(counselors, units.c.path)
                    .join(units, units.c.id == counselors.c.unit_id)
                    .where(
                        counselors.c.id == pk,
                        counselors.c.ended_on.is_(None),
                        scope_predicate(scope, units.c.path),
                    )
                )
            ).first()
    if row is None:
        raise NotFound("没有这位在任的辅导员", code="COUNSELOR_NOT_FOUND")
    await context.require("counselor", "write", row.path)
    return row


async def appoint_counselor(
    info: Info[Context, None], input: AppointCounselorInput
) -> CounselorPayload:
    context = info.context
    kind = input.kind.value
    try:
        unit = await _unit_for(context, input.unit_id, kind)
        name = normalise_name(input.name)
    except InvalidInput as exc:
        return _error(exc)
    principal = await context.principal()
    async with context.session() as session:
        pk = (
            await session.execute(
                insert(counselors)
                .values(name=name, kind=kind, unit_id=unit.id, appointed_on=input.started_on)
                .returning(counselors.c.id)
            )
        ).scalar_one()
        await session.execute(
            insert(counselor_appointments).values(
                counselor_id=pk, unit_id=unit.id, kind=kind, started_on=input.started_on
            )
        )
        await record(
            session,
            principal,
            "appointCounselor",
            "Counselor",
            pk,
            details={"unit": unit.id, "kind": kind},
        )
    return CounselorPayload(counselor=(await _counselors(context, [pk]))[0], user_errors=[])


async def _end_current(session: Any, counselor_id: int, on: dt.date) -> None:
    await session.execute(
        update(counselor_appointments)
        .where(
            counselor_appointments.c.counselor_id == counselor_id,
            counselor_appointments.c.ended_on.is_(None),
        )
        .values(ended_on=on)
    )


async def reassign_counselor(
    info: Info[Context, None], input: ReassignCounselorInput
) -> CounselorPayload:
    context = info.context
    current = await _current(context, input.id)
    kind = input.kind.value
    try:
        unit = await _unit_for(context, input.unit_id, kind)
        if current.appointed_on and input.on < current.appointed_on:
            raise InvalidInput("调任日期早于现任起始日期", code="INVALID_DATE")
    except InvalidInput as exc:
        return _error(exc)
    principal = await context.principal()
    async with context.session() as session:
        await _end_current(session, current.id, input.on)
        await session.execute(
            insert(counselor_appointments).values(
                counselor_id=current.id, unit_id=unit.id, kind=kind, started_on=input.on
            )
        )
        await session.execute(
            update(counselors)
            .where(counselors.c.id == current.id)
            .values(unit_id=unit.id, kind=kind, appointed_on=input.on)
        )
        await record(
            session,
            principal,
            "reassignCounselor",
            "Counselor",
            current.id,
            details={"from": current.unit_id, "to": unit.id, "kind": kind},
        )
    return CounselorPayload(counselor=(await _counselors(context, [current.id]))[0], user_errors=[])


async def end_counselor(info: Info[Context, None], input: EndCounselorInput) -> CounselorPayload:
    context = info.context
    current = await _current(context, input.id)
    principal = await context.principal()
    async with context.session() as session:
        await _end_current(session, current.id, input.on)
        await session.execute(
            update(counselors).where(counselors.c.id == current.id).values(ended_on=input.on)
        )
        await record(session, principal, "endCounselor", "Counselor", current.id)
    return CounselorPayload(counselor=(await _counselors(context, [current.id]))[0], user_errors=[])
