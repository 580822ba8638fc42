"""Limits on what one request may ask, and a budget of cost points per client and window.

`QueryLimits` (a schema extension, one instance per request) refuses before anything is
resolved, each refusal a GraphQL error with a stable `extensions.code` and a Chinese message
(docs/architecture.md, "Limits"):

- while parsing: more than `max_tokens` tokens (`TOO_MANY_TOKENS`, graphql-core stops reading);
- before validation, on the document alone (`schema.cost.measure`): too deep
  (`QUERY_TOO_DEEP`), too many aliases (`TOO_MANY_ALIASES`), too wide (`QUERY_TOO_WIDE`),
  fragments counted each time they are spread;
- after validation, with the variables: the cost (`schema.cost.query_cost`) over
  `REDSCARF_MAX_QUERY_COST` (`QUERY_TOO_COSTLY`), or over what is left of the caller's budget
  (`RATE_LIMITED`, HTTP 429 and `Retry-After`).

It runs graphql-core's validation itself (as strawberry's `ValidationCache` does), so that the
cheap checks come first and a refused document is never validated; a `ValidationCache` would
have to come before it in the schema's extensions.

A document that passed the checks before validation and validation itself is remembered by its
text and the validation rules of the request (`_KNOWN`): the next request with the
same text is neither parsed, measured nor validated again (a frontend sends the same few
operations over and over; they took about 3 ms of a 20 ms roster page). Its cost is counted
every time, since it depends on the variables. Refused documents are not remembered, so a
client cannot fill the cache with them.

Every answer carries `X-RateLimit-*` headers. The counters are kept in the process
(`InProcessBudget`): with several server processes each counts its own requests, so a client
may spend its budget once per process. `Budget` is the interface another store (Redis) would
implement.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Hashable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLSyntaxError,
    OperationDefinitionNode,
    get_operation_ast,
)
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.responses import Response
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from authz.principal import PrincipalKind
from redscarf.errors import RedscarfError
from schema.cost import fragments_of, measure, query_cost
from schema.lru import LRU


class LimitSettings(BaseSettings):
    """The cost limit and the budgets, from `REDSCARF_*` (read once per process)."""

    model_config = SettingsConfigDict(env_prefix="REDSCARF_", env_file=".env", extra="ignore")

    max_query_cost: int = Field(default=25_000, ge=1)
    """Most cost points one request may have."""
    rate_limit_points: int = Field(default=50_000, ge=0)
    """Cost points each client may spend per window; 0 turns budgets off."""
    rate_limit_window_s: int = Field(default=60, ge=1)
    rate_limit_clients: int = Field(default=100_000, ge=1)
    """Clients whose windows are kept; beyond, the oldest window is forgotten."""


@lru_cache(maxsize=1)
def limit_settings() -> LimitSettings:
    return LimitSettings()


# --- budgets --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Usage:
    """A client's window as it stands after a request."""

    limit: int
    used: int
    reset: float
    """When the window ends (epoch seconds)."""
    now: float
    allowed: bool = True
    """False when the request was refused (and nothing was charged)."""

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)

    @property
    def retry_after(self) -> int:
        return max(math.ceil(self.reset - self.now), 1)


class Budget(Protocol):
    """Points per client and fixed window. Each call is atomic."""

    def usage(self, client: str) -> Usage:
        """The client's window, charging nothing."""
        ...

    def spend(self, client: str, points: int) -> Usage:
        """Charge `points` if that many are left; otherwise refuse (`allowed` False)."""
        ...


@dataclass(slots=True)
class _Window:
    start: float
    used: int


