"""Audit log tables: one in each county schema, one in the shared schema for what belongs to
no county (sign-ins, onboarding). The database refuses to change or delete an entry
(a trigger, and no UPDATE/DELETE grant to the county role); only entries older than the
retention period can be purged, by the purge job, which says so in its transaction.
"""

from __future__ import annotations

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    MetaData,
    String,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB

from tenants.metadata import shared_metadata, tenant_metadata


def _columns() -> list[Column]:  # type: ignore[type-arg]
    return [
        Column("id", BigInteger, Identity(), primary_key=True),
        Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("user_id", BigInteger, comment="Who (null for an API key or the operator)"),
        Column("api_key_id", BigInteger),
        Column("actor", Text, nullable=False, comment="Display name, key name or 'operator'"),
        Column("roles", Text, comment="The roles the actor acted with"),
        Column("action", Text, nullable=False, comment="e.g. createApiKey, read:pupil.birthDate"),
        Column("object_type", Text),
        Column("object_id", Text),
        Column("fields", ARRAY(Text)),
        Column("client", Text, comment="User agent and address of the request"),
        Column("details", JSONB),
    ]


def _audit_table(metadata: MetaData, *extra: Column) -> Table:  # type: ignore[type-arg]
    return Table(
        "audit_log",
        metadata,
        *_columns(),
        *extra,
        Index(None, "at"),
        comment="Append-only: who did what, when, to which object, from which client.",
    )


audit_log = _audit_table(tenant_metadata)
shared_audit_log = _audit_table(shared_metadata, Column("county_code", String(6)))
