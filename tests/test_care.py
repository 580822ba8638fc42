"""Care in the domain: a child in hardship with a Hope Room, a volunteer carer who keeps the
visit log, aid with amount and source; a volunteer project from need to review."""

from __future__ import annotations

import base64
import datetime as dt
import os
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, select, text, update

from domain import clock
from domain.care import service as care
from domain.care.tables import ProjectState, care_visits, volunteer_projects
from domain.people.tables import pupils
from tests.graphql_client import create_pupils, create_unit, in_county, refusal

TODAY = clock.today()


@pytest.fixture
def county(engine: Engine, make_county: Any) -> dict[str, Any]:
    county = make_county()
    root = create_unit(engine, county, "county", county.name)
    school = create_unit(engine, county, "brigade", "英州小学", root, area="rural")
    squadron = create_unit(engine, county, "squadron", "三（1）中队", school, grade=3)
    create_pupils(engine, county, squadron, 2)
    ids = in_county(engine, county, lambda c: list(c.execute(select(pupils.c.id)).scalars()))
    return {"county": county, "root": root, "pupils": sorted(ids)}


def test_a_child_in_care_has_carers_aid_and_a_visit_log(
    engine: Engine, county: dict[str, Any]
) -> None:
    c, child = county["county"], county["pupils"][0]
    record = in_county(engine, c, lambda conn: care.open_care(
        conn, child, "hope_room", "父母在外务工，随祖母生活", by="user:1"))  # fmt: skip
    in_county(engine, c, lambda conn: care.assign_carer(conn, record, 77, "陈志愿者"))
    assert in_county(engine, c, lambda conn: care.may_read(conn, record, 77)) is True
    assert in_county(engine, c, lambda conn: care.may_read(conn, record, 78)) is False
    in_county(engine, c, lambda conn: care.record_aid(conn, record, TODAY, "500", "希望工程",
                                                      by="user:1"))  # fmt: skip
    in_county(engine, c, lambda conn: care.record_aid(conn, record, TODAY, "120.50", "爱心企业",
                                                      by="user:1"))  # fmt: skip
    assert in_county(engine, c, lambda conn: care.aid_total(conn, record)) == Decimal("620.50")
    in_county(engine, c, lambda conn: care.record_visit(
        conn, record, TODAY, "陈志愿者", "辅导作业，送去冬衣", "需要一副眼镜", by="user:77"))  # fmt: skip
    log = in_county(engine, c, lambda conn: conn.execute(
        select(care_visits.c.volunteer, care_visits.c.what, care_visits.c.needs)).all())  # fmt: skip
    assert [tuple(v) for v in log] == [("陈志愿者", "辅导作业，送去冬衣", "需要一副眼镜")]

    # Bad input: each refused with its code, nothing written.
    for work, code in (
        (lambda conn: care.record_aid(conn, record, TODAY, "-5", "某人", by="u"), "INVALID_AMOUNT"),
        (lambda conn: care.record_aid(conn, record, TODAY, "五百", "某人", by="u"), "INVALID_AMOUNT"),
        (lambda conn: care.record_aid(conn, record, TODAY, "5", " ", by="u"), "TEXT_REQUIRED"),
        (lambda conn: care.record_visit(conn, record, TODAY + dt.timedelta(days=1), "陈", "走访",
                                        None, by="u"), "INVALID_DATE"),
        (lambda conn: care.open_care(conn, child, "rich", None, by="u"), "INVALID_KIND"),
    ):  # fmt: skip
        assert refusal(engine, c, work) == code
    assert in_county(engine, c, lambda conn: care.aid_total(conn, record)) == Decimal("620.50")

    # Closed: the carers' access ends with it, and no more visits are logged.
    in_county(engine, c, lambda conn: care.close_care(conn, record))
    assert in_county(engine, c, lambda conn: care.may_read(conn, record, 77)) is False
    assert refusal(engine, c, lambda conn: care.record_visit(
        conn, record, TODAY, "陈", "走访", None, by="u")) == "CARE_ENDED"  # fmt: skip
    # A pupil who left is not taken into care.
    other = county["pupils"][1]
    in_county(engine, c, lambda conn: conn.execute(
        update(pupils).where(pupils.c.id == other).values(status="left")))  # fmt: skip
    assert refusal(engine, c, lambda conn: care.open_care(conn, other, "aid", None, by="u")) == (
        "PUPIL_NOT_CURRENT"
    )


