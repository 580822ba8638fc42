"""Collection tasks (征集): organising them, pupils' submissions, and the counselor's review.

A task is organised by a unit (county, township, school or squadron) for the pupils placed
under it, of some grades, within a window. An online lesson (红领巾爱学习) is completed: the
completion is recorded as an approved submission and rewarded at once. A work (text and file
references) or a feedback form is submitted, may be replaced while it waits or after it was
sent back, and is reviewed by a counselor: approved (rewarded, final) or rejected with a note.

The reward comes from the county's pool (ledger key `task:<task>:reward:<submission>`, ledger
kind `task`); the task's special badge is awarded through `domain.badges.awards`, which grants
the badge's own points by the county's rule (key `award:<award>`), so the pupil receives the
task's reward plus the badge's points, each once, and nothing here pays the badge's points
again. A pupil already holding the badge that academic year (from another task, or awarded
directly) keeps the one award: the submission records it, and no second badge or points come.

Each submission row is locked (`FOR UPDATE`) before it changes, so of two counselors approving
at once one approves and the other is told it was reviewed already; a completion or a first
submission racing another of the same pupil meets the unique (task, pupil) key and carries on
with the row that won. Every function runs in the caller's county transaction and never
commits; a refusal raises, and the caller's transaction must then roll back.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from authz.enforcer import ListScope
from authz.sql import scope_predicate
from domain import clock
from domain.badges import awards
from domain.badges.tables import LIVE, BadgeLevel, badge_awards
from domain.ledger import service as ledger
from domain.org.tables import units
from domain.people.pupils import academic_year
from domain.people.tables import CURRENT_STATUSES, pupils
from domain.tasks.tables import SubmissionState, TaskKind, TaskState, task_submissions, tasks
from redscarf.errors import Conflict, InvalidInput, NotFound

MAX_POINTS = 100_000
MAX_TITLE = 100
MAX_URL = 500
MAX_TEXT = 5000
MAX_FILES = 9
MAX_ANSWER = 2000
MAX_NOTE = 2000
MAX_QUESTIONS = 30
MAX_CHOICES = 20
MAX_LABEL = 200
QUESTION_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,39}")
QUESTION_FIELDS = frozenset({"key", "label", "kind", "choices", "required"})
EDITABLE = frozenset({"kind", "title", "description", "content_url", "questions", "grades",
                      "opens_at", "closes_at", "reward", "badge_id"})  # fmt: skip
# What may change once pupils can see a task: its words and its end. The rest would change
# what some have already answered, or what they were promised for it.
PUBLISHED_EDITS = frozenset({"title", "description", "closes_at"})


class TaskRefused(InvalidInput):
    code = "INVALID_TASK"
    message = "征集任务信息有误"


class SubmissionRefused(InvalidInput):
    code = "SUBMISSION_REFUSED"
    message = "不能提交"


class InvalidSubmission(InvalidInput):
    code = "INVALID_SUBMISSION"
    message = "提交的内容有误"


class InvalidAnswers(InvalidInput):
    code = "INVALID_ANSWERS"
    message = "问卷回答有误"


class AlreadyApproved(Conflict):
    code = "ALREADY_APPROVED"
    message = "已通过审核的作品不能再修改或重新提交"


class AlreadyReviewed(Conflict):
    code = "ALREADY_REVIEWED"
    message = "这份提交已审核过"


@dataclass(frozen=True)
class Submission:
    id: int
    state: SubmissionState


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --- organising --------------------------------------------------------------------------------


def _url(value: object, schemes: tuple[str, ...]) -> str | None:
    """`value` stripped when it is a link of one of `schemes` to a host, at most MAX_URL long."""
    if not isinstance(value, str):
        return None
    url = value.strip()
    if len(url) > MAX_URL or any(c.isspace() for c in url):
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:  # e.g. an unclosed [ of an IPv6 address
        return None
    return url if parts.scheme in schemes and host else None


def _question(n: int, q: object, seen: set[str]) -> dict[str, Any]:
    def bad(why: str) -> TaskRefused:
        return TaskRefused(f"问卷第 {n} 题{why}", code="INVALID_QUESTIONS")

    if not isinstance(q, dict) or set(q) - QUESTION_FIELDS:
        raise bad("应只有 key、label、kind、choices、required")
    key, label, kind = q.get("key"), q.get("label"), q.get("kind")
    if not isinstance(key, str) or not QUESTION_KEY.fullmatch(key):
        raise bad("的编号应以字母开头，由字母、数字或下划线组成（至多 40 个）")
    if key in seen:
        raise bad(f"的编号 {key} 与前面的题目重复")
    if not isinstance(label, str) or not 1 <= len(label.strip()) <= MAX_LABEL:
        raise bad(f"的题目应为 1–{MAX_LABEL} 个字")
    required = q.get("required", False)
    if not isinstance(required, bool):
        raise bad("的 required 应为 true 或 false")
    choices = q.get("choices") or []
    if kind == "text" and choices:
        raise bad("是填空题，不应有选项")
    if kind == "choice" and not (
        isinstance(choices, list)
        and 2 <= len(choices) <= MAX_CHOICES
        and all(isinstance(c, str) and 1 <= len(c.strip()) <= MAX_LABEL for c in choices)
        and len({c.strip() for c in choices}) == len(choices)
    ):
        raise bad(f"是选择题，应有 2–{MAX_CHOICES} 个不重复的选项")
    if kind not in ("text", "choice"):
        raise bad("的类型应为 text（填空）或 choice（选择）")
    seen.add(key)
    return {"key": key, "label": label.strip(), "kind": kind,
            "choices": [c.strip() for c in choices], "required": required}  # fmt: skip


def _questions(value: object) -> list[dict[str, Any]]:
    """A feedback form, normalised (labels and choices stripped, `choices` and `required`
    always present)."""
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_QUESTIONS:
        raise TaskRefused(f"问卷应有 1–{MAX_QUESTIONS} 个问题", code="INVALID_QUESTIONS")
    seen: set[str] = set()
    return [_question(n, q, seen) for n, q in enumerate(value, 1)]


def _checked(conn: Connection, values: dict[str, Any]) -> dict[str, Any]:
    """A whole task's worth of `values`, checked together and normalised."""
    kind, title = values["kind"], (values.get("title") or "").strip()
    if kind not in tuple(TaskKind):
        raise TaskRefused("类型应为 lesson（在线课程）、submission（作品征集）或 feedback（问卷）",
                          code="INVALID_KIND")  # fmt: skip
    if not 1 <= len(title) <= MAX_TITLE:
        raise TaskRefused(f"请填写任务名称（至多 {MAX_TITLE} 个字）", code="TITLE_REQUIRED")
    opens_at, closes_at = values["opens_at"], values["closes_at"]
    if opens_at.tzinfo is None or closes_at.tzinfo is None:
        raise TaskRefused("开始和截止时间须带时区", code="INVALID_WINDOW")
    if closes_at <= opens_at:
        raise TaskRefused("截止时间应晚于开始时间", code="INVALID_WINDOW")
    if not 0 <= values.get("reward", 0) <= MAX_POINTS:
        raise TaskRefused(f"奖励积分应为 0–{MAX_POINTS}", code="INVALID_POINTS")
    grades = values.get("grades")
    if grades is not None and (not grades or any(not 1 <= g <= 9 for g in grades)):
        raise TaskRefused("年级应为 1–9", code="INVALID_GRADES")
    content_url = values.get("content_url")
    if kind == TaskKind.LESSON:
        content_url = _url(content_url, ("http", "https"))
        if content_url is None:
            raise TaskRefused(f"在线课程须有课程链接（http 或 https，至多 {MAX_URL} 个字符）",
                              code="INVALID_CONTENT_URL")  # fmt: skip
    elif content_url is not None:
        raise TaskRefused("只有在线课程有课程链接", code="INVALID_CONTENT_URL")
    questions = values.get("questions")
    if kind == TaskKind.FEEDBACK:
        questions = _questions(questions)
    elif questions is not None:
        raise TaskRefused("只有问卷有问题", code="INVALID_QUESTIONS")
    if values.get("badge_id") is not None:
        badge = awards.badge(conn, values["badge_id"])
        if badge.level != BadgeLevel.SPECIAL:
            raise TaskRefused(f"{badge.name}不是特色章：征集任务只能颁发本县的特色章",
                              code="INVALID_BADGE")  # fmt: skip
    description = (values.get("description") or "").strip() or None
    return {**values, "title": title, "description": description, "content_url": content_url,
            "questions": questions, "grades": sorted(set(grades)) if grades else None}  # fmt: skip


