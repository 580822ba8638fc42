"""GraphQL types of the web origins a county allows (CORS)."""

from __future__ import annotations

import strawberry

from schema.counties import County
from schema.user_errors import UserError


@strawberry.input(
    description="本县（区）自己的网页前端所在的来源，浏览器中的页面从这些来源调用本接口。"
)
class SetAllowedOriginsInput:
    origins: list[str] = strawberry.field(
        description=(
            "来源的完整列表（替换原有的）：https://域名[:端口]，开发时可用 http://localhost[:端口]；"
            "不含路径，不用通配符，最多 20 个。空列表表示不允许任何网页跨域调用。"
        )
    )


@strawberry.type(description="登记允许的来源的结果。")
class SetAllowedOriginsPayload:
    county: County | None = strawberry.field(
        description="本县（区）；其 allowedOrigins 为登记后的来源。出错时为空。"
    )
    user_errors: list[UserError] = strawberry.field(
        description="输入错误（INVALID_ORIGIN、TOO_MANY_ORIGINS）；为空表示成功。"
    )
