"""Care (关爱): pupils in hardship (希望小屋, aid), their carers and visit log, and volunteer
projects (need → published → claimed → carried out → reviewed).

Revision ID: t0021
Revises: t0020
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations.helpers import TENANT

revision: str = "t0021"
down_revision: str | Sequence[str] | None = "t0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, **kw: object) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), **kw)


def _fk(column: str, table: str, target: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        column,
        sa.BigInteger,
        sa.ForeignKey(f"{TENANT}.{target}.id", name=f"fk_{table}_{column}_{target}"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "care_records",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        _fk("pupil_id", "care_records", "pupils"),
        sa.Column("kind", sa.Text, nullable=False, comment="hope_room (希望小屋), aid or other"),
        sa.Column("note", sa.Text,
                  comment="The child's situation (personal data: carers and the county)"),
        sa.Column("started_on", sa.Date, nullable=False),
        sa.Column("ended_on", sa.Date),
        sa.Column("created_by", sa.Text),
        _ts("created_at", nullable=False, server_default=sa.text("now()")),
        sa.CheckConstraint("kind IN ('hope_room', 'aid', 'other')", name="ck_care_records_kind"),
        schema=TENANT,
        comment="Pupils in hardship cared for: readable by their carers and the county admin only.",
    )  # fmt: skip
    op.create_index("ix_care_records_pupil_id", "care_records", ["pupil_id"], schema=TENANT)
    op.create_table(
        "care_carers",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        _fk("record_id", "care_carers", "care_records"),
        sa.Column("user_id", sa.BigInteger, nullable=False,
                  comment="The carer's account (shared.users)"),
        sa.Column("name", sa.Text, nullable=False),
        _ts("since", nullable=False, server_default=sa.text("now()")),
        _ts("until"),
        schema=TENANT,
        comment="Who cares for a child (a volunteer paired one to one, a counselor).",
    )  # fmt: skip
    op.create_index("ix_care_carers_record_id", "care_carers", ["record_id"], schema=TENANT)
    op.create_table(
        "care_aid",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        _fk("record_id", "care_aid", "care_records"),
        sa.Column("on_date", sa.Date, nullable=False),
        sa.Column("amount", sa.Numeric(12, 2), nullable=False, comment="Yuan"),
        sa.Column("source", sa.Text, nullable=False,
                  comment="Who gave it (a fund, a company, a donor)"),
        sa.Column("note", sa.Text),
        sa.Column("recorded_by", sa.Text),
        sa.CheckConstraint("amount > 0", name="ck_care_aid_amount"),
        schema=TENANT,
        comment="Aid given to a child in hardship, with amount and source.",
    )  # fmt: skip
    op.create_index("ix_care_aid_record_id", "care_aid", ["record_id"], schema=TENANT)
    op.create_table(
        "care_visits",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        _fk("record_id", "care_visits", "care_records"),
        sa.Column("visited_on", sa.Date, nullable=False),
        sa.Column("volunteer", sa.Text, nullable=False),
        sa.Column("what", sa.Text, nullable=False, comment="What was done"),
        sa.Column("needs", sa.Text, comment="What the child needs next"),
        sa.Column("recorded_by", sa.Text),
        _ts("created_at", nullable=False, server_default=sa.text("now()")),
        schema=TENANT,
        comment="The visit log of a child: who, when, what was done, what is needed next.",
    )
    op.create_index("ix_care_visits_record_id", "care_visits", ["record_id"], schema=TENANT)
    op.create_table(
        "volunteer_projects",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        _fk("unit_id", "volunteer_projects", "units"),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("need", sa.Text, nullable=False, comment="The need, as raised"),
        sa.Column("state", sa.Text, nullable=False, server_default="need"),
        sa.Column("claimed_by", sa.Text, comment="Who claimed it (a volunteer team, a unit)"),
        _ts("claimed_at"),
        sa.Column("summary", sa.Text, comment="What was carried out"),
        _ts("carried_out_at"),
        sa.Column("review", sa.Text),
        _ts("reviewed_at"),
        sa.Column("created_by", sa.Text),
        _ts("created_at", nullable=False, server_default=sa.text("now()")),
        sa.CheckConstraint(
            "state IN ('need', 'published', 'claimed', 'carried_out', 'reviewed')",
            name="ck_volunteer_projects_state",
        ),
        schema=TENANT,
        comment="Volunteer projects: need → published → claimed → carried out → reviewed.",
    )


def downgrade() -> None:
    for table in ("volunteer_projects", "care_visits", "care_aid", "care_carers", "care_records"):
        op.drop_table(table, schema=TENANT)
