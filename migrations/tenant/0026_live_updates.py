"""Announce the changes frontends wait on (see the shared schema's `notify_live`): an
activity's places (its sign-ups, its own state and capacity) and a redemption's state.

Revision ID: t0026
Revises: t0025
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from alembic import op

from migrations.helpers import SHARED, current_schema

revision: str = "t0026"
down_revision: str | Sequence[str] | None = "t0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: (table, events, the object's kind, the column naming it)
ANNOUNCED = (
    ("activities", "UPDATE", "activity", "id"),
    ("activity_signups", "INSERT OR UPDATE OR DELETE", "activity", "activity_id"),
    ("redemptions", "UPDATE", "redemption", "id"),
)


def upgrade() -> None:
    schema = current_schema()
    for table, events, kind, column in ANNOUNCED:
        op.execute(
            f'CREATE TRIGGER {table}_notify_live AFTER {events} ON "{schema}".{table}'
            f" FOR EACH ROW EXECUTE FUNCTION {SHARED}.notify_live('{kind}', '{column}')"
        )


def downgrade() -> None:
    schema = current_schema()
    for table, _events, _kind, _column in ANNOUNCED:
        op.execute(f'DROP TRIGGER {table}_notify_live ON "{schema}".{table}')
