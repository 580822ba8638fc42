"""Shared schema: failed attempts to bind a child (wrong code, or ID number and name that do
not match), counted per user so that nobody can try ID numbers until one fits.

Revision ID: s0005
Revises: s0004
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations.helpers import SHARED

revision: str = "s0005"
down_revision: str | Sequence[str] | None = "s0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "binding_failures",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("county_code", sa.String(6), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")
        ),
        schema=SHARED,
        comment="Failed bindings of a guardian's account; too many in an hour lock binding.",
    )
    op.create_index(
        "ix_binding_failures_user_id_at", "binding_failures", ["user_id", "at"], schema=SHARED
    )


def downgrade() -> None:
    op.drop_table("binding_failures", schema=SHARED)
