"""A background job as a frontend follows it: what it is doing and how far it got."""

from __future__ import annotations

import datetime as dt
import enum

import strawberry


@strawberry.enum(description="后台任务的进展。")
class JobState(enum.Enum):
    PENDING = strawberry.enum_value("pending", description="已登记，等待提交")
    QUEUED = strawberry.enum_value("queued", description="排队中（失败后等待重试的也在此）")
    RUNNING = strawberry.enum_value("running", description="进行中")
    DONE = strawberry.enum_value("done", description="已完成")
    FAILED = strawberry.enum_value("failed", description="已失败（重试后仍失败）")


@strawberry.type(description="一个后台任务（如取消活动后的退还积分、名册导入、档案导出）。")
class Job:
    id: strawberry.ID = strawberry.field(description="任务 ID（与日志中的 job_id 相同）。")
    kind: str = strawberry.field(description="任务种类（英文，如 `refund_activity`）。")
    state: JobState = strawberry.field(description="进展。")
    progress: int = strawberry.field(description="当前步骤已处理的数量。")
    total: int | None = strawberry.field(description="当前步骤的总数（未知时为空）。")
    phase: str | None = strawberry.field(description="当前步骤（中文，如「校验」）。")
    attempts: int = strawberry.field(description="已尝试的次数（失败后会自动重试）。")
    created_at: dt.datetime = strawberry.field(description="登记时间。")
    started_at: dt.datetime | None = strawberry.field(description="开始时间。")
    finished_at: dt.datetime | None = strawberry.field(description="结束时间。")

    @property
    def ended(self) -> bool:
        return self.state in (JobState.DONE, JobState.FAILED)
