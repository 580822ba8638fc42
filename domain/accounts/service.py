"""Signing in and out, second factors, role grants, invitations and county API keys.

Every function takes a connection whose transaction the caller owns (the service's own login,
not a county role: these tables are shared). Nothing here knows of GraphQL or HTTP.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

import pyotp
from sqlalchemy import Connection, case, func, select, text, update
from sqlalchemy.dialects.postgresql import insert

from authz.principal import COUNTY_ROOT
from authz.roles import MFA_REQUIRED, REGIONAL, UNIT_KINDS, Role
from domain.accounts.passwords import check_rules, hash_password, verify_password
from domain.accounts.tables import (
    api_keys,
    invitations,
    login_codes,
    refresh_tokens,
    role_assignments,
    sessions,
    users,
)
from domain.accounts.tokens import digest, issue_access_token, new_secret, read_access_token
from domain.exchange.service import partner_of_scope
from domain.personal.crypto import FieldCipher
from redscarf.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated
from redscarf.keys import Keys
from redscarf.settings import Settings
from tenants.codes import schema_name, validate_prefecture_code, validate_province_code
from tenants.registry import TenantStatus, tenants

PHONE = "users.phone"
TOTP = "users.totp"
MFA_TOKEN_MINUTES = 5
LOGIN_CODE_MINUTES = 5
LOGIN_CODE_ATTEMPTS = 5
LOGIN_CODE_INTERVAL_S = 60
INVITATION_DAYS = 7
USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{2,63}$")


class InvalidCredentials(Unauthenticated):
    code = "INVALID_CREDENTIALS"
    message = "用户名或密码不正确"
    keeps_changes = True


class AccountLocked(Forbidden):
    code = "ACCOUNT_LOCKED"
    message = "连续登录失败次数过多，账号已暂时锁定，请稍后再试"


class InvalidCode(Unauthenticated):
    code = "INVALID_CODE"
    message = "验证码不正确或已过期"
    keeps_changes = True


class TooManyRequests(Forbidden):
    code = "RATE_LIMITED"
    message = "请求过于频繁，请稍后再试"


class SessionEnded(Unauthenticated):
    message = "会话已结束，请重新登录"


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_in: int
    user_id: int


@dataclass(frozen=True)
class MfaChallenge:
    """The password was right; a second factor is needed (`setup`: none is enrolled yet)."""

    mfa_token: str
    setup: bool


@dataclass(frozen=True)
class Issued:
    """A secret shown once (API key, invitation) and the id of what it belongs to."""

    id: int
    secret: str


def _now(conn: Connection) -> dt.datetime:
    return conn.execute(select(func.now())).scalar_one()


def normalise_phone(phone: str) -> str:
    digits = phone.strip().replace(" ", "").replace("-", "")
    digits = digits.removeprefix("+86")
    if not (len(digits) == 11 and digits.isdigit() and digits.startswith("1")):
        raise InvalidInput("请填写 11 位手机号码", code="INVALID_PHONE")
    return digits


# --- users and grants ------------------------------------------------------------------------


def create_user(
    conn: Connection,
    cipher: FieldCipher,
    *,
    display_name: str,
    username: str | None = None,
    password: str | None = None,
    phone: str | None = None,
) -> int:
    display_name = display_name.strip()
    if not display_name:
        raise InvalidInput("姓名不能为空", code="NAME_REQUIRED")
    values: dict[str, Any] = {"display_name": display_name}
    if username is not None:
        username = username.strip().lower()
        if not USERNAME.match(username):
            raise InvalidInput(
                "用户名为 3–64 位小写字母、数字、下划线、点或连字符，以字母或数字开头",
                code="INVALID_USERNAME",
            )
        values["username"] = username
    if password is not None:
        check_rules(password, username)
        values["password_hash"] = hash_password(password)
        values["password_changed_at"] = func.now()
    if phone is not None:
        phone = normalise_phone(phone)
        values["phone_hash"] = cipher.keyed_hash(phone, context=PHONE)
        values["phone_enc"] = cipher.encrypt(phone, context=PHONE)
    user_id = conn.execute(
        insert(users).values(**values).on_conflict_do_nothing().returning(users.c.id)
    ).scalar()
    if user_id is None:
        raise Conflict("该用户名或手机号已被使用", code="USER_EXISTS")
    return int(user_id)


def _unit_kind(conn: Connection, county_code: str, path: str) -> str | None:
    schema = schema_name(county_code)
    return conn.execute(
        text(
            f'SELECT kind FROM "{schema}".units WHERE path = CAST(:p AS public.ltree)'
            " AND archived_at IS NULL"
        ),
        {"p": path},
    ).scalar()


def _check_partner(conn: Connection, county_code: str, scope: str) -> None:
    """A partner's staff are scoped to their partner (`partner_scope`), which must exist."""
    partner_id = partner_of_scope(scope)
    found = (
        partner_id is not None
        and conn.execute(
            text(f'SELECT 1 FROM "{schema_name(county_code)}".partners WHERE id = :p'),
            {"p": partner_id},
        ).first()
    )
    if not found:
        raise NotFound("没有这个合作单位", code="PARTNER_NOT_FOUND")


