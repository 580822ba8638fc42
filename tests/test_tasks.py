"""Collection tasks (征集) as a counselor and a family live them: real PostgreSQL, real
concurrent transactions, the county's own role, the ledger verified after each test."""

from __future__ import annotations

import base64
import datetime as dt
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, func, select, update

from domain.archive import archives
from domain.badges import awards
from domain.badges.tables import badge_awards, badges
from domain.ledger import service as ledger
from domain.ledger.tables import AccountKind, ledger_transactions
from domain.people.erasure import erase_pupil
from domain.people.tables import pupils
from domain.personal.crypto import FieldCipher
from domain.tasks import service as tasks
from domain.tasks.tables import TaskKind, task_submissions
from domain.tasks.tables import tasks as task_table
from redscarf.errors import RedscarfError
from tenants.provisioning import County
from tests.graphql_client import (
    UnitRef,
    create_pupils,
    create_unit,
    in_county,
    refusal,
    tenant_of,
)

NOW = dt.datetime.now(dt.UTC)
COUNSELOR = "user:7"
FAMILY = "user:8"
FORM = [
    {"key": "liked", "label": "你最喜欢哪一课？", "kind": "choice",
     "choices": ["红船精神", "长征故事", "雷锋日记"], "required": True},
    {"key": "why", "label": "说说为什么", "kind": "text", "required": True},
    {"key": "more", "label": "还想学什么？", "kind": "text"},
]  # fmt: skip


@pytest.fixture
def county(make_county: Callable[..., County], engine: Engine) -> dict[str, Any]:
    """A county with a school (its fourth-grade squadron) and another school beside it."""
    county = make_county()
    root = create_unit(engine, county, "county", county.name)
    school = create_unit(engine, county, "brigade", "城关小学", root)
    other = create_unit(engine, county, "brigade", "红旗小学", root)
    return {"county": county, "root": root, "school": school,
            "squadron": create_unit(engine, county, "squadron", "四（1）中队", school, grade=4),
            "elsewhere": create_unit(engine, county, "squadron", "四（2）中队", other, grade=4)}  # fmt: skip


def run(engine: Engine, county: dict[str, Any], work: Callable[[Connection], Any]) -> Any:
    return in_county(engine, county["county"], work)


def refused(engine: Engine, county: dict[str, Any], work: Callable[[Connection], Any]) -> str:
    return refusal(engine, county["county"], work)


def verify(engine: Engine, county: dict[str, Any]) -> list[str]:
    with engine.connect() as conn:
        return ledger.verify(conn, county["county"].schema_name).problems


def fourth_graders(engine: Engine, county: dict[str, Any], n: int,
                   squadron: UnitRef | None = None) -> list[int]:  # fmt: skip
    """`n` new pupils of the squadron (the school's fourth grade unless told), in grade 4."""
    squadron = squadron or county["squadron"]
    create_pupils(engine, county["county"], squadron, n)  # in grade 3
    return run(engine, county, lambda c: sorted(c.execute(
        update(pupils).where(pupils.c.squadron_id == squadron.id, pupils.c.grade == 3)
        .values(grade=4).returning(pupils.c.id)
    ).scalars()))  # fmt: skip


def published(engine: Engine, county: dict[str, Any], kind: str, **values: Any) -> int:
    """A task of the school, open from a minute ago for a week, published."""
    values = {"title": "学习二十大 争做好队员", "opens_at": NOW - dt.timedelta(minutes=1),
              "closes_at": NOW + dt.timedelta(days=7), "by": COUNSELOR,
              **({"content_url": "https://example.cn/lesson/1"} if kind == TaskKind.LESSON else {}),
              **({"questions": FORM} if kind == TaskKind.FEEDBACK else {}), **values}  # fmt: skip
    unit = values.pop("unit", county["school"])

    def make(conn: Connection) -> int:
        pk = tasks.create_task(conn, unit.id, kind, **values)
        tasks.publish_task(conn, pk)
        return pk

    return run(engine, county, make)


