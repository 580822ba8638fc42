"""GraphQL types of collection tasks (征集): online lessons (红领巾爱学习), work submissions and
feedback forms, and the counselor's review."""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from resolvers.paging import After, Before, First, Last, page_of
from schema.badges import Badge
from schema.context import Context
from schema.node import Counted, Node, PageInfo
from schema.org import Unit
from schema.user_errors import UserError

if TYPE_CHECKING:
    from schema.pupils import Pupil


@strawberry.enum(description="征集任务的类型。")
class TaskKind(enum.Enum):
    LESSON = strawberry.enum_value(
        "lesson", description="在线课程（红领巾爱学习）：学完即记录并奖励"
    )
    SUBMISSION = strawberry.enum_value(
        "submission", description="作品征集：文字或作品链接，辅导员审核"
    )
    FEEDBACK = strawberry.enum_value("feedback", description="问卷：按题目作答，辅导员审核")


@strawberry.enum(description="征集任务的状态。")
class TaskState(enum.Enum):
    DRAFT = strawberry.enum_value("draft", description="草稿（只有组织者看得到）")
    PUBLISHED = strawberry.enum_value("published", description="进行中（在起止时间内可参加）")
    CLOSED = strawberry.enum_value("closed", description="已结束（已提交的仍可审核）")


@strawberry.enum(description="一份提交的状态。")
class SubmissionState(enum.Enum):
    SUBMITTED = strawberry.enum_value("submitted", description="待审核")
    APPROVED = strawberry.enum_value("approved", description="已通过（积分和奖章已发放）")
    REJECTED = strawberry.enum_value("rejected", description="已退回（可修改后再提交）")


@strawberry.enum(description="问卷题目的类型。")
class QuestionKind(enum.Enum):
    TEXT = strawberry.enum_value("text", description="填空")
    CHOICE = strawberry.enum_value("choice", description="单选")


@strawberry.type(description="问卷的一道题。")
class TaskQuestion:
    key: str = strawberry.field(description="题目编号（作答时用）。")
    label: str = strawberry.field(description="题目。")
    kind: QuestionKind = strawberry.field(description="类型。")
    choices: list[str] = strawberry.field(description="选项（单选题）。")
    required: bool = strawberry.field(description="是否必答。")


@strawberry.type(description="一项征集任务（县、乡镇、学校或中队发布）。")
class CollectionTask(Node):
    row_id: strawberry.Private[int]
    unit_id: strawberry.Private[int]
    badge_id: strawberry.Private[int | None]
    county: strawberry.Private[str]
    kind: TaskKind = strawberry.field(description="类型。")
    title: str = strawberry.field(description="名称。")
    description: str | None = strawberry.field(description="说明。")
    content_url: str | None = strawberry.field(description="在线课程的链接。")
    questions: list[TaskQuestion] | None = strawberry.field(description="问卷的题目。")
    grades: list[int] | None = strawberry.field(description="面向的年级；为空则不限。")
    opens_at: dt.datetime = strawberry.field(description="开始时间。")
    closes_at: dt.datetime = strawberry.field(description="截止时间。")
    reward: int = strawberry.field(description="完成或通过审核后奖励的积分。")
    state: TaskState = strawberry.field(description="状态。")
    created_at: dt.datetime = strawberry.field(description="创建时间。")

    @strawberry.field(description="组织单位。")
    async def organiser(self, info: Info[Context, None]) -> Unit | None:
        record = await info.context.org.unit.load(self.unit_id)
        return Unit.from_record(record, self.county) if record else None

    @strawberry.field(description="完成或通过审核后颁发的特色章（其积分按本县规则另行发放）。")
    async def badge(self, info: Info[Context, None]) -> Badge | None:
        from resolvers.tasks import badge_of_task

        return await badge_of_task(info.context, self)

    @strawberry.field(
        description="提交（最早的在前）：审核者看到其辖区内队员的，家长看到自己孩子的。"
    )
    async def submissions(
        self,
        info: Info[Context, None],
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        state: Annotated[
            SubmissionState | None, strawberry.argument(description="只列出该状态。")
        ] = None,
    ) -> TaskSubmissionConnection:
        from resolvers.tasks import submissions_of_task

        page = page_of(first, after, last, before)
        return await submissions_of_task(info.context, self.row_id, page, state)


@strawberry.type(description="问卷中一道题的回答。")
class TaskAnswer:
    key: str = strawberry.field(description="题目编号。")
    value: str = strawberry.field(description="回答。")


@strawberry.type(description="一份提交：队员的作品、问卷回答或完成的课程。")
class TaskSubmission(Node):
    row_id: strawberry.Private[int]
    task_id: strawberry.Private[int]
    pupil_id: strawberry.Private[int]
    state: SubmissionState = strawberry.field(description="状态。")
    text: str | None = strawberry.field(description="文字。")
    file_urls: list[str] = strawberry.field(description="作品链接（图片、视频等，存放在别处）。")
    answers: list[TaskAnswer] = strawberry.field(description="问卷的回答。")
    submitted_at: dt.datetime = strawberry.field(description="提交时间。")
    reviewed_at: dt.datetime | None = strawberry.field(description="审核时间。")
    review_note: str | None = strawberry.field(description="审核意见（退回时必有）。")

    @strawberry.field(description="提交的队员（调用者看得到该队员时）。")
    async def pupil(
        self, info: Info[Context, None]
    ) -> Annotated[Pupil, strawberry.lazy("schema.pupils")] | None:
        from resolvers.pupils import visible_pupil

        return await visible_pupil(info.context, self.pupil_id)

    @strawberry.field(description="征集任务。")
    async def task(self, info: Info[Context, None]) -> CollectionTask | None:
        from resolvers.tasks import task_by_id

        return await task_by_id(info.context, self.task_id)


