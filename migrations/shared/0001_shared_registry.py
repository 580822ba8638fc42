"""Shared schema: provinces, prefectures, county tenants, jobs.

Revision ID: s0001
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations.helpers import SHARED
from tenants.codes import PROVINCES

revision: str = "s0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("shared",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS ltree WITH SCHEMA public")
    provinces = op.create_table(
        "provinces",
        sa.Column("code", sa.String(2), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        schema=SHARED,
        comment="Province-level divisions (GB/T 2260 first two digits).",
    )
    op.bulk_insert(provinces, [{"code": c, "name": n} for c, n in PROVINCES.items()])
    op.create_table(
        "prefectures",
        sa.Column("code", sa.String(4), primary_key=True),
        sa.Column(
            "province_code",
            sa.String(2),
            sa.ForeignKey("shared.provinces.code", name="fk_prefectures_province_code_provinces"),
            nullable=False,
        ),
        sa.Column("name", sa.Text, nullable=False),
        schema=SHARED,
        comment="Optional prefecture level (e.g. Jiaxing 3304) between province and county.",
    )
    status = postgresql.ENUM(
        "provisioning", "active", "archived", name="tenant_status", schema=SHARED
    )
    op.create_table(
        "tenants",
        sa.Column(
            "code", sa.String(6), primary_key=True, comment="County administrative code, GB/T 2260"
        ),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column(
            "province_code",
            sa.String(2),
            sa.ForeignKey("shared.provinces.code", name="fk_tenants_province_code_provinces"),
            nullable=False,
        ),
        sa.Column(
            "prefecture_code",
            sa.String(4),
            sa.ForeignKey("shared.prefectures.code", name="fk_tenants_prefecture_code_prefectures"),
        ),
        sa.Column("schema_name", sa.Text, nullable=False),
        sa.Column("role_name", sa.Text, nullable=False),
        sa.Column("status", status, nullable=False),
        sa.Column("schema_version", sa.Text, comment="Alembic revision the county's schema is at"),
        sa.Column("migration_error", sa.Text, comment="Last failed migration, cleared on success"),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("archived_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("code ~ '^[0-9]{6}$'", name="ck_tenants_code_format"),
        sa.CheckConstraint("left(code, 2) = province_code", name="ck_tenants_code_in_province"),
        sa.UniqueConstraint("schema_name", name="uq_tenants_schema_name"),
        sa.UniqueConstraint("role_name", name="uq_tenants_role_name"),
        schema=SHARED,
        comment="One row per county committee; each owns a PostgreSQL schema and role.",
    )
    op.create_index("ix_tenants_province_code", "tenants", ["province_code"], schema=SHARED)
    op.create_index("ix_tenants_prefecture_code", "tenants", ["prefecture_code"], schema=SHARED)

    op.create_table(
        "jobs",
        sa.Column(
            "id",
            sa.UUID(as_uuid=True),
            primary_key=True,
            server_default=sa.text("gen_random_uuid()"),
        ),
        sa.Column(
            "county_code",
            sa.String(6),
            comment="County the job works on; null for platform jobs",
        ),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("args", postgresql.JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("state", sa.Text, nullable=False, server_default="pending"),
        sa.Column("dedup_key", sa.Text, comment="Same key, same job: enqueueing is idempotent"),
        sa.Column("progress", sa.Integer, nullable=False, server_default="0"),
        sa.Column("total", sa.Integer),
        sa.Column("message", sa.Text),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("error", sa.Text),
        sa.Column("result", postgresql.JSONB),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.UniqueConstraint("dedup_key", name="uq_jobs_dedup_key"),
        schema=SHARED,
    )
    op.create_index(
        "ix_jobs_pending",
        "jobs",
        ["created_at"],
        schema=SHARED,
        postgresql_where=sa.text("state = 'pending'"),
    )
    op.create_index("ix_jobs_county_code", "jobs", ["county_code", "created_at"], schema=SHARED)

    # County roles reach the shared schema only through the grants of
    # tenants.grants.ensure_shared_grants; rows of jobs only for their own county
    # (a county role's name ends with its code).
    op.execute(f"REVOKE ALL ON SCHEMA {SHARED} FROM PUBLIC")
    op.execute(f"ALTER TABLE {SHARED}.jobs ENABLE ROW LEVEL SECURITY")
    op.execute(
        f"""
        CREATE POLICY jobs_of_own_county ON {SHARED}.jobs
        USING (county_code = right(current_user, 6))
        WITH CHECK (county_code = right(current_user, 6))
        """
    )


def downgrade() -> None:
    op.drop_table("jobs", schema=SHARED)
    op.drop_table("tenants", schema=SHARED)
    op.execute(f"DROP TYPE {SHARED}.tenant_status")
    op.drop_table("prefectures", schema=SHARED)
    op.drop_table("provinces", schema=SHARED)
