"""Rules for a pupil's own data, the same for the API and for imports: a name normalised
with its pinyin, an ID number checked (GB 11643), encrypted and hashed, a birth date and
gender that agree with it, statuses and the moves between them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from domain import clock
from domain.people.names import normalise_name, pinyin_of
from domain.people.tables import PupilStatus
from domain.personal.crypto import FieldCipher
from domain.personal.id_numbers import parse_id_number
from redscarf.errors import InvalidInput

ID_NUMBER = "pupils.id_number"
GRADES = range(1, 10)

# Which status may follow which (a pupil transferred out may come back: transferred in).
TRANSITIONS: dict[str, frozenset[str]] = {
    PupilStatus.PRE_MEMBER: frozenset(
        {PupilStatus.MEMBER, PupilStatus.TRANSFERRED, PupilStatus.LEFT}
    ),
    PupilStatus.MEMBER: frozenset(
        {PupilStatus.LEFT, PupilStatus.JOINED_LEAGUE, PupilStatus.TRANSFERRED}
    ),
    PupilStatus.LEFT: frozenset({PupilStatus.MEMBER}),
    PupilStatus.JOINED_LEAGUE: frozenset(),
    PupilStatus.TRANSFERRED: frozenset({PupilStatus.MEMBER, PupilStatus.PRE_MEMBER}),
    PupilStatus.ERASED: frozenset(),  # by erasure only (domain.people.erasure), never back
}


class InvalidPupil(InvalidInput):
    code = "INVALID_PUPIL"
    message = "队员信息不正确"


def check_grade(grade: int) -> int:
    if grade not in GRADES:
        raise InvalidPupil(f"年级应为 1–9，收到 {grade}", code="INVALID_GRADE")
    return grade


def identity_columns(
    cipher: FieldCipher,
    *,
    name: str | None = None,
    id_number: str | None = None,
    birth_date: dt.date | None = None,
    gender: str | None = None,
) -> dict[str, Any]:
    """The columns of what was given; an ID number must agree with the birth date and gender."""
    values: dict[str, Any] = {}
    if name is not None:
        values["name"] = normalise_name(name)
        values["name_pinyin"], values["name_initials"] = pinyin_of(values["name"])
    if birth_date is not None:
        if not dt.date(1990, 1, 1) <= birth_date <= clock.today():
            raise InvalidPupil(f"出生日期 {birth_date.isoformat()} 不可能", code="INVALID_DATE")
        values["birth_date"] = birth_date
    if gender is not None:
        if gender not in ("male", "female"):
            raise InvalidPupil("性别应为男或女", code="INVALID_GENDER")
        values["gender"] = gender
    if id_number is not None:
        parsed = parse_id_number(id_number)
        if birth_date is not None and birth_date != parsed.birth_date:
            raise InvalidPupil(
                f"出生日期 {birth_date.isoformat()} 与身份证号码中的 "
                f"{parsed.birth_date.isoformat()} 不一致",
                code="ID_NUMBER_MISMATCH",
            )
        if gender is not None and gender != parsed.gender:
            raise InvalidPupil("性别与身份证号码不一致", code="ID_NUMBER_MISMATCH")
        values["birth_date"] = parsed.birth_date
        values["gender"] = parsed.gender
        values["id_number_enc"] = cipher.encrypt(parsed.value, context=ID_NUMBER)
        values["id_number_hash"] = cipher.keyed_hash(parsed.value, context=ID_NUMBER)
    return values


def check_transition(current: str, new: str) -> None:
    if new not in TRANSITIONS[PupilStatus(current)]:
        raise InvalidPupil(
            f"队员状态不能从 {STATUS_LABELS[current]} 改为 {STATUS_LABELS[new]}",
            code="INVALID_STATUS_CHANGE",
        )


STATUS_LABELS = {
    PupilStatus.PRE_MEMBER: "预备队员",
    PupilStatus.MEMBER: "少先队员",
    PupilStatus.LEFT: "已离队",
    PupilStatus.JOINED_LEAGUE: "已离队入团",
    PupilStatus.TRANSFERRED: "已转出",
    PupilStatus.ERASED: "已删除",
}


def academic_year(day: dt.date) -> int:
    """学年: September to August, named by its first calendar year."""
    return day.year if day.month >= 9 else day.year - 1
