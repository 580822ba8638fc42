"""Activities under the rush of an opening minute: real PostgreSQL, real concurrent
transactions, the county's own role, the ledger verified after each test."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, insert, select

from domain.activities import service as activities
from domain.activities.tables import activities as activity_table
from domain.activities.tables import activity_signups
from domain.ledger import service as ledger
from domain.ledger.tables import AccountKind, ledger_accounts
from domain.people.tables import pupils
from redscarf.errors import RedscarfError
from tenants.provisioning import County
from tenants.sessions import tenant_connection
from tests.graphql_client import create_pupils, create_unit, tenant_of

NOW = dt.datetime.now(dt.UTC)


@pytest.fixture
def county(make_county: Callable[..., County], engine: Engine) -> dict[str, Any]:
    county = make_county()
    root = create_unit(engine, county, "county", county.name)
    school = create_unit(engine, county, "brigade", "城关小学", root, area="urban")
    squadron = create_unit(engine, county, "squadron", "四（1）中队", school, grade=4)
    return {"county": county, "root": root, "school": school, "squadron": squadron}


def run(engine: Engine, county: dict[str, Any], work: Callable[[Connection], Any]) -> Any:
    with tenant_connection(engine, tenant_of(county["county"])) as conn:
        return work(conn)


def pupils_with_points(engine: Engine, county: dict[str, Any], n: int, points: int) -> list[int]:
    create_pupils(engine, county["county"], county["squadron"], n)
    with tenant_connection(engine, tenant_of(county["county"])) as conn:
        conn.execute(pupils.update().values(grade=4))
        ids = list(conn.execute(select(pupils.c.id).order_by(pupils.c.id)).scalars())
        ledger.issue_many(
            conn, [ledger.Grant(f"seed:{pk}", pk, points) for pk in ids], kind="award"
        )
    return ids


def new_activity(engine: Engine, county: dict[str, Any], **values: Any) -> int:
    defaults = {
        "unit_id": county["root"].id, "title": "红色研学", "starts_at": NOW + dt.timedelta(days=7),
        "ends_at": NOW + dt.timedelta(days=7, hours=3),
        "signup_opens_at": NOW - dt.timedelta(minutes=1), "signup_closes_at": NOW + dt.timedelta(days=1),
        "cancel_until": NOW + dt.timedelta(days=2), "capacity": 100, "cost": 5, "reward": 8,
        "state": "published",
    }  # fmt: skip
    return run(engine, county, lambda c: c.execute(
        insert(activity_table).values(**{**defaults, **values}).returning(activity_table.c.id)
    ).scalar_one())  # fmt: skip


def held_by_pupil(engine: Engine, county: dict[str, Any]) -> dict[int, tuple[int, int]]:
    return run(engine, county, lambda c: {
        r.owner_id: (int(r.balance), int(r.held))
        for r in c.execute(select(ledger_accounts).where(ledger_accounts.c.kind == AccountKind.PUPIL.value))
    })  # fmt: skip


def verify(engine: Engine, county: dict[str, Any]) -> list[str]:
    with engine.connect() as conn:
        return ledger.verify(conn, county["county"].schema_name).problems


def refused(engine: Engine, county: dict[str, Any], work: Callable[[Connection], Any]) -> str:
    with pytest.raises(RedscarfError) as raised:
        run(engine, county, work)
    return raised.value.code


@pytest.mark.slow
def test_1000_concurrent_signups_for_100_places(
    wide_engine: Engine, county: dict[str, Any]
) -> None:
    ids = pupils_with_points(wide_engine, county, 1000, 10)
    activity = new_activity(wide_engine, county, capacity=100, cost=5)
    start = threading.Barrier(16)

    def one(i: int) -> str:
        if i < 16:
            start.wait()
        signup = run(
            wide_engine, county, lambda c: activities.sign_up(c, activity, ids[i], by="user:1")
        )
        return signup.state.value

    with ThreadPoolExecutor(16) as pool:
        outcomes = list(pool.map(one, range(1000)))
    assert outcomes.count("confirmed") == 100
    assert outcomes.count("waitlisted") == 900
    rows = run(wide_engine, county, lambda c: c.execute(
        select(activity_signups.c.id, activity_signups.c.pupil_id, activity_signups.c.state)
        .where(activity_signups.c.activity_id == activity).order_by(activity_signups.c.id)
    ).all())  # fmt: skip
    confirmed = [r for r in rows if r.state == "confirmed"]
    waiting = [r for r in rows if r.state == "waitlisted"]
    # In arrival order: the hundred first to get the activity are confirmed, the rest wait after.
    assert max(r.id for r in confirmed) < min(r.id for r in waiting)
    # Every confirmed pupil holds the cost exactly once; nobody else holds anything.
    held = held_by_pupil(wide_engine, county)
    assert {pk for pk, (_, h) in held.items() if h} == {r.pupil_id for r in confirmed}
    assert {h for pk, (_, h) in held.items() if h} == {5}
    assert run(wide_engine, county, lambda c: c.execute(
        select(activity_table.c.confirmed).where(activity_table.c.id == activity)).scalar_one()) == 100  # fmt: skip
    # A confirmed family cancels: the first on the waiting list takes the place.
    run(wide_engine, county, lambda c: activities.cancel_signup(c, confirmed[0].id))
    held = held_by_pupil(wide_engine, county)
    assert held[confirmed[0].pupil_id] == (10, 0)
    assert held[waiting[0].pupil_id] == (10, 5)
    assert verify(wide_engine, county) == []


def test_attendance_posts_the_cost_and_grants_the_reward_once(
    engine: Engine, county: dict[str, Any]
) -> None:
    pupil, other = pupils_with_points(engine, county, 2, 10)
    activity = new_activity(engine, county, cost=5, reward=8)
    run(engine, county, lambda c: activities.sign_up(c, activity, pupil, by="user:1"))
    run(engine, county, lambda c: activities.check_in(c, activity, pupil, by="user:1"))
    run(engine, county, lambda c: activities.check_in(c, activity, pupil, by="user:1"))  # a retry
    assert held_by_pupil(engine, county)[pupil] == (10 - 5 + 8, 0)
    assert (
        refused(engine, county, lambda c: activities.check_in(c, activity, other, by="user:1"))
        == "NOT_SIGNED_UP"
    )
    assert verify(engine, county) == []


def test_cancelling_an_activity_refunds_everyone_once_even_when_retried(
    engine: Engine, county: dict[str, Any]
) -> None:
    ids = pupils_with_points(engine, county, 5, 10)
    activity = new_activity(engine, county, capacity=3, cost=4)
    for pk in ids:
        run(engine, county, lambda c, pk=pk: activities.sign_up(c, activity, pk, by="user:1"))
    assert sum(h for _, h in held_by_pupil(engine, county).values()) == 12
    assert run(engine, county, lambda c: activities.cancel_activity(c, activity)) is True
    assert run(engine, county, lambda c: activities.cancel_activity(c, activity)) is False
    assert run(engine, county, lambda c: activities.refund_signups(c, activity)) == 3
    assert run(engine, county, lambda c: activities.refund_signups(c, activity)) == 0
    assert set(held_by_pupil(engine, county).values()) == {(10, 0)}
    assert verify(engine, county) == []


def test_bad_signups_are_refused_with_a_clear_code_and_nothing_held(
    engine: Engine, county: dict[str, Any]
) -> None:
    pupil, poor = pupils_with_points(engine, county, 2, 10)
    activity = new_activity(engine, county, cost=5)
    run(engine, county, lambda c: activities.sign_up(c, activity, pupil, by="user:1"))
    assert (
        refused(engine, county, lambda c: activities.sign_up(c, activity, pupil, by="u"))
        == "ALREADY_SIGNED_UP"
    )
    closed = new_activity(engine, county, signup_closes_at=NOW - dt.timedelta(seconds=1))
    assert (
        refused(engine, county, lambda c: activities.sign_up(c, closed, pupil, by="u"))
        == "OUTSIDE_WINDOW"
    )
    older = new_activity(engine, county, grades=[5, 6])
    assert (
        refused(engine, county, lambda c: activities.sign_up(c, older, pupil, by="u"))
        == "NOT_ELIGIBLE"
    )
    rural = new_activity(engine, county, area="rural")
    assert (
        refused(engine, county, lambda c: activities.sign_up(c, rural, pupil, by="u"))
        == "NOT_ELIGIBLE"
    )
    dear = new_activity(engine, county, cost=11)
    assert (
        refused(engine, county, lambda c: activities.sign_up(c, dear, poor, by="u"))
        == "INSUFFICIENT_POINTS"
    )
    draft = new_activity(engine, county, state="draft")
    assert (
        refused(engine, county, lambda c: activities.sign_up(c, draft, poor, by="u")) == "NOT_OPEN"
    )
    assert held_by_pupil(engine, county) == {pupil: (10, 5), poor: (10, 0)}
    assert verify(engine, county) == []
