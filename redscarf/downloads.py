"""Spreadsheet downloads over plain HTTP (a browser saves them as files).

- `GET /templates/{pupils,units,counselors}.xlsx`: the templates, each with a sample row
  (no data: public).
- `GET /exports/pupils.xlsx?under=<unit ID>`: the pupils the caller may see under a unit
  (the whole county by default), with the same credentials and `X-County` as the GraphQL API.
  ID numbers and full birth dates appear only where the caller may read personal data (else
  masked), and the export is written to the county's audit log.
"""

from __future__ import annotations

import urllib.parse

from sqlalchemy import func, select
from sqlalchemy.orm import aliased
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from authz.enforcer import ListScope
from authz.principal import COUNTY_ROOT, PrincipalKind
from authz.sql import scope_predicate
from domain.audit.service import record
from domain.org.tables import units
from domain.people.pupils import ID_NUMBER
from domain.people.tables import NOT_ERASED, pupils
from domain.personal.id_numbers import mask_id_number
from domain.spreadsheets.rosters import (
    COUNSELOR_COLUMNS,
    COUNSELOR_EXAMPLE,
    GENDERS,
    ONE_STAR_COLUMNS,
    ONE_STAR_EXAMPLE,
    STATUSES,
    UNIT_COLUMNS,
    UNIT_EXAMPLE,
    sheet_workbook,
    workbook,
)
from redscarf.errors import Forbidden, InvalidInput, NotFound, RedscarfError, Unauthenticated
from resolvers.people import bound_to
from schema.context import Context

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STATUS_OF = {Unauthenticated: 401, Forbidden: 403, NotFound: 404, InvalidInput: 400}
STATUS_OF_CODE = {"NOT_XLSX": 415, "FILE_TOO_LARGE": 413}


def xlsx_response(content: bytes, filename: str) -> Response:
    quoted = urllib.parse.quote(filename)
    return Response(
        content,
        media_type=XLSX,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quoted}"},
    )


def error_response(exc: RedscarfError) -> Response:
    status = STATUS_OF_CODE.get(exc.code) or next(
        (s for kind, s in STATUS_OF.items() if isinstance(exc, kind)), 500
    )
    return JSONResponse({"code": exc.code, "message": exc.message}, status_code=status)


TEMPLATES = {
    "pupils": (lambda: workbook([], example=True), "队员名册模板.xlsx"),
    "units": (lambda: sheet_workbook("组织", UNIT_COLUMNS, [UNIT_EXAMPLE]), "组织架构模板.xlsx"),
    "one_star": (
        lambda: sheet_workbook("一星章", ONE_STAR_COLUMNS, [ONE_STAR_EXAMPLE]),
        "一星章名单模板.xlsx",
    ),
    "counselors": (
        lambda: sheet_workbook("辅导员", COUNSELOR_COLUMNS, [COUNSELOR_EXAMPLE]),
        "辅导员名册模板.xlsx",
    ),
}


async def template(request: Request) -> Response:
    """`GET /templates/{kind}.xlsx`: a template to fill in, with a sample row."""
    found = TEMPLATES.get(request.path_params["kind"])
    if found is None:
        return error_response(NotFound("没有这个模板", code="NOT_FOUND"))
    make, filename = found
    return xlsx_response(make(), filename)


async def pupil_export(request: Request) -> Response:
    context = Context(request=request, response=Response(), services=request.app.state.services)
    try:
        return await _export(context, request.query_params.get("under"))
    except RedscarfError as exc:
        return error_response(exc)


async def _export(context: Context, under: str | None) -> Response:
    principal = await context.user()
    scope = await context.list_scope("pupil", "read")
    if scope.nothing:
        raise Forbidden()
    root_path = COUNTY_ROOT
    if under is not None:
        pk = await context.own_id("Unit", under)
        found = await context.org.unit.load(pk) if pk is not None else None
        if found is None:
            raise NotFound("没有这个单位", code="UNIT_NOT_FOUND")
        root_path = found.path
    place, squadron, school, team = (aliased(units) for _ in range(4))
    user_id = principal.id if principal.kind == PrincipalKind.USER else None
    bound = bound_to(user_id)
    stmt = (
        select(
            school.c.name.label("school"),
            squadron.c.name.label("squadron"),
            team.c.name.label("team"),
            pupils.c.name,
            pupils.c.gender,
            pupils.c.birth_date,
            pupils.c.id_number_enc,
            pupils.c.status,
            pupils.c.joined_on,
            pupils.c.batch,
            place.c.path,
            bound.label("bound"),
        )
        .select_from(pupils)
        .join(place, place.c.id == func.coalesce(pupils.c.team_id, pupils.c.squadron_id))
        .join(squadron, squadron.c.id == pupils.c.squadron_id)
        .join(school, school.c.id == squadron.c.parent_id)
        .outerjoin(team, team.c.id == pupils.c.team_id)
        .where(
            scope_predicate(scope, place.c.path, bound=bound),
            scope_predicate(ListScope(paths=(root_path,)), place.c.path),
            NOT_ERASED,
        )
        .order_by(school.c.path, squadron.c.path, pupils.c.id)
    )
    cipher = context.services.keys.cipher
    authorizer = context.services.authorizer
    scopes = await context.scopes()
    rows, personal = [], 0
    async with context.session() as session:
        for r in await session.execute(stmt):
            shown = authorizer.allowed(
                scopes, "pupil.personal", "read", r.path, "bound" if r.bound else ""
            )
            personal += shown
            number = cipher.decrypt(r.id_number_enc, context=ID_NUMBER) if r.id_number_enc else None
            rows.append(
                (
                    r.school,
                    r.squadron,
                    r.team,
                    r.name,
                    GENDERS[r.gender],
                    r.birth_date
                    if shown
                    else (f"{r.birth_date.year}-**-**" if r.birth_date else None),
                    number if shown or not number else mask_id_number(number),
                    STATUSES[r.status],
                    r.joined_on,
                    r.batch,
                )
            )
        await record(
            session,
            principal,
            "exportPupils",
            "Unit",
            under or COUNTY_ROOT,
            details={"rows": len(rows), "personal": personal},
        )
    tenant = await context.tenant()
    return xlsx_response(workbook(rows), f"{tenant.name}队员名册.xlsx")
