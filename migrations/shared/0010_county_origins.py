"""Shared schema: the web origins of each county's own frontends (CORS).

Read whole by every API process (a preflight names no county) and cached for a short while;
written by `setAllowedOrigins`. Only the service's own login reaches it.

Revision ID: s0010
Revises: s0009
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations.helpers import SHARED

revision: str = "s0010"
down_revision: str | Sequence[str] | None = "s0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "county_origins",
        sa.Column(
            "county_code",
            sa.String(6),
            sa.ForeignKey(
                f"{SHARED}.tenants.code",
                name="fk_county_origins_county_code_tenants",
                ondelete="CASCADE",
            ),
            nullable=False,
        ),
        sa.Column(
            "origin", sa.Text, nullable=False, comment="Scheme, host and port, as browsers send it"
        ),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.CheckConstraint(
            r"origin ~ '^(https://[a-z0-9.:\[\]-]+|http://localhost(:[0-9]{1,5})?)$'",
            name="ck_county_origins_origin_format",
        ),
        sa.PrimaryKeyConstraint("county_code", "origin", name="pk_county_origins"),
        schema=SHARED,
        comment="Web origins of a county's own frontends, allowed to call the API from a browser.",
    )


def downgrade() -> None:
    op.drop_table("county_origins", schema=SHARED)
