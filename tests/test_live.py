"""Live updates as a frontend waits on them: a real uvicorn server on loopback, a WebSocket
client speaking graphql-transport-ws, changes made through the API and by a real worker.

A parent's phone watches an activity's places fill up, the family's redemption being picked
up at the hotel counter; a county officer watches a roster import and a refund job run. What
a subscriber must never see (another family's redemption, another county's activity, a
rolled-back change) and what ends a subscription (its end state, a session signed out) are
checked the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import Engine, text

from tests.graphql_client import GraphQLClient, guardian_of
from tests.live_client import connected, refused, served
from tests.test_activities_api import County
from tests.test_exchange_api import REDEEM, VERIFY, _clerk, _item, _partner
from tests.test_imports import NAMES, Importer, pupil_row, xlsx
from tests.test_jobs import JOB_SETTINGS
from tests.test_pupils import id_number
from workers.broker import JobRuntime
from workers.main import in_process_worker

pytestmark = pytest.mark.asyncio(loop_scope="session")

PLACES = "subscription($id: ID!) { activity(id: $id) { placesLeft waitlisted state } }"
REDEMPTION = "subscription($id: ID!) { redemption(id: $id) { state } }"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def server(gql: GraphQLClient) -> AsyncIterator[str]:
    async with served(gql.app) as url:
        yield url


@pytest.fixture(scope="module")
def worker(settings: Any) -> Iterator[JobRuntime]:
    with in_process_worker(settings, threads=1, job_settings=JOB_SETTINGS) as runtime:
        yield runtime


@pytest.fixture
def county(gql: GraphQLClient, engine: Engine, make_county: Any) -> County:
    return County(gql, engine, make_county)


async def test_a_parent_watches_the_places_of_an_activity_fill_up_until_it_is_cancelled(
    server: str, county: County, gql: GraphQLClient, engine: Engine
) -> None:
    activity = await county.create(capacity=3)
    async with connected(server, county.parent) as phone:
        sid = await phone.subscribe(PLACES, {"id": activity})
        assert await phone.next(sid) == {
            "activity": {"placesLeft": 3, "waitlisted": 0, "state": "PUBLISHED"}
        }

        # A counselor signs two pupils up; the parent's child takes the last place.
        assert (await county.sign_up(activity, [1, 2], county.counselor))["userErrors"] == []
        assert await phone.until(sid, lambda d: d["activity"]["placesLeft"] == 1)
        assert (await county.sign_up(activity, [0], county.parent))["userErrors"] == []
        assert await phone.next(sid) == {
            "activity": {"placesLeft": 0, "waitlisted": 0, "state": "PUBLISHED"}
        }

        # One more goes on the waiting list; a change rolled back is never announced.
        waiting = await county.sign_up(activity, [3], county.counselor)
        assert waiting["signups"][0]["state"] == "WAITLISTED"
        assert await phone.next(sid) == {
            "activity": {"placesLeft": 0, "waitlisted": 1, "state": "PUBLISHED"}
        }
        with engine.connect() as conn:
            conn.execute(text(f'UPDATE "{county.county.schema_name}".activities '
                              "SET capacity = capacity + 5"))  # fmt: skip
            conn.rollback()
        await phone.quiet()

        cancelled = await gql.data(
            "mutation($a: ID!) { cancelActivity(input: {id: $a}) { activity { state } jobId } }",
            {"a": activity},
            headers=county.admin,
        )
        assert cancelled["cancelActivity"]["activity"]["state"] == "CANCELLED"
        last = await phone.until(sid, lambda d: d["activity"]["state"] == "CANCELLED")
        assert last["activity"]["state"] == "CANCELLED"
        await phone.complete(sid)


async def test_the_family_sees_its_redemption_picked_up_at_the_counter_and_nobody_else_does(
    server: str, county: County, gql: GraphQLClient
) -> None:
    hotel = await _partner(county, gql, "椰林酒店")
    clerk = await _clerk(county, gql, hotel)
    item = (await _item(county, gql, clerk, hotel["id"]))["item"]["id"]
    got = await gql.data(REDEEM, {"i": item, "p": county.pupil(0)}, headers=county.parent)
    redemption = got["redeemItem"]["redemption"]
    other_family = county.headers(
        guardian_of(gql.app.state.services, county.county, [county.pupils[1]])
    )
    async with (
        connected(server, county.parent) as phone,
        connected(server, other_family) as stranger,
    ):
        sid = await phone.subscribe(REDEMPTION, {"id": redemption["id"]})
        assert await phone.next(sid) == {"redemption": {"state": "ISSUED"}}
        peek = await stranger.subscribe(REDEMPTION, {"id": redemption["id"]})
        assert await stranger.error_codes(peek) == ["REDEMPTION_NOT_FOUND"]
        await stranger.complete(peek)

        verified = await gql.data(VERIFY, {"c": redemption["code"]}, headers=clerk)
        assert verified["verifyRedemptionCode"]["userErrors"] == []
        assert await phone.next(sid) == {"redemption": {"state": "VERIFIED"}}
        await phone.complete(sid)
        await stranger.quiet()


async def test_an_officer_follows_an_import_and_a_refund_job_to_their_end(
    server: str, county: County, gql: GraphQLClient, engine: Engine, worker: JobRuntime
) -> None:
    c = county.county
    token = gql.token_for("county_admin", c.code)
    importer = Importer(gql, c, token)
    # The file names the county's own school and squadron (城关小学, 四（1）中队).
    rows = [pupil_row(NAMES[i], id_number(f"201503{i + 1:02d}", f"{i:03d}")) for i in range(20)]
    async with connected(server, county.admin) as officer:
        started = await importer.start(xlsx(rows))
        sid = await officer.subscribe(
            "subscription($id: ID!) { rosterImport(id: $id) { state phase progress total created } }",
            {"id": started["id"]},
        )
        seen = [await officer.next(sid)]
        while seen[-1]["rosterImport"]["state"] not in ("DONE", "INVALID", "FAILED"):
            seen.append(await officer.next(sid))
        await officer.complete(sid)
        assert seen[-1]["rosterImport"]["state"] == "DONE", seen[-1]
        assert seen[-1]["rosterImport"]["created"] == 20
        assert len(seen) >= 2  # it was watched while it ran, not only read at the end

        exported = await gql.data(
            "mutation($u: ID!) { exportArchives(input: {unitId: $u}) { archiveExport { id } } }",
            {"u": county.gid("Unit", county.q1.id)},
            headers=county.admin,
        )
        sid = await officer.subscribe(
            "subscription($id: ID!) { archiveExport(id: $id) { done pupils downloadUrl } }",
            {"id": exported["exportArchives"]["archiveExport"]["id"]},
        )
        last = await officer.until(sid, lambda d: d["archiveExport"]["done"])
        assert last["archiveExport"]["pupils"] == 24  # four, and the twenty imported
        assert last["archiveExport"]["downloadUrl"].endswith(".zip")
        await officer.complete(sid)

        activity = await county.create()
        assert (await county.sign_up(activity, [0, 1], county.counselor))["userErrors"] == []
        cancelled = await gql.data(
            "mutation($a: ID!) { cancelActivity(input: {id: $a}) { jobId } }",
            {"a": activity},
            headers=county.admin,
        )
        job_id = cancelled["cancelActivity"]["jobId"]
        sid = await officer.subscribe(
            "subscription($id: ID!) { job(id: $id) { kind state attempts } }", {"id": job_id}
        )
        last = await officer.until(sid, lambda d: d["job"]["state"] in ("DONE", "FAILED"))
        assert last == {"job": {"kind": "refund_activity", "state": "DONE", "attempts": 1}}
        await officer.complete(sid)
    assert await county.points(0) == {"balance": 10, "held": 0, "available": 10}


async def test_only_a_signed_in_caller_of_an_allowed_origin_may_subscribe_and_only_to_subscriptions(
    server: str, county: County, gql: GraphQLClient, make_county: Any
) -> None:
    assert await refused(server, None) == 4403
    assert await refused(server, {"Authorization": "Bearer not-a-token"}) == 4403
    # A page on an origin the county has not listed is refused; once listed, it connects.
    page = "https://xuexiao.example.cn"
    assert await refused(server, county.admin, origin=page) == 4403
    listed = await gql.data(
        "mutation($o: [String!]!) { setAllowedOrigins(input: {origins: $o}) { userErrors { code } } }",
        {"o": [page]},
        headers=county.admin,
    )
    assert listed["setAllowedOrigins"]["userErrors"] == []
    gql.app.state.origins.forget()
    async with connected(server, county.admin, origin=page):
        pass

    activity = await county.create()
    elsewhere = County(gql, gql.app.state.services.sync_engine, make_county)
    theirs = await elsewhere.create()
    async with connected(server, county.parent) as phone:
        # Queries and mutations go over HTTP.
        sid = await phone.subscribe("{ __typename }", {})
        assert await phone.error_codes(sid) == ["SUBSCRIPTIONS_ONLY"]
        # Another county's activity looks missing; so does a draft, and a job the parent
        # may not follow is refused.
        sid = await phone.subscribe(PLACES, {"id": theirs})
        assert await phone.error_codes(sid) == ["ACTIVITY_NOT_FOUND"]
        await phone.complete(sid)
        sid = await phone.subscribe(
            'subscription { job(id: "00000000-0000-0000-0000-000000000000") { state } }', {}
        )
        assert await phone.error_codes(sid) == ["FORBIDDEN"]
        await phone.complete(sid)
        # Malformed: the limits apply over WebSocket as over HTTP.
        deep = (
            "subscription($id: ID!) { activity(id: $id) { "
            + "organiser { parent { " * 7
            + "name"
            + " } }" * 7
            + " } }"
        )
        sid = await phone.subscribe(deep, {"id": activity})
        assert await phone.error_codes(sid) == ["QUERY_TOO_DEEP"]
        # A county that locks its apps to their registered queries locks their subscriptions.
        registered = await gql.data(
            "mutation($q: [QueryToRegister!]!) { registerQueries(input: {queries: $q}) "
            "{ userErrors { code } } }",
            {"q": [{"name": "家长端-活动名额", "query": PLACES}]},
            headers=county.admin,
        )
        assert registered["registerQueries"]["userErrors"] == []
        locked = await gql.data(
            "mutation { setAllowListEnforced(input: {enforced: true}) { userErrors { code } } }",
            headers=county.admin,
        )
        assert locked["setAllowListEnforced"]["userErrors"] == []
        sid = await phone.subscribe(REDEMPTION, {"id": activity})
        assert await phone.error_codes(sid) == ["QUERY_NOT_ALLOWED"]
        sid = await phone.subscribe(PLACES, {"id": activity})
        assert await phone.next(sid) == {
            "activity": {"placesLeft": 2, "waitlisted": 0, "state": "PUBLISHED"}
        }
        await gql.data(
            "mutation { setAllowListEnforced(input: {enforced: false}) { userErrors { code } } }",
            headers=county.admin,
        )
        # The connection is still good.
        sid = await phone.subscribe(PLACES, {"id": activity})
        assert await phone.next(sid) == {
            "activity": {"placesLeft": 2, "waitlisted": 0, "state": "PUBLISHED"}
        }

    # A subscription over HTTP is pointed to the WebSocket.
    assert await gql.error_codes(PLACES, {"id": activity}, headers=county.admin) == [
        "SUBSCRIPTION_OVER_HTTP"
    ]


async def test_an_answer_comes_only_when_what_the_subscriber_selected_changed(
    server: str, county: County, gql: GraphQLClient
) -> None:
    activity = await county.create(capacity=3)
    async with connected(server, county.parent) as phone:
        titles = await phone.subscribe(
            "subscription($id: ID!) { activity(id: $id) { title } }", {"id": activity}
        )
        places = await phone.subscribe(PLACES, {"id": activity})
        first = {(await phone.receive())["id"] for _ in range(2)}
        assert first == {titles, places}
        # A sign-up changes the places, not the title: only the places' subscriber hears.
        assert (await county.sign_up(activity, [1], county.counselor))["userErrors"] == []
        assert await phone.next(places) == {
            "activity": {"placesLeft": 2, "waitlisted": 0, "state": "PUBLISHED"}
        }
        await phone.quiet()


async def test_a_subscriber_who_signs_out_stops_receiving(
    server: str, county: County, gql: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("resolvers.live.RECHECK_S", 0.2)
    activity = await county.create()
    async with connected(server, county.parent) as phone:
        sid = await phone.subscribe(PLACES, {"id": activity})
        assert await phone.next(sid) == {
            "activity": {"placesLeft": 2, "waitlisted": 0, "state": "PUBLISHED"}
        }
        out = await gql.data("mutation { signOut { ok } }", headers=county.parent)
        assert out["signOut"]["ok"] is True
        assert await phone.error_codes(sid) == ["UNAUTHENTICATED"]  # 会话已结束，请重新登录
        await phone.complete(sid)


async def test_many_phones_at_an_opening_minute_all_see_the_last_place_taken(
    server: str, county: County, gql: GraphQLClient
) -> None:
    activity = await county.create(capacity=8)
    live = gql.app.state.services.live
    async with contextlib.AsyncExitStack() as stack:
        phones = [await stack.enter_async_context(connected(server, county.parent))
                  for _ in range(25)]  # fmt: skip
        sids = [await phone.subscribe(PLACES, {"id": activity}) for phone in phones]
        for phone, sid in zip(phones, sids, strict=True):
            assert (await phone.next(sid))["activity"]["placesLeft"] == 8
        assert live.watching >= 25
        signed = await asyncio.gather(
            *(county.sign_up(activity, [i], county.admin) for i in range(8))
        )
        assert all(s["userErrors"] == [] for s in signed)
        for phone, sid in zip(phones, sids, strict=True):
            await phone.until(sid, lambda d: d["activity"]["placesLeft"] == 0)
    # Every watch is gone with its connection.
    for _ in range(100):
        if live.watching == 0:
            break
        await asyncio.sleep(0.05)
    assert live.watching == 0


async def test_updates_resume_after_the_listening_connection_is_lost(
    server: str, county: County, gql: GraphQLClient, engine: Engine
) -> None:
    activity = await county.create(capacity=3)
    async with connected(server, county.parent) as phone:
        sid = await phone.subscribe(PLACES, {"id": activity})
        assert await phone.next(sid) == {
            "activity": {"placesLeft": 3, "waitlisted": 0, "state": "PUBLISHED"}
        }
        with engine.begin() as conn:
            killed = conn.execute(text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND query = 'LISTEN redscarf_live'"
            )).scalar_one()  # fmt: skip
        assert killed >= 1
        # A place taken while nobody listened is not lost: listening again, the hub has every
        # watch read again.
        assert (await county.sign_up(activity, [0], county.parent))["userErrors"] == []
        assert await phone.next(sid) == {
            "activity": {"placesLeft": 2, "waitlisted": 0, "state": "PUBLISHED"}
        }
        assert (await county.sign_up(activity, [1], county.counselor))["userErrors"] == []
        assert await phone.next(sid) == {
            "activity": {"placesLeft": 1, "waitlisted": 0, "state": "PUBLISHED"}
        }


async def test_one_connection_may_follow_twenty_things_at_once(server: str, county: County) -> None:
    activity = await county.create()
    async with connected(server, county.parent) as phone:
        sids = [await phone.subscribe(PLACES, {"id": activity}) for _ in range(20)]
        answered = [await phone.receive() for _ in sids]  # in any order
        assert sorted(int(m["id"]) for m in answered) == sorted(int(s) for s in sids)
        assert {m["payload"]["data"]["activity"]["placesLeft"] for m in answered} == {2}
        extra = await phone.subscribe(PLACES, {"id": activity})
        assert await phone.error_codes(extra) == ["TOO_MANY_SUBSCRIPTIONS"]
        await phone.complete(extra)
        # Ending one makes room for another.
        await phone.send({"id": sids[0], "type": "complete"})
        for _ in range(50):
            again = await phone.subscribe(PLACES, {"id": activity})
            message = await phone.receive()
            if message["type"] == "next":
                break
            await phone.complete(again)
            await asyncio.sleep(0.05)
        assert message["payload"]["data"]["activity"]["placesLeft"] == 2
