"""Shared schema: pupils moving between counties (an encrypted snapshot of the record).

Revision ID: s0004
Revises: s0003
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations.helpers import SHARED

revision: str = "s0004"
down_revision: str | Sequence[str] | None = "s0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pupil_transfers",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("from_county", sa.String(6), nullable=False),
        sa.Column("to_county", sa.String(6), nullable=False),
        sa.Column("from_pupil_id", sa.BigInteger, nullable=False),
        sa.Column("grade", sa.SmallInteger, nullable=False),
        sa.Column(
            "snapshot_enc", sa.Text, nullable=False, comment="The pupil's record, encrypted JSON"
        ),
        sa.Column("state", sa.Text, nullable=False, server_default="pending"),
        sa.Column("note", sa.Text),
        sa.Column(
            "requested_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("now()"),
        ),
        sa.Column("requested_by", sa.BigInteger),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.Column("decided_by", sa.BigInteger),
        sa.Column("to_pupil_id", sa.BigInteger),
        schema=SHARED,
        comment="Pupils moving between counties: asked by the old county, decided by the new one.",
    )
    op.create_index(
        "ix_pupil_transfers_from_county", "pupil_transfers", ["from_county"], schema=SHARED
    )
    op.create_index("ix_pupil_transfers_to_county", "pupil_transfers", ["to_county"], schema=SHARED)


def downgrade() -> None:
    op.drop_table("pupil_transfers", schema=SHARED)
