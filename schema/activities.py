"""GraphQL types of activities (活动): sign-up paid with points, waiting list, attendance and
reach."""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

from resolvers.paging import After, Before, First, Last, page_of
from schema.context import Context
from schema.node import Counted, Node, PageInfo
from schema.org import Area, Unit
from schema.user_errors import UserError

if TYPE_CHECKING:
    from schema.pupils import Pupil


@strawberry.enum(description="活动的状态。")
class ActivityState(enum.Enum):
    DRAFT = strawberry.enum_value("draft", description="草稿（只有组织者看得到）")
    PUBLISHED = strawberry.enum_value("published", description="已发布（在报名时间内可报名）")
    CLOSED = strawberry.enum_value("closed", description="已截止报名（仍可签到）")
    FINISHED = strawberry.enum_value("finished", description="已结束（未到者已结算）")
    CANCELLED = strawberry.enum_value("cancelled", description="已取消（报名者积分全部退还）")


@strawberry.enum(description="一条报名的状态。")
class SignupState(enum.Enum):
    CONFIRMED = strawberry.enum_value("confirmed", description="已确认（积分已预留）")
    WAITLISTED = strawberry.enum_value("waitlisted", description="候补中（有名额时按顺序递补）")
    CANCELLED = strawberry.enum_value("cancelled", description="已取消（预留的积分已退还）")
    LAPSED = strawberry.enum_value("lapsed", description="候补未成（递补时积分不足或活动已结束）")
    ATTENDED = strawberry.enum_value("attended", description="已签到（积分已结算，奖励已发放）")
    NO_SHOW = strawberry.enum_value("no_show", description="未到")
    REFUNDED = strawberry.enum_value("refunded", description="活动取消，积分已退还")


@strawberry.type(description="一项活动（县、乡镇、学校或中队组织）。")
class Activity(Node):
    row_id: strawberry.Private[int]
    unit_id: strawberry.Private[int]
    county: strawberry.Private[str]
    title: str = strawberry.field(description="名称。")
    description: str | None = strawberry.field(description="介绍。")
    place: str | None = strawberry.field(description="地点。")
    starts_at: dt.datetime = strawberry.field(description="开始时间。")
    ends_at: dt.datetime = strawberry.field(description="结束时间。")
    signup_opens_at: dt.datetime = strawberry.field(description="报名开始。")
    signup_closes_at: dt.datetime = strawberry.field(description="报名截止。")
    cancel_until: dt.datetime | None = strawberry.field(
        description="此前可取消报名并退还积分；为空则在活动结算（结束）前都可取消。"
    )
    capacity: int = strawberry.field(description="名额。")
    confirmed: int = strawberry.field(description="已确认人数。")
    places_left: int = strawberry.field(
        description="剩余名额：容量减去已确认的报名；草稿、已结束和已取消的活动为 0（容量见 capacity）。"
    )
    waitlisted: int = strawberry.field(description="候补人数。")
    grades: list[int] | None = strawberry.field(description="面向的年级；为空则不限。")
    area: Area | None = strawberry.field(description="只面向城区或农村学校；为空则不限。")
    cost: int = strawberry.field(description="报名所需积分（报名时预留，签到时结算）。")
    reward: int = strawberry.field(description="签到后奖励的积分。")
    no_show_keeps_cost: bool = strawberry.field(description="未到者的积分是否照扣。")
    state: ActivityState = strawberry.field(description="状态。")
    created_at: dt.datetime = strawberry.field(description="创建时间。")

    @classmethod
    def from_row(cls, r: Any, county: str) -> Activity:
        from schema.ids import encode_global_id

        return cls(
            id=strawberry.ID(encode_global_id("Activity", county, r.id)),
            row_id=r.id, unit_id=r.unit_id, county=county, title=r.title,
            description=r.description, place=r.place, starts_at=r.starts_at, ends_at=r.ends_at,
            signup_opens_at=r.signup_opens_at, signup_closes_at=r.signup_closes_at,
            cancel_until=r.cancel_until, capacity=r.capacity, confirmed=r.confirmed,
            places_left=max(r.capacity - r.confirmed, 0) if r.state in ("published", "closed") else 0,
            waitlisted=r.waitlisted, grades=list(r.grades) if r.grades else None,
            area=Area(r.area) if r.area else None, cost=r.cost, reward=r.reward,
            no_show_keeps_cost=r.no_show_keeps_cost, state=ActivityState(r.state),
            created_at=r.created_at,
        )  # fmt: skip

    @strawberry.field(description="组织单位。")
    async def organiser(self, info: Info[Context, None]) -> Unit | None:
        record = await info.context.org.unit.load(self.unit_id)
        return Unit.from_record(record, self.county) if record else None

    @strawberry.field(
        description="报名名单（按报名先后；组织者，以及能看到报名队员的辅导员只看到自己辖区的队员）。"
    )
    async def signups(
        self,
        info: Info[Context, None],
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        state: Annotated[
            SignupState | None, strawberry.argument(description="只列出该状态。")
        ] = None,
    ) -> ActivitySignupConnection:
        from resolvers.activities import signups_of_activity

        page = page_of(first, after, last, before)
        return await signups_of_activity(info.context, self, page, state)


