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


# --- cursor connections both ways ------------------------------------------------------------

PAGE = """query($f: Int, $a: String, $l: Int, $b: String) {{ {field}(first: $f, after: $a, last: $l,
  before: $b) {{ {count} edges {{ cursor node {{ id }} }}
  pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }} }} }}"""


async def pages(
    gql: GraphQLClient, field: str, headers: dict[str, str], size: int, *, backward: bool
) -> list[list[str]]:
    """Every page of a list, walked forward with `first`/`after` or backward with
    `last`/`before`, each page's IDs in the list's order; the page infos checked on the way."""
    query = PAGE.format(field=field, count="")
    found: list[list[str]] = []
    cursor = None
    while True:
        variables = {"l": size, "b": cursor} if backward else {"f": size, "a": cursor}
        page = (await gql.data(query, variables, headers=headers))[field]
        info = page["pageInfo"]
        found.append([e["node"]["id"] for e in page["edges"]])
        assert len(found[-1]) <= size
        cursors = [e["cursor"] for e in page["edges"]]
        assert (info["startCursor"], info["endCursor"]) == (cursors[0], cursors[-1])
        more, came_from = (
            (info["hasPreviousPage"], info["hasNextPage"])
            if backward
            else (info["hasNextPage"], info["hasPreviousPage"])
        )
        assert came_from is (cursor is not None), (field, backward, info)
        if not more:
            return found
        assert len(found[-1]) == size
        cursor = info["startCursor"] if backward else info["endCursor"]


async def test_every_list_pages_forward_and_backward_over_the_same_items_and_counts_them(
    gql: GraphQLClient, engine: Engine, make_county: Callable[..., County]
) -> None:
    from tests.graphql_client import create_counselor
    from tests.test_activities_api import County as ActivityCounty

    counties = ActivityCounty(gql, engine, make_county, n=6)  # 12 pupils, 7 units
    c = counties.county
    for _ in range(7):
        await counties.create()
    for unit in (counties.q1, counties.q2, *counties.units.values()):
        create_counselor(engine, c, unit)
    for field, expected in (("units", 7), ("pupils", 12), ("activities", 7), ("counselors", 7)):
        forward = await pages(gql, field, counties.admin, 3, backward=False)
        backward = await pages(gql, field, counties.admin, 3, backward=True)
        items = [pk for page in forward for pk in page]
        assert len(items) == len(set(items)) == expected, field
        # Backward, the pages come last first, each in the list's own order.
        assert [pk for page in reversed(backward) for pk in page] == items, field
        assert [len(p) for p in backward][:-1] == [3] * (len(backward) - 1)
        counted = await gql.data(PAGE.format(field=field, count="totalCount"), {"f": 1},
                                 headers=counties.admin)  # fmt: skip
        assert counted[field]["totalCount"] == expected
        last_two = await gql.data(PAGE.format(field=field, count=""), {"l": 2},
                                  headers=counties.admin)  # fmt: skip
        assert [e["node"]["id"] for e in last_two[field]["edges"]] == items[-2:]
    codes = await gql.error_codes(PAGE.format(field="pupils", count=""), {"f": 2, "l": 2},
                                  headers=counties.admin)  # fmt: skip
    assert codes == ["INVALID_PAGE_SIZE"]


async def test_a_pupils_points_history_pages_backward_too(
    gql: GraphQLClient, engine: Engine, make_county: Callable[..., County]
) -> None:
    from domain.ledger import service as ledger

    w = world(engine, make_county, 1)
    county, pupil = w["county"], w["ids"][0]
    in_county(engine, county, lambda conn: [
        ledger.issue_many(conn, [ledger.Grant(f"p{i}", pupil, i + 1)], kind="award")
        for i in range(7)])  # fmt: skip
    admin = {"Authorization": f"Bearer {gql.token_for('county_admin', county.code)}"}
    query = """query($id: ID!, $f: Int, $a: String, $l: Int, $b: String) { pupil(id: $id) {
      pointsHistory(first: $f, after: $a, last: $l, before: $b) { edges { node { amount } }
      pageInfo { hasNextPage hasPreviousPage startCursor } } } }"""
    pid = gid(county, "Pupil", pupil)
    newest = (await gql.data(query, {"id": pid, "f": 3}, headers=admin))["pupil"]["pointsHistory"]
    assert [e["node"]["amount"] for e in newest["edges"]] == [7, 6, 5]
    oldest = (await gql.data(query, {"id": pid, "l": 3}, headers=admin))["pupil"]["pointsHistory"]
    assert [e["node"]["amount"] for e in oldest["edges"]] == [3, 2, 1]
    assert (oldest["pageInfo"]["hasPreviousPage"], oldest["pageInfo"]["hasNextPage"]) == (
        True,
        False,
    )
    before = (await gql.data(query, {"id": pid, "l": 3, "b": oldest["pageInfo"]["startCursor"]},
                             headers=admin))["pupil"]["pointsHistory"]  # fmt: skip
    assert [e["node"]["amount"] for e in before["edges"]] == [6, 5, 4]
    assert (before["pageInfo"]["hasPreviousPage"], before["pageInfo"]["hasNextPage"]) == (
        True,
        True,
    )


