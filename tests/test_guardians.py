"""A parent registers on a phone, binds their child with the school's code or the child's ID
number, and then sees that child and no other: through the real endpoint."""

from __future__ import annotations

import datetime as dt
import logging
import random
from typing import Any

import pytest
from sqlalchemy import Engine, select, update

from domain.accounts.tables import binding_failures
from domain.people.guardians import MAX_FAILURES
from domain.people.tables import guardian_consents
from schema.ids import encode_global_id
from tenants.sessions import tenant_connection
from tests.graphql_client import GraphQLClient, create_unit, tenant_of
from tests.test_pupils import id_number

CREATE = """mutation($i: CreatePupilInput!) { createPupil(input: $i) { pupil { id } } }"""
BIND = """mutation($i: BindPupilInput!) { bindPupil(input: $i) {
  pupilId pupilName userErrors { code message } } }"""
ROSTER = "{ pupils(first: 10) { edges { node { name birthDate(reveal: true) } } } }"


@pytest.fixture
def school(gql: GraphQLClient, make_county: Any, engine: Engine) -> dict[str, Any]:
    county = make_county()
    root = create_unit(engine, county, "county", county.name)
    brigade = create_unit(engine, county, "brigade", "城南小学", root)
    squadron = create_unit(engine, county, "squadron", "二（1）中队", brigade, grade=2)
    counselor = gql.token_for("squadron_counselor", county.code, squadron.path)
    return {
        "county": county,
        "squadron": encode_global_id("Unit", county.code, squadron.id),
        "counselor": {"Authorization": f"Bearer {counselor}"},
    }


async def pupil(gql: GraphQLClient, school: dict[str, Any], name: str, **more: Any) -> str:
    made = await gql.data(
        CREATE,
        {"i": {"squadronId": school["squadron"], "name": name, "gender": "MALE", **more}},
        headers=school["counselor"],
    )
    return str(made["createPupil"]["pupil"]["id"])


async def parent(gql: GraphQLClient, caplog: pytest.LogCaptureFixture) -> dict[str, str]:
    """A parent who registers with a phone code: the headers of the new account."""
    phone = f"158{random.randrange(10**8):08d}"
    with caplog.at_level(logging.WARNING, logger="redscarf.login_codes"):
        await gql.data(
            "mutation($p: String!) { requestLoginCode(input: {phone: $p}) { ok } }", {"p": phone}
        )
    code = caplog.records[-1].getMessage().rsplit(" ", 1)[-1]
    tokens = (
        await gql.data(
            "mutation($p: String!, $c: String!) { signInWithCode(input: {phone: $p, code: $c}) "
            "{ tokens { accessToken } } }",
            {"p": phone, "c": code},
        )
    )["signInWithCode"]["tokens"]
    return {"Authorization": f"Bearer {tokens['accessToken']}"}


