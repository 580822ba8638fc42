"""`DateTime` as every answer gives it: ISO 8601 in Beijing time (`+08:00`), to the second.

A timestamp is stored as an instant (UTC in the database); the API shows it as a county user
reads a clock, so that a frontend may display the string as it is, and every answer has the
same shape. Input keeps strawberry's parsing (any ISO 8601 offset)."""

from __future__ import annotations

import datetime as dt

from strawberry.schema.types.base_scalars import DateTimeDefinition
from strawberry.types.scalar import ScalarDefinition

BEIJING = dt.timezone(dt.timedelta(hours=8))


def beijing_time(value: dt.datetime) -> str:
    if value.tzinfo is None:  # never stored so; read as UTC rather than guessed
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(BEIJING).isoformat(timespec="seconds")


DateTime = ScalarDefinition(
    name="DateTime",
    description="时间：ISO 8601，带时区偏移；返回的都是北京时间，精确到秒，如 2026-05-01T09:00:00+08:00。",
    specified_by_url=None,
    serialize=beijing_time,
    parse_value=DateTimeDefinition.parse_value,
    parse_literal=None,
    origin=dt.datetime,
)