def check_grant(conn: Connection, role: Role, county_code: str | None, scope: str) -> None:
    """The scope exists and suits the role (a squadron counselor at a squadron, ...)."""
    if role == Role.OPERATOR:
        raise InvalidInput("运维角色不能授予", code="INVALID_ROLE")
    if role in REGIONAL:
        if county_code is not None:
            raise InvalidInput("省级、地市级角色不属于某个县", code="INVALID_SCOPE")
        check = validate_province_code if role == Role.PROVINCE_ADMIN else validate_prefecture_code
        check(scope)
        return
    if county_code is None:
        raise InvalidInput("请指明县（区）", code="COUNTY_REQUIRED")
    status = conn.execute(select(tenants.c.status).where(tenants.c.code == county_code)).scalar()
    if status != TenantStatus.ACTIVE:
        raise NotFound(f"没有行政区划代码为 {county_code} 的县（区）", code="COUNTY_NOT_FOUND")
    if role == Role.PARTNER:
        _check_partner(conn, county_code, scope)
        return
    kind = _unit_kind(conn, county_code, scope)
    if kind is None:
        raise NotFound("没有这个单位", code="UNIT_NOT_FOUND")
    if kind not in UNIT_KINDS[role]:
        raise InvalidInput(f"该角色不能设在这一层级的单位（{kind}）", code="INVALID_SCOPE")


def grant_role(
    conn: Connection,
    user_id: int,
    role: Role,
    county_code: str | None,
    scope: str,
    *,
    granted_by: int | None,
) -> int:
    check_grant(conn, role, county_code, scope)
    stmt = (
        insert(role_assignments)
        .values(
            user_id=user_id,
            role=role.value,
            county_code=county_code,
            scope=scope,
            granted_by=granted_by,
        )
        .on_conflict_do_nothing()
        .returning(role_assignments.c.id)
    )
    found = conn.execute(stmt).scalar()
    if found is None:  # the same active grant exists already
        found = conn.execute(
            select(role_assignments.c.id).where(
                role_assignments.c.user_id == user_id,
                role_assignments.c.role == role.value,
                role_assignments.c.county_code.is_not_distinct_from(county_code),
                role_assignments.c.scope == scope,
                role_assignments.c.revoked_at.is_(None),
            )
        ).scalar_one()
    return int(found)


def revoke_role(conn: Connection, assignment_id: int, *, revoked_by: int | None) -> bool:
    done = conn.execute(
        update(role_assignments)
        .where(role_assignments.c.id == assignment_id, role_assignments.c.revoked_at.is_(None))
        .values(revoked_at=func.now(), revoked_by=revoked_by)
    )
    return done.rowcount == 1


