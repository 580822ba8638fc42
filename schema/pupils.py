"""GraphQL types of pupils (队员): the roster a counselor pages through."""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from domain.people.pupils import ID_NUMBER
from domain.personal.id_numbers import mask_id_number
from resolvers.paging import After, Before, First, Last, page_of
from resolvers.people import PupilRecord
from schema.badges import BadgeAward
from schema.context import Context, resolved
from schema.ids import encode_global_id, encode_key_cursor
from schema.node import Counted, Node, PageInfo
from schema.org import Unit
from schema.points import (
    ArchiveEntry,
    ArchiveKind,
    PointsBalance,
    PointsEntry,
    PointsEntryConnection,
    PointsEntryEdge,
    PointsEntryKind,
)
from schema.user_errors import UserError

if TYPE_CHECKING:
    from schema.activities import ActivitySignup
    from schema.exchange import Redemption
    from schema.tasks import TaskSubmission


@strawberry.enum(description="队员状态。")
class PupilStatus(enum.Enum):
    PRE_MEMBER = strawberry.enum_value("pre_member", description="预备队员（尚未入队）")
    MEMBER = strawberry.enum_value("member", description="少先队员")
    LEFT = strawberry.enum_value("left", description="已离队")
    JOINED_LEAGUE = strawberry.enum_value("joined_league", description="已离队入团")
    TRANSFERRED = strawberry.enum_value("transferred", description="已转出")


@strawberry.enum(description="性别。")
class Gender(enum.Enum):
    MALE = strawberry.enum_value("male", description="男")
    FEMALE = strawberry.enum_value("female", description="女")


def mask_date(value: dt.date) -> str:
    """Year only: enough for age groups, not enough to identify a child."""
    return f"{value.year:04d}-**-**"


