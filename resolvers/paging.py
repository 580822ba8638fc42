"""Relay cursor pages: the one page-size rule, the one way to ask a page (`first`/`after`
forward, `last`/`before` backward) and the one way to build `PageInfo`.

A list is in one order of a key column (ascending, or newest first). `Page.keyset` turns a
page into the WHERE clauses, ORDER BY and LIMIT over that column (one row more than asked, to
know whether there are more), `Page.take` turns the rows back into the list's order and says
what lies on either side, as the Relay specification defines it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

import strawberry
from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from redscarf.errors import InvalidInput
from schema.ids import decode_key_cursor
from schema.node import PageInfo

MAX_PAGE = 100
DEFAULT_PAGE = 20

K = TypeVar("K")
R = TypeVar("R")

First = Annotated[
    int | None,
    strawberry.argument(description=f"取前若干条（默认 {DEFAULT_PAGE}，最多 {MAX_PAGE}）。"),
]
After = Annotated[
    str | None, strawberry.argument(description="从这个游标之后取（上一页的 endCursor）。")
]
Last = Annotated[
    int | None,
    strawberry.argument(description=f"取最后若干条（最多 {MAX_PAGE}）；与 first 二选一。"),
]
Before = Annotated[
    str | None, strawberry.argument(description="取这个游标之前的（下一页的 startCursor）。")
]


def page_size(first: int) -> int:
    """`first` as asked, capped at MAX_PAGE; a negative size is the client's error."""
    if first < 0:
        raise InvalidInput("first 不能为负数", code="INVALID_PAGE_SIZE")
    return min(first, MAX_PAGE)


@dataclass(frozen=True)
class Page(Generic[K]):
    """A page a client asked for, its cursors decoded."""

    size: int
    after: K | None = None
    before: K | None = None
    backward: bool = False
    """`last` was given: the page ends where the list (or `before`) ends."""

    def keyset(
        self, column: Any, *, newest_first: bool = False
    ) -> tuple[list[ColumnElement[bool]], ColumnElement[Any], int]:
        """(WHERE clauses, ORDER BY, LIMIT) of this page over `column`, the list's order."""
        later, earlier = (
            (column.__lt__, column.__gt__) if newest_first else (column.__gt__, column.__lt__)
        )
        clauses = []
        if self.after is not None:
            clauses.append(later(self.after))
        if self.before is not None:
            clauses.append(earlier(self.before))
        ascending = newest_first == self.backward  # read from the end when going backward
        return clauses, column.asc() if ascending else column.desc(), self.size + 1

    def take(self, rows: Sequence[R]) -> tuple[list[R], bool, bool]:
        """The page's rows in the list's order, whether a next and a previous page exist."""
        more = len(rows) > self.size
        kept = list(rows[: self.size])
        if self.backward:
            kept.reverse()
            return kept, self.before is not None, more
        return kept, more, self.after is not None


def page_of(
    first: int | None,
    after: str | None,
    last: int | None = None,
    before: str | None = None,
    *,
    decode: Callable[[str], K] = decode_key_cursor,  # type: ignore[assignment]
    default: int = DEFAULT_PAGE,
) -> Page[K]:
    """The page asked by Relay's four arguments (`first` and `last` together are refused)."""
    if first is not None and last is not None:
        raise InvalidInput("first 与 last 只能给一个", code="INVALID_PAGE_SIZE")
    if last is not None and last < 0:
        raise InvalidInput("last 不能为负数", code="INVALID_PAGE_SIZE")
    size = (
        page_size(first)
        if first is not None
        else min(last, MAX_PAGE)
        if last is not None
        else default
    )
    return Page(
        size=size,
        after=decode(after) if after is not None else None,
        before=decode(before) if before is not None else None,
        backward=last is not None,
    )


def page_info(cursors: list[str], *, has_next: bool, has_previous: bool) -> PageInfo:
    return PageInfo(
        has_next_page=has_next,
        has_previous_page=has_previous,
        start_cursor=cursors[0] if cursors else None,
        end_cursor=cursors[-1] if cursors else None,
    )


