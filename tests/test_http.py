"""GraphQL over HTTP and the request-level protections, through the real ASGI app: what a
county's frontend (or a careless or hostile client) meets at `/graphql`.

Each limit is tried just under and just over it (with small limits configured), and after
each refusal an ordinary query still answers.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

import schema.context
from redscarf.app import create_app
from redscarf.http_guard import GRAPHQL_RESPONSE, media_type_for
from redscarf.settings import Settings
from tenants.provisioning import County
from tenants.sessions import tenant_session
from tests.graphql_client import GraphQLClient

LIMIT = 2048
BODY_TIMEOUT = 0.5
REQUEST_TIMEOUT = 1.5
TYPENAME = {"data": {"__typename": "Query"}}


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def tight(settings: Settings, async_engine: AsyncEngine) -> AsyncIterator[GraphQLClient]:
    """An app with small limits, so that tests can reach them."""
    small = settings.model_copy(
        update={
            "max_body_bytes": LIMIT,
            "body_timeout_s": BODY_TIMEOUT,
            "request_timeout_s": REQUEST_TIMEOUT,
        }
    )
    async with GraphQLClient(create_app(small, async_engine=async_engine)) as client:
        yield client


async def post(
    client: GraphQLClient,
    body: bytes | str | Any,
    content_type: str | None = "application/json",
    **headers: str,
) -> httpx.Response:
    sent = {k.replace("_", "-"): v for k, v in headers.items()}
    if content_type is not None:
        sent["Content-Type"] = content_type
    content = body if isinstance(body, bytes | str) else json.dumps(body)
    return await client.http.post("/graphql", content=content, headers=sent)


async def still_answers(client: GraphQLClient) -> None:
    """The server stays responsive: an ordinary query answers at once."""
    response = await post(client, {"query": "{ __typename }"})
    assert response.status_code == 200, response.text
    assert response.json() == TYPENAME


def refused(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """A refusal: the status, a JSON body of one error with its code and a Chinese message."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(("application/json", GRAPHQL_RESPONSE))
    body: dict[str, Any] = response.json()
    [error] = body["errors"]
    assert error["extensions"]["code"] == code
    assert any("\u4e00" <= c <= "\u9fff" for c in error["message"]), error["message"]
    assert "Traceback" not in response.text
    return body


def bearer(client: GraphQLClient, county: County, role: str = "county_admin") -> dict[str, str]:
    return {"Authorization": f"Bearer {client.token_for(role, county.code)}"}


# --- POST, GET and what is not GraphQL over HTTP --------------------------------------------


async def test_a_query_is_answered_by_post_with_json_and_by_get(gql: GraphQLClient) -> None:
    posted = await post(gql, {"query": "{ __typename }"})
    assert posted.status_code == 200
    assert posted.headers["content-type"] == "application/json"
    assert posted.json() == TYPENAME
    got = await gql.http.get("/graphql", params={"query": "{ __typename }"})
    assert got.status_code == 200
    assert got.json() == TYPENAME
    variables = await gql.http.get(
        "/graphql",
        params={
            "query": "query($s: Boolean!) { __typename @include(if: $s) }",
            "variables": '{"s": true}',
        },
    )
    assert variables.json() == TYPENAME


async def test_a_mutation_by_get_is_405_and_says_to_use_post(gql: GraphQLClient) -> None:
    response = await gql.http.get("/graphql", params={"query": "mutation { signOut { ok } }"})
    refused(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == "POST"
    await still_answers(gql)


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "HEAD"])
async def test_other_methods_are_405(gql: GraphQLClient, method: str) -> None:
    response = await gql.http.request(method, "/graphql", content=b"{}")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    if method != "HEAD":
        refused(response, 405, "METHOD_NOT_ALLOWED")
    await still_answers(gql)


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "text/plain",
        "application/graphql",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/jsonx",
    ],
)
async def test_a_body_that_is_not_json_by_its_content_type_is_415(
    gql: GraphQLClient, content_type: str | None
) -> None:
    response = await post(gql, {"query": "{ __typename }"}, content_type)
    refused(response, 415, "UNSUPPORTED_MEDIA_TYPE")
    await still_answers(gql)


