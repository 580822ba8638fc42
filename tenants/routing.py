"""Which county a request is for: the tenant routing rule.

The rule, today and after accounts land:

* **Now (before issue 3, no accounts).** The county is named by the `X-County` request header,
  the county's 6-digit administrative code (GB/T 2260, e.g. `469034`). A request without the
  header may still use operations that belong to no county (`createCounty` with the operator
  token); any field that needs a county then fails with `COUNTY_REQUIRED`.
* **With accounts and tokens (issue 3).** The county comes from the access token: a county
  user's token names exactly one county, and the header is ignored (or must agree). A user
  whose role reaches several counties (a prefecture or province user, a county app of several
  counties) sends `X-County` to *choose among the counties the token allows*; a header naming
  any other county is refused exactly as an unknown county is, so that probing codes tells
  nothing about which counties exist.

The middleware only reads and checks the header's shape and records the route on the ASGI
scope (`scope["state"]["county_route"]`, i.e. `request.state.county_route`); the registry is
consulted lazily by `resolve_tenant`, when a field actually needs the county, so requests that
need no county (health checks, onboarding) cost no lookup. Failures are `RedscarfError`s with
stable codes and Chinese messages: `INVALID_ADMIN_CODE` for a malformed code,
`COUNTY_NOT_FOUND` for an unknown one, `COUNTY_UNAVAILABLE` for an archived one.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError
from starlette.datastructures import Headers
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from redscarf.errors import DatabaseUnavailable, InvalidInput, RedscarfError
from tenants.codes import validate_county_code
from tenants.sessions import Tenant, TenantDirectory

COUNTY_HEADER = "x-county"


class CountyRequired(InvalidInput):
    code = "COUNTY_REQUIRED"
    message = "请在请求头 X-County 中填写县（区）的 6 位行政区划代码"


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


async def resolve_tenant(route: CountyRoute, directory: TenantDirectory) -> Tenant:
    """The active county of a route, or the error that explains why there is none."""
    if route.error is not None:
        raise route.error
    if route.code is None:
        raise CountyRequired()
    try:
        return await directory.get(route.code)
    except DBAPIError as exc:
        raise DatabaseUnavailable(detail=str(exc.orig or exc)) from exc
