"""The GraphQL API through the real HTTP stack: a county frontend's view of the service."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest
import pytest_asyncio
from sqlalchemy import Engine, event, text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from redscarf.app import create_app
from redscarf.settings import Settings
from schema.ids import encode_global_id
from tenants.provisioning import County, set_archived
from tests.conftest import new_county_code
from tests.graphql_client import (
    GraphQLClient,
    UnitRef,
    create_counselor,
    create_pupils,
    create_unit,
    create_units,
)

OPERATOR_TOKEN = "operator-secret-for-tests"
CHINESE = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def app(settings: Settings, async_engine: AsyncEngine) -> Starlette:
    return create_app(
        settings.model_copy(update={"operator_token": OPERATOR_TOKEN}), async_engine=async_engine
    )


@pytest_asyncio.fixture
async def gql(app: Starlette) -> AsyncIterator[GraphQLClient]:
    async with GraphQLClient(app) as client:
        yield client


@dataclass
class Org:
    county: County
    root: UnitRef
    township: UnitRef
    brigade: UnitRef
    squadrons: list[UnitRef]


@pytest.fixture
def org(engine: Engine, make_county: Callable[..., County]) -> Org:
    """A county: two townships, one school with two squadrons, pupils and counselors."""
    county = make_county()
    root = create_unit(engine, county, "county", county.name)
    township = create_unit(engine, county, "township", "城关镇", root, area="urban")
    create_unit(engine, county, "township", "山口乡", root, area="rural")
    brigade = create_unit(
        engine, county, "brigade", "城关小学", township, area="urban", school_kind="migrant"
    )
    squadrons = create_units(engine, county, brigade, "squadron", ["一（1）中队", "一（2）中队"])
    create_pupils(engine, county, squadrons[0], 5)
    create_pupils(engine, county, squadrons[1], 3)
    create_pupils(engine, county, squadrons[1], 2, status="left")
    create_counselor(engine, county, brigade, "brigade")
    create_counselor(engine, county, squadrons[0])
    return Org(county, root, township, brigade, squadrons)


def gid(unit: UnitRef) -> str:
    return encode_global_id("Unit", unit.county_code, unit.id)


# --- health ---------------------------------------------------------------------------------


async def test_healthz_and_readyz_report_a_live_ready_service(gql: GraphQLClient) -> None:
    assert (await gql.http.get("/healthz")).json() == {"status": "ok"}
    ready = await gql.http.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"


async def test_readyz_is_503_with_a_chinese_message_when_the_database_is_unreachable(
    settings: Settings,
) -> None:
    unreachable = settings.model_copy(
        update={"database_url": "postgresql://postgres@127.0.0.1:1/redscarf"}
    )
    async with GraphQLClient(create_app(unreachable)) as gql:
        assert (await gql.http.get("/healthz")).status_code == 200
        ready = await gql.http.get("/readyz")
    assert ready.status_code == 503
    body = ready.json()
    assert body["code"] == "DATABASE_UNAVAILABLE"
    assert CHINESE.search(body["message"])


async def test_graphiql_is_served_to_a_browser(gql: GraphQLClient) -> None:
    page = await gql.http.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()


# --- the county and its units ---------------------------------------------------------------

COUNTY = """{ county { code name provinceCode prefectureCode pupilCount counselorCount
                       unitCounts { kind count } } }"""


async def test_county_query_describes_the_routed_county(gql: GraphQLClient, org: Org) -> None:
    county = (await gql.data(COUNTY, county=org.county.code))["county"]
    assert county["code"] == org.county.code
    assert county["name"] == org.county.name
    assert county["provinceCode"] == org.county.code[:2]
    assert county["pupilCount"] == 8  # the two who left are not counted
    assert county["counselorCount"] == 2
    counts = {c["kind"]: c["count"] for c in county["unitCounts"]}
    assert counts == {
        "COUNTY": 1,
        "TOWNSHIP": 2,
        "COMMUNITY": 0,
        "BRIGADE": 1,
        "SQUADRON": 2,
        "TEAM": 0,
    }


UNITS = """query($first: Int!, $after: String, $kind: UnitKind, $under: ID) {
  units(first: $first, after: $after, kind: $kind, under: $under) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id name kind path } }
  }
}"""


async def test_units_are_paged_by_cursor_and_capped_at_100(
    gql: GraphQLClient, engine: Engine, make_county: Callable[..., County]
) -> None:
    county = make_county()
    root = create_unit(engine, county, "county", county.name)
    township = create_unit(engine, county, "township", "大镇", root)
    create_units(engine, county, township, "brigade", [f"学校{i:03d}" for i in range(148)])
    total = 150

    seen: list[str] = []
    after = None
    while True:
        page = (await gql.data(UNITS, {"first": 40, "after": after}, county=county.code))["units"]
        assert page["totalCount"] == total
        assert len(page["edges"]) <= 40
        seen += [e["node"]["id"] for e in page["edges"]]
        assert page["pageInfo"]["hasPreviousPage"] == (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == total

    capped = (await gql.data(UNITS, {"first": 500}, county=county.code))["units"]
    assert len(capped["edges"]) == 100
    assert capped["pageInfo"]["hasNextPage"] is True

    brigades = await gql.data(UNITS, {"first": 5, "kind": "BRIGADE"}, county=county.code)
    assert brigades["units"]["totalCount"] == 148
    assert {e["node"]["kind"] for e in brigades["units"]["edges"]} == {"BRIGADE"}


async def test_units_under_a_unit_are_that_unit_and_everything_below_it(
    gql: GraphQLClient, org: Org
) -> None:
    page = await gql.data(UNITS, {"first": 100, "under": gid(org.brigade)}, county=org.county.code)
    names = [e["node"]["name"] for e in page["units"]["edges"]]
    assert names == ["城关小学", "一（1）中队", "一（2）中队"]
    assert page["units"]["totalCount"] == 3


async def test_a_bad_cursor_or_page_size_is_a_clear_error(gql: GraphQLClient, org: Org) -> None:
    code = org.county.code
    assert await gql.error_codes(UNITS, {"first": 5, "after": "bm9wZQ=="}, county=code) == [
        "INVALID_CURSOR"
    ]
    assert await gql.error_codes(UNITS, {"first": -1}, county=code) == ["INVALID_PAGE_SIZE"]


NODE = """query($id: ID!) { node(id: $id) { id ... on Unit { name kind area schoolKind
  parent { name } children { name pupilCount counselorCount } pupilCount counselorCount } } }"""


async def test_node_fetches_a_unit_with_its_parent_children_and_counts(
    gql: GraphQLClient, org: Org
) -> None:
    node = (await gql.data(NODE, {"id": gid(org.brigade)}, county=org.county.code))["node"]
    assert node["id"] == gid(org.brigade)
    assert node["name"] == "城关小学"
    assert (node["kind"], node["area"], node["schoolKind"]) == ("BRIGADE", "URBAN", "MIGRANT")
    assert node["parent"] == {"name": "城关镇"}
    assert node["children"] == [
        {"name": "一（1）中队", "pupilCount": 5, "counselorCount": 1},
        {"name": "一（2）中队", "pupilCount": 3, "counselorCount": 0},
    ]
    assert (node["pupilCount"], node["counselorCount"]) == (8, 2)

    unit = await gql.data(
        "query($id: ID!) { unit(id: $id) { name parent { name } } }",
        {"id": gid(org.root)},
        county=org.county.code,
    )
    assert unit["unit"] == {"name": org.county.name, "parent": None}


async def test_node_ids_that_name_nothing_are_null_or_invalid(gql: GraphQLClient, org: Org) -> None:
    code = org.county.code
    missing = encode_global_id("Unit", code, 987654321)
    assert (await gql.data(NODE, {"id": missing}, county=code))["node"] is None
    assert (await gql.data(NODE, {"id": encode_global_id("Pupil", code, 987654321)}, county=code))[
        "node"
    ] is None
    assert await gql.error_codes(NODE, {"id": "not base64!"}, county=code) == ["INVALID_ID"]


async def test_one_countys_unit_ids_find_nothing_in_another_county(
    gql: GraphQLClient, org: Org, make_county: Callable[..., County], engine: Engine
) -> None:
    other = make_county()
    create_unit(engine, other, "county", other.name)
    node = (await gql.data(NODE, {"id": gid(org.brigade)}, county=other.code))["node"]
    assert node is None


# --- routing errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ("659999", "COUNTY_NOT_FOUND"),
        ("12345", "INVALID_ADMIN_CODE"),
        ("990101", "INVALID_ADMIN_CODE"),
        (None, "COUNTY_REQUIRED"),
    ],
)
async def test_requests_for_no_valid_county_get_a_coded_chinese_error(
    gql: GraphQLClient, header: str | None, code: str
) -> None:
    # A province admin reaches many counties, and must name one
    headers = {"Authorization": f"Bearer {gql.token_for('province_admin', None, '52')}"}
    if header is not None:
        headers["X-County"] = header
    body = await gql.execute("{ county { name } }", headers=headers)
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["extensions"] == {"code": code}
    assert CHINESE.search(error["message"])


async def test_a_county_out_of_reach_looks_exactly_like_an_unknown_one(
    gql: GraphQLClient, make_county: Callable[..., County]
) -> None:
    mine, theirs = make_county(), make_county()
    token = gql.token_for("county_admin", mine.code)
    for county in (theirs.code, "529999"):
        body = await gql.execute(
            "{ county { name } }", headers={"Authorization": f"Bearer {token}", "X-County": county}
        )
        assert body["errors"][0]["extensions"] == {"code": "COUNTY_NOT_FOUND"}
        assert theirs.name not in str(body)
    # and one county is enough: no header needed
    own = await gql.execute("{ county { name } }", headers={"Authorization": f"Bearer {token}"})
    assert own["data"] == {"county": {"name": mine.name}}


async def test_anonymous_callers_reach_no_county(gql: GraphQLClient, org: Org) -> None:
    body = await gql.execute("{ county { name } }", headers={"X-County": org.county.code})
    assert body["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}


async def test_an_archived_county_is_unavailable(
    gql: GraphQLClient, engine: Engine, make_county: Callable[..., County]
) -> None:
    county = make_county()
    set_archived(engine, county.code, archived=True)
    assert await gql.error_codes("{ county { name } }", county=county.code) == [
        "COUNTY_UNAVAILABLE"
    ]


async def test_unexpected_failures_are_masked(
    gql: GraphQLClient, engine: Engine, make_county: Callable[..., County]
) -> None:
    county = make_county()
    with engine.begin() as conn:  # someone dropped the county's schema by hand
        conn.execute(text(f'DROP SCHEMA "{county.schema_name}" CASCADE'))
    try:
        body = await gql.execute(UNITS, {"first": 5}, county=county.code)
    finally:
        # The worker's database is shared with tests that upgrade every registered county.
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM shared.tenants WHERE code = :c"), {"c": county.code})
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "INTERNAL_ERROR"}
    assert county.schema_name not in error["message"]
    assert "units" not in error["message"]


async def test_too_deep_a_query_is_refused(gql: GraphQLClient, org: Org) -> None:
    deep = '{ unit(id: "x") { ' + "children { " * 14 + "name" + " }" * 14 + " } }"
    body = await gql.execute(deep, county=org.county.code)
    assert body["errors"]
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_DEEP"


# --- onboarding over the API ---------------------------------------------------------------

CREATE = """mutation($input: CreateCountyInput!) {
  createCounty(input: $input) {
    created county { code name provinceCode pupilCount } userErrors { field code message }
  }
}"""


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_create_county_is_refused_when_no_operator_token_is_configured(
    settings: Settings, async_engine: AsyncEngine
) -> None:
    app = create_app(
        settings.model_copy(update={"operator_token": None}), async_engine=async_engine
    )
    variables = {"input": {"code": "469034", "name": "陵水黎族自治县", "provinceCode": "46"}}
    async with GraphQLClient(app) as gql:
        codes = await gql.error_codes(CREATE, variables, headers=_bearer("anything"))
    assert codes == ["UNAUTHENTICATED"]  # no operator token exists: "anything" is no credential


async def test_create_county_needs_the_operator_token(gql: GraphQLClient) -> None:
    variables = {"input": {"code": "469034", "name": "陵水黎族自治县", "provinceCode": "46"}}
    assert await gql.error_codes(CREATE, variables) == ["UNAUTHENTICATED"]
    assert await gql.error_codes(CREATE, variables, headers=_bearer("guess")) == ["UNAUTHENTICATED"]
    # Signed in, but neither the operator nor a province admin of Hainan
    for role, scope in (("province_admin", "52"), ("county_admin", "c")):
        token = gql.token_for(role, None if role == "province_admin" else "469001", scope)
        assert await gql.error_codes(CREATE, variables, headers=_bearer(token)) == ["FORBIDDEN"]


async def test_a_province_admin_onboards_a_county_of_the_province(gql: GraphQLClient) -> None:
    code = new_county_code("46")
    variables = {"input": {"code": code, "name": "陵水黎族自治县", "provinceCode": "46"}}
    token = gql.token_for("province_admin", None, "46")
    payload = (await gql.data(CREATE, variables, headers=_bearer(token)))["createCounty"]
    assert payload["created"] is True
    # The province sees aggregates of it (and no pupils: see the authorization table)
    assert payload["county"]["pupilCount"] == 0


async def test_create_county_onboards_once_and_is_idempotent(gql: GraphQLClient) -> None:
    code = new_county_code("46")
    variables = {"input": {"code": code, "name": "陵水黎族自治县", "provinceCode": "46"}}
    first = (await gql.data(CREATE, variables, headers=_bearer(OPERATOR_TOKEN)))["createCounty"]
    assert first["userErrors"] == []
    assert first["created"] is True
    assert first["county"] == {
        "code": code,
        "name": "陵水黎族自治县",
        "provinceCode": "46",
        "pupilCount": 0,
    }
    again = (await gql.data(CREATE, variables, headers=_bearer(OPERATOR_TOKEN)))["createCounty"]
    assert again["created"] is False
    assert again["county"]["code"] == code
    county = (await gql.data("{ county { name } }", county=code))["county"]
    assert county == {"name": "陵水黎族自治县"}


async def test_create_county_reports_bad_input_as_user_errors(gql: GraphQLClient) -> None:
    cases = [
        ({"code": "46903", "name": "某县", "provinceCode": "46"}, "code", "INVALID_ADMIN_CODE"),
        (
            {"code": "469035", "name": "某县", "provinceCode": "52"},
            "provinceCode",
            "CODE_NOT_IN_PROVINCE",
        ),
        ({"code": "469036", "name": "  ", "provinceCode": "46"}, "name", "NAME_REQUIRED"),
    ]
    for given, field, code in cases:
        payload = (await gql.data(CREATE, {"input": given}, headers=_bearer(OPERATOR_TOKEN)))[
            "createCounty"
        ]
        assert payload["county"] is None
        assert payload["created"] is False
        (error,) = payload["userErrors"]
        assert (error["field"], error["code"]) == (field, code)
        assert CHINESE.search(error["message"])


# --- no N+1 -------------------------------------------------------------------------------

NESTED = """{ units(first: 100, kind: BRIGADE) { edges { node {
  name pupilCount counselorCount parent { name }
  children { name pupilCount counselorCount children { name pupilCount } }
} } } }"""


async def test_nested_units_cost_the_same_statements_for_2_or_12_schools(
    app: Starlette, async_engine: AsyncEngine, engine: Engine, make_county: Callable[..., County]
) -> None:
    county = make_county()
    root = create_unit(engine, county, "county", county.name)
    township = create_unit(engine, county, "township", "镇", root)

    def add_schools(n: int) -> None:
        for brigade in create_units(engine, county, township, "brigade", ["学校"] * n):
            for squadron in create_units(engine, county, brigade, "squadron", ["甲", "乙"]):
                create_pupils(engine, county, squadron, 2)
                create_units(engine, county, squadron, "team", ["一小队", "二小队"])

    statements: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    async def run() -> int:
        statements.clear()
        async with GraphQLClient(app) as gql:
            await gql.data(NESTED, county=county.code)
        return len(statements)

    event.listen(async_engine.sync_engine, "before_cursor_execute", record)
    try:
        add_schools(2)
        await run()  # the county's first request loads what is cached for it (its allow-list)
        small = await run()
        add_schools(10)
        large = await run()
    finally:
        event.remove(async_engine.sync_engine, "before_cursor_execute", record)
    assert small == large, "\n".join(statements)
    # One page + count; per level one batch each for children and both counts; each batch
    # is its own short transaction (SET LOCAL ROLE + query); plus the registry lookup.
    assert large <= 24, statements
