"""The one shape of an input error a payload returns (field, stable code, Chinese message)."""

from __future__ import annotations

import strawberry

from redscarf.errors import RedscarfError


@strawberry.type(
    description="可由调用方纠正的输入错误（业务校验失败时返回，而不是抛出 GraphQL 错误）。"
)
class UserError:
    field: str | None = strawberry.field(
        description="出错的输入字段（camelCase），整体错误时为空。"
    )
    code: str = strawberry.field(description="稳定的英文错误码，如 INVALID_ADMIN_CODE。")
    message: str = strawberry.field(description="给人看的中文说明。")


def user_errors(exc: RedscarfError, field: str | None = None) -> list[UserError]:
    """A domain error as a payload's `userErrors` (the one conversion every mutation uses)."""
    return [UserError(field=field, code=exc.code, message=exc.message)]
