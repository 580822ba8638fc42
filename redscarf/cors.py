"""CORS per county: a browser page may call the API from the origins its county listed.

Each county lists the web origins of its own frontends (`setAllowedOrigins`, stored in
`shared.county_origins`). Bearer tokens, not cookies, carry the caller, so credentials are
never allowed and a cross-site page learns nothing it could not ask for itself; CORS only
decides which pages may *read* the answers.

* A preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) names no county
  and carries no credentials: it is answered 204 with the CORS headers when the origin is
  listed by any county, else 403 without them.
* An actual request gets `Access-Control-Allow-Origin` only when its origin is listed by the
  county the request is routed to: the `X-County` header, else the caller's one county
  (as `tenants.routing` decides). Every answer to a request with an `Origin` says
  `Vary: Origin`.

The lists are read whole and kept `ORIGINS_TTL` seconds per process (`OriginDirectory`), so a
preflight costs no query most of the time; a change made through this process is seen at
once, one made through another process within the TTL.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import anyio
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from authz.principal import Principal
from redscarf.errors import DatabaseUnavailable, RedscarfError
from redscarf.http_guard import JSON, HttpRefusal, refusal_response
from tenants.origins import ALL_ORIGINS
from tenants.routing import COUNTY_HEADER, route_from_header

log = logging.getLogger("redscarf.cors")

ORIGINS_TTL = 30.0
PREFLIGHT_MAX_AGE = 600
ALLOWED_METHODS = "GET, POST"
ALLOWED_HEADERS = "Authorization, Content-Type, X-County"
# What a page may read of an answer besides the safelisted headers: rate limits, a
# download's file name.
EXPOSED_HEADERS = (
    "Content-Disposition, Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, "
    "X-RateLimit-Used, X-RateLimit-Reset, X-RateLimit-Cost"
)
GRAPHQL_CONTEXT = "graphql_context"
"""Key of the request's GraphQL `Context` in the ASGI scope's state (set by the view), whose
caller is then known without authenticating again."""


class OriginNotAllowed(HttpRefusal):
    code = "ORIGIN_NOT_ALLOWED"
    message = "该网页来源未获准调用本接口：请县（区）管理员在允许的来源（allowedOrigins）中登记"
    status = 403


class OriginsUnavailable(HttpRefusal):
    code = DatabaseUnavailable.code
    message = "暂时无法确认该网页来源（数据库无法连接），请稍后重试"
    status = 503


@dataclass(frozen=True)
class Origins:
    """Every county's origins, as read at `read_at`."""

    counties_of: Mapping[str, frozenset[str]] = field(default_factory=dict)
    read_at: float = float("-inf")

    def listed(self, origin: str, county: str | None = None) -> bool:
        counties = self.counties_of.get(origin, frozenset())
        return bool(counties) if county is None else county in counties


class OriginDirectory:
    """The origin lists of all counties, read in one query and kept `ttl` seconds."""

    def __init__(self, engine: AsyncEngine, ttl: float = ORIGINS_TTL) -> None:
        self.engine = engine
        self.ttl = ttl
        self._origins = Origins()
        self._lock = anyio.Lock()

    async def origins(self) -> Origins:
        """The lists; read again when older than the TTL (by one request at a time). If the
        database does not answer, the last lists read serve until it does."""
        if time.monotonic() - self._origins.read_at <= self.ttl:
            return self._origins
        async with self._lock:
            if time.monotonic() - self._origins.read_at > self.ttl:
                try:
                    self._origins = await self._read()
                except DBAPIError as exc:
                    if self._origins.read_at == float("-inf"):
                        raise DatabaseUnavailable(detail=str(exc.orig or exc)) from exc
                    log.warning("origin lists not refreshed: %s", exc.orig or exc)
        return self._origins

    async def _read(self) -> Origins:
        counties_of: dict[str, set[str]] = {}
        async with self.engine.connect() as conn:
            for row in await conn.execute(ALL_ORIGINS):
                counties_of.setdefault(row.origin, set()).add(row.county_code)
        return Origins({o: frozenset(c) for o, c in counties_of.items()}, time.monotonic())

    def forget(self) -> None:
        """Read the lists again at the next request (after this process changed one)."""
        self._origins = Origins()


def _is_preflight(scope: Scope, headers: Headers) -> bool:
    return scope["method"] == "OPTIONS" and "access-control-request-method" in headers


def _single_county(principal: Principal) -> str | None:
    """The county of a caller who reaches one county only (`tenants.routing`'s rule)."""
    if len(principal.counties) == 1 and all(g.county_code for g in principal.grants):
        return principal.counties[0]
    return None


class CountyCorsMiddleware:
    """Plain ASGI: answers preflights, and adds the CORS headers to actual answers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope) if scope["type"] == "http" else None
        origin = headers.get("origin") if headers is not None else None
        if headers is None or origin is None:
            await self.app(scope, receive, send)
            return
        directory: OriginDirectory | None = getattr(scope["app"].state, "origins", None)
        if directory is None:  # no lifespan ran: nothing is allowed
            await self.app(scope, receive, send)
            return
        if _is_preflight(scope, headers):
            response = await self._preflight(directory, origin)
            await response(scope, receive, send)
            return
        scope.setdefault("state", {})  # where the GraphQL view leaves its context

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer = MutableHeaders(scope=message)
                answer.add_vary_header("Origin")
                if await self._allowed(directory, origin, scope, headers):
                    answer["Access-Control-Allow-Origin"] = origin
                    answer["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
            await send(message)

        await self.app(scope, receive, send_with_cors)

    async def _preflight(self, directory: OriginDirectory, origin: str) -> Response:
        try:
            listed = (await directory.origins()).listed(origin)
        except RedscarfError:
            return refusal_response(OriginsUnavailable(headers={"Vary": "Origin"}), JSON)
        if not listed:
            return refusal_response(OriginNotAllowed(headers={"Vary": "Origin"}), JSON)
        return Response(
            status_code=204,
            headers={
                "Access-Control-Allow-Origin": origin,
                "Access-Control-Allow-Methods": ALLOWED_METHODS,
                "Access-Control-Allow-Headers": ALLOWED_HEADERS,
                "Access-Control-Max-Age": str(PREFLIGHT_MAX_AGE),
                "Vary": "Origin",
            },
        )

    async def _allowed(
        self, directory: OriginDirectory, origin: str, scope: Scope, headers: Headers
    ) -> bool:
        try:
            origins = await directory.origins()
            if not origins.listed(origin):
                return False  # no county lists it: nothing to look up
            county = await self._routed_county(scope, headers)
        except RedscarfError:
            return False
        return county is not None and origins.listed(origin, county)

    async def _routed_county(self, scope: Scope, headers: Headers) -> str | None:
        route = route_from_header(headers.get(COUNTY_HEADER))
        if route.code is not None or route.error is not None:
            return route.code
        context = scope["state"].get(GRAPHQL_CONTEXT)
        if context is not None:
            principal = await context.principal()  # already authenticated: no query
        elif {"authorization", "x-api-key"} & set(headers.keys()):
            client = scope.get("client")
            principal = await scope["app"].state.services.authenticator.authenticate(
                headers, client[0] if client else None
            )
        else:
            return None
        return _single_county(principal)
