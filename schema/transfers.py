"""GraphQL types of pupils moving between counties."""

from __future__ import annotations

import datetime as dt
import enum

import strawberry

from schema.user_errors import UserError


@strawberry.enum(description="转学申请的状态。")
class TransferState(enum.Enum):
    PENDING = strawberry.enum_value("pending", description="待转入县（区）接收")
    ACCEPTED = strawberry.enum_value("accepted", description="已接收")
    DECLINED = strawberry.enum_value("declined", description="已拒绝")


@strawberry.type(description="一次跨县（区）转学：转出县发起，转入县接收。")
class Transfer:
    id: strawberry.ID = strawberry.field(description="转学申请 ID。")
    pupil_name: str = strawberry.field(description="队员姓名。")
    grade: int = strawberry.field(description="年级。")
    from_county: str = strawberry.field(description="转出县（区）代码。")
    to_county: str = strawberry.field(description="转入县（区）代码。")
    state: TransferState = strawberry.field(description="状态。")
    requested_at: dt.datetime = strawberry.field(description="发起时间。")
    note: str | None = strawberry.field(description="说明。")


@strawberry.input(description="把一名队员转到另一个县（区）：队员的记录随之转出，待对方接收。")
class TransferPupilInput:
    pupil_id: strawberry.ID = strawberry.field(description="队员的全局 ID。")
    to_county_code: str = strawberry.field(description="转入县（区）的 6 位代码。")
    note: str | None = strawberry.field(default=None, description="说明，如转入学校。")


@strawberry.input(description="接收转入的队员，编入本县一个中队。")
class AcceptTransferInput:
    transfer_id: strawberry.ID = strawberry.field(description="转学申请 ID。")
    squadron_id: strawberry.ID = strawberry.field(description="编入的中队。")


@strawberry.input(description="不接收转入的队员（如信息有误）；转出县的队员恢复原状态。")
class DeclineTransferInput:
    transfer_id: strawberry.ID = strawberry.field(description="转学申请 ID。")
    reason: str = strawberry.field(description="原因。")


@strawberry.type(description="转学操作的结果。")
class TransferPayload:
    transfer: Transfer | None = strawberry.field(description="转学申请。")
    pupil_id: strawberry.ID | None = strawberry.field(description="接收后，本县的新队员 ID。")
    user_errors: list[UserError] = strawberry.field(description="输入错误；为空表示成功。")