@strawberry.type(description="一条活动报名。")
class ActivitySignup(Node):
    row_id: strawberry.Private[int]
    pupil_id: strawberry.Private[int]
    activity_id: strawberry.Private[int]
    state: SignupState = strawberry.field(description="状态。")
    position: int | None = strawberry.field(description="候补的名次（1 为下一个递补）。")
    created_at: dt.datetime = strawberry.field(description="报名时间。")
    updated_at: dt.datetime = strawberry.field(description="状态最近一次变化的时间。")

    @strawberry.field(description="报名的队员（调用者看得到该队员时）。")
    async def pupil(
        self, info: Info[Context, None]
    ) -> Annotated[Pupil, strawberry.lazy("schema.pupils")] | None:
        from resolvers.pupils import visible_pupil

        return await visible_pupil(info.context, self.pupil_id)

    @strawberry.field(description="活动。")
    async def activity(self, info: Info[Context, None]) -> Activity | None:
        return await info.context.activities.load(self.activity_id)


@strawberry.type(description="报名名单中的一项。")
class ActivitySignupEdge:
    cursor: str = strawberry.field(description="本项的游标。")
    node: ActivitySignup = strawberry.field(description="报名。")


@strawberry.type(description="报名名单，Relay 游标分页。")
class ActivitySignupConnection(Counted):
    edges: list[ActivitySignupEdge] = strawberry.field(description="本页各项。")
    page_info: PageInfo = strawberry.field(description="分页信息。")


@strawberry.type(description="活动列表中的一项。")
class ActivityEdge:
    cursor: str = strawberry.field(description="本项的游标。")
    node: Activity = strawberry.field(description="活动。")


@strawberry.type(description="活动列表（开始时间最近的在前），Relay 游标分页。")
class ActivityConnection(Counted):
    edges: list[ActivityEdge] = strawberry.field(description="本页各项。")
    page_info: PageInfo = strawberry.field(description="分页信息。")


@strawberry.type(description="服务的队员：人数（去重）和人次。")
class Served:
    pupils: int = strawberry.field(description="服务人数：参加过至少一次的队员（去重）。")
    person_times: int = strawberry.field(description="服务人次：签到的次数。")


@strawberry.type(description="一个乡镇（街道）/社区的服务情况；直属县的学校单独列出。")
class TownshipReach:
    unit: Unit | None = strawberry.field(
        description="乡镇（街道）、社区，或直属学校（调用者无权查看组织时为空）。"
    )
    served: Served = strawberry.field(description="服务的队员。")
    current_pupils: int = strawberry.field(description="现有在册队员。")
    reached_percent: float = strawberry.field(description="覆盖率：服务人数 / 在册队员（%）。")


@strawberry.type(description="城区或农村学校的服务情况。")
class AreaReach:
    area: Area | None = strawberry.field(description="城乡属性；学校未填写时为空。")
    served: Served = strawberry.field(description="服务的队员。")


@strawberry.type(
    description="活动的覆盖面：某单位之下的队员在一段时间里参加活动的人数和人次，按乡镇和城乡。"
)
class ActivityReach:
    activities: int = strawberry.field(description="期间举办的活动（已发布、未取消）。")
    served: Served = strawberry.field(description="服务的队员（合计）。")
    current_pupils: int = strawberry.field(description="现有在册队员。")
    reached_percent: float = strawberry.field(description="覆盖率：服务人数 / 在册队员（%）。")
    by_township: list[TownshipReach] = strawberry.field(description="按乡镇（街道）/社区。")
    by_area: list[AreaReach] = strawberry.field(description="按城区、农村。")


@strawberry.input(description="新建一项活动（草稿）。时间带时区，如 2026-05-01T09:00:00+08:00。")
class CreateActivityInput:
    organiser_id: strawberry.ID = strawberry.field(
        description="组织单位（县、乡镇、学校或中队）的全局 ID；只有该单位及其下级的队员可报名。"
    )
    title: str = strawberry.field(description="名称。")
    description: str | None = strawberry.field(default=None, description="介绍。")
    place: str | None = strawberry.field(default=None, description="地点。")
    starts_at: dt.datetime = strawberry.field(description="开始时间。")
    ends_at: dt.datetime = strawberry.field(description="结束时间。")
    signup_opens_at: dt.datetime = strawberry.field(description="报名开始。")
    signup_closes_at: dt.datetime = strawberry.field(description="报名截止（不晚于活动结束）。")
    cancel_until: dt.datetime | None = strawberry.field(
        default=None,
        description="此前可取消报名并退还积分（不晚于活动结束）；不填则在活动结算（结束）前都可取消。",
    )
    capacity: int = strawberry.field(description="名额。")
    grades: list[int] | None = strawberry.field(default=None, description="面向的年级。")
    area: Area | None = strawberry.field(default=None, description="只面向城区或农村学校。")
    cost: int = strawberry.field(default=0, description="报名所需积分。")
    reward: int = strawberry.field(default=0, description="签到后奖励的积分。")
    no_show_keeps_cost: bool = strawberry.field(
        default=True, description="未到者积分照扣（false：退还）。"
    )