def special_badge(engine: Engine, county: dict[str, Any], points: int) -> int:
    return run(engine, county, lambda c: awards.create_badge(
        c, "小红花", "special", criteria=None, icon=None, points=points, academic_year=None))  # fmt: skip


def points_of(engine: Engine, county: dict[str, Any], pupil: int) -> int:
    return run(engine, county, lambda c: ledger.balance_of(c, AccountKind.PUPIL, pupil))


def submission(engine: Engine, county: dict[str, Any], pk: int) -> Any:
    return run(engine, county, lambda c: c.execute(
        select(task_submissions).where(task_submissions.c.id == pk)).one())  # fmt: skip


def count(engine: Engine, county: dict[str, Any], table: Any) -> int:
    return run(engine, county, lambda c: c.execute(select(func.count()).select_from(table)).scalar_one())  # fmt: skip


def rewards_of(engine: Engine, county: dict[str, Any], task: int) -> int:
    """Ledger transactions that paid a task's reward (whoever to)."""
    return run(engine, county, lambda c: c.execute(
        select(func.count()).where(ledger_transactions.c.idempotency_key.like(f"task:{task}:reward:%"))
    ).scalar_one())  # fmt: skip


def test_a_lesson_completed_pays_its_reward_once_however_often_it_is_tapped(
    engine: Engine, county: dict[str, Any]
) -> None:
    # Given an online lesson worth 5 points, for the school's pupils.
    pupil, twin = fourth_graders(engine, county, 2)
    lesson = published(engine, county, TaskKind.LESSON, title="红领巾爱学习 第 8 期", reward=5)

    # When the pupil completes it, and again (a retry); and another taps twice at once.
    first = run(engine, county, lambda c: tasks.complete_lesson(c, lesson, pupil, by=FAMILY))
    again = run(engine, county, lambda c: tasks.complete_lesson(c, lesson, pupil, by=FAMILY))
    start = threading.Barrier(2)

    def tap(_: int) -> tasks.Submission:
        start.wait()
        return run(engine, county, lambda c: tasks.complete_lesson(c, lesson, twin, by=FAMILY))

    with ThreadPoolExecutor(2) as pool:
        taps = list(pool.map(tap, range(2)))

    # Then each has one completion, approved, and its 5 points exactly once.
    assert (again, first.state) == (first, "approved")
    assert taps[0] == taps[1]
    assert (points_of(engine, county, pupil), points_of(engine, county, twin)) == (5, 5)
    assert rewards_of(engine, county, lesson) == 2
    # The parent reads it in the growth archive: one line, with its points, not a second one.
    (events,) = run(engine, county, lambda c: archives(c, [pupil]))
    assert [(e.title, e.detail, e.points) for e in events] == [
        ("完成红领巾爱学习", "红领巾爱学习 第 8 期", 5)
    ]
    # And the county counts one lesson completed by two pupils.
    done = run(engine, county, lambda c: tasks.completions(c, county["school"].path))
    assert done[TaskKind.LESSON] == tasks.Completions(approved=2, pupils=2)
    assert done[TaskKind.SUBMISSION] == tasks.Completions(approved=0, pupils=0)
    assert verify(engine, county) == []


