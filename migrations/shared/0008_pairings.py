"""Shared schema: pairings across counties (结对共建) and their events.

Revision ID: s0008
Revises: s0007
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from migrations.helpers import SHARED

revision: str = "s0008"
down_revision: str | Sequence[str] | None = "s0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _side(prefix: str) -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column(f"{prefix}_county", sa.String(6), nullable=False),
        sa.Column(f"{prefix}_kind", sa.Text, nullable=False, comment="unit, counselor or pupil"),
        sa.Column(f"{prefix}_id", sa.BigInteger, nullable=False),
        sa.Column(f"{prefix}_path", sa.Text, nullable=False,
                  comment="The side's unit path in its county (a pupil's, a counselor's unit)"),
        sa.Column(f"{prefix}_accepted_at", sa.DateTime(timezone=True)),
        sa.Column(f"{prefix}_accepted_by", sa.Text),
        sa.Column(f"{prefix}_card", JSONB, comment="What the other side sees of this one"),
        sa.Column(f"{prefix}_review", sa.Text, comment="This side's review at the end"),
    ]  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "pairings",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("level", sa.Text, nullable=False),
        sa.Column("category", sa.Text, comment="urban_rural, migrant, strong_weak or other"),
        *_side("a"),
        *_side("b"),
        sa.Column("proposed_by", sa.Text, nullable=False,
                  comment="county:<code>, province:<code>, ..."),
        sa.Column("goals", sa.Text),
        sa.Column("starts_on", sa.Date),
        sa.Column("ends_on", sa.Date),
        sa.Column("state", sa.Text, nullable=False, server_default="proposed"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.text("now()")),
        sa.Column("closed_at", sa.DateTime(timezone=True), comment="Declined, withdrawn or ended"),
        sa.Column("closed_by", sa.Text),
        sa.CheckConstraint("level IN ('county', 'township', 'school', 'counselor', 'pupil')",
                           name="ck_pairings_level"),
        sa.CheckConstraint("state IN ('proposed', 'active', 'declined', 'withdrawn', 'ended')",
                           name="ck_pairings_state"),
        sa.CheckConstraint("category IS NULL OR category IN ('urban_rural', 'migrant', "
                           "'strong_weak', 'other')", name="ck_pairings_category"),
        sa.CheckConstraint("(a_county, a_kind, a_id) <> (b_county, b_kind, b_id)",
                           name="ck_pairings_two_sides"),
        schema=SHARED,
        comment="Pairings (结对共建) of counties, townships, schools, counselors and pupils.",
    )  # fmt: skip
    op.create_index("ix_pairings_a", "pairings", ["a_county", "a_kind", "a_id"], schema=SHARED)
    op.create_index("ix_pairings_b", "pairings", ["b_county", "b_kind", "b_id"], schema=SHARED)
    op.create_index(
        "uq_pairings_live",
        "pairings",
        ["a_county", "a_kind", "a_id", "b_county", "b_kind", "b_id"],
        unique=True,
        schema=SHARED,
        postgresql_where=sa.text("state IN ('proposed', 'active')"),
    )
    op.create_table(
        "pairing_events",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("pairing_id", sa.BigInteger,
                  sa.ForeignKey(f"{SHARED}.pairings.id", name="fk_pairing_events_pairing_id_pairings"),
                  nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("on_date", sa.Date, nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("county_code", sa.String(6), nullable=False,
                  comment="The side that recorded it"),
        sa.Column("recorded_by", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.text("now()")),
        schema=SHARED,
        comment="What paired sides did together (the 六个一, joint activities, exchanges).",
    )  # fmt: skip
    op.create_index("ix_pairing_events_pairing_id", "pairing_events", ["pairing_id"], schema=SHARED)


def downgrade() -> None:
    op.drop_table("pairing_events", schema=SHARED)
    op.drop_table("pairings", schema=SHARED)
