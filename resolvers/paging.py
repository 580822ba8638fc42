"""Relay cursor pages: the one page-size rule and the one way to build `PageInfo`."""

from __future__ import annotations

from redscarf.errors import InvalidInput
from schema.node import PageInfo

MAX_PAGE = 100


def page_size(first: int) -> int:
    """`first` as asked, capped at MAX_PAGE; a negative size is the client's error."""
    if first < 0:
        raise InvalidInput("first 不能为负数", code="INVALID_PAGE_SIZE")
    return min(first, MAX_PAGE)


def page_info(cursors: list[str], *, has_next: bool, after: str | None) -> PageInfo:
    return PageInfo(
        has_next_page=has_next,
        has_previous_page=after is not None,
        start_cursor=cursors[0] if cursors else None,
        end_cursor=cursors[-1] if cursors else None,
    )
