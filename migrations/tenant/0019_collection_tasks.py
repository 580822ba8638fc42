"""Collection tasks (征集): online lessons, work submissions and feedback forms, organised by a
unit; one submission per pupil and task, reviewed by a counselor, its reward posted in the
ledger and its special badge awarded once.

Revision ID: t0019
Revises: t0018
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from migrations.helpers import TENANT

revision: str = "t0019"
down_revision: str | Sequence[str] | None = "t0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, **kw: object) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), **kw)


def _fk(column: str, table: str, target: str, **kw: object) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        column,
        sa.BigInteger,
        sa.ForeignKey(f"{TENANT}.{target}.id", name=f"fk_{table}_{column}_{target}"),
        **kw,
    )


def upgrade() -> None:
    op.create_table(
        "tasks",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        _fk("unit_id", "tasks", "units", nullable=False,
            comment="The organiser: county, township, school or squadron"),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("content_url", sa.Text, comment="Lessons: the link to the lesson"),
        sa.Column("questions", JSONB,
                  comment="Feedback forms: [{key, label, kind: text|choice, choices, required}]"),
        sa.Column("grades", ARRAY(sa.SmallInteger), comment="Eligible grades; null: all"),
        _ts("opens_at", nullable=False),
        _ts("closes_at", nullable=False),
        sa.Column("reward", sa.Integer, nullable=False, server_default="0",
                  comment="Points on approval (a lesson: on completion)"),
        _fk("badge_id", "tasks", "badges",
            comment="A special badge granted on approval (a lesson: on completion)"),
        sa.Column("state", sa.Text, nullable=False, server_default="draft"),
        sa.Column("created_by", sa.Text),
        _ts("created_at", nullable=False, server_default=sa.text("now()")),
        sa.CheckConstraint("kind IN ('lesson', 'submission', 'feedback')", name="ck_tasks_kind"),
        sa.CheckConstraint("state IN ('draft', 'published', 'closed')", name="ck_tasks_state"),
        sa.CheckConstraint("reward >= 0", name="ck_tasks_reward"),
        sa.CheckConstraint("closes_at > opens_at", name="ck_tasks_window"),
        schema=TENANT,
        comment="Collection tasks (征集) organised by a unit: lessons, works, feedback forms.",
    )  # fmt: skip
    op.create_table(
        "task_submissions",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        _fk("task_id", "task_submissions", "tasks", nullable=False),
        _fk("pupil_id", "task_submissions", "pupils", nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("text", sa.Text,
                  comment="What the pupil wrote (personal data: cleared on erasure)"),
        sa.Column("file_urls", ARRAY(sa.Text), nullable=False, server_default=sa.text("'{}'"),
                  comment="References to the uploaded works (cleared on erasure)"),
        sa.Column("answers", JSONB,
                  comment="Feedback forms: question key -> answer (cleared on erasure)"),
        sa.Column("submitted_by", sa.Text),
        _ts("submitted_at", nullable=False, server_default=sa.text("now()")),
        sa.Column("reviewed_by", sa.Text),
        _ts("reviewed_at"),
        sa.Column("review_note", sa.Text),
        sa.Column("award_id", sa.BigInteger,
                  comment="The special badge's award (or the one the pupil held already that year)"),
        sa.Column("transaction_id", sa.BigInteger,
                  comment="The ledger transaction of the reward"),
        sa.CheckConstraint("state IN ('submitted', 'approved', 'rejected')",
                           name="ck_task_submissions_state"),
        sa.UniqueConstraint("task_id", "pupil_id", name="uq_task_submissions_task_id_pupil_id"),
        schema=TENANT,
        comment="One submission per pupil and task, replaced until approved; a lesson's is its "
        "completion.",
    )  # fmt: skip
    op.create_index("ix_task_submissions_pupil_id", "task_submissions", ["pupil_id"], schema=TENANT)


def downgrade() -> None:
    op.drop_table("task_submissions", schema=TENANT)
    op.drop_table("tasks", schema=TENANT)
