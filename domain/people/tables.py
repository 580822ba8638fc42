"""People of one county (tenant schema).

National ID numbers and phone numbers are stored encrypted (`*_enc`, domain.personal.crypto)
and found by keyed hash (`*_hash`); they are never stored in the clear.
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
    Integer,
    LargeBinary,
    SmallInteger,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)

from tenants.metadata import tenant_metadata


class PupilStatus(enum.StrEnum):
    PRE_MEMBER = "pre_member"
    MEMBER = "member"
    LEFT = "left"
    JOINED_LEAGUE = "joined_league"
    TRANSFERRED = "transferred"
    ERASED = "erased"  # personal data erased on a guardian's request; the row stays


# Pupils counted as "in" a unit: members and those preparing to join, not those who left.
CURRENT_STATUSES = (PupilStatus.MEMBER.value, PupilStatus.PRE_MEMBER.value)


class CounselorKind(enum.StrEnum):
    BRIGADE = "brigade"
    SQUADRON = "squadron"
    TEAM = "team"
    EXTERNAL = "external"


# The kinds of unit each kind of counselor is appointed to.
COUNSELOR_UNIT_KINDS = {"brigade": {"brigade"}, "squadron": {"squadron"}, "team": {"team"},
                        "external": {"township", "community", "brigade", "squadron", "team"}}  # fmt: skip


pupils = Table(
    "pupils",
    tenant_metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("squadron_id", ForeignKey("tenant.units.id"), nullable=False, index=True),
    Column("team_id", ForeignKey("tenant.units.id"), index=True),
    Column("name", Text, nullable=False),
    Column("gender", Text, comment="Null once erased"),
    Column("birth_date", Date),
    Column("grade", SmallInteger, nullable=False),
    Column("status", Text, nullable=False, server_default=PupilStatus.MEMBER.value),
    Column("joined_on", Date, comment="入队 date"),
    Column("batch", Text, comment="入队 batch (分批入队)"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("id_number_enc", Text, comment="ID number, encrypted"),
    Column("id_number_hash", LargeBinary, unique=True, comment="Keyed hash of the ID number"),
    Column("name_pinyin", Text, comment="Full pinyin of the name, for search"),
    Column("name_initials", Text, comment="Pinyin initials of the name, for search"),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("erased_at", DateTime(timezone=True), comment="Personal data erased on request"),
    # Where the pupil sits: every roster joins its units on this (see migration t0007).
    Index("ix_pupils_placement", text("coalesce(team_id, squadron_id)")),
    Index(
        "ix_pupils_name_pinyin", "name_pinyin", postgresql_ops={"name_pinyin": "text_pattern_ops"}
    ),
    Index(
        "ix_pupils_name_initials",
        "name_initials",
        postgresql_ops={"name_initials": "text_pattern_ops"},
    ),
    CheckConstraint("gender IN ('male', 'female')", name="gender"),
    CheckConstraint("grade BETWEEN 1 AND 9", name="grade"),
    CheckConstraint(
        "status IN (" + ", ".join(repr(s.value) for s in PupilStatus) + ")", name="status"
    ),
    CheckConstraint(
        "(status = 'erased') = (erased_at IS NOT NULL)"
        " AND (gender IS NOT NULL OR erased_at IS NOT NULL)",
        name="erased",
    ),
)

# An erased pupil's row stays (status history, ledgers) but is nobody's to see any more.
NOT_ERASED = pupils.c.status != PupilStatus.ERASED.value

guardians = Table(
    "guardians",
    tenant_metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("name", Text, nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("user_id", BigInteger, index=True, comment="The guardian's account (shared.users)"),
    Column("phone_enc", Text, comment="Phone number, encrypted"),
    Column("phone_hash", LargeBinary, index=True, comment="Keyed hash of the phone number"),
)

guardian_bindings = Table(
    "guardian_bindings",
    tenant_metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("guardian_id", ForeignKey("tenant.guardians.id"), nullable=False),
    Column("pupil_id", ForeignKey("tenant.pupils.id"), nullable=False, index=True),
    Column("relation", Text, nullable=False),
    Column("verified_at", DateTime(timezone=True)),
    Column("verified_by", Text, comment="code, id_number, or school"),
    Column("ended_at", DateTime(timezone=True), comment="Unbound; bound again clears it"),
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
    Column("ended_on", Date, comment="No longer a counselor (the last appointment ended)"),
    Column("user_id", BigInteger, comment="The counselor's account (shared.users), if any"),
    CheckConstraint(
        "kind IN (" + ", ".join(repr(k.value) for k in CounselorKind) + ")", name="kind"
    ),
)

counselor_appointments = Table(
    "counselor_appointments",
    tenant_metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("counselor_id", ForeignKey("tenant.counselors.id"), nullable=False, index=True),
    Column("unit_id", ForeignKey("tenant.units.id"), nullable=False),
    Column("kind", Text, nullable=False),
    Column("started_on", Date, nullable=False),
    Column("ended_on", Date),
    comment="Every appointment of a counselor: where, as what, from when to when.",
)


pupil_status_changes = Table(
    "pupil_status_changes",
    tenant_metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("pupil_id", ForeignKey("tenant.pupils.id"), nullable=False, index=True),
    Column("from_status", Text),
    Column("to_status", Text, nullable=False),
    Column("on_date", Date, nullable=False, comment="When it took effect (入队, 离队 ...)"),
    Column("batch", Text),
    Column("note", Text),
    Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    comment="Every change of a pupil's status, so any figure can be asked as of a date.",
)

grade_promotions = Table(
    "grade_promotions",
    tenant_metadata,
    Column("academic_year", Integer, primary_key=True, comment="Its first calendar year"),
    Column("promoted_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("pupils", Integer, nullable=False),
    Column("squadrons", Integer, nullable=False),
    comment="The start-of-year promotion, done once per academic year.",
)


binding_codes = Table(
    "binding_codes",
    tenant_metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("pupil_id", ForeignKey("tenant.pupils.id"), nullable=False, index=True),
    Column("code_hash", LargeBinary, nullable=False, unique=True),
    Column("issued_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True)),
    Column("issued_by", BigInteger, comment="User who issued it"),
    comment="One-time codes a school gives a family to bind their child.",
)

guardian_consents = Table(
    "guardian_consents",
    tenant_metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("guardian_id", ForeignKey("tenant.guardians.id"), nullable=False, index=True),
    Column("pupil_id", ForeignKey("tenant.pupils.id"), nullable=False, index=True),
    Column("purpose", Text, nullable=False, comment="roster; later e.g. cross_county_pairing"),
    Column("notice_version", Text, nullable=False),
    Column("consented_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("withdrawn_at", DateTime(timezone=True)),
    comment="A guardian's consent (PIPL art. 31 for children under 14), with the notice's version.",
)


class DataRequestKind(enum.StrEnum):
    SEE = "see"
    COPY = "copy"
    CORRECT = "correct"
    DELETE = "delete"


class DataRequestState(enum.StrEnum):
    PENDING = "pending"
    COMPLETED = "completed"
    REJECTED = "rejected"


data_requests = Table(
    "data_requests",
    tenant_metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("pupil_id", ForeignKey("tenant.pupils.id"), nullable=False, index=True),
    Column("kind", Text, nullable=False),
    Column("note", Text),
    Column("requested_by", BigInteger, comment="The user (shared.users) who asked"),
    Column("guardian_id", BigInteger, comment="The guardian who asked, if one did"),
    Column("state", Text, nullable=False, server_default=DataRequestState.PENDING.value),
    Column("requested_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("handled_at", DateTime(timezone=True)),
    Column("handled_by", BigInteger),
    Column("answer", Text, comment="What was done, or why not"),
    CheckConstraint("kind IN ('see', 'copy', 'correct', 'delete')", name="kind"),
    CheckConstraint("state IN ('pending', 'completed', 'rejected')", name="state"),
    comment="Guardians' requests about a child's personal data (PIPL art. 44-47).",
)
