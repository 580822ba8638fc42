"""Importing the pupils' roster (the sheet of `domain.spreadsheets.rosters`).

A row is the same pupil as one registered when its ID number matches (keyed hash), or, for a
row without one, when squadron, name and birth date match. A matched pupil is updated where
the row differs (placement, name, gender, birth date, status, 入队 date and batch; empty
optional cells keep what is registered) and left alone where it does not, so importing the
same file twice, or an export, changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, update

from domain import clock
from domain.audit.service import write_county_entries
from domain.imports.common import (
    Plan,
    Requester,
    RowProblem,
    UnitDirectory,
    choice,
    problem,
    text_of,
)
from domain.org.tables import units
from domain.people.names import normalise_name, pinyin_of
from domain.people.pupils import ID_NUMBER, STATUS_LABELS, TRANSITIONS, identity_columns
from domain.people.tables import NOT_ERASED, PupilStatus, pupil_status_changes, pupils
from domain.personal.crypto import FieldCipher
from domain.personal.id_numbers import mask_id_number
from domain.spreadsheets.reading import Book, SheetRow, key, parse_date
from domain.spreadsheets.rosters import HEADERS, PUPIL_COLUMNS
from redscarf.errors import RedscarfError
from tenants.metadata import next_ids

REQUIRED = ("学校", "中队", "姓名")
DATE_HEADERS = ("出生日期", "入队日期")
GENDER_OF = {"男": "male", "女": "female"}
STATUS_OF = {label: str(status) for status, label in STATUS_LABELS.items()}
NEW_STATUSES = (PupilStatus.MEMBER, PupilStatus.PRE_MEMBER)
COLUMN_OF_CODE = {"INVALID_ID_NUMBER": "身份证号码", "ID_NUMBER_MISMATCH": "身份证号码",
                  "INVALID_DATE": "出生日期", "INVALID_NAME": "姓名", "INVALID_GENDER": "性别"}  # fmt: skip
COMPARED = ("squadron_id", "team_id", "name", "gender", "birth_date", "status", "joined_on",
            "batch", "id_number_hash")  # fmt: skip
BATCH = 1000

__all__ = ["DATE_HEADERS", "HEADERS", "PUPIL_COLUMNS", "REQUIRED", "PupilPlan", "apply", "check"]


@dataclass
class Wanted:
    """What a row says of its pupil, checked."""

    row: SheetRow
    values: dict[str, Any]
    place_path: str
    match: Any = None  # the registered pupil it is, if any


@dataclass
class PupilPlan(Plan):
    inserts: list[Wanted] = field(default_factory=list)
    updates: list[tuple[Wanted, dict[str, Any]]] = field(default_factory=list)


def _registered(conn: Connection) -> list[Any]:
    place = units.alias("place")
    return conn.execute(
        select(
            pupils.c.id,
            pupils.c.squadron_id,
            pupils.c.team_id,
            pupils.c.name,
            pupils.c.gender,
            pupils.c.birth_date,
            pupils.c.status,
            pupils.c.joined_on,
            pupils.c.batch,
            pupils.c.grade,
            pupils.c.id_number_hash,
            pupils.c.id_number_enc,
            place.c.path,
        )
        .join(place, place.c.id == func.coalesce(pupils.c.team_id, pupils.c.squadron_id))
        .where(NOT_ERASED)
    ).all()


def _identity(row: SheetRow, cipher: FieldCipher) -> dict[str, Any]:
    number = text_of(row, "身份证号码", limit=30)
    if number is not None and "*" in number:
        raise RowProblem(
            "身份证号码已打码，无法导入；请用有权查看身份证号码的账号导出后再导入，或清空该格",
            code="MASKED_ID_NUMBER",
            column="身份证号码",
        )
    try:
        name = normalise_name(text_of(row, "姓名", required=True) or "")
    except RowProblem:
        raise
    except RedscarfError as exc:
        raise problem(exc, "姓名") from None
    try:
        birth = parse_date(row.values.get("出生日期"), "出生日期")
        values = identity_columns(
            cipher,
            id_number=number,
            birth_date=birth,
            gender=choice(row, "性别", GENDER_OF),
        )
    except RowProblem:
        raise
    except RedscarfError as exc:
        raise problem(exc, COLUMN_OF_CODE.get(exc.code)) from None
    values["name"] = name  # its pinyin only where it is written (`_pinyin`)
    if "gender" not in values:
        raise RowProblem("请填写性别或身份证号码", code="GENDER_REQUIRED", column="性别")
    return values


def _wanted(row: SheetRow, directory: UnitDirectory, cipher: FieldCipher) -> Wanted:
    for column, message in row.problems:
        raise RowProblem(message, code="UNREADABLE_CELL", column=column)
    school = directory.school(text_of(row, "学校", required=True) or "")
    squadron, team = directory.placed(
        school, text_of(row, "中队", required=True) or "", text_of(row, "小队")
    )
    if squadron.grade is None:
        raise RowProblem(f"中队「{squadron.name}」没有年级", code="INVALID_GRADE", column="中队")
    values = _identity(row, cipher)
    status = choice(row, "状态", STATUS_OF) or PupilStatus.MEMBER.value
    joined = (
        parse_date(row.values.get("入队日期"), "入队日期") if "入队日期" in row.values else None
    )
    if joined is not None and joined > clock.today():
        raise RowProblem(
            f"入队日期 {joined.isoformat()} 还没到", code="INVALID_DATE", column="入队日期"
        )
    if status == PupilStatus.PRE_MEMBER:
        joined = None  # not yet 入队
    values.update(
        squadron_id=squadron.id,
        team_id=team.id if team else None,
        grade=squadron.grade,
        status=status,
        joined_on=joined,
        batch=text_of(row, "入队批次", limit=50) if joined else None,
    )
    values.setdefault("birth_date", None)
    values.setdefault("id_number_hash", None)
    return Wanted(row, values, (team or squadron).path)


def _pinyin(name: str) -> dict[str, str]:
    full, initials = pinyin_of(name)
    return {"name_pinyin": full, "name_initials": initials}


def _changes(wanted: Wanted, current: Any) -> dict[str, Any]:
    """The columns the row changes (empty optional cells keep what is registered)."""
    values = wanted.values
    changed: dict[str, Any] = {}
    for column in COMPARED:
        new = values.get(column)
        if new is None and column not in ("team_id",):
            continue  # not given: kept
        if new != getattr(current, column):
            changed[column] = new
    if "name" in changed:
        changed.update(_pinyin(changed["name"]))
    if "id_number_hash" in changed:
        changed["id_number_enc"] = values["id_number_enc"]
    if "squadron_id" in changed:
        changed["grade"] = values["grade"]
    return changed


def _check_status(wanted: Wanted, current: Any) -> None:
    new = wanted.values["status"]
    if current is None:
        if new not in NEW_STATUSES:
            raise RowProblem(
                "新登记的队员，状态只能是少先队员或预备队员", code="INVALID_STATUS", column="状态"
            )
    elif new != current.status and new not in TRANSITIONS[PupilStatus(current.status)]:
        raise RowProblem(
            f"队员状态不能从 {STATUS_LABELS[current.status]} 改为 {STATUS_LABELS[new]}",
            code="INVALID_STATUS_CHANGE",
            column="状态",
        )


def check(
    conn: Connection,
    book: Book,
    cipher: FieldCipher,
    requester: Requester,
    on_progress: Callable[[int, int], None],
) -> PupilPlan:
    """Every row checked against the county as it is; nothing written."""
    directory = UnitDirectory.load(conn)
    registered = _registered(conn)
    by_hash = {p.id_number_hash: p for p in registered if p.id_number_hash is not None}
    by_name: dict[tuple[int, str, dt.date | None], list[Any]] = {}
    for p in registered:
        by_name.setdefault((p.squadron_id, key(p.name), p.birth_date), []).append(p)
    plan = PupilPlan()
    seen: dict[Any, int] = {}  # a pupil (ID hash, name key, registered id) -> its first row
    rows = list(book.rows)
    plan.rows = len(rows)
    for done, row in enumerate(rows, start=1):
        if done % BATCH == 0:
            on_progress(done, len(rows))
        try:
            wanted = _wanted(row, directory, cipher)
            values = wanted.values
            current = by_hash.get(values["id_number_hash"]) if values["id_number_hash"] else None
            if current is None:
                candidates = [
                    p
                    for p in by_name.get(
                        (values["squadron_id"], key(values["name"]), values["birth_date"]), []
                    )
                    if values["id_number_hash"] is None or p.id_number_hash is None
                ]
                current = candidates[0] if len(candidates) == 1 else None
            mine = (
                ("id", values["id_number_hash"])
                if values["id_number_hash"]
                else ("name", values["squadron_id"], key(values["name"]), values["birth_date"])
            )
            for token in (mine, ("pupil", current.id) if current else None):
                if token is not None and token in seen:
                    raise RowProblem(
                        f"与第 {seen[token]} 行是同一名队员，请删去重复的一行",
                        code="DUPLICATE_ROW",
                        column="身份证号码" if token[0] == "id" else "姓名",
                    )
            seen[mine] = row.number
            if current is not None:
                seen[("pupil", current.id)] = row.number
            if not requester.reaches(wanted.place_path) or (
                current is not None and not requester.reaches(current.path)
            ):
                raise RowProblem(
                    "这名队员不在您可管理的范围内"
                    if current is not None
                    else "该中队不在您可管理的范围内",
                    code="OUT_OF_SCOPE",
                    column="中队",
                )
            _check_status(wanted, current)
        except RowProblem as exc:
            plan.fail(row, exc)
            continue
        wanted.match = current
        if current is None:
            plan.inserts.append(wanted)
            plan.created += 1
        elif changed := _changes(wanted, current):
            plan.updates.append((wanted, changed))
            plan.updated += 1
        else:
            plan.unchanged += 1
    on_progress(len(rows), len(rows))
    return plan


def _audited(columns: dict[str, Any]) -> list[str]:
    """The columns an audit entry names (not the derived search and lookup columns)."""
    return sorted(c for c in columns if c not in ("name_pinyin", "name_initials", "id_number_hash"))


def _shown(column: str, value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def _correction(wanted: Wanted, changed: dict[str, Any], cipher: FieldCipher) -> dict[str, Any]:
    """Before and after of a registered pupil, as `updatePupil` writes them (ID numbers masked,
    the encrypted old value kept)."""
    current = wanted.match
    shown = [c for c in _audited(changed) if c not in ("id_number_enc", "grade")]
    details: dict[str, Any] = {
        "before": {c: _shown(c, getattr(current, c)) for c in shown},
        "after": {c: _shown(c, changed[c]) for c in shown},
    }
    if "id_number_enc" in changed:
        old = current.id_number_enc
        details["before"]["id_number"] = (
            mask_id_number(cipher.decrypt(old, context=ID_NUMBER)) if old else None
        )
        details["before"]["id_number_enc"] = old
        new = cipher.decrypt(changed["id_number_enc"], context=ID_NUMBER)
        details["after"]["id_number"] = mask_id_number(new)
    return details


def apply(
    conn: Connection,
    plan: PupilPlan,
    import_id: int,
    requester: Requester,
    cipher: FieldCipher,
    on_progress: Callable[[int, int], None],
) -> None:
    """Write a checked plan (in the caller's transaction: all of it or nothing)."""
    total = len(plan.inserts) + len(plan.updates)
    done = 0
    today = clock.today()
    columns = [c.name for c in pupils.columns if c.name not in ("id", "created_at", "updated_at")]
    for start in range(0, len(plan.inserts), BATCH):
        batch = plan.inserts[start : start + BATCH]
        ids = next_ids(conn, "pupils", len(batch))
        rows = [
            {**{c: w.values.get(c) for c in columns}, **_pinyin(w.values["name"]), "id": pk}
            for pk, w in zip(ids, batch, strict=True)
        ]
        conn.execute(insert(pupils), rows)
        conn.execute(
            insert(pupil_status_changes),
            [
                {
                    "pupil_id": pk,
                    "from_status": None,
                    "to_status": w.values["status"],
                    "on_date": w.values["joined_on"] or today,
                    "batch": w.values["batch"],
                    "note": "名册导入",
                }
                for pk, w in zip(ids, batch, strict=True)
            ],
        )
        write_county_entries(
            conn,
            requester.actor,
            "importPupils",
            [
                {
                    "object_type": "Pupil",
                    "object_id": pk,
                    "fields": _audited(w.values),
                    "details": {"import": import_id, "created": True},
                }
                for pk, w in zip(ids, batch, strict=True)
            ],
        )
        done += len(batch)
        on_progress(done, total)
    for start in range(0, len(plan.updates), BATCH):
        batch = plan.updates[start : start + BATCH]
        for wanted, changed in batch:  # each changes its own columns: one statement each
            conn.execute(
                update(pupils)
                .where(pupils.c.id == bindparam("pk"))
                .values(**{c: bindparam(c) for c in changed}, updated_at=func.now()),
                {"pk": wanted.match.id, **changed},
            )
        moves = [(w, c) for w, c in batch if "status" in c]
        if moves:
            conn.execute(
                insert(pupil_status_changes),
                [
                    {
                        "pupil_id": w.match.id,
                        "from_status": w.match.status,
                        "to_status": c["status"],
                        "on_date": (c.get("joined_on") or w.values["joined_on"] or today)
                        if c["status"] == PupilStatus.MEMBER
                        else today,
                        "batch": w.values["batch"],
                        "note": "名册导入",
                    }
                    for w, c in moves
                ],
            )
        write_county_entries(
            conn,
            requester.actor,
            "importPupils",
            [
                {
                    "object_type": "Pupil",
                    "object_id": w.match.id,
                    "fields": _audited(changed),
                    "details": {"import": import_id, **_correction(w, changed, cipher)},
                }
                for w, changed in batch
            ],
        )
        done += len(batch)
        on_progress(done, total)