async def test_json_with_a_charset_is_json(gql: GraphQLClient) -> None:
    response = await post(gql, {"query": "{ __typename }"}, "application/json; charset=utf-8")
    assert response.json() == TYPENAME


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b'{"query": "{ __typename }"', "INVALID_JSON"),
        (b"", "INVALID_JSON"),
        (b"\xff\xfe{", "INVALID_JSON"),  # not UTF-8
        (b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "INVALID_JSON"),  # nested past recursion
        (b'{"query": "{ __typename }", "variables": {"n": ' + b"9" * 5000 + b"}}", "INVALID_JSON"),
        (b'"{ __typename }"', "INVALID_REQUEST"),
        (b"42", "INVALID_REQUEST"),
        (b'{"query": 42}', "INVALID_REQUEST"),
        (b'{"query": "{ __typename }", "variables": [1]}', "INVALID_REQUEST"),
        (b'{"query": "{ __typename }", "operationName": {}}', "INVALID_REQUEST"),
        (b'{"query": "{ __typename }", "extensions": "x"}', "INVALID_REQUEST"),
        (b"{}", "QUERY_MISSING"),
        (b'{"query": "query A { __typename }", "operationName": "B"}', "OPERATION_NOT_FOUND"),
    ],
)
async def test_malformed_requests_are_400_with_a_code(
    gql: GraphQLClient, body: bytes, code: str
) -> None:
    refused(await post(gql, body), 400, code)
    await still_answers(gql)


async def test_bad_variables_in_a_get_are_400(gql: GraphQLClient) -> None:
    response = await gql.http.get(
        "/graphql", params={"query": "{ __typename }", "variables": "{not json"}
    )
    refused(response, 400, "INVALID_JSON")
    missing = await gql.http.get(
        "/graphql", params={"variables": "{}"}, headers={"Accept": "application/json"}
    )
    refused(missing, 400, "QUERY_MISSING")


async def test_batches_are_refused_even_for_signing_in(gql: GraphQLClient) -> None:
    sign_in = {
        "query": 'mutation($u: String!) { signIn(input: {username: $u, password: "x"})'
        " { userErrors { code } } }",
        "variables": {"u": "nobody"},
    }
    for batch in ([{"query": "{ __typename }"}], [sign_in] * 50, []):
        refused(await post(gql, batch), 400, "BATCHING_DISABLED")
    await still_answers(gql)


# --- media types and status codes ------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "media"),
    [
        (None, "application/json"),
        ("", "application/json"),
        ("*/*", "application/json"),
        ("application/json", "application/json"),
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE}, application/json;q=0.9", GRAPHQL_RESPONSE),
        (f"application/json, {GRAPHQL_RESPONSE};q=0.5", "application/json"),
        (f"application/json, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE};q=0, application/json", "application/json"),
        ("text/html", "application/json"),  # nothing we speak: the default, not 406
        ("Application/GraphQL-Response+JSON; charset=utf-8", GRAPHQL_RESPONSE),
    ],
)
def test_the_response_media_type_follows_accept(accept: str | None, media: str) -> None:
    assert media_type_for(accept) == media


GRAPHQL_ACCEPT = {"accept": f"{GRAPHQL_RESPONSE}, application/json;q=0.9"}


async def test_graphql_response_json_gets_the_specifications_status_codes(
    gql: GraphQLClient,
) -> None:
    ok = await post(gql, {"query": "{ __typename }"}, **GRAPHQL_ACCEPT)
    assert ok.status_code == 200
    assert ok.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert ok.json() == TYPENAME

    for broken in ("{ __typename", "{ noSuchField }", "query($x: Int!) { __typename }"):
        response = await post(gql, {"query": broken}, **GRAPHQL_ACCEPT)
        assert response.status_code == 400, (broken, response.text)
        assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
        body = response.json()
        assert "data" not in body  # execution never started
        assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_INVALID"

    # Execution started: a field error is a 200 with `data` (here null: `county` is non-null)
    started = await post(gql, {"query": "{ county { name } }"}, **GRAPHQL_ACCEPT)
    assert started.status_code == 200
    assert started.json()["data"] is None
    assert started.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    # Refusals before GraphQL speak the media type too
    batch = await post(gql, [{"query": "{ __typename }"}], **GRAPHQL_ACCEPT)
    refused(batch, 400, "BATCHING_DISABLED")
    assert batch.headers["content-type"].startswith(GRAPHQL_RESPONSE)


