"""GraphQL types of a county's registered queries (its allow-list and persisted queries)."""

from __future__ import annotations

import strawberry

from schema.user_errors import UserError


@strawberry.type(
    description="一个已登记的查询：本县（区）的应用可以发送它的全文，或只发送它的哈希。"
)
class RegisteredQuery:
    hash: str = strawberry.field(
        description="查询全文的 SHA-256（十六进制），即 extensions.persistedQuery.sha256Hash。"
    )
    name: str = strawberry.field(description="名称，如 家长端-积分。")
    query: str = strawberry.field(description="查询全文。")


@strawberry.type(description="本县（区）的查询白名单。")
class QueryAllowList:
    enforced: bool = strawberry.field(description="是否只接受已登记的查询（县级管理员不受限制）。")
    queries: list[RegisteredQuery] = strawberry.field(description="已登记的查询，按名称。")


@strawberry.input(description="要登记的一个查询。")
class QueryToRegister:
    name: str = strawberry.field(description="名称（100 字以内）。")
    query: str = strawberry.field(description="查询全文，须是本 API 的有效操作。")


@strawberry.input(description="登记一批查询。")
class RegisterQueriesInput:
    queries: list[QueryToRegister] = strawberry.field(description="最多 100 个。")


@strawberry.input(description="删除一个已登记的查询。")
class UnregisterQueryInput:
    hash: str = strawberry.field(description="查询的哈希。")


@strawberry.input(description="是否只接受已登记的查询。")
class SetAllowListEnforcedInput:
    enforced: bool = strawberry.field(description="true：只接受已登记的查询；false：接受任何查询。")


@strawberry.type(description="修改查询白名单的结果。")
class QueryAllowListPayload:
    allow_list: QueryAllowList | None = strawberry.field(description="修改后的白名单。")
    user_errors: list[UserError] = strawberry.field(description="输入错误；为空表示成功。")
