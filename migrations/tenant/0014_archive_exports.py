"""A squadron's or school's growth archives, exported by a job into one file.

Revision ID: t0014
Revises: t0013
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from migrations.helpers import TENANT

revision: str = "t0014"
down_revision: str | Sequence[str] | None = "t0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "archive_exports",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column(
            "unit_id",
            sa.BigInteger,
            sa.ForeignKey(f"{TENANT}.units.id", name="fk_archive_exports_unit_id_units"),
            nullable=False,
        ),
        sa.Column("requested_by", JSONB, nullable=False, comment="Who asked, and their reach"),
        sa.Column("job_id", sa.Uuid, comment="The export_archives job (shared.jobs)"),
        sa.Column("state", sa.Text, nullable=False, server_default="pending"),
        sa.Column("pupils", sa.Integer),
        sa.Column("content", sa.LargeBinary, comment="The zip file; forgotten after some days"),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("now()"),
        ),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("state IN ('pending', 'done')", name="ck_archive_exports_state"),
        schema=TENANT,
        comment="Growth archives of a unit's pupils in one file (HTML to print, JSON), by a job.",
    )


def downgrade() -> None:
    op.drop_table("archive_exports", schema=TENANT)
