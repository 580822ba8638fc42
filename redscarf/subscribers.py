"""Who may open a live-updates connection (a WebSocket on `/graphql`), and what it may send.

A browser cannot set headers on a WebSocket, so a subscriber sends them in its
`connection_init` payload: `{"Authorization": "Bearer <token>", "X-County": "522731"}` (an
API key as `X-API-Key`). The connection is accepted only for a caller who signs in with them;
otherwise it is closed with code 4403 before any operation. A page on another origin must be
one the county lists among its allowed origins, as for HTTP (CORS).

Over the WebSocket only subscriptions run: queries and mutations go over HTTP, where the
request limits, batching rules and status codes apply; a subscription sent over HTTP is
refused with a pointer to the WebSocket.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError, OperationDefinitionNode, OperationType, ValidationRule
from starlette.websockets import WebSocket
from strawberry.exceptions import ConnectionRejectionError
from strawberry.extensions import SchemaExtension
from strawberry.http.websocket_origin import is_same_origin

from redscarf.cors import OriginDirectory, OriginNotAllowed
from redscarf.errors import RedscarfError, Unauthenticated
from tenants.routing import COUNTY_HEADER, route_from_header


async def accept_subscriber(context: Any) -> dict[str, object]:
    """The `connection_ack` payload for a caller who signed in; `ConnectionRejectionError`
    (close 4403) otherwise."""
    websocket: WebSocket = context.request
    headers = context.headers  # the payload's, over the handshake's
    if COUNTY_HEADER in headers:
        websocket.scope.setdefault("state", {})["county_route"] = route_from_header(
            headers[COUNTY_HEADER]
        )
    try:
        principal = await context.principal()
        if not principal.authenticated:
            raise Unauthenticated("请在 connection_init 中提供 Authorization（Bearer 令牌）")
        await _check_origin(context)
    except RedscarfError as exc:
        raise ConnectionRejectionError({"code": exc.code, "message": exc.message}) from None
    return {"viewer": principal.name}


async def _check_origin(context: Any) -> None:
    """A cross-origin page must be on one of the routed county's allowed origins."""
    websocket: WebSocket = context.request
    origin = websocket.headers.get("origin")
    if origin is None or is_same_origin(origin, websocket.headers.get("host")):
        return
    directory: OriginDirectory = websocket.app.state.origins
    county = (await context.tenant()).code
    if not (await directory.origins()).listed(origin, county):
        raise OriginNotAllowed()


class OnlySubscriptions(ValidationRule):
    def enter_operation_definition(self, node: OperationDefinitionNode, *_args: Any) -> None:
        if node.operation != OperationType.SUBSCRIPTION:
            self.report_error(
                GraphQLError(
                    "WebSocket 只用于订阅（subscription）；查询和变更请用 HTTP POST /graphql",
                    node,
                    extensions={"code": "SUBSCRIPTIONS_ONLY"},
                )
            )


class NoSubscriptions(ValidationRule):
    def enter_operation_definition(self, node: OperationDefinitionNode, *_args: Any) -> None:
        if node.operation == OperationType.SUBSCRIPTION:
            self.report_error(
                GraphQLError(
                    "订阅须经 WebSocket（graphql-transport-ws 协议）连接 /graphql",
                    node,
                    extensions={"code": "SUBSCRIPTION_OVER_HTTP"},
                )
            )


class TransportRules(SchemaExtension):
    """Subscriptions over WebSocket only, and nothing else over it. In-process execution
    (no request) may run anything."""

    def on_operation(self) -> Iterator[None]:
        request = getattr(self.execution_context.context, "request", None)
        if request is not None:
            rule = OnlySubscriptions if isinstance(request, WebSocket) else NoSubscriptions
            rules = self.execution_context.validation_rules
            self.execution_context.validation_rules = (*rules, rule)
        yield
