"""A school's roster as its counselors keep it: through the real endpoint, on a real database."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select, text

from domain.audit.tables import audit_log
from domain.people.pupils import ID_NUMBER, academic_year
from domain.people.tables import pupil_status_changes, pupils
from domain.personal.id_numbers import check_digit
from schema.ids import decode_global_id, encode_global_id
from tenants.provisioning import County
from tenants.sessions import tenant_connection
from tests.graphql_client import GraphQLClient, UnitRef, create_unit, tenant_of

CREATE = """mutation($i: CreatePupilInput!) { createPupil(input: $i) {
  pupil { id name gender grade status birthDate idNumber squadron { name } }
  userErrors { field code message } } }"""
PUPIL = """query($id: ID!) { pupil(id: $id) { name grade status birthDate(reveal: true)
  idNumber(reveal: true) squadron { name } } }"""


def id_number(birth: str, serial: str = "123") -> str:
    """A valid ID number of Huishui county (522731) for a birth date `YYYYMMDD`."""
    first17 = f"522731{birth}{serial}"
    return first17 + check_digit(first17)


@dataclass
class School:
    county: County
    brigade: UnitRef
    squadron3: UnitRef
    squadron4: UnitRef
    team: UnitRef
    headers: dict[str, str]

    def gid(self, unit: UnitRef) -> str:
        return encode_global_id("Unit", self.county.code, unit.id)


@pytest.fixture
def school(gql: GraphQLClient, make_county: Any, engine: Engine) -> School:
    county = make_county()
    root = create_unit(engine, county, "county", county.name)
    township = create_unit(engine, county, "township", "涟江街道", root, area="urban")
    brigade = create_unit(engine, county, "brigade", "涟江小学", township)
    squadron3 = create_unit(engine, county, "squadron", "三（1）中队", brigade, grade=3)
    squadron4 = create_unit(engine, county, "squadron", "四（2）中队", brigade, grade=4)
    team = create_unit(engine, county, "team", "第一小队", squadron3)
    token = gql.token_for("brigade_counselor", county.code, brigade.path)
    return School(county, brigade, squadron3, squadron4, team, {"Authorization": f"Bearer {token}"})


async def create(gql: GraphQLClient, school: School, **fields: Any) -> dict[str, Any]:
    given = {"squadronId": school.gid(school.squadron3), **fields}
    return (await gql.data(CREATE, {"i": given}, headers=school.headers))["createPupil"]


# --- registering -----------------------------------------------------------------------------


async def test_a_pupil_registered_with_an_id_number_gets_birth_date_and_gender_from_it(
    gql: GraphQLClient, school: School, engine: Engine
) -> None:
    number = id_number("20160721", "124")  # 17th digit 4: a girl
    made = await create(gql, school, name="陈思雨", idNumber=number)
    assert made["userErrors"] == []
    pupil = made["pupil"]
    assert (pupil["gender"], pupil["grade"], pupil["status"]) == ("FEMALE", 3, "MEMBER")
    assert pupil["birthDate"] == "2016-**-**"
    assert pupil["idNumber"] == number[:3] + "*" * 11 + number[-4:]
    shown = (await gql.data(PUPIL, {"id": pupil["id"]}, headers=school.headers))["pupil"]
    assert (shown["birthDate"], shown["idNumber"]) == ("2016-07-21", number)

    # Stored encrypted, found by its keyed hash, never in the clear
    cipher = gql.app.state.services.keys.cipher
    with tenant_connection(engine, tenant_of(school.county)) as conn:
        row = conn.execute(
            select(pupils.c.id_number_enc).where(
                pupils.c.id_number_hash == cipher.keyed_hash(number, context=ID_NUMBER)
            )
        ).one()
        dump = (
            conn.execute(
                text(f'SELECT row_to_json(p)::text FROM "{school.county.schema_name}".pupils p')
            )
            .scalars()
            .all()
        )
    assert number not in row.id_number_enc
    assert not any(number in line for line in dump)


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"name": "李明", "idNumber": "52273120160721123"}, "INVALID_ID_NUMBER"),  # 17 digits
        ({"name": "李明", "idNumber": "522731201607211230"}, "INVALID_ID_NUMBER"),  # check digit
        ({"name": "李明", "idNumber": "522731201602301234"}, "INVALID_ID_NUMBER"),  # 30 Feb
        (
            {"name": "李明", "idNumber": id_number("20160721"), "birthDate": "2016-07-22"},
            "ID_NUMBER_MISMATCH",
        ),
        ({"name": "李明", "gender": "MALE", "birthDate": "2099-01-01"}, "INVALID_DATE"),
        ({"name": "李明"}, "GENDER_REQUIRED"),
        ({"name": "  ", "gender": "MALE"}, "INVALID_NAME"),
        ({"name": "李明2", "gender": "MALE"}, "INVALID_NAME"),
    ],
)
async def test_bad_pupil_data_is_refused_with_a_code_and_nothing_is_written(
    gql: GraphQLClient, school: School, engine: Engine, fields: dict[str, Any], code: str
) -> None:
    made = await create(gql, school, **fields)
    assert made["pupil"] is None
    assert made["userErrors"][0]["code"] == code
    assert any("\u4e00" <= c <= "\u9fff" for c in made["userErrors"][0]["message"])
    with tenant_connection(engine, tenant_of(school.county)) as conn:
        assert conn.execute(select(pupils.c.id)).first() is None


async def test_the_same_id_number_twice_is_a_duplicate(gql: GraphQLClient, school: School) -> None:
    number = id_number("20150101")
    assert (await create(gql, school, name="张三", idNumber=number))["userErrors"] == []
    # written with full-width digits and a space: still the same person
    full_width = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in number)
    again = await create(gql, school, name="张三", idNumber=f"{full_width[:6]} {full_width[6:]}")
    assert again["userErrors"][0]["code"] == "DUPLICATE_PUPIL"


async def test_names_with_middle_dots_are_kept_and_found_by_pinyin(
    gql: GraphQLClient, school: School
) -> None:
    made = await create(gql, school, name="阿卜杜•热合曼", gender="MALE")
    assert made["pupil"]["name"] == "阿卜杜·热合曼"
    await create(gql, school, name="王小红", gender="FEMALE")
    await create(gql, school, name="汪晓宏", gender="FEMALE")
    await create(gql, school, name="李明", gender="MALE")

    async def found(search: str) -> list[str]:
        page = await gql.data(
            "query($s: String) { pupils(first: 50, search: $s) { edges { node { name } } } }",
            {"s": search},
            headers=school.headers,
        )
        return sorted(e["node"]["name"] for e in page["pupils"]["edges"])

    assert await found("wxh") == ["汪晓宏", "王小红"]
    assert await found("WangX") == ["汪晓宏", "王小红"]  # the same pinyin, any case
    assert await found("小红") == ["王小红"]
    assert await found("reheman") == []  # pinyin search is by the start of the name
    assert await found("abd") == ["阿卜杜·热合曼"]
    assert await found("%") == []  # a wildcard is a character, not a wildcard


# --- correcting, moving, status --------------------------------------------------------------


async def test_a_correction_keeps_the_old_value_in_the_audit_log(
    gql: GraphQLClient, school: School, engine: Engine
) -> None:
    wrong, right = id_number("20160101", "111"), id_number("20160102", "111")
    pupil = (await create(gql, school, name="刘晓明", idNumber=wrong))["pupil"]
    fixed = await gql.data(
        """mutation($id: ID!, $n: String!) { updatePupil(input: {id: $id, name: "刘小明",
          idNumber: $n}) { pupil { name birthDate(reveal: true) } userErrors { code } } }""",
        {"id": pupil["id"], "n": right},
        headers=school.headers,
    )
    assert fixed["updatePupil"]["pupil"] == {"name": "刘小明", "birthDate": "2016-01-02"}
    with tenant_connection(engine, tenant_of(school.county)) as conn:
        entry = conn.execute(
            select(audit_log.c.details, audit_log.c.fields).where(
                audit_log.c.action == "updatePupil"
            )
        ).one()
    before, after = entry.details["before"], entry.details["after"]
    assert (before["name"], after["name"]) == ("刘晓明", "刘小明")
    assert before["id_number"] == wrong[:3] + "*" * 11 + wrong[-4:]
    cipher = gql.app.state.services.keys.cipher
    assert cipher.decrypt(before["id_number_enc"], context=ID_NUMBER) == wrong
    assert wrong not in str(entry.details)


async def test_a_pupil_moves_to_another_squadron_and_takes_its_grade(
    gql: GraphQLClient, school: School
) -> None:
    pupil = (await create(gql, school, name="周杰", gender="MALE", teamId=school.gid(school.team)))[
        "pupil"
    ]
    moved = await gql.data(
        "mutation($id: ID!, $s: ID!) { movePupil(input: {id: $id, squadronId: $s}) "
        "{ pupil { grade squadron { name } } } }",
        {"id": pupil["id"], "s": school.gid(school.squadron4)},
        headers=school.headers,
    )
    assert moved["movePupil"]["pupil"] == {"grade": 4, "squadron": {"name": "四（2）中队"}}
    # a team of another squadron is refused
    wrong = await gql.execute(
        "mutation($id: ID!, $s: ID!, $t: ID) { movePupil(input: {id: $id, squadronId: $s, "
        "teamId: $t}) { pupil { grade } } }",
        {"id": pupil["id"], "s": school.gid(school.squadron4), "t": school.gid(school.team)},
        headers=school.headers,
    )
    assert wrong["errors"][0]["extensions"]["code"] == "WRONG_UNIT_KIND"


async def test_status_changes_follow_the_rules_and_are_kept_as_history(
    gql: GraphQLClient, school: School, engine: Engine
) -> None:
    pupil = (await create(gql, school, name="孙丽", gender="FEMALE"))["pupil"]
    change = """mutation($id: ID!, $s: PupilStatus!) { changePupilStatus(input: {id: $id,
      status: $s, onDate: "2026-07-01"}) { pupil { status } userErrors { code } } }"""
    left = await gql.data(change, {"id": pupil["id"], "s": "JOINED_LEAGUE"}, headers=school.headers)
    assert left["changePupilStatus"]["pupil"]["status"] == "JOINED_LEAGUE"
    back = await gql.data(change, {"id": pupil["id"], "s": "MEMBER"}, headers=school.headers)
    assert back["changePupilStatus"]["userErrors"][0]["code"] == "INVALID_STATUS_CHANGE"
    with tenant_connection(engine, tenant_of(school.county)) as conn:
        history = conn.execute(
            select(pupil_status_changes.c.from_status, pupil_status_changes.c.to_status).order_by(
                pupil_status_changes.c.id
            )
        ).all()
    assert [tuple(h) for h in history] == [(None, "member"), ("member", "joined_league")]


async def test_a_batch_of_pre_members_joins_together_or_not_at_all(
    gql: GraphQLClient, school: School
) -> None:
    ids = [
        (await create(gql, school, name=f"预备{n}", gender="MALE", status="PRE_MEMBER"))["pupil"][
            "id"
        ]
        for n in ("一", "二", "三")
    ]
    member = (await create(gql, school, name="已入队", gender="MALE"))["pupil"]["id"]
    enrol = """mutation($ids: [ID!]!) { enrolPupils(input: {ids: $ids, joinedOn: "2026-10-13",
      batch: "2026年秋季第一批"}) { enrolled userErrors { code message } } }"""
    refused = (await gql.data(enrol, {"ids": [*ids, member]}, headers=school.headers))[
        "enrolPupils"
    ]
    assert refused["enrolled"] == 0
    assert refused["userErrors"][0]["code"] == "NOT_PRE_MEMBER"
    assert "已入队" in refused["userErrors"][0]["message"]
    done = (await gql.data(enrol, {"ids": ids}, headers=school.headers))["enrolPupils"]
    assert done == {"enrolled": 3, "userErrors": []}
    page = await gql.data(
        "{ pupils(first: 50, status: MEMBER) { edges { node { name joinedOn } } } }",
        headers=school.headers,
    )
    joined = {e["node"]["name"]: e["node"]["joinedOn"] for e in page["pupils"]["edges"]}
    assert all(joined[f"预备{n}"] == "2026-10-13" for n in ("一", "二", "三"))


async def test_the_new_academic_year_promotes_everyone_once(
    gql: GraphQLClient, school: School
) -> None:
    await create(gql, school, name="吴桐", gender="MALE")
    admin = {"Authorization": f"Bearer {gql.token_for('county_admin', school.county.code)}"}
    promote = "mutation($y: Int!) { promoteGrades(input: {academicYear: $y}) { pupils squadrons alreadyDone } }"
    year = academic_year(dt.date.today())
    # a counselor may not: it is the county's, once a year
    refused = await gql.execute(promote, {"y": year}, headers=school.headers)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    first = (await gql.data(promote, {"y": year}, headers=admin))["promoteGrades"]
    assert first == {"pupils": 1, "squadrons": 2, "alreadyDone": False}
    again = (await gql.data(promote, {"y": year}, headers=admin))["promoteGrades"]
    assert again["alreadyDone"] is True
    units = await gql.data(
        "{ units(first: 50, kind: SQUADRON) { edges { node { name grade } } } }", headers=admin
    )
    names = {e["node"]["name"]: e["node"]["grade"] for e in units["units"]["edges"]}
    assert names == {"四（1）中队": 4, "五（2）中队": 5}
    roster = await gql.data("{ pupils(first: 5) { edges { node { grade } } } }", headers=admin)
    assert roster["pupils"]["edges"][0]["node"]["grade"] == 4


# --- paging ----------------------------------------------------------------------------------


async def test_paging_through_ten_thousand_pupils_returns_each_exactly_once(
    gql: GraphQLClient, school: School, engine: Engine
) -> None:
    with tenant_connection(engine, tenant_of(school.county)) as conn:
        conn.execute(
            insert(pupils),
            [
                {
                    "squadron_id": school.squadron3.id,
                    "name": f"队员{i}",
                    "gender": "male",
                    "grade": 3,
                }
                for i in range(10_000)
            ],
        )
        expected = set(conn.execute(select(pupils.c.id)).scalars())
    seen: list[int] = []
    after = None
    while True:
        page = (
            await gql.data(
                "query($a: String) { pupils(first: 100, after: $a) { edges { node { id } } "
                "pageInfo { hasNextPage endCursor } } }",
                {"a": after},
                headers=school.headers,
            )
        )["pupils"]
        seen.extend(decode_global_id(e["node"]["id"])[2] for e in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == 10_000
    assert set(seen) == expected
