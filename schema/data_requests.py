"""GraphQL types of guardians' requests about a child's personal data."""

from __future__ import annotations

import datetime as dt
import enum

import strawberry

from schema.node import Node
from schema.pupils import Pupil
from schema.user_errors import UserError


@strawberry.enum(description="监护人对孩子个人信息的请求（《个人信息保护法》第四十四至四十七条）。")
class DataRequestKind(enum.Enum):
    SEE = strawberry.enum_value("see", description="查阅")
    COPY = strawberry.enum_value("copy", description="复制")
    CORRECT = strawberry.enum_value("correct", description="更正")
    DELETE = strawberry.enum_value("delete", description="删除")


@strawberry.enum(description="请求的处理状态。")
class DataRequestState(enum.Enum):
    PENDING = strawberry.enum_value("pending", description="待处理")
    COMPLETED = strawberry.enum_value("completed", description="已办结")
    REJECTED = strawberry.enum_value("rejected", description="不予办理（附理由）")


@strawberry.enum(description="对请求的处理决定。")
class DataRequestDecision(enum.Enum):
    COMPLETE = strawberry.enum_value(
        "complete", description="办结；删除请求办结即删除该队员的个人信息（不可恢复）"
    )
    REJECT = strawberry.enum_value("reject", description="不予办理，须写明理由")


@strawberry.type(description="监护人对孩子个人信息的一项请求。")
class DataRequest(Node):
    kind: DataRequestKind = strawberry.field(description="请求种类。")
    state: DataRequestState = strawberry.field(description="处理状态。")
    pupil: Pupil | None = strawberry.field(description="所涉队员；个人信息删除后为空。")
    note: str | None = strawberry.field(description="监护人的说明；删除办结后清空。")
    requested_at: dt.datetime = strawberry.field(description="提出时间。")
    handled_at: dt.datetime | None = strawberry.field(description="处理时间。")
    answer: str | None = strawberry.field(description="处理结果或不予办理的理由。")


@strawberry.input(description="监护人就已绑定的孩子提出查阅、复制、更正或删除个人信息的请求。")
class RequestPupilDataInput:
    pupil_id: strawberry.ID = strawberry.field(description="队员的全局 ID。")
    kind: DataRequestKind = strawberry.field(description="请求种类。")
    note: str | None = strawberry.field(
        default=None, description="说明，如要更正的内容（最多 500 字）。"
    )


@strawberry.input(description="学校或县级处理一项请求。")
class HandleDataRequestInput:
    id: strawberry.ID = strawberry.field(description="请求的全局 ID。")
    decision: DataRequestDecision = strawberry.field(description="处理决定。")
    answer: str | None = strawberry.field(
        default=None, description="处理说明；不予办理时必填（最多 500 字）。"
    )


@strawberry.type(description="请求操作的结果。")
class DataRequestPayload:
    data_request: DataRequest | None = strawberry.field(description="这项请求。")
    user_errors: list[UserError] = strawberry.field(description="输入错误；为空表示成功。")
