"""Who is asking: a user, a county app (API key), the platform operator, or nobody."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from uuid import UUID

from authz.roles import REGIONAL, Role

COUNTY_ROOT = "c"  # the label of every county's root unit


class PrincipalKind(enum.StrEnum):
    ANONYMOUS = "anonymous"
    USER = "user"
    API_KEY = "api_key"
    OPERATOR = "operator"


@dataclass(frozen=True)
class Grant:
    """One role assignment: a role, the county it is in (none for regional roles), a scope."""

    role: Role
    county_code: str | None
    scope: str

    def covers_county(self, code: str, province: str, prefecture: str | None) -> bool:
        if self.role == Role.OPERATOR:
            return True
        if self.role == Role.PROVINCE_ADMIN:
            return province == self.scope
        if self.role == Role.PREFECTURE_ADMIN:
            return prefecture == self.scope
        return self.county_code == code


@dataclass(frozen=True)
class Scope:
    """A role inside the county a request is routed to, and how far down it reaches there."""

    role: Role
    path: str


@dataclass(frozen=True)
class Principal:
    kind: PrincipalKind
    id: int | None = None
    name: str = ""
    grants: tuple[Grant, ...] = ()
    session_id: UUID | None = None
    mfa: bool = False
    client: str = ""
    counties: tuple[str, ...] = field(default=())
    """Counties the county-level grants name, in a stable order (for routing)."""

    @property
    def authenticated(self) -> bool:
        return self.kind != PrincipalKind.ANONYMOUS

    @property
    def roles(self) -> str:
        return ",".join(sorted({g.role.value for g in self.grants}))

    def scopes_outside_counties(self) -> tuple[Scope, ...]:
        """The roles that name no county (operator, province, prefecture), each with its own
        scope (a province or prefecture code): what decides work above any one county."""
        return tuple(Scope(g.role, g.scope) for g in self.grants if g.county_code is None)

    def scopes_in(self, code: str, province: str, prefecture: str | None) -> tuple[Scope, ...]:
        """This principal's roles inside one county; regional roles reach it as a whole."""
        return tuple(
            Scope(g.role, COUNTY_ROOT if g.role in REGIONAL or g.county_code is None else g.scope)
            for g in self.grants
            if g.covers_county(code, province, prefecture)
        )


ANONYMOUS = Principal(PrincipalKind.ANONYMOUS)


def make_principal(
    kind: PrincipalKind,
    id: int | None,
    name: str,
    grants: tuple[Grant, ...],
    **kw: object,
) -> Principal:
    counties = tuple(sorted({g.county_code for g in grants if g.county_code}))
    return Principal(kind, id, name, grants, counties=counties, **kw)  # type: ignore[arg-type]
