"""The pickup code kept encrypted for the family to show again at the counter (its keyed hash
stays the lookup), and when an activity was finished (no-shows settled).

Revision ID: t0018
Revises: t0017
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations.helpers import TENANT

revision: str = "t0018"
down_revision: str | Sequence[str] | None = "t0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "redemptions",
        sa.Column("code_enc", sa.Text, comment="The pickup code, encrypted (for the family)"),
        schema=TENANT,
    )
    op.add_column(
        "activities",
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        schema=TENANT,
    )


def downgrade() -> None:
    op.drop_column("activities", "finished_at", schema=TENANT)
    op.drop_column("redemptions", "code_enc", schema=TENANT)
