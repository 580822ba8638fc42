"""The API's conventions a county frontend relies on (issue 9): any object by its global ID,
one or many at a time, through the same checks as its own field, without a query per
object."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, event, select
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.people.tables import pupils
from schema.ids import encode_global_id
from tenants.provisioning import County
from tests.graphql_client import GraphQLClient, create_pupils, create_unit, in_county

NODES = """query($ids: [ID!]!) { nodes(ids: $ids) { id __typename
  ... on Pupil { name } ... on Unit { name } } }"""


def world(engine: Engine, make_county: Callable[..., County], n: int) -> dict[str, Any]:
    county = make_county()
    root = create_unit(engine, county, "county", county.name)
    school = create_unit(engine, county, "brigade", "一小", root)
    mine = create_unit(engine, county, "squadron", "三（1）中队", school, grade=3)
    other = create_unit(engine, county, "squadron", "三（2）中队", school, grade=3)
    create_pupils(engine, county, mine, n)
    create_pupils(engine, county, other, 1)
    ids = in_county(engine, county, lambda c: list(c.execute(
        select(pupils.c.id).order_by(pupils.c.id)).scalars()))  # fmt: skip
    return {"county": county, "mine": mine, "other": other, "ids": ids, "school": school}


def gid(county: County, type_name: str, pk: int) -> str:
    return encode_global_id(type_name, county.code, pk)


async def test_nodes_answers_in_order_with_null_for_what_the_caller_may_not_see(
    gql: GraphQLClient, engine: Engine, make_county: Callable[..., County]
) -> None:
    w = world(engine, make_county, 2)
    county, (a, b, theirs) = w["county"], w["ids"]
    token = gql.token_for("squadron_counselor", county.code, w["mine"].path)
    counselor = {"Authorization": f"Bearer {token}"}
    elsewhere = make_county()
    ids = [gid(county, "Pupil", b), gid(county, "Unit", w["school"].id),
           gid(county, "Pupil", theirs), gid(elsewhere, "Pupil", a), gid(county, "Pupil", a)]  # fmt: skip
    found = (await gql.data(NODES, {"ids": ids}, headers=counselor))["nodes"]
    assert [n and (n["__typename"], n["id"]) for n in found] == [
        ("Pupil", ids[0]),
        ("Unit", ids[1]),
        None,
        None,
        ("Pupil", ids[4]),
    ]
    # Each one as `node(id:)` answers it: the same checks, no way around them.
    for pk, one in zip(ids, found, strict=True):
        alone = await gql.data("query($id: ID!) { node(id: $id) { id } }", {"id": pk},
                               headers=counselor)  # fmt: skip
        assert (alone["node"] or {}).get("id") == (one or {}).get("id")
    # At most 100 IDs; a malformed one is an error, not a null.
    assert await gql.error_codes(NODES, {"ids": [ids[0]] * 101},
                                 headers=counselor) == ["TOO_MANY_IDS"]  # fmt: skip
    assert await gql.error_codes(NODES, {"ids": ["bogus"]}, headers=counselor) == ["INVALID_ID"]


async def test_nodes_reads_many_pupils_in_as_many_statements_as_few(
    gql: GraphQLClient, engine: Engine, make_county: Callable[..., County],
    async_engine: AsyncEngine,
) -> None:  # fmt: skip
    statements: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    counts = []
    for n in (2, 40):
        w = world(engine, make_county, n)
        ids = [gid(w["county"], "Pupil", pk) for pk in w["ids"][:n]]
        admin = {"Authorization": f"Bearer {gql.token_for('county_admin', w['county'].code)}"}
        await gql.data(NODES, {"ids": ids[:1]}, headers=admin)  # the caller's first lookups
        event.listen(async_engine.sync_engine, "before_cursor_execute", record)
        try:
            statements.clear()
            found = (await gql.data(NODES, {"ids": ids}, headers=admin))["nodes"]
            counts.append(len(statements))
        finally:
            event.remove(async_engine.sync_engine, "before_cursor_execute", record)
        assert [n["id"] for n in found] == ids
    assert counts[0] == counts[1], statements
