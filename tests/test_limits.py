"""Limits on one request, and each client's budget of cost points, through `/graphql`.

Each static limit is met by a query just under it, which is answered, and one just over it,
which is refused before anything runs: `data` is null and a mutation changes nothing.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio
from graphql import Lexer, Source, TokenKind, get_introspection_query
from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from redscarf.app import create_app
from redscarf.settings import Settings
from schema import MAX_ALIASES, MAX_DEPTH, MAX_FIELDS, MAX_REPEATS, MAX_TOKENS
from schema.ids import encode_global_id
from schema.limits import Limits, LimitSettings
from tenants.provisioning import County
from tests.graphql_client import GraphQLClient, UnitRef, create_unit, create_units


@dataclass
class Org:
    county: County
    root: UnitRef
    township: UnitRef

    @property
    def root_id(self) -> str:
        return encode_global_id("Unit", self.county.code, self.root.id)


@pytest.fixture
def org(engine: Engine, make_county: Callable[..., County]) -> Org:
    county = make_county()
    root = create_unit(engine, county, "county", county.name)
    township = create_unit(engine, county, "township", "城关镇", root, area="urban")
    create_units(engine, county, township, "brigade", ["一小", "二小", "三小"])
    return Org(county, root, township)


def codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors") or []]


def refused(body: dict[str, Any], code: str) -> str:
    """The message of a refusal before execution with `code` (and no other error)."""
    assert body["data"] is None, body
    assert codes(body) == [code], body
    message: str = body["errors"][0]["message"]
    return message


def token_count(query: str) -> int:
    lexer, count = Lexer(Source(query)), 0
    while lexer.advance().kind != TokenKind.EOF:
        count += 1
    return count


# --- depth ----------------------------------------------------------------------------------


def parents(levels: int) -> str:
    """`unit` and `levels` nested `parent`s: depth `levels + 2` with the leaf (cost 1 each)."""
    return (
        "query($u: ID!) { unit(id: $u) { " + "parent { " * levels + "name" + " }" * levels + " } }"
    )


async def test_a_query_as_deep_as_the_limit_is_answered(gql: GraphQLClient, org: Org) -> None:
    body = await gql.execute(parents(MAX_DEPTH - 2), {"u": org.root_id}, county=org.county.code)
    assert not body.get("errors"), body
    assert body["data"]["unit"]["parent"] is None  # the county has no parent


async def test_one_level_deeper_is_refused_before_execution(gql: GraphQLClient, org: Org) -> None:
    body = await gql.execute(parents(MAX_DEPTH - 1), {"u": org.root_id}, county=org.county.code)
    message = refused(body, "QUERY_TOO_DEEP")
    assert f"{MAX_DEPTH + 1} 层" in message
    assert f"最多 {MAX_DEPTH} 层" in message


async def test_depth_counts_through_fragments(gql: GraphQLClient, org: Org) -> None:
    half = MAX_DEPTH // 2
    query = (
        "query($u: ID!) { unit(id: $u) { ...Up } } "
        f"fragment Up on Unit {{ {'parent { ' * half}...Top{' }' * half} }} "
        f"fragment Top on Unit {{ {'parent { ' * half}name{' }' * half} }}"
    )
    body = await gql.execute(query, {"u": org.root_id}, county=org.county.code)
    refused(body, "QUERY_TOO_DEEP")  # 1 + 6 + 6 + 1 fields on one path


async def test_nesting_past_what_the_parser_reads_is_too_deep(gql: GraphQLClient) -> None:
    query = "{ unit(id: 1) { " + "parent { " * 300 + "name" + " }" * 300 + " } }"
    body = await gql.execute(query)
    refused(body, "QUERY_TOO_DEEP")


# --- aliases --------------------------------------------------------------------------------


def aliased(count: int) -> str:
    return "{ " + " ".join(f"a{i}: county {{ name }}" for i in range(count)) + " }"


async def test_as_many_aliases_as_the_limit_are_answered(gql: GraphQLClient, org: Org) -> None:
    data = await gql.data(aliased(MAX_ALIASES), county=org.county.code)
    assert len(data) == MAX_ALIASES


async def test_one_alias_more_is_refused(gql: GraphQLClient, org: Org) -> None:
    body = await gql.execute(aliased(MAX_ALIASES + 1), county=org.county.code)
    message = refused(body, "TOO_MANY_ALIASES")
    assert f"{MAX_ALIASES + 1} 个别名" in message


def spread_four_times(aliases: int) -> str:
    """`aliases` aliases written once, in a fragment spread twice in a fragment spread twice,
    and two more at the root."""
    names = " ".join(f"n{i}: name" for i in range(aliases))
    return (
        "query($u: ID!) { x: __typename y: __typename unit(id: $u) { ...Twice parent { ...Twice } } } "
        "fragment Twice on Unit { ...Names parent { ...Names } } "
        f"fragment Names on Unit {{ {names} }}"
    )


async def test_aliases_count_in_fragments_each_time_they_are_spread(
    gql: GraphQLClient, org: Org
) -> None:
    at_limit = spread_four_times(7)  # 2 + 4 × 7 = 30
    assert await gql.data(at_limit, {"u": org.root_id}, county=org.county.code)
    body = await gql.execute(spread_four_times(8), {"u": org.root_id}, county=org.county.code)
    assert "34 个别名" in refused(body, "TOO_MANY_ALIASES")  # 2 + 4 × 8


async def test_a_doubling_of_fragments_is_refused_at_once(gql: GraphQLClient) -> None:
    # 2^40 aliases once expanded: strawberry's own limiters walked every one of them.
    levels = 40
    chain = " ".join(f"fragment F{i} on Unit {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels))
    query = f'{{ unit(id: "x") {{ ...F0 }} }} {chain} fragment F{levels} on Unit {{ a: name }}'
    started = time.perf_counter()
    body = await gql.execute(query)
    assert time.perf_counter() - started < 1.0
    assert body["data"] is None
    assert set(codes(body)) == {"TOO_MANY_ALIASES", "QUERY_TOO_WIDE"}


# --- tokens ---------------------------------------------------------------------------------


def padded(tokens: int, county_code: str) -> str:
    """A query of exactly `tokens` tokens: a list of county codes pads it."""
    head = "query { suggestedPairs(partnersFrom: ["
    tail = "]) { school { name } } }"
    fill = tokens - token_count(head + tail)
    return head + " ".join(f'"{county_code}"' for _ in range(fill)) + tail


async def test_a_query_of_as_many_tokens_as_the_limit_is_answered(
    gql: GraphQLClient, org: Org
) -> None:
    query = padded(MAX_TOKENS, org.county.code)
    assert token_count(query) == MAX_TOKENS
    province = {"Authorization": f"Bearer {gql.token_for('province_admin', None, '52')}"}
    data = await gql.data(query, headers=province)
    assert data["suggestedPairs"] == []


async def test_one_token_more_is_refused(gql: GraphQLClient, org: Org) -> None:
    province = {"Authorization": f"Bearer {gql.token_for('province_admin', None, '52')}"}
    body = await gql.execute(padded(MAX_TOKENS + 1, org.county.code), headers=province)
    assert f"超过 {MAX_TOKENS} 个词法单元" in refused(body, "TOO_MANY_TOKENS")


# --- width ----------------------------------------------------------------------------------

FRAGMENT = (
    "fragment F on Unit { id name kind area schoolKind grade path archivedAt "
    "pupilCount counselorCount }"
)


def wide(typenames: int) -> str:
    """30 aliases, each spreading F three times and `parent { id }`: 30 × 33 fields, then
    `typenames` times `__typename`."""
    blocks = " ".join(
        f"a{i}: unit(id: $u) {{ ...F ...F ...F parent {{ id }} }}" for i in range(MAX_ALIASES)
    )
    return f"query($u: ID!) {{ {blocks} {'__typename ' * typenames}}} {FRAGMENT}"


async def test_a_query_as_wide_as_the_limit_is_answered(gql: GraphQLClient, org: Org) -> None:
    fields = MAX_FIELDS - 33 * MAX_ALIASES
    data = await gql.data(wide(fields), {"u": org.root_id}, county=org.county.code)
    assert data["a29"]["name"] == org.county.name


async def test_one_field_more_is_refused(gql: GraphQLClient, org: Org) -> None:
    fields = MAX_FIELDS - 33 * MAX_ALIASES + 1
    body = await gql.execute(wide(fields), {"u": org.root_id}, county=org.county.code)
    assert f"超过 {MAX_FIELDS} 个字段" in refused(body, "QUERY_TOO_WIDE")


async def test_one_field_selected_too_often_is_refused(gql: GraphQLClient, org: Org) -> None:
    # graphql-core compares the copies of one field in pairs: 400 copies took a second.
    at_limit = "{ county { " + "name " * MAX_REPEATS + "} }"
    assert await gql.data(at_limit, county=org.county.code)
    over = "{ county { " + "name " * (MAX_REPEATS + 1) + "} }"
    body = await gql.execute(over, county=org.county.code)
    assert f"county.name 被重复选择 {MAX_REPEATS + 1} 次" in refused(body, "QUERY_TOO_WIDE")


# --- circular fragments -----------------------------------------------------------------------


async def test_circular_fragments_are_refused_at_once(gql: GraphQLClient, org: Org) -> None:
    query = (
        "query($u: ID!) { unit(id: $u) { ...A } } "
        "fragment A on Unit { name ...B ...B } fragment B on Unit { parent { ...A ...A } }"
    )
    started = time.perf_counter()
    body = await gql.execute(query, {"u": org.root_id}, county=org.county.code)
    assert time.perf_counter() - started < 1.0
    assert body["data"] is None
    assert set(codes(body)) == {"GRAPHQL_INVALID"}  # graphql-core's NoFragmentCycles
    assert {e["message"] for e in body["errors"]} == {
        "Cannot spread fragment 'A' within itself via 'B'."
    }


async def test_an_unknown_fragment_is_invalid_not_an_internal_error(
    gql: GraphQLClient, org: Org
) -> None:
    # strawberry's depth limiter raised KeyError on it: an INTERNAL_ERROR and a logged incident.
    body = await gql.execute('{ unit(id: "x") { ...Nowhere } }', county=org.county.code)
    assert codes(body) == ["GRAPHQL_INVALID"]


async def test_the_introspection_query_of_graphiql_passes_every_limit(
    gql: GraphQLClient, org: Org
) -> None:
    data = await gql.data(get_introspection_query(), county=org.county.code)
    assert data["__schema"]["queryType"]["name"] == "Query"


# --- cost -----------------------------------------------------------------------------------

NESTED = """query($n: Int!) { units(first: $n) {
  totalCount pageInfo { hasNextPage }
  edges { cursor node { name parent { name } children { name badges { badge { name } } } } }
} }"""
# units 1, pageInfo 1, edges 1; per unit of the page (n): node, parent, children; per child
# (10 assumed): badges; per badge (10 assumed per child): badge.
NESTED_COST = {10: 1 + 1 + 1 + 10 * 3 + 10 * 10 + 10 * 10 * 10, 5: 1 + 1 + 1 + 5 * 3 + 50 + 500}


async def test_the_cost_of_a_nested_query_is_known_before_it_runs(
    gql: GraphQLClient, org: Org
) -> None:
    for n, cost in NESTED_COST.items():
        response = await gql.http.post(
            "/graphql",
            json={"query": NESTED, "variables": {"n": n}},
            headers={
                "X-County": org.county.code,
                "Authorization": f"Bearer {gql.token_for('county_admin', org.county.code)}",
            },
        )
        assert response.status_code == 200
        assert not response.json().get("errors")
        assert response.headers["X-RateLimit-Cost"] == str(cost)
    assert NESTED_COST[10] == 1133


async def test_a_query_costing_more_than_the_limit_is_refused(gql: GraphQLClient, org: Org) -> None:
    query = (
        "{ units(first: 100) { edges { node { "
        "children { children { children { children { name } } } } } } } }"
    )
    body = await gql.execute(query, county=org.county.code)
    message = refused(body, "QUERY_TOO_COSTLY")
    cost = 1 + 1 + 100 + 100 + 1_000 + 10_000 + 100_000
    assert f"查询代价 {cost} 点" in message
    assert "25000 点的上限" in message


def budget_app(
    settings: Settings, async_engine: AsyncEngine, clock: Callable[[], float], **limits: int
) -> Starlette:
    app = create_app(settings, async_engine=async_engine)
    app.state.query_limits = Limits.from_settings(LimitSettings(**limits), clock=clock)
    return app


class Clock:
    def __init__(self) -> None:
        self.now = 1_750_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest_asyncio.fixture
async def small(
    settings: Settings, async_engine: AsyncEngine
) -> AsyncIterator[tuple[GraphQLClient, Clock]]:
    """An app with a cost limit of 100 and a budget of 36 points a minute."""
    clock = Clock()
    app = budget_app(
        settings,
        async_engine,
        clock,
        max_query_cost=100,
        rate_limit_points=36,
        rate_limit_window_s=60,
    )
    async with GraphQLClient(app) as client:
        yield client, clock


def units_page(n: int) -> str:
    """Costs 2 + n: the connection, its edges, and each node of the page."""
    return f"{{ units(first: {n}) {{ edges {{ node {{ name }} }} }} }}"


async def test_a_query_costing_the_limit_is_answered_and_one_point_more_is_not(
    small: tuple[GraphQLClient, Clock], org: Org
) -> None:
    gql, _ = small
    gql.app.state.query_limits = Limits(max_query_cost=100, budget=None, window_s=60)
    data = await gql.data(units_page(98), county=org.county.code)
    assert len(data["units"]["edges"]) == 5  # the county, a township and three schools
    body = await gql.execute(units_page(99), county=org.county.code)
    assert "查询代价 101 点，超过每次 100 点的上限" in refused(body, "QUERY_TOO_COSTLY")


async def test_a_mutation_over_the_cost_limit_changes_nothing(
    gql: GraphQLClient, org: Org, count_rows: Callable[[str], int]
) -> None:
    units = f'"{org.county.schema_name}".units'
    audit = f'"{org.county.schema_name}".audit_log'
    before = count_rows(units), count_rows(audit)
    mutation = (
        'mutation($p: ID!) { createUnit(input: {parentId: $p, kind: TOWNSHIP, name: "新镇"}) '
        "{ unit { children { children { children { children { children { children { name } "
        "} } } } } } } }"
    )
    body = await gql.execute(mutation, {"p": org.root_id}, county=org.county.code)
    assert "查询代价 111113 点" in refused(body, "QUERY_TOO_COSTLY")
    assert (count_rows(units), count_rows(audit)) == before


# --- budgets --------------------------------------------------------------------------------


async def post(
    gql: GraphQLClient, query: str, token: str | None, county: str, **variables: Any
) -> httpx.Response:
    headers = {"X-County": county}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return await gql.http.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )


def rate(response: httpx.Response) -> dict[str, str]:
    return {
        k.removeprefix("x-ratelimit-"): v
        for k, v in response.headers.items()
        if k.startswith("x-ratelimit-")
    }


async def test_a_client_spends_its_budget_and_then_waits_for_the_next_window(
    small: tuple[GraphQLClient, Clock], org: Org
) -> None:
    gql, clock = small
    user = gql.token_for("county_admin", org.county.code)
    reset = str(int(clock.now) + 60)
    query = units_page(10)  # 12 points

    for used in (12, 24, 36):
        response = await post(gql, query, user, org.county.code)
        assert response.status_code == 200, response.text
        assert not response.json().get("errors")
        assert rate(response) == {
            "limit": "36",
            "remaining": str(36 - used),
            "used": str(used),
            "reset": reset,
            "cost": "12",
        }
        clock.now += 10

    response = await post(gql, query, user, org.county.code)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "30"
    assert rate(response)["remaining"] == "0"
    message = refused(response.json(), "RATE_LIMITED")
    assert "每 60 秒 36 点的额度已用 36 点" in message
    assert "请 30 秒后再试" in message

    # Another signed-in client has its own budget.
    other = await post(gql, query, gql.token_for("county_admin", org.county.code), org.county.code)
    assert other.status_code == 200
    assert rate(other)["remaining"] == "24"

    # The next window: the budget is whole again.
    clock.now += 30
    response = await post(gql, query, user, org.county.code)
    assert response.status_code == 200
    assert rate(response)["remaining"] == "24"
    assert rate(response)["reset"] == str(int(clock.now) + 60)


async def test_a_request_that_does_not_fit_what_is_left_is_refused_and_charged_nothing(
    small: tuple[GraphQLClient, Clock], org: Org
) -> None:
    gql, _ = small
    user = gql.token_for("county_admin", org.county.code)
    assert (await post(gql, units_page(20), user, org.county.code)).status_code == 200  # 22
    too_much = await post(gql, units_page(20), user, org.county.code)
    assert too_much.status_code == 429
    assert rate(too_much)["remaining"] == "14"
    fits = await post(gql, units_page(10), user, org.county.code)  # 12 of the 14 left
    assert fits.status_code == 200
    assert rate(fits)["remaining"] == "2"


async def test_invalid_and_refused_requests_cost_one_point(
    small: tuple[GraphQLClient, Clock], org: Org
) -> None:
    gql, _ = small
    user = gql.token_for("county_admin", org.county.code)
    invalid = await post(gql, "{ county { nonsense } }", user, org.county.code)
    assert invalid.status_code == 200
    assert codes(invalid.json()) == ["GRAPHQL_INVALID"]
    assert rate(invalid) | {"reset": ""} == {
        "limit": "36",
        "remaining": "35",
        "used": "1",
        "reset": "",
        "cost": "1",
    }
    costly = await post(gql, units_page(100), user, org.county.code)
    assert codes(costly.json()) == ["QUERY_TOO_COSTLY"]
    assert rate(costly)["remaining"] == "34"


async def test_anonymous_callers_are_counted_by_their_address(
    settings: Settings, async_engine: AsyncEngine, org: Org
) -> None:
    clock = Clock()
    app = budget_app(settings, async_engine, clock, rate_limit_points=3)
    query = "{ __typename }"

    async def ask(address: str) -> httpx.Response:
        transport = httpx.ASGITransport(app=app, client=(address, 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            return await http.post("/graphql", json={"query": query})

    async with GraphQLClient(app):  # runs the app's lifespan
        assert [(await ask("10.0.0.1")).status_code for _ in range(4)] == [200, 200, 200, 429]
        elsewhere = await ask("10.0.0.2")
    assert elsewhere.status_code == 200
    assert rate(elsewhere)["remaining"] == "2"


async def test_a_mutation_over_budget_changes_nothing(
    small: tuple[GraphQLClient, Clock], org: Org, count_rows: Callable[[str], int]
) -> None:
    gql, _ = small
    user = gql.token_for("county_admin", org.county.code)
    for _ in range(3):
        assert (await post(gql, units_page(10), user, org.county.code)).status_code == 200
    units = f'"{org.county.schema_name}".units'
    audit = f'"{org.county.schema_name}".audit_log'
    before = count_rows(units), count_rows(audit)
    mutation = (
        'mutation($p: ID!) { createUnit(input: {parentId: $p, kind: TOWNSHIP, name: "新镇"}) '
        "{ unit { id } userErrors { code } } }"
    )
    response = await post(gql, mutation, user, org.county.code, p=org.root_id)
    assert response.status_code == 429
    refused(response.json(), "RATE_LIMITED")
    assert (count_rows(units), count_rows(audit)) == before


async def test_every_answer_carries_the_rate_limit_headers(gql: GraphQLClient, org: Org) -> None:
    response = await post(gql, "{ county { name } }", None, org.county.code)
    assert set(rate(response)) == {"limit", "remaining", "used", "reset", "cost"}
    assert rate(response)["limit"] == "50000"
    assert int(rate(response)["reset"]) > time.time()
