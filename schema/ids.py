"""Global object IDs (`node(id:)`) and page cursors: opaque to clients, checked on the way in."""

from __future__ import annotations

import base64
import binascii
import re

from redscarf.errors import InvalidInput

# An ltree path as this service writes it: labels of letters, digits and underscores.
_LTREE = re.compile(r"^[A-Za-z0-9_]{1,256}(\.[A-Za-z0-9_]{1,256}){0,64}$")
_CURSOR_PREFIX = "path:"


class InvalidId(InvalidInput):
    code = "INVALID_ID"
    message = "ID 格式不正确"


class InvalidCursor(InvalidInput):
    code = "INVALID_CURSOR"
    message = "分页游标不正确，请使用上一页返回的 endCursor"


def _b64decode(value: str) -> str:
    try:
        return base64.b64decode(value.encode("ascii"), validate=True).decode("utf-8")
    except (UnicodeError, binascii.Error, ValueError) as exc:
        raise ValueError(value) from exc


def encode_global_id(type_name: str, county_code: str, pk: int) -> str:
    """Relay-style global ID: base64 of `Type:county:pk`. The county is part of the ID, so an
    object of one county can never be taken for another county's object of the same key."""
    return base64.b64encode(f"{type_name}:{county_code}:{pk}".encode()).decode("ascii")


def decode_global_id(value: str) -> tuple[str, str, int]:
    try:
        type_name, county, pk = _b64decode(value).split(":")
        return type_name, county, int(pk)
    except ValueError:
        raise InvalidId(f"无法识别的 ID：{value!r}") from None


def encode_cursor(path: str) -> str:
    return base64.b64encode(f"{_CURSOR_PREFIX}{path}".encode()).decode("ascii")


def decode_cursor(cursor: str) -> str:
    try:
        text = _b64decode(cursor)
    except ValueError:
        raise InvalidCursor() from None
    path = text.removeprefix(_CURSOR_PREFIX)
    if not text.startswith(_CURSOR_PREFIX) or not _LTREE.match(path):
        raise InvalidCursor()
    return path


_KEY_PREFIX = "key:"


def encode_key_cursor(key: int) -> str:
    """Cursor of a list ordered by a row key."""
    return base64.b64encode(f"{_KEY_PREFIX}{key}".encode()).decode("ascii")


def decode_key_cursor(cursor: str) -> int:
    try:
        text = _b64decode(cursor)
        if not text.startswith(_KEY_PREFIX):
            raise ValueError(text)
        return int(text.removeprefix(_KEY_PREFIX))
    except ValueError:
        raise InvalidCursor() from None