def create_task(
    conn: Connection,
    unit_id: int,
    kind: str,
    title: str,
    *,
    opens_at: dt.datetime,
    closes_at: dt.datetime,
    by: str,
    description: str | None = None,
    content_url: str | None = None,
    questions: Sequence[dict[str, Any]] | None = None,
    grades: Sequence[int] | None = None,
    reward: int = 0,
    badge_id: int | None = None,
) -> int:
    """A draft task organised by `unit_id` (a county, township, school or squadron)."""
    organiser = conn.execute(select(units.c.kind).where(units.c.id == unit_id,
                                                        units.c.archived_at.is_(None))).scalar()  # fmt: skip
    if organiser is None:
        raise NotFound("没有这个单位", code="UNIT_NOT_FOUND")
    if organiser == "team":
        raise TaskRefused("征集任务由县、乡镇（街道）、学校或中队发布", code="INVALID_ORGANISER")
    values = _checked(
        conn,
        {"kind": kind, "title": title, "description": description, "content_url": content_url,
         "questions": list(questions) if questions is not None else None,
         "grades": list(grades) if grades is not None else None, "opens_at": opens_at,
         "closes_at": closes_at, "reward": reward, "badge_id": badge_id},
    )  # fmt: skip
    return int(
        conn.execute(
            insert(tasks).values(unit_id=unit_id, created_by=by, **values).returning(tasks.c.id)
        ).scalar_one()
    )


