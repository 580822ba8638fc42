"""The Relay `Node` interface: every object that can be fetched again by its global ID."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import strawberry


@strawberry.interface(description="可凭全局 ID 通过 `node(id:)` 再次取回的对象。")
class Node:
    id: strawberry.ID = strawberry.field(
        description="全局唯一 ID（不透明字符串，请勿解析），可传给 `node(id:)`。"
    )


@strawberry.type(description="分页信息（Relay 游标分页）。")
class PageInfo:
    has_next_page: bool = strawberry.field(description="之后是否还有数据。")
    has_previous_page: bool = strawberry.field(
        description="之前是否还有数据（只向后翻页时，传了 after 即为 true）。"
    )
    start_cursor: str | None = strawberry.field(description="本页第一条的游标。")
    end_cursor: str | None = strawberry.field(
        description="本页最后一条的游标，传给 after 取下一页。"
    )


@strawberry.type
class Counted:
    """A connection whose `totalCount` is counted only when a client selects it."""

    count_all: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="符合条件的总数（不只本页；只在选择此字段时计数）。")
    async def total_count(self) -> int:
        return await self.count_all()
