"""The exchange through the API: a county signs up a hotel as a partner, the hotel's clerk puts
a family package on sale, a parent redeems it with a child's points, the clerk verifies the
code at the counter and never sees who the child is."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import Engine, update

from domain.exchange.tables import redemptions
from domain.ledger import service as ledger
from schema.ids import decode_global_id, encode_global_id
from tenants.sessions import tenant_connection
from tests.graphql_client import GraphQLClient, guardian_of, tenant_of
from tests.test_accounts import PASSWORD, bearer, sign_in
from tests.test_activities_api import County
from tests.test_cli import redscarf

NOW = dt.datetime.now(dt.UTC)
REDEEM = """mutation($i: ID!, $p: ID!) { redeemItem(input: {itemId: $i, pupilId: $p})
  { redemption { id code codeHint state itemName price expiresAt } userErrors { code message } } }"""
VERIFY = """mutation($c: String!) { verifyRedemptionCode(input: {code: $c})
  { itemName redemption { state pupil { name } } userErrors { field code message } } }"""
ITEM = """mutation($i: CreateExchangeItemInput!) { createExchangeItem(input: $i)
  { item { id name stock onSale partnerName counts { issued verified expired } }
    userErrors { code message } } }"""


async def _partner(county: County, gql: GraphQLClient, name: str) -> dict[str, Any]:
    made = await gql.data(
        """mutation($n: String!) { createPartner(input: {name: $n, contact: "0898-12345678"})
        { partner { id name staffScope } userErrors { code } } }""",
        {"n": name},
        headers=county.admin,
    )
    return made["createPartner"]["partner"]


async def _clerk(county: County, gql: GraphQLClient, partner: dict[str, Any]) -> dict[str, str]:
    """A clerk invited by the county for the partner, signed in with their own password."""
    invited = await gql.data(
        """mutation($s: String!) { createInvitation(input: {role: PARTNER, scope: $s,
        displayName: "前台"}) { token userErrors { code } } }""",
        {"s": partner["staffScope"]},
        headers=county.admin,
    )
    assert invited["createInvitation"]["userErrors"] == []
    token = invited["createInvitation"]["token"]
    username = f"clerk{uuid.uuid4().hex[:12]}"
    accepted = await gql.data(
        """mutation($t: String!, $u: String!, $p: String!) { acceptInvitation(input:
        {token: $t, username: $u, password: $p}) { grant { role } userErrors { code message } } }""",
        {"t": token, "u": username, "p": PASSWORD},
    )
    assert accepted["acceptInvitation"]["grant"] == {"role": "PARTNER"}, accepted
    access = (await sign_in(gql, username))["tokens"]["accessToken"]
    return bearer(access, county.county.code)


@pytest.fixture
def county(gql: GraphQLClient, engine: Engine, make_county: Any) -> County:
    return County(gql, engine, make_county)


async def _item(county: County, gql: GraphQLClient, who: dict[str, str], partner: str,
                **fields: Any) -> dict[str, Any]:  # fmt: skip
    values = {"partnerId": partner, "name": "亲子套餐券", "price": 6, "stock": 2, "perPupil": 1,
              "validFrom": (NOW - dt.timedelta(hours=1)).isoformat(),
              "validUntil": (NOW + dt.timedelta(days=30)).isoformat(), **fields}  # fmt: skip
    return (await gql.data(ITEM, {"i": values}, headers=who))["createExchangeItem"]


async def test_a_partner_puts_an_item_on_sale_a_parent_redeems_and_the_partner_verifies_once(
    county: County, gql: GraphQLClient, engine: Engine
) -> None:
    hotel = await _partner(county, gql, "椰林酒店")
    other = await _partner(county, gql, "书店")
    clerk = await _clerk(county, gql, hotel)
    made = await _item(county, gql, clerk, hotel["id"])
    assert made["item"] == {"id": made["item"]["id"], "name": "亲子套餐券", "stock": 2,
                            "onSale": True, "partnerName": "椰林酒店",
                            "counts": {"issued": 0, "verified": 0, "expired": 0}}  # fmt: skip
    # The clerk acts for their own partner only.
    assert await gql.error_codes(ITEM, {"i": {
        "partnerId": other["id"], "name": "书签", "price": 1, "stock": 1,
        "validFrom": NOW.isoformat(), "validUntil": (NOW + dt.timedelta(days=1)).isoformat()}},
        headers=clerk) == ["FORBIDDEN"]  # fmt: skip
    item = made["item"]["id"]

    listed = await gql.data("{ exchangeItems(onSale: true) { name price stock counts { issued } } }",
                            headers=county.parent)  # fmt: skip
    assert listed["exchangeItems"] == [
        {"name": "亲子套餐券", "price": 6, "stock": 2, "counts": None}
    ]
    got = (await gql.data(REDEEM, {"i": item, "p": county.pupil(0)}, headers=county.parent))[
        "redeemItem"
    ]
    assert got["userErrors"] == []
    code = got["redemption"]["code"]
    assert len(code) == 10
    assert got["redemption"]["state"] == "ISSUED"
    assert await county.points(0) == {"balance": 4, "held": 0, "available": 4}
    # The parent sees the code again on the child's page; the county sees the child, not the
    # code; the partner sees the code's last characters, never the child.
    mine = await gql.data("query($p: ID!) { pupil(id: $p) { redemptions { code itemName } } }",
                          {"p": county.pupil(0)}, headers=county.parent)  # fmt: skip
    assert mine["pupil"]["redemptions"] == [{"code": code, "itemName": "亲子套餐券"}]
    listing = "{ redemptions { totalCount edges { node { code codeHint pupil { name } } } } }"
    seen_by_county = (await gql.data(listing, headers=county.admin))["redemptions"]
    assert seen_by_county["edges"][0]["node"] == {"code": None, "codeHint": code[-3:],
                                                  "pupil": {"name": "队员0"}}  # fmt: skip
    seen_by_clerk = (await gql.data(listing, headers=clerk))["redemptions"]
    assert seen_by_clerk == {"totalCount": 1, "edges": [
        {"node": {"code": None, "codeHint": code[-3:], "pupil": None}}]}  # fmt: skip
    assert await gql.error_codes("query($p: ID!) { pupil(id: $p) { name } }",
                                 {"p": county.pupil(0)}, headers=clerk) == []  # fmt: skip
    assert (await gql.data("query($p: ID!) { pupil(id: $p) { name } }", {"p": county.pupil(0)},
                           headers=clerk))["pupil"] is None  # fmt: skip

    # Another partner's clerk cannot verify the hotel's code; a forged code is not found.
    bookshop = await _clerk(county, gql, other)
    elsewhere = (await gql.data(VERIFY, {"c": code}, headers=bookshop))["verifyRedemptionCode"]
    assert [e["code"] for e in elsewhere["userErrors"]] == ["CODE_NOT_FOUND"]
    forged = (await gql.data(VERIFY, {"c": "ABCDEFGHJK"}, headers=clerk))["verifyRedemptionCode"]
    assert [e["code"] for e in forged["userErrors"]] == ["CODE_NOT_FOUND"]
    spaced = f"{code[:5].lower()} {code[5:]}"
    verified = (await gql.data(VERIFY, {"c": spaced}, headers=clerk))["verifyRedemptionCode"]
    assert verified == {"itemName": "亲子套餐券", "redemption": {"state": "VERIFIED", "pupil": None},
                        "userErrors": []}  # fmt: skip
    again = (await gql.data(VERIFY, {"c": code}, headers=clerk))["verifyRedemptionCode"]
    assert [e["code"] for e in again["userErrors"]] == ["CODE_USED"]
    # A parent or a counselor cannot verify codes at all.
    assert await gql.error_codes(VERIFY, {"c": code}, headers=county.parent) == ["FORBIDDEN"]
    counts = await gql.data("query($i: ID!) { exchangeItem(id: $i) { stock counts { issued verified } } }",
                            {"i": item}, headers=clerk)  # fmt: skip
    assert counts["exchangeItem"] == {"stock": 1, "counts": {"issued": 0, "verified": 1}}


async def test_bad_redemptions_get_clear_codes_and_points_and_stock_stay_exact(
    county: County, gql: GraphQLClient, engine: Engine
) -> None:
    hotel = await _partner(county, gql, "椰林酒店")
    item = (await _item(county, gql, county.admin, hotel["id"], stock=1))["item"]["id"]
    services = gql.app.state.services
    family = county.headers(guardian_of(services, county.county, county.pupils[1:3]))
    first = await gql.data(REDEEM, {"i": item, "p": county.pupil(1)}, headers=family)
    assert first["redeemItem"]["userErrors"] == []
    out = await gql.data(REDEEM, {"i": item, "p": county.pupil(2)}, headers=family)
    assert [e["code"] for e in out["redeemItem"]["userErrors"]] == ["OUT_OF_STOCK"]
    restocked = await gql.data(
        "mutation($i: ID!) { updateExchangeItem(input: {id: $i, addStock: 5}) { item { stock } } }",
        {"i": item}, headers=county.admin,
    )  # fmt: skip
    assert restocked["updateExchangeItem"]["item"]["stock"] == 5
    limit = await gql.data(REDEEM, {"i": item, "p": county.pupil(1)}, headers=family)
    assert [e["code"] for e in limit["redeemItem"]["userErrors"]] == ["LIMIT_REACHED"]
    dear = (await _item(county, gql, county.admin, hotel["id"], name="套房", price=11))["item"][
        "id"
    ]
    poor = await gql.data(REDEEM, {"i": dear, "p": county.pupil(2)}, headers=family)
    assert [e["code"] for e in poor["redeemItem"]["userErrors"]] == ["INSUFFICIENT_POINTS"]
    bad = await _item(county, gql, county.admin, hotel["id"], stock=-1)
    assert [e["code"] for e in bad["userErrors"]] == ["INVALID_STOCK"]
    # Stock can never be taken below what is left.
    below = await gql.data(
        "mutation($i: ID!) { updateExchangeItem(input: {id: $i, addStock: -6}) { item { stock } userErrors { code } } }",
        {"i": item}, headers=county.admin,
    )  # fmt: skip
    assert [e["code"] for e in below["updateExchangeItem"]["userErrors"]] == ["INVALID_STOCK"]
    # The parent of pupil 0 cannot redeem for pupil 1 (not theirs): not found.
    assert await gql.error_codes(REDEEM, {"i": item, "p": county.pupil(1)},
                                 headers=county.parent) == ["PUPIL_NOT_FOUND"]  # fmt: skip
    assert await county.points(1) == {"balance": 4, "held": 0, "available": 4}
    assert await county.points(2) == {"balance": 10, "held": 0, "available": 10}
    with engine.connect() as conn:
        assert ledger.verify(conn, county.county.schema_name).problems == []


async def test_codes_not_picked_up_in_time_give_points_and_stock_back_once(
    county: County, gql: GraphQLClient, engine: Engine, db_env: dict[str, str]
) -> None:
    hotel = await _partner(county, gql, "椰林酒店")
    item = (await _item(county, gql, county.admin, hotel["id"], stock=3))["item"]["id"]
    got = await gql.data(REDEEM, {"i": item, "p": county.pupil(0)}, headers=county.parent)
    code = got["redeemItem"]["redemption"]["code"]
    with tenant_connection(engine, tenant_of(county.county)) as conn:
        conn.execute(update(redemptions).values(expires_at=NOW - dt.timedelta(minutes=1)))
    for _ in range(2):  # run daily; a second run gives nothing back twice
        done = redscarf("exchange", "expire", env=db_env)
        assert done.returncode == 0, done.stderr
    assert await county.points(0) == {"balance": 10, "held": 0, "available": 10}
    found = await gql.data("query($i: ID!) { exchangeItem(id: $i) { stock counts { expired } } }",
                           {"i": item}, headers=county.admin)  # fmt: skip
    assert found["exchangeItem"] == {"stock": 3, "counts": {"expired": 1}}
    clerk = await _clerk(county, gql, hotel)
    late = (await gql.data(VERIFY, {"c": code}, headers=clerk))["verifyRedemptionCode"]
    assert [e["code"] for e in late["userErrors"]] == ["CODE_EXPIRED"]
    with engine.connect() as conn:
        assert ledger.verify(conn, county.county.schema_name).problems == []


async def run_activities_exchange_and_tasks(
    client: GraphQLClient,
    admin: dict[str, str],
    county: Any,
    engine: Engine,
    squadron: Any,
    organiser: Any,
) -> None:
    """Every mutation of activities, the exchange and collection tasks, once, as a county uses
    them (for the audit test): two pupils with points and their parent, an activity run to its
    end, one cancelled, a partner with an item redeemed and verified, tasks taken part in."""
    from domain.exchange.service import partner_scope
    from domain.people.tables import pupils

    with tenant_connection(engine, tenant_of(county)) as conn:
        kids = [
            conn.execute(pupils.insert().values(squadron_id=squadron.id, name=name, gender="male",
                                                grade=6, status="member").returning(pupils.c.id)
                         ).scalar_one()
            for name in ("活动甲", "活动乙")
        ]  # fmt: skip
        ledger.issue_many(conn, [ledger.Grant(f"audit:{k}", k, 20) for k in kids], kind="award")
    parent = bearer(guardian_of(client.app.state.services, county, kids), county.code)
    kid = [encode_global_id("Pupil", county.code, k) for k in kids]
    root = encode_global_id("Unit", county.code, organiser.id)

    async def do(query: str, variables: dict[str, Any], who: dict[str, str]) -> Any:
        body = await client.data(query, variables, headers=who)
        payload = next(iter(body.values()))
        assert not payload.get("userErrors"), payload
        return payload

    def activity_input(title: str) -> dict[str, Any]:
        return {"organiserId": root, "title": title, "capacity": 5, "cost": 2, "reward": 1,
                "startsAt": (NOW - dt.timedelta(minutes=10)).isoformat(),
                "endsAt": (NOW + dt.timedelta(hours=2)).isoformat(),
                "signupOpensAt": (NOW - dt.timedelta(hours=1)).isoformat(),
                "signupClosesAt": (NOW + dt.timedelta(hours=1)).isoformat()}  # fmt: skip

    create = "mutation($i: CreateActivityInput!) { createActivity(input: $i) { activity { id } userErrors { code } } }"
    by_id = "mutation($a: ID!) { %s(input: {id: $a}) { userErrors { code } } }"
    activity = (await do(create, {"i": activity_input("审计活动")}, admin))["activity"]["id"]
    await do("mutation($a: ID!) { updateActivity(input: {id: $a, place: \"少年宫\"}) { userErrors { code } } }",
             {"a": activity}, admin)  # fmt: skip
    await do(by_id % "publishActivity", {"a": activity}, admin)
    signup = "mutation($a: ID!, $p: [ID!]!) { signUpForActivity(input: {activityId: $a, pupilIds: $p}) { signups { id } userErrors { code } } }"
    first = (await do(signup, {"a": activity, "p": [kid[0]]}, parent))["signups"][0]["id"]
    await do("mutation($s: ID!) { cancelActivitySignup(input: {signupId: $s}) { userErrors { code } } }",
             {"s": first}, parent)  # fmt: skip
    await do(signup, {"a": activity, "p": kid}, admin)
    await do("mutation($a: ID!, $p: ID!) { checkInPupil(input: {activityId: $a, pupilId: $p}) { userErrors { code } } }",
             {"a": activity, "p": kid[0]}, admin)  # fmt: skip
    code = (await do("mutation($a: ID!) { issueCheckinCode(input: {id: $a}) { code userErrors { code } } }",
                     {"a": activity}, admin))["code"]  # fmt: skip
    await do("mutation($a: ID!, $p: ID!, $c: String!) { checkInWithCode(input: {activityId: $a, pupilId: $p, code: $c}) { userErrors { code } } }",
             {"a": activity, "p": kid[1], "c": code}, parent)  # fmt: skip
    await do(by_id % "closeActivitySignup", {"a": activity}, admin)
    await do(by_id % "finishActivity", {"a": activity}, admin)
    other = (await do(create, {"i": activity_input("取消的活动")}, admin))["activity"]["id"]
    await do(by_id % "cancelActivity", {"a": other}, admin)

    made = await do('mutation { createPartner(input: {name: "审计酒店"}) { partner { id } userErrors { code } } }',
                    {}, admin)  # fmt: skip
    partner = made["partner"]["id"]
    await do('mutation($p: ID!) { updatePartner(input: {id: $p, contact: "电话"}) { userErrors { code } } }',
             {"p": partner}, admin)  # fmt: skip
    item = (await do(ITEM, {"i": {"partnerId": partner, "name": "审计券", "price": 1, "stock": 3,
                                  "validFrom": (NOW - dt.timedelta(hours=1)).isoformat(),
                                  "validUntil": (NOW + dt.timedelta(days=1)).isoformat()}},
                     admin))["item"]["id"]  # fmt: skip
    await do("mutation($i: ID!) { updateExchangeItem(input: {id: $i, addStock: 1}) { userErrors { code } } }",
             {"i": item}, admin)  # fmt: skip
    redeemed = await do(REDEEM, {"i": item, "p": kid[0]}, parent)
    clerk = bearer(client.token_for("partner", county.code,
                                    partner_scope(decode_global_id(partner)[2])), county.code)  # fmt: skip
    await do(VERIFY, {"c": redeemed["redemption"]["code"]}, clerk)

    # Collection tasks: an essay call sent in, approved; a lesson completed; closed.
    def task_input(kind: str, **extra: Any) -> dict[str, Any]:
        return {"organiserId": root, "kind": kind, "title": f"审计{kind}", "reward": 1,
                "opensAt": (NOW - dt.timedelta(hours=1)).isoformat(),
                "closesAt": (NOW + dt.timedelta(days=1)).isoformat(), **extra}  # fmt: skip

    create_task = "mutation($i: CreateCollectionTaskInput!) { createCollectionTask(input: $i) { task { id } userErrors { code } } }"
    essay = (await do(create_task, {"i": task_input("SUBMISSION")}, admin))["task"]["id"]
    await do('mutation($t: ID!) { updateCollectionTask(input: {id: $t, description: "说明"}) { userErrors { code } } }',
             {"t": essay}, admin)  # fmt: skip
    await do("mutation($t: ID!) { publishCollectionTask(input: {id: $t}) { userErrors { code } } }",
             {"t": essay}, admin)  # fmt: skip
    sent = await do('mutation($t: ID!, $p: ID!) { submitTaskWork(input: {taskId: $t, pupilId: $p, text: "作品"}) { submission { id } userErrors { code } } }',
                    {"t": essay, "p": kid[0]}, parent)  # fmt: skip
    await do("mutation($s: ID!) { reviewTaskSubmission(input: {submissionId: $s, approve: true}) { userErrors { code } } }",
             {"s": sent["submission"]["id"]}, admin)  # fmt: skip
    lesson = (await do(create_task, {"i": task_input("LESSON", contentUrl="https://learn.example.cn/1")},
                       admin))["task"]["id"]  # fmt: skip
    await do("mutation($t: ID!) { publishCollectionTask(input: {id: $t}) { userErrors { code } } }",
             {"t": lesson}, admin)  # fmt: skip
    await do("mutation($t: ID!, $p: ID!) { completeLesson(input: {taskId: $t, pupilId: $p}) { userErrors { code } } }",
             {"t": lesson, "p": kid[1]}, parent)  # fmt: skip
    await do("mutation($t: ID!) { closeCollectionTask(input: {id: $t}) { userErrors { code } } }",
             {"t": essay}, admin)  # fmt: skip
