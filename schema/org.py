"""GraphQL types of the organisation: units from the county down to teams."""

from __future__ import annotations

import datetime as dt
import enum

import strawberry
from strawberry.types import Info

from resolvers.org import UnitRecord
from schema.badges import BadgeAward
from schema.context import Context
from schema.ids import encode_global_id
from schema.node import Counted, Node, PageInfo
from schema.user_errors import UserError


@strawberry.enum(description="组织单位的层级。")
class UnitKind(enum.Enum):
    COUNTY = strawberry.enum_value("county", description="县（区）少工委")
    TOWNSHIP = strawberry.enum_value("township", description="乡镇（街道）少工委")
    COMMUNITY = strawberry.enum_value("community", description="社区少工委")
    BRIGADE = strawberry.enum_value("brigade", description="学校少先队大队")
    SQUADRON = strawberry.enum_value("squadron", description="中队（一个班）")
    TEAM = strawberry.enum_value("team", description="小队")


@strawberry.enum(description="城乡属性。")
class Area(enum.Enum):
    URBAN = strawberry.enum_value("urban", description="城区")
    RURAL = strawberry.enum_value("rural", description="农村")


@strawberry.enum(description="学校类别（仅大队）。")
class SchoolKind(enum.Enum):
    ORDINARY = strawberry.enum_value("ordinary", description="普通学校")
    MIGRANT = strawberry.enum_value("migrant", description="新居民子女学校")
    DEMONSTRATION = strawberry.enum_value("demonstration", description="红领巾示范校")


@strawberry.type(description="某一层级的单位数。")
class UnitKindCount:
    kind: UnitKind = strawberry.field(description="层级。")
    count: int = strawberry.field(description="该层级的单位数（不含已撤销的）。")


@strawberry.type(description="组织单位：县（区）、乡镇（街道）/社区、学校大队、中队、小队。")
class Unit(Node):
    row_id: strawberry.Private[int]
    parent_id: strawberry.Private[int | None]
    county: strawberry.Private[str]
    name: str = strawberry.field(description="名称。")
    kind: UnitKind = strawberry.field(description="层级。")
    area: Area | None = strawberry.field(description="城乡属性（未填写时为空）。")
    school_kind: SchoolKind | None = strawberry.field(description="学校类别，仅大队有。")
    grade: int | None = strawberry.field(description="年级（1–9），仅中队有。")
    path: str = strawberry.field(
        description="物化路径（PostgreSQL ltree），如 `c.t12.b345`；某单位之下的所有单位路径都以它为前缀。"
    )
    archived_at: dt.datetime | None = strawberry.field(
        description="撤销（归档）时间；已撤销的单位不出现在列表和统计中。"
    )

    @classmethod
    def from_record(cls, r: UnitRecord, county: str) -> Unit:
        return cls(
            id=strawberry.ID(encode_global_id("Unit", county, r.id)),
            row_id=r.id,
            parent_id=r.parent_id,
            county=county,
            name=r.name,
            kind=UnitKind(r.kind),
            area=Area(r.area) if r.area else None,
            school_kind=SchoolKind(r.school_kind) if r.school_kind else None,
            grade=r.grade,
            path=r.path,
            archived_at=r.archived_at,
        )

    @strawberry.field(description="上级单位；县（区）本身没有上级。")
    async def parent(self, info: Info[Context, None]) -> Unit | None:
        if self.parent_id is None:
            return None
        record = await info.context.org.unit.load(self.parent_id)
        return Unit.from_record(record, self.county) if record else None

    @strawberry.field(description="直接下级单位（不含已撤销的），按路径排序。")
    async def children(self, info: Info[Context, None]) -> list[Unit]:
        return [
            Unit.from_record(r, self.county)
            for r in await info.context.org.children.load(self.row_id)
        ]

    @strawberry.field(
        description="本单位及其所有下级单位中的在册队员人数（含预备队员，不含已离队、已入团、已转出）；"
        "无权查看该单位统计时为空。"
    )
    async def pupil_count(self, info: Info[Context, None]) -> int | None:
        if not await info.context.may("statistics", "read", self.path):
            return None
        return await info.context.org.pupil_count.load(self.row_id)

    @strawberry.field(
        description="本单位及其所有下级单位中的辅导员人数；无权查看该单位统计时为空。"
    )
    async def counselor_count(self, info: Info[Context, None]) -> int | None:
        if not await info.context.may("statistics", "read", self.path):
            return None
        return await info.context.org.counselor_count.load(self.row_id)

    @strawberry.field(
        description="集体奖章：本单位获得的，大队还包括其各中队获得的（计入大队），最新的在前。"
    )
    async def badges(self, info: Info[Context, None]) -> list[BadgeAward]:
        return await info.context.unit_badges.load(self.row_id)

    @strawberry.field(description="本单位之下（不含本身）各层级的单位数，每个层级一项。")
    async def unit_counts(self, info: Info[Context, None]) -> list[UnitKindCount]:
        counts = await info.context.org.unit_counts.load(self.row_id)
        return [UnitKindCount(kind=k, count=counts.get(k.value, 0)) for k in UnitKind]


@strawberry.type(description="单位列表中的一项。")
class UnitEdge:
    cursor: str = strawberry.field(description="本项的游标。")
    node: Unit = strawberry.field(description="单位。")


@strawberry.type(description="单位的分页列表（Relay 连接）。")
class UnitConnection(Counted):
    edges: list[UnitEdge] = strawberry.field(description="本页各项。")
    page_info: PageInfo = strawberry.field(description="分页信息。")


@strawberry.input(description="在某单位之下新设一个单位。")
class CreateUnitInput:
    parent_id: strawberry.ID = strawberry.field(description="上级单位（全局 ID）。")
    kind: UnitKind = strawberry.field(description="层级：乡镇（街道）、社区、大队、中队或小队。")
    name: str = strawberry.field(description="名称，如“城关第一小学”“三（2）中队”。")
    area: Area | None = strawberry.field(default=None, description="城乡属性；不填则随上级。")
    school_kind: SchoolKind | None = strawberry.field(
        default=None, description="学校类别（仅大队）。"
    )
    grade: int | None = strawberry.field(default=None, description="年级 1–9（仅中队，必填）。")


@strawberry.input(description="修改单位的名称、城乡属性、学校类别或年级（只改填了的）。")
class UpdateUnitInput:
    id: strawberry.ID = strawberry.field(description="单位的全局 ID。")
    name: str | None = strawberry.field(default=None, description="名称。")
    area: Area | None = strawberry.field(default=None, description="城乡属性。")
    school_kind: SchoolKind | None = strawberry.field(default=None, description="学校类别。")
    grade: int | None = strawberry.field(default=None, description="年级（仅中队）。")


@strawberry.input(description="把单位连同其下所有单位移到另一个上级之下（路径随之改变）。")
class MoveUnitInput:
    id: strawberry.ID = strawberry.field(description="要移动的单位。")
    parent_id: strawberry.ID = strawberry.field(description="新的上级单位。")


@strawberry.input(description="撤销（归档）一个单位及其所有下级；其中须已没有在册队员。")
class ArchiveUnitInput:
    id: strawberry.ID = strawberry.field(description="单位的全局 ID。")


@strawberry.type(description="单位变更的结果。")
class UnitPayload:
    unit: Unit | None = strawberry.field(description="变更后的单位。")
    user_errors: list[UserError] = strawberry.field(description="输入错误；为空表示成功。")