@dataclass(frozen=True)
class Fetched(Generic[R]):
    """A page's rows, in the list's order, and what lies on either side."""

    rows: list[R]
    has_next: bool
    has_previous: bool

    def page_info(self, cursors: list[str]) -> PageInfo:
        return page_info(cursors, has_next=self.has_next, has_previous=self.has_previous)


async def fetch(
    open_session: Callable[[], AbstractAsyncContextManager[AsyncSession]],
    query: Select[Any],
    column: Any,
    page: Page[Any],
    *,
    newest_first: bool = False,
) -> Fetched[Any]:
    """The rows of `page` of the list `query`, in the order of `column`."""
    paged, order, limit = page.keyset(column, newest_first=newest_first)
    async with open_session() as session:
        found = (await session.execute(query.where(*paged).order_by(order).limit(limit))).all()
    rows, has_next, has_previous = page.take(found)
    return Fetched(rows, has_next, has_previous)


def counter(
    open_session: Callable[[], AbstractAsyncContextManager[AsyncSession]], query: Select[Any]
) -> Callable[[], Awaitable[int]]:
    """`Counted.count_all` of a list: its rows counted (every page), in a session of its own
    when a client asks for `totalCount`."""

    async def count() -> int:
        async with open_session() as session:
            found = await session.execute(select(func.count()).select_from(query.subquery()))
            return int(found.scalar_one())

    return count


async def fetch_many(
    open_session: Callable[[], AbstractAsyncContextManager[AsyncSession]],
    keys: Sequence[tuple[Any, Page[Any], Any]],
    listed: Callable[[Any], Awaitable[Select[Any]]],
    column: Any,
    parent: Any,
    *,
    newest_first: bool = False,
) -> list[Fetched[Any]]:
    """A DataLoader's batch of a list nested in a list (the sign-ups of each activity of a
    page): each key is `(parent, page, filter)`, `listed(filter)` the list's query, and the
    parents asking the same page and filter are read in one statement, each parent's rows
    ranked in the order of `column` and as many kept as the page needs."""
    found: dict[tuple[Any, Page[Any], Any], Fetched[Any]] = {}
    for (page, which), parents in grouped(keys).items():
        paged, order, limit = page.keyset(column, newest_first=newest_first)
        rank = func.row_number().over(partition_by=parent, order_by=order).label("page_rank")
        query = await listed(which)
        ranked = query.where(parent.in_(parents), *paged).add_columns(rank).subquery()
        of_parent: dict[Any, list[Any]] = {p: [] for p in parents}
        async with open_session() as session:
            rows = await session.execute(
                select(ranked)
                .where(ranked.c.page_rank <= limit)
                .order_by(ranked.c[parent.name], ranked.c.page_rank)
            )
            for row in rows:
                of_parent[getattr(row, parent.name)].append(row)
        found.update({(p, page, which): Fetched(*page.take(of_parent[p])) for p in parents})
    return [found[key] for key in keys]


async def count_many(
    open_session: Callable[[], AbstractAsyncContextManager[AsyncSession]],
    keys: Sequence[tuple[Any, Any]],
    listed: Callable[[Any], Awaitable[Select[Any]]],
    parent: Any,
) -> list[int]:
    """A DataLoader's batch of `totalCount`s of a list nested in a list: each key is
    `(parent, filter)`; one statement per filter asked."""
    found: dict[tuple[Any, Any], int] = {}
    for (which,), parents in grouped(keys).items():
        query = (await listed(which)).where(parent.in_(parents)).subquery()
        async with open_session() as session:
            rows = await session.execute(
                select(query.c[parent.name], func.count()).group_by(query.c[parent.name])
            )
            counts = {key: int(n) for key, n in rows}
        found.update({(p, which): counts.get(p, 0) for p in parents})
    return [found[key] for key in keys]


def grouped(keys: Sequence[tuple[Any, ...]]) -> dict[tuple[Any, ...], list[Any]]:
    """A nested list's DataLoader keys `(parent, *what)` grouped by what is asked: the
    parents asking each, in order and once each."""
    found: dict[tuple[Any, ...], list[Any]] = {}
    for parent, *what in keys:
        parents = found.setdefault(tuple(what), [])
        if parent not in parents:
            parents.append(parent)
    return found
