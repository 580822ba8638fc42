"""GraphQL types of the exchange (兑换): partners (社会单位), their items, redemptions and
pickup codes."""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from schema.context import Context
from schema.node import Counted, Node, PageInfo
from schema.user_errors import UserError

if TYPE_CHECKING:
    from schema.pupils import Pupil


@strawberry.type(description="合作单位（社会单位）：捐赠兑换物品，凭兑换码核销。")
class Partner(Node):
    row_id: strawberry.Private[int]
    name: str = strawberry.field(description="名称。")
    contact: str | None = strawberry.field(description="联系方式（县级管理员和该单位可见）。")
    staff_scope: str | None = strawberry.field(
        description="邀请该单位人员（createInvitation，角色 PARTNER）时使用的范围（县级管理员可见）。"
    )
    created_at: dt.datetime = strawberry.field(description="登记时间。")

    @strawberry.field(description="该单位的兑换物品。")
    async def items(self, info: Info[Context, None]) -> list[ExchangeItem]:
        from resolvers.exchange import items_of_partner

        return await items_of_partner(info.context, self.row_id)


@strawberry.type(description="一件物品的兑换情况。")
class RedemptionCounts:
    issued: int = strawberry.field(description="已兑换、待领取。")
    verified: int = strawberry.field(description="已核销（已领取）。")
    expired: int = strawberry.field(description="过期未领（积分和库存已退回）。")


@strawberry.type(description="可用积分兑换的物品或服务。")
class ExchangeItem(Node):
    row_id: strawberry.Private[int]
    partner_id: strawberry.Private[int]
    name: str = strawberry.field(description="名称。")
    description: str | None = strawberry.field(description="说明。")
    partner_name: str = strawberry.field(description="提供的合作单位。")
    price: int = strawberry.field(description="所需积分。")
    stock: int = strawberry.field(description="剩余库存。")
    per_pupil: int = strawberry.field(description="每名队员限兑件数。")
    valid_from: dt.datetime = strawberry.field(description="兑换开始。")
    valid_until: dt.datetime = strawberry.field(description="兑换截止。")
    pickup_days: int = strawberry.field(description="兑换后领取的期限（天），逾期积分退还。")
    on_sale: bool = strawberry.field(description="上架中（false：已下架）。")

    @strawberry.field(description="兑换情况（县级管理员和该合作单位可见，其他人为空）。")
    async def counts(self, info: Info[Context, None]) -> RedemptionCounts | None:
        from resolvers.exchange import counts_of_item

        return await counts_of_item(info.context, self)


@strawberry.enum(description="兑换的状态。")
class RedemptionState(enum.Enum):
    ISSUED = strawberry.enum_value("issued", description="已兑换，待领取")
    VERIFIED = strawberry.enum_value("verified", description="已核销（已领取）")
    EXPIRED = strawberry.enum_value("expired", description="过期未领，积分和库存已退回")


@strawberry.type(description="一次兑换。合作单位只看到兑换码尾号和状态，看不到队员信息。")
class Redemption(Node):
    row_id: strawberry.Private[int]
    pupil_id: strawberry.Private[int]
    item_id: strawberry.Private[int]
    item_name: str = strawberry.field(description="兑换的物品。")
    price: int = strawberry.field(description="付出的积分。")
    state: RedemptionState = strawberry.field(description="状态。")
    code: str | None = strawberry.field(description="领取时出示的兑换码（只有孩子的家长可见）。")
    code_hint: str = strawberry.field(description="兑换码尾号（后 3 位），便于核对。")
    created_at: dt.datetime = strawberry.field(description="兑换时间。")
    expires_at: dt.datetime = strawberry.field(description="领取截止。")
    verified_at: dt.datetime | None = strawberry.field(description="核销时间。")

    @strawberry.field(description="兑换的队员（调用者看得到该队员时；合作单位永远为空）。")
    async def pupil(
        self, info: Info[Context, None]
    ) -> Annotated[Pupil, strawberry.lazy("schema.pupils")] | None:
        from resolvers.pupils import visible_pupil

        return await visible_pupil(info.context, self.pupil_id)


@strawberry.type(description="兑换列表中的一项。")
class RedemptionEdge:
    cursor: str = strawberry.field(description="本项的游标。")
    node: Redemption = strawberry.field(description="兑换。")


