"""Completed steps of resumable work (see tenants/steps.py).

Revision ID: t0002
Revises: t0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations.helpers import TENANT

revision: str = "t0002"
down_revision: str | Sequence[str] | None = "t0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "completed_steps",
        sa.Column(
            "run_key", sa.Text, primary_key=True, comment="The run: e.g. job:<uuid> or demo:<seed>"
        ),
        sa.Column("step", sa.Text, primary_key=True),
        sa.Column(
            "done_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        schema=TENANT,
    )


def downgrade() -> None:
    op.drop_table("completed_steps", schema=TENANT)
