"""Badge awards as a school and a county run them: direct awards with their points by the
county's rules, revocation, and the selection of star awards (prerequisite, quota, review,
public notice, objections, confirmation). Real PostgreSQL, as the county's own role."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, select

from domain.badges import awards
from domain.badges.tables import badge_awards, badges
from domain.ledger import service as ledger
from domain.ledger.tables import AccountKind
from domain.people.tables import pupils
from redscarf.errors import RedscarfError
from tenants.provisioning import County
from tenants.sessions import tenant_connection
from tests.graphql_client import create_pupils, create_unit, tenant_of

YEAR = 2025
BY = "user:1"


@pytest.fixture
def county(make_county: Callable[..., County], engine: Engine) -> dict[str, Any]:
    county = make_county()
    root = create_unit(engine, county, "county", county.name)
    school = create_unit(engine, county, "brigade", "城关小学", root)
    squadron = create_unit(engine, county, "squadron", "五（1）中队", school, grade=5)
    create_pupils(engine, county, squadron, 10)
    with tenant_connection(engine, tenant_of(county)) as conn:
        ids = list(conn.execute(select(pupils.c.id).order_by(pupils.c.id)).scalars())
        codes = {r.code: r.id for r in conn.execute(select(badges.c.code, badges.c.id))}
    return {"county": county, "pupils": ids, "badges": codes, "squadron": squadron}


def run(engine: Engine, county: dict[str, Any], work: Callable[[Connection], Any]) -> Any:
    with tenant_connection(engine, tenant_of(county["county"])) as conn:
        return work(conn)


def refused(engine: Engine, county: dict[str, Any], work: Callable[[Connection], Any]) -> str:
    with pytest.raises(RedscarfError) as raised:
        run(engine, county, work)
    return raised.value.code


def points(engine: Engine, county: dict[str, Any], pupil: int) -> int:
    return run(engine, county, lambda c: ledger.balance_of(c, AccountKind.PUPIL, pupil))


def basic_badges(county: dict[str, Any]) -> list[int]:
    return [pk for code, pk in county["badges"].items() if code.startswith("basic.")]


def test_a_basic_badge_is_awarded_per_term_with_the_points_of_the_rule_in_force(
    engine: Engine, county: dict[str, Any]
) -> None:
    first = basic_badges(county)[0]
    pupil = county["pupils"][0]
    run(
        engine,
        county,
        lambda c: awards.set_points_rule(c, "level:basic", 2, dt.date(2024, 9, 1), BY),
    )
    run(
        engine,
        county,
        lambda c: awards.set_points_rule(c, "level:basic", 3, dt.date(2030, 9, 1), BY),
    )
    assert (
        refused(engine, county, lambda c: awards.award(c, first, [pupil], YEAR, by=BY))
        == "TERM_REQUIRED"
    )
    run(engine, county, lambda c: awards.award(c, first, [pupil], YEAR, by=BY, term=1))
    assert points(engine, county, pupil) == 2  # the 2030 version is not in force yet
    # Twice in the same term: refused, and no points twice.
    assert (
        refused(engine, county, lambda c: awards.award(c, first, [pupil], YEAR, by=BY, term=1))
        == "DUPLICATE_AWARD"
    )
    run(engine, county, lambda c: awards.award(c, first, [pupil], YEAR, by=BY, term=2))
    assert points(engine, county, pupil) == 4
    # A pupil who left gets no badge; stars one to three go through selection.
    left = county["pupils"][1]
    run(
        engine,
        county,
        lambda c: c.execute(pupils.update().where(pupils.c.id == left).values(status="left")),
    )
    assert (
        refused(engine, county, lambda c: awards.award(c, first, [left], YEAR, by=BY, term=1))
        == "PUPIL_NOT_CURRENT"
    )
    star1 = county["badges"]["star.1"]
    assert (
        refused(engine, county, lambda c: awards.award(c, star1, [pupil], YEAR, by=BY))
        == "SELECTION_REQUIRED"
    )
    star4 = county["badges"]["star.4"]
    assert (
        refused(engine, county, lambda c: awards.award(c, star4, [pupil], YEAR, by=BY))
        == "CONFERRED_BY_REQUIRED"
    )
    run(
        engine,
        county,
        lambda c: awards.award(c, star4, [pupil], YEAR, by=BY, conferred_by="省少工委"),
    )


def test_a_revoked_award_takes_its_points_back_unless_they_were_spent(
    engine: Engine, county: dict[str, Any]
) -> None:
    badge = basic_badges(county)[0]
    run(
        engine,
        county,
        lambda c: awards.set_points_rule(c, "level:basic", 5, dt.date(2024, 9, 1), BY),
    )
    a, b = county["pupils"][:2]
    (award_a,) = run(engine, county, lambda c: awards.award(c, badge, [a], YEAR, by=BY, term=1))
    (award_b,) = run(engine, county, lambda c: awards.award(c, badge, [b], YEAR, by=BY, term=1))
    run(engine, county, lambda c: awards.revoke(c, award_a, "评定有误", by=BY))
    assert points(engine, county, a) == 0
    run(engine, county, lambda c: awards.revoke(c, award_a, "评定有误", by=BY))  # a retry: no-op
    assert points(engine, county, a) == 0

    def spend(conn: Connection) -> None:
        sink = ledger.account(conn, AccountKind.SINK, None, "兑换")
        ledger.post(conn, "spend:b", "spend", [(ledger.pupil_account(conn, b), -5), (sink, 5)])

    run(engine, county, spend)
    assert (
        refused(engine, county, lambda c: awards.revoke(c, award_b, "评定有误", by=BY))
        == "INSUFFICIENT_POINTS"
    )
    with engine.connect() as conn:
        assert ledger.verify(conn, county["county"].schema_name).problems == []


def test_one_star_is_selected_within_its_quota_through_notice_and_objections(
    engine: Engine, county: dict[str, Any]
) -> None:
    ids = county["pupils"]
    star1 = county["badges"]["star.1"]
    within = county["squadron"].path
    run(
        engine,
        county,
        lambda c: awards.set_points_rule(c, "badge:star.1", 20, dt.date(2024, 9, 1), BY),
    )
    # Nine pupils hold every basic badge; the tenth holds none.
    for badge in basic_badges(county):
        run(
            engine,
            county,
            lambda c, badge=badge: awards.award(c, badge, ids[:9], YEAR, by=BY, term=1),
        )
    assert (
        refused(engine, county, lambda c: awards.nominate(c, star1, [ids[9]], YEAR, within, by=BY))
        == "PREREQUISITE_MISSING"
    )
    # The quota: 30% of 9 holders is 2.
    assert (
        refused(engine, county, lambda c: awards.nominate(c, star1, ids[:3], YEAR, within, by=BY))
        == "QUOTA_EXCEEDED"
    )
    chosen = run(engine, county, lambda c: awards.nominate(c, star1, ids[:2], YEAR, within, by=BY))
    assert (
        refused(engine, county, lambda c: awards.nominate(c, star1, [ids[2]], YEAR, within, by=BY))
        == "QUOTA_EXCEEDED"
    )
    assert (
        refused(engine, county, lambda c: awards.review(c, chosen, False, by=BY))
        == "REASON_REQUIRED"
    )
    run(engine, county, lambda c: awards.review(c, chosen, True, by=BY))
    today = dt.date.today()
    until = today + dt.timedelta(days=5)
    run(engine, county, lambda c: awards.start_notice(c, chosen, until))
    objection = run(
        engine, county, lambda c: awards.object_to(c, chosen[1], "该生本学期有违纪", "家长")
    )
    assert refused(engine, county, lambda c: awards.confirm(c, chosen, by=BY)) == "NOTICE_NOT_ENDED"
    after = until + dt.timedelta(days=1)
    assert (
        refused(engine, county, lambda c: awards.confirm(c, chosen, by=BY, today=after))
        == "OBJECTIONS_OPEN"
    )
    run(engine, county, lambda c: awards.resolve_objection(c, objection, True, "经核实属实", by=BY))
    assert (
        refused(engine, county, lambda c: awards.confirm(c, chosen, by=BY, today=after))
        == "WRONG_STEP"
    )
    granted = run(engine, county, lambda c: awards.confirm(c, chosen[:1], by=BY, today=after))
    assert granted == 20
    with tenant_connection(engine, tenant_of(county["county"])) as conn:
        states = dict(
            list(
                conn.execute(
                    select(badge_awards.c.pupil_id, badge_awards.c.state).where(
                        badge_awards.c.badge_id == star1
                    )
                ).tuples()
            )
        )
    assert states == {ids[0]: "awarded", ids[1]: "rejected"}
    assert points(engine, county, ids[0]) - points(engine, county, ids[2]) == 20
    # The rejected candidacy frees its place in the quota.
    run(engine, county, lambda c: awards.nominate(c, star1, [ids[2]], YEAR, within, by=BY))
    with engine.connect() as conn:
        assert ledger.verify(conn, county["county"].schema_name).problems == []
