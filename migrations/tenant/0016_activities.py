"""Activities (活动) and their sign-ups: capacity, waiting list in arrival order, the cost held
in the ledger at sign-up, posted at attendance, released on cancellation.

Revision ID: t0016
Revises: t0015
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

from migrations.helpers import TENANT

revision: str = "t0016"
down_revision: str | Sequence[str] | None = "t0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, **kw: object) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), **kw)


def upgrade() -> None:
    op.create_table(
        "activities",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column(
            "unit_id",
            sa.BigInteger,
            sa.ForeignKey(f"{TENANT}.units.id", name="fk_activities_unit_id_units"),
            nullable=False,
            comment="The organiser: county, township, school or squadron",
        ),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("place", sa.Text),
        _ts("starts_at", nullable=False),
        _ts("ends_at", nullable=False),
        _ts("signup_opens_at", nullable=False),
        _ts("signup_closes_at", nullable=False),
        _ts("cancel_until", comment="Sign-ups may be cancelled (and refunded) until then"),
        sa.Column("capacity", sa.Integer, nullable=False),
        sa.Column("confirmed", sa.Integer, nullable=False, server_default="0"),
        sa.Column("grades", ARRAY(sa.SmallInteger), comment="Eligible grades; null: all"),
        sa.Column("area", sa.Text, comment="urban or rural; null: both"),
        sa.Column("cost", sa.Integer, nullable=False, server_default="0"),
        sa.Column("reward", sa.Integer, nullable=False, server_default="0"),
        sa.Column("no_show_keeps_cost", sa.Boolean, nullable=False, server_default="true"),
        sa.Column("state", sa.Text, nullable=False, server_default="draft"),
        sa.Column("checkin_code_hash", sa.LargeBinary),
        sa.Column("created_by", sa.Text),
        _ts("created_at", nullable=False, server_default=sa.text("now()")),
        _ts("cancelled_at"),
        sa.CheckConstraint(
            "state IN ('draft', 'published', 'closed', 'finished', 'cancelled')",
            name="ck_activities_state",
        ),
        sa.CheckConstraint(
            "capacity > 0 AND confirmed >= 0 AND confirmed <= capacity",
            name="ck_activities_capacity",
        ),
        sa.CheckConstraint("cost >= 0 AND reward >= 0", name="ck_activities_points"),
        sa.CheckConstraint("area IS NULL OR area IN ('urban', 'rural')", name="ck_activities_area"),
        schema=TENANT,
        comment="Activities organised by a unit, with capacity, sign-up window, cost and reward.",
    )
    op.create_table(
        "activity_signups",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column(
            "activity_id",
            sa.BigInteger,
            sa.ForeignKey(
                f"{TENANT}.activities.id", name="fk_activity_signups_activity_id_activities"
            ),
            nullable=False,
        ),
        sa.Column(
            "pupil_id",
            sa.BigInteger,
            sa.ForeignKey(f"{TENANT}.pupils.id", name="fk_activity_signups_pupil_id_pupils"),
            nullable=False,
        ),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("hold_id", sa.BigInteger, comment="The cost held in the ledger"),
        sa.Column("signed_up_by", sa.Text),
        _ts("created_at", nullable=False, server_default=sa.text("now()")),
        _ts("updated_at", nullable=False, server_default=sa.text("now()")),
        sa.CheckConstraint(
            "state IN ('confirmed', 'waitlisted', 'cancelled', 'lapsed', 'attended', 'no_show', "
            "'refunded')",
            name="ck_activity_signups_state",
        ),
        schema=TENANT,
        comment="Sign-ups: confirmed within capacity, else waitlisted in arrival order (id).",
    )
    op.create_index(
        "uq_activity_signups_live",
        "activity_signups",
        ["activity_id", "pupil_id"],
        unique=True,
        schema=TENANT,
        postgresql_where=sa.text("state NOT IN ('cancelled', 'lapsed', 'refunded')"),
    )
    op.create_index(
        "ix_activity_signups_waiting",
        "activity_signups",
        ["activity_id", "id"],
        schema=TENANT,
        postgresql_where=sa.text("state = 'waitlisted'"),
    )
    op.create_index("ix_activity_signups_pupil_id", "activity_signups", ["pupil_id"], schema=TENANT)


def downgrade() -> None:
    op.drop_table("activity_signups", schema=TENANT)
    op.drop_table("activities", schema=TENANT)
