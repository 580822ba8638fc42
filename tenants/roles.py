"""Names of the PostgreSQL roles that fence each county in.

Roles are global to a PostgreSQL cluster while schemas belong to one database, so role names
carry the database name: two installations (or two test databases) on one server never share
a county role.
"""

from __future__ import annotations

import re


def _prefix(database: str) -> str:
    return database[:40]


def county_role(database: str, county_code: str) -> str:
    """The role every transaction of this county runs as (`SET LOCAL ROLE`).

    It ends with the six-digit code: row-level policies on shared tables read it back with
    `right(current_user, 6)`.
    """
    return f"{_prefix(database)}_c{county_code}"


def tenant_group_role(database: str) -> str:
    """Group of all county roles: the narrow grants on shared tables go to it."""
    return f"{_prefix(database)}_tenants"


def roles_of_database(database: str) -> str:
    """A POSIX regular expression matching exactly the roles made for `database`
    (to drop them with it: roles are cluster-wide and outlive a dropped database)."""
    return f"^{re.escape(_prefix(database))}_(c[0-9]{{6}}|tenants)$"