@strawberry.input(
    description="修改活动：草稿可改任何一项；已发布的只能改名称、介绍、地点和增加名额（候补者随之递补）。"
)
class UpdateActivityInput:
    id: strawberry.ID = strawberry.field(description="活动的全局 ID。")
    title: str | None = strawberry.field(default=None, description="名称。")
    description: str | None = strawberry.field(default=None, description="介绍。")
    place: str | None = strawberry.field(default=None, description="地点。")
    starts_at: dt.datetime | None = strawberry.field(default=None, description="开始时间。")
    ends_at: dt.datetime | None = strawberry.field(default=None, description="结束时间。")
    signup_opens_at: dt.datetime | None = strawberry.field(default=None, description="报名开始。")
    signup_closes_at: dt.datetime | None = strawberry.field(default=None, description="报名截止。")
    cancel_until: dt.datetime | None = strawberry.field(default=None, description="取消截止。")
    capacity: int | None = strawberry.field(default=None, description="名额。")
    grades: list[int] | None = strawberry.field(default=None, description="面向的年级。")
    area: Area | None = strawberry.field(default=None, description="城区或农村。")
    cost: int | None = strawberry.field(default=None, description="报名所需积分。")
    reward: int | None = strawberry.field(default=None, description="签到奖励。")
    no_show_keeps_cost: bool | None = strawberry.field(default=None, description="未到照扣。")


@strawberry.input(description="对一项活动的操作（发布、截止报名、结束、取消、生成签到码）。")
class ActivityInput:
    id: strawberry.ID = strawberry.field(description="活动的全局 ID。")


@strawberry.type(description="活动变更的结果。")
class ActivityPayload:
    activity: Activity | None = strawberry.field(description="变更后的活动。")
    user_errors: list[UserError] = strawberry.field(description="输入错误；为空表示成功。")


@strawberry.type(description="结束活动的结果。")
class FinishActivityPayload:
    activity: Activity | None = strawberry.field(description="结束后的活动。")
    attended: int | None = strawberry.field(description="签到人数。")
    no_shows: int | None = strawberry.field(description="未到人数。")
    user_errors: list[UserError] = strawberry.field(description="输入错误；为空表示成功。")


@strawberry.type(description="取消活动的结果：退还积分由后台任务完成，可凭 jobId 查看。")
class CancelActivityPayload:
    activity: Activity | None = strawberry.field(description="已取消的活动。")
    job_id: strawberry.ID | None = strawberry.field(description="退还积分的后台任务。")
    user_errors: list[UserError] = strawberry.field(description="输入错误；为空表示成功。")


@strawberry.input(
    description="报名：家长为自己的孩子，或辅导员为辖区内的一组队员（全部可报才报名，否则都不报）。"
)
class SignUpForActivityInput:
    activity_id: strawberry.ID = strawberry.field(description="活动的全局 ID。")
    pupil_ids: list[strawberry.ID] = strawberry.field(description="队员的全局 ID（最多 500）。")


@strawberry.type(description="报名的结果：名额内的已确认，其余按先后候补。")
class SignupsPayload:
    signups: list[ActivitySignup] = strawberry.field(description="各队员的报名。")
    user_errors: list[UserError] = strawberry.field(description="输入错误；为空表示成功。")


@strawberry.input(description="取消一条报名（在取消截止时间之前），预留的积分退还。")
class CancelSignupInput:
    signup_id: strawberry.ID = strawberry.field(description="报名的全局 ID。")


@strawberry.type(description="一条报名变更的结果。")
class SignupPayload:
    signup: ActivitySignup | None = strawberry.field(description="变更后的报名。")
    user_errors: list[UserError] = strawberry.field(description="输入错误；为空表示成功。")


@strawberry.input(description="签到：辅导员或组织者为到场的队员签到，积分随之结算、奖励发放。")
class CheckInInput:
    activity_id: strawberry.ID = strawberry.field(description="活动的全局 ID。")
    pupil_id: strawberry.ID = strawberry.field(description="队员的全局 ID。")


@strawberry.input(description="家长凭现场公布的签到码为自己的孩子签到（活动开始前 1 小时起）。")
class CheckInWithCodeInput:
    activity_id: strawberry.ID = strawberry.field(description="活动的全局 ID。")
    pupil_id: strawberry.ID = strawberry.field(description="孩子的全局 ID。")
    code: str = strawberry.field(description="现场公布的 6 位签到码。")


@strawberry.type(description="新的签到码：在现场公布；再生成一次则旧码作废。")
class CheckinCodePayload:
    code: str | None = strawberry.field(description="6 位签到码。")
    user_errors: list[UserError] = strawberry.field(description="输入错误；为空表示成功。")
