"""Shared schema: the audit logs stay append-only, with one narrow exception for a guardian's
deletion request (PIPL art. 47): the `details` of an entry (old and new values of a
correction) may be replaced by `{"redacted": true}`, by the service's own login, saying so
with `redscarf.audit_redact`. Nothing else of an entry may change, and no entry may go.

Revision ID: s0006
Revises: s0005
Create Date: 2026-11-23
"""

from collections.abc import Sequence

from alembic import op

from migrations.helpers import SHARED

revision: str = "s0006"
down_revision: str | Sequence[str] | None = "s0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AUDIT_RETENTION_FLOOR_DAYS = 180  # as in s0003


def _function(redaction: bool) -> str:
    redact = """
            IF TG_OP = 'UPDATE'
               AND current_setting('redscarf.audit_redact', true) = 'on'
               AND NEW.details = '{"redacted": true}'::jsonb
               AND to_jsonb(NEW) - 'details' = to_jsonb(OLD) - 'details' THEN
                RETURN NEW;
            END IF;"""
    return f"""
        CREATE OR REPLACE FUNCTION {SHARED}.audit_log_append_only() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE'
               AND current_setting('redscarf.audit_purge', true) = 'on'
               AND OLD.at < now() - make_interval(days => {AUDIT_RETENTION_FLOOR_DAYS}) THEN
                RETURN OLD;
            END IF;{redact if redaction else ""}
            RAISE EXCEPTION 'the audit log is append-only (% refused)', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END $$
        """


def upgrade() -> None:
    op.execute(_function(redaction=True))


def downgrade() -> None:
    op.execute(_function(redaction=False))
