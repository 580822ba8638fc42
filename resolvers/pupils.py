"""Root queries of pupils: the roster (`pupils`) and one pupil (`pupil`)."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from typing import Annotated

import strawberry
from strawberry.types import Info
from strawberry.types.nodes import SelectedField, Selection

from authz.principal import PrincipalKind
from domain.people.names import search_key
from domain.people.tables import pupils as pupils_table
from redscarf.errors import InvalidInput, NotFound
from resolvers.org import load_units
from resolvers.paging import After, Before, First, Last, counter, fetch, page_of
from resolvers.people import PupilRecord, pupils_by_ids, roster_query
from resolvers.people import record as pupil_record
from schema.context import Context
from schema.ids import encode_key_cursor
from schema.pupils import Pupil, PupilConnection, PupilEdge, PupilStatus

DEFAULT_PAGE = 50


async def caller_user_id(context: Context) -> int | None:
    principal = await context.principal()
    return principal.id if principal.kind == PrincipalKind.USER else None


async def pupils(
    info: Info[Context, None],
    first: First = None,
    after: After = None,
    last: Last = None,
    before: Before = None,
    under: Annotated[
        strawberry.ID | None,
        strawberry.argument(description="只列出该单位（全局 ID，如一个中队）之下的队员。"),
    ] = None,
    search: Annotated[
        str | None,
        strawberry.argument(
            description="按姓名查找：姓名中的字，或拼音、拼音首字母的开头（如 王、wangx、wxh）。"
        ),
    ] = None,
    grade: Annotated[int | None, strawberry.argument(description="只列出该年级。")] = None,
    status: Annotated[PupilStatus | None, strawberry.argument(description="只列出该状态。")] = None,
) -> PupilConnection:
    page = page_of(first, after, last, before)
    context = info.context
    scope = await context.list_scope("pupil", "read")
    unit_id = await context.own_id("Unit", under) if under is not None else None
    user_id = await caller_user_id(context)
    # One county transaction for the unit, the page and the page's squadrons.
    async with context.session() as session:
        under_path = None
        if under is not None:
            [record] = (
                await load_units(session, context.org.unit, [unit_id])
                if unit_id is not None
                else [None]
            )
            if record is None:
                raise NotFound("没有这个单位", code="UNIT_NOT_FOUND")
            under_path = record.path
        listed = roster_query(
            scope,
            user_id=user_id,
            under_path=under_path,
            search=search_key(search) if search else None,
            grade=grade,
            status=status.value if status else None,
        )
        fetched = await fetch(lambda: nullcontext(session), listed, pupils_table.c.id, page)
        if _selects(info.selected_fields, info.field_name, "edges", "node", "squadron"):
            # `Pupil.squadron` then answers at once, with no task or batch of its own.
            await load_units(session, context.org.unit, [r.squadron_id for r in fetched.rows])
    county = (await context.tenant()).code
    edges = [
        PupilEdge(cursor=encode_key_cursor(r.id), node=Pupil.from_record(pupil_record(r), county))
        for r in fetched.rows
    ]
    return PupilConnection(
        edges=edges,
        page_info=fetched.page_info([e.cursor for e in edges]),
        count_all=counter(context.session, listed),
    )


def _selects(selections: Sequence[Selection], *path: str) -> bool:
    """Whether the fields of `path` are selected, one inside the other (through fragments)."""
    name, *rest = path
    for selection in selections:
        if not isinstance(selection, SelectedField):
            if _selects(selection.selections, *path):
                return True
        elif selection.name == name and (not rest or _selects(selection.selections, *rest)):
            return True
    return False


MAX_CHOSEN = 500


async def chosen_pupils(
    context: Context, global_ids: Sequence[str], *, not_found: str = "PUPIL_NOT_FOUND"
) -> list[PupilRecord]:
    """The pupils a mutation names, every one of them in the caller's sight (or `not_found`:
    a pupil out of reach looks exactly like a missing one)."""
    if not global_ids or len(global_ids) > MAX_CHOSEN:
        raise InvalidInput(f"请选择 1–{MAX_CHOSEN} 名队员", code="INVALID_PUPILS")
    ids = [await context.own_id("Pupil", g) for g in global_ids]
    found: dict[int, PupilRecord] = {}
    if None not in ids:
        async with context.session() as session:
            found = await pupils_by_ids(
                session, await context.list_scope("pupil", "read"), [i for i in ids if i],
                user_id=await caller_user_id(context),
            )  # fmt: skip
    if None in ids or len(found) != len(set(ids)):
        raise NotFound("有队员不存在或不在您的管理范围内", code=not_found)
    return [found[i] for i in ids if i is not None]


def bound_rel(record: PupilRecord) -> str:
    """The relation a guardian's policy lines ask for (`bound`), when the caller is one."""
    return "bound" if record.bound else ""


async def visible_pupil(context: Context, pk: int) -> Pupil | None:
    """A pupil a list points at, when the caller sees it (batched: one query per list)."""
    record = await context.visible_pupils.load(pk)
    return Pupil.from_record(record, (await context.tenant()).code) if record else None


async def pupil(
    info: Info[Context, None],
    id: Annotated[strawberry.ID, strawberry.argument(description="队员的全局 ID。")],
) -> Pupil | None:
    """A pupil the caller may see; any other (or another county's) is simply not found."""
    context = info.context
    pk = await context.own_id("Pupil", id)
    if pk is None:
        return None
    # Through the request's loader: `nodes(ids:)` of many pupils is one query, not one each.
    record = await context.visible_pupils.load(pk)
    return Pupil.from_record(record, (await context.tenant()).code) if record else None