def test_a_work_is_replaced_sent_back_resubmitted_and_approved_with_points_and_badge(
    engine: Engine, county: dict[str, Any]
) -> None:
    # Given a call for drawings worth 10 points and the county's 小红花 (worth 5 of its own).
    (pupil,) = fourth_graders(engine, county, 1)
    flower = special_badge(engine, county, points=5)
    call = published(engine, county, TaskKind.SUBMISSION, title="我心中的红领巾", reward=10,
                     badge_id=flower)  # fmt: skip

    # When the family submits a drawing, then replaces it before review.
    first = run(engine, county, lambda c: tasks.submit(
        c, call, pupil, by=FAMILY, text="我的画", file_urls=["https://files.example.cn/a.jpg"]))  # fmt: skip
    second = run(engine, county, lambda c: tasks.submit(
        c, call, pupil, by=FAMILY, text="  我的新画  ",
        file_urls=["https://files.example.cn/b.jpg", "https://files.example.cn/c.jpg"]))  # fmt: skip
    # Then there is still one submission, holding the new work.
    assert (second.id, second.state) == (first.id, "submitted")
    row = submission(engine, county, first.id)
    assert (row.text, row.file_urls) == (
        "我的新画",
        ["https://files.example.cn/b.jpg", "https://files.example.cn/c.jpg"],
    )

    # When the counselor sends it back: only with a reason, and only once.
    assert refused(engine, county, lambda c: tasks.review(
        c, first.id, approve=False, note=" ", by=COUNSELOR)) == "NOTE_REQUIRED"  # fmt: skip
    run(engine, county, lambda c: tasks.review(
        c, first.id, approve=False, note="请写上作品名称", by=COUNSELOR))  # fmt: skip
    assert refused(engine, county, lambda c: tasks.review(
        c, first.id, approve=True, by=COUNSELOR)) == "ALREADY_REVIEWED"  # fmt: skip
    row = submission(engine, county, first.id)
    assert (row.state, row.review_note) == ("rejected", "请写上作品名称")
    assert points_of(engine, county, pupil) == 0

    # When the family submits again and the counselor approves.
    again = run(engine, county, lambda c: tasks.submit(
        c, call, pupil, by=FAMILY, text="《我心中的红领巾》",
        file_urls=["https://files.example.cn/b.jpg"]))  # fmt: skip
    assert (again.id, again.state) == (first.id, "submitted")
    approved = run(engine, county, lambda c: tasks.review(c, first.id, approve=True,
                                                           note="画得真好", by=COUNSELOR))  # fmt: skip

    # Then the pupil has the task's 10 points and the badge (with its own 5), each once.
    assert approved.state == "approved"
    assert points_of(engine, county, pupil) == 10 + 5
    row = submission(engine, county, first.id)
    award = run(engine, county, lambda c: c.execute(
        select(badge_awards).where(badge_awards.c.pupil_id == pupil)).one())  # fmt: skip
    assert (award.id, award.badge_id, award.state, award.points) == (
        row.award_id,
        flower,
        "awarded",
        5,
    )
    assert (row.transaction_id is not None, row.reviewed_by) == (True, COUNSELOR)
    # And nothing more can change it: not a resubmission, not a second review.
    assert refused(engine, county, lambda c: tasks.submit(
        c, call, pupil, by=FAMILY, text="再改一下")) == "ALREADY_APPROVED"  # fmt: skip
    assert refused(engine, county, lambda c: tasks.review(
        c, first.id, approve=True, by=COUNSELOR)) == "ALREADY_REVIEWED"  # fmt: skip
    assert points_of(engine, county, pupil) == 15
    assert rewards_of(engine, county, call) == 1
    # The archive shows the badge and the task, each with its own points.
    (events,) = run(engine, county, lambda c: archives(c, [pupil]))
    assert sorted((e.kind, e.title, e.detail, e.points) for e in events) == [
        ("badge", "获得小红花", "征集任务：我心中的红领巾", 5),
        ("task", "征集作品通过审核", "我心中的红领巾", 10),
    ]
    assert verify(engine, county) == []


def test_a_feedback_form_is_answered_and_approved(engine: Engine, county: dict[str, Any]) -> None:
    # Given a feedback form of the county (all its schools) worth 3 points.
    (pupil,) = fourth_graders(engine, county, 1)
    form = published(engine, county, TaskKind.FEEDBACK, unit=county["root"], reward=3)

    # When the pupil answers the required questions (the optional one left blank).
    sent = run(engine, county, lambda c: tasks.submit(
        c, form, pupil, by=FAMILY, answers={"liked": "长征故事", "why": " 红军不怕远征难 ", "more": ""}))  # fmt: skip
    run(engine, county, lambda c: tasks.review(c, sent.id, approve=True, by=COUNSELOR))

    # Then the counselor reads the answers as given, and the pupil has the points.
    assert submission(engine, county, sent.id).answers == {
        "liked": "长征故事",
        "why": "红军不怕远征难",
    }
    assert points_of(engine, county, pupil) == 3
    assert verify(engine, county) == []


