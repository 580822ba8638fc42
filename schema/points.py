"""GraphQL types of points (积分): a pupil's balance and history."""

from __future__ import annotations

import datetime as dt

import strawberry

from schema.node import PageInfo


@strawberry.type(description="队员的积分。")
class PointsBalance:
    balance: int = strawberry.field(description="余额。")
    held: int = strawberry.field(description="已预留（如已报名、尚未结算的活动）。")
    available: int = strawberry.field(description="可用：余额减去预留。")


@strawberry.type(description="一笔积分变动。")
class PointsEntry:
    amount: int = strawberry.field(description="变动：正数为获得，负数为使用。")
    kind: str = strawberry.field(
        description="类别：award（奖章等奖励）、spend（兑换）、hold（活动结算）、reversal（冲正）等。"
    )
    memo: str | None = strawberry.field(description="说明。")
    at: dt.datetime = strawberry.field(description="时间。")
    balance_after: int = strawberry.field(description="这笔之后的余额。")


@strawberry.type(description="积分明细中的一项。")
class PointsEntryEdge:
    cursor: str = strawberry.field(description="本项的游标。")
    node: PointsEntry = strawberry.field(description="积分变动。")


@strawberry.type(description="积分明细（最新的在前），Relay 游标分页。")
class PointsEntryConnection:
    edges: list[PointsEntryEdge] = strawberry.field(description="本页各项。")
    page_info: PageInfo = strawberry.field(description="分页信息。")
