"""Registering a county's queries and locking its API to them.

A query is named by the SHA-256 of its exact text (hex), as automatic persisted queries name
it, so an app may send the hash alone. While the county enforces its list (the setting
`allow_list_enforced`), any other operation is refused before it runs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, delete, select
from sqlalchemy.dialects.postgresql import insert

from domain.allow_list.tables import registered_queries
from domain.ledger.service import county_setting, set_county_setting
from redscarf.errors import InvalidInput

ENFORCED = "allow_list_enforced"
MAX_QUERIES = 1000
MAX_NAME = 100


class AllowListEmpty(InvalidInput):
    code = "ALLOW_LIST_EMPTY"
    message = "还没有登记任何查询，不能只允许已登记的查询"


@dataclass(frozen=True)
class Registered:
    hash: str
    name: str
    query: str


def query_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def registered(conn: Connection) -> list[Registered]:
    rows = conn.execute(
        select(
            registered_queries.c.hash, registered_queries.c.name, registered_queries.c.query
        ).order_by(registered_queries.c.name, registered_queries.c.hash)
    )
    return [Registered(*r) for r in rows]


def register(conn: Connection, queries: Sequence[tuple[str, str]], by: int | None) -> list[str]:
    """Register (name, text) pairs (checked by the caller); a text registered already gets
    its new name. Returns their hashes, in order."""
    count = len(registered(conn))
    hashes = [query_hash(text) for _, text in queries]
    if count + len(set(hashes)) > MAX_QUERIES:
        raise InvalidInput(f"每个县（区）最多登记 {MAX_QUERIES} 个查询", code="TOO_MANY_QUERIES")
    for (name, text), pk in zip(queries, hashes, strict=True):
        stmt = insert(registered_queries).values(hash=pk, name=name, query=text, registered_by=by)
        conn.execute(stmt.on_conflict_do_update(index_elements=["hash"],
                                                set_={"name": stmt.excluded.name}))  # fmt: skip
    return hashes


def unregister(conn: Connection, pk: str) -> bool:
    gone = conn.execute(delete(registered_queries).where(registered_queries.c.hash == pk))
    if gone.rowcount and is_enforced(conn) and not registered(conn):
        raise AllowListEmpty()
    return bool(gone.rowcount)


def is_enforced(conn: Connection) -> bool:
    return bool(county_setting(conn, ENFORCED))


def enforce(conn: Connection, enforced: bool) -> None:
    if enforced and not registered(conn):
        raise AllowListEmpty()
    set_county_setting(conn, ENFORCED, int(enforced))
