"""Benchmark migration: one more column and index on every county's units.

Revision ID: b0001_bench
Revises: the tenant head of this checkout (computed, so the benchmark follows new migrations)
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations.helpers import TENANT
from migrations.runner import Migrator

revision: str = "b0001_bench"
# The project's own tenant head (bench/ is only an extra version location of bench/tenants.py).
down_revision: str | Sequence[str] | None = Migrator().head("tenant")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("units", sa.Column("bench_note", sa.Text), schema=TENANT)
    op.create_index("ix_units_bench_note", "units", ["bench_note"], schema=TENANT)


def downgrade() -> None:
    op.drop_index("ix_units_bench_note", "units", schema=TENANT)
    op.drop_column("units", "bench_note", schema=TENANT)
