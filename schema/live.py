"""The root `Subscription`: live updates over WebSocket (see `resolvers/live.py`)."""

from __future__ import annotations

import strawberry

from resolvers import live
from schema.activities import Activity
from schema.exchange import Redemption
from schema.imports import RosterImport
from schema.jobs import Job
from schema.points import ArchiveExport


@strawberry.type(
    description="实时更新：经 WebSocket（graphql-transport-ws 协议）连接 /graphql 订阅。"
    "先立即返回对象当前的样子，之后每次变化（提交后）再返回一次，对象到达终点时结束。"
)
class Subscription:
    activity: Activity = strawberry.subscription(
        resolver=live.activity,
        description="一个活动的变化（剩余名额、状态）；活动结束或取消时结束。",
    )
    redemption: Redemption = strawberry.subscription(
        resolver=live.redemption,
        description="一次兑换的变化：核销（领取）或过期时返回并结束。",
    )
    roster_import: RosterImport = strawberry.subscription(
        resolver=live.roster_import,
        description="一次名册导入的进度；完成、校验有错或失败时结束。",
    )
    archive_export: ArchiveExport = strawberry.subscription(
        resolver=live.archive_export, description="一次档案导出的进度；完成或失败时结束。"
    )
    job: Job = strawberry.subscription(
        resolver=live.job, description="一个后台任务的进度；完成或失败时结束。"
    )
