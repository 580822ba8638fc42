"""The roster as the counties keep it: a template to fill in, and an export of any unit."""

from __future__ import annotations

import io
from typing import Any

import openpyxl
import pytest
from sqlalchemy import Engine

from domain.spreadsheets.rosters import HEADERS
from schema.ids import encode_global_id
from tests.graphql_client import GraphQLClient, create_unit
from tests.test_pupils import id_number

CREATE = """mutation($i: CreatePupilInput!) { createPupil(input: $i) { pupil { id } } }"""


def sheet(content: bytes) -> list[tuple[Any, ...]]:
    book = openpyxl.load_workbook(io.BytesIO(content))
    assert book.sheetnames == ["队员"]
    return [tuple(row) for row in book["队员"].iter_rows(values_only=True)]


async def test_the_template_has_chinese_headers_and_a_sample(gql: GraphQLClient) -> None:
    response = await gql.http.get("/templates/pupils.xlsx")
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    rows = sheet(response.content)
    assert rows[0] == HEADERS
    assert rows[1][3] == "王小红"


@pytest.fixture
def school(gql: GraphQLClient, make_county: Any, engine: Engine) -> dict[str, Any]:
    county = make_county()
    root = create_unit(engine, county, "county", county.name)
    township = create_unit(engine, county, "township", "城关镇", root)
    brigade = create_unit(engine, county, "brigade", "城关小学", township)
    squadron = create_unit(engine, county, "squadron", "四（1）中队", brigade, grade=4)
    return {
        "county": county,
        "brigade": brigade,
        "township": township,
        "squadron": encode_global_id("Unit", county.code, squadron.id),
    }


async def test_an_export_shows_personal_data_only_to_who_may_see_it_and_is_audited(
    gql: GraphQLClient, school: dict[str, Any]
) -> None:
    county = school["county"]
    admin = {"Authorization": f"Bearer {gql.token_for('county_admin', county.code)}"}
    number = id_number("20160301", "111")
    await gql.data(
        CREATE,
        {
            "i": {
                "squadronId": school["squadron"],
                "name": "黄小丫",
                "idNumber": number,
                "joinedOn": "2023-10-13",
                "batch": "2023年秋季第一批",
            }
        },
        headers=admin,
    )
    under = encode_global_id("Unit", county.code, school["brigade"].id)

    full = await gql.http.get(f"/exports/pupils.xlsx?under={under}", headers=admin)
    assert full.status_code == 200
    rows = sheet(full.content)
    assert rows[0] == HEADERS
    school_name, squadron, team, name, gender, birth, id_no, status, joined, batch = rows[1]
    assert (school_name, squadron, team, name, gender) == (
        "城关小学",
        "四（1）中队",
        None,
        "黄小丫",
        "男",
    )
    assert (birth.date().isoformat(), id_no, status) == ("2016-03-01", number, "少先队员")
    assert (joined.date().isoformat(), batch) == ("2023-10-13", "2023年秋季第一批")

    # A township admin sees the roster, not the personal data
    township = {
        "Authorization": "Bearer "
        + gql.token_for("township_admin", county.code, school["township"].path)
    }
    masked = sheet((await gql.http.get("/exports/pupils.xlsx", headers=township)).content)
    assert masked[1][5] == "2016-**-**"
    assert masked[1][6] == number[:3] + "*" * 11 + number[-4:]

    log = await gql.data("{ auditLog(first: 2) { action objectId } }", headers=admin)
    assert log["auditLog"][0]["action"] == "exportPupils"


async def test_an_export_refuses_strangers_with_a_coded_error(
    gql: GraphQLClient, school: dict[str, Any], make_county: Any
) -> None:
    anonymous = await gql.http.get("/exports/pupils.xlsx")
    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "UNAUTHENTICATED"
    other = make_county()
    stranger = {"Authorization": f"Bearer {gql.token_for('county_admin', other.code)}"}
    under = encode_global_id("Unit", school["county"].code, school["brigade"].id)
    elsewhere = await gql.http.get(f"/exports/pupils.xlsx?under={under}", headers=stranger)
    assert elsewhere.status_code == 404
    assert elsewhere.json()["code"] == "UNIT_NOT_FOUND"
    guardian = {"Authorization": "Bearer " + gql.token_for("partner", school["county"].code)}
    refused = await gql.http.get("/exports/pupils.xlsx", headers=guardian)
    assert refused.status_code == 403
