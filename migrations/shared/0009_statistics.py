"""Shared schema: rollups of prefectures and provinces, the period of each county summary,
and the change marks that keep them fresh.

`mark_summary_stale()` is a statement trigger on the county tables the figures read: once per
transaction (a transaction-local setting remembers) it appends a mark for the county whose
schema it fires in. It runs as its owner (SECURITY DEFINER), so county roles need no grant on
the marks; it derives the county from the schema it fires in, so a county marks only itself.
`mark_pairing_counties()` marks both counties of a pairing that changed.

Revision ID: s0009
Revises: s0008
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from migrations.helpers import SHARED

revision: str = "s0009"
down_revision: str | Sequence[str] | None = "s0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("county_summaries", sa.Column("as_of", sa.Date, comment="Stocks as of this day"),
                  schema=SHARED)  # fmt: skip
    op.add_column("county_summaries", sa.Column("since", sa.Date,
                  comment="Flows from this day (the academic year's start)"), schema=SHARED)  # fmt: skip
    op.create_table(
        "region_summaries",
        sa.Column("code", sa.String(4), primary_key=True,
                  comment="Province (2 digits) or prefecture (4)"),
        sa.Column("level", sa.Text, nullable=False, comment="province or prefecture"),
        sa.Column("figures", JSONB, nullable=False, comment="The sum of its counties' summaries"),
        sa.Column("counties", sa.Integer, nullable=False, comment="Counties summed"),
        sa.Column("counties_missing", sa.Integer, nullable=False,
                  comment="Active counties without a summary yet"),
        sa.Column("counties_onboarding", sa.Integer, nullable=False,
                  comment="Counties still being onboarded (not summed)"),
        sa.Column("oldest_county_at", sa.DateTime(timezone=True),
                  comment="When the oldest of the summed county summaries was computed"),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        schema=SHARED,
        comment="Each prefecture's and province's figures: what their users see, in one row.",
    )  # fmt: skip
    op.create_table(
        "summary_marks",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("county_code", sa.String(6), nullable=False),
        sa.Column("marked_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        schema=SHARED,
        comment="A county's figures changed (one row per writing transaction, by trigger); the "
        "summariser turns them into refresh_county_summary jobs. Insert-only: no row lock is "
        "shared between two transactions of a county.",
    )  # fmt: skip
    op.execute(
        f"""
        CREATE FUNCTION {SHARED}.mark_summary_stale() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
        BEGIN
            IF coalesce(current_setting('redscarf.summary_marked', true), '') <> TG_TABLE_SCHEMA
            THEN
                INSERT INTO {SHARED}.summary_marks (county_code)
                VALUES (right(TG_TABLE_SCHEMA, 6));
                PERFORM set_config('redscarf.summary_marked', TG_TABLE_SCHEMA, true);
            END IF;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        f"""
        CREATE FUNCTION {SHARED}.mark_pairing_counties() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
        BEGIN
            INSERT INTO {SHARED}.summary_marks (county_code)
            SELECT DISTINCT c FROM unnest(ARRAY[NEW.a_county, NEW.b_county]) AS c;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        f"CREATE TRIGGER pairings_mark_summaries AFTER INSERT OR UPDATE ON {SHARED}.pairings"
        f" FOR EACH ROW EXECUTE FUNCTION {SHARED}.mark_pairing_counties()"
    )


def downgrade() -> None:
    op.execute(f"DROP TRIGGER pairings_mark_summaries ON {SHARED}.pairings")
    op.execute(f"DROP FUNCTION {SHARED}.mark_pairing_counties()")
    op.execute(f"DROP FUNCTION {SHARED}.mark_summary_stale()")
    op.drop_table("summary_marks", schema=SHARED)
    op.drop_table("region_summaries", schema=SHARED)
    op.drop_column("county_summaries", "since", schema=SHARED)
    op.drop_column("county_summaries", "as_of", schema=SHARED)