def active_grants(conn: Connection, user_id: int) -> list[tuple[Role, str | None, str]]:
    rows = conn.execute(
        select(
            role_assignments.c.role, role_assignments.c.county_code, role_assignments.c.scope
        ).where(role_assignments.c.user_id == user_id, role_assignments.c.revoked_at.is_(None))
    )
    return [(Role(r.role), r.county_code, r.scope) for r in rows]


def _needs_mfa(conn: Connection, user_id: int) -> bool:
    return any(role in MFA_REQUIRED for role, _, _ in active_grants(conn, user_id))


# --- sessions --------------------------------------------------------------------------------


def start_session(
    conn: Connection, keys: Keys, settings: Settings, user_id: int, *, mfa: bool, client: str
) -> Tokens:
    session_id = uuid.uuid4()
    conn.execute(
        sessions.insert().values(
            id=session_id,
            user_id=user_id,
            expires_at=func.now() + dt.timedelta(days=settings.refresh_token_days),
            mfa=mfa,
            client=client[:500],
        )
    )
    conn.execute(
        update(users)
        .where(users.c.id == user_id)
        .values(last_login_at=func.now(), failed_logins=0, locked_until=None)
    )
    return _tokens(conn, keys, settings, user_id, session_id)


def _tokens(
    conn: Connection, keys: Keys, settings: Settings, user_id: int, session_id: uuid.UUID
) -> Tokens:
    refresh, refresh_hash = new_secret("rsr")
    conn.execute(refresh_tokens.insert().values(token_hash=refresh_hash, session_id=session_id))
    lifetime = dt.timedelta(minutes=settings.access_token_minutes)
    return Tokens(
        access_token=issue_access_token(keys.token_secret, user_id, session_id, lifetime),
        refresh_token=refresh,
        expires_in=int(lifetime.total_seconds()),
        user_id=user_id,
    )


def _session_or_challenge(
    conn: Connection, keys: Keys, settings: Settings, user: Any, client: str
) -> Tokens | MfaChallenge:
    if not _needs_mfa(conn, user.id):
        return start_session(conn, keys, settings, user.id, mfa=False, client=client)
    # The mfa token names no session yet; its "sid" only ties the two steps together.
    token = issue_access_token(
        keys.token_secret,
        user.id,
        uuid.uuid4(),
        dt.timedelta(minutes=MFA_TOKEN_MINUTES),
        purpose="mfa",
    )
    return MfaChallenge(mfa_token=token, setup=user.totp_enabled_at is None)


def _record_failure(conn: Connection, settings: Settings, user_id: int) -> None:
    """One more failure; the one that reaches the threshold locks the account for a while."""
    failures = users.c.failed_logins + 1
    locks = failures >= settings.lockout_threshold
    conn.execute(
        update(users)
        .where(users.c.id == user_id)
        .values(
            failed_logins=case((locks, 0), else_=failures),
            locked_until=case(
                (locks, func.now() + dt.timedelta(minutes=settings.lockout_minutes)),
                else_=users.c.locked_until,
            ),
        )
    )


def _login_name(cipher: FieldCipher, name: str) -> Any:
    """A user name, or a guardian's phone number (found by its keyed hash)."""
    name = name.strip().lower()
    try:
        phone = normalise_phone(name)
    except InvalidInput:
        return users.c.username == name
    return users.c.phone_hash == cipher.keyed_hash(phone, context=PHONE)


def login_with_password(
    conn: Connection, keys: Keys, settings: Settings, username: str, password: str, client: str
) -> Tokens | MfaChallenge:
    """Tokens, or the second step for administrators. Failures lock the account for a while.

    The caller commits even when this raises `InvalidCredentials`, so the failure counts.
    """
    user = conn.execute(
        select(users).where(_login_name(keys.cipher, username)).with_for_update()
    ).first()
    ok = verify_password(user.password_hash if user else None, password)
    if user is None or user.disabled_at is not None:
        raise InvalidCredentials()
    if user.locked_until is not None and user.locked_until > _now(conn):
        raise AccountLocked()
    if not ok:
        _record_failure(conn, settings, user.id)
        raise InvalidCredentials()
    return _session_or_challenge(conn, keys, settings, user, client)