def _task(conn: Connection, task_id: int, *, lock: bool = False, share: bool = False) -> Any:
    query = select(tasks).where(tasks.c.id == task_id)
    if lock or share:
        query = query.with_for_update(read=share and not lock)
    row = conn.execute(query).first()
    if row is None:
        raise NotFound("没有这项征集任务", code="TASK_NOT_FOUND")
    return row


def update_task(conn: Connection, task_id: int, values: dict[str, Any]) -> None:
    """Change a draft freely; once published only its title, description and closing time;
    a closed task not at all."""
    task = _task(conn, task_id, lock=True)
    if unknown := set(values) - EDITABLE:
        raise TaskRefused(f"不能修改：{'、'.join(sorted(unknown))}", code="NOT_EDITABLE")
    if task.state == TaskState.CLOSED:
        raise TaskRefused("已结束的征集任务不能修改", code="NOT_EDITABLE")
    if task.state != TaskState.DRAFT and set(values) - PUBLISHED_EDITS:
        raise TaskRefused("已发布的征集任务只能修改名称、说明和截止时间", code="NOT_EDITABLE")
    checked = _checked(conn, {**{k: getattr(task, k) for k in EDITABLE}, **values})
    if values:
        conn.execute(
            update(tasks).where(tasks.c.id == task_id).values({k: checked[k] for k in values})
        )


def _move(conn: Connection, task_id: int, allowed: tuple[TaskState, ...], to: TaskState,
          message: str) -> None:  # fmt: skip
    task = _task(conn, task_id, lock=True)
    if task.state == to:
        return
    if task.state not in allowed:
        raise TaskRefused(message, code="INVALID_STATE")
    conn.execute(update(tasks).where(tasks.c.id == task_id).values(state=to.value))


def publish_task(conn: Connection, task_id: int) -> None:
    """Pupils can see it and take part in its window (publishing again changes nothing)."""
    _move(conn, task_id, (TaskState.DRAFT,), TaskState.PUBLISHED, "只有草稿可以发布")


def close_task(conn: Connection, task_id: int) -> None:
    """No more submissions or completions; what was submitted can still be reviewed."""
    _move(conn, task_id, (TaskState.DRAFT, TaskState.PUBLISHED), TaskState.CLOSED,
          "征集任务已结束")  # fmt: skip


# --- taking part ---------------------------------------------------------------------------


