"""Citizen ID numbers (居民身份证号码, GB 11643-1999): check, read, mask."""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass

from domain import clock
from redscarf.errors import InvalidInput
from tenants.codes import PROVINCES

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"  # by the weighted sum modulo 11


class InvalidIdNumber(InvalidInput):
    code = "INVALID_ID_NUMBER"
    message = "身份证号码不正确"


@dataclass(frozen=True)
class IdNumber:
    value: str
    birth_date: dt.date
    gender: str  # the 17th digit: odd for male, even for female

    @property
    def masked(self) -> str:
        return mask_id_number(self.value)


def check_digit(first17: str) -> str:
    return CHECK[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def parse_id_number(raw: str) -> IdNumber:
    """An 18-character ID number, full-width characters and a lower-case x accepted."""
    value = unicodedata.normalize("NFKC", raw).strip().replace(" ", "").upper()
    if (
        len(value) != 18
        or not value[:17].isdigit()
        or not (value[17].isdigit() or value[17] == "X")
    ):
        raise InvalidIdNumber("身份证号码应为 18 位：17 位数字加 1 位数字或 X")
    if value[:2] not in PROVINCES:
        raise InvalidIdNumber(f"身份证号码的前两位 {value[:2]} 不是有效的省级代码")
    try:
        birth = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise InvalidIdNumber(f"身份证号码中的出生日期 {value[6:14]} 不存在") from None
    if not dt.date(1900, 1, 1) <= birth <= clock.today():
        raise InvalidIdNumber(f"身份证号码中的出生日期 {birth.isoformat()} 不可能")
    if check_digit(value[:17]) != value[17]:
        raise InvalidIdNumber("身份证号码的校验位不对，请核对是否输错")
    return IdNumber(value, birth, "male" if int(value[16]) % 2 else "female")


def mask_id_number(value: str) -> str:
    """The first 3 and last 4 characters, the rest hidden (469***********123X)."""
    return value[:3] + "*" * (len(value) - 7) + value[-4:]
