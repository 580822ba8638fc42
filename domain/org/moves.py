"""Moving a unit with everything under it: its subtree's paths, and the roles, keys and
invitations scoped inside it, change together in one transaction."""

from __future__ import annotations

from sqlalchemy import Connection, text

from tenants.sessions import Tenant

SCOPED_TABLES = ("role_assignments", "api_keys", "invitations")


def _moved(column: str) -> str:
    """SQL of `column` (an ltree under :old) moved under :new. `subpath` refuses an empty
    remainder, hence the unit itself separately."""
    old, new = "CAST(:old AS public.ltree)", "CAST(:new AS public.ltree)"
    return (
        f"CASE WHEN {column} = {old} THEN {new} ELSE {new} || subpath({column}, nlevel({old})) END"
    )


def move_scopes(conn: Connection, county_code: str, old: str, new: str) -> None:
    """Shared rows scoped under `old` follow to `new` (as the service's own login)."""
    for table in SCOPED_TABLES:
        conn.execute(
            text(
                f"UPDATE shared.{table} SET scope = ({_moved('CAST(scope AS public.ltree)')})::text"
                " WHERE county_code = :c AND CAST(scope AS public.ltree) <@ CAST(:old AS public.ltree)"
            ),
            {"new": new, "old": old, "c": county_code},
        )


def move_subtree(
    conn: Connection, tenant: Tenant, unit_id: int, parent_id: int, old: str, new: str
) -> int:
    """The unit's subtree under its new parent (`conn` acts as the county); returns its size."""
    schema = tenant.schema_name
    moved = conn.execute(
        text(
            f'UPDATE "{schema}".units SET path = {_moved("path")}'
            " WHERE path <@ CAST(:old AS public.ltree)"
        ),
        {"new": new, "old": old},
    )
    conn.execute(
        text(f'UPDATE "{schema}".units SET parent_id = :p WHERE id = :u'),
        {"p": parent_id, "u": unit_id},
    )
    return moved.rowcount
