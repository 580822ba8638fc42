"""Shared schema: the trigger function that keeps a table append-only, for the points ledger
of every county (its transactions and postings): UPDATE, DELETE and TRUNCATE are refused to
everyone, the service's own login included. A correction is a new, reversing transaction.

Revision ID: s0007
Revises: s0006
Create Date: 2026-11-23
"""

from collections.abc import Sequence

from alembic import op

from migrations.helpers import SHARED

revision: str = "s0007"
down_revision: str | Sequence[str] | None = "s0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        f"""
        CREATE FUNCTION {SHARED}.append_only() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '%.% is append-only (% refused)', TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END $$
        """
    )


def downgrade() -> None:
    op.execute(f"DROP FUNCTION {SHARED}.append_only()")
