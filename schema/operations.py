"""GraphQL types of the platform operator's view: counties, their schemas and the job queue."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated, NewType

import strawberry
from strawberry.types import Info

from schema.context import Context

BigInt = strawberry.scalar(
    NewType("BigInt", int),
    serialize=int,
    parse_value=int,
    description="超出 32 位的整数（如字节数），以 JSON 数字传输，2^53 以内精确。",
)


@strawberry.enum(description="县（区）租户的状态。")
class TenantStatus(enum.Enum):
    PROVISIONING = strawberry.enum_value(
        "provisioning", description="开通中：schema 和角色正在建立，尚不能使用"
    )
    ACTIVE = strawberry.enum_value("active", description="已开通，正常使用")
    ARCHIVED = strawberry.enum_value("archived", description="已归档：不再受理请求")


@strawberry.type(description="后台任务按状态的计数，以及队列积压了多久。")
class JobCounts:
    pending: int = strawberry.field(description="已记录、尚未发送到队列的任务数。")
    queued: int = strawberry.field(description="在队列中等待执行（含等待重试）的任务数。")
    running: int = strawberry.field(description="正在执行的任务数。")
    done: int = strawberry.field(description="已完成的任务数。")
    failed: int = strawberry.field(description="重试用尽、最终失败的任务数。")
    retried: int = strawberry.field(description="执行过不止一次的任务数（不论现在的状态）。")
    oldest_pending_at: dt.datetime | None = strawberry.field(
        description="最早一个未发送任务的记录时间；没有时为空。久未发送说明转发（relay）停了。"
    )
    oldest_queued_at: dt.datetime | None = strawberry.field(
        description="最早一个排队任务进入队列（发送或退回重试）的时间；没有时为空。久未执行说明没有 worker 在取任务。"
    )


@strawberry.type(description="一个最终失败的后台任务（不含任务参数）。")
class FailedJob:
    id: strawberry.ID = strawberry.field(description="任务 ID（与日志中的 job_id 相同）。")
    actor: str = strawberry.field(description="任务类型（actor 名），如 import_roster。")
    county_code: str | None = strawberry.field(description="任务所属县（区）代码；平台任务为空。")
    error: str | None = strawberry.field(description="最后一次的错误信息（最多 500 个字符）。")
    finished_at: dt.datetime | None = strawberry.field(description="判定失败的时间。")
    attempts: int = strawberry.field(description="执行次数。")


@strawberry.type(description="一个县（区）租户的运行情况。")
class TenantOperations:
    code: str = strawberry.field(description="县级行政区划代码（6 位）。")
    name: str = strawberry.field(description="名称。")
    province_code: str = strawberry.field(description="所属省级代码（2 位）。")
    prefecture_code: str | None = strawberry.field(description="所属地市代码（4 位）；没有时为空。")
    status: TenantStatus = strawberry.field(description="租户状态。")
    schema_version: str | None = strawberry.field(
        description="该县 schema 所在的迁移版本（Alembic revision）；尚未迁移过为空。"
    )
    behind: bool = strawberry.field(
        description="schema 版本不是最新（schemaVersion ≠ Operations.latestSchemaVersion）：需要 `redscarf db upgrade`。"
    )
    migration_error: str | None = strawberry.field(
        description="最近一次失败的迁移的错误；迁移成功后清空。"
    )
    created_at: dt.datetime = strawberry.field(description="开通时间。")
    size_bytes: BigInt | None = strawberry.field(
        description="该县 schema 中各表（含索引和 TOAST）占用的磁盘字节数；有表被锁住（如正在迁移）读不到时为空。"
    )
    pupils: int | None = strawberry.field(
        description="在册队员人数（队员和预备队员），取自最近一次的县级汇总（见 summaryComputedAt），不是实时计数；尚无汇总时为空。"
    )
    summary_computed_at: dt.datetime | None = strawberry.field(
        description="最近一次县级汇总（refresh_county_summary 任务）的计算时间；尚无汇总时为空。"
    )
    jobs: JobCounts = strawberry.field(description="该县的后台任务计数。")


@strawberry.type(
    description="平台运维视图：所有县（区）租户的规模、schema 版本，以及后台任务的排队、失败和重试情况（只有平台运维可查看）。"
)
class Operations:
    computed_at: dt.datetime = strawberry.field(description="本视图的生成时间。")
    latest_schema_version: str = strawberry.field(
        description="本版本代码中县（区）schema 的最新迁移版本（Alembic head）。"
    )
    jobs: JobCounts = strawberry.field(
        description="全部后台任务的计数：各县的，加上不属于任何县的平台任务。"
    )
    platform_jobs: JobCounts = strawberry.field(description="平台任务（不属于任何县）的计数。")

    @strawberry.field(description="所有县（区）租户，按代码排列。")
    async def tenants(self, info: Info[Context, None]) -> list[TenantOperations]:
        from resolvers.operations import tenant_operations

        return await tenant_operations(info.context, self)

    @strawberry.field(description="最近最终失败的后台任务，最新的在前（值班排查用）。")
    async def recent_failures(
        self,
        info: Info[Context, None],
        first: Annotated[int, strawberry.argument(description="条数，最多 100。")] = 10,
    ) -> list[FailedJob]:
        from resolvers.operations import recent_failures

        return await recent_failures(info.context, first)

    county_jobs: strawberry.Private[dict[str, JobCounts]]
    """Each county's job counts (from the one grouped statement), for `tenants`."""