def _open_for(conn: Connection, task: Any, pupil_id: int, now: dt.datetime) -> None:
    """The task takes part now, and the pupil is one it is for: current, placed (team, else
    squadron) under the organiser, of an eligible grade."""
    if task.state != TaskState.PUBLISHED:
        raise SubmissionRefused("这项征集任务不在进行中", code="TASK_NOT_OPEN")
    if not task.opens_at <= now <= task.closes_at:
        raise SubmissionRefused("不在征集时间内", code="OUTSIDE_WINDOW")
    place, organiser = units.alias("place"), units.alias("organiser")
    row = conn.execute(
        select(pupils.c.grade, pupils.c.status,
               place.c.path.op("<@", is_comparison=True)(organiser.c.path).label("under"))
        .join(place, place.c.id == func.coalesce(pupils.c.team_id, pupils.c.squadron_id))
        .join(organiser, organiser.c.id == task.unit_id)
        .where(pupils.c.id == pupil_id)
    ).first()  # fmt: skip
    if row is None:
        raise NotFound("没有这名队员", code="PUPIL_NOT_FOUND")
    if row.status not in CURRENT_STATUSES:
        raise SubmissionRefused("只有在册队员可以参加", code="PUPIL_NOT_CURRENT")
    if not row.under:
        raise SubmissionRefused("这项征集只面向发布单位的队员", code="NOT_ELIGIBLE")
    if task.grades and row.grade not in task.grades:
        raise SubmissionRefused(f"这项征集只面向 {'、'.join(map(str, task.grades))} 年级",
                                code="NOT_ELIGIBLE")  # fmt: skip


def _work(text: str | None, file_urls: Sequence[str]) -> tuple[str | None, list[str]]:
    words = (text or "").strip() or None
    if words is not None and len(words) > MAX_TEXT:
        raise InvalidSubmission(f"文字至多 {MAX_TEXT} 个字（现有 {len(words)} 个）")
    if isinstance(file_urls, str):
        raise InvalidSubmission("文件地址应为一组链接")
    files = [_url(f, ("https",)) for f in file_urls]
    if any(f is None for f in files):
        raise InvalidSubmission(f"文件地址应为 https 链接（至多 {MAX_URL} 个字符）")
    unique = list(dict.fromkeys(f for f in files if f is not None))
    if len(unique) > MAX_FILES:
        raise InvalidSubmission(f"至多提交 {MAX_FILES} 个文件")
    if words is None and not unique:
        raise InvalidSubmission("请填写文字或提交作品文件")
    return words, unique


def _answers(form: list[dict[str, Any]], given: object) -> dict[str, str]:
    """The answers to a feedback form, stripped; unanswered optional questions left out."""
    if not isinstance(given, dict):
        raise InvalidAnswers("请填写问卷")
    if unknown := sorted(set(given) - {q["key"] for q in form}, key=str):
        raise InvalidAnswers(f"问卷中没有这些问题：{'、'.join(map(str, unknown))}")
    answers: dict[str, str] = {}
    for q in form:
        value = given.get(q["key"])
        if value is None or (isinstance(value, str) and not value.strip()):
            if q["required"]:
                raise InvalidAnswers(f"请回答：{q['label']}")
            continue
        if not isinstance(value, str):
            raise InvalidAnswers(f"“{q['label']}”的回答应为文字")
        value = value.strip()
        if q["kind"] == "choice" and value not in q["choices"]:
            raise InvalidAnswers(f"“{q['label']}”请从选项中选择：{'、'.join(q['choices'])}")
        if q["kind"] == "text" and len(value) > MAX_ANSWER:
            raise InvalidAnswers(f"“{q['label']}”的回答至多 {MAX_ANSWER} 个字")
        answers[q["key"]] = value
    if not answers:
        raise InvalidAnswers("请至少回答一个问题")
    return answers


def _content(task: Any, text: str | None, file_urls: Sequence[str],
             answers: object) -> dict[str, Any]:  # fmt: skip
    """What a submission of this task's kind holds (refusing what belongs to the other kind)."""
    if task.kind == TaskKind.SUBMISSION:
        if answers is not None:
            raise InvalidSubmission("作品征集不需要填写问卷")
        words, files = _work(text, file_urls)
        return {"text": words, "file_urls": files, "answers": None}
    if (text or "").strip() or file_urls:
        raise InvalidSubmission("问卷只需填写各题的回答")
    return {"text": None, "file_urls": [], "answers": _answers(task.questions, answers)}


