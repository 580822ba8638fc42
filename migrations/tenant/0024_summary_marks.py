"""Mark the county's figures stale whenever a table they are counted from changes (a
statement trigger, once per transaction: see the shared schema's `mark_summary_stale`).

Revision ID: t0024
Revises: t0023
Create Date: 2026-11-24
"""

from collections.abc import Sequence

from alembic import op

from migrations.helpers import SHARED, current_schema

revision: str = "t0024"
down_revision: str | Sequence[str] | None = "t0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTED = ("units", "pupils", "pupil_status_changes", "grade_promotions", "counselors",
           "counselor_appointments", "guardians", "guardian_bindings", "badge_awards",
           "ledger_postings", "ledger_holds", "activities", "activity_signups", "redemptions",
           "task_submissions")  # fmt: skip


def upgrade() -> None:
    schema = current_schema()
    for table in COUNTED:
        events = "INSERT" if table == "ledger_postings" else "INSERT OR UPDATE OR DELETE"
        op.execute(
            f'CREATE TRIGGER {table}_mark_summary AFTER {events} ON "{schema}".{table}'
            f" FOR EACH STATEMENT EXECUTE FUNCTION {SHARED}.mark_summary_stale()"
        )


def downgrade() -> None:
    schema = current_schema()
    for table in COUNTED:
        op.execute(f'DROP TRIGGER {table}_mark_summary ON "{schema}".{table}')
