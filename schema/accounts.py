"""GraphQL types of accounts: the caller, sign-in results, role grants, county app keys,
invitations and the audit log."""

from __future__ import annotations

import datetime as dt
import enum

import strawberry

from authz.roles import LABELS
from authz.roles import Role as DomainRole
from schema.user_errors import UserError


@strawberry.enum(description="角色。")
class Role(enum.Enum):
    PROVINCE_ADMIN = strawberry.enum_value(
        "province_admin", description=LABELS[DomainRole.PROVINCE_ADMIN]
    )
    PREFECTURE_ADMIN = strawberry.enum_value(
        "prefecture_admin", description=LABELS[DomainRole.PREFECTURE_ADMIN]
    )
    COUNTY_ADMIN = strawberry.enum_value(
        "county_admin", description=LABELS[DomainRole.COUNTY_ADMIN]
    )
    TOWNSHIP_ADMIN = strawberry.enum_value(
        "township_admin", description=LABELS[DomainRole.TOWNSHIP_ADMIN]
    )
    BRIGADE_COUNSELOR = strawberry.enum_value(
        "brigade_counselor", description=LABELS[DomainRole.BRIGADE_COUNSELOR]
    )
    SQUADRON_COUNSELOR = strawberry.enum_value(
        "squadron_counselor", description=LABELS[DomainRole.SQUADRON_COUNSELOR]
    )
    TEAM_COUNSELOR = strawberry.enum_value(
        "team_counselor", description=LABELS[DomainRole.TEAM_COUNSELOR]
    )
    GUARDIAN = strawberry.enum_value("guardian", description=LABELS[DomainRole.GUARDIAN])
    PARTNER = strawberry.enum_value("partner", description=LABELS[DomainRole.PARTNER])
    OPERATOR = strawberry.enum_value("operator", description=LABELS[DomainRole.OPERATOR])


@strawberry.type(description="一项角色授权：角色、所在县（区）和范围。")
class RoleGrant:
    role: Role = strawberry.field(description="角色。")
    county_code: str | None = strawberry.field(
        description="所在县（区）代码；省级、地市级角色为空。"
    )
    scope: str = strawberry.field(
        description="范围：县内单位的路径（如 `c.t12.b345`），或省级、地市级代码。"
    )


@strawberry.enum(description="调用者的种类。")
class ViewerKind(enum.Enum):
    USER = strawberry.enum_value("user", description="账号（人）")
    API_KEY = strawberry.enum_value("api_key", description="应用密钥（县（区）自己的应用）")
    OPERATOR = strawberry.enum_value("operator", description="平台运维")


@strawberry.type(description="当前调用者。")
class Viewer:
    kind: ViewerKind = strawberry.field(description="种类。")
    name: str = strawberry.field(description="姓名或应用名称。")
    grants: list[RoleGrant] = strawberry.field(
        description="当前有效的角色（管理员需通过动态口令）。"
    )
    mfa: bool = strawberry.field(description="本次登录是否已通过第二因素（动态口令）。")


@strawberry.type(description="登录成功后颁发的令牌。")
class AuthTokens:
    access_token: str = strawberry.field(
        description="访问令牌（JWT），放在请求头 Authorization: Bearer <令牌>。"
    )
    refresh_token: str = strawberry.field(description="刷新令牌：只能使用一次，用于换取新令牌。")
    expires_in: int = strawberry.field(description="访问令牌的有效秒数。")


@strawberry.type(
    description="登录结果：成功时有 tokens；管理员需要第二步（动态口令）时有 mfaToken。"
)
class SignInPayload:
    tokens: AuthTokens | None = strawberry.field(description="令牌；需要第二步或失败时为空。")
    mfa_token: str | None = strawberry.field(
        description="第二步用的临时令牌（5 分钟有效），交给 verifyTotp（或先 setupTotp）。"
    )
    mfa_setup_required: bool = strawberry.field(
        description="尚未绑定动态口令：先用 setupTotp 取得密钥，再用 verifyTotp 确认。"
    )
    user_errors: list[UserError] = strawberry.field(description="错误；为空表示成功。")


@strawberry.type(description="新的动态口令（TOTP）密钥。")
class TotpSetupPayload:
    secret: str | None = strawberry.field(description="Base32 密钥，可手工输入验证器应用。")
    uri: str | None = strawberry.field(description="otpauth:// 地址，可生成二维码供扫码绑定。")
    user_errors: list[UserError] = strawberry.field(description="错误；为空表示成功。")


@strawberry.type(description="操作结果。")
class OkPayload:
    ok: bool = strawberry.field(description="是否成功。")
    user_errors: list[UserError] = strawberry.field(description="错误；为空表示成功。")


@strawberry.type(description="县（区）应用密钥（密钥本身只在创建时显示一次）。")
class ApiKey:
    id: strawberry.ID = strawberry.field(description="ID。")
    name: str = strawberry.field(description="名称，如“县少工委微信小程序”。")
    role: Role = strawberry.field(description="应用以该角色访问。")
    scope: str = strawberry.field(description="范围（县内单位路径）。")
    prefix: str = strawberry.field(description="密钥的公开前缀，便于辨认。")
    created_at: dt.datetime = strawberry.field(description="创建时间。")
    last_used_at: dt.datetime | None = strawberry.field(description="最近使用时间。")
    revoked_at: dt.datetime | None = strawberry.field(description="吊销时间；未吊销为空。")


