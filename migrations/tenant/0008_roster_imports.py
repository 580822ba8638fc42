"""Roster imports: uploaded spreadsheets and the imports made of them, with their error
reports. An upload's content is cleared once its import has ended (it holds children's
personal data); a report is kept for the caller to download.

Revision ID: t0008
Revises: t0007
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from migrations.helpers import TENANT

revision: str = "t0008"
down_revision: str | Sequence[str] | None = "t0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, **kw: object) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), **kw)


def upgrade() -> None:
    op.create_table(
        "uploads",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("filename", sa.Text, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("sha256", sa.LargeBinary, nullable=False),
        sa.Column("content", sa.LargeBinary, comment="Cleared once its import has ended"),
        sa.Column("uploaded_by", sa.Text, comment="user:<id> or api_key:<id>"),
        _ts("created_at", nullable=False, server_default=sa.text("now()")),
        schema=TENANT,
        comment="Spreadsheets uploaded for an import (POST /uploads).",
    )
    op.create_table(
        "roster_imports",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column(
            "upload_id",
            sa.BigInteger,
            sa.ForeignKey(f"{TENANT}.uploads.id", name="fk_roster_imports_upload_id_uploads"),
            nullable=False,
        ),
        sa.Column("job_id", sa.Uuid, comment="The import_roster job (shared.jobs)"),
        sa.Column("state", sa.Text, nullable=False, server_default="pending"),
        sa.Column("requested_by", JSONB, nullable=False, comment="Who asked, and their reach"),
        sa.Column("rows", sa.Integer),
        sa.Column("created", sa.Integer),
        sa.Column("updated", sa.Integer),
        sa.Column("unchanged", sa.Integer),
        sa.Column("error_count", sa.Integer),
        sa.Column("errors", JSONB, comment="The first row errors, for the API"),
        sa.Column("notes", JSONB, comment="What was ignored (other sheets, a title row)"),
        sa.Column("report", sa.LargeBinary, comment="The sheet with an error column"),
        _ts("created_at", nullable=False, server_default=sa.text("now()")),
        _ts("finished_at"),
        sa.CheckConstraint(
            "kind IN ('pupils', 'units', 'counselors')", name="ck_roster_imports_kind"
        ),
        sa.CheckConstraint(
            "state IN ('pending', 'running', 'invalid', 'done', 'failed')",
            name="ck_roster_imports_state",
        ),
        schema=TENANT,
        comment="Imports of a roster spreadsheet: checked as a whole, applied all or nothing.",
    )


def downgrade() -> None:
    op.drop_table("roster_imports", schema=TENANT)
    op.drop_table("uploads", schema=TENANT)
