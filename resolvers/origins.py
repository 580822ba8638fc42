"""The web origins of a county's own frontends (CORS): read on `County.allowedOrigins`,
replaced by the county admin with `setAllowedOrigins`.

The list lives in the shared schema (a preflight names no county, so every county's list is
read at once by `redscarf.cors`); the audit entry goes to the county's own log, in the same
transaction.
"""

from __future__ import annotations

from sqlalchemy import Connection
from strawberry.types import Info

from authz.principal import COUNTY_ROOT
from domain.audit.service import county_entries
from resolvers import counties
from schema.context import Context
from schema.origins import SetAllowedOriginsInput, SetAllowedOriginsPayload
from schema.user_errors import UserError
from tenants.origins import check_origins, origins_of, replace_origins
from tenants.sessions import act_as_county


async def allowed_origins(context: Context, county_code: str) -> list[str]:
    # Read as the service itself: county roles have no grant on the shared table.
    async with context.services.engine.connect() as conn:
        return list((await conn.execute(origins_of(county_code))).scalars())


async def set_allowed_origins(
    info: Info[Context, None], input: SetAllowedOriginsInput
) -> SetAllowedOriginsPayload:
    context = info.context
    principal = await context.user()
    await context.require("county", "write", COUNTY_ROOT)
    origins, errors = check_origins(input.origins)
    if errors:
        return SetAllowedOriginsPayload(
            county=None,
            user_errors=[
                UserError(field="origins", code=e.code, message=e.message) for e in errors
            ],
        )
    tenant = await context.tenant()

    def run(conn: Connection) -> None:
        before = replace_origins(conn, tenant.code, origins)
        details = {"origins": origins, "before": before}
        entry = {"object_type": "County", "object_id": tenant.code, "details": details}
        act_as_county(conn, tenant).execute(county_entries(principal, "setAllowedOrigins", [entry]))

    await context.in_shared_transaction(run)
    directory = getattr(context.request.app.state, "origins", None)
    if directory is not None:
        directory.forget()  # this process answers with the new list at once
    return SetAllowedOriginsPayload(county=await counties.county(info), user_errors=[])