@strawberry.type(description="兑换列表（最新的在前），Relay 游标分页。")
class RedemptionConnection(Counted):
    edges: list[RedemptionEdge] = strawberry.field(description="本页各项。")
    page_info: PageInfo = strawberry.field(description="分页信息。")


@strawberry.input(description="登记一个合作单位（县级管理员）。")
class CreatePartnerInput:
    name: str = strawberry.field(description="名称，如 某某酒店。")
    contact: str | None = strawberry.field(default=None, description="联系方式。")


@strawberry.input(description="修改合作单位的名称或联系方式（县级管理员）。")
class UpdatePartnerInput:
    id: strawberry.ID = strawberry.field(description="合作单位的全局 ID。")
    name: str | None = strawberry.field(default=None, description="名称。")
    contact: str | None = strawberry.field(default=None, description="联系方式。")


@strawberry.type(description="合作单位变更的结果。")
class PartnerPayload:
    partner: Partner | None = strawberry.field(description="变更后的合作单位。")
    user_errors: list[UserError] = strawberry.field(description="输入错误；为空表示成功。")


@strawberry.input(description="上架一件兑换物品（县级管理员，或合作单位为自己）。")
class CreateExchangeItemInput:
    partner_id: strawberry.ID = strawberry.field(description="提供物品的合作单位。")
    name: str = strawberry.field(description="名称，如 亲子套餐券。")
    description: str | None = strawberry.field(default=None, description="说明。")
    price: int = strawberry.field(description="所需积分。")
    stock: int = strawberry.field(description="库存。")
    per_pupil: int = strawberry.field(default=1, description="每名队员限兑件数。")
    valid_from: dt.datetime = strawberry.field(description="兑换开始。")
    valid_until: dt.datetime = strawberry.field(description="兑换截止。")
    pickup_days: int = strawberry.field(default=30, description="兑换后领取的期限（天）。")


@strawberry.input(
    description="修改兑换物品：说明、积分、限兑、期限；addStock 补货（负数为减少），下架或重新上架。"
)
class UpdateExchangeItemInput:
    id: strawberry.ID = strawberry.field(description="物品的全局 ID。")
    name: str | None = strawberry.field(default=None, description="名称。")
    description: str | None = strawberry.field(default=None, description="说明。")
    price: int | None = strawberry.field(default=None, description="所需积分（已兑换的不变）。")
    per_pupil: int | None = strawberry.field(default=None, description="每名队员限兑件数。")
    valid_until: dt.datetime | None = strawberry.field(default=None, description="兑换截止。")
    add_stock: int = strawberry.field(default=0, description="补充的库存（负数为减少）。")
    on_sale: bool | None = strawberry.field(default=None, description="上架（false 下架）。")


@strawberry.type(description="兑换物品变更的结果。")
class ExchangeItemPayload:
    item: ExchangeItem | None = strawberry.field(description="变更后的物品。")
    user_errors: list[UserError] = strawberry.field(description="输入错误；为空表示成功。")


@strawberry.input(description="家长用孩子的积分兑换一件物品。")
class RedeemItemInput:
    item_id: strawberry.ID = strawberry.field(description="物品的全局 ID。")
    pupil_id: strawberry.ID = strawberry.field(description="孩子的全局 ID。")


@strawberry.type(description="兑换的结果：积分已扣，凭兑换码到合作单位领取。")
class RedemptionPayload:
    redemption: Redemption | None = strawberry.field(description="这次兑换（含兑换码）。")
    user_errors: list[UserError] = strawberry.field(description="输入错误；为空表示成功。")


@strawberry.input(description="合作单位核销顾客出示的兑换码（每个码只能核销一次）。")
class VerifyRedemptionCodeInput:
    code: str = strawberry.field(description="兑换码（不区分大小写，可带空格或连字符）。")


@strawberry.type(description="核销的结果：兑换的物品，没有任何队员信息。")
class VerifyRedemptionPayload:
    item_name: str | None = strawberry.field(description="应交付的物品。")
    redemption: Redemption | None = strawberry.field(description="核销后的兑换记录。")
    user_errors: list[UserError] = strawberry.field(description="输入错误；为空表示成功。")
