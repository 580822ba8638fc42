"""Writing audit entries, in the same transaction as what they record."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy import Connection, Insert, insert, text
from sqlalchemy.ext.asyncio import AsyncSession

from authz.principal import Principal, PrincipalKind
from domain.audit.tables import audit_log, shared_audit_log


class Actor(Protocol):
    """Who an entry names: a request's principal, or a job acting for one (an import)."""

    @property
    def kind(self) -> PrincipalKind: ...
    @property
    def id(self) -> int | None: ...
    @property
    def name(self) -> str: ...
    @property
    def roles(self) -> str: ...
    @property
    def client(self) -> str: ...


def _values(
    principal: Actor,
    action: str,
    object_type: str | None,
    object_id: str | int | None,
    fields: Sequence[str] | None,
    details: dict[str, Any] | None,
) -> dict[str, Any]:
    return {
        "user_id": principal.id if principal.kind == PrincipalKind.USER else None,
        "api_key_id": principal.id if principal.kind == PrincipalKind.API_KEY else None,
        "actor": principal.name or principal.kind.value,
        "roles": principal.roles,
        "action": action,
        "object_type": object_type,
        "object_id": None if object_id is None else str(object_id),
        "fields": list(fields) if fields else None,
        "client": principal.client[:300] or None,
        "details": details,
    }


def _rows(principal: Actor, action: str, objects: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        _values(
            principal,
            action,
            o.get("object_type"),
            o.get("object_id"),
            o.get("fields"),
            o.get("details"),
        )
        for o in objects
    ]


def county_entries(principal: Actor, action: str, objects: Sequence[dict[str, Any]]) -> Insert:
    """Entries of the county's audit log (one per object: object_type, object_id, fields...)."""
    return insert(audit_log).values(_rows(principal, action, objects))


def write_county_entries(
    conn: Connection, principal: Actor, action: str, objects: Sequence[dict[str, Any]]
) -> None:
    """Many entries at once (an import's): one statement compiled once and executed for all
    rows, where `county_entries` compiles a new statement of every row's values (measured on
    50,000 pupils: 1.2-2.4 s against 11-13 s)."""
    if objects:
        conn.execute(insert(audit_log), _rows(principal, action, objects))


async def record(
    session: AsyncSession,
    principal: Principal,
    action: str,
    object_type: str | None = None,
    object_id: str | int | None = None,
    *,
    fields: Sequence[str] | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """One entry in the county's log, inside the caller's county transaction."""
    one = {"object_type": object_type, "object_id": object_id, "fields": fields, "details": details}
    await session.execute(county_entries(principal, action, [one]))


def record_shared(
    conn: Connection,
    principal: Principal,
    action: str,
    object_type: str | None = None,
    object_id: str | int | None = None,
    *,
    county_code: str | None = None,
    fields: Sequence[str] | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """One entry in the platform's log (sign-ins, onboarding: what belongs to no county)."""
    values = _values(principal, action, object_type, object_id, fields, details)
    conn.execute(insert(shared_audit_log).values(county_code=county_code, **values))


def purge_older_than(conn: Connection, schema: str, retention_days: int) -> int:
    """Delete `schema`.audit_log entries older than the retention period; returns how many.

    Runs as the service's own login, which says so with `redscarf.audit_purge`: the trigger
    refuses every other delete, and any delete of an entry younger than 180 days."""
    conn.execute(text("SET LOCAL redscarf.audit_purge = 'on'"))
    deleted = conn.execute(
        text(f'DELETE FROM "{schema}".audit_log WHERE at < now() - make_interval(days => :d)'),
        {"d": retention_days},
    )
    return deleted.rowcount