async def test_plain_json_keeps_200_for_graphql_errors(gql: GraphQLClient) -> None:
    for broken in ("{ __typename", "{ noSuchField }"):
        response = await post(gql, {"query": broken}, accept="application/json")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.json()["data"] is None
        assert response.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_INVALID"


async def test_a_browser_opening_the_endpoint_gets_graphiql(gql: GraphQLClient) -> None:
    page = await gql.http.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")


async def test_an_unexpected_failure_is_a_json_500_without_details(
    settings: Settings, async_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from redscarf.app import GraphQLApp

    async def broken(*args: Any) -> Any:
        raise RuntimeError("secret detail: password=hunter2")

    monkeypatch.setattr(GraphQLApp, "get_context", broken)
    async with GraphQLClient(create_app(settings, async_engine=async_engine)) as client:
        response = await post(client, {"query": "{ __typename }"})
    body = refused(response, 500, "INTERNAL_ERROR")
    assert "hunter2" not in json.dumps(body)


# --- the size of the body --------------------------------------------------------------------


def padded(size: int) -> bytes:
    """A valid request of exactly `size` bytes (the query padded with spaces)."""
    bare = json.dumps({"query": "{ __typename }"}).encode()
    body = bare.replace(b'}"}', b"}" + b" " * (size - len(bare)) + b'"}')
    assert len(body) == size
    return body


async def test_a_body_of_the_limit_is_answered_and_one_byte_more_is_413(
    tight: GraphQLClient,
) -> None:
    at_limit = await post(tight, padded(LIMIT))
    assert at_limit.status_code == 200
    assert at_limit.json() == TYPENAME
    over = await post(tight, padded(LIMIT + 1))
    refused(over, 413, "BODY_TOO_LARGE")
    assert over.headers["connection"] == "close"
    await still_answers(tight)


async def test_huge_variables_are_413(tight: GraphQLClient) -> None:
    body = {"query": "query($s: String) { __typename }", "variables": {"s": "子" * LIMIT}}
    refused(await post(tight, body), 413, "BODY_TOO_LARGE")
    await still_answers(tight)


class Chunks:
    """A request body sent in chunks, recording how much of it the server asked for."""

    def __init__(self, chunks: list[bytes], pause: float = 0.0) -> None:
        self.chunks = chunks
        self.pause = pause
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            if self.pause:
                await asyncio.sleep(self.pause)
            self.sent += 1
            yield chunk


async def test_a_streamed_body_is_refused_as_soon_as_it_passes_the_limit(
    tight: GraphQLClient,
) -> None:
    body = Chunks([b'{"query": "{ __typename }", "v": "'] + [b"x" * 512] * 100 + [b'"}'])
    response = await tight.http.post(
        "/graphql", content=body, headers={"Content-Type": "application/json"}
    )
    refused(response, 413, "BODY_TOO_LARGE")
    assert body.sent <= LIMIT // 512 + 2  # not read to its end
    await still_answers(tight)


async def test_a_declared_length_over_the_limit_is_refused_before_reading(
    tight: GraphQLClient,
) -> None:
    body = Chunks([b"{}"])
    response = await tight.http.post(
        "/graphql",
        content=body,
        headers={"Content-Type": "application/json", "Content-Length": str(LIMIT + 1)},
    )
    refused(response, 413, "BODY_TOO_LARGE")
    assert body.sent == 0
    await still_answers(tight)


# --- slow clients and long operations --------------------------------------------------------


def in_pieces(body: bytes, pieces: int) -> list[bytes]:
    step = -(-len(body) // pieces)
    return [body[i : i + step] for i in range(0, len(body), step)]


async def test_a_body_sent_in_time_is_answered_and_a_slower_one_is_408(
    tight: GraphQLClient,
) -> None:
    body = json.dumps({"query": "{ __typename }"}).encode()
    in_time = Chunks(in_pieces(body, 4), pause=BODY_TIMEOUT / 10)
    response = await tight.http.post(
        "/graphql", content=in_time, headers={"Content-Type": "application/json"}
    )
    assert response.json() == TYPENAME

    started = time.monotonic()
    slow = Chunks(in_pieces(body, 4), pause=BODY_TIMEOUT * 2)
    response = await tight.http.post(
        "/graphql", content=slow, headers={"Content-Type": "application/json"}
    )
    refused(response, 408, "REQUEST_TIMEOUT")
    assert response.headers["connection"] == "close"
    assert time.monotonic() - started < BODY_TIMEOUT * 3
    await still_answers(tight)


async def test_a_stalled_client_does_not_hold_up_anyone_else(tight: GraphQLClient) -> None:
    body = json.dumps({"query": "{ __typename }"}).encode()
    stalled = asyncio.create_task(
        tight.http.post(
            "/graphql",
            content=Chunks([body[:5], body[5:]], pause=BODY_TIMEOUT * 2),
            headers={"Content-Type": "application/json"},
        )
    )
    await asyncio.sleep(0.05)
    started = time.monotonic()
    for _ in range(5):
        await still_answers(tight)
    assert time.monotonic() - started < BODY_TIMEOUT
    assert not stalled.done()
    refused(await stalled, 408, "REQUEST_TIMEOUT")


@pytest.fixture
def slow_county_sessions(monkeypatch: pytest.MonkeyPatch) -> Callable[[float], None]:
    """Make every county transaction of the API start with `pg_sleep(seconds)`: a real
    statement, running as the county's role, that the request's time limit must cancel."""

    def slow_down(seconds: float) -> None:
        @asynccontextmanager
        async def slow_session(engine: AsyncEngine, tenant: Any) -> AsyncIterator[Any]:
            async with tenant_session(engine, tenant) as session:
                await session.execute(text("SELECT pg_sleep(:s)"), {"s": seconds})
                yield session

        monkeypatch.setattr(schema.context, "tenant_session", slow_session)

    return slow_down


UNITS = "{ units(first: 5) { totalCount } }"


async def _pooled_connections_are_clean(async_engine: AsyncEngine, size: int) -> None:
    """Every pooled connection is back to the service's own role, and no statement of a
    cancelled request is still running in the server."""
    async with asyncio.timeout(5):
        while True:
            async with async_engine.connect() as conn:
                running = await conn.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE state = 'active'"
                        " AND query LIKE 'SELECT pg_sleep%' AND pid <> pg_backend_pid()"
                    )
                )
            if running == 0:
                break
            await asyncio.sleep(0.05)
    conns = [await async_engine.connect() for _ in range(size)]
    try:
        for conn in conns:
            row = (
                await conn.execute(
                    text(
                        "SELECT current_user = session_user AS own, current_setting('role') AS role"
                    )
                )
            ).one()
            assert row.own, row
            assert row.role == "none", row
    finally:
        for conn in conns:
            await conn.close()


