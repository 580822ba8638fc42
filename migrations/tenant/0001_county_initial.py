"""County schema: organisation units, pupils, guardians, counselors, badge catalogue.

Revision ID: t0001
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from domain.types import LTree
from migrations.helpers import TENANT

revision: str = "t0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("tenant",)
depends_on: str | Sequence[str] | None = None


def _id() -> sa.Column:
    return sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True)


def _fk(column: str, table: str, target: str, **kw: object) -> sa.Column:
    return sa.Column(
        column,
        sa.BigInteger,
        sa.ForeignKey(f"{TENANT}.{target}.id", name=f"fk_{table}_{column}_{target}"),
        **kw,
    )


def _created(name: str = "created_at") -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def upgrade() -> None:
    op.create_table(
        "units",
        _id(),
        _fk("parent_id", "units", "units"),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("path", LTree, nullable=False, comment="ltree path, one label per level"),
        sa.Column("area", sa.Text, comment="urban or rural"),
        sa.Column(
            "school_kind", sa.Text, comment="brigades only: ordinary, migrant, demonstration"
        ),
        sa.Column("grade", sa.Integer, comment="squadrons only: school grade 1-9"),
        _created(),
        sa.Column("archived_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint(
            "kind IN ('county', 'township', 'community', 'brigade', 'squadron', 'team')",
            name="ck_units_kind",
        ),
        sa.CheckConstraint("area IS NULL OR area IN ('urban', 'rural')", name="ck_units_area"),
        sa.CheckConstraint(
            "school_kind IS NULL OR school_kind IN ('ordinary', 'migrant', 'demonstration')",
            name="ck_units_school_kind",
        ),
        sa.CheckConstraint("(kind = 'county') = (parent_id IS NULL)", name="ck_units_one_root"),
        sa.UniqueConstraint("path", name="uq_units_path"),
        schema=TENANT,
        comment="County, townships/communities, school brigades, squadrons and teams.",
    )
    op.create_index("ix_units_parent_id", "units", ["parent_id"], schema=TENANT)
    op.create_index("ix_units_path_gist", "units", ["path"], schema=TENANT, postgresql_using="gist")

    op.create_table(
        "pupils",
        _id(),
        _fk("squadron_id", "pupils", "units", nullable=False),
        _fk("team_id", "pupils", "units"),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("gender", sa.Text, nullable=False),
        sa.Column("birth_date", sa.Date),
        sa.Column("grade", sa.SmallInteger, nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="member"),
        sa.Column("joined_on", sa.Date, comment="入队 date"),
        sa.Column("batch", sa.Text, comment="入队 batch (分批入队)"),
        _created(),
        sa.CheckConstraint("gender IN ('male', 'female')", name="ck_pupils_gender"),
        sa.CheckConstraint("grade BETWEEN 1 AND 9", name="ck_pupils_grade"),
        sa.CheckConstraint(
            "status IN ('pre_member', 'member', 'left', 'joined_league', 'transferred')",
            name="ck_pupils_status",
        ),
        schema=TENANT,
    )
    op.create_index("ix_pupils_squadron_id", "pupils", ["squadron_id"], schema=TENANT)
    op.create_index("ix_pupils_team_id", "pupils", ["team_id"], schema=TENANT)

    op.create_table(
        "guardians",
        _id(),
        sa.Column("name", sa.Text, nullable=False),
        _created("registered_at"),
        schema=TENANT,
    )
    op.create_table(
        "guardian_bindings",
        _id(),
        _fk("guardian_id", "guardian_bindings", "guardians", nullable=False),
        _fk("pupil_id", "guardian_bindings", "pupils", nullable=False),
        sa.Column("relation", sa.Text, nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint(
            "guardian_id", "pupil_id", name="uq_guardian_bindings_guardian_id_pupil_id"
        ),
        schema=TENANT,
    )
    op.create_index(
        "ix_guardian_bindings_pupil_id", "guardian_bindings", ["pupil_id"], schema=TENANT
    )

    op.create_table(
        "counselors",
        _id(),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        _fk("unit_id", "counselors", "units", nullable=False),
        sa.Column("appointed_on", sa.Date),
        sa.CheckConstraint(
            "kind IN ('brigade', 'squadron', 'team', 'external')", name="ck_counselors_kind"
        ),
        schema=TENANT,
    )
    op.create_index("ix_counselors_unit_id", "counselors", ["unit_id"], schema=TENANT)

    op.create_table(
        "badges",
        _id(),
        sa.Column("code", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("level", sa.Text, nullable=False),
        sa.Column("family", sa.Text, comment="basic badges: hongqi, hongxing or huoju"),
        sa.Column("sort_order", sa.SmallInteger, nullable=False),
        sa.Column("criteria", sa.Text),
        sa.Column("points", sa.Integer, nullable=False, server_default="0"),
        sa.Column("national", sa.Boolean, nullable=False, server_default="false"),
        sa.CheckConstraint(
            "level IN ('basic', 'star1', 'star2', 'star3', 'star4', 'star5', 'special', "
            "'collective')",
            name="ck_badges_level",
        ),
        sa.UniqueConstraint("code", name="uq_badges_code"),
        schema=TENANT,
    )


def downgrade() -> None:
    for table in ("badges", "counselors", "guardian_bindings", "guardians", "pupils", "units"):
        op.drop_table(table, schema=TENANT)
