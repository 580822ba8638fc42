"""Shared schema: county summaries written by the refresh_county_summary job.

Revision ID: s0002
Revises: s0001
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations.helpers import SHARED

revision: str = "s0002"
down_revision: str | Sequence[str] | None = "s0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "county_summaries",
        sa.Column(
            "county_code",
            sa.String(6),
            sa.ForeignKey(
                f"{SHARED}.tenants.code",
                name="fk_county_summaries_county_code_tenants",
                ondelete="CASCADE",
            ),
            primary_key=True,
        ),
        sa.Column(
            "figures",
            postgresql.JSONB,
            nullable=False,
            comment="Counts by kind and status (see actors)",
        ),
        sa.Column(
            "computed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column(
            "job_id",
            sa.UUID(as_uuid=True),
            comment="The refresh_county_summary job that wrote it",
        ),
        schema=SHARED,
        comment="Each county's figures, written by the refresh_county_summary job; the province "
        "reads its aggregates here without touching county schemas.",
    )


def downgrade() -> None:
    op.drop_table("county_summaries", schema=SHARED)
