"""Importing counselors: a row appoints one counselor to the school, squadron or team it
names. A counselor in office with the same name, kind and unit is the same counselor (left as
is), so importing the same list twice appoints nobody twice."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, insert, select

from domain import clock
from domain.audit.service import write_county_entries
from domain.imports.common import Plan, Requester, RowProblem, UnitDirectory, choice, text_of
from domain.people.names import normalise_name
from domain.people.tables import CounselorKind, counselor_appointments, counselors
from domain.personal.crypto import FieldCipher
from domain.spreadsheets.reading import Book, SheetRow, key, parse_date
from domain.spreadsheets.rosters import COUNSELOR_COLUMNS
from redscarf.errors import RedscarfError

HEADERS = tuple(c.header for c in COUNSELOR_COLUMNS)
REQUIRED = ("姓名", "类别", "学校")
DATE_HEADERS = ("任职日期",)
KIND_OF = {"大队辅导员": CounselorKind.BRIGADE.value, "中队辅导员": CounselorKind.SQUADRON.value,
           "小队辅导员": CounselorKind.TEAM.value, "校外辅导员": CounselorKind.EXTERNAL.value}  # fmt: skip


@dataclass
class Appointment:
    row: SheetRow
    name: str
    kind: str
    unit_id: int
    started_on: dt.date


@dataclass
class CounselorPlan(Plan):
    new: list[Appointment] = field(default_factory=list)


def _appointment(row: SheetRow, directory: UnitDirectory, requester: Requester) -> Appointment:
    for column, message in row.problems:
        raise RowProblem(message, code="UNREADABLE_CELL", column=column)
    try:
        name = normalise_name(text_of(row, "姓名", required=True) or "")
    except RowProblem:
        raise
    except RedscarfError as exc:
        raise RowProblem(exc.message, code=exc.code, column="姓名") from None
    kind = choice(row, "类别", KIND_OF)
    if kind is None:
        raise RowProblem("「类别」不能为空", code="REQUIRED", column="类别")
    school = directory.school(text_of(row, "学校", required=True) or "")
    squadron_name, team_name = text_of(row, "中队"), text_of(row, "小队")
    if kind == CounselorKind.SQUADRON and not squadron_name:
        raise RowProblem("中队辅导员须填写中队", code="REQUIRED", column="中队")
    if kind == CounselorKind.TEAM and not team_name:
        raise RowProblem("小队辅导员须填写小队", code="REQUIRED", column="小队")
    if team_name and not squadron_name:
        raise RowProblem("填了小队，就须填写中队", code="REQUIRED", column="中队")
    unit = school
    if kind != CounselorKind.BRIGADE and squadron_name:
        squadron, team = directory.placed(
            school, squadron_name, team_name if kind != CounselorKind.SQUADRON else None
        )
        unit = team or squadron
    if not requester.reaches(unit.path):
        raise RowProblem("该单位不在您可管理的范围内", code="OUT_OF_SCOPE", column="学校")
    started = parse_date(row.values.get("任职日期"), "任职日期") or clock.today()
    if started > clock.today():
        raise RowProblem(
            f"任职日期 {started.isoformat()} 还没到", code="INVALID_DATE", column="任职日期"
        )
    return Appointment(row, name, kind, unit.id, started)


def check(
    conn: Connection,
    book: Book,
    cipher: FieldCipher,
    requester: Requester,
    on_progress: Callable[[int, int], None],
) -> CounselorPlan:
    directory = UnitDirectory.load(conn)
    in_office = {
        (r.unit_id, r.kind, key(r.name))
        for r in conn.execute(
            select(counselors.c.unit_id, counselors.c.kind, counselors.c.name).where(
                counselors.c.ended_on.is_(None)
            )
        )
    }
    plan = CounselorPlan()
    seen: dict[tuple[int, str, str], int] = {}
    rows = list(book.rows)
    plan.rows = len(rows)
    for row in rows:
        try:
            appointment = _appointment(row, directory, requester)
            token = (appointment.unit_id, appointment.kind, key(appointment.name))
            if token in seen:
                raise RowProblem(
                    f"与第 {seen[token]} 行是同一位辅导员，请删去重复的一行",
                    code="DUPLICATE_ROW",
                    column="姓名",
                )
            seen[token] = row.number
        except RowProblem as exc:
            plan.fail(row, exc)
            continue
        if token in in_office:
            plan.unchanged += 1
        else:
            plan.new.append(appointment)
            plan.created += 1
    on_progress(len(rows), len(rows))
    return plan


def apply(
    conn: Connection,
    plan: CounselorPlan,
    import_id: int,
    requester: Requester,
    cipher: FieldCipher,
    on_progress: Callable[[int, int], None],
) -> None:
    if not plan.new:
        return
    values: list[dict[str, Any]] = [
        {"name": a.name, "kind": a.kind, "unit_id": a.unit_id, "appointed_on": a.started_on}
        for a in plan.new
    ]
    ids = (
        conn.execute(
            insert(counselors).returning(counselors.c.id, sort_by_parameter_order=True), values
        )
        .scalars()
        .all()
    )
    conn.execute(
        insert(counselor_appointments),
        [
            {"counselor_id": pk, "unit_id": a.unit_id, "kind": a.kind, "started_on": a.started_on}
            for pk, a in zip(ids, plan.new, strict=True)
        ],
    )
    write_county_entries(
        conn,
        requester.actor,
        "importCounselors",
        [
            {
                "object_type": "Counselor",
                "object_id": pk,
                "details": {"import": import_id, "unit": a.unit_id, "kind": a.kind},
            }
            for pk, a in zip(ids, plan.new, strict=True)
        ],
    )
    on_progress(len(plan.new), len(plan.new))
