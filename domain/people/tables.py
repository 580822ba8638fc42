"""People of one county (tenant schema).

National ID and phone numbers are not collected yet; issue 4 adds them encrypted with a keyed
hash for search, as DESIGN.md requires.
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
    SmallInteger,
    Table,
    Text,
    UniqueConstraint,
    func,
)

from tenants.metadata import tenant_metadata


class PupilStatus(enum.StrEnum):
    PRE_MEMBER = "pre_member"
    MEMBER = "member"
    LEFT = "left"
    JOINED_LEAGUE = "joined_league"
    TRANSFERRED = "transferred"


class CounselorKind(enum.StrEnum):
    BRIGADE = "brigade"
    SQUADRON = "squadron"
    TEAM = "team"
    EXTERNAL = "external"


pupils = Table(
    "pupils",
    tenant_metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("squadron_id", ForeignKey("tenant.units.id"), nullable=False, index=True),
    Column("team_id", ForeignKey("tenant.units.id"), index=True),
    Column("name", Text, nullable=False),
    Column("gender", Text, nullable=False),
    Column("birth_date", Date),
    Column("grade", SmallInteger, nullable=False),
    Column("status", Text, nullable=False, server_default=PupilStatus.MEMBER.value),
    Column("joined_on", Date, comment="入队 date"),
    Column("batch", Text, comment="入队 batch (分批入队)"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("gender IN ('male', 'female')", name="gender"),
    CheckConstraint("grade BETWEEN 1 AND 9", name="grade"),
    CheckConstraint(
        "status IN (" + ", ".join(repr(s.value) for s in PupilStatus) + ")", name="status"
    ),
)

guardians = Table(
    "guardians",
    tenant_metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("name", Text, nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("user_id", BigInteger, index=True, comment="The guardian's account (shared.users)"),
)

guardian_bindings = Table(
    "guardian_bindings",
    tenant_metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("guardian_id", ForeignKey("tenant.guardians.id"), nullable=False),
    Column("pupil_id", ForeignKey("tenant.pupils.id"), nullable=False, index=True),
    Column("relation", Text, nullable=False),
    Column("verified_at", DateTime(timezone=True)),
    UniqueConstraint("guardian_id", "pupil_id"),
)

counselors = Table(
    "counselors",
    tenant_metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("name", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("unit_id", ForeignKey("tenant.units.id"), nullable=False, index=True),
    Column("appointed_on", Date),
    CheckConstraint(
        "kind IN (" + ", ".join(repr(k.value) for k in CounselorKind) + ")", name="kind"
    ),
)
