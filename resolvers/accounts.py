"""Sign-in and accounts over the API: the mutations and queries of `schema.accounts`.

Account tables are shared: the work runs as the service's own login in a worker thread
(`Context.in_shared_transaction`: argon2 is CPU work). A mutation that concerns a county
writes its audit entry in the county's log inside the same transaction, as the county role.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import strawberry
from sqlalchemy import Connection, select
from strawberry.types import Info

from authz.principal import Principal, PrincipalKind, Scope
from authz.roles import REGIONAL
from authz.roles import Role as DomainRole
from domain.accounts import service
from domain.accounts.tables import api_keys, role_assignments, users
from domain.audit.service import county_entries, record_shared
from domain.audit.tables import audit_log
from redscarf.errors import Forbidden, NotFound, RedscarfError
from schema.accounts import (
    AcceptInvitationInput,
    AcceptInvitationPayload,
    ApiKey,
    AuditEntry,
    AuthTokens,
    ChangePasswordInput,
    CreateApiKeyInput,
    CreateApiKeyPayload,
    CreateInvitationInput,
    CreateInvitationPayload,
    OkPayload,
    RefreshSessionInput,
    RequestLoginCodeInput,
    RevokeApiKeyInput,
    RevokeRoleInput,
    Role,
    RoleAssignment,
    RoleGrant,
    SetupTotpInput,
    SignInInput,
    SignInPayload,
    SignInWithCodeInput,
    TotpSetupPayload,
    VerifyTotpInput,
    Viewer,
    ViewerKind,
)
from schema.context import Context
from schema.user_errors import UserError, user_errors
from tenants.sessions import Tenant, act_as_county

P = TypeVar("P")


def _signed_in(result: service.Tokens | service.MfaChallenge) -> SignInPayload:
    if isinstance(result, service.MfaChallenge):
        return SignInPayload(
            tokens=None, mfa_token=result.mfa_token, mfa_setup_required=result.setup, user_errors=[]
        )
    return SignInPayload(
        tokens=AuthTokens(
            access_token=result.access_token,
            refresh_token=result.refresh_token,
            expires_in=result.expires_in,
        ),
        mfa_token=None,
        mfa_setup_required=False,
        user_errors=[],
    )


async def _sign_in(
    context: Context, action: str, work: Callable[[Connection], Any]
) -> SignInPayload:
    """Run a sign-in step; a user error is the payload's, and every success is audited."""
    principal = await context.principal()

    def run(conn: Connection) -> Any:
        result = work(conn)
        if isinstance(result, service.Tokens):
            record_shared(conn, principal, action, "User", result.user_id)
        return result

    try:
        result = await context.in_shared_transaction(run)
    except RedscarfError as exc:
        return SignInPayload(
            tokens=None, mfa_token=None, mfa_setup_required=False, user_errors=user_errors(exc)
        )
    return _signed_in(result)


def _audit_county(
    conn: Connection, tenant: Tenant, principal: Principal, action: str, obj: dict[str, Any]
) -> None:
    """The county's audit entry, in this (shared) transaction, written as the county role.
    Last in the transaction: the county role reaches no shared table afterwards."""
    act_as_county(conn, tenant).execute(county_entries(principal, action, [obj]))


# --- sign-in ---------------------------------------------------------------------------------


async def sign_in(info: Info[Context, None], input: SignInInput) -> SignInPayload:
    s = info.context.services
    client = info.context.client
    return await _sign_in(
        info.context,
        "signIn",
        lambda conn: service.login_with_password(
            conn, s.keys, s.settings, input.username, input.password, client
        ),
    )


async def setup_totp(info: Info[Context, None], input: SetupTotpInput) -> TotpSetupPayload:
    keys = info.context.services.keys
    principal = await info.context.principal()

    def run(conn: Connection) -> tuple[str, str]:
        user_id, secret, uri = service.setup_totp(conn, keys, input.mfa_token)
        record_shared(conn, principal, "setupTotp", "User", user_id)
        return secret, uri

    try:
        secret, uri = await info.context.in_shared_transaction(run)
    except RedscarfError as exc:
        return TotpSetupPayload(secret=None, uri=None, user_errors=user_errors(exc))
    return TotpSetupPayload(secret=secret, uri=uri, user_errors=[])


