"""Grants that let county roles reach the few shared tables they need, and nothing more.

Kept out of the migrations because roles belong to the server while migrations belong to a
database: a database cloned from a template (as the tests do) gets its own group role here.
Every statement is idempotent; `Migrator.upgrade_shared` runs them after each upgrade.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from tenants.metadata import SHARED
from tenants.roles import tenant_group_role


def ensure_shared_grants(conn: Connection) -> str:
    database = conn.execute(text("SELECT current_database()")).scalar_one()
    group = tenant_group_role(database)
    conn.execute(
        text(
            f"""
            DO $$ BEGIN
                IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{group}') THEN
                    CREATE ROLE "{group}" NOLOGIN;
                END IF;
            END $$
            """
        )
    )
    for statement in (
        f'GRANT USAGE ON SCHEMA {SHARED} TO "{group}"',
        # Jobs are recorded in the same transaction as the county data that needs them;
        # row-level security limits each county role to its own county's rows.
        f'GRANT SELECT, INSERT ON {SHARED}.jobs TO "{group}"',
    ):
        conn.execute(text(statement))
    return group
