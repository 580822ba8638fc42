"""County audit log, and guardians linked to their accounts.

The audit log: every mutation and every read of unmasked personal data, append-only.

The county role may read and add entries, never change or delete them (no grant, and the
trigger of s0003 refuses UPDATE, DELETE and TRUNCATE to everyone, the owner included).

Revision ID: t0003
Revises: t0002
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations.helpers import (
    SHARED,
    TENANT,
    audit_log_columns_v1,
    current_schema,
    guard_audit_log,
)

revision: str = "t0003"
down_revision: str | Sequence[str] | None = "t0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "guardians",
        sa.Column("user_id", sa.BigInteger, comment="The guardian's account (shared.users)"),
        schema=TENANT,
    )
    op.create_index("ix_guardians_user_id", "guardians", ["user_id"], schema=TENANT)
    op.create_table(
        "audit_log",
        *audit_log_columns_v1(),
        schema=TENANT,
        comment="Append-only: who did what, when, to which object, from which client.",
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"], schema=TENANT)
    schema = current_schema()
    guard_audit_log(schema)
    # The schema's default privileges granted the county role UPDATE and DELETE: take them back.
    role = (
        op.get_bind()
        .exec_driver_sql(
            f"SELECT role_name FROM {SHARED}.tenants WHERE schema_name = %(s)s", {"s": schema}
        )
        .scalar()
    )
    if role:
        op.execute(f'REVOKE UPDATE, DELETE, TRUNCATE ON "{schema}".audit_log FROM "{role}"')


def downgrade() -> None:
    op.drop_table("audit_log", schema=TENANT)
    op.drop_column("guardians", "user_id", schema=TENANT)
