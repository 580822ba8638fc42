"""Access tokens (short-lived JWTs naming a session) and opaque secrets stored hashed."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from uuid import UUID

import jwt

from redscarf.errors import Unauthenticated

ISSUER = "redscarf"
ALGORITHM = "HS256"


class TokenExpired(Unauthenticated):
    message = "登录已过期，请刷新令牌或重新登录"


class TokenInvalid(Unauthenticated):
    message = "令牌无效"


@dataclass(frozen=True)
class AccessClaims:
    user_id: int
    session_id: UUID


def issue_access_token(
    secret: str, user_id: int, session_id: UUID, lifetime: dt.timedelta, *, purpose: str = "access"
) -> str:
    now = dt.datetime.now(dt.UTC)
    claims = {
        "iss": ISSUER,
        "sub": str(user_id),
        "sid": str(session_id),
        "typ": purpose,
        "iat": now,
        "exp": now + lifetime,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def read_access_token(secret: str, token: str, *, purpose: str = "access") -> AccessClaims:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "sid", "typ"]},
        )
    except jwt.ExpiredSignatureError:
        raise TokenExpired() from None
    except jwt.PyJWTError:
        raise TokenInvalid() from None
    if claims.get("typ") != purpose:
        raise TokenInvalid()
    try:
        return AccessClaims(int(claims["sub"]), UUID(claims["sid"]))
    except ValueError:
        raise TokenInvalid() from None


def new_secret(prefix: str) -> tuple[str, bytes]:
    """An opaque, high-entropy token and the SHA-256 stored in its place."""
    token = f"{prefix}_{secrets.token_urlsafe(32)}"
    return token, digest(token)


def digest(token: str) -> bytes:
    # High-entropy secrets need no slow hash: SHA-256 cannot be reversed for them.
    return hashlib.sha256(token.encode()).digest()
