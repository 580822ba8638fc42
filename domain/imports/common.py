"""What every kind of roster import shares: who asked and how far they reach, the county's
units looked up by name, row errors, and the plan a check produces for the apply step."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from authz.enforcer import ListScope
from authz.principal import COUNTY_ROOT, Principal, PrincipalKind
from domain.org.tables import UnitKind, units
from domain.spreadsheets.reading import SheetRow, key
from redscarf.errors import InvalidInput, RedscarfError

MAX_ERRORS_SHOWN = 200  # in the API; the report has them all


@dataclass(frozen=True)
class RowError:
    sheet: str
    row: int
    column: str | None
    code: str
    message: str

    def as_json(self) -> dict[str, Any]:
        return {
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "code": self.code,
            "message": self.message,
        }


class RowProblem(RedscarfError):
    """One row's problem, raised while checking it; `column` names the cell."""

    code = "INVALID_ROW"
    message = "这一行有误"

    def __init__(self, message: str, *, code: str, column: str | None = None) -> None:
        super().__init__(message, code=code)
        self.column = column


def problem(exc: RedscarfError, column: str | None = None) -> RowProblem:
    if isinstance(exc, RowProblem):
        return exc
    return RowProblem(exc.message, code=exc.code, column=column)


@dataclass(frozen=True)
class AuditActor:
    kind: PrincipalKind
    id: int | None
    name: str
    roles: str
    client: str


@dataclass(frozen=True)
class Requester:
    """Who asked for the import, kept with it: the job acts with exactly this reach."""

    kind: str
    id: int | None
    name: str
    roles: str
    everything: bool
    paths: tuple[str, ...]

    @classmethod
    def of(cls, principal: Principal, scope: ListScope) -> Requester:
        return cls(
            principal.kind.value,
            principal.id,
            principal.name,
            principal.roles,
            scope.everything,
            scope.paths,
        )

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Requester:
        return cls(**{**data, "paths": tuple(data["paths"])})

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.id,
            "name": self.name,
            "roles": self.roles,
            "everything": self.everything,
            "paths": list(self.paths),
        }

    @property
    def actor(self) -> AuditActor:
        """Who the audit entries of the import name."""
        return AuditActor(PrincipalKind(self.kind), self.id, self.name, self.roles, "import")

    def reaches(self, path: str) -> bool:
        return self.everything or any(path == p or path.startswith(p + ".") for p in self.paths)


def may_see_import(principal: Principal, requested_by: dict[str, Any], scope: ListScope) -> bool:
    """An import (its errors, its report) is seen by whoever started it, and by those whose
    reach for its kind covers the whole county."""
    requester = Requester.from_json(requested_by)
    if requester.kind == principal.kind.value and requester.id == principal.id:
        return True
    return scope.everything or COUNTY_ROOT in scope.paths


def uploader(principal: Principal) -> str:
    """Who uploaded a file, as kept with it: only they may import it."""
    return f"{principal.kind.value}:{principal.id}"


RESOURCES = {"pupils": "pupil", "units": "unit", "counselors": "counselor",
             "one_star": "award:star1"}  # fmt: skip


def resource_of(kind: str) -> str:
    """The authorization resource of an import kind (pupils -> pupil)."""
    return RESOURCES[kind]


@dataclass
class UnitRow:
    id: int
    parent_id: int | None
    kind: str
    name: str
    path: str
    grade: int | None
    area: str | None
    school_kind: str | None
    archived: bool


class UnitDirectory:
    """The county's units, found by name under their parent (names compared by `key`)."""

    def __init__(self, rows: list[UnitRow]) -> None:
        self.by_id = {u.id: u for u in rows}
        self.children: dict[tuple[int | None, str], list[UnitRow]] = defaultdict(list)
        self.schools: dict[str, list[UnitRow]] = defaultdict(list)
        for unit in rows:
            self.children[(unit.parent_id, key(unit.name))].append(unit)
            if unit.kind == UnitKind.BRIGADE and not unit.archived:
                self.schools[key(unit.name)].append(unit)
        roots = [u for u in rows if u.kind == UnitKind.COUNTY]
        if not roots:  # onboarding makes it (t0010); a county restored from an old dump may not
            raise InvalidInput(
                "本县（区）还没有组织架构的根单位，请联系平台运维", code="NO_ROOT_UNIT"
            )
        self.root = roots[0]

    @classmethod
    def load(cls, conn: Connection) -> UnitDirectory:
        rows = conn.execute(
            select(
                units.c.id,
                units.c.parent_id,
                units.c.kind,
                units.c.name,
                units.c.path,
                units.c.grade,
                units.c.area,
                units.c.school_kind,
                units.c.archived_at.is_not(None).label("archived"),
            )
        ).all()
        return cls([UnitRow(**r._asdict()) for r in rows])

    def child(self, parent_id: int | None, name: str, *kinds: str) -> UnitRow | None:
        found = [u for u in self.children.get((parent_id, key(name)), []) if u.kind in kinds]
        return found[0] if found else None

    def school(self, name: str) -> UnitRow:
        found = self.schools.get(key(name), [])
        if not found:
            raise RowProblem(
                f"本县没有学校「{name}」，请先在平台中登记或核对名称",
                code="UNIT_NOT_FOUND",
                column="学校",
            )
        if len(found) > 1:
            raise RowProblem(
                f"本县有 {len(found)} 所学校名为「{name}」，请写学校全称",
                code="AMBIGUOUS_UNIT",
                column="学校",
            )
        return found[0]

    def placed(
        self, school: UnitRow, squadron: str, team: str | None
    ) -> tuple[UnitRow, UnitRow | None]:
        """The squadron (and team) a row names under its school; archived ones do not count."""
        found = self.child(school.id, squadron, UnitKind.SQUADRON)
        if found is None or found.archived:
            raise RowProblem(
                f"「{school.name}」没有中队「{squadron}」", code="UNIT_NOT_FOUND", column="中队"
            )
        if team is None:
            return found, None
        in_team = self.child(found.id, team, UnitKind.TEAM)
        if in_team is None or in_team.archived:
            raise RowProblem(
                f"中队「{found.name}」没有小队「{team}」", code="UNIT_NOT_FOUND", column="小队"
            )
        return found, in_team


@dataclass
class Plan:
    """What a checked file would do. With any error, nothing is applied."""

    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def fail(self, row: SheetRow, exc: RowProblem) -> None:
        self.errors.append(RowError(row.sheet, row.number, exc.column, exc.code, exc.message))

    def counts(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "error_count": len(self.errors),
        }


def text_of(row: SheetRow, header: str, *, required: bool = False, limit: int = 100) -> str | None:
    value = row.values.get(header)
    if isinstance(value, dt.date):
        value = value.isoformat()
    if value is None or not value.strip():
        if required:
            raise RowProblem(f"「{header}」不能为空", code="REQUIRED", column=header)
        return None
    value = value.strip()
    if len(value) > limit:
        raise RowProblem(f"「{header}」不能超过 {limit} 个字", code="TOO_LONG", column=header)
    return value


def choice(row: SheetRow, header: str, options: dict[str, str]) -> str | None:
    """The option a cell names (by its Chinese label), None when empty."""
    value = text_of(row, header)
    if value is None:
        return None
    found = {key(label): option for label, option in options.items()}.get(key(value))
    if found is None:
        raise RowProblem(
            f"「{header}」应为 {' / '.join(options)} 之一，收到「{value}」",
            code="INVALID_CHOICE",
            column=header,
        )
    return found
