"""GraphQL over HTTP, and what keeps one client from taking `/graphql` down.

What a client meets, in order (https://graphql.github.io/graphql-over-http/):

1. `GraphQLGuard` (ASGI middleware, `/graphql` only): GET and POST only (405); a POST's body
   must be `application/json` (415), at most `max_body_bytes` (413, refused from its
   `Content-Length` or as the bytes arrive, never read in full), and arrive within
   `body_timeout_s` (408). The body is then handed on from memory. Anything that escapes the
   application before it answered becomes a JSON 500, never a traceback.
2. `GraphQLOverHTTP` (the strawberry view): JSON that does not parse (400 `INVALID_JSON`), a
   list (400 `BATCHING_DISABLED`: batching stays off, so one request is one operation and no
   sign-in, one-time code or redemption can ride in a batch), a mutation by GET (405,
   `Allow: POST`); an operation running past `request_timeout_s` is cancelled (`TIMEOUT`).
   `Accept: application/graphql-response+json` gets that media type and the specification's
   status codes: 400 for a request that fails to parse or validate, 504 for `TIMEOUT`, 200
   once execution started. Plain `application/json` keeps 200 for every GraphQL error.
3. `IntrospectionGate` (a schema extension): anonymous callers get no `__schema`/`__type`
   (`INTROSPECTION_DISABLED`, a validation error) unless `anonymous_introspection` is set.

Every refusal is `{"errors": [{"message": <Chinese>, "extensions": {"code": <CODE>}}]}`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from collections.abc import Iterator, Mapping
from typing import Any, TypeVar

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError, ValidationRule
from graphql.language import FieldNode
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.exceptions import MissingQueryError
from strawberry.extensions import SchemaExtension
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData, GraphQLRequestProtocol
from strawberry.http.ides import GraphQL_IDE
from strawberry.http.parse_content_type import parse_content_type
from strawberry.schema.base import BaseSchema
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError

from redscarf.errors import RedscarfError
from redscarf.settings import Settings

log = logging.getLogger("redscarf.http")

GRAPHQL_PATH = "/graphql"
JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"
INTERNAL_CODE = RedscarfError.code


# --- refusals --------------------------------------------------------------------------------


CONNECTION_INIT_TIMEOUT_S = 10
"""Seconds a new live-updates connection has to send `connection_init`."""


class HttpRefusal(RedscarfError):
    """A request refused before (or instead of) GraphQL execution, with its HTTP status."""

    code = "BAD_REQUEST"
    message = "请求无效"
    status = 400

    def __init__(self, message: str | None = None, **kw: Any) -> None:
        self.headers: dict[str, str] = kw.pop("headers", {})
        super().__init__(message, **kw)


class MethodNotAllowed(HttpRefusal):
    code = "METHOD_NOT_ALLOWED"
    message = "GraphQL 接口只接受 GET（查询）和 POST 请求"
    status = 405


class UnsupportedMediaType(HttpRefusal):
    code = "UNSUPPORTED_MEDIA_TYPE"
    message = "请求体须为 JSON：Content-Type: application/json"
    status = 415


class BodyTooLarge(HttpRefusal):
    code = "BODY_TOO_LARGE"
    message = "请求体太大"
    status = 413


class RequestTimeout(HttpRefusal):
    code = "REQUEST_TIMEOUT"
    message = "请求体发送太慢，已断开"
    status = 408


class InvalidJson(HttpRefusal):
    code = "INVALID_JSON"
    message = "请求不是有效的 JSON"


class BatchingDisabled(HttpRefusal):
    code = "BATCHING_DISABLED"
    message = "不支持批量请求：每个请求只能包含一个操作"


class InvalidRequest(HttpRefusal):
    code = "INVALID_REQUEST"
    message = '请求体应为 JSON 对象：{"query": 字符串, "variables": 对象, "operationName": 字符串}'


class QueryMissing(HttpRefusal):
    code = "QUERY_MISSING"
    message = "请求中没有 GraphQL 查询（query）"


class OperationNotFound(HttpRefusal):
    code = "OPERATION_NOT_FOUND"
    message = "文档中没有 operationName 指明的操作"


class Internal(HttpRefusal):
    code = INTERNAL_CODE
    message = RedscarfError.message
    status = 500


def media_type_for(accept: str | None) -> str:
    """The response's media type for an `Accept` header: `application/graphql-response+json`
    when the client ranks it highest, else `application/json` (also when it accepts neither:
    the specification's second choice, so a browser opening the URL still reads the answer)."""
    ranked: list[tuple[float, int, str]] = []
    for part in (accept or "").split(","):
        media, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        media = media.lower()
        if quality <= 0:
            continue
        if media == GRAPHQL_RESPONSE:
            ranked.append((quality, 2, GRAPHQL_RESPONSE))
        elif media == JSON:
            ranked.append((quality, 1, JSON))
        elif media in ("*/*", "application/*"):
            ranked.append((quality, 0, JSON))
    return max(ranked)[2] if ranked else JSON


def content_type_of(media: str) -> str:
    return f"{GRAPHQL_RESPONSE}; charset=utf-8" if media == GRAPHQL_RESPONSE else JSON


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


def refusal_response(exc: HttpRefusal, media: str) -> Response:
    headers = dict(exc.headers)
    if exc.status in (408, 413):
        # The rest of the body is never read: the connection cannot carry another request.
        headers["Connection"] = "close"
    return Response(
        json.dumps(error_body(exc.code, exc.message), ensure_ascii=False),
        status_code=exc.status,
        headers=headers,
        media_type=content_type_of(media),
    )


# --- the middleware: method, media type, size and pace of the body ---------------------------


class ClientGone(Exception):
    """The client disconnected while sending its body: nobody is left to answer."""


class GraphQLGuard:
    """Checks a request to `/graphql` before the application reads it (plain ASGI)."""

    def __init__(self, app: ASGIApp, *, settings: Settings, path: str = GRAPHQL_PATH) -> None:
        self.app = app
        self.path = path
        self.limit = settings.max_body_bytes
        self.body_timeout = settings.body_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in (
            self.path,
            scope.get("root_path", "") + self.path,
        ):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        media = media_type_for(headers.get("accept"))
        try:
            replay = await self._checked_body(scope["method"], headers, receive)
        except HttpRefusal as exc:
            if isinstance(exc, RequestTimeout | BodyTooLarge):
                log.info("request to %s refused: %s", self.path, exc.code)
            await refusal_response(exc, media)(scope, receive, send)
            return
        except ClientGone:
            return
        await self._answer(scope, replay or receive, send, media)

    async def _checked_body(
        self, method: str, headers: Headers, receive: Receive
    ) -> Receive | None:
        """None for a GET; for a POST, a `receive` that hands on the body read here."""
        if method == "GET":
            return None
        if method != "POST":
            raise MethodNotAllowed(headers={"Allow": "GET, POST"})
        content_type, _ = parse_content_type(headers.get("content-type", ""))
        if content_type != JSON:
            raise UnsupportedMediaType()
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.limit:
            raise self._too_large()
        body = await self._read(receive)
        handed = False

        async def replay() -> Message:
            nonlocal handed
            if handed:
                return await receive()  # what follows the body: the client's disconnect
            handed = True
            return {"type": "http.request", "body": body, "more_body": False}

        return replay

    def _too_large(self) -> BodyTooLarge:
        return BodyTooLarge(f"请求体超过 {self.limit} 字节（{self.limit // 1024} KB）")

    async def _read(self, receive: Receive) -> bytes:
        """The whole body, counted as it arrives; refused once past the limit or too slow."""
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self.body_timeout):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        raise ClientGone()
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > self.limit:
                        raise self._too_large()
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        return b"".join(chunks)
        except TimeoutError:
            raise RequestTimeout(f"请求体在 {self.body_timeout:g} 秒内没有发送完，已断开") from None

    async def _answer(self, scope: Scope, receive: Receive, send: Send, media: str) -> None:
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception:
            if started:
                raise
            log.exception("GraphQL request failed before it was answered")
            await refusal_response(Internal(), media)(scope, receive, send)


