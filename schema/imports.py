"""GraphQL types of roster imports: start one from an uploaded file, then follow it."""

from __future__ import annotations

import datetime as dt
import enum
from uuid import UUID

import strawberry

from schema.node import Node
from schema.user_errors import UserError


@strawberry.enum(description="导入的名册种类。")
class RosterKind(enum.Enum):
    PUPILS = strawberry.enum_value("pupils", description="队员名册")
    UNITS = strawberry.enum_value("units", description="组织架构（乡镇、学校、中队、小队）")
    COUNSELORS = strawberry.enum_value("counselors", description="辅导员名册")
    ONE_STAR = strawberry.enum_value(
        "one_star", description="学校的一星章名单：逐人颁发一星章并发放积分，重复导入不重复发放"
    )


@strawberry.enum(description="导入的进展。")
class ImportState(enum.Enum):
    PENDING = strawberry.enum_value("pending", description="排队中")
    RUNNING = strawberry.enum_value("running", description="读取、校验或写入中")
    INVALID = strawberry.enum_value(
        "invalid", description="有错误的行，全部未导入；可下载错误报告，改正后重新上传"
    )
    DONE = strawberry.enum_value("done", description="已全部导入")
    FAILED = strawberry.enum_value(
        "failed", description="导入任务失败（已重试），全部未导入；请稍后重试或联系管理员"
    )


@strawberry.type(description="一行（或整个文件）的错误。")
class ImportRowError:
    sheet: str | None = strawberry.field(description="工作表名称；整个文件的错误为空。")
    row: int | None = strawberry.field(description="行号（与 Excel 中显示的一致）。")
    column: str | None = strawberry.field(description="出错的列（表头）。")
    code: str = strawberry.field(description="错误代码（英文，稳定）。")
    message: str = strawberry.field(description="错误说明。")


@strawberry.type(description="一次名册导入：整份文件逐行校验，有错则全部不导入并给出错误报告。")
class RosterImport(Node):
    kind: RosterKind = strawberry.field(description="名册种类。")
    state: ImportState = strawberry.field(description="进展。")
    filename: str = strawberry.field(description="上传的文件名。")
    phase: str | None = strawberry.field(description="当前步骤：读取文件、校验 或 写入。")
    progress: int = strawberry.field(description="当前步骤已处理的行数。")
    total: int | None = strawberry.field(description="当前步骤的总行数（未知时为空）。")
    rows: int | None = strawberry.field(description="文件中的数据行数（校验后）。")
    created: int | None = strawberry.field(description="新登记的数量（有错时为将会新登记的）。")
    updated: int | None = strawberry.field(description="有改动的数量。")
    unchanged: int | None = strawberry.field(description="与平台一致、未改动的数量。")
    error_count: int | None = strawberry.field(description="有错误的行数。")
    errors: list[ImportRowError] = strawberry.field(
        description="错误（最多前 200 条；错误报告中有全部）。"
    )
    notes: list[str] = strawberry.field(description="提示，如忽略了哪些工作表。")
    report_url: str | None = strawberry.field(
        description="错误报告（原表加一列错误说明）的下载地址，凭同样的登录凭证下载。"
    )
    created_at: dt.datetime = strawberry.field(description="开始时间。")
    finished_at: dt.datetime | None = strawberry.field(description="结束时间。")
    job_id: strawberry.Private[UUID | None] = None
    """The job that runs it (what its subscribers wait on)."""


@strawberry.input(description="导入一份已上传的名册（先以 POST /uploads 上传文件，得到其 ID）。")
class ImportRosterInput:
    upload_id: strawberry.ID = strawberry.field(description="POST /uploads 返回的文件 ID。")
    kind: RosterKind = strawberry.field(description="名册种类。")


@strawberry.type(description="开始导入的结果；导入在后台进行，用 rosterImport 查询进展。")
class ImportRosterPayload:
    roster_import: RosterImport | None = strawberry.field(description="这次导入。")
    user_errors: list[UserError] = strawberry.field(description="输入错误；为空表示已开始。")
