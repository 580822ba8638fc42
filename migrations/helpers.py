"""What a migration file may need to know about where it runs."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from tenants.metadata import SHARED, TENANT

__all__ = [
    "SHARED",
    "TENANT",
    "audit_log_columns_v1",
    "current_schema",
    "database_name",
    "guard_audit_log",
]


def current_schema() -> str:
    """The real schema this migration runs in (the county's schema for tenant migrations).

    Table operations take `schema=TENANT` and are translated; raw SQL needs the real name.
    """
    translate = op.get_bind().get_execution_options().get("schema_translate_map") or {}
    return translate.get(TENANT, SHARED)


def database_name() -> str:
    return op.get_bind().exec_driver_sql("SELECT current_database()").scalar_one()


# --- the audit log, in the shared schema (s0003) and in every county schema (t0003) ---------
# Frozen as they were created: a later change to the audit log is a new migration.


def audit_log_columns_v1() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column(
            "at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")
        ),
        sa.Column("user_id", sa.BigInteger, comment="Who (null for an API key or the operator)"),
        sa.Column("api_key_id", sa.BigInteger),
        sa.Column("actor", sa.Text, nullable=False, comment="Display name, key name or 'operator'"),
        sa.Column("roles", sa.Text, comment="The roles the actor acted with"),
        sa.Column(
            "action", sa.Text, nullable=False, comment="e.g. createApiKey, read:pupil.birthDate"
        ),
        sa.Column("object_type", sa.Text),
        sa.Column("object_id", sa.Text),
        sa.Column("fields", postgresql.ARRAY(sa.Text)),
        sa.Column("client", sa.Text, comment="User agent and address of the request"),
        sa.Column("details", postgresql.JSONB),
    ]


def guard_audit_log(schema: str) -> None:
    """Refuse UPDATE, DELETE and TRUNCATE of `schema`.audit_log (function of s0003)."""
    op.execute(
        f'CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON "{schema}".audit_log'
        f" FOR EACH ROW EXECUTE FUNCTION {SHARED}.audit_log_append_only()"
    )
    op.execute(
        f'CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON "{schema}".audit_log'
        f" FOR EACH STATEMENT EXECUTE FUNCTION {SHARED}.audit_log_append_only()"
    )