async def verify_totp(info: Info[Context, None], input: VerifyTotpInput) -> SignInPayload:
    s = info.context.services
    client = info.context.client
    return await _sign_in(
        info.context,
        "verifyTotp",
        lambda conn: service.verify_totp(
            conn, s.keys, s.settings, input.mfa_token, input.code, client
        ),
    )


async def refresh_session(info: Info[Context, None], input: RefreshSessionInput) -> SignInPayload:
    s = info.context.services
    return await _sign_in(
        info.context,
        "refreshSession",
        lambda conn: service.refresh_session(conn, s.keys, s.settings, input.refresh_token),
    )


async def request_login_code(info: Info[Context, None], input: RequestLoginCodeInput) -> OkPayload:
    context = info.context
    cipher = context.services.keys.cipher
    principal = await context.principal()

    def run(conn: Connection) -> tuple[str, str]:
        phone = service.normalise_phone(input.phone)
        code = service.request_login_code(conn, cipher, phone)
        record_shared(conn, principal, "requestLoginCode", "Phone", f"***{phone[-4:]}")
        return phone, code

    try:
        phone, code = await context.in_shared_transaction(run)
    except RedscarfError as exc:
        return OkPayload(ok=False, user_errors=user_errors(exc, "phone"))
    context.services.code_sender.send(phone, code)
    return OkPayload(ok=True, user_errors=[])


async def sign_in_with_code(info: Info[Context, None], input: SignInWithCodeInput) -> SignInPayload:
    s = info.context.services
    client = info.context.client
    return await _sign_in(
        info.context,
        "signInWithCode",
        lambda conn: service.login_with_code(
            conn, s.keys, s.settings, input.phone, input.code, client
        ),
    )


async def sign_out(info: Info[Context, None]) -> OkPayload:
    principal = await info.context.user()
    if principal.session_id is None:
        return OkPayload(
            ok=False,
            user_errors=[UserError(field=None, code="NO_SESSION", message="当前凭据不是登录会话")],
        )
    session_id = principal.session_id

    def run(conn: Connection) -> None:
        service.end_session(conn, session_id)
        record_shared(conn, principal, "signOut", "User", principal.id)

    await info.context.in_shared_transaction(run)
    return OkPayload(ok=True, user_errors=[])


async def change_password(info: Info[Context, None], input: ChangePasswordInput) -> OkPayload:
    principal = await info.context.user()
    if principal.kind != PrincipalKind.USER or principal.id is None:
        raise Forbidden("只有登录账号可以修改密码")
    user_id = principal.id

    def run(conn: Connection) -> None:
        service.change_password(
            conn, user_id, principal.session_id, input.old_password, input.new_password
        )
        record_shared(conn, principal, "changePassword", "User", user_id)

    try:
        await info.context.in_shared_transaction(run)
    except RedscarfError as exc:
        return OkPayload(ok=False, user_errors=user_errors(exc, "newPassword"))
    return OkPayload(ok=True, user_errors=[])


# --- roles and invitations -------------------------------------------------------------------


async def _grant_scopes(
    context: Context, role: DomainRole
) -> tuple[tuple[Scope, ...], Tenant | None]:
    """The scopes that decide a grant of `role`: regional ones outside any county, county
    ones inside the routed county."""
    principal = await context.user()
    if role in REGIONAL:
        scopes = tuple(Scope(g.role, g.scope) for g in principal.grants if g.county_code is None)
        return scopes, None
    return await context.scopes(), await context.tenant()


async def create_invitation(
    info: Info[Context, None], input: CreateInvitationInput
) -> CreateInvitationPayload:
    context = info.context
    role = DomainRole(input.role.value)
    scopes, tenant = await _grant_scopes(context, role)
    if not context.services.authorizer.allowed(scopes, f"role:{role.value}", "grant", input.scope):
        raise Forbidden("您不能邀请这一角色，或该范围超出了您的管辖")
    principal = await context.principal()

    def run(conn: Connection) -> service.Issued:
        issued = service.create_invitation(
            conn,
            role=role,
            county_code=tenant.code if tenant else None,
            scope=input.scope,
            display_name=input.display_name,
            invited_by=principal.id if principal.kind == PrincipalKind.USER else None,
        )
        obj = {
            "object_type": "Invitation",
            "object_id": issued.id,
            "details": {"role": role.value, "scope": input.scope},
        }
        if tenant is None:
            record_shared(
                conn, principal, "createInvitation", "Invitation", issued.id, details=obj["details"]
            )
        else:
            _audit_county(conn, tenant, principal, "createInvitation", obj)
        return issued

    try:
        issued = await context.in_shared_transaction(run)
    except RedscarfError as exc:
        return CreateInvitationPayload(
            invitation_id=None, token=None, user_errors=user_errors(exc, "scope")
        )
    return CreateInvitationPayload(
        invitation_id=strawberry.ID(str(issued.id)), token=issued.secret, user_errors=[]
    )


