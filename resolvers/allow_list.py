"""A county's allow-list of queries: read it, register queries, remove one, enforce it (the
county admin). Enforcement itself happens in `schema.persisted`, before a request runs."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError, parse, validate
from strawberry.types import Info

from authz.principal import COUNTY_ROOT
from domain.allow_list import service as rules
from redscarf.errors import InvalidInput, RedscarfError
from resolvers.county_work import in_county
from schema.allow_list import (
    QueryAllowList,
    QueryAllowListPayload,
    RegisteredQuery,
    RegisterQueriesInput,
    SetAllowListEnforcedInput,
    UnregisterQueryInput,
)
from schema.context import Context
from schema.persisted import forget_county
from schema.user_errors import UserError, user_errors

MAX_AT_ONCE = 100


async def _allow_list(context: Context) -> QueryAllowList:
    async with context.session() as session:
        conn = await session.connection()
        enforced, found = await conn.run_sync(lambda c: (rules.is_enforced(c), rules.registered(c)))
    return QueryAllowList(
        enforced=enforced,
        queries=[RegisteredQuery(hash=q.hash, name=q.name, query=q.query) for q in found],
    )


async def query_allow_list(info: Info[Context, None]) -> QueryAllowList:
    await info.context.user()
    await info.context.require("query_allow_list", "read", COUNTY_ROOT)
    return await _allow_list(info.context)


def _checked(info: Info[Context, None], input: RegisterQueriesInput) -> list[UserError]:
    """Each query must be an operation this API would accept (parsed and validated)."""
    errors = []
    if not input.queries or len(input.queries) > MAX_AT_ONCE:
        return [UserError(field="queries", code="INVALID_INPUT",
                          message=f"一次登记 1 至 {MAX_AT_ONCE} 个查询")]  # fmt: skip
    schema = info.schema._schema
    for n, item in enumerate(input.queries):
        if not item.name.strip() or len(item.name) > rules.MAX_NAME:
            errors.append(UserError(field=f"queries.{n}.name", code="INVALID_NAME",
                                    message=f"名称不能为空，且不超过 {rules.MAX_NAME} 字"))  # fmt: skip
        try:
            problems = validate(schema, parse(item.query))
        except GraphQLError as exc:
            problems = [exc]
        if problems:
            errors.append(UserError(field=f"queries.{n}.query", code="INVALID_QUERY",
                                    message=f"不是本 API 的有效操作：{problems[0].message[:200]}"))  # fmt: skip
    return errors


async def register_queries(
    info: Info[Context, None], input: RegisterQueriesInput
) -> QueryAllowListPayload:
    context = info.context
    principal = await context.user()
    await context.require("query_allow_list", "write", COUNTY_ROOT)
    if errors := _checked(info, input):
        return QueryAllowListPayload(allow_list=None, user_errors=errors)
    pairs = [(q.name.strip(), q.query) for q in input.queries]
    try:
        await in_county(
            context,
            lambda conn: rules.register(conn, pairs, principal.id),
            "registerQueries",
            lambda hashes: [{"object_type": "RegisteredQuery", "object_id": pk,
                             "details": {"name": name}}
                            for pk, (name, _) in zip(hashes, pairs, strict=True)],
        )  # fmt: skip
    except RedscarfError as exc:
        return QueryAllowListPayload(allow_list=None, user_errors=user_errors(exc, "queries"))
    return await _changed(context)


async def unregister_query(
    info: Info[Context, None], input: UnregisterQueryInput
) -> QueryAllowListPayload:
    context = info.context
    await context.user()
    await context.require("query_allow_list", "write", COUNTY_ROOT)

    def work(conn: Any) -> bool:
        if not rules.unregister(conn, input.hash):
            raise InvalidInput("没有登记这个查询", code="QUERY_NOT_REGISTERED")
        return True

    try:
        await in_county(context, work, "unregisterQuery",
                        lambda _: [{"object_type": "RegisteredQuery", "object_id": input.hash}])  # fmt: skip
    except RedscarfError as exc:
        return QueryAllowListPayload(allow_list=None, user_errors=user_errors(exc, "hash"))
    return await _changed(context)


async def set_allow_list_enforced(
    info: Info[Context, None], input: SetAllowListEnforcedInput
) -> QueryAllowListPayload:
    context = info.context
    await context.user()
    await context.require("query_allow_list", "write", COUNTY_ROOT)
    try:
        await in_county(
            context,
            lambda conn: rules.enforce(conn, input.enforced),
            "setAllowListEnforced",
            lambda _: [{"object_type": "CountySetting", "object_id": rules.ENFORCED,
                        "details": {"enforced": input.enforced}}],
        )  # fmt: skip
    except RedscarfError as exc:
        return QueryAllowListPayload(allow_list=None, user_errors=user_errors(exc, "enforced"))
    return await _changed(context)


async def _changed(context: Context) -> QueryAllowListPayload:
    forget_county((await context.tenant()).code)
    return QueryAllowListPayload(allow_list=await _allow_list(context), user_errors=[])
