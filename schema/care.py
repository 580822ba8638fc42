"""GraphQL types of care (关爱): a pupil in hardship with carers, aid and a visit log, readable
by the child's carers and the county admin only; and volunteer projects, claimed rather than
assigned (需求—发布—认领—承办—总结)."""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from schema.context import Context
from schema.node import Counted, Node, PageInfo
from schema.org import Unit
from schema.user_errors import UserError

if TYPE_CHECKING:
    from schema.pupils import Pupil


@strawberry.enum(description="关爱的类别。")
class CareKind(enum.Enum):
    HOPE_ROOM = strawberry.enum_value("hope_room", description="希望小屋")
    AID = strawberry.enum_value("aid", description="资助")
    OTHER = strawberry.enum_value("other", description="其他")


@strawberry.enum(description="志愿服务项目的阶段：需求—发布—认领—承办—总结。")
class VolunteerProjectState(enum.Enum):
    NEED = strawberry.enum_value("need", description="需求（提出单位和发布者可见）")
    PUBLISHED = strawberry.enum_value("published", description="已发布，等待认领")
    CLAIMED = strawberry.enum_value("claimed", description="已认领")
    CARRIED_OUT = strawberry.enum_value("carried_out", description="已承办")
    REVIEWED = strawberry.enum_value("reviewed", description="已总结")


@strawberry.type(description="关爱一名孩子的人（一对一的志愿者、辅导员）。")
class Carer:
    id: strawberry.ID = strawberry.field(description="ID（结束关爱时使用）。")
    name: str = strawberry.field(description="姓名。")
    since: dt.datetime = strawberry.field(description="开始时间。")
    until: dt.datetime | None = strawberry.field(description="结束时间；仍在关爱为空。")


@strawberry.type(description="一笔资助。")
class CareAid:
    id: strawberry.ID = strawberry.field(description="ID。")
    on_date: dt.date = strawberry.field(description="资助日期。")
    amount: str = strawberry.field(description='金额（元，两位小数，如 "500.00"）。')
    source: str = strawberry.field(description="资助来源（基金、企业、个人）。")
    note: str | None = strawberry.field(description="说明。")


@strawberry.type(description="走访记录的一行（一户一册一人）。")
class CareVisit:
    id: strawberry.ID = strawberry.field(description="ID。")
    visited_on: dt.date = strawberry.field(description="走访日期。")
    volunteer: str = strawberry.field(description="走访人。")
    what: str = strawberry.field(description="服务内容。")
    needs: str | None = strawberry.field(description="孩子下一步的需要（诉求）。")
    created_at: dt.datetime = strawberry.field(description="登记时间。")


@strawberry.type(
    description="一名困境儿童的关爱记录（希望小屋、资助）：只有关爱这名孩子的人和县（区）管理员"
    "可以看到；读取情况说明和走访记录会记入审计日志。"
)
class CareRecord(Node):
    row_id: strawberry.Private[int]
    pupil_id: strawberry.Private[int]
    county: strawberry.Private[str]
    note_text: strawberry.Private[str | None]
    kind: CareKind = strawberry.field(description="类别。")
    pupil_name: str = strawberry.field(description="孩子的姓名。")
    grade: int = strawberry.field(description="孩子的年级。")
    school: str | None = strawberry.field(description="孩子的学校。")
    started_on: dt.date = strawberry.field(description="开始关爱的日期。")
    ended_on: dt.date | None = strawberry.field(description="结束的日期；仍在关爱为空。")
    aid_total: str = strawberry.field(description="资助合计（元）。")

    @strawberry.field(description="孩子的情况（读取记入审计日志）。")
    async def note(self, info: Info[Context, None]) -> str | None:
        from resolvers.care import record_note

        return await record_note(info.context, self)

    @strawberry.field(description="孩子在花名册中的记录（调用者有权查看该队员时）。")
    async def pupil(
        self, info: Info[Context, None]
    ) -> Annotated[Pupil, strawberry.lazy("schema.pupils")] | None:
        from resolvers.pupils import visible_pupil

        return await visible_pupil(info.context, self.pupil_id)

    @strawberry.field(description="关爱这名孩子的人，最早的在前（含已结束的）。")
    async def carers(self, info: Info[Context, None]) -> list[Carer]:
        from resolvers.care import carers_of

        return await carers_of(info.context, self)

    @strawberry.field(description="资助，最早的在前。")
    async def aid(self, info: Info[Context, None]) -> list[CareAid]:
        from resolvers.care import aid_of

        return await aid_of(info.context, self)

    @strawberry.field(description="走访记录，最近的在前（读取记入审计日志）。")
    async def visits(self, info: Info[Context, None]) -> list[CareVisit]:
        from resolvers.care import visits_of

        return await visits_of(info.context, self)


@strawberry.type(description="关爱记录列表中的一项。")
class CareRecordEdge:
    cursor: str = strawberry.field(description="本项的游标。")
    node: CareRecord = strawberry.field(description="关爱记录。")


@strawberry.type(description="关爱记录的分页列表：调用者关爱的孩子，或县（区）管理员看到全部。")
class CareRecordConnection(Counted):
    edges: list[CareRecordEdge] = strawberry.field(description="本页各项。")
    page_info: PageInfo = strawberry.field(description="分页信息。")


@strawberry.type(description="关爱记录变更的结果。")
class CareRecordPayload:
    record: CareRecord | None = strawberry.field(description="变更后的关爱记录。")
    user_errors: list[UserError] = strawberry.field(description="输入错误；为空表示成功。")


