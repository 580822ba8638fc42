"""How errors reach clients: a stable `extensions.code` and a Chinese message, nothing else.

A `RedscarfError` raised anywhere in a resolver becomes a GraphQL error with its code and
message. Errors of the GraphQL layer itself (syntax, validation) keep their message; the limits
(`schema.limits`) have their own codes.
Anything else is an internal error: its text (SQL, paths, values) is never sent to the
client, only logged by `RedscarfSchema.process_errors`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import MaskErrors
from strawberry.schema import Schema
from strawberry.types import ExecutionContext
from strawberry.types.execution import PreExecutionError

from redscarf.errors import RedscarfError
from schema.limits import parse_refusal

log = logging.getLogger("redscarf.graphql")

INTERNAL = RedscarfError()
SUGGESTION = re.compile(r"\s*Did you mean .*\?\s*$", re.DOTALL)


def present_error(error: GraphQLError) -> GraphQLError:
    original = error.original_error
    if isinstance(original, RedscarfError):
        message, code = original.message, original.code
    elif original is None:
        message, code = error.message, (error.extensions or {}).get("code", "GRAPHQL_INVALID")
        if (limit := parse_refusal(error)) is not None:  # the parser's limits, in English
            message, code = limit.message, limit.code
    else:
        message, code = INTERNAL.message, INTERNAL.code
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions={"code": code},
    )


class PresentErrors(MaskErrors):
    """Strawberry's `MaskErrors`, turning every error into `present_error`'s shape."""

    def __init__(self) -> None:
        super().__init__(error_message=INTERNAL.message)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        presented = present_error(error)
        context = self.execution_context.context
        if error.original_error is None and not getattr(context, "signed_in", False):
            # No "Did you mean …?" for anonymous callers: field names are no hints to probe.
            presented.message = SUGGESTION.sub("", presented.message)
        return presented


class RedscarfSchema(Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Errors a user caused are answers, not incidents: log only the unexpected ones.
        for error in errors:
            if error.original_error is not None and not isinstance(
                error.original_error, RedscarfError
            ):
                log.error("GraphQL resolver failed", exc_info=error.original_error)

    async def execute(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        result = await super().execute(*args, **kwargs)
        # An extension that refuses an operation before it is parsed (persisted queries, the
        # allow-list) ends it by raising, and so may a failure of what it reads: no extension
        # sees that error, so it is presented here (anything unexpected as INTERNAL_ERROR; it
        # was logged by `process_errors`).
        if getattr(result, "errors", None):
            result.errors = [
                present_error(e) if e.original_error is not None else e for e in result.errors
            ]
        return result

    async def stream(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        # The same for a subscription: strawberry's WebSocket handler would end it with no
        # word (`complete` alone) when an extension raises.
        return _presented(await super().stream(*args, **kwargs))


async def _presented(source: AsyncGenerator[Any, None]) -> AsyncGenerator[Any, None]:
    """A subscription's results, each presented, and none that repeats the one before: a
    subscriber woken by a change it cannot see (a field it did not select, an announcement
    that arrived late) is sent nothing, so every answer it gets is news."""
    last: tuple[Any, Any] | None = None
    try:
        async with aclosing(source):
            async for result in source:
                errors = [e.formatted for e in result.errors or []]
                if (result.data, errors) == last:
                    continue
                last = (result.data, errors)
                yield result
    except Exception as exc:
        if not isinstance(exc, RedscarfError):
            log.error("GraphQL operation failed", exc_info=exc)
        error = GraphQLError(str(exc), original_error=exc)
        yield PreExecutionError(data=None, errors=[present_error(error)])
