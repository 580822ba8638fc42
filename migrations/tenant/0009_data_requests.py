"""A guardian's requests about a child's personal data (see, copy, correct, delete), and the
erasure a deletion request ends in: the pupil's row stays, pseudonymised (status `erased`,
no name, gender, birth date or ID number), so that history and ledgers stay whole.

Revision ID: t0009
Revises: t0008
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations.helpers import TENANT

revision: str = "t0009"
down_revision: str | Sequence[str] | None = "t0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES_V1 = "'pre_member', 'member', 'left', 'joined_league', 'transferred'"


def _ts(name: str, **kw: object) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), **kw)


def upgrade() -> None:
    op.alter_column("pupils", "gender", nullable=True, comment="Null once erased", schema=TENANT)
    op.add_column(
        "pupils", _ts("erased_at", comment="Personal data erased on request"), schema=TENANT
    )
    op.drop_constraint("ck_pupils_status", "pupils", schema=TENANT)
    op.create_check_constraint(
        "ck_pupils_status", "pupils", f"status IN ({STATUSES_V1}, 'erased')", schema=TENANT
    )
    op.create_check_constraint(
        "ck_pupils_erased",
        "pupils",
        "(status = 'erased') = (erased_at IS NOT NULL) AND (gender IS NOT NULL OR erased_at IS NOT NULL)",
        schema=TENANT,
    )
    op.create_table(
        "data_requests",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column(
            "pupil_id",
            sa.BigInteger,
            sa.ForeignKey(f"{TENANT}.pupils.id", name="fk_data_requests_pupil_id_pupils"),
            nullable=False,
        ),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("requested_by", sa.BigInteger, comment="The user (shared.users) who asked"),
        sa.Column("guardian_id", sa.BigInteger, comment="The guardian who asked, if one did"),
        sa.Column("state", sa.Text, nullable=False, server_default="pending"),
        _ts("requested_at", nullable=False, server_default=sa.text("now()")),
        _ts("handled_at"),
        sa.Column("handled_by", sa.BigInteger),
        sa.Column("answer", sa.Text, comment="What was done, or why not"),
        sa.CheckConstraint(
            "kind IN ('see', 'copy', 'correct', 'delete')", name="ck_data_requests_kind"
        ),
        sa.CheckConstraint(
            "state IN ('pending', 'completed', 'rejected')", name="ck_data_requests_state"
        ),
        schema=TENANT,
        comment="Guardians' requests about a child's personal data (PIPL art. 44-47).",
    )
    op.create_index("ix_data_requests_pupil_id", "data_requests", ["pupil_id"], schema=TENANT)


def downgrade() -> None:
    op.drop_table("data_requests", schema=TENANT)
    op.drop_constraint("ck_pupils_erased", "pupils", schema=TENANT)
    op.drop_constraint("ck_pupils_status", "pupils", schema=TENANT)
    op.create_check_constraint(
        "ck_pupils_status", "pupils", f"status IN ({STATUSES_V1})", schema=TENANT
    )
    op.drop_column("pupils", "erased_at", schema=TENANT)
    op.alter_column("pupils", "gender", nullable=False, schema=TENANT)
