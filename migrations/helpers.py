"""What a migration file may need to know about where it runs."""

from __future__ import annotations

from alembic import op

from tenants.metadata import SHARED, TENANT

__all__ = ["SHARED", "TENANT", "current_schema", "database_name"]


def current_schema() -> str:
    """The real schema this migration runs in (the county's schema for tenant migrations).

    Table operations take `schema=TENANT` and are translated; raw SQL needs the real name.
    """
    translate = op.get_bind().get_execution_options().get("schema_translate_map") or {}
    return translate.get(TENANT, SHARED)


def database_name() -> str:
    return op.get_bind().exec_driver_sql("SELECT current_database()").scalar_one()
