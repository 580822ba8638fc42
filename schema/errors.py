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
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import MaskErrors
from strawberry.schema import Schema
from strawberry.types import ExecutionContext

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
