"""Uploaded spreadsheets and the imports made of them (migration t0008)."""

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
    LargeBinary,
    Table,
    Text,
    Uuid,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB

from tenants.metadata import tenant_metadata


class ImportKind(enum.StrEnum):
    PUPILS = "pupils"
    UNITS = "units"
    COUNSELORS = "counselors"
    ONE_STAR = "one_star"  # a school's yearly one-star list (一星章名单)


class ImportState(enum.StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    INVALID = "invalid"  # rows with errors: nothing applied, a report to download
    DONE = "done"
    FAILED = "failed"  # the job itself failed (after its retries): nothing applied


uploads = Table(
    "uploads",
    tenant_metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("filename", Text, nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", LargeBinary, nullable=False),
    Column("content", LargeBinary, comment="Cleared once its import has ended"),
    Column("uploaded_by", Text, comment="user:<id> or api_key:<id>"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    comment="Spreadsheets uploaded for an import (POST /uploads).",
)

roster_imports = Table(
    "roster_imports",
    tenant_metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("kind", Text, nullable=False),
    Column("upload_id", ForeignKey("tenant.uploads.id"), nullable=False),
    Column("job_id", Uuid, comment="The import_roster job (shared.jobs)"),
    Column("state", Text, nullable=False, server_default=ImportState.PENDING.value),
    Column("requested_by", JSONB, nullable=False, comment="Who asked, and their reach"),
    Column("rows", Integer),
    Column("created", Integer),
    Column("updated", Integer),
    Column("unchanged", Integer),
    Column("error_count", Integer),
    Column("errors", JSONB, comment="The first row errors, for the API"),
    Column("notes", JSONB, comment="What was ignored (other sheets, a title row)"),
    Column("report", LargeBinary, comment="The sheet with an error column"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("finished_at", DateTime(timezone=True)),
    CheckConstraint("kind IN ('pupils', 'units', 'counselors', 'one_star')", name="kind"),
    CheckConstraint("state IN ('pending', 'running', 'invalid', 'done', 'failed')", name="state"),
    comment="Imports of a roster spreadsheet: checked as a whole, applied all or nothing.",
)