async def test_an_operation_past_the_time_limit_is_cancelled_and_leaves_nothing_behind(
    tight: GraphQLClient,
    make_county: Callable[..., County],
    async_engine: AsyncEngine,
    settings: Settings,
    slow_county_sessions: Callable[[float], None],
) -> None:
    county = make_county()
    admin = {**bearer(tight, county), "X-County": county.code}

    slow_county_sessions(REQUEST_TIMEOUT / 5)
    under = await post(tight, {"query": UNITS}, **admin)
    assert under.status_code == 200
    assert under.json()["data"]["units"]["totalCount"] == 1

    slow_county_sessions(REQUEST_TIMEOUT * 10)
    started = time.monotonic()
    over = await post(tight, {"query": UNITS}, **admin)
    assert time.monotonic() - started < REQUEST_TIMEOUT * 2
    body = refused(over, 200, "TIMEOUT")
    assert body["data"] is None
    strict = await post(tight, {"query": UNITS}, **admin, **GRAPHQL_ACCEPT)
    refused(strict, 504, "TIMEOUT")
    assert "data" not in strict.json()

    await _pooled_connections_are_clean(async_engine, settings.pool_size)
    slow_county_sessions(0)
    after = await post(tight, {"query": UNITS}, **admin)
    assert after.json() == {"data": {"units": {"totalCount": 1}}}


