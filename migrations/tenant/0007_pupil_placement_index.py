"""An index on where a pupil sits (its team, else its squadron): the key every roster joins
its units on. Without it a squadron's page read all of a county's pupils (measured: 8.4 ms
of sequential scan for 42 rows of 50,000; docs/benchmarks.md).

Revision ID: t0007
Revises: t0006
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations.helpers import TENANT

revision: str = "t0007"
down_revision: str | Sequence[str] | None = "t0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_pupils_placement",
        "pupils",
        [sa.text("coalesce(team_id, squadron_id)")],
        schema=TENANT,
    )


def downgrade() -> None:
    op.drop_index("ix_pupils_placement", "pupils", schema=TENANT)
