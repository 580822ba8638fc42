"""The job table: the outbox of every job and the state the API reports.

A job row is written in the same transaction as the data that needs it (state `pending`).
After commit the relay sends it to the broker (`queued`); the actor marks it `running`,
reports progress, and ends it `done` or `failed`. Tenant roles may insert and read the jobs of
their own county only (row-level security), never another county's.
"""

from __future__ import annotations

import enum

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from tenants.metadata import shared_metadata


class JobState(enum.StrEnum):
    PENDING = "pending"
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


jobs = Table(
    "jobs",
    shared_metadata,
    Column("id", UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")),
    Column("county_code", String(6), comment="County the job works on; null for platform jobs"),
    Column("actor", Text, nullable=False),
    Column("args", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("state", Text, nullable=False, server_default=JobState.PENDING.value),
    Column("dedup_key", Text, unique=True, comment="Same key, same job: enqueueing is idempotent"),
    Column("progress", Integer, nullable=False, server_default="0"),
    Column("total", Integer),
    Column("message", Text),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("error", Text),
    Column("result", JSONB),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("sent_at", DateTime(timezone=True)),
    Column("started_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_jobs_pending", "created_at", postgresql_where=text("state = 'pending'")),
    Index("ix_jobs_county_code", "county_code", "created_at"),
)


county_summaries = Table(
    "county_summaries",
    shared_metadata,
    Column(
        "county_code",
        String(6),
        ForeignKey("shared.tenants.code", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("figures", JSONB, nullable=False, comment="Counts by kind and status (see actors)"),
    Column("as_of", Date, comment="Stocks as of this day"),
    Column("since", Date, comment="Flows from this day (the academic year's start)"),
    Column("computed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("job_id", UUID(as_uuid=True), comment="The refresh_county_summary job that wrote it"),
    comment="Each county's figures, written by the refresh_county_summary job; the province "
    "reads its aggregates here without touching county schemas.",
)