async def test_a_mutation_past_the_time_limit_changes_nothing(
    tight: GraphQLClient,
    make_county: Callable[..., County],
    async_engine: AsyncEngine,
    slow_county_sessions: Callable[[float], None],
) -> None:
    county = make_county()
    admin = {**bearer(tight, county), "X-County": county.code}
    first = await post(tight, {"query": "{ units(first: 1) { edges { node { id } } } }"}, **admin)
    root = first.json()["data"]["units"]["edges"][0]["node"]["id"]
    create = {
        "query": "mutation($p: ID!) { createUnit(input: {parentId: $p, kind: TOWNSHIP,"
        ' name: "超时镇"}) { unit { id } } }',
        "variables": {"p": root},
    }
    slow_county_sessions(REQUEST_TIMEOUT * 10)
    refused(await post(tight, create, **admin), 200, "TIMEOUT")
    slow_county_sessions(0)
    after = await post(tight, {"query": UNITS}, **admin)
    assert after.json() == {"data": {"units": {"totalCount": 1}}}


# --- introspection and suggestions -----------------------------------------------------------

INTROSPECTION = "{ __schema { queryType { name } } }"


async def test_anonymous_introspection_is_refused_before_execution(gql: GraphQLClient) -> None:
    for query in (INTROSPECTION, '{ __type(name: "Pupil") { fields { name } } }'):
        response = await post(gql, {"query": query}, **GRAPHQL_ACCEPT)
        body = refused(response, 400, "INTROSPECTION_DISABLED")
        assert "data" not in body
    plain = await post(gql, {"query": INTROSPECTION})
    assert plain.json()["errors"][0]["extensions"]["code"] == "INTROSPECTION_DISABLED"
    # __typename is no introspection of the schema
    assert (await post(gql, {"query": "{ __typename }"})).json() == TYPENAME
    # nor does a fragment hide it
    hidden = "query { ...F } fragment F on Query { __schema { types { name } } }"
    assert (await post(gql, {"query": hidden})).json()["errors"][0]["extensions"][
        "code"
    ] == "INTROSPECTION_DISABLED"


async def test_signed_in_callers_may_introspect(
    gql: GraphQLClient, make_county: Callable[..., County]
) -> None:
    county = make_county()
    response = await post(gql, {"query": INTROSPECTION}, **bearer(gql, county, "guardian"))
    assert response.json() == {"data": {"__schema": {"queryType": {"name": "Query"}}}}


async def test_bad_credentials_do_not_open_introspection(gql: GraphQLClient) -> None:
    response = await post(gql, {"query": INTROSPECTION}, authorization="Bearer not-a-token")
    assert response.json()["errors"][0]["extensions"]["code"] == "INTROSPECTION_DISABLED"


async def test_anonymous_introspection_when_configured(
    settings: Settings, async_engine: AsyncEngine
) -> None:
    open_schema = settings.model_copy(update={"anonymous_introspection": True})
    async with GraphQLClient(create_app(open_schema, async_engine=async_engine)) as client:
        response = await post(client, {"query": INTROSPECTION})
    assert response.json() == {"data": {"__schema": {"queryType": {"name": "Query"}}}}


