"""Who a request's credentials belong to, read fresh on every request.

Roles are never carried in tokens: they are read with the session on each request, so a role
removed mid-session stops working on the next request, and an ended or idle session at once.
"""

from __future__ import annotations

import datetime as dt
import hmac
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from authz.principal import Grant, Principal, PrincipalKind, make_principal
from authz.roles import MFA_REQUIRED, Role
from domain.accounts.service import SessionEnded, api_key_prefix
from domain.accounts.tokens import AccessClaims, digest
from redscarf.errors import Unauthenticated

TOUCH_AFTER = dt.timedelta(seconds=60)  # last_seen_at is written at most once a minute

_GRANTS = """
    (SELECT coalesce(array_agg(ARRAY[r.role, coalesce(r.county_code, ''), r.scope]
                                ORDER BY r.id), '{}')
       FROM shared.role_assignments r
      WHERE r.user_id = u.id AND r.revoked_at IS NULL) AS grants
"""

_SESSION = text(
    f"""
    SELECT u.id, u.display_name, u.disabled_at, s.revoked_at, s.expires_at, s.last_seen_at,
           s.mfa, now() AS now, {_GRANTS}
      FROM shared.sessions s JOIN shared.users u ON u.id = s.user_id
     WHERE s.id = :sid AND s.user_id = :uid
    """
)

_EXTERNAL = text(
    f"""
    SELECT u.id, u.display_name, u.disabled_at, {_GRANTS}
      FROM shared.users u WHERE u.external_subject = :subject
    """
)

_API_KEY = text(
    """
    SELECT id, secret_hash, county_code, name, role, scope, revoked_at, last_used_at, now() AS now
      FROM shared.api_keys WHERE prefix = :prefix
    """
)


class ApiKeyRevoked(Unauthenticated):
    message = "应用密钥已被吊销"


def _grants(rows: list[list[str]], *, mfa: bool) -> tuple[Grant, ...]:
    grants = []
    for role_name, county, scope in rows:
        role = Role(role_name)
        if role in MFA_REQUIRED and not mfa:
            continue  # an administrator's powers need a session that passed the second factor
        grants.append(Grant(role, county or None, scope))
    return tuple(grants)


async def principal_for_session(
    conn: AsyncConnection, claims: AccessClaims, idle: dt.timedelta, client: str
) -> Principal:
    row = (await conn.execute(_SESSION, {"sid": claims.session_id, "uid": claims.user_id})).first()
    if row is None or row.revoked_at is not None or row.disabled_at is not None:
        raise SessionEnded()
    if row.expires_at <= row.now or row.last_seen_at < row.now - idle:
        raise SessionEnded("长时间未操作，会话已超时，请重新登录")
    if row.last_seen_at < row.now - TOUCH_AFTER:
        await conn.execute(
            text("UPDATE shared.sessions SET last_seen_at = now() WHERE id = :sid"),
            {"sid": claims.session_id},
        )
    return make_principal(
        PrincipalKind.USER,
        row.id,
        row.display_name,
        _grants(row.grants, mfa=row.mfa),
        session_id=claims.session_id,
        mfa=row.mfa,
        client=client,
    )


async def principal_for_external(
    conn: AsyncConnection, subject: str, *, mfa: bool, client: str
) -> Principal:
    row = (await conn.execute(_EXTERNAL, {"subject": subject})).first()
    if row is None or row.disabled_at is not None:
        raise Unauthenticated("该统一身份认证账号尚未在本平台开通")
    return make_principal(
        PrincipalKind.USER,
        row.id,
        row.display_name,
        _grants(row.grants, mfa=mfa),
        mfa=mfa,
        client=client,
    )


async def principal_for_api_key(conn: AsyncConnection, key: str, client: str) -> Principal:
    prefix = api_key_prefix(key)
    row: Any = (await conn.execute(_API_KEY, {"prefix": prefix})).first() if prefix else None
    if row is None or not hmac.compare_digest(row.secret_hash, digest(key)):
        raise Unauthenticated("应用密钥无效")
    if row.revoked_at is not None:
        raise ApiKeyRevoked()
    if row.last_used_at is None or row.last_used_at < row.now - TOUCH_AFTER:
        await conn.execute(
            text("UPDATE shared.api_keys SET last_used_at = now() WHERE id = :id"), {"id": row.id}
        )
    return make_principal(
        PrincipalKind.API_KEY,
        row.id,
        row.name,
        (Grant(Role(row.role), row.county_code, row.scope),),
        client=client,
    )
