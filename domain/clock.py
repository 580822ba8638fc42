"""The service's calendar: its users are in China, so "today", a school day, an academic year
and the day a badge was awarded are China's (UTC+8), whatever the server's time zone is."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

ZONE = ZoneInfo("Asia/Shanghai")


def today() -> dt.date:
    return dt.datetime.now(ZONE).date()


def local_date(value: dt.datetime | dt.date) -> dt.date:
    """The day a moment fell on in China (a date is already one)."""
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).astimezone(ZONE).date()
    return value


def start_of(day: dt.date) -> dt.datetime:
    """Midnight in China at the start of `day` (a period's bound)."""
    return dt.datetime.combine(day, dt.time(), ZONE)
