"""GraphQL types of pupils (队员): the roster a counselor pages through."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated

import strawberry
from strawberry.types import Info

from resolvers.people import PupilRecord
from schema.context import Context
from schema.ids import encode_global_id
from schema.node import Node, PageInfo
from schema.org import Unit


@strawberry.enum(description="队员状态。")
class PupilStatus(enum.Enum):
    PRE_MEMBER = strawberry.enum_value("pre_member", description="预备队员（尚未入队）")
    MEMBER = strawberry.enum_value("member", description="少先队员")
    LEFT = strawberry.enum_value("left", description="已离队")
    JOINED_LEAGUE = strawberry.enum_value("joined_league", description="已离队入团")
    TRANSFERRED = strawberry.enum_value("transferred", description="已转出")


@strawberry.enum(description="性别。")
class Gender(enum.Enum):
    MALE = strawberry.enum_value("male", description="男")
    FEMALE = strawberry.enum_value("female", description="女")


def mask_date(value: dt.date) -> str:
    """Year only: enough for age groups, not enough to identify a child."""
    return f"{value.year:04d}-**-**"


@strawberry.type(description="少先队员（或预备队员）。个人信息默认脱敏显示。")
class Pupil(Node):
    row_id: strawberry.Private[int]
    county: strawberry.Private[str]
    record: strawberry.Private[PupilRecord]
    name: str = strawberry.field(description="姓名。")
    gender: Gender = strawberry.field(description="性别。")
    grade: int = strawberry.field(description="年级（1–9）。")
    status: PupilStatus = strawberry.field(description="状态。")
    joined_on: dt.date | None = strawberry.field(description="入队日期。")

    @classmethod
    def from_record(cls, r: PupilRecord, county: str) -> Pupil:
        return cls(
            id=strawberry.ID(encode_global_id("Pupil", county, r.id)),
            row_id=r.id,
            county=county,
            record=r,
            name=r.name,
            gender=Gender(r.gender),
            grade=r.grade,
            status=PupilStatus(r.status),
            joined_on=r.joined_on,
        )

    @strawberry.field(description="所在中队。")
    async def squadron(self, info: Info[Context, None]) -> Unit | None:
        record = await info.context.org.unit.load(self.record.squadron_id)
        return Unit.from_record(record, self.county) if record else None

    @strawberry.field(
        description="出生日期。默认只显示年份（如 `2015-**-**`）；`reveal: true` 显示完整日期，"
        "需要查看个人信息的权限，且会记入审计日志。"
    )
    async def birth_date(
        self,
        info: Info[Context, None],
        reveal: Annotated[
            bool, strawberry.argument(description="显示完整日期（记入审计日志）。")
        ] = False,
    ) -> str | None:
        value = self.record.birth_date
        if value is None:
            return None
        if not reveal:
            return mask_date(value)
        rels = "bound" if self.record.bound else ""
        await info.context.require("pupil.personal", "read", self.record.path, rels)
        await info.context.reveals.load(("Pupil", self.row_id, "birthDate"))
        return value.isoformat()


@strawberry.type(description="队员列表中的一项。")
class PupilEdge:
    cursor: str = strawberry.field(description="本项的游标。")
    node: Pupil = strawberry.field(description="队员。")


@strawberry.type(description="队员的分页列表（Relay 连接），只含调用者有权看到的队员。")
class PupilConnection:
    edges: list[PupilEdge] = strawberry.field(description="本页各项。")
    page_info: PageInfo = strawberry.field(description="分页信息。")
