"""GraphQL types of points (积分) and the growth archive (成长档案)."""

from __future__ import annotations

import datetime as dt
import enum
from uuid import UUID

import strawberry

from schema.node import PageInfo
from schema.user_errors import UserError


@strawberry.enum(description="积分变动的类别。")
class PointsEntryKind(enum.Enum):
    AWARD = strawberry.enum_value("award", description="获得奖章（含一星章名单）的积分")
    TASK = strawberry.enum_value("task", description="征集任务的奖励")
    REWARD = strawberry.enum_value("reward", description="参加活动的奖励")
    HOLD = strawberry.enum_value("hold", description="活动报名的花费（结算）")
    SPEND = strawberry.enum_value("spend", description="兑换物品")
    EXPIRY = strawberry.enum_value("expiry", description="过期作废")
    REVERSAL = strawberry.enum_value("reversal", description="冲正（撤销奖章、退款等）")
    OTHER = strawberry.enum_value("other", description="其他")

    @classmethod
    def of(cls, kind: str) -> PointsEntryKind:
        """The kind of a ledger transaction (a kind this API does not name is OTHER)."""
        return cls._value2member_map_.get(kind, cls.OTHER)  # type: ignore[return-value]


@strawberry.type(description="队员的积分。")
class PointsBalance:
    balance: int = strawberry.field(description="余额。")
    held: int = strawberry.field(description="已预留（如已报名、尚未结算的活动）。")
    available: int = strawberry.field(description="可用：余额减去预留。")


@strawberry.type(description="一笔积分变动。")
class PointsEntry:
    amount: int = strawberry.field(description="变动：正数为获得，负数为使用。")
    kind: PointsEntryKind = strawberry.field(description="类别。")
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


@strawberry.enum(description="成长档案中一条记录的类别。")
class ArchiveKind(enum.Enum):
    STATUS = strawberry.enum_value("status", description="入队、离队、入团、转学")
    BADGE = strawberry.enum_value("badge", description="获得奖章")
    REVOKED = strawberry.enum_value("revoked", description="奖章被撤销")
    TASK = strawberry.enum_value("task", description="征集：完成网课、作品或问卷通过审核")
    POINTS = strawberry.enum_value("points", description="积分兑换、活动等")


@strawberry.type(description="成长档案中的一条记录。")
class ArchiveEntry:
    on: dt.date = strawberry.field(description="日期。")
    kind: ArchiveKind = strawberry.field(description="类别。")
    title: str = strawberry.field(description="事项，如 获得一星章。")
    detail: str | None = strawberry.field(description="说明：入队批次、事迹、兑换物品等。")
    points: int | None = strawberry.field(description="相应的积分变动。")


@strawberry.type(description="一个单位所有队员的成长档案，由后台任务导出为一个文件。")
class ArchiveExport:
    id: strawberry.ID = strawberry.field(description="导出的全局 ID。")
    done: bool = strawberry.field(description="是否已完成。")
    failed: bool = strawberry.field(description="后台任务是否失败（已重试）。")
    pupils: int | None = strawberry.field(description="导出的队员人数。")
    download_url: str | None = strawberry.field(
        description="下载地址（zip：可打印的 HTML 与 JSON），凭同样的登录凭证下载，保留数日。"
    )
    created_at: dt.datetime = strawberry.field(description="开始时间。")
    job_id: strawberry.Private[UUID | None] = None
    """The job that makes it (what its subscribers wait on)."""


@strawberry.input(description="导出一个中队或学校（或乡镇、全县）所有队员的成长档案。")
class ExportArchivesInput:
    unit_id: strawberry.ID = strawberry.field(description="单位的全局 ID。")


@strawberry.type(description="导出成长档案的结果；导出在后台进行，用 archiveExport 查询。")
class ExportArchivesPayload:
    archive_export: ArchiveExport | None = strawberry.field(description="这次导出。")
    user_errors: list[UserError] = strawberry.field(description="输入错误；为空表示已开始。")
