"""Imports of a school's one-star list (一星章名单): a fourth kind of roster import.

Revision ID: t0013
Revises: t0012
Create Date: 2026-11-23
"""

from collections.abc import Sequence

from alembic import op

from migrations.helpers import TENANT

revision: str = "t0013"
down_revision: str | Sequence[str] | None = "t0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_constraint("ck_roster_imports_kind", "roster_imports", schema=TENANT)
    op.create_check_constraint(
        "ck_roster_imports_kind",
        "roster_imports",
        "kind IN ('pupils', 'units', 'counselors', 'one_star')",
        schema=TENANT,
    )


def downgrade() -> None:
    op.drop_constraint("ck_roster_imports_kind", "roster_imports", schema=TENANT)
    op.create_check_constraint(
        "ck_roster_imports_kind",
        "roster_imports",
        "kind IN ('pupils', 'units', 'counselors')",
        schema=TENANT,
    )
