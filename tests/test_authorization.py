"""The authorization table (`tests/authz_table.py`), cell by cell, through the real endpoint."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from migrations.runner import Migrator
from redscarf.app import create_app
from redscarf.settings import Settings
from schema import schema
from tests.authz_table import OPERATIONS, ROLES, places
from tests.authz_world import World, build_world, credentials
from tests.conftest import new_county_code
from tests.graphql_client import GraphQLClient

OPERATOR_TOKEN = "operator-secret-for-the-authz-table"
CASES = [
    pytest.param(name, role, place, id=f"{name}-{role}-{place}")
    for name, op in OPERATIONS.items()
    for role in ROLES
    for place in places(op)
]


@pytest.fixture(scope="module")
def world(engine: Engine, migrator: Migrator) -> World:
    return build_world(engine, migrator, new_county_code())


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def client(settings: Settings, async_engine: AsyncEngine) -> AsyncIterator[GraphQLClient]:
    app = create_app(
        settings.model_copy(update={"operator_token": OPERATOR_TOKEN}), async_engine=async_engine
    )
    async with GraphQLClient(app) as gql:
        yield gql


def _present(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, list):  # e.g. `nodes`: null for each object out of sight
        return any(v is not None for v in value)
    if isinstance(value, dict):
        if "edges" in value:
            return bool(value["edges"])
        if value.get("userErrors"):
            return False
        if "ok" in value:
            return bool(value["ok"])
        return all(v not in (None, False) for k, v in value.items() if k != "userErrors")
    return True


def outcome(body: dict[str, Any], field: str, expected: str) -> str:
    errors = body.get("errors") or []
    if errors:
        return str(errors[0].get("extensions", {}).get("code"))
    if expected == "allowed":
        return "allowed"
    return "ok" if _present((body.get("data") or {}).get(field)) else "hidden"


@pytest.mark.parametrize(("name", "role", "place"), CASES)
async def test_the_authorization_table(
    client: GraphQLClient, world: World, name: str, role: str, place: str
) -> None:
    op = OPERATIONS[name]
    expected = op.expect[role][("in", "out", "other").index(place)]
    services = client.app.state.services
    headers = credentials(services, world, role, OPERATOR_TOKEN)
    routed_to_b = place == "other" and (op.kind == "county" or op.other_in_b)
    headers["X-County"] = (world.b if routed_to_b else world.a).county.code

    body = await client.execute(op.query, op.variables(world, services, place), headers=headers)

    assert outcome(body, op.field, expected) == expected, body


def test_every_operation_of_the_schema_is_in_the_table() -> None:
    graphql_schema = schema._schema
    operations = set(graphql_schema.query_type.fields) | set(graphql_schema.mutation_type.fields)
    assert operations == set(OPERATIONS), "classify every operation in tests/authz_table.py"
    for name, op in OPERATIONS.items():
        assert set(op.expect) == set(ROLES), f"{name}: every role needs an expected outcome"


def test_no_role_outside_a_county_reads_a_pupil() -> None:
    """Data minimisation, read off the table: province, prefecture and operator see no pupil."""
    for name in ("pupils", "pupil", "node"):
        for role in ("operator", "province_admin", "prefecture_admin", "partner"):
            assert "ok" not in OPERATIONS[name].expect[role], (name, role)