async def accept_invitation(
    info: Info[Context, None], input: AcceptInvitationInput
) -> AcceptInvitationPayload:
    context = info.context
    principal = await context.principal()
    user_id = principal.id if principal.kind == PrincipalKind.USER else None
    keys = context.services.keys
    directory = context.services.directory

    def run(conn: Connection) -> tuple[int, Any]:
        uid, assignment = service.accept_invitation(
            conn,
            keys,
            token=input.token,
            user_id=user_id,
            username=input.username,
            password=input.password,
            display_name=input.display_name,
        )
        grant = conn.execute(
            select(role_assignments).where(role_assignments.c.id == assignment)
        ).one()
        name = conn.execute(select(users.c.display_name).where(users.c.id == uid)).scalar_one()
        acting = Principal(PrincipalKind.USER, uid, name, client=context.client)
        record_shared(
            conn,
            acting,
            "acceptInvitation",
            "RoleAssignment",
            assignment,
            county_code=grant.county_code,
            details={"role": grant.role, "scope": grant.scope},
        )
        return uid, grant

    try:
        _, grant = await context.in_shared_transaction(run)
    except RedscarfError as exc:
        return AcceptInvitationPayload(grant=None, user_errors=user_errors(exc))
    if grant.county_code:
        directory.forget(grant.county_code)
    return AcceptInvitationPayload(
        grant=RoleGrant(role=Role(grant.role), county_code=grant.county_code, scope=grant.scope),
        user_errors=[],
    )


async def revoke_role(info: Info[Context, None], input: RevokeRoleInput) -> OkPayload:
    context = info.context
    try:
        assignment_id = int(input.assignment_id)
    except ValueError:
        raise NotFound("没有这项角色授权", code="GRANT_NOT_FOUND") from None
    tenant = await context.tenant()
    principal = await context.principal()

    def find(conn: Connection) -> Any:
        return conn.execute(
            select(role_assignments).where(
                role_assignments.c.id == assignment_id,
                role_assignments.c.county_code == tenant.code,
                role_assignments.c.revoked_at.is_(None),
            )
        ).first()

    row = await context.in_shared_transaction(find)
    # Out of reach looks exactly like missing.
    if row is None or not await context.may(f"role:{row.role}", "grant", row.scope):
        raise NotFound("没有这项角色授权", code="GRANT_NOT_FOUND")

    def run(conn: Connection) -> None:
        service.revoke_role(conn, assignment_id, revoked_by=principal.id)
        _audit_county(
            conn,
            tenant,
            principal,
            "revokeRole",
            {
                "object_type": "RoleAssignment",
                "object_id": assignment_id,
                "details": {"role": row.role, "scope": row.scope, "user_id": row.user_id},
            },
        )

    await context.in_shared_transaction(run)
    return OkPayload(ok=True, user_errors=[])


async def role_assignments_in_county(info: Info[Context, None]) -> list[RoleAssignment]:
    context = info.context
    tenant = await context.tenant()
    scope = await context.list_scope("role_assignment", "read")
    if scope.nothing:
        raise Forbidden()

    def run(conn: Connection) -> list[Any]:
        return list(
            conn.execute(
                select(role_assignments, users.c.display_name)
                .join(users, users.c.id == role_assignments.c.user_id)
                .where(
                    role_assignments.c.county_code == tenant.code,
                    role_assignments.c.revoked_at.is_(None),
                )
                .order_by(role_assignments.c.id)
            )
        )

    rows = await context.in_shared_transaction(run)
    authorizer = context.services.authorizer
    scopes = await context.scopes()
    return [
        RoleAssignment(
            id=strawberry.ID(str(r.id)),
            user_name=r.display_name,
            role=Role(r.role),
            scope=r.scope,
            created_at=r.created_at,
        )
        for r in rows
        if authorizer.allowed(scopes, "role_assignment", "read", r.scope)
    ]


# --- county apps -----------------------------------------------------------------------------


