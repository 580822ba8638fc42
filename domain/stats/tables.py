"""The shared schema's statistics: the rollups of each prefecture and province, and the marks
that a county's figures changed (written by a trigger, turned into summary jobs).

Each county's own summary is `workers.jobs.county_summaries`; a region's is recomputed from
its counties' rows, never added to, so a job run twice leaves the same numbers.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Identity, Integer, String, Table, Text, func
from sqlalchemy.dialects.postgresql import JSONB

from tenants.metadata import shared_metadata

region_summaries = Table(
    "region_summaries",
    shared_metadata,
    Column("code", String(4), primary_key=True, comment="Province (2 digits) or prefecture (4)"),
    Column("level", Text, nullable=False, comment="province or prefecture"),
    Column("figures", JSONB, nullable=False, comment="The sum of its counties' summaries"),
    Column("counties", Integer, nullable=False, comment="Counties summed"),
    Column("counties_missing", Integer, nullable=False,
           comment="Active counties without a summary yet"),
    Column("counties_onboarding", Integer, nullable=False,
           comment="Counties still being onboarded (not summed)"),
    Column("oldest_county_at", DateTime(timezone=True),
           comment="When the oldest of the summed county summaries was computed"),
    Column("computed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    comment="Each prefecture's and province's figures: what their users see, in one row.",
)  # fmt: skip

summary_marks = Table(
    "summary_marks",
    shared_metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("county_code", String(6), nullable=False),
    Column("marked_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    comment="A county's figures changed (one row per writing transaction, by trigger); the "
    "summariser turns them into refresh_county_summary jobs. Insert-only: no row lock is shared "
    "between two transactions of a county.",
)
