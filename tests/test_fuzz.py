"""Random operations against the real endpoint (issue 9): whatever a careless or hostile client
sends — valid queries and mutations generated from `schema.graphql`, with random arguments —
the server answers with JSON, never a 500, and never leaks what is behind it (SQL, Python,
paths); every error carries a stable code. Run as a county admin and as nobody."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from graphql import build_schema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import mutations, nodes, queries
from sqlalchemy import Engine

from tenants.provisioning import County
from tests.graphql_client import GraphQLClient, create_pupils, create_unit

SDL = build_schema((Path(__file__).resolve().parents[1] / "schema.graphql").read_text())
SCALARS = {
    "Date": st.dates(dt.date(1990, 1, 1), dt.date(2040, 1, 1)).map(
        lambda d: nodes.String(d.isoformat())
    ),
    "DateTime": st.datetimes(dt.datetime(2000, 1, 1), dt.datetime(2040, 1, 1)).map(
        lambda d: nodes.String(d.isoformat() + "+08:00")
    ),
    "BigInt": st.integers(-(2**40), 2**40).map(nodes.Int),
}
# What must never reach a client: the database, the code, the machine.
LEAKS = re.compile(
    r"Traceback|psycopg|sqlalchemy|SELECT |INSERT |UPDATE |File \"|/work/|\.py\b|asyncpg|"
    r"Exception|Error\(|object at 0x",
    re.IGNORECASE,
)
EXAMPLES = 60
KEEP_SESSION = {"signOut", "changePassword"}


def checked(response: Any) -> None:
    assert response.status_code < 500, response.text[:500]
    body = response.json()
    assert isinstance(body, dict), body
    for error in body.get("errors") or []:
        assert isinstance(error.get("extensions", {}).get("code"), str), error
        assert not LEAKS.search(str(error.get("message", ""))), error


@pytest.fixture(scope="module")
def county(engine: Engine, migrator: Any) -> County:
    from tenants.provisioning import create_county
    from tests.conftest import new_county_code

    code = new_county_code()
    made = create_county(engine, migrator, code, f"模糊县{code}", "52").county
    root = create_unit(engine, made, "county", made.name)
    school = create_unit(engine, made, "brigade", "一小", root)
    create_pupils(engine, made, create_unit(engine, made, "squadron", "三（1）中队", school), 3)
    return made


@pytest.mark.parametrize("who", ["county_admin", "anonymous"])
@pytest.mark.parametrize("kind", ["Query", "Mutation"])
async def test_random_operations_get_json_codes_and_no_leaks(
    gql: GraphQLClient, county: County, who: str, kind: str
) -> None:
    headers = {"X-County": county.code}
    if who != "anonymous":
        headers["Authorization"] = f"Bearer {gql.token_for(who, county.code)}"
    if kind == "Query":
        strategy = queries(SDL, custom_scalars=SCALARS, allow_x00=False)
    else:  # all but ending the very session the fuzzer uses
        fields = [f for f in SDL.mutation_type.fields if f not in KEEP_SESSION]
        strategy = mutations(SDL, fields=fields, custom_scalars=SCALARS, allow_x00=False)
    examples: list[str] = []

    # Drawn first, sent after: hypothesis runs synchronously, the client is asynchronous.
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(query=strategy)
    def collect(query: str) -> None:
        examples.append(query)

    collect()
    assert len(examples) >= EXAMPLES // 2
    for query in examples:
        checked(await gql.http.post("/graphql", json={"query": query}, headers=headers))