@strawberry.type(description="少先队员（或预备队员）。个人信息默认脱敏显示。")
class Pupil(Node):
    row_id: strawberry.Private[int]
    county: strawberry.Private[str]
    record: strawberry.Private[PupilRecord]
    name: str = strawberry.field(description="姓名。")
    gender: Gender = strawberry.field(description="性别。")
    grade: int = strawberry.field(description="年级（1–9）。")
    status: PupilStatus = strawberry.field(description="状态。")
    joined_on: dt.date | None = strawberry.field(description="入队日期。")

    @classmethod
    def from_record(cls, r: PupilRecord, county: str) -> Pupil:
        return cls(
            id=strawberry.ID(encode_global_id("Pupil", county, r.id)),
            row_id=r.id,
            county=county,
            record=r,
            name=r.name,
            gender=Gender(r.gender),
            grade=r.grade,
            status=PupilStatus(r.status),
            joined_on=r.joined_on,
        )

    @strawberry.field(description="所在中队。")
    def squadron(self, info: Info[Context, None]) -> Unit | None:
        # A plain function: a roster page has its squadrons loaded already (resolvers.pupils),
        # and then no task is made for each pupil's; else graphql-core awaits the load.
        return resolved(  # type: ignore[return-value]
            info.context.org.unit,
            self.record.squadron_id,
            lambda record: Unit.from_record(record, self.county) if record else None,
        )

    @strawberry.field(description="奖章：已颁发的、评选中的和撤销的，按时间先后。")
    async def badges(self, info: Info[Context, None]) -> list[BadgeAward]:
        return await info.context.badge_awards.load(self.row_id)

    @strawberry.field(description="活动报名：报名过的活动及状态，最新的在前。")
    async def activity_signups(
        self, info: Info[Context, None]
    ) -> list[Annotated[ActivitySignup, strawberry.lazy("schema.activities")]]:
        return await info.context.activity_signups.load(self.row_id)

    @strawberry.field(
        description="积分兑换：兑换的物品、状态，以及（家长可见的）兑换码，最新的在前。"
    )
    async def redemptions(
        self, info: Info[Context, None]
    ) -> list[Annotated[Redemption, strawberry.lazy("schema.exchange")]]:
        return await info.context.redemptions.load(self.row_id)

    @strawberry.field(
        description="征集任务的提交和完成的课程，最新的在前（家长和审核的辅导员可见）。"
    )
    async def task_submissions(
        self, info: Info[Context, None]
    ) -> list[Annotated[TaskSubmission, strawberry.lazy("schema.tasks")]]:
        return await info.context.task_submissions.load(self.row_id)

    @strawberry.field(
        description="成长档案：入队、奖章、积分等，按时间先后（导出：GET /exports/archive.{json,xlsx,html}?pupil=ID）。"
    )
    async def archive(self, info: Info[Context, None]) -> list[ArchiveEntry]:
        events = await info.context.archives.load(self.row_id)
        return [
            ArchiveEntry(on=e.on, kind=ArchiveKind(e.kind), title=e.title, detail=e.detail,
                         points=e.points)
            for e in events
        ]  # fmt: skip

    @strawberry.field(description="积分：余额、预留和可用。")
    async def points(self, info: Info[Context, None]) -> PointsBalance:
        found = await info.context.points.load(self.row_id)
        return PointsBalance(
            balance=found.balance, held=found.held, available=found.balance - found.held
        )

    @strawberry.field(description="积分明细，最新的在前（每笔都有其后的余额）。")
    async def points_history(
        self,
        info: Info[Context, None],
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> PointsEntryConnection:
        page = page_of(first, after, last, before)
        fetched = await info.context.points_history.load((self.row_id, page))
        edges = [
            PointsEntryEdge(
                cursor=encode_key_cursor(e.posting_id),
                node=PointsEntry(
                    amount=e.amount,
                    kind=PointsEntryKind.of(e.kind),
                    memo=e.memo,
                    at=e.at,
                    balance_after=e.balance_after,
                ),
            )
            for e in fetched.rows
        ]
        return PointsEntryConnection(
            edges=edges, page_info=fetched.page_info([e.cursor for e in edges])
        )

    @strawberry.field(
        description="出生日期。默认只显示年份（如 `2015-**-**`）；`reveal: true` 显示完整日期，"
        "需要查看个人信息的权限，且会记入审计日志。"
    )
    def birth_date(
        self,
        info: Info[Context, None],
        reveal: Annotated[
            bool, strawberry.argument(description="显示完整日期（记入审计日志）。")
        ] = False,
    ) -> str | None:
        # A plain function, so that the masked date of each pupil on a page costs no task;
        # revealing it is awaited (graphql-core awaits what a resolver returns).
        value = self.record.birth_date
        if value is None:
            return None
        if not reveal:
            return mask_date(value)
        return self._revealed_birth_date(info, value)  # type: ignore[return-value]

    async def _revealed_birth_date(self, info: Info[Context, None], value: dt.date) -> str:
        rels = "bound" if self.record.bound else ""
        await info.context.require("pupil.personal", "read", self.record.path, rels)
        await info.context.reveals.load(("Pupil", self.row_id, "birthDate"))
        return value.isoformat()

    @strawberry.field(
        description="身份证号码。默认脱敏（如 `469***********123X`）；`reveal: true` 显示全文，"
        "需要查看个人信息的权限，且会记入审计日志。"
    )
    async def id_number(
        self,
        info: Info[Context, None],
        reveal: Annotated[
            bool, strawberry.argument(description="显示全文（记入审计日志）。")
        ] = False,
    ) -> str | None:
        stored = self.record.id_number_enc
        if stored is None:
            return None
        cipher = info.context.services.keys.cipher
        value = cipher.decrypt(stored, context=ID_NUMBER)
        if not reveal:
            return mask_id_number(value)
        rels = "bound" if self.record.bound else ""
        await info.context.require("pupil.personal", "read", self.record.path, rels)
        await info.context.reveals.load(("Pupil", self.row_id, "idNumber"))
        return value


@strawberry.type(description="队员列表中的一项。")
class PupilEdge:
    cursor: str = strawberry.field(description="本项的游标。")
    node: Pupil = strawberry.field(description="队员。")


@strawberry.type(description="队员的分页列表（Relay 连接），只含调用者有权看到的队员。")
class PupilConnection(Counted):
    edges: list[PupilEdge] = strawberry.field(description="本页各项。")
    page_info: PageInfo = strawberry.field(description="分页信息。")


@strawberry.input(description="登记一名队员（或预备队员）。")
class CreatePupilInput:
    squadron_id: strawberry.ID = strawberry.field(description="所在中队（全局 ID）。")
    name: str = strawberry.field(description="姓名（可含间隔号，如 阿卜杜·热合曼）。")
    gender: Gender | None = strawberry.field(
        default=None, description="性别；填了身份证号码时可不填（从号码读出）。"
    )
    birth_date: dt.date | None = strawberry.field(
        default=None, description="出生日期；填了身份证号码时可不填。"
    )
    id_number: str | None = strawberry.field(
        default=None, description="身份证号码（18 位，校验位检查；加密保存，只显示脱敏形式）。"
    )
    team_id: strawberry.ID | None = strawberry.field(default=None, description="所在小队。")
    status: PupilStatus = strawberry.field(
        default=PupilStatus.MEMBER, description="少先队员或预备队员（尚未入队）。"
    )
    joined_on: dt.date | None = strawberry.field(default=None, description="入队日期。")
    batch: str | None = strawberry.field(default=None, description="入队批次（分批入队）。")


@strawberry.input(description="更正一名队员的信息（原值记入审计日志）。只改填了的字段。")
class UpdatePupilInput:
    id: strawberry.ID = strawberry.field(description="队员的全局 ID。")
    name: str | None = strawberry.field(default=None, description="姓名。")
    gender: Gender | None = strawberry.field(default=None, description="性别。")
    birth_date: dt.date | None = strawberry.field(default=None, description="出生日期。")
    id_number: str | None = strawberry.field(default=None, description="身份证号码。")


@strawberry.input(description="把队员调到另一个中队（及小队）。")
class MovePupilInput:
    id: strawberry.ID = strawberry.field(description="队员的全局 ID。")
    squadron_id: strawberry.ID = strawberry.field(description="新中队。")
    team_id: strawberry.ID | None = strawberry.field(default=None, description="新小队。")


@strawberry.input(description="改变队员状态：离队、离队入团、转出、转入（重新入队）。")
class ChangePupilStatusInput:
    id: strawberry.ID = strawberry.field(description="队员的全局 ID。")
    status: PupilStatus = strawberry.field(description="新状态。")
    on_date: dt.date = strawberry.field(description="生效日期。")
    note: str | None = strawberry.field(default=None, description="说明。")


@strawberry.input(description="一批预备队员入队（分批入队）。")
class EnrolPupilsInput:
    ids: list[strawberry.ID] = strawberry.field(description="预备队员的全局 ID（最多 500 个）。")
    joined_on: dt.date = strawberry.field(description="入队日期（入队仪式那天）。")
    batch: str = strawberry.field(description="批次，如“2026年秋季第一批”。")


@strawberry.input(description="新学年升级：全县所有中队和在册队员升一个年级。每学年只做一次。")
class PromoteGradesInput:
    academic_year: int = strawberry.field(
        description="学年（以开始的年份计，如 2026 表示 2026–2027 学年）。"
    )


@strawberry.type(description="队员变更的结果。")
class PupilPayload:
    pupil: Pupil | None = strawberry.field(description="变更后的队员。")
    user_errors: list[UserError] = strawberry.field(description="输入错误；为空表示成功。")


@strawberry.type(description="分批入队的结果。")
class EnrolPupilsPayload:
    enrolled: int = strawberry.field(description="本次入队的人数。")
    user_errors: list[UserError] = strawberry.field(description="输入错误；为空表示成功。")


@strawberry.type(description="新学年升级的结果。")
class PromoteGradesPayload:
    pupils: int = strawberry.field(description="升级的队员人数。")
    squadrons: int = strawberry.field(description="升级的中队数。")
    already_done: bool = strawberry.field(description="该学年已升级过（本次未作改动）。")
    user_errors: list[UserError] = strawberry.field(description="输入错误；为空表示成功。")