@strawberry.input(description="把一名困境儿童纳入关爱。")
class OpenCareInput:
    pupil_id: strawberry.ID = strawberry.field(description="队员的全局 ID。")
    kind: CareKind = strawberry.field(description="类别。")
    note: str | None = strawberry.field(default=None, description="孩子的情况（至多 2000 字）。")
    started_on: dt.date | None = strawberry.field(default=None, description="开始日期，默认今天。")


@strawberry.input(description="结束对一名孩子的关爱（关爱人的查看权限随之结束）。")
class CloseCareInput:
    record_id: strawberry.ID = strawberry.field(description="关爱记录的全局 ID。")
    ended_on: dt.date | None = strawberry.field(default=None, description="结束日期，默认今天。")


@strawberry.input(description="指定关爱人：本县（区）持有工作角色的账号（如校外辅导员、志愿者）。")
class AssignCarerInput:
    record_id: strawberry.ID = strawberry.field(description="关爱记录的全局 ID。")
    assignment_id: strawberry.ID = strawberry.field(
        description="关爱人的角色授权 ID（roleAssignments 中）。"
    )


@strawberry.input(description="结束一位关爱人的关爱（其查看权限随之结束）。")
class EndCarerInput:
    record_id: strawberry.ID = strawberry.field(description="关爱记录的全局 ID。")
    carer_id: strawberry.ID = strawberry.field(description="关爱人的 ID（carers 中）。")


@strawberry.input(description="登记一笔资助。")
class RecordCareAidInput:
    record_id: strawberry.ID = strawberry.field(description="关爱记录的全局 ID。")
    on_date: dt.date = strawberry.field(description="资助日期（不晚于今天）。")
    amount: str = strawberry.field(description='金额（元），如 "500" 或 "500.50"。')
    source: str = strawberry.field(description="资助来源。")
    note: str | None = strawberry.field(default=None, description="说明。")


@strawberry.input(description="登记一次走访。")
class RecordCareVisitInput:
    record_id: strawberry.ID = strawberry.field(description="关爱记录的全局 ID。")
    visited_on: dt.date = strawberry.field(description="走访日期（不晚于今天）。")
    volunteer: str = strawberry.field(description="走访人。")
    what: str = strawberry.field(description="服务内容。")
    needs: str | None = strawberry.field(default=None, description="孩子下一步的需要。")


@strawberry.type(description="一个志愿服务项目：需求—发布—认领—承办—总结。")
class VolunteerProject(Node):
    row_id: strawberry.Private[int]
    unit_id: strawberry.Private[int]
    county: strawberry.Private[str]
    title: str = strawberry.field(description="项目名称。")
    need: str = strawberry.field(description="需求。")
    state: VolunteerProjectState = strawberry.field(description="阶段。")
    claimed_by: str | None = strawberry.field(description="认领的志愿服务队伍。")
    claimed_at: dt.datetime | None = strawberry.field(description="认领时间。")
    summary: str | None = strawberry.field(description="承办情况。")
    carried_out_at: dt.datetime | None = strawberry.field(description="承办完成时间。")
    review: str | None = strawberry.field(description="总结评价。")
    reviewed_at: dt.datetime | None = strawberry.field(description="总结时间。")
    created_at: dt.datetime = strawberry.field(description="提出时间。")

    @strawberry.field(description="提出需求的单位。")
    async def unit(self, info: Info[Context, None]) -> Unit | None:
        record = await info.context.org.unit.load(self.unit_id)
        return Unit.from_record(record, self.county) if record else None


@strawberry.type(description="志愿服务项目列表中的一项。")
class VolunteerProjectEdge:
    cursor: str = strawberry.field(description="本项的游标。")
    node: VolunteerProject = strawberry.field(description="项目。")


@strawberry.type(description="志愿服务项目的分页列表，最新的在前。")
class VolunteerProjectConnection(Counted):
    edges: list[VolunteerProjectEdge] = strawberry.field(description="本页各项。")
    page_info: PageInfo = strawberry.field(description="分页信息。")


@strawberry.type(description="志愿服务项目变更的结果。")
class VolunteerProjectPayload:
    project: VolunteerProject | None = strawberry.field(description="变更后的项目。")
    user_errors: list[UserError] = strawberry.field(description="输入错误；为空表示成功。")


@strawberry.input(description="提出一项志愿服务需求（学校、乡镇或县）。")
class RaiseVolunteerNeedInput:
    unit_id: strawberry.ID = strawberry.field(description="提出需求的单位的全局 ID。")
    title: str = strawberry.field(description="项目名称。")
    need: str = strawberry.field(description="需求（服务对象、人数、时间等）。")


@strawberry.input(description="志愿服务项目的下一步：发布。")
class VolunteerProjectInput:
    id: strawberry.ID = strawberry.field(description="项目的全局 ID。")


@strawberry.input(description="以一支志愿服务队伍的名义认领项目（每个项目只能认领一次）。")
class ClaimVolunteerProjectInput:
    id: strawberry.ID = strawberry.field(description="项目的全局 ID。")
    team: str = strawberry.field(description="认领的队伍，如“县一中青年志愿者服务队”。")


@strawberry.input(description="报告项目已承办，或写下总结评价。")
class VolunteerProjectTextInput:
    id: strawberry.ID = strawberry.field(description="项目的全局 ID。")
    text: str = strawberry.field(description="承办情况或总结评价（至多 2000 字）。")
