"""Tables of activities and their sign-ups (migration t0016)."""

from __future__ import annotations

import enum

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY

from tenants.metadata import tenant_metadata


class ActivityState(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CLOSED = "closed"
    FINISHED = "finished"
    CANCELLED = "cancelled"


class SignupState(enum.StrEnum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"  # by the family or the counselor, before the deadline
    LAPSED = "lapsed"  # a waitlisted pupil without the points when a place freed up
    ATTENDED = "attended"
    NO_SHOW = "no_show"
    REFUNDED = "refunded"  # the activity was cancelled


LIVE_SIGNUPS = (SignupState.CONFIRMED, SignupState.WAITLISTED, SignupState.ATTENDED,
                SignupState.NO_SHOW)  # fmt: skip

activities = Table(
    "activities",
    tenant_metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("unit_id", ForeignKey("tenant.units.id"), nullable=False,
           comment="The organiser: county, township, school or squadron"),
    Column("title", Text, nullable=False),
    Column("description", Text),
    Column("place", Text),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("ends_at", DateTime(timezone=True), nullable=False),
    Column("signup_opens_at", DateTime(timezone=True), nullable=False),
    Column("signup_closes_at", DateTime(timezone=True), nullable=False),
    Column("cancel_until", DateTime(timezone=True),
           comment="Sign-ups may be cancelled (and refunded) until then"),
    Column("capacity", Integer, nullable=False),
    Column("confirmed", Integer, nullable=False, server_default="0"),
    Column("grades", ARRAY(SmallInteger), comment="Eligible grades; null: all"),
    Column("area", Text, comment="urban or rural; null: both"),
    Column("cost", Integer, nullable=False, server_default="0"),
    Column("reward", Integer, nullable=False, server_default="0"),
    Column("no_show_keeps_cost", Boolean, nullable=False, server_default="true"),
    Column("state", Text, nullable=False, server_default=ActivityState.DRAFT.value),
    Column("checkin_code_hash", LargeBinary),
    Column("created_by", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("cancelled_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    CheckConstraint("state IN ('draft', 'published', 'closed', 'finished', 'cancelled')",
                    name="state"),
    CheckConstraint("capacity > 0 AND confirmed >= 0 AND confirmed <= capacity", name="capacity"),
    CheckConstraint("cost >= 0 AND reward >= 0", name="points"),
    CheckConstraint("area IS NULL OR area IN ('urban', 'rural')", name="area"),
    comment="Activities organised by a unit, with capacity, sign-up window, cost and reward.",
)  # fmt: skip

LIVE_SIGNUP = text("state NOT IN ('cancelled', 'lapsed', 'refunded')")
"""The sign-ups that count: one of them per pupil and activity (a unique index)."""

activity_signups = Table(
    "activity_signups",
    tenant_metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("activity_id", ForeignKey("tenant.activities.id"), nullable=False),
    Column("pupil_id", ForeignKey("tenant.pupils.id"), nullable=False, index=True),
    Column("state", Text, nullable=False),
    Column("hold_id", BigInteger, comment="The cost held in the ledger"),
    Column("signed_up_by", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint(
        "state IN ('confirmed', 'waitlisted', 'cancelled', 'lapsed', 'attended', 'no_show', "
        "'refunded')",
        name="state",
    ),
    Index("uq_activity_signups_live", "activity_id", "pupil_id", unique=True,
          postgresql_where=LIVE_SIGNUP),
    Index("ix_activity_signups_waiting", "activity_id", "id",
          postgresql_where=text("state = 'waitlisted'")),
    comment="Sign-ups: confirmed within capacity, else waitlisted in arrival order (id).",
)  # fmt: skip
