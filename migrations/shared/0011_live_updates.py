"""Shared schema: live updates. A committed change that a frontend may be waiting on (a job's
progress, an activity's places, a redemption's state) is announced on the `redscarf_live`
channel with PostgreSQL's NOTIFY, which is delivered only on commit: no listener ever hears
of a change that was rolled back.

A payload names the object, never its content: `job:<uuid>` or `<county>:<kind>:<id>`. Every
API process listens (`redscarf/live.py`) and hands it to the subscriptions that watch that
object; each reads the object again through its own authorization.

`notify_live(kind, id column)` is the trigger of the county tables (see tenant migration
t0026); it derives the county from the schema it fires in, so a county announces only itself.

Revision ID: s0011
Revises: s0010
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from alembic import op

from migrations.helpers import SHARED

revision: str = "s0011"
down_revision: str | Sequence[str] | None = "s0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        f"""
        CREATE FUNCTION {SHARED}.notify_live() RETURNS trigger
        LANGUAGE plpgsql SET search_path = pg_catalog AS $$
        DECLARE
            changed jsonb := to_jsonb(CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END);
        BEGIN
            PERFORM pg_notify('redscarf_live', right(TG_TABLE_SCHEMA, 6) || ':' || TG_ARGV[0]
                              || ':' || (changed ->> TG_ARGV[1]));
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        f"""
        CREATE FUNCTION {SHARED}.notify_job() RETURNS trigger
        LANGUAGE plpgsql SET search_path = pg_catalog AS $$
        BEGIN
            PERFORM pg_notify('redscarf_live', 'job:' || NEW.id::text);
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        f"CREATE TRIGGER jobs_notify_live AFTER INSERT OR UPDATE ON {SHARED}.jobs"
        f" FOR EACH ROW EXECUTE FUNCTION {SHARED}.notify_job()"
    )


def downgrade() -> None:
    op.execute(f"DROP TRIGGER jobs_notify_live ON {SHARED}.jobs")
    op.execute(f"DROP FUNCTION {SHARED}.notify_job()")
    op.execute(f"DROP FUNCTION {SHARED}.notify_live()")
