"""GraphQL types of badges (奖章): the catalogue, awards and the selection of star awards."""

from __future__ import annotations

import datetime as dt
import enum

import strawberry

from schema.node import Node
from schema.user_errors import UserError


@strawberry.enum(description="奖章层级。")
class BadgeLevel(enum.Enum):
    BASIC = strawberry.enum_value(
        "basic", description="基础章（红旗、红星、火炬三类各四枚，学校按学期颁发）"
    )
    STAR1 = strawberry.enum_value("star1", description="一星章（中队评选）")
    STAR2 = strawberry.enum_value("star2", description="二星章（学校评选）")
    STAR3 = strawberry.enum_value("star3", description="三星章（县级评选）")
    STAR4 = strawberry.enum_value("star4", description="四星章（省级授予，县级登记）")
    STAR5 = strawberry.enum_value("star5", description="五星章（全国授予，县级登记）")
    SPECIAL = strawberry.enum_value("special", description="县（区）特色章")
    COLLECTIVE = strawberry.enum_value("collective", description="集体奖章（中队、大队）")


@strawberry.enum(description="奖章记录的状态。")
class AwardState(enum.Enum):
    NOMINATED = strawberry.enum_value("nominated", description="已提名")
    REVIEWED = strawberry.enum_value("reviewed", description="审核通过")
    NOTICED = strawberry.enum_value("noticed", description="公示中")
    AWARDED = strawberry.enum_value("awarded", description="已颁发")
    REJECTED = strawberry.enum_value("rejected", description="未通过（审核或异议）")
    REVOKED = strawberry.enum_value("revoked", description="已撤销")


@strawberry.type(description="一枚奖章（本县的奖章目录）。")
class Badge(Node):
    code: str = strawberry.field(description="稳定的代码，如 basic.hongqi.1、star.1。")
    name: str = strawberry.field(description="名称。")
    level: BadgeLevel = strawberry.field(description="层级。")
    family: str | None = strawberry.field(description="基础章的类别：hongqi、hongxing、huoju。")
    criteria: str | None = strawberry.field(description="评定标准。")
    icon: str | None = strawberry.field(description="图标。")
    points: int = strawberry.field(description="目录中的默认积分（积分规则优先）。")
    academic_year: int | None = strawberry.field(description="特色章：适用学年。")
    national: bool = strawberry.field(description="全国统一的奖章。")


@strawberry.type(description="公示期间的一条异议及其处理。")
class AwardObjection(Node):
    content: str = strawberry.field(description="异议内容。")
    raised_by: str | None = strawberry.field(description="提出人（按登记）。")
    raised_at: dt.datetime = strawberry.field(description="提出时间。")
    upheld: bool | None = strawberry.field(description="是否成立；未处理为空。")
    resolution: str | None = strawberry.field(description="处理结果。")
    resolved_at: dt.datetime | None = strawberry.field(description="处理时间。")


@strawberry.type(description="一项奖章记录：已颁发的奖章，或星章的一项评选。")
class BadgeAward(Node):
    badge: Badge = strawberry.field(description="奖章。")
    pupil_id: strawberry.ID | None = strawberry.field(description="获得者（队员）的全局 ID。")
    pupil_name: str | None = strawberry.field(description="获得者姓名（调用者可见时）。")
    unit_name: str | None = strawberry.field(description="集体奖章：获得的中队或大队。")
    academic_year: int = strawberry.field(description="学年（以其开始的年份表示）。")
    term: int | None = strawberry.field(description="基础章：学期（1 或 2）。")
    state: AwardState = strawberry.field(description="状态。")
    evidence: str | None = strawberry.field(description="事迹或依据。")
    conferred_by: str | None = strawberry.field(description="四、五星章：授予单位。")
    notice_until: dt.date | None = strawberry.field(description="公示截止日期。")
    points: int | None = strawberry.field(description="颁发时获得的积分。")
    awarded_at: dt.datetime | None = strawberry.field(description="颁发时间。")
    rejected_reason: str | None = strawberry.field(description="未通过的理由。")
    revoked_reason: str | None = strawberry.field(description="撤销原因。")
    objections: list[AwardObjection] = strawberry.field(description="公示期间的异议。")


