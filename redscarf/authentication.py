"""Who is calling: the `Authorization` header (or `X-Api-Key`) turned into a `Principal`.

Accepted credentials:

* `Bearer <access token>`: a JWT this service issued at sign-in (15 minutes by default);
* `Bearer rsk_…` or `X-Api-Key: rsk_…`: a county app's API key;
* `Bearer <operator token>`: the platform operator (`REDSCARF_OPERATOR_TOKEN`);
* `Bearer <external token>`: an OpenID Connect token of the configured provider
  (`REDSCARF_OIDC_ISSUER` / `_JWKS_URL` / `_AUDIENCE`), for provinces that have one.

No header means anonymous. Anything else is refused with `UNAUTHENTICATED`.
"""

from __future__ import annotations

import datetime as dt
import hmac
from functools import partial

import anyio.to_thread
import jwt
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.datastructures import Headers

from authz.principal import ANONYMOUS, Grant, Principal, PrincipalKind, make_principal
from authz.roles import Role
from domain.accounts import principals
from domain.accounts.tokens import ISSUER, TokenInvalid, read_access_token
from redscarf.errors import DatabaseUnavailable, Unauthenticated
from redscarf.keys import Keys
from redscarf.settings import Settings

OPERATOR = make_principal(
    PrincipalKind.OPERATOR, None, "operator", (Grant(Role.OPERATOR, None, "*"),), mfa=True
)


def client_of(headers: Headers, address: str | None) -> str:
    return f"{headers.get('user-agent', '')[:200]} @ {address or '-'}"


class Authenticator:
    def __init__(self, settings: Settings, keys: Keys, engine: AsyncEngine) -> None:
        self.settings = settings
        self.keys = keys
        self.engine = engine
        self.idle = dt.timedelta(minutes=settings.idle_timeout_minutes)
        self._jwks = (
            jwt.PyJWKClient(settings.oidc_jwks_url, cache_keys=True)
            if settings.oidc_jwks_url and settings.oidc_issuer
            else None
        )

    async def authenticate(self, headers: Headers, address: str | None) -> Principal:
        client = client_of(headers, address)
        api_key = headers.get("x-api-key")
        header = headers.get("authorization")
        if api_key is None and header is None:
            return ANONYMOUS
        if api_key is None:
            assert header is not None
            scheme, _, token = header.partition(" ")
            token = token.strip()
            if scheme.lower() != "bearer" or not token:
                raise Unauthenticated("Authorization 请求头应为 Bearer <令牌>")
            if token.startswith("rsk_"):
                api_key = token
        try:
            async with self.engine.begin() as conn:
                if api_key is not None:
                    return await principals.principal_for_api_key(conn, api_key, client)
                return await self._bearer(conn, token, client)
        except DBAPIError as exc:
            raise DatabaseUnavailable(detail=str(exc.orig or exc)) from exc

    async def _bearer(self, conn: object, token: str, client: str) -> Principal:
        operator = self.settings.operator_token
        if operator and hmac.compare_digest(token.encode(), operator.encode()):
            return OPERATOR
        try:
            issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
        except jwt.PyJWTError:
            raise TokenInvalid() from None
        if issuer == ISSUER:
            claims = read_access_token(self.keys.token_secret, token)
            return await principals.principal_for_session(conn, claims, self.idle, client)  # type: ignore[arg-type]
        if self._jwks is not None and issuer == self.settings.oidc_issuer:
            subject, mfa = await self._external(token)
            return await principals.principal_for_external(conn, subject, mfa=mfa, client=client)  # type: ignore[arg-type]
        raise TokenInvalid()

    async def _external(self, token: str) -> tuple[str, bool]:
        assert self._jwks is not None
        try:
            # Fetching the provider's keys is blocking I/O (cached afterwards).
            key = await anyio.to_thread.run_sync(
                partial(self._jwks.get_signing_key_from_jwt, token)
            )
            claims = jwt.decode(
                token,
                key.key,
                algorithms=["RS256", "ES256", "PS256"],
                issuer=self.settings.oidc_issuer,
                audience=self.settings.oidc_audience,
                options={"require": ["exp", "iss", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("统一身份认证令牌已过期") from None
        except jwt.PyJWTError:
            raise TokenInvalid() from None
        amr = claims.get("amr") or []
        return f"{claims['iss']}|{claims['sub']}", bool({"mfa", "otp", "hwk"} & set(amr))