@strawberry.type(description="创建应用密钥的结果。")
class CreateApiKeyPayload:
    api_key: ApiKey | None = strawberry.field(description="密钥信息。")
    secret: str | None = strawberry.field(
        description="密钥全文（rsk_…），只显示这一次，请妥善保存；请求头 X-Api-Key 或 Authorization: Bearer 使用。"
    )
    user_errors: list[UserError] = strawberry.field(description="错误；为空表示成功。")


@strawberry.type(description="邀请的结果。")
class CreateInvitationPayload:
    invitation_id: strawberry.ID | None = strawberry.field(description="邀请 ID。")
    token: str | None = strawberry.field(
        description="邀请码（只显示这一次），交给被邀请人用 acceptInvitation 接受，7 天内有效。"
    )
    user_errors: list[UserError] = strawberry.field(description="错误；为空表示成功。")


@strawberry.type(description="接受邀请的结果。")
class AcceptInvitationPayload:
    grant: RoleGrant | None = strawberry.field(description="获得的角色。")
    user_errors: list[UserError] = strawberry.field(description="错误；为空表示成功。")


@strawberry.type(description="一条审计日志：谁、何时、对哪个对象、哪些字段、从哪个客户端。")
class AuditEntry:
    id: strawberry.ID = strawberry.field(description="ID。")
    at: dt.datetime = strawberry.field(description="时间。")
    actor: str = strawberry.field(description="操作者姓名、应用名称或 operator。")
    roles: str | None = strawberry.field(description="操作者当时的角色。")
    action: str = strawberry.field(description="操作，如 createApiKey、reveal。")
    object_type: str | None = strawberry.field(description="对象类型。")
    object_id: str | None = strawberry.field(description="对象 ID。")
    fields: list[str] | None = strawberry.field(description="涉及的字段。")
    client: str | None = strawberry.field(description="客户端（User-Agent 与地址）。")


@strawberry.input(description="用户名（家长可用手机号）和密码登录。")
class SignInInput:
    username: str = strawberry.field(description="用户名；家长设置过密码的，也可填手机号。")
    password: str = strawberry.field(description="密码。")


@strawberry.input(description="管理员登录第二步：动态口令。")
class VerifyTotpInput:
    mfa_token: str = strawberry.field(description="signIn 返回的 mfaToken。")
    code: str = strawberry.field(description="验证器应用显示的 6 位动态口令。")


@strawberry.input(description="为尚未绑定动态口令的管理员生成密钥。")
class SetupTotpInput:
    mfa_token: str = strawberry.field(description="signIn 返回的 mfaToken。")


@strawberry.input(description="用刷新令牌换新令牌。")
class RefreshSessionInput:
    refresh_token: str = strawberry.field(description="上次颁发的刷新令牌（只能用一次）。")


@strawberry.input(description="家长手机号。")
class RequestLoginCodeInput:
    phone: str = strawberry.field(description="11 位手机号码。")


@strawberry.input(description="家长用手机验证码登录（首次登录即注册）。")
class SignInWithCodeInput:
    phone: str = strawberry.field(description="11 位手机号码。")
    code: str = strawberry.field(description="短信中的 6 位验证码。")


@strawberry.input(
    description="修改密码（其他设备上的登录随之失效）；用验证码注册的家长可借此设置第一个密码。"
)
class ChangePasswordInput:
    old_password: str = strawberry.field(description="原密码；尚未设置过密码时不检查。")
    new_password: str = strawberry.field(
        description="新密码：至少 10 位，含大写字母、小写字母、数字、符号中的至少三类。"
    )


@strawberry.input(description="邀请某人担任一个角色。")
class CreateInvitationInput:
    role: Role = strawberry.field(description="角色。")
    scope: str = strawberry.field(
        description="范围：县内单位路径（县级管理员为 `c`）；省级、地市级角色为省、地市代码。"
    )
    display_name: str = strawberry.field(description="被邀请人姓名（便于核对）。")


@strawberry.input(description="接受邀请。已登录时把角色加到当前账号；否则用用户名和密码新建账号。")
class AcceptInvitationInput:
    token: str = strawberry.field(description="邀请码。")
    username: str | None = strawberry.field(default=None, description="新账号的用户名。")
    password: str | None = strawberry.field(default=None, description="新账号的密码。")
    display_name: str | None = strawberry.field(
        default=None, description="姓名（不填用邀请时的）。"
    )


@strawberry.input(description="撤销一项角色授权。")
class RevokeRoleInput:
    assignment_id: strawberry.ID = strawberry.field(
        description="角色授权的 ID（roleAssignments 中）。"
    )


@strawberry.input(description="为本县（区）自己的应用创建密钥。")
class CreateApiKeyInput:
    name: str = strawberry.field(description="名称，如“县少工委微信小程序”。")
    role: Role = strawberry.field(description="应用以该角色访问（县内工作角色）。")
    scope: str = strawberry.field(default="c", description="范围（县内单位路径），默认全县 `c`。")


@strawberry.input(description="吊销应用密钥。")
class RevokeApiKeyInput:
    id: strawberry.ID = strawberry.field(description="密钥 ID。")


@strawberry.type(description="本县（区）的一项角色授权，及其持有人。")
class RoleAssignment:
    id: strawberry.ID = strawberry.field(description="ID（撤销时使用）。")
    user_name: str = strawberry.field(description="持有人姓名。")
    role: Role = strawberry.field(description="角色。")
    scope: str = strawberry.field(description="范围（县内单位路径）。")
    created_at: dt.datetime = strawberry.field(description="授予时间。")