async def test_anonymous_callers_get_no_field_suggestions(
    gql: GraphQLClient, make_county: Callable[..., County]
) -> None:
    query = {"query": "{ me { nmae } pupils(frist: 1) { totalCount } }"}
    anonymous = (await post(gql, query)).json()["errors"]
    assert all("Did you mean" not in e["message"] for e in anonymous), anonymous
    assert all("name" not in e["message"].replace("nmae", "") for e in anonymous)
    signed_in = (await post(gql, query, **bearer(gql, make_county()))).json()["errors"]
    assert "Did you mean 'name'?" in signed_in[0]["message"]
    assert any("Did you mean 'first'" in e["message"] for e in signed_in), signed_in


# --- gzip ------------------------------------------------------------------------------------


async def test_responses_are_gzipped_for_clients_that_accept_it(
    gql: GraphQLClient, make_county: Callable[..., County]
) -> None:
    admin = bearer(gql, make_county())
    big = {"query": "{ __schema { types { name description } } }"}
    zipped = await post(gql, big, accept_encoding="gzip", **admin)
    assert zipped.headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["vary"]
    assert len(zipped.json()["data"]["__schema"]["types"]) > 50  # httpx unzipped it
    raw = await post(gql, big, accept_encoding="identity", **admin)
    assert "content-encoding" not in raw.headers
    assert len(gzip.compress(raw.content)) < len(raw.content) // 3
    small = await post(gql, {"query": "{ __typename }"}, accept_encoding="gzip")
    assert "content-encoding" not in small.headers  # under the minimum size: not worth it


# --- CORS per county -------------------------------------------------------------------------

SET_ORIGINS = """mutation($o: [String!]!) { setAllowedOrigins(input: {origins: $o})
  { county { code allowedOrigins } userErrors { field code message } } }"""


async def set_origins(client: GraphQLClient, county: County, origins: list[str]) -> Any:
    response = await post(
        client,
        {"query": SET_ORIGINS, "variables": {"o": origins}},
        **bearer(client, county),
        x_county=county.code,
    )
    assert not response.json().get("errors"), response.json()
    return response.json()["data"]["setAllowedOrigins"]


def preflight(origin: str) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type, x-county",
    }


@pytest.fixture
def two_counties(make_county: Callable[..., County]) -> tuple[County, County]:
    return make_county(), make_county()


async def test_a_county_admin_sets_its_frontends_origins(
    gql: GraphQLClient, two_counties: tuple[County, County]
) -> None:
    a, _ = two_counties
    done = await set_origins(
        gql, a, ["https://Dyt.Example.cn/", "http://localhost:5173", "https://dyt.example.cn:443"]
    )
    assert done["userErrors"] == []
    assert done["county"] == {
        "code": a.code,
        "allowedOrigins": ["http://localhost:5173", "https://dyt.example.cn"],
    }
    read = await post(
        gql, {"query": "{ county { allowedOrigins } }"}, **bearer(gql, a), x_county=a.code
    )
    assert read.json()["data"]["county"]["allowedOrigins"] == done["county"]["allowedOrigins"]

    wrong = await set_origins(
        gql,
        a,
        ["https://*.example.cn", "http://dyt.example.cn", "https://a.cn/app", "https://ok.cn"],
    )
    assert wrong["county"] is None
    assert [(e["field"], e["code"]) for e in wrong["userErrors"]] == [
        ("origins", "INVALID_ORIGIN")
    ] * 3
    assert "https://*.example.cn" in wrong["userErrors"][0]["message"]
    assert (await set_origins(gql, a, [f"https://a{i}.example.cn" for i in range(20)]))[
        "userErrors"
    ] == []
    too_many = await set_origins(gql, a, [f"https://a{i}.example.cn" for i in range(21)])
    assert [e["code"] for e in too_many["userErrors"]] == ["TOO_MANY_ORIGINS"]
    # nothing changed by the refused ones
    read = await post(
        gql, {"query": "{ county { allowedOrigins } }"}, **bearer(gql, a), x_county=a.code
    )
    assert len(read.json()["data"]["county"]["allowedOrigins"]) == 20


