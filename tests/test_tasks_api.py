"""Collection tasks through the API, as Lingshui ran them: the county posts an essay call worth
points and its 小红花 badge, a parent submits a child's work from a phone, the squadron
counselor sends it back once, then approves it; a lesson completed; a feedback form."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import Engine

from domain.ledger import service as ledger
from tests.graphql_client import GraphQLClient
from tests.test_activities_api import County

NOW = dt.datetime.now(dt.UTC)
CREATE = """mutation($i: CreateCollectionTaskInput!) { createCollectionTask(input: $i)
  { task { id state kind } userErrors { code message } } }"""
PUBLISH = """mutation($t: ID!) { publishCollectionTask(input: {id: $t}) { task { state } } }"""
SUBMIT = """mutation($i: SubmitTaskWorkInput!) { submitTaskWork(input: $i)
  { submission { id state text fileUrls answers { key value } } userErrors { code message } } }"""
REVIEW = """mutation($s: ID!, $a: Boolean!, $n: String) { reviewTaskSubmission(input:
  {submissionId: $s, approve: $a, note: $n}) { submission { state reviewNote } userErrors { code } } }"""
QUEUE = """query($t: ID) { taskSubmissions(taskId: $t) { totalCount edges { node { id text pupil { name } } } } }"""


@pytest.fixture
def county(gql: GraphQLClient, engine: Engine, make_county: Any) -> County:
    return County(gql, engine, make_county)


async def _badge(county: County, gql: GraphQLClient) -> str:
    made = await gql.data(
        'mutation { createBadge(input: {name: "小红花章", level: SPECIAL, points: 2}) { badge { id } } }',
        headers=county.admin,
    )
    return made["createBadge"]["badge"]["id"]


async def _task(county: County, gql: GraphQLClient, **fields: Any) -> str:
    values = {"organiserId": county.gid("Unit", county.units["root"].id), "kind": "SUBMISSION",
              "title": "我心中的红领巾", "opensAt": (NOW - dt.timedelta(hours=1)).isoformat(),
              "closesAt": (NOW + dt.timedelta(days=7)).isoformat(), "reward": 5, **fields}  # fmt: skip
    made = (await gql.data(CREATE, {"i": values}, headers=county.admin))["createCollectionTask"]
    assert made["userErrors"] == [], made
    task = made["task"]["id"]
    await gql.data(PUBLISH, {"t": task}, headers=county.admin)
    return task


async def test_a_work_is_submitted_sent_back_resubmitted_and_approved_once(
    county: County, gql: GraphQLClient, engine: Engine
) -> None:
    badge = await _badge(county, gql)
    task = await _task(county, gql, badgeId=badge)
    listed = await gql.data(
        "query($p: ID!) { collectionTasks(forPupil: $p) { edges { node { title reward badge { name } } } } }",
        {"p": county.pupil(0)},
        headers=county.parent,
    )
    assert [e["node"] for e in listed["collectionTasks"]["edges"]] == [
        {"title": "我心中的红领巾", "reward": 5, "badge": {"name": "小红花章"}}
    ]
    work = {"taskId": task, "pupilId": county.pupil(0), "text": "红领巾是红旗的一角。",
            "fileUrls": ["https://img.example.cn/a.jpg"]}  # fmt: skip
    sent = (await gql.data(SUBMIT, {"i": work}, headers=county.parent))["submitTaskWork"]
    assert sent["submission"]["state"] == "SUBMITTED"
    submission = sent["submission"]["id"]
    # The squadron counselor of the child sees it in the review queue; a counselor of another
    # squadron does not.
    queue = (await gql.data(QUEUE, {"t": task}, headers=county.counselor))["taskSubmissions"]
    assert queue["totalCount"] == 1
    assert queue["edges"][0]["node"]["pupil"] == {"name": "队员0"}
    elsewhere = county.headers(
        gql.token_for("squadron_counselor", county.county.code, county.q2.path)
    )
    assert (await gql.data(QUEUE, {"t": task}, headers=elsewhere))["taskSubmissions"][
        "totalCount"
    ] == 0
    assert await gql.error_codes(REVIEW, {"s": submission, "a": True}, headers=elsewhere) == [
        "SUBMISSION_NOT_FOUND"
    ]

    # Sent back without a reason: refused; with one: the family may try again.
    bare = await gql.data(REVIEW, {"s": submission, "a": False}, headers=county.counselor)
    assert [e["code"] for e in bare["reviewTaskSubmission"]["userErrors"]] == ["NOTE_REQUIRED"]
    back = await gql.data(REVIEW, {"s": submission, "a": False, "n": "请补充一张照片"},
                          headers=county.counselor)  # fmt: skip
    assert back["reviewTaskSubmission"]["submission"] == {"state": "REJECTED",
                                                          "reviewNote": "请补充一张照片"}  # fmt: skip
    twice = await gql.data(REVIEW, {"s": submission, "a": True}, headers=county.counselor)
    assert [e["code"] for e in twice["reviewTaskSubmission"]["userErrors"]] == ["ALREADY_REVIEWED"]
    work["fileUrls"] = ["https://img.example.cn/a.jpg", "https://img.example.cn/b.jpg"]
    again = (await gql.data(SUBMIT, {"i": work}, headers=county.parent))["submitTaskWork"]
    assert again["submission"]["id"] == submission
    assert again["submission"]["state"] == "SUBMITTED"

    ok = await gql.data(REVIEW, {"s": submission, "a": True, "n": "很好"}, headers=county.counselor)
    assert ok["reviewTaskSubmission"]["submission"]["state"] == "APPROVED"
    repeat = await gql.data(REVIEW, {"s": submission, "a": True}, headers=county.counselor)
    assert [e["code"] for e in repeat["reviewTaskSubmission"]["userErrors"]] == ["ALREADY_REVIEWED"]
    late = (await gql.data(SUBMIT, {"i": work}, headers=county.parent))["submitTaskWork"]
    assert [e["code"] for e in late["userErrors"]] == ["ALREADY_APPROVED"]
    # The reward and the badge's own points, each once; the badge on the child's page.
    assert await county.points(0) == {"balance": 17, "held": 0, "available": 17}
    page = await gql.data(
        "query($p: ID!) { pupil(id: $p) { badges { badge { name } state } taskSubmissions { state fileUrls } archive { kind title } } }",
        {"p": county.pupil(0)},
        headers=county.parent,
    )
    assert page["pupil"]["badges"] == [{"badge": {"name": "小红花章"}, "state": "AWARDED"}]
    assert page["pupil"]["taskSubmissions"] == [{"state": "APPROVED", "fileUrls": work["fileUrls"]}]
    assert {"kind": "TASK", "title": "征集作品通过审核"} in page["pupil"]["archive"]
    with engine.connect() as conn:
        assert ledger.verify(conn, county.county.schema_name).problems == []


async def test_a_lesson_is_completed_once_and_a_feedback_form_is_answered(
    county: County, gql: GraphQLClient
) -> None:
    lesson = await _task(county, gql, kind="LESSON", title="红领巾爱学习 第 8 期", reward=3,
                         contentUrl="https://learn.example.cn/8")  # fmt: skip
    complete = """mutation($t: ID!, $p: ID!) { completeLesson(input: {taskId: $t, pupilId: $p})
      { submission { id state } userErrors { code } } }"""
    first = await gql.data(complete, {"t": lesson, "p": county.pupil(0)}, headers=county.parent)
    again = await gql.data(complete, {"t": lesson, "p": county.pupil(0)}, headers=county.parent)
    assert first["completeLesson"]["submission"] == again["completeLesson"]["submission"]
    assert first["completeLesson"]["submission"]["state"] == "APPROVED"
    assert await county.points(0) == {"balance": 13, "held": 0, "available": 13}

    form = await _task(county, gql, kind="FEEDBACK", title="暑期活动问卷", reward=1, questions=[
        {"key": "liked", "label": "你喜欢这次活动吗", "kind": "CHOICE", "choices": ["喜欢", "一般"],
         "required": True},
        {"key": "why", "label": "为什么", "kind": "TEXT"}])  # fmt: skip
    answer = {"taskId": form, "pupilId": county.pupil(0)}
    wrong = await gql.data(SUBMIT, {"i": {**answer, "answers": [{"key": "liked", "value": "很好"}]}},
                           headers=county.parent)  # fmt: skip
    assert [e["code"] for e in wrong["submitTaskWork"]["userErrors"]] == ["INVALID_ANSWERS"]
    missing = await gql.data(SUBMIT, {"i": {**answer, "answers": [{"key": "why", "value": "好玩"}]}},
                             headers=county.parent)  # fmt: skip
    assert [e["code"] for e in missing["submitTaskWork"]["userErrors"]] == ["INVALID_ANSWERS"]
    done = await gql.data(SUBMIT, {"i": {**answer, "answers": [{"key": "liked", "value": "喜欢"}]}},
                          headers=county.parent)  # fmt: skip
    assert done["submitTaskWork"]["submission"]["answers"] == [{"key": "liked", "value": "喜欢"}]
    # A lesson is completed, not submitted; an essay is not a lesson.
    essay = await _task(county, gql)
    wrong_kind = await gql.data(complete, {"t": essay, "p": county.pupil(0)}, headers=county.parent)
    assert [e["code"] for e in wrong_kind["completeLesson"]["userErrors"]] == ["NOT_A_LESSON"]
    # A parent takes part for their own child only.
    assert await gql.error_codes(complete, {"t": lesson, "p": county.pupil(1)},
                                 headers=county.parent) == ["PUPIL_NOT_FOUND"]  # fmt: skip
    # A draft is the organiser's: the family does not see it.
    draft = (await gql.data(CREATE, {"i": {
        "organiserId": county.gid("Unit", county.units["root"].id), "kind": "SUBMISSION",
        "title": "草稿", "opensAt": NOW.isoformat(),
        "closesAt": (NOW + dt.timedelta(days=1)).isoformat()}}, headers=county.admin))  # fmt: skip
    draft_id = draft["createCollectionTask"]["task"]["id"]
    one = "query($t: ID!) { collectionTask(id: $t) { title } }"
    assert (await gql.data(one, {"t": draft_id}, headers=county.parent))["collectionTask"] is None
    assert (await gql.data(one, {"t": draft_id}, headers=county.admin))["collectionTask"] == {
        "title": "草稿"
    }
