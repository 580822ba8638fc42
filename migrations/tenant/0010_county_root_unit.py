"""Every county has its root unit (kind `county`, path `c`, named after the county) from the
moment it is onboarded: without it a county set up through the API could create no unit at
all (every unit needs a parent), and an import had nothing to hang its townships on.

Runs during onboarding (the registry row exists by then) and adds the root to any county
that lacks it.

Revision ID: t0010
Revises: t0009
Create Date: 2026-11-23
"""

from collections.abc import Sequence

from alembic import op

from migrations.helpers import SHARED, current_schema

revision: str = "t0010"
down_revision: str | Sequence[str] | None = "t0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    schema = current_schema()
    op.execute(
        f"""
        INSERT INTO "{schema}".units (kind, name, path)
        SELECT 'county', t.name, 'c'
        FROM {SHARED}.tenants t
        WHERE t.schema_name = '{schema}'
          AND NOT EXISTS (SELECT 1 FROM "{schema}".units WHERE path = 'c')
        """
    )


def downgrade() -> None:
    pass  # the root stays: units hang on it