def _mfa_user(conn: Connection, keys: Keys, mfa_token: str) -> Any:
    claims = read_access_token(keys.token_secret, mfa_token, purpose="mfa")
    user = conn.execute(select(users).where(users.c.id == claims.user_id).with_for_update()).first()
    if user is None or user.disabled_at is not None:
        raise InvalidCredentials()
    return user


def setup_totp(conn: Connection, keys: Keys, mfa_token: str) -> tuple[int, str, str]:
    """A new TOTP secret for a user who has none yet: (user id, secret, otpauth:// URI)."""
    user = _mfa_user(conn, keys, mfa_token)
    if user.totp_enabled_at is not None:
        raise Conflict("已绑定动态口令，请直接输入口令", code="TOTP_ALREADY_ENABLED")
    secret = pyotp.random_base32()
    conn.execute(
        update(users)
        .where(users.c.id == user.id)
        .values(totp_secret_enc=keys.cipher.encrypt(secret, context=TOTP))
    )
    uri = pyotp.TOTP(secret).provisioning_uri(
        name=user.username or str(user.id), issuer_name="红领巾 redscarf"
    )
    return int(user.id), secret, uri


def verify_totp(
    conn: Connection, keys: Keys, settings: Settings, mfa_token: str, code: str, client: str
) -> Tokens:
    """The second step: a valid code (enrolling the secret on first use) starts the session."""
    user = _mfa_user(conn, keys, mfa_token)
    if user.locked_until is not None and user.locked_until > _now(conn):
        raise AccountLocked()
    if user.totp_secret_enc is None:
        raise InvalidInput("请先设置动态口令", code="TOTP_NOT_SET_UP")
    secret = keys.cipher.decrypt(user.totp_secret_enc, context=TOTP)
    if not pyotp.TOTP(secret).verify(code.strip(), valid_window=1):
        _record_failure(conn, settings, user.id)
        raise InvalidCode("动态口令不正确")
    if user.totp_enabled_at is None:
        conn.execute(update(users).where(users.c.id == user.id).values(totp_enabled_at=func.now()))
    return start_session(conn, keys, settings, user.id, mfa=True, client=client)


def refresh_session(conn: Connection, keys: Keys, settings: Settings, refresh_token: str) -> Tokens:
    """Rotate: the token is spent and a new one issued. A spent token used again means it was
    stolen: the whole session ends."""
    row = conn.execute(
        select(
            refresh_tokens.c.used_at,
            sessions.c.id,
            sessions.c.user_id,
            sessions.c.revoked_at,
            sessions.c.expires_at,
            sessions.c.last_seen_at,
        )
        .join(sessions, sessions.c.id == refresh_tokens.c.session_id)
        .where(refresh_tokens.c.token_hash == digest(refresh_token))
        .with_for_update(of=refresh_tokens)
    ).first()
    if row is None:
        raise SessionEnded("刷新令牌无效")
    if row.used_at is not None:
        end_session(conn, row.id, reason="refresh token reused")
        raise SessionEnded(
            "刷新令牌已被使用过，为安全起见会话已结束，请重新登录", keeps_changes=True
        )
    now = _now(conn)
    idle = dt.timedelta(minutes=settings.idle_timeout_minutes)
    if row.revoked_at is not None or row.expires_at <= now or row.last_seen_at < now - idle:
        raise SessionEnded()
    conn.execute(
        update(refresh_tokens)
        .where(refresh_tokens.c.token_hash == digest(refresh_token))
        .values(used_at=func.now())
    )
    conn.execute(update(sessions).where(sessions.c.id == row.id).values(last_seen_at=func.now()))
    return _tokens(conn, keys, settings, row.user_id, row.id)