async def test_a_parent_binds_with_the_schools_code_and_sees_only_that_child(
    gql: GraphQLClient, school: dict[str, Any], engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    child = await pupil(gql, school, "赵一鸣", birthDate="2018-05-20")
    await pupil(gql, school, "钱二鸣", birthDate="2018-06-20")
    code = (
        await gql.data(
            "mutation($id: ID!) { issueBindingCode(input: {pupilId: $id}) { code expiresAt } }",
            {"id": child},
            headers=school["counselor"],
        )
    )["issueBindingCode"]["code"]
    assert len(code) == 10

    mother = await parent(gql, caplog)
    # Before binding, a parent reaches no county
    before = await gql.execute(ROSTER, headers=mother)
    assert before["errors"][0]["extensions"]["code"] == "COUNTY_REQUIRED"

    given = {"countyCode": school["county"].code, "relation": "MOTHER", "code": code.lower()}
    no_consent = await gql.data(BIND, {"i": {**given, "noticeVersion": " "}}, headers=mother)
    assert no_consent["bindPupil"]["userErrors"][0]["code"] == "CONSENT_REQUIRED"
    bound = await gql.data(BIND, {"i": {**given, "noticeVersion": "2026-09"}}, headers=mother)
    assert bound["bindPupil"] == {"pupilId": child, "pupilName": "赵一鸣", "userErrors": []}

    # Then the child is there, personal data included, and nobody else's
    roster = (await gql.data(ROSTER, headers=mother))["pupils"]["edges"]
    assert [e["node"] for e in roster] == [{"name": "赵一鸣", "birthDate": "2018-05-20"}]
    with tenant_connection(engine, tenant_of(school["county"])) as conn:
        consent = conn.execute(
            select(guardian_consents.c.purpose, guardian_consents.c.notice_version)
        ).one()
    assert tuple(consent) == ("roster", "2026-09")

    # A code binds once
    father = await parent(gql, caplog)
    again = await gql.data(BIND, {"i": {**given, "noticeVersion": "2026-09"}}, headers=father)
    assert again["bindPupil"]["userErrors"][0]["code"] == "BINDING_NOT_FOUND"


async def test_a_parent_binds_with_the_id_number_and_name_and_can_unbind(
    gql: GraphQLClient, school: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    number = id_number("20180101", "235")
    child = await pupil(gql, school, "孙小满", idNumber=number)
    father = await parent(gql, caplog)
    base = {"countyCode": school["county"].code, "relation": "FATHER", "noticeVersion": "2026-09"}
    wrong = await gql.data(
        BIND, {"i": {**base, "idNumber": number, "name": "孙小蛮"}}, headers=father
    )
    assert wrong["bindPupil"]["userErrors"][0]["code"] == "BINDING_NOT_FOUND"
    right = await gql.data(
        BIND, {"i": {**base, "idNumber": number, "name": "孙小满"}}, headers=father
    )
    assert right["bindPupil"]["pupilId"] == child
    assert len((await gql.data(ROSTER, headers=father))["pupils"]["edges"]) == 1

    # A grandmother binds the same child too: a pupil may have several guardians
    grandmother = await parent(gql, caplog)
    also = await gql.data(
        BIND,
        {"i": {**base, "relation": "GRANDMOTHER", "idNumber": number, "name": "孙小满"}},
        headers=grandmother,
    )
    assert also["bindPupil"]["pupilId"] == child

    done = await gql.data(
        "mutation($id: ID!) { unbindPupil(input: {pupilId: $id}) { ok } }",
        {"id": child},
        headers=father,
    )
    assert done["unbindPupil"]["ok"] is True
    assert (await gql.data(ROSTER, headers=father))["pupils"]["edges"] == []
    assert len((await gql.data(ROSTER, headers=grandmother))["pupils"]["edges"]) == 1


async def test_guessing_id_numbers_locks_binding_for_an_hour_for_that_account_only(
    gql: GraphQLClient, school: dict[str, Any], caplog: pytest.LogCaptureFixture, engine: Engine
) -> None:
    number = id_number("20180102", "247")
    child = await pupil(gql, school, "钱多多", idNumber=number)
    guesser = await parent(gql, caplog)
    base = {"countyCode": school["county"].code, "relation": "MOTHER", "noticeVersion": "2026-09"}
    for serial in range(MAX_FAILURES):
        guess = id_number("20180102", f"{serial:03d}")
        wrong = await gql.data(
            BIND, {"i": {**base, "idNumber": guess, "name": "钱多多"}}, headers=guesser
        )
        assert wrong["bindPupil"]["userErrors"][0]["code"] == "BINDING_NOT_FOUND"
    # Locked: even the right ID number and name are refused now, and say why.
    right = {"i": {**base, "idNumber": number, "name": "钱多多"}}
    locked = await gql.data(BIND, right, headers=guesser)
    assert locked["bindPupil"]["userErrors"][0]["code"] == "BINDING_LOCKED"
    assert locked["bindPupil"]["pupilId"] is None
    # Another parent is not held up by it.
    other = await parent(gql, caplog)
    assert (await gql.data(BIND, right, headers=other))["bindPupil"]["pupilId"] == child
    # An hour later the guesser may try again.
    with engine.begin() as conn:
        conn.execute(
            update(binding_failures).values(at=binding_failures.c.at - dt.timedelta(hours=1))
        )
    assert (await gql.data(BIND, right, headers=guesser))["bindPupil"]["pupilId"] == child
