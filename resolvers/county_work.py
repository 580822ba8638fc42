"""Domain work of one mutation: one county transaction, with its audit entries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Connection

from domain.audit.service import county_entries
from schema.context import Context

T = TypeVar("T")


async def in_county(
    context: Context,
    work: Callable[[Connection], T],
    action: str,
    objects: Callable[[T], list[dict[str, Any]]],
) -> T:
    """Run sync domain work in one county transaction, with the audit entries of its result
    (none when `objects` gives none); an error rolls back both."""
    principal = await context.principal()
    async with context.session() as session:
        conn = await session.connection()
        result = await conn.run_sync(work)
        entries = objects(result)
        if entries:
            await session.execute(county_entries(principal, action, entries))
    return result
