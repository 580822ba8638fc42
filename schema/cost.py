"""What a query asks for, measured on its document before anything runs.

`measure` reads the parsed document alone, before validation, so it has to be cheap and safe
on anything the parser accepts (unknown fields, fragment cycles): the depth, the aliases, the
fields and the most selections that merge into one response field, fragments counted each
time they are spread. It walks the operation with its fragments expanded, and stops as soon
as the walk grows past its budget, so a chain or a doubling of fragments costs no more than a
flat query of the allowed width. The width bound is what keeps graphql-core's validation
quick: comparing the selections merged into one response field (`OverlappingFieldsCanBeMerged`)
takes time in the square of their number (400 copies of one field: about a second).

`query_cost` reads a validated operation with the schema and the request's variables (see
docs/architecture.md, "Limits"): every field whose type is an object costs one for each time
it may be resolved; a list multiplies what is selected inside it by its length, taken from
`first`/`last`/`limit` or `ids`, else (a connection's `edges` and `nodes`) from the page size of
the connection, else `UNPAGED_LIST` (a list without a page size, like `Unit.children`). Scalars
and enums cost nothing; introspection (`__schema`, `__type`, `__typename`) costs nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_leaf_type,
)

from resolvers.paging import DEFAULT_PAGE, MAX_PAGE

UNPAGED_LIST = 10
"""The length assumed for a list field without a page size (a unit's children, a pupil's
badges): a county's lists of that kind are mostly shorter."""

PAGE_ARGUMENTS = ("first", "last", "limit")


@dataclass(frozen=True)
class Shape:
    """An operation with its fragments expanded where they are spread."""

    depth: int
    """Fields on the longest path, the leaf included (`{ county { name } }` is 2); inside
    introspection nothing counts (graphql-core's own rule bounds that)."""
    aliases: int
    fields: int
    repeated: int
    """The most field selections that merge into one response field."""
    repeated_at: str
    """That response field's path, e.g. `unit.children.name`."""
    complete: bool
    """False when the walk stopped at its budget: every figure is then a lower bound."""


def fragments_of(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }


def measure(
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    *,
    max_fields: int,
) -> Shape:
    """The shape of `operation`; the walk ends once it has seen more than `max_fields` fields
    or three times as many selections (spreads and inline fragments included)."""
    budget = 3 * max_fields
    depth = aliases = fields = 0
    merged: Counter[tuple[str, ...]] = Counter()
    # (selections, response path, depth so far or None inside introspection, fragments on
    # the way: a spread of one of them closes a cycle, which validation refuses later)
    stack: list[tuple[SelectionSetNode, tuple[str, ...], int | None, frozenset[str]]] = [
        (operation.selection_set, (), 0, frozenset())
    ]
    while stack:
        selection_set, path, level, via = stack.pop()
        for selection in selection_set.selections:
            budget -= 1
            if isinstance(selection, FieldNode):
                fields += 1
                if selection.alias is not None:
                    aliases += 1
                name = selection.name.value
                here = (*path, (selection.alias or selection.name).value)
                merged[here] += 1
                deeper = None if level is None or name.startswith("__") else level + 1
                if deeper is not None:
                    depth = max(depth, deeper)
                if selection.selection_set is not None:
                    stack.append((selection.selection_set, here, deeper, via))
            elif isinstance(selection, InlineFragmentNode):
                stack.append((selection.selection_set, path, level, via))
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = fragments.get(name)
                if fragment is not None and name not in via:
                    stack.append((fragment.selection_set, path, level, via | {name}))
            if fields > max_fields or budget < 0:
                return _shape(depth, aliases, fields, merged, complete=False)
    return _shape(depth, aliases, fields, merged, complete=True)


def _shape(
    depth: int, aliases: int, fields: int, merged: Counter[tuple[str, ...]], *, complete: bool
) -> Shape:
    path, repeated = merged.most_common(1)[0] if merged else ((), 0)
    return Shape(depth, aliases, fields, repeated, ".".join(path), complete)


def query_cost(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any] | None,
) -> int:
    """The cost of a validated operation whose `measure` was complete (so the walk over its
    expanded fragments is bounded)."""
    root = schema.get_root_type(operation.operation)
    if root is None:
        return 0
    values = _variable_values(operation, variables or {})
    total = 0
    # (selections, their type, times they may be resolved, the page size that a list
    # directly inside applies: a connection's `edges` and `nodes`)
    stack: list[tuple[SelectionSetNode, GraphQLNamedType, int, int | None]] = [
        (operation.selection_set, root, 1, None)
    ]
    while stack:
        selection_set, parent, times, page = stack.pop()
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                if selection.selection_set is None or selection.name.value.startswith("__"):
                    continue
                if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
                    continue
                field = parent.fields.get(selection.name.value)
                if field is None or is_leaf_type(get_named_type(field.type)):
                    continue
                total += times
                size = _page_size(selection, field.args, values)
                if isinstance(get_nullable_type(field.type), GraphQLList):
                    length = size if size is not None else page
                    inner = times * (UNPAGED_LIST if length is None else length)
                    stack.append((selection.selection_set, get_named_type(field.type), inner, None))
                else:
                    stack.append((selection.selection_set, get_named_type(field.type), times, size))
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                typed = schema.get_type(condition.name.value) if condition else parent
                stack.append((selection.selection_set, typed or parent, times, page))
            elif isinstance(selection, FragmentSpreadNode):
                fragment = fragments.get(selection.name.value)
                if fragment is not None:
                    typed = schema.get_type(fragment.type_condition.name.value)
                    stack.append((fragment.selection_set, typed or parent, times, page))
    return total


def _variable_values(
    operation: OperationDefinitionNode, variables: Mapping[str, Any]
) -> dict[str, Any]:
    """The variables sent, and the operation's defaults for those not sent."""
    values: dict[str, Any] = {}
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        if name in variables:
            values[name] = variables[name]
        elif isinstance(definition.default_value, IntValueNode):
            values[name] = int(definition.default_value.value)
        elif isinstance(definition.default_value, ListValueNode):
            values[name] = list(definition.default_value.values)
    return values


def _page_size(field: FieldNode, args: Mapping[str, Any], values: Mapping[str, Any]) -> int | None:
    """How many items the field may return, when it takes a page size or a list of IDs;
    None when it takes neither. A value that is not known (yet) counts as a full page."""
    given = {argument.name.value: argument.value for argument in field.arguments or ()}

    def value_of(name: str) -> Any:
        value = given.get(name)
        if isinstance(value, VariableNode):
            return values.get(value.name.value)
        if isinstance(value, IntValueNode):
            return int(value.value)
        if isinstance(value, ListValueNode):
            return value.values
        return value

    sizes: list[int] = []
    for name in PAGE_ARGUMENTS:
        if name in args:
            size = value_of(name)
            if size is None:
                size = args[name].default_value
            if size is None and name in ("first", "last"):
                continue  # not given: the page is `first`'s or `last`'s, else the default
            sizes.append(min(max(size, 0), MAX_PAGE) if type(size) is int else MAX_PAGE)
    if not sizes and "first" in args:
        sizes.append(DEFAULT_PAGE)
    if "ids" in args:
        ids = value_of("ids")
        sizes.append(min(len(ids), MAX_PAGE) if isinstance(ids, list | tuple) else 1)
    return max(sizes) if sizes else None