@strawberry.type(description="积分规则的一个版本（规则只增不改）。")
class PointsRule:
    subject: str = strawberry.field(description="适用对象：badge:<奖章代码> 或 level:<层级>。")
    points: int = strawberry.field(description="积分。")
    version: int = strawberry.field(description="版本号。")
    effective_from: dt.date = strawberry.field(description="生效日期。")


@strawberry.input(description="直接颁发奖章（基础章、特色章、上级授予的四五星章）给一批队员。")
class AwardBadgeInput:
    badge_id: strawberry.ID = strawberry.field(description="奖章的全局 ID。")
    pupil_ids: list[strawberry.ID] = strawberry.field(description="队员的全局 ID（最多 500 名）。")
    academic_year: int = strawberry.field(description="学年，如 2025 表示 2025—2026 学年。")
    term: int | None = strawberry.field(default=None, description="基础章：第 1 或第 2 学期。")
    evidence: str | None = strawberry.field(default=None, description="事迹或依据。")
    conferred_by: str | None = strawberry.field(
        default=None, description="四、五星章：授予单位，如 省少工委。"
    )


@strawberry.input(description="新设本县的特色章或集体奖章。")
class CreateBadgeInput:
    name: str = strawberry.field(description="名称，如 小红花章、小金果章。")
    level: BadgeLevel = strawberry.field(description="SPECIAL（特色章）或 COLLECTIVE（集体奖章）。")
    criteria: str | None = strawberry.field(default=None, description="评定标准。")
    icon: str | None = strawberry.field(default=None, description="图标（网址或文件标识）。")
    points: int = strawberry.field(default=0, description="默认积分（积分规则优先）。")
    academic_year: int | None = strawberry.field(default=None, description="只在某学年颁发时填写。")


@strawberry.input(
    description="修改奖章目录中的一枚：名称、标准、图标、默认积分、学年（代码不变）。"
)
class UpdateBadgeInput:
    id: strawberry.ID = strawberry.field(description="奖章的全局 ID。")
    name: str | None = strawberry.field(default=None, description="名称。")
    criteria: str | None = strawberry.field(default=None, description="评定标准。")
    icon: str | None = strawberry.field(default=None, description="图标。")
    points: int | None = strawberry.field(default=None, description="默认积分。")
    academic_year: int | None = strawberry.field(default=None, description="学年。")


@strawberry.type(description="奖章目录操作的结果。")
class BadgePayload:
    badge: Badge | None = strawberry.field(description="这枚奖章。")
    user_errors: list[UserError] = strawberry.field(description="输入错误；为空表示成功。")


@strawberry.input(description="颁发集体奖章给一个中队或大队（中队的集体奖章也计入其大队）。")
class AwardCollectiveBadgeInput:
    badge_id: strawberry.ID = strawberry.field(description="集体奖章的全局 ID。")
    unit_id: strawberry.ID = strawberry.field(description="中队或大队的全局 ID。")
    academic_year: int = strawberry.field(description="学年。")
    evidence: str | None = strawberry.field(default=None, description="事迹。")


@strawberry.input(description="提名星章（一至三星）候选人：须已获得下一级奖章，且不超过名额。")
class NominateForBadgeInput:
    badge_id: strawberry.ID = strawberry.field(description="星章的全局 ID。")
    pupil_ids: list[strawberry.ID] = strawberry.field(
        description="候选队员（一星章须同一中队，二星章须同一学校）。"
    )
    academic_year: int = strawberry.field(description="学年。")
    evidence: str | None = strawberry.field(default=None, description="推荐理由或事迹。")


@strawberry.input(description="审核候选人：通过，或不通过（须写理由）。")
class ReviewBadgeCandidatesInput:
    ids: list[strawberry.ID] = strawberry.field(description="评选记录的全局 ID。")
    approve: bool = strawberry.field(description="是否通过。")
    reason: str | None = strawberry.field(default=None, description="不通过的理由。")


