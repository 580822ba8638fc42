"""Counselors' appointments and their history; a counselor whose last appointment ended.

Revision ID: t0006
Revises: t0005
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations.helpers import TENANT, current_schema

revision: str = "t0006"
down_revision: str | Sequence[str] | None = "t0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "counselors",
        sa.Column(
            "ended_on", sa.Date, comment="No longer a counselor (the last appointment ended)"
        ),
        schema=TENANT,
    )
    op.add_column(
        "counselors",
        sa.Column(
            "user_id", sa.BigInteger, comment="The counselor's account (shared.users), if any"
        ),
        schema=TENANT,
    )
    op.create_table(
        "counselor_appointments",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column(
            "counselor_id",
            sa.BigInteger,
            sa.ForeignKey(
                f"{TENANT}.counselors.id", name="fk_counselor_appointments_counselor_id_counselors"
            ),
            nullable=False,
        ),
        sa.Column(
            "unit_id",
            sa.BigInteger,
            sa.ForeignKey(f"{TENANT}.units.id", name="fk_counselor_appointments_unit_id_units"),
            nullable=False,
        ),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("started_on", sa.Date, nullable=False),
        sa.Column("ended_on", sa.Date),
        schema=TENANT,
        comment="Every appointment of a counselor: where, as what, from when to when.",
    )
    op.create_index(
        "ix_counselor_appointments_counselor_id",
        "counselor_appointments",
        ["counselor_id"],
        schema=TENANT,
    )
    # Counselors written before: their current appointment is their history so far.
    schema = current_schema()
    op.execute(
        f'INSERT INTO "{schema}".counselor_appointments (counselor_id, unit_id, kind, started_on)'
        f' SELECT id, unit_id, kind, coalesce(appointed_on, current_date) FROM "{schema}".counselors'
    )


def downgrade() -> None:
    op.drop_table("counselor_appointments", schema=TENANT)
    op.drop_column("counselors", "user_id", schema=TENANT)
    op.drop_column("counselors", "ended_on", schema=TENANT)