def test_two_counselors_approving_at_once_approve_once_and_pay_once(
    engine: Engine, county: dict[str, Any]
) -> None:
    # Given a submitted work worth 10 points and the badge.
    (pupil,) = fourth_graders(engine, county, 1)
    flower = special_badge(engine, county, points=5)
    call = published(engine, county, TaskKind.SUBMISSION, reward=10, badge_id=flower)
    sent = run(engine, county, lambda c: tasks.submit(c, call, pupil, by=FAMILY, text="作文"))
    start = threading.Barrier(2)

    # When two counselors approve it at the same moment, each in their own transaction.
    def approve(i: int) -> str:
        start.wait()
        try:
            run(engine, county, lambda c: tasks.review(c, sent.id, approve=True, by=f"user:{i}"))
        except RedscarfError as error:
            return error.code
        return "approved"

    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(pool.map(approve, range(2)))

    # Then one approval, one "already reviewed"; one reward, one badge.
    assert outcomes == ["ALREADY_REVIEWED", "approved"]
    assert points_of(engine, county, pupil) == 15
    assert rewards_of(engine, county, call) == 1
    assert count(engine, county, badge_awards) == 1
    assert verify(engine, county) == []


def test_a_badge_held_already_this_year_is_not_granted_twice(
    engine: Engine, county: dict[str, Any]
) -> None:
    # Given a pupil who earned 小红花 with one lesson, and a second lesson with the same badge.
    (pupil,) = fourth_graders(engine, county, 1)
    flower = special_badge(engine, county, points=5)
    first = published(engine, county, TaskKind.LESSON, reward=2, badge_id=flower)
    second = published(engine, county, TaskKind.LESSON, reward=2, badge_id=flower)
    one = run(engine, county, lambda c: tasks.complete_lesson(c, first, pupil, by=FAMILY))

    # When the pupil completes the second.
    two = run(engine, county, lambda c: tasks.complete_lesson(c, second, pupil, by=FAMILY))

    # Then both rewards are paid, the badge (and its points) once, recorded on both.
    assert points_of(engine, county, pupil) == 2 + 2 + 5
    assert count(engine, county, badge_awards) == 1
    assert (
        submission(engine, county, one.id).award_id == submission(engine, county, two.id).award_id
    )
    assert verify(engine, county) == []


