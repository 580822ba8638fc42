"""GraphQL types of guardians binding their children."""

from __future__ import annotations

import datetime as dt
import enum

import strawberry

from schema.user_errors import UserError


@strawberry.enum(description="家长与孩子的关系。")
class Relation(enum.Enum):
    MOTHER = strawberry.enum_value("mother", description="母亲")
    FATHER = strawberry.enum_value("father", description="父亲")
    GRANDMOTHER = strawberry.enum_value("grandmother", description="祖母 / 外祖母")
    GRANDFATHER = strawberry.enum_value("grandfather", description="祖父 / 外祖父")
    OTHER = strawberry.enum_value("other", description="其他监护人")


@strawberry.input(description="学校为一名队员生成绑定码，交给家长。")
class IssueBindingCodeInput:
    pupil_id: strawberry.ID = strawberry.field(description="队员的全局 ID。")


@strawberry.type(description="绑定码（只显示这一次）。")
class BindingCodePayload:
    code: str | None = strawberry.field(description="10 位绑定码，14 天内有效，用一次即失效。")
    expires_at: dt.datetime | None = strawberry.field(description="失效时间。")
    user_errors: list[UserError] = strawberry.field(description="输入错误；为空表示成功。")


@strawberry.input(
    description="家长绑定孩子：填学校给的绑定码，或孩子的身份证号码和姓名；须先同意个人信息保护告知书。"
)
class BindPupilInput:
    county_code: str = strawberry.field(description="孩子所在县（区）的 6 位代码。")
    relation: Relation = strawberry.field(description="与孩子的关系。")
    notice_version: str = strawberry.field(description="已阅读并同意的告知书版本，如 2026-09。")
    code: str | None = strawberry.field(default=None, description="学校给的绑定码。")
    id_number: str | None = strawberry.field(default=None, description="孩子的身份证号码。")
    name: str | None = strawberry.field(default=None, description="孩子的姓名。")


@strawberry.type(description="绑定的结果。")
class BindPupilPayload:
    pupil_id: strawberry.ID | None = strawberry.field(description="绑定的孩子（全局 ID）。")
    pupil_name: str | None = strawberry.field(description="孩子的姓名，请核对。")
    user_errors: list[UserError] = strawberry.field(description="错误；为空表示成功。")


@strawberry.input(description="家长解除与孩子的绑定。")
class UnbindPupilInput:
    pupil_id: strawberry.ID = strawberry.field(description="孩子的全局 ID。")
