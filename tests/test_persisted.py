"""Persisted queries and a county's allow-list (issue 9): an app sends a query's hash instead
of its text; a county locks its API to the operations its apps registered, and anything else
is refused before it runs."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, func, select

from domain.people.tables import pupils
from tenants.provisioning import County
from tests.graphql_client import GraphQLClient, create_pupils, create_unit, in_county

LIST = """{ queryAllowList { enforced queries { hash name query } } }"""
REGISTER = """mutation($q: [QueryToRegister!]!) { registerQueries(input: {queries: $q}) {
  allowList { enforced queries { hash name } } userErrors { field code message } } }"""
ENFORCE = """mutation($e: Boolean!) { setAllowListEnforced(input: {enforced: $e}) {
  allowList { enforced } userErrors { code } } }"""
UNREGISTER = """mutation($h: String!) { unregisterQuery(input: {hash: $h}) {
  allowList { queries { hash } } userErrors { code } } }"""
ROSTER = "{ pupils(first: 10) { edges { node { name } } } }"
ENROL = """mutation($s: ID!) { enrolPupils(input: {squadronId: $s, pupils: [
  {name: "新同学", gender: FEMALE, birthDate: "2016-03-01"}]}) { userErrors { code } } }"""


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


async def post(gql: GraphQLClient, body: dict[str, Any], headers: dict[str, str]) -> Any:
    response = await gql.http.post("/graphql", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors") or []]


def persisted(pk: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": pk}}


async def test_an_app_sends_the_hash_once_the_server_knows_the_text(
    gql: GraphQLClient, engine: Engine, make_county: Callable[..., County]
) -> None:
    county = make_county()
    root = create_unit(engine, county, "county", county.name)
    create_pupils(engine, county, create_unit(engine, county, "squadron", "一（1）中队", root), 2)
    admin = {"Authorization": f"Bearer {gql.token_for('county_admin', county.code)}"}
    text = ROSTER + " # apq " + county.code  # a text no other test has sent
    pk = sha(text)
    # The hash alone, unknown: the client is told to send the text
    assert codes(await post(gql, {"extensions": persisted(pk)}, admin)) == [
        "PERSISTED_QUERY_NOT_FOUND"
    ]
    # The text with a hash that is not its own: refused
    wrong = await post(gql, {"query": text, "extensions": persisted(sha("x"))}, admin)
    assert codes(wrong) == ["PERSISTED_QUERY_HASH_MISMATCH"]
    bad = await post(gql, {"query": text, "extensions": {"persistedQuery": {"version": 2}}}, admin)
    assert codes(bad) == ["PERSISTED_QUERY_INVALID"]
    # The text and its hash: answered and remembered; then the hash alone, by POST and GET
    first = await post(gql, {"query": text, "extensions": persisted(pk)}, admin)
    assert first.get("data") is not None, first
    assert len(first["data"]["pupils"]["edges"]) == 2
    again = await post(gql, {"extensions": persisted(pk)}, admin)
    assert again == first
    got = await gql.http.get("/graphql", params={"extensions": json.dumps(persisted(pk))},
                             headers=admin)  # fmt: skip
    assert got.json() == first
    # A text that does not validate is not remembered
    broken = "{ pupils { nosuchfield } } # " + county.code
    assert codes(await post(gql, {"query": broken, "extensions": persisted(sha(broken))},
                            admin))  # fmt: skip
    assert codes(await post(gql, {"extensions": persisted(sha(broken))}, admin)) == [
        "PERSISTED_QUERY_NOT_FOUND"
    ]


async def test_a_county_locks_its_api_to_the_queries_its_apps_registered(
    gql: GraphQLClient, engine: Engine, make_county: Callable[..., County]
) -> None:
    county, other = make_county(), make_county()
    root = create_unit(engine, county, "county", county.name)
    squadron = create_unit(engine, county, "squadron", "一（1）中队", root, grade=1)
    create_pupils(engine, county, squadron, 2)
    admin = {"Authorization": f"Bearer {gql.token_for('county_admin', county.code)}"}
    token = gql.token_for("squadron_counselor", county.code, squadron.path)
    counselor = {"Authorization": f"Bearer {token}"}
    # Nothing registered: enforcing is refused, and anyone may send anything
    refused = (await gql.data(ENFORCE, {"e": True}, headers=admin))["setAllowListEnforced"]
    assert refused["userErrors"] == [{"code": "ALLOW_LIST_EMPTY"}]
    # Registering checks each operation against the API
    bad = (await gql.data(REGISTER, {"q": [{"name": "坏", "query": "{ nosuch }"},
                                           {"name": " ", "query": ROSTER}]},
                          headers=admin))["registerQueries"]  # fmt: skip
    assert [(e["field"], e["code"]) for e in bad["userErrors"]] == [
        ("queries.0.query", "INVALID_QUERY"),
        ("queries.1.name", "INVALID_NAME"),
    ]
    made = (await gql.data(REGISTER, {"q": [{"name": "中队名册", "query": ROSTER}]},
                           headers=admin))["registerQueries"]  # fmt: skip
    assert made["allowList"]["queries"] == [{"hash": sha(ROSTER), "name": "中队名册"}]
    enforced = (await gql.data(ENFORCE, {"e": True}, headers=admin))["setAllowListEnforced"]
    assert enforced == {"allowList": {"enforced": True}, "userErrors": []}

    # The counselor's app: the registered query by text or by hash alone; nothing else
    by_text = await gql.data(ROSTER, headers=counselor)
    assert len(by_text["pupils"]["edges"]) == 2
    by_hash = await post(gql, {"extensions": persisted(sha(ROSTER))}, counselor)
    assert by_hash["data"] == by_text
    unit_id = (await gql.data("{ units(first: 5, kind: SQUADRON) { edges { node { id } } } }",
                              headers=admin))["units"]["edges"][0]["node"]["id"]  # fmt: skip
    before = in_county(engine, county, lambda c: c.execute(select(func.count())
                                                           .select_from(pupils)).scalar())  # fmt: skip
    assert await gql.error_codes(ENROL, {"s": unit_id}, headers=counselor) == ["QUERY_NOT_ALLOWED"]
    assert await gql.error_codes("{ me { name } }", headers=counselor) == ["QUERY_NOT_ALLOWED"]
    after = in_county(engine, county, lambda c: c.execute(select(func.count())
                                                          .select_from(pupils)).scalar())  # fmt: skip
    assert after == before  # refused before it ran
    # The county's admin is not bound by it; another county is not affected
    assert (await gql.data("{ me { name } }", headers=admin))["me"]["name"]
    stranger = {"Authorization": f"Bearer {gql.token_for('county_admin', other.code)}"}
    assert (await gql.data(LIST, headers=stranger))["queryAllowList"] == {
        "enforced": False,
        "queries": [],
    }

    # The last query cannot go while the list is enforced; lifting it opens the API again
    last = (await gql.data(UNREGISTER, {"h": sha(ROSTER)}, headers=admin))["unregisterQuery"]
    assert last["userErrors"] == [{"code": "ALLOW_LIST_EMPTY"}]
    await gql.data(ENFORCE, {"e": False}, headers=admin)
    assert (await gql.data("{ me { name } }", headers=counselor))["me"]["name"]
    gone = (await gql.data(UNREGISTER, {"h": sha(ROSTER)}, headers=admin))["unregisterQuery"]
    assert gone == {"allowList": {"queries": []}, "userErrors": []}
    assert (await gql.data(UNREGISTER, {"h": sha(ROSTER)}, headers=admin))["unregisterQuery"][
        "userErrors"
    ] == [{"code": "QUERY_NOT_REGISTERED"}]


async def run_allow_list(gql: GraphQLClient, admin: dict[str, str]) -> None:
    """Each mutation of the allow-list once, leaving it as it was (the audit test uses it)."""
    text = "{ me { name } }"
    await gql.data(REGISTER, {"q": [{"name": "我", "query": text}]}, headers=admin)
    assert (await gql.data(ENFORCE, {"e": True}, headers=admin))["setAllowListEnforced"][
        "allowList"
    ] == {"enforced": True}
    await gql.data(ENFORCE, {"e": False}, headers=admin)
    await gql.data(UNREGISTER, {"h": sha(text)}, headers=admin)