async def test_preflights_and_actual_requests_follow_the_routed_countys_list(
    gql: GraphQLClient, two_counties: tuple[County, County], async_engine: AsyncEngine
) -> None:
    a, b = two_counties
    await set_origins(gql, a, ["https://a.example.cn", "http://localhost:5173"])
    await set_origins(gql, b, ["https://b.example.cn"])

    # A preflight names no county: an origin any county lists is answered
    for origin in ("https://a.example.cn", "https://b.example.cn", "http://localhost:5173"):
        answer = await gql.http.options("/graphql", headers=preflight(origin))
        assert answer.status_code == 204, answer.text
        assert answer.headers["access-control-allow-origin"] == origin
        assert answer.headers["access-control-allow-methods"] == "GET, POST"
        allowed = answer.headers["access-control-allow-headers"].lower()
        assert {"authorization", "content-type", "x-county"} <= set(allowed.split(", "))
        assert "access-control-allow-credentials" not in answer.headers
        assert "Origin" in answer.headers["vary"]
    unlisted = await gql.http.options("/graphql", headers=preflight("https://evil.example.cn"))
    refused(unlisted, 403, "ORIGIN_NOT_ALLOWED")
    assert "access-control-allow-origin" not in unlisted.headers

    # An actual request: only the routed county's own origins may read the answer
    admin_a = bearer(gql, a)
    query = {"query": "{ county { code } }"}

    async def allowed_origin(origin: str, **headers: str) -> str | None:
        response = await post(gql, query, origin=origin, **headers)
        assert response.status_code == 200
        assert "Origin" in response.headers["vary"]
        return response.headers.get("access-control-allow-origin")

    assert await allowed_origin("https://a.example.cn", x_county=a.code, **admin_a) == (
        "https://a.example.cn"
    )
    exposed = await post(gql, query, origin="https://a.example.cn", x_county=a.code, **admin_a)
    assert "X-RateLimit-Remaining" in exposed.headers["access-control-expose-headers"]
    # listed by another county: not for county A's answers
    assert await allowed_origin("https://b.example.cn", x_county=a.code, **admin_a) is None
    assert await allowed_origin("https://evil.example.cn", x_county=a.code, **admin_a) is None
    # without X-County, the caller's one county routes the request
    assert await allowed_origin("https://a.example.cn", **admin_a) == "https://a.example.cn"
    assert await allowed_origin("https://b.example.cn", **admin_a) is None
    # an anonymous page naming its county (signing in, say)
    assert await allowed_origin("https://b.example.cn", x_county=b.code) == "https://b.example.cn"
    # other endpoints too, and the caller found from its credentials alone
    health = await gql.http.get("/healthz", headers={"Origin": "https://a.example.cn", **admin_a})
    assert health.headers["access-control-allow-origin"] == "https://a.example.cn"
    # refusals of the guard can be read by the page that caused them
    batch = await post(gql, [query], origin="https://a.example.cn", x_county=a.code)
    refused(batch, 400, "BATCHING_DISABLED")
    assert batch.headers["access-control-allow-origin"] == "https://a.example.cn"

    # Preflights are answered from the cache: no query
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(async_engine.sync_engine, "before_cursor_execute", count)
    try:
        for _ in range(5):
            await gql.http.options("/graphql", headers=preflight("https://a.example.cn"))
    finally:
        event.remove(async_engine.sync_engine, "before_cursor_execute", count)
    assert statements == []

    # A change through this process is seen at once
    await set_origins(gql, a, [])
    gone = await gql.http.options("/graphql", headers=preflight("https://a.example.cn"))
    refused(gone, 403, "ORIGIN_NOT_ALLOWED")
    assert await allowed_origin("https://a.example.cn", x_county=a.code, **admin_a) is None
    await still_answers(gql)


async def test_only_a_county_admin_sets_origins(
    gql: GraphQLClient, two_counties: tuple[County, County]
) -> None:
    a, _ = two_counties
    for role in ("brigade_counselor", "guardian"):
        response = await post(
            gql,
            {"query": SET_ORIGINS, "variables": {"o": ["https://x.example.cn"]}},
            **bearer(gql, a, role),
            x_county=a.code,
        )
        assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    anonymous = await post(gql, {"query": SET_ORIGINS, "variables": {"o": []}}, x_county=a.code)
    assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
