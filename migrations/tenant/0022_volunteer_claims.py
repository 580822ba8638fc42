"""Who claimed a volunteer project: the team's name and the account that claimed it for the
team (who then reports it carried out).

Revision ID: t0022
Revises: t0021
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations.helpers import TENANT

revision: str = "t0022"
down_revision: str | Sequence[str] | None = "t0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "volunteer_projects",
        sa.Column("claimed_by_user", sa.BigInteger, comment="The account that claimed it"),
        schema=TENANT,
    )


def downgrade() -> None:
    op.drop_column("volunteer_projects", "claimed_by_user", schema=TENANT)
