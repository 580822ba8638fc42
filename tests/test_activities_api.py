"""Activities through the API, as a county organises one and a parent signs up on a phone:
real HTTP, real PostgreSQL, the refunds of a cancelled activity by a real worker."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from domain.activities.tables import activity_signups
from domain.ledger import service as ledger
from domain.people.tables import pupils
from schema.ids import encode_global_id
from tenants.sessions import tenant_connection
from tests.graphql_client import GraphQLClient, create_unit, guardian_of, tenant_of
from tests.test_jobs import JOB_SETTINGS
from workers.broker import JobRuntime
from workers.main import in_process_worker

NOW = dt.datetime.now(dt.UTC)
SIGNUP = """mutation($a: ID!, $p: [ID!]!) { signUpForActivity(input: {activityId: $a, pupilIds: $p})
  { signups { id state position } userErrors { code message } } }"""
POINTS = "query($id: ID!) { pupil(id: $id) { points { balance held available } } }"
CREATE = """mutation($i: CreateActivityInput!) { createActivity(input: $i)
  { activity { id state placesLeft } userErrors { field code message } } }"""


@pytest.fixture(scope="module")
def worker(settings: Any) -> Iterator[JobRuntime]:
    with in_process_worker(settings, threads=1, job_settings=JOB_SETTINGS) as runtime:
        yield runtime


class County:
    """A county with an urban and a rural township, a school and a squadron in each, pupils
    with points, and the people who act: the admin, a counselor, a bound parent."""

    def __init__(self, gql: GraphQLClient, engine: Engine, make_county: Any, n: int = 4) -> None:
        self.gql = gql
        self.county = make_county()
        c = self.county
        root = create_unit(engine, c, "county", c.name)
        t1 = create_unit(engine, c, "township", "城关镇", root, area="urban")
        t2 = create_unit(engine, c, "township", "英州镇", root, area="rural")
        s1 = create_unit(engine, c, "brigade", "城关小学", t1, area="urban")
        s2 = create_unit(engine, c, "brigade", "英州小学", t2, area="rural")
        self.q1 = create_unit(engine, c, "squadron", "四（1）中队", s1, grade=4)
        self.q2 = create_unit(engine, c, "squadron", "四（2）中队", s2, grade=4)
        self.units = {"root": root, "t1": t1, "t2": t2, "s1": s1, "s2": s2}
        with tenant_connection(engine, tenant_of(c)) as conn:
            self.pupils = [
                conn.execute(
                    pupils.insert()
                    .values(squadron_id=(self.q1 if i < n else self.q2).id, name=f"队员{i}",
                            gender="female", grade=4, status="member")
                    .returning(pupils.c.id)
                ).scalar_one()
                for i in range(2 * n)
            ]  # fmt: skip
            ledger.issue_many(conn, [ledger.Grant(f"seed:{p}", p, 10) for p in self.pupils],
                              kind="award")  # fmt: skip
        self.admin = self.headers(gql.token_for("county_admin", c.code))
        self.counselor = self.headers(gql.token_for("squadron_counselor", c.code, self.q1.path))
        services = gql.app.state.services
        self.parent = self.headers(guardian_of(services, c, [self.pupils[0]]))

    def headers(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}", "X-County": self.county.code}

    def gid(self, type_name: str, pk: int) -> str:
        return encode_global_id(type_name, self.county.code, pk)

    def pupil(self, i: int) -> str:
        return self.gid("Pupil", self.pupils[i])

    async def create(self, **fields: Any) -> str:
        values = {
            "organiserId": self.gid("Unit", self.units["root"].id), "title": "红色研学",
            "startsAt": (NOW + dt.timedelta(days=3)).isoformat(),
            "endsAt": (NOW + dt.timedelta(days=3, hours=3)).isoformat(),
            "signupOpensAt": (NOW - dt.timedelta(hours=1)).isoformat(),
            "signupClosesAt": (NOW + dt.timedelta(days=2)).isoformat(),
            "capacity": 2, "cost": 4, "reward": 6, **fields,
        }  # fmt: skip
        made = (await self.gql.data(CREATE, {"i": values}, headers=self.admin))["createActivity"]
        assert made["userErrors"] == [], made
        activity = made["activity"]["id"]
        published = await self.gql.data(
            "mutation($a: ID!) { publishActivity(input: {id: $a}) { activity { state } } }",
            {"a": activity},
            headers=self.admin,
        )
        assert published["publishActivity"]["activity"]["state"] == "PUBLISHED"
        return activity

    async def points(self, i: int) -> dict[str, int]:
        found = await self.gql.data(POINTS, {"id": self.pupil(i)}, headers=self.admin)
        return found["pupil"]["points"]

    async def sign_up(self, activity: str, idx: list[int], who: dict[str, str]) -> Any:
        body = await self.gql.data(SIGNUP, {"a": activity, "p": [self.pupil(i) for i in idx]},
                                   headers=who)  # fmt: skip
        return body["signUpForActivity"]


@pytest.fixture
def county(gql: GraphQLClient, engine: Engine, make_county: Any) -> County:
    return County(gql, engine, make_county)


async def test_a_parent_sees_a_published_activity_signs_up_and_the_cost_is_held(
    county: County, gql: GraphQLClient
) -> None:
    draft = (await gql.data(CREATE, {"i": {
        "organiserId": county.gid("Unit", county.units["root"].id), "title": "草稿活动",
        "startsAt": (NOW + dt.timedelta(days=3)).isoformat(),
        "endsAt": (NOW + dt.timedelta(days=3, hours=2)).isoformat(),
        "signupOpensAt": NOW.isoformat(), "signupClosesAt": (NOW + dt.timedelta(days=1)).isoformat(),
        "capacity": 5}}, headers=county.admin))["createActivity"]["activity"]  # fmt: skip
    assert draft["state"] == "DRAFT"
    listed = (
        "query($p: ID) { activities(forPupil: $p) { edges { node { title cost placesLeft } } } }"
    )
    # A draft is the organiser's alone.
    assert (await gql.data(listed, {"p": county.pupil(0)}, headers=county.parent))["activities"][
        "edges"
    ] == []
    one = "query($id: ID!) { activity(id: $id) { title } }"
    assert (await gql.data(one, {"id": draft["id"]}, headers=county.parent))["activity"] is None

    activity = await county.create(grades=[4, 5])
    found = await gql.data(listed, {"p": county.pupil(0)}, headers=county.parent)
    assert [e["node"] for e in found["activities"]["edges"]] == [
        {"title": "红色研学", "cost": 4, "placesLeft": 2}
    ]
    done = await county.sign_up(activity, [0], county.parent)
    assert [s["state"] for s in done["signups"]] == ["CONFIRMED"]
    assert await county.points(0) == {"balance": 10, "held": 4, "available": 6}
    mine = await gql.data(
        "query($id: ID!) { pupil(id: $id) { activitySignups { state activity { title placesLeft } } } }",
        {"id": county.pupil(0)},
        headers=county.parent,
    )
    assert mine["pupil"]["activitySignups"] == [
        {"state": "CONFIRMED", "activity": {"title": "红色研学", "placesLeft": 1}}
    ]
    # A parent signs up their own child only: another pupil is simply not found.
    assert await gql.error_codes(
        SIGNUP, {"a": activity, "p": [county.pupil(1)]}, headers=county.parent
    ) == ["PUPIL_NOT_FOUND"]


async def test_a_counselor_signs_up_a_group_all_or_nothing_and_the_rest_wait_in_order(
    county: County, gql: GraphQLClient, engine: Engine
) -> None:
    activity = await county.create(capacity=2)
    await county.sign_up(activity, [0], county.parent)
    # The group holds a pupil already signed up: nobody of the group is signed up.
    refused = await county.sign_up(activity, [1, 0, 2], county.counselor)
    assert [e["code"] for e in refused["userErrors"]] == ["ALREADY_SIGNED_UP"]
    assert await county.points(1) == {"balance": 10, "held": 0, "available": 10}

    group = await county.sign_up(activity, [1, 2, 3], county.counselor)
    assert [(s["state"], s["position"]) for s in group["signups"]] == [
        ("CONFIRMED", None), ("WAITLISTED", 1), ("WAITLISTED", 2)
    ]  # fmt: skip
    # Pupils of another squadron are out of this counselor's reach.
    assert await gql.error_codes(
        SIGNUP, {"a": activity, "p": [county.pupil(5)]}, headers=county.counselor
    ) == ["PUPIL_NOT_FOUND"]

    # The parent withdraws: the place goes to the first on the waiting list, who is debited.
    signup_id = (await gql.data(
        "query($id: ID!) { pupil(id: $id) { activitySignups { id } } }", {"id": county.pupil(0)},
        headers=county.parent))["pupil"]["activitySignups"][0]["id"]  # fmt: skip
    cancelled = await gql.data(
        "mutation($s: ID!) { cancelActivitySignup(input: {signupId: $s}) { signup { state } userErrors { code } } }",
        {"s": signup_id},
        headers=county.parent,
    )
    assert cancelled["cancelActivitySignup"]["signup"]["state"] == "CANCELLED"
    assert await county.points(0) == {"balance": 10, "held": 0, "available": 10}
    assert (await county.points(2))["held"] == 4
    listing = await gql.data(
        "query($a: ID!) { activity(id: $a) { placesLeft waitlisted signups { totalCount edges { node { state position pupil { name } } } } } }",
        {"a": activity},
        headers=county.admin,
    )
    found = listing["activity"]
    assert (found["placesLeft"], found["waitlisted"], found["signups"]["totalCount"]) == (0, 1, 4)
    assert [(e["node"]["state"], e["node"]["position"], e["node"]["pupil"]["name"])
            for e in found["signups"]["edges"]] == [
        ("CANCELLED", None, "队员0"), ("CONFIRMED", None, "队员1"), ("CONFIRMED", None, "队员2"),
        ("WAITLISTED", 1, "队员3"),
    ]  # fmt: skip
    # The parent sees only their own child's sign-up in the list.
    theirs = await gql.data(
        "query($a: ID!) { activity(id: $a) { signups { totalCount } } }", {"a": activity},
        headers=county.parent)  # fmt: skip
    assert theirs["activity"]["signups"]["totalCount"] == 1


async def test_bad_signups_get_clear_codes_and_points_stay_exact(
    county: County, gql: GraphQLClient
) -> None:
    expensive = await county.create(cost=11)
    assert [
        e["code"] for e in (await county.sign_up(expensive, [0], county.parent))["userErrors"]
    ] == ["INSUFFICIENT_POINTS"]
    older = await county.create(grades=[6])
    assert [e["code"] for e in (await county.sign_up(older, [0], county.parent))["userErrors"]] == [
        "NOT_ELIGIBLE"
    ]
    rural = await county.create(organiserId=county.gid("Unit", county.units["t2"].id))
    assert [e["code"] for e in (await county.sign_up(rural, [0], county.parent))["userErrors"]] == [
        "NOT_ELIGIBLE"
    ]
    late = await county.create(signupClosesAt=(NOW + dt.timedelta(seconds=1)).isoformat())
    await asyncio.sleep(1.2)
    assert [e["code"] for e in (await county.sign_up(late, [0], county.parent))["userErrors"]] == [
        "OUTSIDE_WINDOW"
    ]
    bad = await gql.data(CREATE, {"i": {
        "organiserId": county.gid("Unit", county.units["root"].id), "title": "倒着的活动",
        "startsAt": (NOW + dt.timedelta(days=3)).isoformat(), "endsAt": NOW.isoformat(),
        "signupOpensAt": NOW.isoformat(), "signupClosesAt": NOW.isoformat(), "capacity": 5}},
        headers=county.admin)  # fmt: skip
    assert [e["code"] for e in bad["createActivity"]["userErrors"]] == ["INVALID_TIME"]
    # A squadron counselor cannot organise for the whole county.
    assert await gql.error_codes(CREATE, {"i": {
        "organiserId": county.gid("Unit", county.units["root"].id), "title": "越权",
        "startsAt": (NOW + dt.timedelta(days=3)).isoformat(),
        "endsAt": (NOW + dt.timedelta(days=4)).isoformat(), "signupOpensAt": NOW.isoformat(),
        "signupClosesAt": (NOW + dt.timedelta(days=1)).isoformat(), "capacity": 5}},
        headers=county.counselor) == ["FORBIDDEN"]  # fmt: skip
    assert await county.points(0) == {"balance": 10, "held": 0, "available": 10}


async def test_attendance_by_counselor_and_by_code_then_finishing_settles_no_shows_and_reach(
    county: County, gql: GraphQLClient, engine: Engine
) -> None:
    activity = await county.create(
        capacity=10, startsAt=(NOW - dt.timedelta(minutes=10)).isoformat(),
        signupOpensAt=(NOW - dt.timedelta(hours=2)).isoformat(),
        signupClosesAt=(NOW + dt.timedelta(hours=1)).isoformat(),
    )  # fmt: skip
    await county.sign_up(activity, [0], county.parent)
    await county.sign_up(activity, [1, 2], county.counselor)
    await county.sign_up(activity, [4, 5], county.admin)  # two of the rural township
    check_in = """mutation($a: ID!, $p: ID!) { checkInPupil(input: {activityId: $a, pupilId: $p})
      { signup { state } userErrors { code } } }"""
    done = await gql.data(check_in, {"a": activity, "p": county.pupil(1)}, headers=county.counselor)
    assert done["checkInPupil"]["signup"]["state"] == "ATTENDED"
    # Twice changes nothing: the cost is posted and the reward granted once.
    await gql.data(check_in, {"a": activity, "p": county.pupil(1)}, headers=county.counselor)
    assert await county.points(1) == {"balance": 12, "held": 0, "available": 12}
    # A parent cannot check in without the code shown at the venue.
    assert await gql.error_codes(check_in, {"a": activity, "p": county.pupil(0)},
                                 headers=county.parent) == ["FORBIDDEN"]  # fmt: skip
    code = (await gql.data("mutation($a: ID!) { issueCheckinCode(input: {id: $a}) { code } }",
                           {"a": activity}, headers=county.admin))["issueCheckinCode"]["code"]  # fmt: skip
    with_code = """mutation($a: ID!, $p: ID!, $c: String!) { checkInWithCode(input:
      {activityId: $a, pupilId: $p, code: $c}) { signup { state } userErrors { code } } }"""
    wrong = "000000" if code != "000000" else "111111"
    forged = await gql.data(with_code, {"a": activity, "p": county.pupil(0), "c": wrong},
                            headers=county.parent)  # fmt: skip
    assert [e["code"] for e in forged["checkInWithCode"]["userErrors"]] == ["WRONG_CHECKIN_CODE"]
    ok = await gql.data(with_code, {"a": activity, "p": county.pupil(0), "c": code},
                        headers=county.parent)  # fmt: skip
    assert ok["checkInWithCode"]["signup"]["state"] == "ATTENDED"
    await gql.data(check_in, {"a": activity, "p": county.pupil(4)}, headers=county.admin)

    finished = await gql.data(
        "mutation($a: ID!) { finishActivity(input: {id: $a}) { attended noShows activity { state } } }",
        {"a": activity},
        headers=county.admin,
    )
    assert finished["finishActivity"] == {"attended": 3, "noShows": 2,
                                          "activity": {"state": "FINISHED"}}  # fmt: skip
    # No-shows pay the cost (the activity's default) and get no reward.
    assert await county.points(2) == {"balance": 6, "held": 0, "available": 6}
    with engine.connect() as conn:
        assert ledger.verify(conn, county.county.schema_name).problems == []

    # A second activity the same pupil attends: two person-times, one pupil served.
    again = await county.create(
        capacity=10, startsAt=(NOW - dt.timedelta(minutes=5)).isoformat(), cost=0,
        signupOpensAt=(NOW - dt.timedelta(hours=2)).isoformat(),
        signupClosesAt=(NOW + dt.timedelta(hours=1)).isoformat(),
    )  # fmt: skip
    await county.sign_up(again, [1], county.counselor)
    await gql.data(check_in, {"a": again, "p": county.pupil(1)}, headers=county.counselor)
    reach = (await gql.data(
        """{ activityReach { activities currentPupils reachedPercent served { pupils personTimes }
          byTownship { unit { name } served { pupils personTimes } currentPupils }
          byArea { area served { pupils personTimes } } } }""", headers=county.admin,
    ))["activityReach"]  # fmt: skip
    with tenant_connection(engine, tenant_of(county.county)) as conn:
        attended = conn.execute(
            select(func.count(), func.count(func.distinct(activity_signups.c.pupil_id))).where(
                activity_signups.c.state == "attended"
            )
        ).one()
    assert (reach["served"]["personTimes"], reach["served"]["pupils"]) == tuple(attended) == (4, 3)
    assert (reach["activities"], reach["currentPupils"], reach["reachedPercent"]) == (2, 8, 37.5)
    assert reach["byTownship"] == [
        {"unit": {"name": "城关镇"}, "served": {"pupils": 2, "personTimes": 3}, "currentPupils": 4},
        {"unit": {"name": "英州镇"}, "served": {"pupils": 1, "personTimes": 1}, "currentPupils": 4},
    ]
    assert reach["byArea"] == [
        {"area": "RURAL", "served": {"pupils": 1, "personTimes": 1}},
        {"area": "URBAN", "served": {"pupils": 2, "personTimes": 3}},
    ]
    # A period before any activity: zero, not an error.
    empty = await gql.data('{ activityReach(from: "2020-01-01", to: "2020-12-31") { activities served { pupils } } }',
                           headers=county.admin)  # fmt: skip
    assert empty["activityReach"] == {"activities": 0, "served": {"pupils": 0}}
    # The squadron counselor's reach is their own squadron's; the county's is not theirs.
    assert await gql.error_codes("{ activityReach { activities } }", headers=county.counselor) == [
        "FORBIDDEN"
    ]


async def test_cancelling_an_activity_refunds_everyone_once_by_a_job(
    county: County, gql: GraphQLClient, engine: Engine, worker: JobRuntime
) -> None:
    activity = await county.create(capacity=2)
    await county.sign_up(activity, [0], county.parent)
    await county.sign_up(activity, [1, 2], county.counselor)
    cancel = """mutation($a: ID!) { cancelActivity(input: {id: $a})
      { activity { state placesLeft } jobId userErrors { code } } }"""
    first = (await gql.data(cancel, {"a": activity}, headers=county.admin))["cancelActivity"]
    assert first["activity"] == {"state": "CANCELLED", "placesLeft": 0}
    # Asked again (a double tap): the same job, nothing more.
    second = (await gql.data(cancel, {"a": activity}, headers=county.admin))["cancelActivity"]
    assert second["jobId"] == first["jobId"]
    # No more sign-ups.
    assert [
        e["code"] for e in (await county.sign_up(activity, [3], county.counselor))["userErrors"]
    ] == ["NOT_OPEN"]
    states = "query($a: ID!) { activity(id: $a) { signups { edges { node { state } } } } }"
    for _ in range(300):
        found = await gql.data(states, {"a": activity}, headers=county.admin)
        if {e["node"]["state"] for e in found["activity"]["signups"]["edges"]} == {"REFUNDED"}:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the refunds did not run")
    for i in range(3):
        assert await county.points(i) == {"balance": 10, "held": 0, "available": 10}
    # A redelivered job (a worker killed after the refunds, before it said so) refunds nobody
    # twice: run the actor's work again.
    from domain.activities.service import refund_signups

    with tenant_connection(engine, tenant_of(county.county)) as conn:
        activity_pk = conn.execute(select(func.max(activity_signups.c.activity_id))).scalar_one()
        assert refund_signups(conn, activity_pk) == 0
    with engine.connect() as conn:
        assert ledger.verify(conn, county.county.schema_name).problems == []