def _own(conn: Connection, task_id: int, pupil_id: int) -> Any:
    return conn.execute(
        select(task_submissions)
        .where(task_submissions.c.task_id == task_id, task_submissions.c.pupil_id == pupil_id)
        .with_for_update()
    ).first()


def _first(conn: Connection, task_id: int, pupil_id: int, values: dict[str, Any]) -> int | None:
    """Insert the pupil's first submission; None when another transaction's came first (this
    waits for it to commit, as the unique key makes it)."""
    found = conn.execute(
        pg_insert(task_submissions)
        .values(task_id=task_id, pupil_id=pupil_id, **values)
        .on_conflict_do_nothing(index_elements=["task_id", "pupil_id"])
        .returning(task_submissions.c.id)
    ).scalar()
    return int(found) if found is not None else None


def submit(
    conn: Connection,
    task_id: int,
    pupil_id: int,
    *,
    by: str,
    text: str | None = None,
    file_urls: Sequence[str] = (),
    answers: dict[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> Submission:
    """A work (text or file references) or a feedback form's answers, for review. A pupil's
    earlier submission is replaced while it waits or after it was rejected (waiting again);
    refused once approved."""
    now = now or _now()
    task = _task(conn, task_id, share=True)  # not closed or edited under the submission
    if task.kind == TaskKind.LESSON:
        raise SubmissionRefused("在线课程请记录“完成学习”，不需提交", code="IS_A_LESSON")
    _open_for(conn, task, pupil_id, now)
    values = {**_content(task, text, file_urls, answers), "state": SubmissionState.SUBMITTED.value,
              "submitted_by": by, "submitted_at": func.now(), "reviewed_by": None,
              "reviewed_at": None, "review_note": None}  # fmt: skip
    row = _own(conn, task_id, pupil_id)
    if row is None:
        pk = _first(conn, task_id, pupil_id, values)
        if pk is not None:
            return Submission(pk, SubmissionState.SUBMITTED)
        row = _own(conn, task_id, pupil_id)
    if row.state == SubmissionState.APPROVED:
        raise AlreadyApproved()
    conn.execute(update(task_submissions).where(task_submissions.c.id == row.id).values(**values))
    return Submission(int(row.id), SubmissionState.SUBMITTED)


def complete_lesson(conn: Connection, task_id: int, pupil_id: int, *, by: str,
                    now: dt.datetime | None = None) -> Submission:  # fmt: skip
    """The pupil has completed an online lesson: recorded as an approved submission, its reward
    and badge granted at once. Completing again changes nothing and returns the same one."""
    now = now or _now()
    task = _task(conn, task_id, share=True)
    if task.kind != TaskKind.LESSON:
        raise SubmissionRefused("这项征集不是在线课程", code="NOT_A_LESSON")
    row = _own(conn, task_id, pupil_id)
    if row is not None:
        return Submission(int(row.id), SubmissionState(row.state))
    _open_for(conn, task, pupil_id, now)
    pk = _first(conn, task_id, pupil_id,
                {"state": SubmissionState.APPROVED.value, "submitted_by": by, "reviewed_by": by,
                 "reviewed_at": func.now()})  # fmt: skip
    if pk is None:  # a completion of the same pupil committed meanwhile (a double tap)
        row = _own(conn, task_id, pupil_id)
        return Submission(int(row.id), SubmissionState(row.state))
    _reward(conn, task, pk, pupil_id, by=by)
    return Submission(pk, SubmissionState.APPROVED)


# --- review --------------------------------------------------------------------------------


def _badge(conn: Connection, task: Any, pupil_id: int, *, by: str) -> int:
    """The task's special badge for the pupil (with the badge's own points); the award the
    pupil holds already this academic year, if any."""
    today = clock.today()
    year = academic_year(today)
    try:
        (award_id,) = awards.award(conn, task.badge_id, [pupil_id], year, by=by,
                                   evidence=f"征集任务：{task.title}", today=today)  # fmt: skip
    except awards.DuplicateAward:
        award_id = conn.execute(
            select(badge_awards.c.id).where(
                badge_awards.c.badge_id == task.badge_id,
                badge_awards.c.pupil_id == pupil_id,
                badge_awards.c.academic_year == year,
                badge_awards.c.state.in_([s.value for s in LIVE]),
            )
        ).scalar_one()
    return int(award_id)


def _reward(conn: Connection, task: Any, submission_id: int, pupil_id: int, *, by: str) -> None:
    """The task's badge and reward, recorded on the submission (each is granted once: the
    ledger key and the badge's unique award make a retry find what was done)."""
    award_id = _badge(conn, task, pupil_id, by=by) if task.badge_id is not None else None
    transaction_id = None
    if task.reward:
        account = ledger.pupil_account(conn, pupil_id)
        transaction_id = ledger.post(
            conn, f"task:{task.id}:reward:{submission_id}", "task",
            [(ledger.pool(conn), -task.reward), (account, task.reward)], memo=task.title, by=by,
        ).transaction_id  # fmt: skip
    conn.execute(
        update(task_submissions)
        .where(task_submissions.c.id == submission_id)
        .values(award_id=award_id, transaction_id=transaction_id)
    )


def review(conn: Connection, submission_id: int, *, approve: bool, note: str | None = None,
           by: str) -> Submission:  # fmt: skip
    """A counselor approves a waiting submission (reward and badge granted) or rejects it with
    a note (the family may submit again). A submission is reviewed once."""
    row = conn.execute(
        select(task_submissions).where(task_submissions.c.id == submission_id).with_for_update()
    ).first()
    if row is None:
        raise NotFound("没有这份提交", code="SUBMISSION_NOT_FOUND")
    if row.state != SubmissionState.SUBMITTED:
        raise AlreadyReviewed(
            "这份提交已审核通过" if row.state == SubmissionState.APPROVED
            else "这份提交已退回，待重新提交后再审核"
        )  # fmt: skip
    note = (note or "").strip() or None
    if note is not None and len(note) > MAX_NOTE:
        raise InvalidInput(f"审核意见至多 {MAX_NOTE} 个字", code="INVALID_NOTE")
    if not approve and note is None:
        raise InvalidInput("退回须写明理由，家长和队员才知道如何修改", code="NOTE_REQUIRED")
    state = SubmissionState.APPROVED if approve else SubmissionState.REJECTED
    if approve:
        status = conn.execute(select(pupils.c.status).where(pupils.c.id == row.pupil_id)).scalar()
        if status not in CURRENT_STATUSES:
            raise SubmissionRefused("这名队员已不在册，不能通过审核", code="PUPIL_NOT_CURRENT")
    conn.execute(
        update(task_submissions)
        .where(task_submissions.c.id == submission_id)
        .values(state=state.value, reviewed_by=by, reviewed_at=func.now(), review_note=note)
    )
    if approve:
        _reward(conn, _task(conn, row.task_id), submission_id, row.pupil_id, by=by)
    return Submission(submission_id, state)


# --- figures -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Completions:
    approved: int
    """Approved submissions and completed lessons (person-times)."""
    pupils: int
    """Different pupils among them."""


def completions(conn: Connection, within: str | None = None) -> dict[TaskKind, Completions]:
    """Approved submissions by kind of task, of the pupils placed (now) under the unit path
    `within` (None: the whole county)."""
    place = units.alias("place")
    query = (
        select(tasks.c.kind, func.count(), func.count(func.distinct(task_submissions.c.pupil_id)))
        .select_from(task_submissions)
        .join(tasks, tasks.c.id == task_submissions.c.task_id)
        .join(pupils, pupils.c.id == task_submissions.c.pupil_id)
        .join(place, place.c.id == func.coalesce(pupils.c.team_id, pupils.c.squadron_id))
        .where(task_submissions.c.state == SubmissionState.APPROVED.value)
        .group_by(tasks.c.kind)
    )
    if within is not None:
        query = query.where(scope_predicate(ListScope(paths=(within,)), place.c.path))
    found = {TaskKind(kind): Completions(int(n), int(p)) for kind, n, p in conn.execute(query)}
    return {kind: found.get(kind, Completions(0, 0)) for kind in TaskKind}
