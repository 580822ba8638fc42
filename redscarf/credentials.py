"""Badges as verifiable credentials (Open Badges 3.0) over plain HTTP.

- `GET /credentials/keys`: the public key set (JWKS) that verifies every credential (public).
- `GET /credentials/{county}/issuer`: the county committee's issuer profile (public).
- `GET /credentials/{county}/revocations`: the ids of revoked credentials (public; ids only).
- `GET /credentials/{award ID}.json` or `.jwt`: an awarded badge's credential, unsigned to read
  or signed (VC-JWT, EdDSA), for whoever may see the pupil (a guardian: their own child's).
"""

from __future__ import annotations

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from authz.principal import PrincipalKind
from domain.badges.credentials import credential, identity, jwks, sign
from domain.badges.tables import AwardState, badge_awards, badges
from domain.people.pupils import ID_NUMBER
from redscarf.downloads import error_response
from redscarf.errors import NotFound, RedscarfError
from resolvers.people import pupil_by_id
from schema.context import Context
from schema.ids import encode_global_id
from tenants.codes import validate_county_code
from tenants.sessions import tenant_session

VC_JWT = "application/vc+jwt"


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


async def keys(request: Request) -> Response:
    return JSONResponse(jwks(request.app.state.services.keys.credential_key))


async def issuer(request: Request) -> Response:
    try:
        code = validate_county_code(request.path_params["county"])
        tenant = await request.app.state.services.directory.get(code)
    except RedscarfError as exc:
        return error_response(exc)
    return JSONResponse(
        {"@context": "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
         "id": f"{_base(request)}/credentials/{code}/issuer", "type": ["Profile"],
         "name": f"{tenant.name}少工委"}
    )  # fmt: skip


async def revocations(request: Request) -> Response:
    try:
        code = validate_county_code(request.path_params["county"])
        tenant = await request.app.state.services.directory.get(code)
    except RedscarfError as exc:
        return error_response(exc)
    async with tenant_session(request.app.state.services.engine, tenant) as session:
        revoked = (
            await session.execute(
                select(badge_awards.c.id)
                .where(badge_awards.c.state == AwardState.REVOKED.value)
                .order_by(badge_awards.c.id)
            )
        ).scalars()
        base = f"{_base(request)}/credentials/{code}"
        return JSONResponse(
            {"id": f"{base}/revocations", "issuer": f"{base}/issuer",
             "revokedCredentials": [{"id": f"{base}/awards/{pk}"} for pk in revoked]}
        )  # fmt: skip


async def award_credential(request: Request) -> Response:
    context = Context(request=request, response=Response(), services=request.app.state.services)
    try:
        return await _credential(context, request, request.path_params["fmt"])
    except RedscarfError as exc:
        return error_response(exc)


async def _credential(context: Context, request: Request, fmt: str) -> Response:
    principal = await context.user()
    pk = await context.own_id("BadgeAward", request.path_params["id"])
    if fmt not in ("json", "jwt") or pk is None:
        raise NotFound("没有这份奖章证书", code="NOT_FOUND")
    async with context.session() as session:
        row = (
            await session.execute(
                select(badge_awards, badges.c.code, badges.c.name, badges.c.criteria,
                       badges.c.icon, badges.c.national)
                .join(badges, badges.c.id == badge_awards.c.badge_id)
                .where(badge_awards.c.id == pk, badge_awards.c.pupil_id.is_not(None))
            )
        ).first()  # fmt: skip
        found = None
        if row is not None:
            user_id = principal.id if principal.kind == PrincipalKind.USER else None
            found = await pupil_by_id(
                session, await context.list_scope("pupil", "read"), row.pupil_id, user_id=user_id
            )
    if row is None or found is None or row.state not in (AwardState.AWARDED, AwardState.REVOKED):
        raise NotFound("没有这份奖章证书（奖章尚未颁发，或无权查看）", code="NOT_FOUND")
    tenant = await context.tenant()
    keys = context.services.keys
    identifier = (
        keys.cipher.decrypt(found.id_number_enc, context=ID_NUMBER)
        if found.id_number_enc
        else encode_global_id("Pupil", tenant.code, found.id)
    )
    document = credential(
        base_url=_base(request), county_code=tenant.code, county_name=tenant.name, award=row,
        badge=row, subject=identity(identifier, keys.token_secret.encode(), row.id),
    )  # fmt: skip
    if fmt == "json":
        return JSONResponse(document)
    return Response(sign(document, keys.credential_key), media_type=VC_JWT)
