"""GraphQL types of pairing across counties (结对共建) and its coordination."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated

import strawberry
from strawberry.types import Info

from resolvers.paging import After, Before, First, Last, page_of
from schema.context import Context
from schema.node import Counted, Node, PageInfo
from schema.org import Area, SchoolKind, UnitKind
from schema.user_errors import UserError


@strawberry.enum(description="结对的层级。")
class PairingLevel(enum.Enum):
    COUNTY = strawberry.enum_value("county", description="县（区）少工委之间")
    TOWNSHIP = strawberry.enum_value("township", description="乡镇（街道）、社区少工委之间")
    SCHOOL = strawberry.enum_value("school", description="学校（大队）之间")
    COUNSELOR = strawberry.enum_value("counselor", description="辅导员之间")
    PUPIL = strawberry.enum_value("pupil", description="队员手拉手")


@strawberry.enum(description="结对的类别。")
class PairingCategory(enum.Enum):
    URBAN_RURAL = strawberry.enum_value("urban_rural", description="城乡结对")
    MIGRANT = strawberry.enum_value("migrant", description="普通学校与新居民子女学校")
    STRONG_WEAK = strawberry.enum_value("strong_weak", description="强校带弱校")
    OTHER = strawberry.enum_value("other", description="其他")


@strawberry.enum(description="结对的状态。")
class PairingState(enum.Enum):
    PROPOSED = strawberry.enum_value("proposed", description="待双方确认")
    ACTIVE = strawberry.enum_value("active", description="进行中")
    DECLINED = strawberry.enum_value("declined", description="被拒绝")
    WITHDRAWN = strawberry.enum_value("withdrawn", description="已撤回")
    ENDED = strawberry.enum_value("ended", description="已结束")


@strawberry.type(
    description=(
        "结对一方的公开信息：单位的名称、层级和城乡属性；辅导员的姓名和单位；队员的名、年级和学校"
        "（外县队员须家长单独同意）。不含证件号码、电话、出生日期和监护人。该方确认前为空。"
    )
)
class PairingSide:
    county_code: str = strawberry.field(description="所在县（区）的代码。")
    county_name: str = strawberry.field(description="所在县（区）的名称。")
    accepted: bool = strawberry.field(description="该方所在县（区）已确认。")
    name: str | None = strawberry.field(description="单位或辅导员的名称。")
    unit_kind: UnitKind | None = strawberry.field(description="单位的层级。")
    area: Area | None = strawberry.field(description="城乡属性。")
    unit_name: str | None = strawberry.field(description="辅导员所在单位。")
    given_name: str | None = strawberry.field(description="队员的名（不含姓）。")
    grade: int | None = strawberry.field(description="队员的年级。")
    school: str | None = strawberry.field(description="队员的学校。")


@strawberry.enum(
    description="结对活动的类别：手拉手的“六个一”（FRIEND 至 GOOD_DEED）；学校 JOINT_ACTIVITY、"
    "CLASS_OBSERVATION、COUNSELOR_EXCHANGE、DONATION、VISIT；辅导员 OBSERVATION_LESSON、"
    "SECONDMENT、EXCHANGE；县、乡镇 JOINT_ACTIVITY、VISIT、MEETING。"
)
class PairingEventKind(enum.Enum):
    FRIEND = strawberry.enum_value("friend", description="交一个朋友")
    LETTER = strawberry.enum_value("letter", description="写一封信")
    CARD = strawberry.enum_value("card", description="互赠一张友谊卡")
    WEEKEND_VISIT = strawberry.enum_value("weekend_visit", description="到对方家里过一个周末")
    BADGE_TOGETHER = strawberry.enum_value("badge_together", description="一起争得一枚奖章")
    GOOD_DEED = strawberry.enum_value("good_deed", description="一起做一件好事")
    JOINT_ACTIVITY = strawberry.enum_value("joint_activity", description="联合活动")
    CLASS_OBSERVATION = strawberry.enum_value("class_observation", description="观摩课堂")
    COUNSELOR_EXCHANGE = strawberry.enum_value("counselor_exchange", description="辅导员交流")
    DONATION = strawberry.enum_value("donation", description="捐赠")
    VISIT = strawberry.enum_value("visit", description="互访")
    OBSERVATION_LESSON = strawberry.enum_value("observation_lesson", description="观摩课")
    SECONDMENT = strawberry.enum_value("secondment", description="挂职交流")
    EXCHANGE = strawberry.enum_value("exchange", description="交流")
    MEETING = strawberry.enum_value("meeting", description="会议")


@strawberry.type(description="结对双方一起做的一件事（“六个一”、联合活动、交流等）。")
class PairingEvent:
    kind: PairingEventKind = strawberry.field(description="类别（须是该层级结对的类别）。")
    on: dt.date = strawberry.field(description="日期。")
    note: str | None = strawberry.field(description="说明。")
    by_my_side: bool = strawberry.field(description="由本方记录。")


@strawberry.type(
    description="对方学校可以手拉手的一名队员：只有名、年级和学校；外县的，家长已单独同意。"
)
class PartnerPupil:
    candidate_id: strawberry.ID = strawberry.field(
        description="提议手拉手时作为 partnerId（不透明，只在这个学校结对中有效）。"
    )
    given_name: str = strawberry.field(description="名（不含姓）。")
    grade: int = strawberry.field(description="年级。")
    school: str | None = strawberry.field(description="学校。")


@strawberry.type(description="对方学校可以手拉手的队员列表中的一项。")
class PartnerPupilEdge:
    cursor: str = strawberry.field(description="本项的游标。")
    node: PartnerPupil = strawberry.field(description="队员。")


@strawberry.type(description="对方学校可以手拉手的队员，按年级。")
class PartnerPupilConnection(Counted):
    edges: list[PartnerPupilEdge] = strawberry.field(description="本页各项。")
    page_info: PageInfo = strawberry.field(description="分页信息。")


@strawberry.type(description="一个结对：本方，和对方的公开信息。")
class Pairing(Node):
    row_id: strawberry.Private[int]
    level: PairingLevel = strawberry.field(description="层级。")
    category: PairingCategory | None = strawberry.field(description="类别。")
    state: PairingState = strawberry.field(description="状态。")
    goals: str | None = strawberry.field(description="结对目标。")
    starts_on: dt.date | None = strawberry.field(description="开始日期。")
    ends_on: dt.date | None = strawberry.field(description="结束日期。")
    proposed_by: str = strawberry.field(description="提议方：county:县代码、province:省代码等。")
    created_at: dt.datetime = strawberry.field(description="提议时间。")
    my_side: PairingSide = strawberry.field(
        description="本方（同县结对时为其中一方）；本方确认前也显示本方的名称，对方在本方确认后才看得到。"
    )
    partner: PairingSide = strawberry.field(description="对方：只有其公开信息。")
    my_review: str | None = strawberry.field(description="本方的总结。")
    partner_review: str | None = strawberry.field(description="对方的总结。")
    events: list[PairingEvent] = strawberry.field(description="一起做的事，按日期。")

    @strawberry.field(
        description=(
            "进行中的学校结对里，对方学校可以手拉手的队员（在册、未达本县手拉手上限；外县的须"
            "家长单独同意）：供本方能提议结对的人（县、乡镇管理员，大队辅导员）选择。"
        )
    )
    async def partner_pupils(
        self,
        info: Info[Context, None],
        grade: Annotated[int | None, strawberry.argument(description="只列出该年级。")] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> PartnerPupilConnection:
        from resolvers.pairing import partner_pupils

        page = page_of(first, after, last, before)
        return await partner_pupils(info.context, self, grade, page)


@strawberry.type(description="结对列表中的一项。")
class PairingEdge:
    cursor: str = strawberry.field(description="本项的游标。")
    node: Pairing = strawberry.field(description="结对。")


@strawberry.type(description="结对列表（最新的在前），Relay 游标分页。")
class PairingConnection(Counted):
    edges: list[PairingEdge] = strawberry.field(description="本页各项。")
    page_info: PageInfo = strawberry.field(description="分页信息。")


@strawberry.type(description="一个县（区）的结对覆盖情况。")
class PairingCoverage:
    county_code: str = strawberry.field(description="县（区）代码。")
    county_name: str = strawberry.field(description="县（区）名称。")
    schools: int = strawberry.field(description="学校（大队）数。")
    schools_paired: int = strawberry.field(description="有进行中结对的学校数。")
    rural_schools: int = strawberry.field(description="农村学校数。")
    rural_paired: int = strawberry.field(description="已结对的农村学校数。")
    migrant_schools: int = strawberry.field(description="新居民子女学校数。")
    migrant_paired: int = strawberry.field(description="已结对的新居民子女学校数。")
    pupils_in_pairs: int = strawberry.field(description="参加手拉手结对的队员数。")


@strawberry.type(description="可结对的学校（公开信息）。")
class SchoolForPairing:
    unit_id: strawberry.ID = strawberry.field(description="学校的全局 ID（提议结对时使用）。")
    county_code: str = strawberry.field(description="县（区）代码。")
    name: str = strawberry.field(description="名称。")
    area: Area | None = strawberry.field(description="城乡属性。")
    school_kind: SchoolKind | None = strawberry.field(description="学校类别。")
    partners: int = strawberry.field(description="进行中的结对数。")


@strawberry.type(description="建议的结对：需要结对的学校，与有余力的城区学校。")
class SuggestedPair:
    school: SchoolForPairing = strawberry.field(description="农村或新居民子女学校。")
    partner: SchoolForPairing = strawberry.field(description="建议的城区学校（优先外县）。")


@strawberry.input(
    description=(
        "提议结对：县（区）为本县的一方提议（本方随即确认），省、地市为辖区内任意两方提议。"
        "双方用单位、辅导员或队员的全局 ID。"
    )
)
class ProposePairingInput:
    level: PairingLevel = strawberry.field(description="层级。")
    side_id: strawberry.ID = strawberry.field(description="一方（县级提议时为本县的一方）。")
    partner_id: strawberry.ID = strawberry.field(description="另一方。")
    category: PairingCategory | None = strawberry.field(default=None, description="类别。")
    goals: str | None = strawberry.field(default=None, description="结对目标。")
    starts_on: dt.date | None = strawberry.field(default=None, description="开始日期。")
    ends_on: dt.date | None = strawberry.field(default=None, description="结束日期。")


@strawberry.input(description="本县对一个结对的操作（确认、拒绝）。")
class PairingInput:
    id: strawberry.ID = strawberry.field(description="结对的全局 ID。")


@strawberry.input(description="结束一个进行中的结对，并写本方的总结。")
class EndPairingInput:
    id: strawberry.ID = strawberry.field(description="结对的全局 ID。")
    review: str | None = strawberry.field(default=None, description="本方的总结。")


@strawberry.input(description="结对结束后补写本方的总结。")
class ReviewPairingInput:
    id: strawberry.ID = strawberry.field(description="结对的全局 ID。")
    review: str = strawberry.field(description="本方的总结。")


@strawberry.input(description="记录结对双方一起做的一件事。")
class RecordPairingEventInput:
    pairing_id: strawberry.ID = strawberry.field(description="结对的全局 ID。")
    kind: PairingEventKind = strawberry.field(description="类别（须是该层级结对的类别）。")
    on: dt.date = strawberry.field(description="日期（不晚于今天）。")
    note: str | None = strawberry.field(default=None, description="说明。")


@strawberry.type(description="结对变更的结果。")
class PairingPayload:
    pairing: Pairing | None = strawberry.field(description="变更后的结对。")
    user_errors: list[UserError] = strawberry.field(description="输入错误；为空表示成功。")


@strawberry.input(
    description="家长单独同意：孩子与外县（区）队员手拉手时，向对方显示孩子的名、年级和学校。"
)
class GivePairingConsentInput:
    pupil_id: strawberry.ID = strawberry.field(description="孩子的全局 ID。")
    notice_version: str = strawberry.field(description="家长阅读的告知书版本。")


@strawberry.input(
    description="家长撤回单独同意：孩子退出与外县（区）的手拉手，对方不再看到孩子的任何信息。"
)
class WithdrawPairingConsentInput:
    pupil_id: strawberry.ID = strawberry.field(description="孩子的全局 ID。")


@strawberry.type(description="同意的结果。")
class PairingConsentPayload:
    ok: bool = strawberry.field(description="已记录。")
    user_errors: list[UserError] = strawberry.field(description="输入错误；为空表示成功。")


@strawberry.input(description="本县（区）每名队员同时可有的手拉手结对数（默认 1）。")
class SetPupilPairingLimitInput:
    limit: int = strawberry.field(description="1–10。已有的结对不受影响。")


@strawberry.type(description="设定手拉手结对数的结果。")
class PupilPairingLimitPayload:
    limit: int | None = strawberry.field(description="现在的上限。")
    user_errors: list[UserError] = strawberry.field(description="输入错误；为空表示成功。")