def test_bad_tasks_are_refused_with_a_clear_code_and_nothing_created(
    engine: Engine, county: dict[str, Any]
) -> None:
    school = county["school"].id
    basic = run(engine, county, lambda c: c.execute(
        select(badges.c.id).where(badges.c.code == "basic.hongqi.1")).scalar_one())  # fmt: skip
    window = {"opens_at": NOW, "closes_at": NOW + dt.timedelta(days=1), "by": COUNSELOR}

    def create(kind: str, **values: Any) -> Callable[[Connection], Any]:
        return lambda c: tasks.create_task(c, school, kind, "任务", **{**window, **values})

    choice = {"key": "q", "label": "选一个", "kind": "choice", "choices": ["是"]}
    text = {"key": "q", "label": "写一写", "kind": "text"}
    for work, code in [
        (create("lesson", closes_at=NOW), "INVALID_WINDOW"),
        (create("lesson"), "INVALID_CONTENT_URL"),
        (create("lesson", content_url="ftp://example.cn/1"), "INVALID_CONTENT_URL"),
        (create("submission", content_url="https://example.cn/1"), "INVALID_CONTENT_URL"),
        (create("feedback"), "INVALID_QUESTIONS"),
        (create("feedback", questions=[]), "INVALID_QUESTIONS"),
        (create("feedback", questions=[text] * 31), "INVALID_QUESTIONS"),
        (create("feedback", questions=[text, {**text, "label": "再写"}]), "INVALID_QUESTIONS"),
        (create("feedback", questions=[choice]), "INVALID_QUESTIONS"),
        (create("feedback", questions=[{**text, "key": "1q"}]), "INVALID_QUESTIONS"),
        (create("feedback", questions=[{**text, "kind": "scale"}]), "INVALID_QUESTIONS"),
        (create("feedback", questions=[{**text, "requried": True}]), "INVALID_QUESTIONS"),
        (create("submission", questions=[text]), "INVALID_QUESTIONS"),
        (create("quiz"), "INVALID_KIND"),
        (create("submission", reward=-1), "INVALID_POINTS"),
        (create("submission", grades=[0]), "INVALID_GRADES"),
        (create("submission", badge_id=basic), "INVALID_BADGE"),
        (lambda c: tasks.create_task(c, school, "submission", " ", **window), "TITLE_REQUIRED"),
    ]:  # fmt: skip
        assert refused(engine, county, work) == code
    assert count(engine, county, task_table) == 0

    # A published task keeps its reward and form; its words and end may change; a closed one
    # nothing.
    call = published(engine, county, TaskKind.SUBMISSION, reward=10)
    assert refused(engine, county, lambda c: tasks.update_task(
        c, call, {"reward": 100})) == "NOT_EDITABLE"  # fmt: skip
    run(engine, county, lambda c: tasks.update_task(c, call, {"title": "  新名称 "}))
    assert refused(engine, county, lambda c: tasks.update_task(
        c, call, {"closes_at": NOW - dt.timedelta(days=1)})) == "INVALID_WINDOW"  # fmt: skip
    run(engine, county, lambda c: tasks.close_task(c, call))
    assert refused(engine, county, lambda c: tasks.update_task(
        c, call, {"title": "又改"})) == "NOT_EDITABLE"  # fmt: skip
    assert refused(engine, county, lambda c: tasks.publish_task(c, call)) == "INVALID_STATE"
    row = run(engine, county, lambda c: c.execute(
        select(task_table).where(task_table.c.id == call)).one())  # fmt: skip
    assert (row.title, row.reward, row.state) == ("新名称", 10, "closed")