# --- the view: parsing, status codes, the request's time limit -------------------------------

C = TypeVar("C")


class GraphQLOverHTTP(GraphQL[C, None]):
    """Strawberry's ASGI view with the specification's refusals, status codes and media
    types, and a time limit on each request."""

    def __init__(
        self,
        schema: BaseSchema,
        *,
        request_timeout_s: float,
        graphql_ide: GraphQL_IDE | None = None,
    ) -> None:
        super().__init__(
            schema,
            graphql_ide=graphql_ide,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=dt.timedelta(seconds=CONNECTION_INIT_TIMEOUT_S),
            # Counted by `resolvers.live` instead, with a code and a message in Chinese.
            max_subscriptions_per_connection=None,
            # Every origin may open the socket: a subscriber carries its credentials in its
            # `connection_init` payload (nothing ambient to abuse), and its county's allowed
            # origins are checked once it is known (`redscarf.subscribers`).
            allowed_origins=("*",),
        )
        self.request_timeout_s = request_timeout_s

    def should_render_graphql_ide(self, request: Any) -> bool:
        # A GET that names a persisted query by hash has no `query`, and is no visit to the IDE.
        return super().should_render_graphql_ide(request) and (
            "extensions" not in request.query_params
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        media = media_type_for(request.headers.get("accept"))
        try:
            # asyncio's timeout cancels once (anyio's cancel scopes cancel again at every
            # await): the cleanup that cancellation starts (psycopg cancelling the statement
            # in the server, the transaction's rollback that drops `SET LOCAL ROLE`) runs to
            # its end, so the connection goes back to the pool as the service's own.
            async with asyncio.timeout(self.request_timeout_s) as deadline:
                response = await self.run(request)
            response = self._as_media(response, request, media)
        except TimeoutError:
            if not deadline.expired():
                raise
            response = self._timed_out(request, media)
        except HttpRefusal as exc:
            response = refusal_response(exc, media)
        except HTTPException as exc:  # strawberry's own (its English reason is not shown)
            refusal = (
                MethodNotAllowed(headers={"Allow": "GET, POST"})
                if exc.status_code == 405
                else HttpRefusal()
            )
            response = refusal_response(refusal, media)
        await response(scope, receive, send)

    def _timed_out(self, request: Request, media: str) -> Response:
        limit = self.request_timeout_s
        client = request.client.host if request.client else "-"
        log.warning("GraphQL request from %s cancelled after %s s", client, limit)
        body = error_body("TIMEOUT", f"请求处理超过 {limit:g} 秒，已取消；请缩小查询范围后重试")
        if media != GRAPHQL_RESPONSE:
            body = {"data": None, **body}
        return Response(
            json.dumps(body, ensure_ascii=False),
            status_code=504 if media == GRAPHQL_RESPONSE else 200,
            media_type=content_type_of(media),
        )

    @staticmethod
    def _as_media(response: Response, request: Request, media: str) -> Response:
        """A GraphQL response under `application/graphql-response+json`: its media type, and
        a request error's status (the GraphiQL page and other answers are left alone)."""
        if media != GRAPHQL_RESPONSE or response.media_type != JSON:
            return response
        response.headers["content-type"] = content_type_of(media)
        status = getattr(request.state, "graphql_request_error", None)
        if status is not None and response.status_code == 200:
            response.status_code = status
        return response

    # --- parsing ---------------------------------------------------------------------------

    def parse_json(self, data: str | bytes) -> Any:
        try:
            return self.decode_json(data)
        except (ValueError, RecursionError):  # bad UTF-8, a 5,000-digit number, [[[[…]]]]
            raise InvalidJson() from None

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        if request.method == "GET":
            data = self.parse_query_params(request.query_params)
        else:
            content_type, _ = parse_content_type(request.content_type or "")
            if content_type != JSON:  # the guard checked it already; kept for other mounts
                raise UnsupportedMediaType()
            data = self.parse_json(await request.get_body())
        if isinstance(data, list):
            raise BatchingDisabled()
        if not isinstance(data, dict):
            raise InvalidRequest()
        transport = self._get_stream_transport_from_headers(request.headers)
        protocol: GraphQLRequestProtocol = transport.protocol if transport else "http"
        return _request_data(data, protocol)

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: C,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        try:
            return await super().execute_single(
                request, request_adapter, sub_response, context, root_value, request_data
            )
        except HTTPException as exc:
            cause = exc.__cause__
            if isinstance(cause, InvalidOperationTypeError) and request_adapter.method == "GET":
                raise MethodNotAllowed(
                    "GET 只能用于查询；变更（mutation）请用 POST", headers={"Allow": "POST"}
                ) from None
            if isinstance(cause, MissingQueryError):
                raise QueryMissing() from None
            if isinstance(cause, CannotGetOperationTypeError):
                raise OperationNotFound() from None
            raise

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        processed = await super().process_result(request, result)
        if isinstance(result, PreExecutionError):
            # A request error (parsing, validation, a limit): execution never started, so
            # there is no `data` (GraphQL over HTTP: 4xx under graphql-response+json).
            internal = any(_code(e) == INTERNAL_CODE for e in processed.get("errors") or [])
            request.state.graphql_request_error = 500 if internal else 400
            if media_type_for(request.headers.get("accept")) == GRAPHQL_RESPONSE:
                processed.pop("data", None)
        return processed


def _code(error: object) -> object:
    return (error.get("extensions") or {}).get("code") if isinstance(error, Mapping) else None


def _request_data(data: dict[str, Any], protocol: GraphQLRequestProtocol) -> GraphQLRequestData:
    query, variables = data.get("query"), data.get("variables")
    operation_name, extensions = data.get("operationName"), data.get("extensions")
    if not isinstance(query, str | None):
        raise InvalidRequest("query 须为字符串")
    if not isinstance(variables, dict | None):
        raise InvalidRequest("variables 须为 JSON 对象")
    if not isinstance(operation_name, str | None):
        raise InvalidRequest("operationName 须为字符串")
    if not isinstance(extensions, dict | None):
        raise InvalidRequest("extensions 须为 JSON 对象")
    return GraphQLRequestData(
        query=query,
        variables=variables,
        operation_name=operation_name,
        extensions=extensions,
        protocol=protocol,
    )


# --- introspection ---------------------------------------------------------------------------


class NoIntrospection(ValidationRule):
    """`__schema` and `__type` refused (once each where asked); `__typename` stays."""

    def enter_field(self, node: FieldNode, *_args: Any) -> None:
        if node.name.value in ("__schema", "__type"):
            self.report_error(
                GraphQLError(
                    "匿名调用不能查询 schema（内省）：请先登录，或使用公布的 schema.graphql",
                    node,
                    extensions={"code": "INTROSPECTION_DISABLED"},
                )
            )


class IntrospectionGate(SchemaExtension):
    """Adds `NoIntrospection` to the validation of an anonymous caller's operation, unless
    the settings allow anonymous introspection. In-process execution (no request) is free."""

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context.context
        services = getattr(context, "services", None)
        if not (
            services is None
            or getattr(context, "signed_in", False)
            or services.settings.anonymous_introspection
        ):
            rules = self.execution_context.validation_rules
            self.execution_context.validation_rules = (*rules, NoIntrospection)
        yield
