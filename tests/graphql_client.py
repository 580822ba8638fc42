"""Tests talk to the service as a county's frontend would: HTTP to `/graphql`, through the
whole starlette stack (middleware, lifespan, strawberry), over `httpx.ASGITransport`.

Also small "given" helpers that put organisation data into a county, written as the county's
own role (`tenant_connection`), as the service itself would.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import Callable, Iterable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import httpx
import pytest
from sqlalchemy import Connection, Engine, insert, update
from starlette.applications import Starlette

from domain.accounts.service import create_user, start_session
from domain.accounts.tables import role_assignments
from domain.org.tables import units
from domain.people.tables import counselors, guardian_bindings, guardians, pupils
from redscarf.errors import RedscarfError
from tenants.provisioning import County
from tenants.sessions import Tenant, tenant_connection


class GraphQLClient:
    """`async with GraphQLClient(app) as gql:` runs the app's lifespan around an httpx client.

    A request that names a county (`county=`) and brings no credentials of its own is made
    by that county's admin: a real account, role and session, signed in with a real token.
    """

    def __init__(self, app: Starlette, *, county: str | None = None) -> None:
        self.app = app
        self.county = county
        self._stack = AsyncExitStack()
        self.http: httpx.AsyncClient
        self._admin_tokens: dict[str, str] = {}

    def token_for(self, role: str, county_code: str | None, scope: str = "c") -> str:
        """An access token of a new user who holds `role` at `scope` (second factor passed)."""
        return sign_in_as(self.app.state.services, role, county_code, scope)

    def _admin_token(self, county_code: str) -> str:
        if county_code not in self._admin_tokens:
            self._admin_tokens[county_code] = self.token_for("county_admin", county_code)
        return self._admin_tokens[county_code]

    async def __aenter__(self) -> GraphQLClient:
        # ASGITransport does not send lifespan events; run the app's lifespan ourselves.
        await self._stack.enter_async_context(self.app.router.lifespan_context(self.app))
        self.http = await self._stack.enter_async_context(
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=self.app), base_url="http://redscarf.test"
            )
        )
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._stack.aclose()

    async def execute(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        county: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """The whole GraphQL response (`data` and `errors`)."""
        sent = dict(headers or {})
        if (code := county or self.county) is not None:
            sent["X-County"] = code
            if not {"authorization", "x-api-key"} & {k.lower() for k in sent}:
                sent["Authorization"] = f"Bearer {self._admin_token(code)}"
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=sent
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def data(self, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> Any:
        """The `data` of a response that must have no errors."""
        body = await self.execute(query, variables, **kw)
        assert not body.get("errors"), body["errors"]
        return body["data"]

    async def error_codes(
        self, query: str, variables: dict[str, Any] | None = None, **kw: Any
    ) -> list[str]:
        body = await self.execute(query, variables, **kw)
        return [e.get("extensions", {}).get("code") for e in body.get("errors") or []]


# --- given: people who sign in ---------------------------------------------------------------

_users = itertools.count(1)


def sign_in_as(services: Any, role: str, county_code: str | None, scope: str = "c") -> str:
    """Write a user holding `role` at `scope` and start a session: its access token."""
    with services.sync_engine.begin() as conn:
        user_id = create_user(
            conn,
            services.keys.cipher,
            display_name=f"{role}{next(_users)}",
            username=f"t{uuid.uuid4().hex[:16]}",
        )
        conn.execute(
            role_assignments.insert().values(
                user_id=user_id, role=role, county_code=county_code, scope=scope
            )
        )
        return start_session(
            conn, services.keys, services.settings, user_id, mfa=True, client="test"
        ).access_token


def guardian_of(services: Any, county: County, pupil_ids: Iterable[int]) -> str:
    """A signed-in guardian of `county` with verified bindings to `pupil_ids`: its token."""
    from domain.accounts.tokens import read_access_token

    token = sign_in_as(services, "guardian", county.code, "c")
    user_id = read_access_token(services.keys.token_secret, token).user_id
    with tenant_connection(services.sync_engine, tenant_of(county)) as conn:
        guardian_id = conn.execute(
            insert(guardians).values(name="王妈妈", user_id=user_id).returning(guardians.c.id)
        ).scalar_one()
        for pupil_id in pupil_ids:
            conn.execute(
                insert(guardian_bindings).values(
                    guardian_id=guardian_id, pupil_id=pupil_id, relation="mother",
                    verified_at=dt.datetime.now(dt.UTC),
                )
            )  # fmt: skip
    return token


# --- given: organisation data of a county -------------------------------------------------


@dataclass(frozen=True)
class UnitRef:
    id: int
    path: str
    county_code: str


# Zero-padded, so that ltree (label by label, as text) sorts siblings in creation order.
_labels = itertools.count(1)


def tenant_of(county: County) -> Tenant:
    return Tenant(county.code, county.name, county.schema_name, county.role_name)


def create_unit(
    engine: Engine,
    county: County,
    kind: str,
    name: str,
    parent: UnitRef | None = None,
    **columns: Any,
) -> UnitRef:
    """One unit under `parent`; `kind == "county"` gives the root onboarding made (renamed
    and with the columns given)."""
    path = "c" if parent is None else f"{parent.path}.{kind[0]}{next(_labels):06d}"
    with tenant_connection(engine, tenant_of(county)) as conn:
        if parent is None:
            pk = conn.execute(
                update(units)
                .where(units.c.path == "c")
                .values(name=name, **columns)
                .returning(units.c.id)
            ).scalar_one()
            return UnitRef(pk, path, county.code)
        pk = conn.execute(
            insert(units)
            .values(
                kind=kind,
                name=name,
                path=path,
                parent_id=parent.id if parent else None,
                **columns,
            )
            .returning(units.c.id)
        ).scalar_one()
    return UnitRef(pk, path, county.code)


def create_pupils(
    engine: Engine, county: County, squadron: UnitRef, count: int, status: str = "member"
) -> None:
    rows: Iterable[dict[str, Any]] = (
        {
            "squadron_id": squadron.id,
            "name": f"队员{i}",
            "gender": "female" if i % 2 else "male",
            "grade": 3,
            "status": status,
        }
        for i in range(count)
    )
    with tenant_connection(engine, tenant_of(county)) as conn:
        conn.execute(insert(pupils), list(rows))


def create_counselor(engine: Engine, county: County, unit: UnitRef, kind: str = "squadron") -> None:
    with tenant_connection(engine, tenant_of(county)) as conn:
        conn.execute(insert(counselors).values(name="辅导员", kind=kind, unit_id=unit.id))


def create_units(
    engine: Engine, county: County, parent: UnitRef, kind: str, names: list[str]
) -> list[UnitRef]:
    """Many sibling units in one statement (for paging tests and the leak test)."""
    labels = [f"{parent.path}.{kind[0]}{next(_labels):06d}" for _ in names]
    with tenant_connection(engine, tenant_of(county)) as conn:
        ids = conn.execute(
            insert(units).returning(units.c.id, sort_by_parameter_order=True),
            [
                {"kind": kind, "name": name, "path": path, "parent_id": parent.id}
                for name, path in zip(names, labels, strict=True)
            ],
        ).scalars()
        return [UnitRef(pk, path, county.code) for pk, path in zip(ids, labels, strict=True)]


def in_county(engine: Engine, county: County, work: Callable[[Connection], Any]) -> Any:
    """`work` in one transaction of the county, as its own role: committed unless it raises."""
    with tenant_connection(engine, tenant_of(county)) as conn:
        return work(conn)


def refusal(engine: Engine, county: County, work: Callable[[Connection], Any]) -> str:
    """The code of the project's error that `work` raises (its transaction rolled back)."""
    with pytest.raises(RedscarfError) as raised:
        in_county(engine, county, work)
    return raised.value.code
