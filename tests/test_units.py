"""A county keeps its organisation: set up, rename, move and archive units, through the API."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, select

from domain.accounts.tables import role_assignments
from schema.ids import encode_global_id
from tenants.provisioning import County
from tests.graphql_client import GraphQLClient, UnitRef, create_pupils, create_unit

CREATE = """mutation($p: ID!, $k: UnitKind!, $n: String!, $g: Int) {
  createUnit(input: {parentId: $p, kind: $k, name: $n, grade: $g}) {
    unit { id name kind path area grade } userErrors { code message } } }"""


@pytest.fixture
def county(make_county: Any, engine: Engine) -> tuple[County, UnitRef]:
    county = make_county()
    return county, create_unit(engine, county, "county", county.name)


def admin(gql: GraphQLClient, county: County) -> dict[str, str]:
    return {"Authorization": f"Bearer {gql.token_for('county_admin', county.code)}"}


async def make(
    gql: GraphQLClient,
    headers: dict[str, str],
    parent: str,
    kind: str,
    name: str,
    grade: int | None = None,
) -> dict[str, Any]:
    body = await gql.data(CREATE, {"p": parent, "k": kind, "n": name, "g": grade}, headers=headers)
    return body["createUnit"]


async def test_a_school_is_set_up_level_by_level_and_refused_in_the_wrong_place(
    gql: GraphQLClient, county: tuple[County, UnitRef]
) -> None:
    c, root = county
    headers = admin(gql, c)
    root_id = encode_global_id("Unit", c.code, root.id)
    township = (await make(gql, headers, root_id, "TOWNSHIP", "摆金镇"))["unit"]
    school = (await make(gql, headers, township["id"], "BRIGADE", "摆金镇中心小学"))["unit"]
    squadron = (await make(gql, headers, school["id"], "SQUADRON", "一（1）中队", grade=1))["unit"]
    assert squadron["path"].startswith(school["path"] + ".")
    assert (squadron["kind"], squadron["grade"]) == ("SQUADRON", 1)

    wrong = await make(gql, headers, township["id"], "SQUADRON", "二（1）中队", grade=2)
    assert wrong["userErrors"][0]["code"] == "INVALID_PLACEMENT"
    no_grade = await make(gql, headers, school["id"], "SQUADRON", "二（1）中队")
    assert no_grade["userErrors"][0]["code"] == "INVALID_GRADE"

    counts = await gql.data(
        "query($id: ID!) { unit(id: $id) { unitCounts { kind count } } }",
        {"id": township["id"]},
        headers=headers,
    )
    by_kind = {c["kind"]: c["count"] for c in counts["unit"]["unitCounts"]}
    assert (by_kind["BRIGADE"], by_kind["SQUADRON"], by_kind["TEAM"]) == (1, 1, 0)


async def test_a_moved_school_takes_its_classes_pupils_and_counselors_along(
    gql: GraphQLClient, county: tuple[County, UnitRef], engine: Engine
) -> None:
    c, root = county
    headers = admin(gql, c)
    first = create_unit(engine, c, "township", "甲镇", root)
    second = create_unit(engine, c, "township", "乙镇", root)
    school = create_unit(engine, c, "brigade", "甲镇小学", first)
    squadron = create_unit(engine, c, "squadron", "三（1）中队", school, grade=3)
    create_pupils(engine, c, squadron, 4)
    counselor = gql.token_for("squadron_counselor", c.code, squadron.path)

    moved = await gql.data(
        "mutation($id: ID!, $p: ID!) { moveUnit(input: {id: $id, parentId: $p}) "
        "{ unit { path parent { name } } userErrors { code } } }",
        {
            "id": encode_global_id("Unit", c.code, school.id),
            "p": encode_global_id("Unit", c.code, second.id),
        },
        headers=headers,
    )
    new_path = moved["moveUnit"]["unit"]["path"]
    assert new_path.startswith(second.path + ".")
    assert moved["moveUnit"]["unit"]["parent"]["name"] == "乙镇"

    counts = await gql.data(
        "query($a: ID!, $b: ID!) { a: unit(id: $a) { pupilCount } b: unit(id: $b) { pupilCount } }",
        {
            "a": encode_global_id("Unit", c.code, first.id),
            "b": encode_global_id("Unit", c.code, second.id),
        },
        headers=headers,
    )
    assert (counts["a"]["pupilCount"], counts["b"]["pupilCount"]) == (0, 4)

    # The squadron counselor's role followed the school: still the same four pupils
    with engine.connect() as conn:
        scopes = (
            conn.execute(
                select(role_assignments.c.scope).where(
                    role_assignments.c.county_code == c.code,
                    role_assignments.c.role == "squadron_counselor",
                )
            )
            .scalars()
            .all()
        )
    assert scopes == [f"{new_path}.{squadron.path.rsplit('.', 1)[1]}"]
    roster = await gql.data(
        "{ pupils(first: 10) { edges { node { name } } } }",
        headers={"Authorization": f"Bearer {counselor}"},
    )
    assert len(roster["pupils"]["edges"]) == 4

    # A school cannot go under its own class, nor a class straight under a township
    into_itself = await gql.data(
        "mutation($id: ID!, $p: ID!) { moveUnit(input: {id: $id, parentId: $p}) "
        "{ userErrors { code } } }",
        {
            "id": encode_global_id("Unit", c.code, school.id),
            "p": encode_global_id("Unit", c.code, squadron.id),
        },
        headers=headers,
    )
    assert into_itself["moveUnit"]["userErrors"][0]["code"] == "INVALID_PLACEMENT"


async def test_a_unit_with_pupils_cannot_be_archived_and_an_empty_one_leaves_the_lists(
    gql: GraphQLClient, county: tuple[County, UnitRef], engine: Engine
) -> None:
    c, root = county
    headers = admin(gql, c)
    township = create_unit(engine, c, "township", "丙镇", root)
    school = create_unit(engine, c, "brigade", "丙镇小学", township)
    squadron = create_unit(engine, c, "squadron", "六（1）中队", school, grade=6)
    empty = create_unit(engine, c, "brigade", "撤并小学", township)
    create_pupils(engine, c, squadron, 2)
    archive = "mutation($id: ID!) { archiveUnit(input: {id: $id}) { unit { archivedAt } userErrors { code message } } }"

    busy = await gql.data(
        archive, {"id": encode_global_id("Unit", c.code, school.id)}, headers=headers
    )
    assert busy["archiveUnit"]["userErrors"][0]["code"] == "UNIT_NOT_EMPTY"
    assert "2 名" in busy["archiveUnit"]["userErrors"][0]["message"]
    done = await gql.data(
        archive, {"id": encode_global_id("Unit", c.code, empty.id)}, headers=headers
    )
    assert done["archiveUnit"]["unit"]["archivedAt"] is not None
    listed = await gql.data(
        "{ units(first: 100, kind: BRIGADE) { edges { node { name } } } }", headers=headers
    )
    assert [e["node"]["name"] for e in listed["units"]["edges"]] == ["丙镇小学"]


async def test_renaming_is_audited_with_the_old_name(
    gql: GraphQLClient, county: tuple[County, UnitRef], engine: Engine
) -> None:
    c, root = county
    headers = admin(gql, c)
    school = create_unit(engine, c, "brigade", "城关二小", root)
    renamed = await gql.data(
        'mutation($id: ID!) { updateUnit(input: {id: $id, name: "城关第二小学", area: RURAL}) '
        "{ unit { name area } } }",
        {"id": encode_global_id("Unit", c.code, school.id)},
        headers=headers,
    )
    assert renamed["updateUnit"]["unit"] == {"name": "城关第二小学", "area": "RURAL"}
    log = await gql.data("{ auditLog(first: 1) { action objectId } }", headers=headers)
    assert log["auditLog"][0] == {"action": "updateUnit", "objectId": str(school.id)}
