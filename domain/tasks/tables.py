"""Tables of collection tasks and their submissions (migration t0019)."""

from __future__ import annotations

import enum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Integer,
    SmallInteger,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from tenants.metadata import tenant_metadata


class TaskKind(enum.StrEnum):
    LESSON = "lesson"  # 红领巾爱学习: an online lesson, completed (no review)
    SUBMISSION = "submission"  # a work (text, files), reviewed by a counselor
    FEEDBACK = "feedback"  # a form of questions, reviewed by a counselor


class TaskState(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CLOSED = "closed"


class SubmissionState(enum.StrEnum):
    SUBMITTED = "submitted"  # waiting for review; the family may still replace it
    APPROVED = "approved"  # rewarded; final
    REJECTED = "rejected"  # with the counselor's note; the family may submit again


tasks = Table(
    "tasks",
    tenant_metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("unit_id", ForeignKey("tenant.units.id"), nullable=False,
           comment="The organiser: county, township, school or squadron"),
    Column("kind", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("description", Text),
    Column("content_url", Text, comment="Lessons: the link to the lesson"),
    Column("questions", JSONB,
           comment="Feedback forms: [{key, label, kind: text|choice, choices, required}]"),
    Column("grades", ARRAY(SmallInteger), comment="Eligible grades; null: all"),
    Column("opens_at", DateTime(timezone=True), nullable=False),
    Column("closes_at", DateTime(timezone=True), nullable=False),
    Column("reward", Integer, nullable=False, server_default="0",
           comment="Points on approval (a lesson: on completion)"),
    Column("badge_id", ForeignKey("tenant.badges.id"),
           comment="A special badge granted on approval (a lesson: on completion)"),
    Column("state", Text, nullable=False, server_default=TaskState.DRAFT.value),
    Column("created_by", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("kind IN ('lesson', 'submission', 'feedback')", name="kind"),
    CheckConstraint("state IN ('draft', 'published', 'closed')", name="state"),
    CheckConstraint("reward >= 0", name="reward"),
    CheckConstraint("closes_at > opens_at", name="window"),
    comment="Collection tasks (征集) organised by a unit: lessons, works, feedback forms.",
)  # fmt: skip

task_submissions = Table(
    "task_submissions",
    tenant_metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("task_id", ForeignKey("tenant.tasks.id"), nullable=False),
    Column("pupil_id", ForeignKey("tenant.pupils.id"), nullable=False, index=True),
    Column("state", Text, nullable=False),
    Column("text", Text, comment="What the pupil wrote (personal data: cleared on erasure)"),
    Column("file_urls", ARRAY(Text), nullable=False, server_default=text("'{}'"),
           comment="References to the uploaded works (cleared on erasure)"),
    Column("answers", JSONB, comment="Feedback forms: question key -> answer (cleared on erasure)"),
    Column("submitted_by", Text),
    Column("submitted_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("reviewed_by", Text),
    Column("reviewed_at", DateTime(timezone=True)),
    Column("review_note", Text),
    Column("award_id", BigInteger,
           comment="The special badge's award (or the one the pupil held already that year)"),
    Column("transaction_id", BigInteger, comment="The ledger transaction of the reward"),
    CheckConstraint("state IN ('submitted', 'approved', 'rejected')", name="state"),
    UniqueConstraint("task_id", "pupil_id"),
    comment="One submission per pupil and task, replaced until approved; a lesson's is its completion.",
)  # fmt: skip
