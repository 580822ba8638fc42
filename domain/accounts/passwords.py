"""Passwords: argon2id hashes and the rules a new password must meet."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from redscarf.errors import InvalidInput

_hasher = PasswordHasher()  # argon2id, RFC 9106 low-memory profile
# Compared against when the user does not exist, so that timing does not tell.
_DUMMY = _hasher.hash("redscarf-no-such-user")

MIN_LENGTH = 10
COMMON = frozenset({"password12", "1234567890", "qwertyuiop", "a123456789", "1qaz2wsx3edc"})


class WeakPassword(InvalidInput):
    code = "WEAK_PASSWORD"
    message = "密码至少 10 位，并包含大写字母、小写字母、数字、符号中的至少三类"


def check_rules(password: str, username: str | None = None) -> None:
    """等保 level 3: long enough, several kinds of characters, not the user name."""
    kinds = sum(
        bool(re.search(pattern, password))
        for pattern in (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^A-Za-z0-9]")
    )
    if len(password) < MIN_LENGTH or kinds < 3:
        raise WeakPassword()
    if password.lower() in COMMON or (username and username.lower() in password.lower()):
        raise WeakPassword("密码过于常见或包含用户名，请换一个")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _DUMMY, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False