def test_a_volunteer_project_goes_from_need_to_review_claimed_once(
    engine: Engine, county: dict[str, Any]
) -> None:
    c = county["county"]
    project = in_county(engine, c, lambda conn: care.raise_need(
        conn, county["root"].id, "留守儿童周末课堂", "英州小学 40 名留守儿童周末无人辅导",
        by="user:1"))  # fmt: skip
    assert refusal(engine, c, lambda conn: care.step(
        conn, project, ProjectState.CLAIMED, text="团县委志愿队")) == "INVALID_STATE"  # fmt: skip
    in_county(engine, c, lambda conn: care.step(conn, project, ProjectState.PUBLISHED))
    in_county(engine, c, lambda conn: care.step(conn, project, ProjectState.CLAIMED,
                                                text="县一中青年志愿者", user_id=9))  # fmt: skip
    assert refusal(engine, c, lambda conn: care.step(
        conn, project, ProjectState.CLAIMED, text="另一支队伍")) == "ALREADY_CLAIMED"  # fmt: skip
    assert refusal(engine, c, lambda conn: care.step(
        conn, project, ProjectState.CARRIED_OUT)) == "TEXT_REQUIRED"  # fmt: skip
    in_county(engine, c, lambda conn: care.step(conn, project, ProjectState.CARRIED_OUT,
                                                text="开课 8 次，服务 320 人次"))  # fmt: skip
    in_county(engine, c, lambda conn: care.step(conn, project, ProjectState.REVIEWED,
                                                text="效果好，下学期继续"))  # fmt: skip
    done = in_county(engine, c, lambda conn: conn.execute(
        select(volunteer_projects).where(volunteer_projects.c.id == project)).one())  # fmt: skip
    assert (done.state, done.claimed_by, done.claimed_by_user, done.summary, done.review) == (
        "reviewed", "县一中青年志愿者", 9, "开课 8 次，服务 320 人次", "效果好，下学期继续")  # fmt: skip


def test_erasing_a_child_clears_its_situation_and_visit_log_and_keeps_the_aid(
    engine: Engine, county: dict[str, Any]
) -> None:
    from domain.people.erasure import erase_pupil
    from domain.personal.crypto import FieldCipher
    from tests.graphql_client import tenant_of

    c, child = county["county"], county["pupils"][0]
    record = in_county(engine, c, lambda conn: care.open_care(
        conn, child, "hope_room", "队员0的父亲患病", by="user:1"))  # fmt: skip
    in_county(engine, c, lambda conn: care.record_aid(conn, record, TODAY, "300", "希望工程",
                                                      note="给队员0的学费", by="u"))  # fmt: skip
    in_county(engine, c, lambda conn: care.record_visit(
        conn, record, TODAY, "陈志愿者", "队员0在家照顾父亲", "需要学习用品", by="u"))  # fmt: skip
    key = base64.b64encode(os.urandom(32)).decode()
    with engine.connect() as conn, conn.begin():
        erase_pupil(conn, tenant_of(c), FieldCipher.parse(f"k1:{key}", key), child)
    schema = c.schema_name
    texts = in_county(engine, c, lambda conn: conn.execute(text(
        f'SELECT r::text FROM "{schema}".care_records r UNION ALL '
        f'SELECT v::text FROM "{schema}".care_visits v UNION ALL '
        f'SELECT a::text FROM "{schema}".care_aid a')).scalars().all())  # fmt: skip
    assert len(texts) == 3
    assert not [t for t in texts if "队员0" in t or "父亲" in t]
    assert in_county(engine, c, lambda conn: care.aid_total(conn, record)) == Decimal("300")
