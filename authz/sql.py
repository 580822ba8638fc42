"""A list scope as a SQL predicate: `path <@ scope` for each subtree, or'ed with the
relations (a guardian's verified bindings, a partner's own objects) the caller supplies."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, cast, false, or_, true

from authz.enforcer import ListScope
from domain.types import LTree


def scope_predicate(
    scope: ListScope,
    path: ColumnElement[Any],
    *,
    bound: ColumnElement[bool] | None = None,
    own: ColumnElement[bool] | None = None,
) -> ColumnElement[bool]:
    if scope.everything:
        return true()
    clauses: list[ColumnElement[bool]] = [path.op("<@")(cast(p, LTree)) for p in scope.paths]
    if scope.bound and bound is not None:
        clauses.append(bound)
    if scope.own and own is not None:
        clauses.append(own)
    return or_(*clauses) if clauses else false()
