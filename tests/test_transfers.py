"""A pupil moves from one county to another and the record goes along; or the new county
declines and the pupil is back where it was."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, select

from domain.people.tables import pupil_status_changes
from schema.ids import encode_global_id
from tenants.sessions import tenant_connection
from tests.graphql_client import GraphQLClient, create_unit, tenant_of
from tests.test_pupils import id_number

TRANSFER = """mutation($id: ID!, $to: String!) { transferPupil(input: {pupilId: $id,
  toCountyCode: $to, note: "随父母迁居"}) { transfer { id state } userErrors { code } } }"""
ACCEPT = """mutation($t: ID!, $s: ID!) { acceptTransfer(input: {transferId: $t, squadronId: $s})
  { pupilId transfer { state } userErrors { code } } }"""


@pytest.fixture
def two_counties(gql: GraphQLClient, make_county: Any, engine: Engine) -> dict[str, Any]:
    sides = {}
    for key in ("old", "new"):
        county = make_county()
        root = create_unit(engine, county, "county", county.name)
        school = create_unit(engine, county, "brigade", f"{county.name}小学", root)
        squadron = create_unit(engine, county, "squadron", "五（1）中队", school, grade=5)
        admin = gql.token_for("county_admin", county.code)
        sides[key] = {
            "county": county,
            "squadron": encode_global_id("Unit", county.code, squadron.id),
            "headers": {"Authorization": f"Bearer {admin}"},
        }
    return sides


async def register(gql: GraphQLClient, side: dict[str, Any], number: str) -> str:
    made = await gql.data(
        """mutation($s: ID!, $n: String!) { createPupil(input: {squadronId: $s, name: "马晓燕",
          idNumber: $n, joinedOn: "2022-10-13", batch: "2022年第一批"}) { pupil { id } } }""",
        {"s": side["squadron"], "n": number},
        headers=side["headers"],
    )
    return str(made["createPupil"]["pupil"]["id"])


async def test_a_pupil_moves_county_with_the_record_and_the_new_county_accepts(
    gql: GraphQLClient, two_counties: dict[str, Any], engine: Engine
) -> None:
    old, new = two_counties["old"], two_counties["new"]
    number = id_number("20150909", "346")
    pupil = await register(gql, old, number)
    asked = (
        await gql.data(TRANSFER, {"id": pupil, "to": new["county"].code}, headers=old["headers"])
    )["transferPupil"]
    assert asked["transfer"]["state"] == "PENDING"
    status = await gql.data(
        "query($id: ID!) { pupil(id: $id) { status } }", {"id": pupil}, headers=old["headers"]
    )
    assert status["pupil"]["status"] == "TRANSFERRED"

    incoming = (
        await gql.data(
            "{ incomingTransfers { id pupilName grade fromCounty } }", headers=new["headers"]
        )
    )["incomingTransfers"]
    assert incoming == [
        {
            "id": asked["transfer"]["id"],
            "pupilName": "马晓燕",
            "grade": 5,
            "fromCounty": old["county"].code,
        }
    ]
    accepted = (
        await gql.data(
            ACCEPT, {"t": asked["transfer"]["id"], "s": new["squadron"]}, headers=new["headers"]
        )
    )["acceptTransfer"]
    assert accepted["transfer"]["state"] == "ACCEPTED"
    arrived = await gql.data(
        "query($id: ID!) { pupil(id: $id) { name status joinedOn idNumber(reveal: true) "
        "squadron { name } } }",
        {"id": accepted["pupilId"]},
        headers=new["headers"],
    )
    assert arrived["pupil"] == {
        "name": "马晓燕",
        "status": "MEMBER",
        "joinedOn": "2022-10-13",
        "idNumber": number,
        "squadron": {"name": "五（1）中队"},
    }
    with tenant_connection(engine, tenant_of(new["county"])) as conn:
        notes = conn.execute(select(pupil_status_changes.c.note)).scalars().all()
    assert notes == [f"转入自 {old['county'].name}（{old['county'].code}）"]
    # Taken once
    again = await gql.execute(
        ACCEPT, {"t": asked["transfer"]["id"], "s": new["squadron"]}, headers=new["headers"]
    )
    assert again["errors"][0]["extensions"]["code"] == "TRANSFER_NOT_FOUND"
    # and the old county cannot see the new county's requests
    theirs = await gql.execute("{ incomingTransfers { id } }", headers=old["headers"])
    assert theirs["data"]["incomingTransfers"] == []


async def test_a_declined_transfer_puts_the_pupil_back(
    gql: GraphQLClient, two_counties: dict[str, Any]
) -> None:
    old, new = two_counties["old"], two_counties["new"]
    pupil = await register(gql, old, id_number("20150808", "457"))
    transfer = (
        await gql.data(TRANSFER, {"id": pupil, "to": new["county"].code}, headers=old["headers"])
    )["transferPupil"]["transfer"]["id"]
    declined = await gql.data(
        'mutation($t: ID!) { declineTransfer(input: {transferId: $t, reason: "查无此生"}) '
        "{ transfer { state } } }",
        {"t": transfer},
        headers=new["headers"],
    )
    assert declined["declineTransfer"]["transfer"]["state"] == "DECLINED"
    back = await gql.data(
        "query($id: ID!) { pupil(id: $id) { status } }", {"id": pupil}, headers=old["headers"]
    )
    assert back["pupil"]["status"] == "MEMBER"


async def test_a_pupil_already_registered_in_the_new_county_is_not_doubled(
    gql: GraphQLClient, two_counties: dict[str, Any]
) -> None:
    old, new = two_counties["old"], two_counties["new"]
    number = id_number("20151111", "568")
    pupil = await register(gql, old, number)
    await register(gql, new, number)  # registered there already, by mistake
    transfer = (
        await gql.data(TRANSFER, {"id": pupil, "to": new["county"].code}, headers=old["headers"])
    )["transferPupil"]["transfer"]["id"]
    refused = (
        await gql.data(ACCEPT, {"t": transfer, "s": new["squadron"]}, headers=new["headers"])
    )["acceptTransfer"]
    assert refused["userErrors"][0]["code"] == "DUPLICATE_PUPIL"
    still = await gql.data("{ incomingTransfers { id } }", headers=new["headers"])
    assert [t["id"] for t in still["incomingTransfers"]] == [transfer]
