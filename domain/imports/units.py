"""Importing the organisation: each row names a chain of units from a township (乡镇) down to
a team (小队); every unit of the chain is found by name under its parent, or set up.

A school named without its township is looked up across the county (schools answer to a
township or to the county directly); set up anew, it sits under the county. An existing unit
takes the row's area and school kind where they differ; a squadron's grade is never changed
by an import (that moves its pupils' grades: do it in the platform).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from domain.audit.service import write_county_entries
from domain.imports.common import (
    Plan,
    Requester,
    RowProblem,
    UnitDirectory,
    UnitRow,
    choice,
    text_of,
)
from domain.org.rules import label
from domain.org.tables import Area, SchoolKind, UnitKind, units
from domain.personal.crypto import FieldCipher
from domain.spreadsheets.reading import Book, SheetRow, key
from domain.spreadsheets.rosters import UNIT_COLUMNS
from tenants.metadata import next_ids

HEADERS = tuple(c.header for c in UNIT_COLUMNS)
REQUIRED = ("乡镇（街道）", "学校", "中队")
AREA_OF = {"城镇": Area.URBAN.value, "农村": Area.RURAL.value}
SCHOOL_KIND_OF = {"普通学校": SchoolKind.ORDINARY.value, "新居民子女学校": SchoolKind.MIGRANT.value,
                  "红领巾示范校": SchoolKind.DEMONSTRATION.value}  # fmt: skip
LEVELS = (("乡镇（街道）", UnitKind.TOWNSHIP), ("社区", UnitKind.COMMUNITY),
          ("学校", UnitKind.BRIGADE), ("中队", UnitKind.SQUADRON), ("小队", UnitKind.TEAM))  # fmt: skip
GRADE_WORDS = "一二三四五六七八九"


@dataclass
class NewUnit:
    token: int  # negative: a unit this import sets up
    parent: int  # an existing id, or another new unit's token
    kind: str
    name: str
    area: str | None
    school_kind: str | None
    grade: int | None
    row: SheetRow


@dataclass
class UnitPlan(Plan):
    new: list[NewUnit] = field(default_factory=list)
    changes: list[tuple[UnitRow, dict[str, Any]]] = field(default_factory=list)


def grade_of(name: str) -> int | None:
    """三（1）中队 -> 3, 3年级2班 -> 3: the grade a squadron's name starts with."""
    match = re.match(r"^\s*([一二三四五六七八九1-9])", name)
    if match is None:
        return None
    first = match.group(1)
    return GRADE_WORDS.index(first) + 1 if first in GRADE_WORDS else int(first)


def _grade(row: SheetRow, name: str) -> int:
    given = text_of(row, "年级", limit=4)
    if given is None:
        found = grade_of(name)
        if found is None:
            raise RowProblem(
                f"请填写中队「{name}」的年级（1–9）", code="INVALID_GRADE", column="年级"
            )
        return found
    digits = given.removesuffix("年级")
    grade = GRADE_WORDS.index(digits) + 1 if digits in GRADE_WORDS else None
    if grade is None and digits.isdigit():
        grade = int(digits)
    if grade is None or not 1 <= grade <= 9:
        raise RowProblem(f"年级应为 1–9，收到「{given}」", code="INVALID_GRADE", column="年级")
    return grade