def _api_key(row: Any) -> ApiKey:
    return ApiKey(
        id=strawberry.ID(str(row.id)),
        name=row.name,
        role=Role(row.role),
        scope=row.scope,
        prefix=row.prefix,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


async def create_api_key(
    info: Info[Context, None], input: CreateApiKeyInput
) -> CreateApiKeyPayload:
    context = info.context
    await context.require("api_key", "manage", input.scope)
    tenant = await context.tenant()
    principal = await context.principal()
    if principal.kind != PrincipalKind.USER or principal.id is None:
        raise Forbidden("应用密钥只能由登录的管理员创建")
    creator = principal.id

    def run(conn: Connection) -> tuple[service.Issued, Any]:
        issued = service.create_api_key(
            conn,
            county_code=tenant.code,
            name=input.name,
            role=DomainRole(input.role.value),
            scope=input.scope,
            created_by=creator,
        )
        row = conn.execute(select(api_keys).where(api_keys.c.id == issued.id)).one()
        _audit_county(
            conn,
            tenant,
            principal,
            "createApiKey",
            {
                "object_type": "ApiKey",
                "object_id": issued.id,
                "details": {"name": row.name, "role": row.role, "scope": row.scope},
            },
        )
        return issued, row

    try:
        issued, row = await context.in_shared_transaction(run)
    except RedscarfError as exc:
        return CreateApiKeyPayload(api_key=None, secret=None, user_errors=user_errors(exc))
    return CreateApiKeyPayload(api_key=_api_key(row), secret=issued.secret, user_errors=[])


async def revoke_api_key(info: Info[Context, None], input: RevokeApiKeyInput) -> OkPayload:
    context = info.context
    tenant = await context.tenant()
    principal = await context.principal()
    try:
        key_id = int(input.id)
    except ValueError:
        raise NotFound("没有这个应用密钥", code="API_KEY_NOT_FOUND") from None
    row = await context.in_shared_transaction(
        lambda conn: conn.execute(
            select(api_keys).where(api_keys.c.id == key_id, api_keys.c.county_code == tenant.code)
        ).first()
    )
    if row is None or not await context.may("api_key", "manage", row.scope):
        raise NotFound("没有这个应用密钥", code="API_KEY_NOT_FOUND")

    def run(conn: Connection) -> bool:
        done = service.revoke_api_key(conn, key_id, tenant.code, revoked_by=principal.id or 0)
        _audit_county(
            conn, tenant, principal, "revokeApiKey", {"object_type": "ApiKey", "object_id": key_id}
        )
        return done

    done = await context.in_shared_transaction(run)
    return OkPayload(ok=done, user_errors=[])


async def api_keys_of_county(info: Info[Context, None]) -> list[ApiKey]:
    context = info.context
    await context.require("api_key", "manage", "c")
    tenant = await context.tenant()
    rows = await context.in_shared_transaction(
        lambda conn: list(
            conn.execute(
                select(api_keys)
                .where(api_keys.c.county_code == tenant.code)
                .order_by(api_keys.c.id)
            )
        )
    )
    return [_api_key(r) for r in rows]


# --- the caller and the audit log ------------------------------------------------------------


async def me(info: Info[Context, None]) -> Viewer:
    principal = await info.context.user()
    return Viewer(
        kind=ViewerKind(principal.kind.value),
        name=principal.name,
        grants=[
            RoleGrant(role=Role(g.role.value), county_code=g.county_code, scope=g.scope)
            for g in principal.grants
        ],
        mfa=principal.mfa,
    )


async def audit_entries(
    info: Info[Context, None],
    first: Annotated[int, strawberry.argument(description="条数，默认 50，最多 100。")] = 50,
    before_id: Annotated[
        strawberry.ID | None, strawberry.argument(description="只看这条之前（更早）的记录。")
    ] = None,
) -> list[AuditEntry]:
    """The county's audit log, newest first (county admins)."""
    context = info.context
    await context.require("audit_log", "read", "c")
    stmt = select(audit_log).order_by(audit_log.c.id.desc()).limit(max(0, min(first, 100)))
    if before_id is not None:
        stmt = stmt.where(audit_log.c.id < int(before_id))
    async with context.session() as session:
        rows = (await session.execute(stmt)).all()
    return [
        AuditEntry(
            id=strawberry.ID(str(r.id)),
            at=r.at,
            actor=r.actor,
            roles=r.roles,
            action=r.action,
            object_type=r.object_type,
            object_id=r.object_id,
            fields=r.fields,
            client=r.client,
        )
        for r in rows
    ]
