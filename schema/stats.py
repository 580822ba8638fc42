"""GraphQL types of statistics: a county's figures for a unit and a period, and a prefecture's
or province's rollup with each county's summary."""

from __future__ import annotations

import datetime as dt
import enum

import strawberry

from schema.activities import AreaReach, TownshipReach
from schema.badges import BadgeLevel
from schema.counselors import CounselorKind
from schema.org import Unit, UnitKindCount
from schema.pupils import PupilStatus
from schema.tasks import TaskKind


@strawberry.type(description="某类辅导员的人数。")
class CounselorKindCount:
    kind: CounselorKind = strawberry.field(description="类别。")
    count: int = strawberry.field(description="在任人数。")


@strawberry.type(description="某状态、某年级的队员人数。")
class PupilCount:
    status: PupilStatus = strawberry.field(description="状态。")
    grade: int = strawberry.field(description="年级（1–9）。")
    count: int = strawberry.field(description="人数。")


@strawberry.type(description="某状态的队员人数（各年级合计）。")
class PupilStatusCount:
    status: PupilStatus = strawberry.field(description="状态。")
    count: int = strawberry.field(description="人数。")


@strawberry.type(description="某级奖章在某学年颁发的枚数。")
class BadgeCount:
    level: BadgeLevel = strawberry.field(description="等级。")
    academic_year: int = strawberry.field(description="学年（以开始的年份命名，如 2025 即 2025–2026 学年）。")  # fmt: skip
    count: int = strawberry.field(description="颁发枚数（不含期末前已撤销的）。")


@strawberry.type(description="某类征集任务完成的次数。")
class TaskKindCount:
    kind: TaskKind = strawberry.field(description="类别。")
    count: int = strawberry.field(description="完成次数（课程学完、作品和问卷审核通过）。")


@strawberry.type(description="积分：期间发放、消费、到期，以及期末冻结（报名预留）的积分。")
class PointsFigures:
    issued: int = strawberry.field(description="发放：从县积分池发给队员的积分（扣除冲正）。")
    spent: int = strawberry.field(description="消费：队员用于活动、兑换等的积分（扣除退还）。")
    expired: int = strawberry.field(description="到期回收的积分。")
    held: int = strawberry.field(description="期末冻结：已报名未结算的活动预留积分。")


@strawberry.type(description="活动：期间举办的场次和服务的队员。")
class ActivityFigures:
    held: int = strawberry.field(description="活动场次：期间开始的已发布、未取消的活动。")
    served_pupils: int = strawberry.field(description="服务人数（去重）。")
    served_person_times: int = strawberry.field(description="服务人次。")
    reached_percent: float = strawberry.field(description="覆盖率：服务人数 / 在册队员（%）。")
    by_area: list[AreaReach] = strawberry.field(description="按城区、农村。")
    by_township: list[TownshipReach] = strawberry.field(
        description="按乡镇（街道）/社区（仅县内统计；地市、省汇总时为空）。"
    )


@strawberry.type(description="兑换：期间下单和核销（领取）的次数。")
class RedemptionFigures:
    made: int = strawberry.field(description="兑换次数。")
    verified: int = strawberry.field(description="已核销（领取）次数。")


@strawberry.type(description="结对覆盖：期末处于结对中的学校和队员。")
class PairingFigures:
    schools: int = strawberry.field(description="学校（大队）数。")
    schools_paired: int = strawberry.field(description="已结对的学校数。")
    schools_paired_percent: float = strawberry.field(description="学校结对率（%）。")
    rural_schools: int = strawberry.field(description="农村学校数。")
    rural_paired: int = strawberry.field(description="已结对的农村学校数。")
    rural_paired_percent: float = strawberry.field(description="农村学校结对覆盖率（%）。")
    migrant_schools: int = strawberry.field(description="新居民子女学校数。")
    migrant_paired: int = strawberry.field(description="已结对的新居民子女学校数。")
    pupils_in_pairs: int = strawberry.field(description="手拉手结对中的队员数。")


@strawberry.type(
    description="统计：存量（组织、辅导员、队员、家长与绑定、冻结积分）截至 asOf 当日结束；"
    "流量（奖章、积分发放与消费、活动、兑换、征集）为 since 至 asOf。队员按现在所在中队计入单位。"
)
class Statistics:
    as_of: dt.date = strawberry.field(description="截止日期（含）。")
    since: dt.date | None = strawberry.field(
        description="流量的起始日期（含）；为空表示自有记录起。"
    )
    computed_at: dt.datetime = strawberry.field(description="计算时间。")
    unit: Unit | None = strawberry.field(description="统计的单位；全县（区）或地市、省汇总时为空。")
    units: list[UnitKindCount] = strawberry.field(description="各层级单位数（期末存在的）。")
    counselors: list[CounselorKindCount] = strawberry.field(description="在任辅导员，按类别。")
    current_pupils: int = strawberry.field(description="在册队员（少先队员和预备队员）。")
    pupils_by_status: list[PupilStatusCount] = strawberry.field(description="队员按状态。")
    pupils: list[PupilCount] = strawberry.field(description="队员按状态和年级。")
    guardians: int = strawberry.field(
        description="家长注册数：全县为截至当日注册的家长；单位为绑定了本单位队员的家长。"
    )
    pupils_bound: int = strawberry.field(description="绑定数：有已验证家长绑定的在册队员。")
    bound_percent: float = strawberry.field(
        description="进站率（绑定率）：绑定数 / 在册队员（%）。"
    )
    badges: list[BadgeCount] = strawberry.field(description="期间颁发的奖章，按等级和学年。")
    points: PointsFigures = strawberry.field(description="积分。")
    activities: ActivityFigures = strawberry.field(description="活动。")
    redemptions: RedemptionFigures = strawberry.field(description="兑换。")
    tasks_completed: list[TaskKindCount] = strawberry.field(description="期间完成的征集任务。")
    pairing: PairingFigures = strawberry.field(description="结对覆盖。")


@strawberry.enum(description="汇总的层级。")
class RegionLevel(enum.Enum):
    PROVINCE = strawberry.enum_value("province", description="省")
    PREFECTURE = strawberry.enum_value("prefecture", description="地市")


@strawberry.type(description="一个县（区）的汇总：本学年至计算之日。")
class CountySummary:
    county_code: str = strawberry.field(description="县级行政区划代码。")
    county_name: str = strawberry.field(description="名称。")
    statistics: Statistics = strawberry.field(description="该县的统计。")


@strawberry.type(
    description="地市或省的汇总：所辖各县（区）本学年的统计之和，由后台任务在数据变化后和定时"
    "重新计算；只含汇总数字，不含任何队员个人信息。"
)
class RegionStatistics:
    code: str = strawberry.field(description="省（2 位）或地市（4 位）代码。")
    name: str = strawberry.field(description="名称。")
    level: RegionLevel = strawberry.field(description="层级。")
    computed_at: dt.datetime | None = strawberry.field(
        description="汇总的计算时间；尚未汇总时为空。"
    )
    oldest_county_at: dt.datetime | None = strawberry.field(
        description="计入汇总的各县数据中最早的计算时间：数字至少新到此时。"
    )
    counties: int = strawberry.field(description="计入汇总的县（区）数。")
    counties_missing: int = strawberry.field(description="已开通但尚无统计数据的县（区）数（未计入）。")  # fmt: skip
    counties_onboarding: int = strawberry.field(description="正在开通的县（区）数（未计入）。")
    statistics: Statistics | None = strawberry.field(description="汇总的统计；尚未汇总时为空。")
    by_county: list[CountySummary] = strawberry.field(description="各县（区）的统计，按代码。")