def end_session(conn: Connection, session_id: uuid.UUID, *, reason: str = "logout") -> None:
    conn.execute(
        update(sessions)
        .where(sessions.c.id == session_id, sessions.c.revoked_at.is_(None))
        .values(revoked_at=func.now(), revoke_reason=reason)
    )


def change_password(
    conn: Connection, user_id: int, session_id: uuid.UUID | None, old: str, new: str
) -> None:
    """A new password ends every other session of the user. An account that has none yet (a
    guardian registered by phone code) sets its first one: the session is the proof."""
    user = conn.execute(select(users).where(users.c.id == user_id).with_for_update()).one()
    if user.password_hash is not None and not verify_password(user.password_hash, old):
        raise InvalidCredentials("原密码不正确")
    check_rules(new, user.username)
    conn.execute(
        update(users)
        .where(users.c.id == user_id)
        .values(password_hash=hash_password(new), password_changed_at=func.now())
    )
    conn.execute(
        update(sessions)
        .where(
            sessions.c.user_id == user_id,
            sessions.c.revoked_at.is_(None),
            sessions.c.id != session_id if session_id else text("true"),
        )
        .values(revoked_at=func.now(), revoke_reason="password changed")
    )


# --- guardians: phone and one-time code ------------------------------------------------------


def request_login_code(conn: Connection, cipher: FieldCipher, phone: str) -> str:
    """A new code for this phone (returned for the sender); at most one a minute."""
    phone = normalise_phone(phone)
    phone_hash = cipher.keyed_hash(phone, context=PHONE)
    recent = conn.execute(
        select(func.count())
        .select_from(login_codes)
        .where(
            login_codes.c.phone_hash == phone_hash,
            login_codes.c.created_at > func.now() - dt.timedelta(seconds=LOGIN_CODE_INTERVAL_S),
        )
    ).scalar_one()
    if recent:
        raise TooManyRequests("验证码已发送，请一分钟后再试")
    code = f"{secrets.randbelow(1_000_000):06d}"
    conn.execute(
        login_codes.insert().values(
            phone_hash=phone_hash,
            code_hash=cipher.keyed_hash(code, context="login_codes.code"),
            expires_at=func.now() + dt.timedelta(minutes=LOGIN_CODE_MINUTES),
        )
    )
    return code


def login_with_code(
    conn: Connection, keys: Keys, settings: Settings, phone: str, code: str, client: str
) -> Tokens:
    """A guardian signs in (and on first sign-in registers) with the code sent to the phone."""
    cipher = keys.cipher
    phone = normalise_phone(phone)
    phone_hash = cipher.keyed_hash(phone, context=PHONE)
    row = conn.execute(
        select(login_codes)
        .where(
            login_codes.c.phone_hash == phone_hash,
            login_codes.c.consumed_at.is_(None),
            login_codes.c.expires_at > func.now(),
        )
        .order_by(login_codes.c.created_at.desc())
        .limit(1)
        .with_for_update()
    ).first()
    if row is None or row.attempts >= LOGIN_CODE_ATTEMPTS:
        raise InvalidCode()
    if not secrets.compare_digest(
        row.code_hash, cipher.keyed_hash(code.strip(), context="login_codes.code")
    ):
        conn.execute(
            update(login_codes).where(login_codes.c.id == row.id).values(attempts=row.attempts + 1)
        )
        raise InvalidCode()
    conn.execute(
        update(login_codes).where(login_codes.c.id == row.id).values(consumed_at=func.now())
    )
    user_id = conn.execute(select(users.c.id).where(users.c.phone_hash == phone_hash)).scalar()
    if user_id is None:
        user_id = create_user(conn, cipher, display_name=f"家长{phone[-4:]}", phone=phone)
    user = conn.execute(select(users).where(users.c.id == user_id)).one()
    if user.disabled_at is not None:
        raise InvalidCredentials("该账号已停用")
    result = _session_or_challenge(conn, keys, settings, user, client)
    if isinstance(result, MfaChallenge):
        raise Forbidden("管理员账号请用用户名、密码和动态口令登录", code="MFA_REQUIRED")
    return result