def test_bad_submissions_are_refused_with_a_clear_code_and_nothing_saved(
    engine: Engine, county: dict[str, Any]
) -> None:
    pupil, gone = fourth_graders(engine, county, 2)
    (stranger,) = fourth_graders(engine, county, 1, county["elsewhere"])
    run(engine, county, lambda c: c.execute(
        update(pupils).where(pupils.c.id == gone).values(status="left")))  # fmt: skip
    call = published(engine, county, TaskKind.SUBMISSION, reward=10)
    form = published(engine, county, TaskKind.FEEDBACK, reward=3)
    lesson = published(engine, county, TaskKind.LESSON, reward=5)
    older = published(engine, county, TaskKind.SUBMISSION, grades=[5, 6])
    draft = run(engine, county, lambda c: tasks.create_task(
        c, county["school"].id, "submission", "草稿", opens_at=NOW, by=COUNSELOR,
        closes_at=NOW + dt.timedelta(days=1)))  # fmt: skip
    closed = published(engine, county, TaskKind.SUBMISSION)
    run(engine, county, lambda c: tasks.close_task(c, closed))

    def work(task: int, who: int = pupil, **content: Any) -> Callable[[Connection], Any]:
        return lambda c: tasks.submit(c, task, who, by=FAMILY, **{"text": "作品", **content})

    def answer(**answers: Any) -> Callable[[Connection], Any]:
        given = {"liked": "红船精神", "why": "因为", **answers}
        return lambda c: tasks.submit(c, form, pupil, by=FAMILY, answers=given)

    link = "https://files.example.cn/"
    for attempt, code in [
        (work(draft), "TASK_NOT_OPEN"),
        (work(closed), "TASK_NOT_OPEN"),
        (work(call, now=NOW + dt.timedelta(days=8)), "OUTSIDE_WINDOW"),
        (work(call, now=NOW - dt.timedelta(hours=1)), "OUTSIDE_WINDOW"),
        (work(call, stranger), "NOT_ELIGIBLE"),
        (work(older), "NOT_ELIGIBLE"),
        (work(call, gone), "PUPIL_NOT_CURRENT"),
        (work(call, text="  "), "INVALID_SUBMISSION"),
        (work(call, text="字" * 5001), "INVALID_SUBMISSION"),
        (work(call, file_urls=[f"{link}{i}.jpg" for i in range(10)]), "INVALID_SUBMISSION"),
        (work(call, file_urls=["http://files.example.cn/a.jpg"]), "INVALID_SUBMISSION"),
        (work(call, file_urls=[link + "a" * 480 + ".jpg"]), "INVALID_SUBMISSION"),
        (work(call, file_urls=["https:///a.jpg"]), "INVALID_SUBMISSION"),
        (work(call, answers={"why": "x"}), "INVALID_SUBMISSION"),
        (work(form), "INVALID_SUBMISSION"),
        (answer(why=None), "INVALID_ANSWERS"),
        (answer(liked="雷锋"), "INVALID_ANSWERS"),
        (answer(extra="多余"), "INVALID_ANSWERS"),
        (answer(more="字" * 2001), "INVALID_ANSWERS"),
        (answer(why=3), "INVALID_ANSWERS"),
        (work(lesson), "IS_A_LESSON"),
        (lambda c: tasks.complete_lesson(c, call, pupil, by=FAMILY), "NOT_A_LESSON"),
        (lambda c: tasks.complete_lesson(c, lesson, stranger, by=FAMILY), "NOT_ELIGIBLE"),
    ]:  # fmt: skip
        assert refused(engine, county, attempt) == code
    # The counselor sees nothing to review, and nobody was paid.
    assert count(engine, county, task_submissions) == 0
    assert points_of(engine, county, pupil) == 0
    assert verify(engine, county) == []


def test_erasure_clears_what_the_child_wrote_and_keeps_what_was_earned(
    engine: Engine, county: dict[str, Any]
) -> None:
    # Given a pupil's approved work naming the child, and an answered form sent back.
    (pupil,) = fourth_graders(engine, county, 1)
    call = published(engine, county, TaskKind.SUBMISSION, reward=10)
    form = published(engine, county, TaskKind.FEEDBACK)
    work = run(engine, county, lambda c: tasks.submit(
        c, call, pupil, by=FAMILY, text="我叫王小明，住在城关镇", file_urls=["https://files.example.cn/x.jpg"]))  # fmt: skip
    run(engine, county, lambda c: tasks.review(c, work.id, approve=True, note="王小明真棒", by=COUNSELOR))  # fmt: skip
    answered = run(engine, county, lambda c: tasks.submit(
        c, form, pupil, by=FAMILY, answers={"liked": "红船精神", "why": "王小明的爷爷讲过"}))  # fmt: skip
    run(engine, county, lambda c: tasks.review(c, answered.id, approve=False, note="请写完整", by=COUNSELOR))  # fmt: skip
    cipher = FieldCipher.parse(f"k1:{base64.b64encode(os.urandom(32)).decode()}",
                               base64.b64encode(os.urandom(32)).decode())  # fmt: skip

    # When the guardian's deletion request is carried out.
    with engine.connect() as conn, conn.begin():
        erase_pupil(conn, tenant_of(county["county"]), cipher, pupil)

    # Then no submission holds what the child wrote, uploaded or answered, nor notes on it;
    # the approval and its points stay.
    rows = run(engine, county, lambda c: c.execute(
        select(task_submissions).order_by(task_submissions.c.id)).all())  # fmt: skip
    assert [(r.state, r.text, r.file_urls, r.answers, r.review_note) for r in rows] == [
        ("approved", None, [], None, None),
        ("rejected", None, [], None, None),
    ]
    assert points_of(engine, county, pupil) == 10
    assert verify(engine, county) == []