@strawberry.type(description="提交列表中的一项。")
class TaskSubmissionEdge:
    cursor: str = strawberry.field(description="本项的游标。")
    node: TaskSubmission = strawberry.field(description="提交。")


@strawberry.type(description="提交列表，Relay 游标分页。")
class TaskSubmissionConnection(Counted):
    edges: list[TaskSubmissionEdge] = strawberry.field(description="本页各项。")
    page_info: PageInfo = strawberry.field(description="分页信息。")


@strawberry.type(description="征集任务列表中的一项。")
class CollectionTaskEdge:
    cursor: str = strawberry.field(description="本项的游标。")
    node: CollectionTask = strawberry.field(description="征集任务。")


@strawberry.type(description="征集任务列表（新建的在前），Relay 游标分页。")
class CollectionTaskConnection(Counted):
    edges: list[CollectionTaskEdge] = strawberry.field(description="本页各项。")
    page_info: PageInfo = strawberry.field(description="分页信息。")


@strawberry.input(description="问卷的一道题。")
class TaskQuestionInput:
    key: str = strawberry.field(description="题目编号：字母开头，字母、数字或下划线。")
    label: str = strawberry.field(description="题目。")
    kind: QuestionKind = strawberry.field(description="类型。")
    choices: list[str] | None = strawberry.field(default=None, description="单选题的选项。")
    required: bool = strawberry.field(default=False, description="是否必答。")


@strawberry.input(description="新建一项征集任务（草稿）。")
class CreateCollectionTaskInput:
    organiser_id: strawberry.ID = strawberry.field(
        description="组织单位（县、乡镇、学校或中队）；只有其下的队员可参加。"
    )
    kind: TaskKind = strawberry.field(description="类型。")
    title: str = strawberry.field(description="名称。")
    description: str | None = strawberry.field(default=None, description="说明。")
    content_url: str | None = strawberry.field(default=None, description="在线课程的链接。")
    questions: list[TaskQuestionInput] | None = strawberry.field(
        default=None, description="问卷的题目（1–30 道）。"
    )
    grades: list[int] | None = strawberry.field(default=None, description="面向的年级。")
    opens_at: dt.datetime = strawberry.field(description="开始时间。")
    closes_at: dt.datetime = strawberry.field(description="截止时间。")
    reward: int = strawberry.field(default=0, description="奖励的积分。")
    badge_id: strawberry.ID | None = strawberry.field(default=None, description="颁发的特色章。")


@strawberry.input(
    description="修改征集任务：草稿可改任何一项；已发布的只能改名称、说明和截止时间。"
)
class UpdateCollectionTaskInput:
    id: strawberry.ID = strawberry.field(description="征集任务的全局 ID。")
    title: str | None = strawberry.field(default=None, description="名称。")
    description: str | None = strawberry.field(default=None, description="说明。")
    content_url: str | None = strawberry.field(default=None, description="在线课程的链接。")
    questions: list[TaskQuestionInput] | None = strawberry.field(default=None, description="题目。")
    grades: list[int] | None = strawberry.field(default=None, description="面向的年级。")
    opens_at: dt.datetime | None = strawberry.field(default=None, description="开始时间。")
    closes_at: dt.datetime | None = strawberry.field(default=None, description="截止时间。")
    reward: int | None = strawberry.field(default=None, description="奖励的积分。")
    badge_id: strawberry.ID | None = strawberry.field(default=None, description="颁发的特色章。")


@strawberry.input(description="对一项征集任务的操作（发布、结束）。")
class CollectionTaskInput:
    id: strawberry.ID = strawberry.field(description="征集任务的全局 ID。")


@strawberry.type(description="征集任务变更的结果。")
class CollectionTaskPayload:
    task: CollectionTask | None = strawberry.field(description="变更后的征集任务。")
    user_errors: list[UserError] = strawberry.field(description="输入错误；为空表示成功。")


@strawberry.input(description="问卷中一道题的回答。")
class TaskAnswerInput:
    key: str = strawberry.field(description="题目编号。")
    value: str = strawberry.field(description="回答（单选题填选项原文）。")


@strawberry.input(
    description="家长为孩子提交作品（文字或作品链接）或问卷回答；待审核或被退回时可再次提交（替换原提交）。"
)
class SubmitTaskWorkInput:
    task_id: strawberry.ID = strawberry.field(description="征集任务的全局 ID。")
    pupil_id: strawberry.ID = strawberry.field(description="孩子的全局 ID。")
    text: str | None = strawberry.field(default=None, description="文字（至多 5000 字）。")
    file_urls: list[str] | None = strawberry.field(
        default=None, description="作品链接（https，至多 9 个）。"
    )
    answers: list[TaskAnswerInput] | None = strawberry.field(default=None, description="问卷回答。")


@strawberry.input(description="记录孩子学完一节在线课程（奖励随即发放，重复记录无副作用）。")
class CompleteLessonInput:
    task_id: strawberry.ID = strawberry.field(description="在线课程的全局 ID。")
    pupil_id: strawberry.ID = strawberry.field(description="孩子的全局 ID。")


@strawberry.input(description="审核一份提交：通过（发放积分和奖章）或退回（须写理由）。")
class ReviewTaskSubmissionInput:
    submission_id: strawberry.ID = strawberry.field(description="提交的全局 ID。")
    approve: bool = strawberry.field(description="true 通过，false 退回。")
    note: str | None = strawberry.field(default=None, description="审核意见（退回时必填）。")


@strawberry.type(description="提交或审核的结果。")
class TaskSubmissionPayload:
    submission: TaskSubmission | None = strawberry.field(description="变更后的提交。")
    user_errors: list[UserError] = strawberry.field(description="输入错误；为空表示成功。")