# --- invitations -----------------------------------------------------------------------------


def create_invitation(
    conn: Connection,
    *,
    role: Role,
    county_code: str | None,
    scope: str,
    display_name: str,
    invited_by: int | None,
) -> Issued:
    check_grant(conn, role, county_code, scope)
    token, token_hash = new_secret("rsi")
    invitation_id = conn.execute(
        invitations.insert()
        .values(
            token_hash=token_hash,
            role=role.value,
            county_code=county_code,
            scope=scope,
            display_name=display_name.strip() or "（未填写）",
            invited_by=invited_by,
            expires_at=func.now() + dt.timedelta(days=INVITATION_DAYS),
        )
        .returning(invitations.c.id)
    ).scalar_one()
    return Issued(int(invitation_id), token)


def accept_invitation(
    conn: Connection,
    keys: Keys,
    *,
    token: str,
    user_id: int | None,
    username: str | None,
    password: str | None,
    display_name: str | None,
) -> tuple[int, int]:
    """Take the role offered; a signed-in user adds it, anyone else creates an account.
    Returns (user id, role assignment id)."""
    row = conn.execute(
        select(invitations).where(invitations.c.token_hash == digest(token)).with_for_update()
    ).first()
    if (
        row is None
        or row.accepted_at is not None
        or row.cancelled_at is not None
        or row.expires_at <= _now(conn)
    ):
        raise NotFound("邀请不存在、已使用或已过期", code="INVITATION_NOT_FOUND")
    if user_id is None:
        if not username or not password:
            raise InvalidInput("请填写用户名和密码", code="CREDENTIALS_REQUIRED")
        user_id = create_user(
            conn,
            keys.cipher,
            display_name=display_name or row.display_name,
            username=username,
            password=password,
        )
    assignment = grant_role(
        conn, user_id, Role(row.role), row.county_code, row.scope, granted_by=row.invited_by
    )
    conn.execute(
        update(invitations)
        .where(invitations.c.id == row.id)
        .values(accepted_at=func.now(), accepted_by=user_id)
    )
    return user_id, assignment


# --- county apps -----------------------------------------------------------------------------


def create_api_key(
    conn: Connection, *, county_code: str, name: str, role: Role, scope: str, created_by: int
) -> Issued:
    if role in REGIONAL or role in (Role.OPERATOR, Role.GUARDIAN, Role.PARTNER):
        raise InvalidInput("县（区）应用只能使用县内的工作角色", code="INVALID_ROLE")
    if not name.strip():
        raise InvalidInput("请为应用密钥起个名字", code="NAME_REQUIRED")
    check_grant(conn, role, county_code, scope)
    prefix = secrets.token_hex(6)
    secret, secret_hash = new_secret(f"rsk_{prefix}")
    key_id = conn.execute(
        api_keys.insert()
        .values(
            prefix=prefix,
            secret_hash=secret_hash,
            county_code=county_code,
            name=name.strip(),
            role=role.value,
            scope=scope,
            created_by=created_by,
        )
        .returning(api_keys.c.id)
    ).scalar_one()
    return Issued(int(key_id), secret)


def revoke_api_key(conn: Connection, key_id: int, county_code: str, *, revoked_by: int) -> bool:
    done = conn.execute(
        update(api_keys)
        .where(
            api_keys.c.id == key_id,
            api_keys.c.county_code == county_code,
            api_keys.c.revoked_at.is_(None),
        )
        .values(revoked_at=func.now(), revoked_by=revoked_by)
    )
    return done.rowcount == 1


def api_key_prefix(key: str) -> str | None:
    """`rsk_<prefix>_<secret>` → prefix, or None for anything else."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != "rsk" or len(parts[1]) != 12:
        return None
    return parts[1]


__all__ = [
    "COUNTY_ROOT",
    "AccountLocked",
    "InvalidCredentials",
    "Issued",
    "MfaChallenge",
    "Tokens",
]
