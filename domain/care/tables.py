"""Tables of care (migration t0021): pupils in hardship (希望小屋, aid), who cares for each,
the visit log ("一户一册一人"), and volunteer projects claimed rather than assigned."""

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
    Numeric,
    Table,
    Text,
    func,
)

from tenants.metadata import tenant_metadata


class ProjectState(enum.StrEnum):
    NEED = "need"
    PUBLISHED = "published"
    CLAIMED = "claimed"
    CARRIED_OUT = "carried_out"
    REVIEWED = "reviewed"


care_records = Table(
    "care_records",
    tenant_metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("pupil_id", ForeignKey("tenant.pupils.id"), nullable=False, index=True),
    Column("kind", Text, nullable=False, comment="hope_room (希望小屋), aid or other"),
    Column("note", Text, comment="The child's situation (personal data: carers and the county)"),
    Column("started_on", Date, nullable=False),
    Column("ended_on", Date),
    Column("created_by", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("kind IN ('hope_room', 'aid', 'other')", name="kind"),
    comment="Pupils in hardship cared for: readable by their carers and the county admin only.",
)

care_carers = Table(
    "care_carers",
    tenant_metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("record_id", ForeignKey("tenant.care_records.id"), nullable=False, index=True),
    Column("user_id", BigInteger, nullable=False, comment="The carer's account (shared.users)"),
    Column("name", Text, nullable=False),
    Column("since", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("until", DateTime(timezone=True)),
    comment="Who cares for a child (a volunteer paired one to one, a counselor).",
)

care_aid = Table(
    "care_aid",
    tenant_metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("record_id", ForeignKey("tenant.care_records.id"), nullable=False, index=True),
    Column("on_date", Date, nullable=False),
    Column("amount", Numeric(12, 2), nullable=False, comment="Yuan"),
    Column("source", Text, nullable=False, comment="Who gave it (a fund, a company, a donor)"),
    Column("note", Text),
    Column("recorded_by", Text),
    CheckConstraint("amount > 0", name="amount"),
    comment="Aid given to a child in hardship, with amount and source.",
)

care_visits = Table(
    "care_visits",
    tenant_metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("record_id", ForeignKey("tenant.care_records.id"), nullable=False, index=True),
    Column("visited_on", Date, nullable=False),
    Column("volunteer", Text, nullable=False),
    Column("what", Text, nullable=False, comment="What was done"),
    Column("needs", Text, comment="What the child needs next"),
    Column("recorded_by", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    comment="The visit log of a child: who, when, what was done, what is needed next.",
)

volunteer_projects = Table(
    "volunteer_projects",
    tenant_metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("unit_id", ForeignKey("tenant.units.id"), nullable=False),
    Column("title", Text, nullable=False),
    Column("need", Text, nullable=False, comment="The need, as raised"),
    Column("state", Text, nullable=False, server_default=ProjectState.NEED.value),
    Column("claimed_by", Text, comment="Who claimed it (a volunteer team, a unit)"),
    Column("claimed_by_user", BigInteger, comment="The account that claimed it"),
    Column("claimed_at", DateTime(timezone=True)),
    Column("summary", Text, comment="What was carried out"),
    Column("carried_out_at", DateTime(timezone=True)),
    Column("review", Text),
    Column("reviewed_at", DateTime(timezone=True)),
    Column("created_by", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint(
        "state IN ('need', 'published', 'claimed', 'carried_out', 'reviewed')", name="state"
    ),
    comment="Volunteer projects: need → published → claimed → carried out → reviewed.",
)
