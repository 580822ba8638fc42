"""GraphQL types of counselors (辅导员) and their appointments."""

from __future__ import annotations

import datetime as dt
import enum

import strawberry
from strawberry.types import Info

from schema.context import Context
from schema.node import Counted, PageInfo
from schema.org import Unit
from schema.user_errors import UserError


@strawberry.enum(description="辅导员类别。")
class CounselorKind(enum.Enum):
    BRIGADE = strawberry.enum_value("brigade", description="大队辅导员")
    SQUADRON = strawberry.enum_value("squadron", description="中队辅导员")
    TEAM = strawberry.enum_value("team", description="小队辅导员")
    EXTERNAL = strawberry.enum_value("external", description="校外辅导员")


@strawberry.type(description="一次任命：在哪个单位、任什么辅导员、从何时到何时。")
class Appointment:
    unit_id: strawberry.Private[int]
    county: strawberry.Private[str]
    kind: CounselorKind = strawberry.field(description="类别。")
    started_on: dt.date = strawberry.field(description="起始日期。")
    ended_on: dt.date | None = strawberry.field(description="结束日期；仍在任为空。")

    @strawberry.field(description="任职单位。")
    async def unit(self, info: Info[Context, None]) -> Unit | None:
        found = await info.context.org.unit.load(self.unit_id)
        return Unit.from_record(found, self.county) if found else None


@strawberry.type(description="辅导员。")
class Counselor:
    id: strawberry.ID = strawberry.field(description="ID。")
    name: str = strawberry.field(description="姓名。")
    kind: CounselorKind = strawberry.field(description="现任类别。")
    ended_on: dt.date | None = strawberry.field(description="离任日期；仍在任为空。")
    appointments: list[Appointment] = strawberry.field(description="任职经历，最早的在前。")


@strawberry.type(description="辅导员列表中的一项。")
class CounselorEdge:
    cursor: str = strawberry.field(description="本项的游标。")
    node: Counselor = strawberry.field(description="辅导员。")


@strawberry.type(description="辅导员的分页列表（在任的）。")
class CounselorConnection(Counted):
    edges: list[CounselorEdge] = strawberry.field(description="本页各项。")
    page_info: PageInfo = strawberry.field(description="分页信息。")


@strawberry.input(description="任命一位辅导员（新登记）。")
class AppointCounselorInput:
    unit_id: strawberry.ID = strawberry.field(description="任职单位。")
    name: str = strawberry.field(description="姓名。")
    kind: CounselorKind = strawberry.field(
        description="类别；大队、中队、小队辅导员须任于相应层级。"
    )
    started_on: dt.date = strawberry.field(description="任命日期。")


@strawberry.input(description="调任：结束现任，在新单位开始新的任命。")
class ReassignCounselorInput:
    id: strawberry.ID = strawberry.field(description="辅导员 ID。")
    unit_id: strawberry.ID = strawberry.field(description="新任职单位。")
    kind: CounselorKind = strawberry.field(description="新类别。")
    on: dt.date = strawberry.field(description="调任日期。")


@strawberry.input(description="离任：结束现任，不再担任辅导员。")
class EndCounselorInput:
    id: strawberry.ID = strawberry.field(description="辅导员 ID。")
    on: dt.date = strawberry.field(description="离任日期。")


@strawberry.type(description="辅导员变更的结果。")
class CounselorPayload:
    counselor: Counselor | None = strawberry.field(description="变更后的辅导员。")
    user_errors: list[UserError] = strawberry.field(description="输入错误；为空表示成功。")
