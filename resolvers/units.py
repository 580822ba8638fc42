"""Root queries of the organisation: `units`, `unit` and `node`."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import strawberry
from sqlalchemy import cast
from strawberry.types import Info

from domain.org.tables import UnitKind as DomainUnitKind
from domain.org.tables import units as units_table
from domain.types import LTree
from redscarf.errors import InvalidInput, NotFound
from resolvers.org import unit_record, units_query
from resolvers.paging import After, Before, First, Last, counter, fetch, page_of
from schema.context import Context
from schema.ids import decode_cursor, decode_global_id, encode_cursor
from schema.node import Node
from schema.org import Unit, UnitConnection, UnitEdge, UnitKind


async def units(
    info: Info[Context, None],
    first: First = None,
    after: After = None,
    last: Last = None,
    before: Before = None,
    kind: Annotated[UnitKind | None, strawberry.argument(description="只列出该层级。")] = None,
    under: Annotated[
        strawberry.ID | None,
        strawberry.argument(description="只列出该单位（全局 ID）及其所有下级。"),
    ] = None,
) -> UnitConnection:
    page = page_of(first, after, last, before, decode=_path_cursor)
    context = info.context
    scope = await context.list_scope("unit", "read")
    under_id = await context.own_id("Unit", under) if under is not None else None
    if under is not None and under_id is None:
        raise NotFound("没有这个单位", code="UNIT_NOT_FOUND")
    domain_kind = DomainUnitKind(kind.value) if kind is not None else None
    listed = units_query(kind=domain_kind, under=under_id, scope=scope)
    fetched = await fetch(context.session, listed, units_table.c.path, page)
    records = [unit_record(r) for r in fetched.rows]
    county = (await context.tenant()).code
    # Later `parent` lookups of these units' children hit the cache instead of the database.
    info.context.org.unit.prime_many({r.id: r for r in records})
    edges = [
        UnitEdge(cursor=encode_cursor(r.path), node=Unit.from_record(r, county)) for r in records
    ]
    return UnitConnection(
        edges=edges,
        page_info=fetched.page_info([e.cursor for e in edges]),
        count_all=counter(context.session, listed),
    )


def _path_cursor(cursor: str) -> Any:
    return cast(decode_cursor(cursor), LTree)


async def _visible_unit(context: Context, pk: int | None) -> Unit | None:
    """A unit the caller may read, or None: a unit out of reach looks like a missing one."""
    if pk is None:
        return None
    record = await context.org.unit.load(pk)
    if record is None or not await context.may("unit", "read", record.path):
        return None
    return Unit.from_record(record, (await context.tenant()).code)


async def unit(
    info: Info[Context, None],
    id: Annotated[strawberry.ID, strawberry.argument(description="单位的全局 ID。")],
) -> Unit | None:
    return await _visible_unit(info.context, await info.context.own_id("Unit", id))


async def node(
    info: Info[Context, None],
    id: Annotated[strawberry.ID, strawberry.argument(description="任意对象的全局 ID。")],
) -> Node | None:
    """The same checks as each type's own field: `node(id:)` is no way around them."""
    type_name = decode_global_id(id)[0]
    if type_name == "Unit":
        return await unit(info, id)
    if type_name == "Pupil":
        from resolvers.pupils import pupil

        return await pupil(info, id)
    if type_name == "DataRequest":
        from resolvers.data_requests import data_request

        return await data_request(info, id)
    if type_name == "Activity":
        from resolvers.activities import activity

        return await activity(info, id)
    if type_name == "ActivitySignup":
        from resolvers.activities import signup

        return await signup(info, id)
    if type_name in ("Partner", "ExchangeItem", "Redemption"):
        from resolvers import exchange

        found = {"Partner": exchange.partner, "ExchangeItem": exchange.exchange_item,
                 "Redemption": exchange.redemption}[type_name]  # fmt: skip
        return await found(info, id)
    if type_name in ("CollectionTask", "TaskSubmission"):
        from resolvers import tasks

        found = {"CollectionTask": tasks.collection_task,
                 "TaskSubmission": tasks.task_submission}[type_name]  # fmt: skip
        return await found(info, id)
    if type_name == "Pairing":
        from resolvers.pairing import pairing

        return await pairing(info, id)
    if type_name in ("CareRecord", "VolunteerProject"):
        from resolvers import care

        found = {"CareRecord": care.care_record,
                 "VolunteerProject": care.volunteer_project}[type_name]  # fmt: skip
        return await found(info, id)
    if type_name == "RosterImport":
        from resolvers.imports import roster_import

        return await roster_import(info, id)
    return None


MAX_NODES = 100


async def nodes(
    info: Info[Context, None],
    ids: Annotated[
        list[strawberry.ID], strawberry.argument(description="全局 ID 列表，最多 100 个。")
    ],
) -> list[Node | None]:
    """`node(id:)` for each ID, in order; null where the caller may not see the object."""
    if len(ids) > MAX_NODES:
        raise InvalidInput(f"一次最多取 {MAX_NODES} 个对象", code="TOO_MANY_IDS")
    # All at once, so that the request's DataLoaders batch them: 40 pupils are one query.
    return list(await asyncio.gather(*(node(info, pk) for pk in ids)))
