"""Pairing across counties through the API: the province pairs an urban school with a rural
one, each county accepts its own side, schools' counselors pair two pupils once the families
consent, and county A — whatever the role — sees of county B only the partner view."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import Engine, insert, text

from domain.people.tables import pupils
from schema.ids import encode_global_id
from tenants.sessions import tenant_connection
from tests.graphql_client import GraphQLClient, create_unit, guardian_of, tenant_of

SIDE = "countyCode countyName accepted name unitKind area unitName givenName grade school"
PAIRING = f"""id level state partner {{ {SIDE} }} mySide {{ {SIDE} }}
  events {{ kind on note byMySide }} myReview partnerReview"""
PROPOSE = f"""mutation($i: ProposePairingInput!) {{ proposePairing(input: $i)
  {{ pairing {{ {PAIRING} }} userErrors {{ code message }} }} }}"""
ACT = """mutation($id: ID!) {{ {0}(input: {{id: $id}}) {{ pairing {{ state }} userErrors {{ code }} }} }}"""
LIST = f"{{ pairings {{ edges {{ node {{ {PAIRING} }} }} }} }}"


class Side:
    def __init__(self, gql: GraphQLClient, engine: Engine, make_county: Any, name: str,
                 area: str) -> None:  # fmt: skip
        self.gql = gql
        self.county = make_county(name)
        c = self.county
        root = create_unit(engine, c, "county", name)
        self.township = create_unit(engine, c, "township", f"{name}镇", root, area=area)
        self.school = create_unit(engine, c, "brigade", f"{name}小学", self.township, area=area)
        self.squadron = create_unit(engine, c, "squadron", "四（1）中队", self.school, grade=4)
        with tenant_connection(engine, tenant_of(c)) as conn:
            self.pupil = conn.execute(
                insert(pupils).values(squadron_id=self.squadron.id, name=f"{name[0]}小明",
                                      gender="male", grade=4, status="member",
                                      birth_date=dt.date(2015, 6, 1))
                .returning(pupils.c.id)
            ).scalar_one()  # fmt: skip
        self.admin = self.headers(gql.token_for("county_admin", c.code))
        self.brigade = self.headers(gql.token_for("brigade_counselor", c.code, self.school.path))
        self.parent = self.headers(guardian_of(gql.app.state.services, c, [self.pupil]))

    def headers(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}", "X-County": self.county.code}

    def gid(self, type_name: str, pk: int) -> str:
        return encode_global_id(type_name, self.county.code, pk)


@pytest.fixture
def sides(gql: GraphQLClient, engine: Engine, make_county: Any) -> tuple[Side, Side]:
    return (Side(gql, engine, make_county, "城区", "urban"),
            Side(gql, engine, make_county, "山区", "rural"))  # fmt: skip


async def act(gql: GraphQLClient, name: str, pairing: str, who: dict[str, str]) -> Any:
    return (await gql.data(ACT.format(name), {"id": pairing}, headers=who))[name]


async def test_a_province_pairs_two_schools_and_each_county_accepts_its_own_side(
    gql: GraphQLClient, sides: tuple[Side, Side], make_county: Any
) -> None:
    city, hills = sides
    province = {"Authorization": f"Bearer {gql.token_for('province_admin', None, '52')}"}
    proposed = await gql.data(PROPOSE, {"i": {
        "level": "SCHOOL", "category": "URBAN_RURAL", "goals": "送教下乡，每学期一次",
        "sideId": city.gid("Unit", city.school.id), "partnerId": hills.gid("Unit", hills.school.id),
    }}, headers=province)  # fmt: skip
    assert proposed["proposePairing"]["userErrors"] == []
    # Pupils are the counties' own to pair: the province pairs units and counselors.
    assert await gql.error_codes(PROPOSE, {"i": {
        "level": "PUPIL", "sideId": city.gid("Pupil", city.pupil),
        "partnerId": hills.gid("Pupil", hills.pupil)}}, headers=province) == ["FORBIDDEN"]  # fmt: skip
    found = (await gql.data(LIST, headers=city.admin))["pairings"]["edges"]
    assert len(found) == 1
    mine = found[0]["node"]
    assert (mine["state"], mine["mySide"]["accepted"], mine["partner"]["accepted"]) == (
        "PROPOSED", False, False)  # fmt: skip
    assert mine["partner"]["name"] is None  # nothing of B's side until B accepts it
    assert mine["mySide"]["name"] == "城区小学"  # its own: which of its schools is asked

    accepted = await act(gql, "acceptPairing", mine["id"], city.admin)
    assert accepted["pairing"]["state"] == "PROPOSED"  # the city cannot accept for the hills
    third = make_county("第三县")
    create_unit(gql.app.state.services.sync_engine, third, "county", "第三县")
    stranger = {"Authorization": f"Bearer {gql.token_for('county_admin', third.code)}",
                "X-County": third.code}  # fmt: skip
    assert await gql.error_codes(ACT.format("acceptPairing"), {"id": mine["id"]},
                                 headers=stranger) == ["PAIRING_NOT_FOUND"]  # fmt: skip
    theirs = (await gql.data(LIST, headers=hills.brigade))["pairings"]["edges"][0]["node"]
    assert (theirs["mySide"]["name"], theirs["mySide"]["accepted"]) == ("山区小学", False)
    assert (await act(gql, "acceptPairing", theirs["id"], hills.brigade))["pairing"][
        "state"
    ] == "ACTIVE"

    seen = (await gql.data(LIST, headers=city.admin))["pairings"]["edges"][0]["node"]
    assert seen["partner"] == {
        "countyCode": hills.county.code, "countyName": "山区", "accepted": True,
        "name": "山区小学", "unitKind": "BRIGADE", "area": "RURAL", "unitName": None,
        "givenName": None, "grade": None, "school": None,
    }  # fmt: skip
    event = """mutation($p: ID!, $k: PairingEventKind!) { recordPairingEvent(input: {pairingId: $p, kind: $k,
      on: "2026-11-20", note: "联合升旗仪式"}) { pairing { events { kind byMySide } } userErrors { code } } }"""
    done = await gql.data(event, {"p": seen["id"], "k": "JOINT_ACTIVITY"}, headers=city.admin)
    assert done["recordPairingEvent"]["pairing"]["events"] == [
        {"kind": "JOINT_ACTIVITY", "byMySide": True}
    ]
    wrong = await gql.data(event, {"p": seen["id"], "k": "LETTER"}, headers=city.admin)
    assert [e["code"] for e in wrong["recordPairingEvent"]["userErrors"]] == ["INVALID_EVENT"]
    ended = await gql.data(
        'mutation($id: ID!) { endPairing(input: {id: $id, review: "双方共开展活动 1 次"}) { pairing { state myReview } } }',
        {"id": theirs["id"]}, headers=hills.admin,
    )  # fmt: skip
    assert ended["endPairing"]["pairing"] == {"state": "ENDED", "myReview": "双方共开展活动 1 次"}
    late = await gql.data(event, {"p": seen["id"], "k": "JOINT_ACTIVITY"}, headers=city.admin)
    assert [e["code"] for e in late["recordPairingEvent"]["userErrors"]] == ["PAIRING_NOT_ACTIVE"]
    reviewed = await gql.data(
        'mutation($id: ID!) { reviewPairing(input: {id: $id, review: "送教 3 次"}) { pairing { myReview partnerReview } } }',
        {"id": seen["id"]}, headers=city.admin,
    )  # fmt: skip
    assert reviewed["reviewPairing"]["pairing"] == {"myReview": "送教 3 次",
                                                    "partnerReview": "双方共开展活动 1 次"}  # fmt: skip

    # A county's own proposal is the county's to withdraw, not the province's.
    again = (await gql.data(PROPOSE, {"i": {
        "level": "SCHOOL", "sideId": city.gid("Unit", city.school.id),
        "partnerId": hills.gid("Unit", hills.school.id)}}, headers=city.admin))["proposePairing"]  # fmt: skip
    assert again["pairing"]["mySide"]["accepted"] is True
    province_a = {**province, "X-County": city.county.code}
    assert await gql.error_codes(ACT.format("withdrawPairing"), {"id": again["pairing"]["id"]},
                                 headers=province_a) == ["NOT_YOUR_SIDE"]  # fmt: skip
    withdrawn = await act(gql, "withdrawPairing", again["pairing"]["id"], city.admin)
    assert withdrawn["pairing"]["state"] == "WITHDRAWN"

    # The province's coordination view: coverage per county, schools without a partner; a
    # county whose tables are gone for a moment (a restore, a migration) is left out, not an
    # error.
    broken, gone = make_county("恢复中的县"), make_county("迁移中的县")
    engine = gql.app.state.services.sync_engine
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{broken.schema_name}" CASCADE'))
        conn.execute(text(f'DROP TABLE "{gone.schema_name}".units CASCADE'))
    try:
        coverage = await gql.data(
            "{ pairingCoverage { countyCode schools schoolsPaired ruralSchools } unpairedSchools { name countyCode } }",
            headers=province,
        )
    finally:
        with engine.begin() as conn:  # other tests of this worker upgrade every county
            conn.execute(text("DELETE FROM shared.tenants WHERE code IN (:b, :g)"),
                         {"b": broken.code, "g": gone.code})  # fmt: skip
            conn.execute(text(f'DROP SCHEMA "{gone.schema_name}" CASCADE'))
    assert not {broken.code, gone.code} & {c["countyCode"] for c in coverage["pairingCoverage"]}
    mine_too = {c["countyCode"]: c for c in coverage["pairingCoverage"]}
    assert mine_too[hills.county.code] == {"countyCode": hills.county.code, "schools": 1,
                                           "schoolsPaired": 0, "ruralSchools": 1}  # fmt: skip
    assert {"name": "山区小学", "countyCode": hills.county.code} in coverage["unpairedSchools"]
    # Suggestions drawn from the counties the province names, which must be its own.
    drawn = """query($from: [String!]) { suggestedPairs(partnersFrom: $from)
      { school { countyCode } partner { countyCode } } }"""
    assert await gql.error_codes(drawn, {"from": ["110101"]}, headers=province) == [
        "COUNTY_NOT_IN_REGION"]  # fmt: skip
    from_city = await gql.data(drawn, {"from": [city.county.code]}, headers=province)
    assert {p["partner"]["countyCode"] for p in from_city["suggestedPairs"]} == {city.county.code}
    assert await gql.error_codes("{ pairingCoverage { schools } }", headers=city.admin) == [
        "FORBIDDEN"
    ]


async def test_county_a_sees_of_county_b_only_the_partner_view_whatever_the_role(
    gql: GraphQLClient, sides: tuple[Side, Side]
) -> None:
    city, hills = sides
    # The city's counselor proposes a hand-in-hand pair with a pupil of the hills school.
    proposed = (await gql.data(PROPOSE, {"i": {
        "level": "PUPIL", "sideId": city.gid("Pupil", city.pupil),
        "partnerId": hills.gid("Pupil", hills.pupil)}}, headers=city.brigade))["proposePairing"]  # fmt: skip
    assert [e["code"] for e in proposed["userErrors"]] == ["CONSENT_REQUIRED"]
    consent = """mutation($p: ID!) { givePairingConsent(input: {pupilId: $p, noticeVersion: "2026-09"}) { ok } }"""
    await gql.data(consent, {"p": city.gid("Pupil", city.pupil)}, headers=city.parent)
    proposed = (await gql.data(PROPOSE, {"i": {
        "level": "PUPIL", "sideId": city.gid("Pupil", city.pupil),
        "partnerId": hills.gid("Pupil", hills.pupil)}}, headers=city.brigade))["proposePairing"]  # fmt: skip
    assert proposed["userErrors"] == []
    pairing_of_hills = (await gql.data(LIST, headers=hills.admin))["pairings"]["edges"][0]["node"]
    refused = await act(gql, "acceptPairing", pairing_of_hills["id"], hills.admin)
    assert [e["code"] for e in refused["userErrors"]] == ["CONSENT_REQUIRED"]
    await gql.data(consent, {"p": hills.gid("Pupil", hills.pupil)}, headers=hills.parent)
    assert (await act(gql, "acceptPairing", pairing_of_hills["id"], hills.admin))["pairing"][
        "state"
    ] == "ACTIVE"

    expected = {"countyCode": hills.county.code, "countyName": "山区", "accepted": True,
                "name": None, "unitKind": None, "area": None, "unitName": None,
                "givenName": "小明", "grade": 4, "school": "山区小学"}  # fmt: skip
    secrets = ["山小明", "2015-06-01", hills.gid("Pupil", hills.pupil), "王妈妈"]
    services = gql.app.state.services
    roles = {
        "county_admin": city.admin,
        "brigade_counselor": city.brigade,
        "squadron_counselor": city.headers(gql.token_for("squadron_counselor", city.county.code,
                                                         city.squadron.path)),
        "township_admin": city.headers(gql.token_for("township_admin", city.county.code,
                                                     city.township.path)),
        "team_counselor": city.headers(gql.token_for("team_counselor", city.county.code,
                                                     city.squadron.path)),
        "guardian": city.parent,
        "partner": city.headers(gql.token_for("partner", city.county.code, "c.partner_0")),
        "another_guardian": city.headers(guardian_of(services, city.county, [])),
    }  # fmt: skip
    seen_by = {}
    for role, headers in roles.items():
        body = await gql.execute(LIST, headers=headers)
        listed = [
            e["node"] for e in ((body.get("data") or {}).get("pairings") or {}).get("edges", [])
        ]
        for node in listed:
            assert node["partner"] == expected, role
            via_node = await gql.data(
                f"query($id: ID!) {{ node(id: $id) {{ ... on Pairing {{ {PAIRING} }} }} }}",
                {"id": node["id"]}, headers=headers,
            )  # fmt: skip
            assert via_node["node"]["partner"] == expected, role
            # The partner school's pupils belong to school pairings: none through a pupil pair.
            nested = await gql.execute(PARTNER_PUPILS, {"id": node["id"], "g": None},
                                       headers=headers)  # fmt: skip
            assert not [s for s in secrets if s in json.dumps(nested, ensure_ascii=False)], role
            assert (nested.get("errors") and nested["errors"][0]["extensions"]["code"]
                    == "FORBIDDEN") or nested["data"]["pairing"]["partnerPupils"]["edges"] == [], role  # fmt: skip
        # Nothing of county B beyond the partner view, in any answer to any role.
        text = json.dumps(body, ensure_ascii=False)
        assert not [s for s in secrets if s in text], role
        seen_by[role] = len(listed)
        # B's pupil itself stays out of reach.
        found = await gql.execute(
            "query($id: ID!) { pupil(id: $id) { name } node(id: $id) { id } }",
            {"id": hills.gid("Pupil", hills.pupil)}, headers=headers,
        )  # fmt: skip
        assert (found.get("data") or {}).get("pupil") is None, role
        assert (found.get("data") or {}).get("node") is None, role
    # The city's family takes its consent back: the pair ends, the hills see nothing of the child.
    await gql.data(
        "mutation($p: ID!) { withdrawPairingConsent(input: {pupilId: $p}) { ok } }",
        {"p": city.gid("Pupil", city.pupil)}, headers=city.parent,
    )  # fmt: skip
    after = (await gql.data(LIST, headers=hills.admin))["pairings"]["edges"][0]["node"]
    assert after["state"] == "ENDED"
    assert (after["partner"]["givenName"], after["partner"]["school"]) == (None, None)
    # The province reads the county's pairings of units, never its pupils' pairs.
    province = city.headers(gql.token_for("province_admin", None, "52"))
    assert (await gql.data(LIST, headers=province))["pairings"]["edges"] == []
    # Who reaches the city's pupil sees the pair; the rest are refused or see none.
    assert seen_by == {"county_admin": 1, "brigade_counselor": 1, "squadron_counselor": 1,
                       "township_admin": 1, "team_counselor": 0, "guardian": 0, "partner": 0,
                       "another_guardian": 0}  # fmt: skip


async def run_a_pairing(
    client: GraphQLClient, admin: dict[str, str], county: Any, other: Any, engine: Engine
) -> None:
    """Every pairing mutation once (for the audit test): a school of `county` pairs with one of
    `other` (accepted, an event, ended), another proposal is declined, a parent consents."""
    here = create_unit(engine, county, "brigade", "审计城区小学",
                       create_unit(engine, county, "county", county.name), area="urban")  # fmt: skip
    there = create_unit(engine, other, "brigade", "审计农村小学",
                        create_unit(engine, other, "county", other.name), area="rural")  # fmt: skip
    theirs = {"Authorization": f"Bearer {client.token_for('county_admin', other.code)}",
              "X-County": other.code}  # fmt: skip
    proposal = {"level": "SCHOOL", "sideId": encode_global_id("Unit", county.code, here.id),
                "partnerId": encode_global_id("Unit", other.code, there.id)}  # fmt: skip
    for ending in ("endPairing", "declinePairing"):
        made = (await client.data(PROPOSE, {"i": proposal}, headers=admin))["proposePairing"]
        assert made["userErrors"] == [], made
        listed = (await client.data(LIST, headers=theirs))["pairings"]["edges"]
        pairing = next(e["node"]["id"] for e in listed if e["node"]["state"] == "PROPOSED")
        if ending == "endPairing":
            await act(client, "acceptPairing", pairing, theirs)
            await client.data(
                'mutation($p: ID!) { recordPairingEvent(input: {pairingId: $p, kind: VISIT, '
                'on: "2026-11-20"}) { userErrors { code } } }', {"p": pairing}, headers=theirs,
            )  # fmt: skip
        assert (await act(client, ending, pairing, theirs))["userErrors"] == []
        if ending == "endPairing":
            mine = (await client.data(LIST, headers=admin))["pairings"]["edges"][0]["node"]["id"]
            await client.data(
                'mutation($id: ID!) { reviewPairing(input: {id: $id, review: "好"}) { userErrors { code } } }',
                {"id": mine}, headers=admin,
            )  # fmt: skip
    made = (await client.data(PROPOSE, {"i": proposal}, headers=admin))["proposePairing"]
    assert (await act(client, "withdrawPairing", made["pairing"]["id"], admin))["userErrors"] == []
    with tenant_connection(engine, tenant_of(county)) as conn:
        squadron = create_unit(engine, county, "squadron", "审计中队", here, grade=4)
        kid = conn.execute(insert(pupils).values(squadron_id=squadron.id, name="审计队员",
                                                 gender="male", grade=4, status="member")
                           .returning(pupils.c.id)).scalar_one()  # fmt: skip
    parent = {"Authorization": f"Bearer {guardian_of(client.app.state.services, county, [kid])}",
              "X-County": county.code}  # fmt: skip
    await client.data(
        'mutation($p: ID!) { givePairingConsent(input: {pupilId: $p, noticeVersion: "2026-09"}) { ok } }',
        {"p": encode_global_id("Pupil", county.code, kid)}, headers=parent,
    )  # fmt: skip
    await client.data(
        "mutation($p: ID!) { withdrawPairingConsent(input: {pupilId: $p}) { ok } }",
        {"p": encode_global_id("Pupil", county.code, kid)}, headers=parent,
    )  # fmt: skip
    await client.data("mutation { setPupilPairingLimit(input: {limit: 1}) { limit } }",
                      headers=admin)  # fmt: skip


PARTNER_PUPILS = """query($id: ID!, $g: Int) { pairing(id: $id) { partnerPupils(grade: $g)
  { edges { node { candidateId givenName grade school } } } } }"""


async def test_a_school_picks_a_pupil_of_its_partner_school_among_those_whose_families_consent(
    gql: GraphQLClient, sides: tuple[Side, Side], engine: Engine
) -> None:
    city, hills = sides
    province = {"Authorization": f"Bearer {gql.token_for('province_admin', None, '52')}"}
    proposed = (await gql.data(PROPOSE, {"i": {
        "level": "SCHOOL", "sideId": city.gid("Unit", city.school.id),
        "partnerId": hills.gid("Unit", hills.school.id)}}, headers=province))["proposePairing"]  # fmt: skip
    assert proposed["userErrors"] == []
    for side in (city, hills):
        mine = (await gql.data(LIST, headers=side.admin))["pairings"]["edges"][0]["node"]["id"]
        await act(gql, "acceptPairing", mine, side.admin)
    schools = (await gql.data(LIST, headers=city.brigade))["pairings"]["edges"][0]["node"]
    assert schools["state"] == "ACTIVE"
    # The hills school: 小明 (its family consents), a pupil whose family does not, one of grade 5.
    with tenant_connection(engine, tenant_of(hills.county)) as conn:
        more = [conn.execute(insert(pupils).values(squadron_id=hills.squadron.id, name=name,
                                                   gender="female", grade=grade, status="member")
                             .returning(pupils.c.id)).scalar_one()
                for name, grade in (("山小红", 4), ("欧阳晓", 5))]  # fmt: skip
    consent = """mutation($p: ID!) { givePairingConsent(input: {pupilId: $p, noticeVersion: "2026-09"}) { ok } }"""
    await gql.data(consent, {"p": hills.gid("Pupil", hills.pupil)}, headers=hills.parent)
    parent_of_5 = hills.headers(guardian_of(gql.app.state.services, hills.county, [more[1]]))
    await gql.data(consent, {"p": hills.gid("Pupil", more[1])}, headers=parent_of_5)

    body = await gql.execute(PARTNER_PUPILS, {"id": schools["id"], "g": None}, headers=city.brigade)
    listed = [e["node"] for e in body["data"]["pairing"]["partnerPupils"]["edges"]]
    assert [(p["givenName"], p["grade"], p["school"]) for p in listed] == [
        ("小明", 4, "山区小学"), ("晓", 5, "山区小学")]  # fmt: skip
    # Nothing more of the hills' children: no surname, no key, not the one without consent.
    text = json.dumps(body, ensure_ascii=False)
    for secret in ("山小明", "小红", "欧阳", hills.gid("Pupil", hills.pupil), str(hills.pupil)):
        assert secret not in text.replace(listed[0]["candidateId"], "").replace(
            listed[1]["candidateId"], ""), secret  # fmt: skip
    # Paged by position: the page after the first pupil holds the second; a forged cursor
    # before the start is the start.
    from schema.ids import encode_key_cursor

    paged = """query($id: ID!, $after: String) { pairing(id: $id) { partnerPupils(first: 1,
      after: $after) { edges { node { givenName } } pageInfo { hasNextPage } } } }"""
    for after, expected in ((None, ["小明"]), (encode_key_cursor(1), ["晓"]),
                            (encode_key_cursor(-5), ["小明"])):  # fmt: skip
        page = (await gql.data(paged, {"id": schools["id"], "after": after},
                               headers=city.brigade))["pairing"]["partnerPupils"]  # fmt: skip
        assert [e["node"]["givenName"] for e in page["edges"]] == expected
    # Backward: the last one, then the one before it; the two are counted.
    backward = """query($id: ID!, $before: String) { pairing(id: $id) { partnerPupils(last: 1,
      before: $before) { totalCount edges { node { givenName } }
      pageInfo { hasPreviousPage hasNextPage startCursor } } } }"""
    last = (await gql.data(backward, {"id": schools["id"], "before": None},
                           headers=city.brigade))["pairing"]["partnerPupils"]  # fmt: skip
    assert [e["node"]["givenName"] for e in last["edges"]] == ["晓"]
    assert (last["totalCount"], last["pageInfo"]["hasPreviousPage"],
            last["pageInfo"]["hasNextPage"]) == (2, True, False)  # fmt: skip
    before = (await gql.data(backward, {"id": schools["id"],
                                        "before": last["pageInfo"]["startCursor"]},
                             headers=city.brigade))["pairing"]["partnerPupils"]  # fmt: skip
    assert [e["node"]["givenName"] for e in before["edges"]] == ["小明"]
    assert (before["pageInfo"]["hasPreviousPage"], before["pageInfo"]["hasNextPage"]) == (
        False, True)  # fmt: skip
    only_4 = await gql.data(PARTNER_PUPILS, {"id": schools["id"], "g": 4}, headers=city.brigade)
    assert [e["node"]["givenName"] for e in only_4["pairing"]["partnerPupils"]["edges"]] == ["小明"]
    # Who does not propose pairs for the city school does not get the list: the province sees
    # the pairing but no children; a squadron's counselor does not reach the school's pairing.
    assert await gql.error_codes(PARTNER_PUPILS, {"id": schools["id"], "g": None},
                                 headers={**province, "X-County": city.county.code}) == [
        "FORBIDDEN"]  # fmt: skip
    squadron = city.headers(gql.token_for("squadron_counselor", city.county.code,
                                          city.squadron.path))  # fmt: skip
    hidden = await gql.data(PARTNER_PUPILS, {"id": schools["id"], "g": None}, headers=squadron)
    assert hidden["pairing"] is None

    # The city's counselor proposes its pupil with 小明 by the listed ID; the hills accept.
    candidate = listed[0]["candidateId"]
    pupil_pair = {"level": "PUPIL", "sideId": city.gid("Pupil", city.pupil), "partnerId": candidate}
    await gql.data(consent, {"p": city.gid("Pupil", city.pupil)}, headers=city.parent)
    made = (await gql.data(PROPOSE, {"i": pupil_pair}, headers=city.brigade))["proposePairing"]
    assert made["userErrors"] == [], made
    assert made["pairing"]["partner"]["givenName"] is None  # until the hills accept
    listed_by_hills = (await gql.data(LIST, headers=hills.admin))["pairings"]["edges"]
    theirs = next(e["node"] for e in listed_by_hills if e["node"]["level"] == "PUPIL")
    assert (await act(gql, "acceptPairing", theirs["id"], hills.admin))["pairing"][
        "state"] == "ACTIVE"  # fmt: skip
    # 小明 is in a pair now (the hills allow one): no longer listed.
    again = await gql.data(PARTNER_PUPILS, {"id": schools["id"], "g": None}, headers=city.brigade)
    assert [e["node"]["givenName"] for e in again["pairing"]["partnerPupils"]["edges"]] == ["晓"]
    # The hills let a pupil have two pairs (their admin's rule, not their counselor's).
    limit = """mutation($n: Int!) { setPupilPairingLimit(input: {limit: $n})
      { limit userErrors { field code message } } }"""
    assert await gql.error_codes(limit, {"n": 2}, headers=hills.brigade) == ["FORBIDDEN"]
    refused = (await gql.data(limit, {"n": 11}, headers=hills.admin))["setPupilPairingLimit"]
    assert [(e["field"], e["code"]) for e in refused["userErrors"]] == [("limit", "INVALID_LIMIT")]
    assert (await gql.data(limit, {"n": 2}, headers=hills.admin))["setPupilPairingLimit"] == {
        "limit": 2, "userErrors": []}  # fmt: skip
    two = await gql.data(PARTNER_PUPILS, {"id": schools["id"], "g": None}, headers=city.brigade)
    assert [e["node"]["givenName"] for e in two["pairing"]["partnerPupils"]["edges"]] == [
        "小明", "晓"]  # fmt: skip

    # The listed ID pairs a pupil of the paired school only, and is no one's global ID.
    other_school = create_unit(engine, city.county, "brigade", "城区二小", city.township,
                               area="urban")  # fmt: skip
    other_squadron = create_unit(engine, city.county, "squadron", "四（2）中队", other_school,
                                 grade=4)  # fmt: skip
    with tenant_connection(engine, tenant_of(city.county)) as conn:
        outsider = conn.execute(insert(pupils).values(
            squadron_id=other_squadron.id, name="城小刚", gender="male", grade=4,
            status="member").returning(pupils.c.id)).scalar_one()  # fmt: skip
    wrong = (await gql.data(PROPOSE, {"i": {**pupil_pair, "sideId": city.gid("Pupil", outsider),
                                            "partnerId": listed[1]["candidateId"]}},
                            headers=city.admin))["proposePairing"]  # fmt: skip
    assert [e["code"] for e in wrong["userErrors"]] == ["NOT_IN_PAIRED_SCHOOL"]
    forged = candidate[:-6] + ("A" if candidate[-6] != "A" else "B") + candidate[-5:]
    assert await gql.error_codes(PROPOSE, {"i": {**pupil_pair, "partnerId": forged}},
                                 headers=city.brigade) == ["SIDE_NOT_FOUND"]  # fmt: skip
    assert await gql.error_codes("query($id: ID!) { node(id: $id) { id } }",
                                 {"id": candidate}, headers=city.admin) != []  # fmt: skip
