"""The GraphQL schema: root Query and Mutation assembled from the domains' resolvers.

The printed SDL is checked in as `schema.graphql` (`redscarf export-schema`) and a test fails
when it drifts from this code.
"""

from __future__ import annotations

from functools import partial

import strawberry
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter
from strawberry.printer import print_schema

from resolvers import counties as county_resolvers
from resolvers import units as unit_resolvers
from schema.counties import County, CreateCountyPayload
from schema.errors import PresentErrors, RedscarfSchema
from schema.node import Node
from schema.org import Unit, UnitConnection

# units → edges → node → children → children → children → pupilCount is depth 7; leave room.
MAX_DEPTH = 12
MAX_ALIASES = 30
MAX_TOKENS = 5000


@strawberry.type(description="查询。除另有说明外，都在请求头 X-County 指明的县（区）内进行。")
class Query:
    county: County = strawberry.field(
        resolver=county_resolvers.county, description="当前县（区）及其概况。"
    )
    units: UnitConnection = strawberry.field(
        resolver=unit_resolvers.units,
        description="组织单位（按路径即树的先序排列），Relay 游标分页。",
    )
    unit: Unit | None = strawberry.field(
        resolver=unit_resolvers.unit, description="按全局 ID 取一个单位。"
    )
    node: Node | None = strawberry.field(
        resolver=unit_resolvers.node, description="按全局 ID 取任意对象（Relay）。"
    )


@strawberry.type(description="变更。")
class Mutation:
    create_county: CreateCountyPayload = strawberry.field(
        resolver=county_resolvers.create_county,
        description=(
            "开通一个县（区）租户：建 schema、建角色、迁移、预置全国奖章体系；信息相同的重复调用无副作用。"
            "目前仅平台运维可用（Authorization: Bearer <运维令牌>）。"
        ),
    )


schema = RedscarfSchema(
    query=Query,
    mutation=Mutation,
    types=[Unit],
    # Classes and factories, never instances: an extension instance is shared by every
    # request, and its `execution_context` attribute then belongs to whichever request ran
    # last — under concurrency one request's errors went out unmasked (the leak test saw it).
    extensions=[
        PresentErrors,
        partial(QueryDepthLimiter, max_depth=MAX_DEPTH),
        partial(MaxAliasesLimiter, max_alias_count=MAX_ALIASES),
        partial(MaxTokensLimiter, max_token_count=MAX_TOKENS),
    ],
)


def export_sdl() -> str:
    return print_schema(schema) + "\n"
