"""The current county, and onboarding a county over the API."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

import anyio.to_thread
import strawberry
from sqlalchemy import Connection, select
from strawberry.types import Info

from authz.principal import Principal
from domain.audit.service import record_shared
from domain.stats import rollup
from redscarf.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    RedscarfError,
)
from resolvers.operations import registered, registry
from resolvers.stats import require_region
from schema.context import Context
from schema.counties import County, CreateCountyInput, CreateCountyPayload, RegionCounty
from schema.user_errors import UserError, user_errors
from tenants import provisioning
from tenants.codes import validate_county_code, validate_prefecture_code, validate_province_code
from tenants.registry import tenants

# Which input field an error code of provisioning is about (for `userErrors.field`).
_FIELD_OF_CODE = {
    "NAME_REQUIRED": "name",
    "CODE_NOT_IN_PROVINCE": "provinceCode",
    "CODE_NOT_IN_PREFECTURE": "prefectureCode",
    "PREFECTURE_NOT_FOUND": "prefectureCode",
    "COUNTY_EXISTS_WITH_OTHER_DETAILS": "code",
    "COUNTY_ARCHIVED": "code",
}


async def county(info: Info[Context, None]) -> County:
    await info.context.require("county", "read")
    tenant = await info.context.tenant()
    # The registry is read as the service itself: county roles have no grant on it.
    async with info.context.services.engine.connect() as conn:
        row = (
            await conn.execute(
                select(tenants.c.province_code, tenants.c.prefecture_code).where(
                    tenants.c.code == tenant.code
                )
            )
        ).one()
    return County(
        code=tenant.code,
        name=tenant.name,
        province_code=row.province_code,
        prefecture_code=row.prefecture_code,
    )


async def require_onboarding(context: Context, code: str) -> Principal:
    """The operator, or a province admin for a county of that province (the same policy)."""
    principal = await context.user()
    if not await context.may_above_counties("county", "create", code):
        raise Forbidden("只有该省的省级管理员或平台运维可以开通县（区）")
    return principal


def _field_errors(data: CreateCountyInput) -> list[UserError]:
    checks = [
        ("code", validate_county_code, data.code),
        ("provinceCode", validate_province_code, data.province_code),
    ]
    if data.prefecture_code is not None:
        checks.append(("prefectureCode", validate_prefecture_code, data.prefecture_code))
    errors = []
    for field, check, value in checks:
        try:
            check(value)
        except RedscarfError as exc:
            errors.extend(user_errors(exc, field))
    return errors


async def create_county(
    info: Info[Context, None],
    input: Annotated[
        CreateCountyInput, strawberry.argument(description="县（区）的代码、名称和所属省、市。")
    ],
) -> CreateCountyPayload:
    if errors := _field_errors(input):
        return CreateCountyPayload(county=None, created=False, user_errors=errors)
    principal = await require_onboarding(info.context, input.code)
    services = info.context.services
    try:
        # Alembic is synchronous and not thread-safe: one onboarding at a time, off the loop.
        async with services.provisioning_lock:
            result = await anyio.to_thread.run_sync(
                partial(
                    provisioning.create_county,
                    services.sync_engine,
                    services.migrator,
                    input.code,
                    input.name,
                    input.province_code,
                    input.prefecture_code,
                )
            )
    except (InvalidInput, Conflict, NotFound) as exc:
        errors = user_errors(exc, _FIELD_OF_CODE.get(exc.code))
        return CreateCountyPayload(county=None, created=False, user_errors=errors)
    c = result.county
    services.directory.forget(c.code)  # a cached "no such county" must not outlive onboarding
    if result.created:
        await info.context.in_shared_transaction(
            lambda conn: record_shared(
                conn,
                principal,
                "createCounty",
                "County",
                c.code,
                county_code=c.code,
                details={"name": c.name},
            )
        )
    return CreateCountyPayload(
        county=County(
            code=c.code,
            name=c.name,
            province_code=c.province_code,
            prefecture_code=c.prefecture_code,
        ),
        created=result.created,
        user_errors=[],
    )


async def region_counties(
    info: Info[Context, None],
    code: Annotated[str, strawberry.argument(description="省（2 位）或地市（4 位）代码。")],
) -> list[RegionCounty]:
    context = info.context
    code = await require_region(context, code)  # who may see the rollup may see the counties

    def read(conn: Connection) -> tuple[str | None, list[Any]]:
        return rollup.region_name(conn, code), conn.execute(
            registry(sized=False, region=code)
        ).all()

    name, rows = await context.in_shared_transaction(read)
    if name is None:
        raise NotFound("没有这个地区", code="REGION_NOT_FOUND")
    head = context.services.migrator.head("tenant")
    return [RegionCounty(**registered(row, head)) for row in rows]
