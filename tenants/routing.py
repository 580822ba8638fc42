"""Which county a request is for: the tenant routing rule.

* The county comes from the caller's credentials. A user or county app whose roles are all in
  one county needs to say nothing: that county is used.
* A caller who reaches several counties (a province or prefecture admin, the operator, a user
  with roles in two counties) names one with the `X-County` request header: the county's
  6-digit administrative code (GB/T 2260, e.g. `469034`). Without it, a field that needs a
  county fails with `COUNTY_REQUIRED`.
* A header naming a county the caller does not reach is refused exactly as an unknown county
  is (`COUNTY_NOT_FOUND`), so probing codes tells nothing about which counties exist; only a
  caller who reaches an archived county learns that it is archived (`COUNTY_UNAVAILABLE`).
* Anonymous callers reach no county (`UNAUTHENTICATED`).

The middleware only reads and checks the header's shape and records the route on the ASGI
scope (`scope["state"]["county_route"]`, i.e. `request.state.county_route`); the registry is
consulted lazily by `resolve_tenant`, when a field actually needs the county, so requests that
need no county (health checks, sign-in, onboarding) cost no lookup.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError
from starlette.datastructures import Headers
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from authz.principal import Principal
from redscarf.errors import DatabaseUnavailable, InvalidInput, RedscarfError, Unauthenticated
from tenants.codes import validate_county_code
from tenants.sessions import Tenant, TenantDirectory, UnknownCounty, active

COUNTY_HEADER = "x-county"


class CountyRequired(InvalidInput):
    code = "COUNTY_REQUIRED"
    message = "您可访问多个县（区），请在请求头 X-County 中填写县（区）的 6 位行政区划代码"


@dataclass(frozen=True)
class CountyRoute:
    """The county a request asked for: a checked code, none, or why the header was refused."""

    code: str | None = None
    error: RedscarfError | None = None


def route_from_header(value: str | None) -> CountyRoute:
    if value is None or not value.strip():
        return CountyRoute()
    try:
        return CountyRoute(code=validate_county_code(value))
    except RedscarfError as exc:
        return CountyRoute(error=exc)


class TenantRoutingMiddleware:
    """Puts the request's `CountyRoute` on the scope's state (plain ASGI, no buffering)."""

    def __init__(self, app: ASGIApp, header: str = COUNTY_HEADER) -> None:
        self.app = app
        self.header = header.lower()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            # Request.state reads scope["state"]; Starlette copies the lifespan state into it.
            scope.setdefault("state", {})
            scope["state"]["county_route"] = route_from_header(
                Headers(scope=scope).get(self.header)
            )
        await self.app(scope, receive, send)


def county_route(conn: HTTPConnection) -> CountyRoute:
    route = conn.scope.get("state", {}).get("county_route")
    return route if isinstance(route, CountyRoute) else CountyRoute()


async def resolve_tenant(
    route: CountyRoute, directory: TenantDirectory, principal: Principal
) -> Tenant:
    """The active county of a route for this caller, or the error that explains why not."""
    if route.error is not None:
        raise route.error
    if not principal.authenticated:
        raise Unauthenticated()
    code = route.code
    if code is None:
        if len(principal.counties) != 1 or any(g.county_code is None for g in principal.grants):
            raise CountyRequired()
        code = principal.counties[0]
    try:
        tenant, status = await directory.lookup(code)
    except DBAPIError as exc:
        raise DatabaseUnavailable(detail=str(exc.orig or exc)) from exc
    if tenant is None or not principal.scopes_in(
        tenant.code, tenant.province_code, tenant.prefecture_code
    ):
        raise UnknownCounty(f"没有行政区划代码为 {code} 的县（区）")
    return active(tenant, status, code)