@strawberry.input(description="把审核通过的候选人公示至某日。")
class StartBadgeNoticeInput:
    ids: list[strawberry.ID] = strawberry.field(description="评选记录的全局 ID。")
    until: dt.date = strawberry.field(description="公示截止日期（含当天）。")


@strawberry.input(description="登记公示期间收到的一条异议。")
class RecordAwardObjectionInput:
    award_id: strawberry.ID = strawberry.field(description="评选记录的全局 ID。")
    content: str = strawberry.field(description="异议内容。")
    raised_by: str | None = strawberry.field(default=None, description="提出人（可匿名）。")


@strawberry.input(description="处理一条异议：成立则该候选人不予颁发。")
class ResolveAwardObjectionInput:
    objection_id: strawberry.ID = strawberry.field(description="异议的全局 ID。")
    upheld: bool = strawberry.field(description="异议是否成立。")
    resolution: str = strawberry.field(description="处理结果。")


@strawberry.input(description="公示期满且无未处理异议：确认颁发，积分随之发放。")
class ConfirmBadgeAwardsInput:
    ids: list[strawberry.ID] = strawberry.field(description="评选记录的全局 ID。")


@strawberry.input(description="撤销已颁发的奖章：积分随之收回（已使用的积分无法收回时不执行）。")
class RevokeBadgeAwardInput:
    id: strawberry.ID = strawberry.field(description="奖章记录的全局 ID。")
    reason: str = strawberry.field(description="撤销原因。")


@strawberry.input(description="设定奖章的积分（新版本，自生效日期起适用；已颁发的不变）。")
class SetPointsRuleInput:
    badge_id: strawberry.ID | None = strawberry.field(
        default=None, description="某一枚奖章；与 level 二选一。"
    )
    level: BadgeLevel | None = strawberry.field(default=None, description="某一层级的全部奖章。")
    points: int = strawberry.field(description="积分（0–100000）。")
    effective_from: dt.date = strawberry.field(description="生效日期。")


@strawberry.input(description="设定一个星级的评选名额：候选人（已获下一级者）中可获该级的百分比。")
class SetBadgeQuotaInput:
    level: BadgeLevel = strawberry.field(description="STAR1 至 STAR4。")
    percent: int = strawberry.field(description="0–100，如一星章 30。")


@strawberry.input(description="积分有效期：自获得的学年起若干个学年，学年末过期；不填为永不过期。")
class SetPointsExpiryInput:
    years: int | None = strawberry.field(
        default=None, description="1–10：1 表示当学年末过期；不填表示积分永不过期。"
    )


@strawberry.type(description="设定积分有效期的结果。")
class PointsExpiryPayload:
    years: int | None = strawberry.field(description="现在的有效期（学年数），空为永不过期。")
    user_errors: list[UserError] = strawberry.field(description="输入错误；为空表示成功。")


@strawberry.type(description="一个星级的评选名额。")
class BadgeQuota:
    level: BadgeLevel = strawberry.field(description="星级。")
    percent: int = strawberry.field(description="百分比。")


@strawberry.type(description="设定评选名额的结果。")
class BadgeQuotaPayload:
    quota: BadgeQuota | None = strawberry.field(description="新的名额。")
    user_errors: list[UserError] = strawberry.field(description="输入错误；为空表示成功。")


@strawberry.type(description="奖章操作的结果。")
class BadgeAwardsPayload:
    awards: list[BadgeAward] = strawberry.field(description="涉及的奖章记录。")
    user_errors: list[UserError] = strawberry.field(description="输入错误；为空表示成功。")


@strawberry.type(description="异议操作的结果。")
class AwardObjectionPayload:
    award: BadgeAward | None = strawberry.field(description="所涉评选记录。")
    user_errors: list[UserError] = strawberry.field(description="输入错误；为空表示成功。")


@strawberry.type(description="设定积分规则的结果。")
class PointsRulePayload:
    rule: PointsRule | None = strawberry.field(description="新版本的规则。")
    user_errors: list[UserError] = strawberry.field(description="输入错误；为空表示成功。")
