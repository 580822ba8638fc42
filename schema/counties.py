"""GraphQL types of a county tenant and of onboarding one."""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry.types import Info

from authz.principal import COUNTY_ROOT
from redscarf.errors import Forbidden
from schema.context import Context
from schema.operations import TenantStatus
from schema.org import UnitKind, UnitKindCount
from schema.user_errors import UserError


@strawberry.type(description="县（区）少工委：平台上的一个租户。")
class County:
    code: str = strawberry.field(description="县级行政区划代码（GB/T 2260，6 位），如 469034。")
    name: str = strawberry.field(description="名称，如 陵水黎族自治县。")
    province_code: str = strawberry.field(description="所属省级行政区划代码（2 位），如 46。")
    prefecture_code: str | None = strawberry.field(
        description="所属地市代码（4 位）；未登记地市层级时为空。"
    )

    @strawberry.field(description="各层级的单位数（每个层级一项，没有的为 0）。")
    async def unit_counts(self, info: Info[Context, None]) -> list[UnitKindCount]:
        county = await info.context.county(self.code)
        if not await info.context.may("unit", "read", COUNTY_ROOT, county=county):
            raise Forbidden()
        stats = await info.context.county_stats.load(self.code)
        return [UnitKindCount(kind=k, count=stats.units_by_kind.get(k.value, 0)) for k in UnitKind]

    @strawberry.field(
        description="全县在册队员人数（含预备队员，不含已离队、已入团、已转出）；无权查看全县统计时为空。"
    )
    async def pupil_count(self, info: Info[Context, None]) -> int | None:
        county = await info.context.county(self.code)
        if not await info.context.may("statistics", "read", COUNTY_ROOT, county=county):
            return None
        return (await info.context.county_stats.load(self.code)).pupils

    @strawberry.field(description="全县辅导员人数；无权查看全县统计时为空。")
    async def counselor_count(self, info: Info[Context, None]) -> int | None:
        county = await info.context.county(self.code)
        if not await info.context.may("statistics", "read", COUNTY_ROOT, county=county):
            return None
        return (await info.context.county_stats.load(self.code)).counselors

    @strawberry.field(
        description=(
            "允许跨域调用本接口的网页来源（本县自己的前端，按字母序；CORS）；"
            "县级管理员用 setAllowedOrigins 登记。无权查看时为空。"
        )
    )
    async def allowed_origins(self, info: Info[Context, None]) -> list[str] | None:
        from resolvers.origins import allowed_origins  # it imports this module

        county = await info.context.county(self.code)
        if not await info.context.may("county", "read", COUNTY_ROOT, county=county):
            return None
        return await allowed_origins(info.context, self.code)


@strawberry.input(description="开通一个县（区）租户所需的信息。")
class CreateCountyInput:
    code: str = strawberry.field(description="县级行政区划代码（6 位），如 469034。")
    name: str = strawberry.field(description="名称，如 陵水黎族自治县。")
    province_code: str = strawberry.field(description="省级代码（2 位），如 46。")
    prefecture_code: str | None = strawberry.field(
        default=None, description="地市代码（4 位，可选；须先登记该地市）。"
    )


@strawberry.type(description="开通县（区）的结果。")
class CreateCountyPayload:
    county: County | None = strawberry.field(description="开通的（或已存在的同一）县（区）。")
    created: bool = strawberry.field(description="本次是否新开通；信息相同的重复调用为 false。")
    user_errors: list[UserError] = strawberry.field(description="输入错误；为空表示成功。")


@strawberry.type(
    description="省、市所辖的一个县（区）租户：开通状态、schema 版本和规模（省、市管理员的县（区）列表）。"
)
class RegionCounty:
    code: str = strawberry.field(description="县级行政区划代码（6 位）。")
    name: str = strawberry.field(description="名称。")
    prefecture_code: str | None = strawberry.field(description="所属地市代码（4 位）；没有时为空。")
    status: TenantStatus = strawberry.field(description="开通状态：开通中、已开通、已归档。")
    schema_version: str | None = strawberry.field(
        description="该县数据库结构所在的迁移版本；开通未完成时为空。"
    )
    behind: bool = strawberry.field(
        description="数据库结构不是本版本的最新：平台运维需运行 `redscarf db upgrade`。"
    )
    created_at: dt.datetime = strawberry.field(description="开通时间。")
    pupils: int | None = strawberry.field(
        description="在册队员人数，取自最近一次县级汇总（见 summaryComputedAt）；尚无汇总时为空。"
    )
    summary_computed_at: dt.datetime | None = strawberry.field(
        description="最近一次县级汇总的计算时间；尚无汇总时为空。"
    )