# --- no query per object ----------------------------------------------------------------------

ROSTER = """query($n: Int!) { pupils(first: $n) { totalCount edges { node {
  name squadron { name parent { name } } points { balance available }
  badges { badge { name level } } activitySignups { state activity { title placesLeft } }
  redemptions { state itemName } taskSubmissions { state }
  archive { kind title } pointsHistory(first: 3) { edges { node { amount } } }
} } } }"""


def counting(async_engine: AsyncEngine) -> Any:
    """A context in which every SQL statement the app sends is recorded."""
    import contextlib

    @contextlib.contextmanager
    def recording() -> Any:
        statements: list[str] = []

        def record(conn: object, cursor: object, statement: str, *args: object) -> None:
            statements.append(statement)

        event.listen(async_engine.sync_engine, "before_cursor_execute", record)
        try:
            yield statements
        finally:
            event.remove(async_engine.sync_engine, "before_cursor_execute", record)

    return recording()


async def test_a_roster_page_with_everything_nested_costs_as_many_statements_for_30_as_for_2(
    gql: GraphQLClient, engine: Engine, make_county: Callable[..., County],
    async_engine: AsyncEngine,
) -> None:  # fmt: skip
    """Every pupil field of a roster page is loaded for the page at once (DataLoaders), never
    once per pupil, the points history's pages included."""
    from domain.ledger import service as ledger

    counts = []
    for n in (2, 30):
        w = world(engine, make_county, n)
        in_county(engine, w["county"], lambda conn, w=w: ledger.issue_many(
            conn, [ledger.Grant(f"s{p}", p, 5) for p in w["ids"]], kind="award"))  # fmt: skip
        admin = {"Authorization": f"Bearer {gql.token_for('county_admin', w['county'].code)}"}
        await gql.data("{ me { name } county { name } }", headers=admin)  # first lookups
        with counting(async_engine) as statements:
            found = (await gql.data(ROSTER, {"n": n + 1}, headers=admin))["pupils"]
        assert found["totalCount"] == n + 1
        assert {e["node"]["points"]["balance"] for e in found["edges"]} == {5}
        assert sum(1 for s in statements if "balance_after" in s) == 1
        counts.append(len(statements))
    assert counts[0] == counts[1], counts


ACTIVITIES = """query($n: Int!) { activities(first: $n) { totalCount edges { node {
  title placesLeft organiser { name parent { name } }
  signups(first: 2) { totalCount edges { node { state pupil { name points { balance } } } }
                       pageInfo { hasNextPage } }
} } } }"""


async def test_a_page_of_activities_with_their_sign_ups_costs_as_many_statements_for_6_as_for_2(
    gql: GraphQLClient, engine: Engine, make_county: Callable[..., County],
    async_engine: AsyncEngine,
) -> None:  # fmt: skip
    from tests.test_activities_api import County as ActivityCounty

    counts = []
    for n in (2, 6):
        county = ActivityCounty(gql, engine, make_county, n=3)
        made = [await county.create(capacity=5, cost=0) for _ in range(n)]
        for i, activity in enumerate(made):  # 3, 2, 1, 3, ... pupils signed up
            signed = await county.sign_up(activity, list(range(3 - i % 3)), county.admin)
            assert signed["userErrors"] == []
        await gql.data("{ me { name } county { name } }", headers=county.admin)
        with counting(async_engine) as statements:
            found = (await gql.data(ACTIVITIES, {"n": n}, headers=county.admin))["activities"]
        counts.append(len(statements))
        # Newest first; each its own sign-ups, two to a page.
        lists = [e["node"]["signups"] for e in found["edges"]]
        expected = [3 - i % 3 for i in reversed(range(n))]
        assert [s["totalCount"] for s in lists] == expected
        assert [len(s["edges"]) for s in lists] == [min(2, k) for k in expected]
        assert [s["pageInfo"]["hasNextPage"] for s in lists] == [k > 2 for k in expected]
    assert counts[0] == counts[1], counts


async def test_every_timestamp_comes_back_in_beijing_time_to_the_second(
    gql: GraphQLClient, engine: Engine, make_county: Callable[..., County]
) -> None:
    import re

    from tests.test_activities_api import County as ActivityCounty

    county = ActivityCounty(gql, engine, make_county, n=1)
    activity = await county.create(startsAt="2030-05-01T01:00:00Z", endsAt="2030-05-01T04:30:00Z")
    await county.sign_up(activity, [0], county.admin)
    found = await gql.data(
        """query($id: ID!) { activity(id: $id) { startsAt endsAt signupOpensAt
        signups { edges { node { createdAt updatedAt } } } } statistics { computedAt } }""",
        {"id": activity},
        headers=county.admin,
    )
    one = found["activity"]
    assert (one["startsAt"], one["endsAt"]) == ("2030-05-01T09:00:00+08:00",
                                                "2030-05-01T12:30:00+08:00")  # fmt: skip
    stamps = [one["signupOpensAt"], found["statistics"]["computedAt"],
              *one["signups"]["edges"][0]["node"].values()]  # fmt: skip
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00", s) for s in stamps), stamps