class _Planner:
    def __init__(self, directory: UnitDirectory, requester: Requester, plan: UnitPlan) -> None:
        self.directory = directory
        self.requester = requester
        self.plan = plan
        self.new: dict[tuple[int, str, str], NewUnit] = {}
        self.new_schools: dict[str, NewUnit] = {}
        self.changed: dict[int, dict[str, Any]] = {}

    def _path_of(self, ref: int) -> str:
        while ref < 0:
            ref = next(u.parent for u in self.new.values() if u.token == ref)
        return self.directory.by_id[ref].path

    def _find(self, parent: int, kind: str, name: str) -> int | None:
        if (parent, kind, key(name)) in self.new:
            return self.new[(parent, kind, key(name))].token
        if parent < 0:
            return None
        found = self.directory.child(parent, name, kind)
        if found is not None and found.archived:
            raise RowProblem(f"单位「{name}」已撤销", code="UNIT_ARCHIVED", column=None)
        return found.id if found else None

    def _school_anywhere(self, name: str) -> int | None:
        if key(name) in self.new_schools:
            return self.new_schools[key(name)].token
        found = self.directory.schools.get(key(name), [])
        if len(found) > 1:
            raise RowProblem(
                f"本县有 {len(found)} 所学校名为「{name}」，请同时填写乡镇（街道）",
                code="AMBIGUOUS_UNIT",
                column="学校",
            )
        return found[0].id if found else None

    def row(self, row: SheetRow) -> None:
        names = [(header, kind, text_of(row, header)) for header, kind in LEVELS]
        given = [(h, k, n) for h, k, n in names if n]
        if not given:
            raise RowProblem("这一行没有单位名称", code="REQUIRED", column="学校")
        for (header, _, name), (below, _, _) in itertools.pairwise(
            names[2:]
        ):  # from the school down
            if not name and text_of(row, below):
                raise RowProblem(
                    f"填了「{below}」，就须填写「{header}」", code="REQUIRED", column=header
                )
        area = choice(row, "城乡", AREA_OF)
        school_kind = choice(row, "学校类别", SCHOOL_KIND_OF)
        if school_kind and not text_of(row, "学校"):
            raise RowProblem(
                "学校类别只能填在学校所在的行", code="INVALID_SCHOOL_KIND", column="学校类别"
            )
        if text_of(row, "年级") and not text_of(row, "中队"):
            raise RowProblem("年级只能填在中队所在的行", code="INVALID_GRADE", column="年级")
        parent = self.directory.root.id
        for index, (header, kind, name) in enumerate(given):
            assert name is not None
            last_above_school = kind == UnitKind.BRIGADE and index == 0
            found = (
                self._school_anywhere(name) if last_above_school else self._find(parent, kind, name)
            )
            fields = {
                "area": area
                if kind in (UnitKind.BRIGADE, UnitKind.TOWNSHIP, UnitKind.COMMUNITY)
                and (kind == UnitKind.BRIGADE or not text_of(row, "学校"))
                else None,
                "school_kind": school_kind if kind == UnitKind.BRIGADE else None,
                "grade": _grade(row, name) if kind == UnitKind.SQUADRON else None,
            }
            if found is None:
                if len(name) > 100:
                    raise RowProblem(
                        f"「{header}」不能超过 100 个字", code="TOO_LONG", column=header
                    )
                if not self.requester.reaches(self._path_of(parent)):
                    raise RowProblem(
                        f"不能在您可管理的范围之外设立「{name}」",
                        code="OUT_OF_SCOPE",
                        column=header,
                    )
                unit = NewUnit(-(len(self.new) + 1), parent, kind, name, fields["area"],
                               fields["school_kind"], fields["grade"], row)  # fmt: skip
                self.new[(parent, kind, key(name))] = unit
                if kind == UnitKind.BRIGADE:
                    self.new_schools[key(name)] = unit
                self.plan.new.append(unit)
                found = unit.token
            elif found > 0:
                self._compare(self.directory.by_id[found], fields, header)
            parent = found

    def _compare(self, unit: UnitRow, fields: dict[str, Any], header: str) -> None:
        if fields["grade"] is not None and fields["grade"] != unit.grade:
            raise RowProblem(
                f"中队「{unit.name}」已登记为 {unit.grade} 年级；年级请在平台中修改",
                code="GRADE_CHANGE",
                column="年级",
            )
        changes = {
            c: v
            for c, v in fields.items()
            if c != "grade" and v is not None and v != getattr(unit, c)
        }
        if changes:
            if not self.requester.reaches(unit.path):
                raise RowProblem(
                    f"「{unit.name}」不在您可管理的范围内", code="OUT_OF_SCOPE", column=header
                )
            self.changed.setdefault(unit.id, {}).update(changes)


def check(
    conn: Connection,
    book: Book,
    cipher: FieldCipher,
    requester: Requester,
    on_progress: Callable[[int, int], None],
) -> UnitPlan:
    directory = UnitDirectory.load(conn)
    plan = UnitPlan()
    planner = _Planner(directory, requester, plan)
    rows = list(book.rows)
    plan.rows = len(rows)
    for row in rows:
        try:
            for column, message in row.problems:
                raise RowProblem(message, code="UNREADABLE_CELL", column=column)
            before = (len(plan.new), sum(len(c) for c in planner.changed.values()))
            planner.row(row)
        except RowProblem as exc:
            plan.fail(row, exc)
            continue
        after = (len(plan.new), sum(len(c) for c in planner.changed.values()))
        if after[0] > before[0]:
            plan.created += 1
        elif after[1] > before[1]:
            plan.updated += 1
        else:
            plan.unchanged += 1
    plan.changes = [(directory.by_id[pk], c) for pk, c in planner.changed.items()]
    on_progress(len(rows), len(rows))
    return plan


def apply(
    conn: Connection,
    plan: UnitPlan,
    import_id: int,
    requester: Requester,
    cipher: FieldCipher,
    on_progress: Callable[[int, int], None],
) -> None:
    if plan.new:
        ids = next_ids(conn, "units", len(plan.new))
        real: dict[int, tuple[int, str]] = {}
        existing = {
            r.id: (r.path, r.area)
            for r in conn.execute(select(units.c.id, units.c.path, units.c.area)).all()
        }
        rows = []
        for unit, pk in zip(plan.new, ids, strict=True):
            parent_path, parent_area = (
                real[unit.parent] if unit.parent < 0 else existing[unit.parent]
            )
            path = f"{parent_path}.{label(pk)}"
            real[unit.token] = (path, unit.area or parent_area)
            rows.append(
                {
                    "id": pk,
                    "parent_id": ids[-unit.parent - 1] if unit.parent < 0 else unit.parent,
                    "kind": unit.kind,
                    "name": unit.name,
                    "path": path,
                    "area": unit.area or parent_area,
                    "school_kind": unit.school_kind,
                    "grade": unit.grade,
                }
            )
        conn.execute(insert(units), rows)
        write_county_entries(
            conn,
            requester.actor,
            "importUnits",
            [
                {
                    "object_type": "Unit",
                    "object_id": r["id"],
                    "details": {"import": import_id, "name": r["name"], "created": True},
                }
                for r in rows
            ],
        )
    for unit, changes in plan.changes:
        conn.execute(
            update(units)
            .where(units.c.id == bindparam("pk"))
            .values(**{c: bindparam(c) for c in changes}),
            {"pk": unit.id, **changes},
        )
    if plan.changes:
        write_county_entries(
            conn,
            requester.actor,
            "importUnits",
            [
                {
                    "object_type": "Unit",
                    "object_id": unit.id,
                    "fields": sorted(changes),
                    "details": {
                        "import": import_id,
                        "before": {c: getattr(unit, c) for c in changes},
                        "after": changes,
                    },
                }
                for unit, changes in plan.changes
            ],
        )
    on_progress(len(plan.new) + len(plan.changes), len(plan.new) + len(plan.changes))
