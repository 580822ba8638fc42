"""A school's counselors: appointed, moved, leaving, with the history kept."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from schema.ids import encode_global_id
from tests.graphql_client import GraphQLClient, create_unit

APPOINT = """mutation($u: ID!, $k: CounselorKind!) { appointCounselor(input: {unitId: $u,
  name: "何老师", kind: $k, startedOn: "2024-09-01"}) { counselor { id name kind }
  userErrors { code } } }"""
HISTORY = """{ counselors(first: 10) { edges { node { name kind endedOn
  appointments { kind startedOn endedOn unit { name } } } } } }"""


async def test_a_counselor_is_appointed_moved_and_leaves_with_the_history_kept(
    gql: GraphQLClient, make_county: Any, engine: Engine
) -> None:
    county = make_county()
    root = create_unit(engine, county, "county", county.name)
    school = create_unit(engine, county, "brigade", "民族小学", root)
    first = create_unit(engine, county, "squadron", "一（1）中队", school, grade=1)
    second = create_unit(engine, county, "squadron", "二（1）中队", school, grade=2)
    brigade = {
        "Authorization": f"Bearer {gql.token_for('brigade_counselor', county.code, school.path)}"
    }

    def gid(unit: Any) -> str:
        return encode_global_id("Unit", county.code, unit.id)

    # A squadron counselor goes to a squadron, not to the school itself
    wrong = await gql.data(APPOINT, {"u": gid(school), "k": "SQUADRON"}, headers=brigade)
    assert wrong["appointCounselor"]["userErrors"][0]["code"] == "WRONG_UNIT_KIND"
    made = (await gql.data(APPOINT, {"u": gid(first), "k": "SQUADRON"}, headers=brigade))[
        "appointCounselor"
    ]["counselor"]
    counts = await gql.data(
        "query($id: ID!) { unit(id: $id) { counselorCount } }", {"id": gid(school)}, headers=brigade
    )
    assert counts["unit"]["counselorCount"] == 1

    await gql.data(
        "mutation($id: ID!, $u: ID!) { reassignCounselor(input: {id: $id, unitId: $u, "
        'kind: SQUADRON, on: "2025-09-01"}) { counselor { id } } }',
        {"id": made["id"], "u": gid(second)},
        headers=brigade,
    )
    listed = (await gql.data(HISTORY, headers=brigade))["counselors"]["edges"][0]["node"]
    assert [(a["unit"]["name"], a["startedOn"], a["endedOn"]) for a in listed["appointments"]] == [
        ("一（1）中队", "2024-09-01", "2025-09-01"),
        ("二（1）中队", "2025-09-01", None),
    ]

    await gql.data(
        'mutation($id: ID!) { endCounselor(input: {id: $id, on: "2026-07-10"}) '
        "{ counselor { endedOn } } }",
        {"id": made["id"]},
        headers=brigade,
    )
    assert (await gql.data(HISTORY, headers=brigade))["counselors"]["edges"] == []
    counts = await gql.data(
        "query($id: ID!) { unit(id: $id) { counselorCount } }", {"id": gid(school)}, headers=brigade
    )
    assert counts["unit"]["counselorCount"] == 0
