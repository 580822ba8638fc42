"""Tables of pairing (migrations s0008 and t0020).

A pairing lives in the shared schema (both counties read it); each side is referenced by
(county, kind, id) without a foreign key into a county's schema (Citus: no shared → tenant
keys). What one side shows the other is its `card`, written by its own county when it accepts:
a unit's name, kind and area, a pupil's given name, grade and school, a counselor's name and
unit — never an ID number, phone, birth date or guardian.
"""

from __future__ import annotations

import enum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from tenants.metadata import shared_metadata, tenant_metadata


class PairingLevel(enum.StrEnum):
    COUNTY = "county"
    TOWNSHIP = "township"
    SCHOOL = "school"
    COUNSELOR = "counselor"
    PUPIL = "pupil"


class PairingState(enum.StrEnum):
    PROPOSED = "proposed"
    ACTIVE = "active"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    ENDED = "ended"


LIVE = (PairingState.PROPOSED.value, PairingState.ACTIVE.value)


def _side(prefix: str) -> list[Column]:  # type: ignore[type-arg]
    return [
        Column(f"{prefix}_county", String(6), nullable=False),
        Column(f"{prefix}_kind", Text, nullable=False, comment="unit, counselor or pupil"),
        Column(f"{prefix}_id", BigInteger, nullable=False),
        Column(f"{prefix}_path", Text, nullable=False,
               comment="The side's unit path in its county (a pupil's, a counselor's unit)"),
        Column(f"{prefix}_accepted_at", DateTime(timezone=True)),
        Column(f"{prefix}_accepted_by", Text),
        Column(f"{prefix}_card", JSONB, comment="What the other side sees of this one"),
        Column(f"{prefix}_review", Text, comment="This side's review at the end"),
    ]  # fmt: skip


pairings = Table(
    "pairings",
    shared_metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("level", Text, nullable=False),
    Column("category", Text, comment="urban_rural, migrant, strong_weak or other"),
    *_side("a"),
    *_side("b"),
    Column("proposed_by", Text, nullable=False, comment="county:<code>, province:<code>, ..."),
    Column("goals", Text),
    Column("starts_on", Date),
    Column("ends_on", Date),
    Column("state", Text, nullable=False, server_default=PairingState.PROPOSED.value),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("closed_at", DateTime(timezone=True), comment="Declined, withdrawn or ended"),
    Column("closed_by", Text),
    CheckConstraint("level IN ('county', 'township', 'school', 'counselor', 'pupil')",
                    name="level"),
    CheckConstraint("state IN ('proposed', 'active', 'declined', 'withdrawn', 'ended')",
                    name="state"),
    CheckConstraint("category IS NULL OR category IN ('urban_rural', 'migrant', 'strong_weak', "
                    "'other')", name="category"),
    CheckConstraint("(a_county, a_kind, a_id) <> (b_county, b_kind, b_id)", name="two_sides"),
    Index("ix_pairings_a", "a_county", "a_kind", "a_id"),
    Index("ix_pairings_b", "b_county", "b_kind", "b_id"),
    Index("uq_pairings_live", "a_county", "a_kind", "a_id", "b_county", "b_kind", "b_id",
          unique=True, postgresql_where=text("state IN ('proposed', 'active')")),
    comment="Pairings (结对共建) of counties, townships, schools, counselors and pupils.",
)  # fmt: skip

pairing_events = Table(
    "pairing_events",
    shared_metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("pairing_id", ForeignKey("shared.pairings.id"), nullable=False, index=True),
    Column("kind", Text, nullable=False),
    Column("on_date", Date, nullable=False),
    Column("note", Text),
    Column("county_code", String(6), nullable=False, comment="The side that recorded it"),
    Column("recorded_by", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    comment="What paired sides did together (the 六个一, joint activities, exchanges).",
)

pairing_consents = Table(
    "pairing_consents",
    tenant_metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("pupil_id", ForeignKey("tenant.pupils.id"), nullable=False, index=True),
    Column("guardian_id", ForeignKey("tenant.guardians.id"), nullable=False),
    Column("notice_version", Text, nullable=False),
    Column("given_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("withdrawn_at", DateTime(timezone=True)),
    comment="A guardian's separate consent to share the pupil's partner view across counties "
    "(PIPL art. 23).",
)
