"""Importing a school's yearly one-star list (一星章名单): each row awards the one-star badge to
a pupil, with its points. The school's own selection made the list; the import records it.

A row names the pupil by school, squadron and name, or by ID number. A pupil who already holds
(or is a candidate for) the one-star badge of that year is left as is, so the same list
imported twice grants nothing more. Points come from the county's rule in force on the day,
granted once per award (ledger key `award:<id>`), in bulk.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, func, insert, select

from domain import clock
from domain.audit.service import write_county_entries
from domain.badges.awards import Badge, points_for
from domain.badges.tables import LIVE, AwardState, badge_awards, badges
from domain.imports.common import (
    Plan,
    Requester,
    RowProblem,
    UnitDirectory,
    problem,
    text_of,
)
from domain.ledger import service as ledger
from domain.org.tables import units
from domain.people.names import normalise_name
from domain.people.pupils import ID_NUMBER, academic_year
from domain.people.tables import CURRENT_STATUSES, pupils
from domain.personal.crypto import FieldCipher
from domain.personal.id_numbers import parse_id_number
from domain.spreadsheets.reading import Book, SheetRow, key
from domain.spreadsheets.rosters import ONE_STAR_COLUMNS
from redscarf.errors import RedscarfError
from tenants.metadata import next_ids

HEADERS = tuple(c.header for c in ONE_STAR_COLUMNS)
REQUIRED = ("学校", "中队", "姓名")
STAR1 = "star.1"
BATCH = 5000


@dataclass
class Award:
    row: SheetRow
    pupil_id: int
    year: int
    evidence: str | None


@dataclass
class OneStarPlan(Plan):
    new: list[Award] = field(default_factory=list)


def _year(row: SheetRow) -> int:
    raw = text_of(row, "学年", limit=20)
    if raw is None:
        return academic_year(clock.today())
    match = re.match(r"^\s*(\d{4})", raw)
    year = int(match.group(1)) if match else 0
    if not 2000 <= year <= clock.today().year:
        raise RowProblem(f"学年应写成 2025（即 2025—2026 学年），收到「{raw}」", code="INVALID_YEAR",
                         column="学年")  # fmt: skip
    return year


def check(
    conn: Connection,
    book: Book,
    cipher: FieldCipher,
    requester: Requester,
    on_progress: Callable[[int, int], None],
) -> OneStarPlan:
    directory = UnitDirectory.load(conn)
    place = units.alias("place")
    current = conn.execute(
        select(pupils.c.id, pupils.c.squadron_id, pupils.c.name, pupils.c.id_number_hash, place.c.path)
        .join(place, place.c.id == func.coalesce(pupils.c.team_id, pupils.c.squadron_id))
        .where(pupils.c.status.in_(CURRENT_STATUSES))
    ).all()  # fmt: skip
    by_hash = {p.id_number_hash: p for p in current if p.id_number_hash is not None}
    by_name: dict[tuple[int, str], list[Any]] = defaultdict(list)
    for p in current:
        by_name[(p.squadron_id, key(p.name))].append(p)
    star1 = conn.execute(select(badges.c.id).where(badges.c.code == STAR1)).scalar_one()
    held = {
        (r.pupil_id, r.academic_year)
        for r in conn.execute(
            select(badge_awards.c.pupil_id, badge_awards.c.academic_year).where(
                badge_awards.c.badge_id == star1,
                badge_awards.c.state.in_([s.value for s in LIVE]),
            )
        )
    }
    plan = OneStarPlan()
    seen: dict[tuple[int, int], int] = {}
    rows = list(book.rows)
    plan.rows = len(rows)
    for done, row in enumerate(rows, start=1):
        if done % 1000 == 0:
            on_progress(done, len(rows))
        try:
            for column, message in row.problems:
                raise RowProblem(message, code="UNREADABLE_CELL", column=column)
            school = directory.school(text_of(row, "学校", required=True) or "")
            squadron, _ = directory.placed(school, text_of(row, "中队", required=True) or "", None)
            try:
                name = normalise_name(text_of(row, "姓名", required=True) or "")
                number = text_of(row, "身份证号码", limit=30)
                hashed = (
                    cipher.keyed_hash(parse_id_number(number).value, context=ID_NUMBER)
                    if number else None
                )  # fmt: skip
            except RowProblem:
                raise
            except RedscarfError as exc:
                raise problem(
                    exc, "身份证号码" if exc.code.startswith("INVALID_ID") else "姓名"
                ) from None
            if hashed is not None:
                pupil = by_hash.get(hashed)
                if (
                    pupil is None
                    or pupil.squadron_id != squadron.id
                    or key(pupil.name) != key(name)
                ):
                    raise RowProblem("身份证号码与学校、中队、姓名对不上", code="PUPIL_NOT_FOUND",
                                     column="身份证号码")  # fmt: skip
            else:
                found = by_name.get((squadron.id, key(name)), [])
                if not found:
                    raise RowProblem(f"「{squadron.name}」没有在册队员「{name}」", code="PUPIL_NOT_FOUND",
                                     column="姓名")  # fmt: skip
                if len(found) > 1:
                    raise RowProblem(f"「{squadron.name}」有 {len(found)} 名「{name}」，请填写身份证号码",
                                     code="AMBIGUOUS_PUPIL", column="身份证号码")  # fmt: skip
                pupil = found[0]
            if not requester.reaches(pupil.path):
                raise RowProblem("这名队员不在您可管理的范围内", code="OUT_OF_SCOPE", column="中队")
            year = _year(row)
            if (pupil.id, year) in seen:
                raise RowProblem(f"与第 {seen[(pupil.id, year)]} 行是同一名队员", code="DUPLICATE_ROW",
                                 column="姓名")  # fmt: skip
            seen[(pupil.id, year)] = row.number
        except RowProblem as exc:
            plan.fail(row, exc)
            continue
        if (pupil.id, year) in held:
            plan.unchanged += 1
        else:
            plan.new.append(Award(row, pupil.id, year, text_of(row, "事迹", limit=500)))
            plan.created += 1
    on_progress(len(rows), len(rows))
    return plan


def apply(
    conn: Connection,
    plan: OneStarPlan,
    import_id: int,
    requester: Requester,
    cipher: FieldCipher,
    on_progress: Callable[[int, int], None],
) -> None:
    row = conn.execute(
        select(badges.c.id, badges.c.code, badges.c.name, badges.c.level, badges.c.points).where(
            badges.c.code == STAR1
        )
    ).one()
    badge = Badge(*row)
    rule_id, points = points_for(conn, badge, clock.today())
    by = f"{requester.kind}:{requester.id}"
    for start in range(0, len(plan.new), BATCH):
        batch = plan.new[start : start + BATCH]
        ids = next_ids(conn, "badge_awards", len(batch))
        issued = ledger.issue_many(
            conn,
            [ledger.Grant(f"award:{pk}", a.pupil_id, points, badge.name) for pk, a in zip(ids, batch, strict=True)],
            kind="award",
            by=by,
        )  # fmt: skip
        now = dt.datetime.now(dt.UTC)
        conn.execute(
            insert(badge_awards),
            [{"id": pk, "badge_id": badge.id, "pupil_id": a.pupil_id, "academic_year": a.year,
              "state": AwardState.AWARDED.value, "evidence": a.evidence, "awarded_by": by,
              "awarded_at": now, "points": points, "rule_id": rule_id,
              "transaction_id": issued.get(f"award:{pk}")}
             for pk, a in zip(ids, batch, strict=True)],
        )  # fmt: skip
        write_county_entries(
            conn,
            requester.actor,
            "importOneStar",
            [{"object_type": "BadgeAward", "object_id": pk,
              "details": {"import": import_id, "pupil": a.pupil_id}}
             for pk, a in zip(ids, batch, strict=True)],
        )  # fmt: skip
        on_progress(start + len(batch), len(plan.new))
