"""The county's open schools by path: what the province's pairing coordination reads of each
county (30 brigades among a few thousand units), without scanning the whole unit tree.

Revision ID: t0023
Revises: t0022
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations.helpers import TENANT

revision: str = "t0023"
down_revision: str | Sequence[str] | None = "t0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_units_open_schools",
        "units",
        ["path"],
        schema=TENANT,
        postgresql_where=sa.text("kind = 'brigade' AND archived_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_units_open_schools", "units", schema=TENANT)
