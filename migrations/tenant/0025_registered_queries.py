"""The county's registered queries (its allow-list and persisted queries).

Revision ID: t0025
Revises: t0024
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations.helpers import TENANT

revision: str = "t0025"
down_revision: str | Sequence[str] | None = "t0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "registered_queries",
        sa.Column("hash", sa.String(64), primary_key=True,
                  comment="SHA-256 of the query text, hex"),
        sa.Column("name", sa.Text, nullable=False,
                  comment="What the app calls it, e.g. 家长端-积分"),
        sa.Column("query", sa.Text, nullable=False),
        sa.Column("registered_by", sa.BigInteger,
                  comment="The user (shared.users) who registered it"),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        schema=TENANT,
        comment="Operations the county's apps may send while its allow-list is enforced.",
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("registered_queries", schema=TENANT)