class InProcessBudget:
    """Windows in a dict kept in order of their start, so that ended ones are found first and
    the dict never holds more than `max_clients`. A lock (no awaiting inside) makes it safe
    for the event loop and for threads alike."""

    def __init__(
        self,
        points: int,
        window_s: float,
        max_clients: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.points = points
        self.window_s = window_s
        self.max_clients = max_clients
        self._clock = clock
        self._windows: OrderedDict[str, _Window] = OrderedDict()
        self._lock = threading.Lock()

    def usage(self, client: str) -> Usage:
        with self._lock:
            now = self._clock()
            window = self._current(client, now)
            if window is None:
                return Usage(self.points, 0, now + self.window_s, now)
            return Usage(self.points, window.used, window.start + self.window_s, now)

    def spend(self, client: str, points: int) -> Usage:
        with self._lock:
            now = self._clock()
            window = self._current(client, now)
            if window is None:
                self._make_room(now)
                window = self._windows[client] = _Window(now, 0)
            allowed = window.used + points <= self.points
            if allowed:
                window.used += points
            return Usage(self.points, window.used, window.start + self.window_s, now, allowed)

    def _current(self, client: str, now: float) -> _Window | None:
        window = self._windows.get(client)
        if window is not None and now >= window.start + self.window_s:
            del self._windows[client]
            return None
        return window

    def _make_room(self, now: float) -> None:
        while self._windows:
            oldest = next(iter(self._windows.values()))
            if now < oldest.start + self.window_s and len(self._windows) < self.max_clients:
                return
            self._windows.popitem(last=False)


@dataclass(frozen=True)
class Limits:
    """What an app enforces: `app.state.query_limits`, made from `LimitSettings` on the
    first request (a test sets its own before)."""

    max_query_cost: int
    budget: Budget | None
    window_s: int

    @classmethod
    def from_settings(
        cls, settings: LimitSettings, clock: Callable[[], float] = time.time
    ) -> Limits:
        budget = (
            InProcessBudget(
                settings.rate_limit_points,
                settings.rate_limit_window_s,
                settings.rate_limit_clients,
                clock,
            )
            if settings.rate_limit_points
            else None
        )
        return cls(settings.max_query_cost, budget, settings.rate_limit_window_s)


_limits_lock = threading.Lock()


def limits_of(context: Any) -> Limits:
    request = getattr(context, "request", None)
    app = request.scope.get("app") if request is not None else None
    if app is None:
        return _process_limits()
    with _limits_lock:
        limits: Limits | None = getattr(app.state, "query_limits", None)
        if limits is None:
            limits = app.state.query_limits = Limits.from_settings(limit_settings())
    return limits


@lru_cache(maxsize=1)
def _process_limits() -> Limits:
    return Limits.from_settings(limit_settings())


async def client_of(context: Any) -> str | None:
    """Whose budget a request spends: the signed-in user's, the API key's, the operator's,
    else the address the request came from (behind a proxy, run uvicorn with
    `--forwarded-allow-ips` so that this is the caller's, not the proxy's)."""
    if getattr(context, "signed_in", False):
        principal = await context.principal()
        if principal.kind in (PrincipalKind.USER, PrincipalKind.API_KEY):
            return f"{principal.kind.value}:{principal.id}"
        return str(principal.kind.value)
    request = getattr(context, "request", None)
    if request is None:
        return None
    return f"ip:{request.client.host if request.client else '-'}"


# --- documents known to be valid ------------------------------------------------------------

KNOWN_DOCUMENTS = 500
KNOWN_TEXT_CHARS = 20_000
"""Longer texts are not remembered: at most about 10 MB of documents for the process."""


# Parsed documents that passed every check before execution, by (query text, what the checks
# depended on).
_KNOWN: LRU[Hashable, DocumentNode] = LRU(KNOWN_DOCUMENTS)


# --- refusals -------------------------------------------------------------------------------


class QueryTooDeep(RedscarfError):
    code = "QUERY_TOO_DEEP"
    message = "查询嵌套过深"


class TooManyAliases(RedscarfError):
    code = "TOO_MANY_ALIASES"
    message = "查询的别名过多"


class QueryTooWide(RedscarfError):
    code = "QUERY_TOO_WIDE"
    message = "查询的字段过多"


class TooManyTokens(RedscarfError):
    code = "TOO_MANY_TOKENS"
    message = "查询过长"


class QueryTooCostly(RedscarfError):
    code = "QUERY_TOO_COSTLY"
    message = "查询代价过高"


class RateLimited(RedscarfError):
    code = "RATE_LIMITED"
    message = "调用过于频繁，请稍后再试"


def _refusal(error: RedscarfError, node: OperationDefinitionNode | None = None) -> GraphQLError:
    return GraphQLError(error.message, nodes=node, original_error=error)


def parse_refusal(error: GraphQLError) -> RedscarfError | None:
    """The limit graphql-core's parser enforced (its messages are in English), or None for
    any other error."""
    if not isinstance(error, GraphQLSyntaxError):
        return None
    message = error.message
    if "Document contains more than" in message and "tokens" in message:
        limit = message.split("more than", 1)[1].split()[0]
        return TooManyTokens(f"查询过长：超过 {limit} 个词法单元（token）")
    if "nested too deeply" in message:
        return QueryTooDeep("查询嵌套过深，无法解析")
    return None


class QueryLimits(SchemaExtension):
    """Pass it as a factory (`partial(QueryLimits, ...)`): it keeps the request's state."""

    def __init__(
        self,
        *,
        max_depth: int,
        max_aliases: int,
        max_tokens: int,
        max_fields: int,
        max_repeats: int,
    ) -> None:
        self.max_depth = max_depth
        self.max_aliases = max_aliases
        self.max_tokens = max_tokens
        self.max_fields = max_fields
        self.max_repeats = max_repeats
        self._limits: Limits | None = None
        self._client: str | None = None
        self._usage: Usage | None = None
        self._charged = 0
        self._limited = False

    def _known_key(self) -> Hashable | None:
        """What a remembered document is found by: its text, the schema, the validation rules
        (an anonymous caller's include `NoIntrospection`) and these limits."""
        execution = self.execution_context
        query = execution.query
        if not query or len(query) > KNOWN_TEXT_CHARS:
            return None
        return (
            query,
            execution.schema._schema,
            tuple(execution.validation_rules),
            self.max_depth,
            self.max_aliases,
            self.max_tokens,
            self.max_fields,
            self.max_repeats,
        )

    async def on_operation(self) -> AsyncIterator[None]:
        context = self.execution_context.context
        self.execution_context.parse_options["max_tokens"] = self.max_tokens
        self._limits = limits_of(context)
        self._client = await client_of(context)
        yield
        budget = self._limits.budget
        if budget is None or self._client is None:
            return
        if self._usage is None:  # refused before its cost was known, or not valid: one point
            self._usage = budget.spend(self._client, 1)
            self._charged = 1 if self._usage.allowed else 0
        self._answer(context, self._usage)

    def on_parse(self) -> Iterator[None]:
        key = self._known_key()
        known = _KNOWN.get(key) if key is not None else None
        if known is not None:
            self.execution_context.graphql_document = known  # strawberry then parses nothing
        yield

    def on_validate(self) -> Iterator[None]:
        self.execution_context.pre_execution_errors = self._check()
        yield

    def _check(self) -> list[GraphQLError]:
        execution = self.execution_context
        assert self._limits is not None
        assert execution.graphql_document is not None
        budget = self._limits.budget
        if budget is not None and self._client is not None:
            usage = budget.usage(self._client)
            if usage.remaining < 1:
                return [self._rate_limited(usage, None)]

        document = execution.graphql_document
        schema = execution.schema._schema
        fragments = fragments_of(document)
        key = self._known_key()
        if key is None or _KNOWN.get(key) is not document:
            refusals = [
                refusal
                for definition in document.definitions
                if isinstance(definition, OperationDefinitionNode)
                for refusal in self._shape_refusals(definition, fragments)
            ]
            if refusals:
                return refusals
            errors = execution.pre_execution_errors  # None unless an extension validated already
            if errors is None:
                errors = validate_document(schema, document, execution.validation_rules)
            if errors:
                return list(errors)
            if key is not None:
                _KNOWN.put(key, document)

        operation = get_operation_ast(document, execution.operation_name)
        if operation is None:
            return []  # execution says which operation is missing
        cost = query_cost(schema, operation, fragments, execution.variables)
        if cost > self._limits.max_query_cost:
            return [
                _refusal(
                    QueryTooCostly(
                        f"查询代价 {cost} 点，超过每次 {self._limits.max_query_cost} 点的上限；"
                        "请减小每页条数（first）或少嵌套列表"
                    ),
                    operation,
                )
            ]
        if budget is not None and self._client is not None:
            points = max(cost, 1)
            usage = budget.spend(self._client, points)
            if not usage.allowed:
                return [self._rate_limited(usage, points)]
            self._usage, self._charged = usage, points
        return []

    def _shape_refusals(
        self, operation: OperationDefinitionNode, fragments: Any
    ) -> list[GraphQLError]:
        shape = measure(operation, fragments, max_fields=self.max_fields)
        found: list[RedscarfError] = []
        if shape.depth > self.max_depth:
            found.append(QueryTooDeep(f"查询嵌套 {shape.depth} 层，最多 {self.max_depth} 层"))
        if shape.aliases > self.max_aliases:
            found.append(
                TooManyAliases(
                    f"查询用了 {shape.aliases} 个别名（片段中的按每次展开计），"
                    f"最多 {self.max_aliases} 个"
                )
            )
        if not shape.complete or shape.fields > self.max_fields:
            found.append(QueryTooWide(f"查询过宽：展开片段后超过 {self.max_fields} 个字段"))
        elif shape.repeated > self.max_repeats:
            found.append(
                QueryTooWide(
                    f"字段 {shape.repeated_at} 被重复选择 {shape.repeated} 次"
                    f"（片段中的按每次展开计），最多 {self.max_repeats} 次"
                )
            )
        return [_refusal(error, operation) for error in found]

    def _rate_limited(self, usage: Usage, cost: int | None) -> GraphQLError:
        """`cost` None: the budget was spent before this request was read."""
        assert self._limits is not None
        self._usage, self._limited = usage, True
        needed = "" if cost is None else f"，本次需要 {cost} 点"
        return _refusal(
            RateLimited(
                f"调用过于频繁：每 {self._limits.window_s} 秒 {usage.limit} 点的额度已用 {usage.used} 点"
                f"{needed}；请 {usage.retry_after} 秒后再试"
            )
        )

    def _answer(self, context: Any, usage: Usage) -> None:
        """The headers of a GraphQL answer; the status and `Retry-After` of a refused one."""
        response = getattr(context, "response", None)
        if not isinstance(response, Response):
            return  # a websocket: no headers to send
        headers = response.headers
        headers["X-RateLimit-Limit"] = str(usage.limit)
        headers["X-RateLimit-Remaining"] = str(usage.remaining)
        headers["X-RateLimit-Used"] = str(usage.used)
        headers["X-RateLimit-Reset"] = str(math.ceil(usage.reset))
        headers["X-RateLimit-Cost"] = str(self._charged)
        if self._limited:
            response.status_code = 429
            headers["Retry-After"] = str(usage.retry_after)
