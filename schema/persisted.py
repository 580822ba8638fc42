"""Persisted queries and a county's allow-list, before anything is parsed or run.

- **Automatic persisted queries** (Apollo's protocol): a request's `extensions.persistedQuery`
  `{"version": 1, "sha256Hash": "<hex>"}` names its query by hash. With the text as well, the
  hash must match and the text is remembered once it validates (in this process, at most
  `APQ_ENTRIES`); with the hash alone, the remembered text (or, where the county enforces
  its list, one it registered) is run, else `PERSISTED_QUERY_NOT_FOUND` and the client sends
  the text again. It saves
  bandwidth; it is no security boundary.
- **The allow-list** is one: a county that enforces it (`setAllowListEnforced`) answers only
  the operations it registered (`registerQueries`), by text or by hash; anything else is
  `QUERY_NOT_ALLOWED`, refused before it runs. The county's admins are exempt (they keep the
  list and use the console); requests that name no county are not affected.

Each county's list is cached in the process for `LIST_TTL_S` seconds; registering or
unregistering clears it at once in the process that did it.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from strawberry.extensions import SchemaExtension

from authz.principal import COUNTY_ROOT
from domain.allow_list.service import is_enforced, query_hash, registered
from redscarf.errors import Forbidden, InvalidInput, NotFound, RedscarfError
from schema.lru import LRU

APQ_ENTRIES = 10_000
LIST_TTL_S = 30.0
HASH = re.compile(r"[0-9a-f]{64}")


class PersistedQueryNotFound(NotFound):
    code = "PERSISTED_QUERY_NOT_FOUND"
    message = "PersistedQueryNotFound：服务器没有这个查询，请附上查询全文重新发送"


class PersistedQueryInvalid(InvalidInput):
    code = "PERSISTED_QUERY_INVALID"
    message = "persistedQuery 应为 {version: 1, sha256Hash: 64 位十六进制}"


class PersistedQueryHashMismatch(InvalidInput):
    code = "PERSISTED_QUERY_HASH_MISMATCH"
    message = "查询全文的 SHA-256 与 sha256Hash 不符"


class QueryNotAllowed(Forbidden):
    code = "QUERY_NOT_ALLOWED"
    message = "本县（区）只接受已登记的查询；请联系县级管理员登记"


@dataclass
class _CountyList:
    enforced: bool
    texts: dict[str, str]
    until: float = field(default_factory=lambda: time.monotonic() + LIST_TTL_S)


REMEMBERED: LRU[str, str] = LRU(APQ_ENTRIES)  # query texts by hash
_LISTS: dict[str, _CountyList] = {}


def forget_county(code: str) -> None:
    """The county's list changed: read it again on its next request."""
    _LISTS.pop(code, None)


async def _county_list(context: Any, code: str) -> _CountyList:
    found = _LISTS.get(code)
    if found is not None and found.until > time.monotonic():
        return found

    def load(conn: Any) -> _CountyList:
        # The list itself is read only where it is enforced (it cannot be enforced empty): a
        # county not yet migrated to it, or one that never used it, costs one small read.
        if not is_enforced(conn):
            return _CountyList(False, {})
        return _CountyList(True, {r.hash: r.query for r in registered(conn)})

    async with context.session() as session:
        conn = await session.connection()
        found = _LISTS[code] = await conn.run_sync(load)
    return found


def _persisted_hash(extensions: dict[str, Any] | None) -> str | None:
    asked = (extensions or {}).get("persistedQuery")
    if asked is None:
        return None
    if not isinstance(asked, dict) or asked.get("version") != 1:
        raise PersistedQueryInvalid()
    pk = asked.get("sha256Hash")
    if not isinstance(pk, str) or not HASH.fullmatch(pk):
        raise PersistedQueryInvalid()
    return pk


async def _county_code(context: Any) -> str | None:
    try:
        return str((await context.tenant()).code)
    except RedscarfError:
        return None  # no county named (the province, the operator) or none reachable


class PersistedQueries(SchemaExtension):
    async def on_operation(self) -> AsyncIterator[None]:  # type: ignore[override]
        ctx = self.execution_context
        context = ctx.context
        pk = _persisted_hash(ctx.operation_extensions)
        if pk is not None and ctx.query and query_hash(ctx.query) != pk:
            raise PersistedQueryHashMismatch()
        code = await _county_code(context)
        county = await _county_list(context, code) if code is not None else None
        if pk is not None and not ctx.query:
            text = REMEMBERED.get(pk) or (county.texts.get(pk) if county else None)
            if text is None:
                raise PersistedQueryNotFound()
            ctx.query = text
        if county is not None and county.enforced:
            listed = query_hash(ctx.query or "") in county.texts
            if not listed and not await context.may("query_allow_list", "write", COUNTY_ROOT):
                raise QueryNotAllowed()
        yield
        if pk is not None and ctx.query and not ctx.pre_execution_errors:
            REMEMBERED.put(pk, ctx.query)
