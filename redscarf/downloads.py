"""Spreadsheet downloads over plain HTTP (a browser saves them as files).

- `GET /templates/{pupils,units,counselors}.xlsx`: the templates, each with a sample row
  (no data: public).
- `GET /exports/archive.{json,xlsx,html}?pupil=<pupil ID>`: a pupil's growth archive (成长档案)
  for whoever may see the pupil (a bound guardian: their own child's copy), audited; the HTML
  page prints on A4 (for 推优入团).
- `GET /exports/pupils.xlsx?under=<unit ID>`: the pupils the caller may see under a unit
  (the whole county by default), with the same credentials and `X-County` as the GraphQL API.
  ID numbers and full birth dates appear only where the caller may read personal data (else
  masked), and the export is written to the county's audit log.
"""

from __future__ import annotations

import json
import urllib.parse

from sqlalchemy import func, select
from sqlalchemy.orm import aliased
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from authz.enforcer import ListScope
from authz.principal import COUNTY_ROOT, PrincipalKind
from authz.sql import scope_predicate
from domain.archive import archive_exports, archive_page, archive_rows, archives_async
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
    Column,
    sheet_workbook,
    workbook,
)
from redscarf.errors import Forbidden, InvalidInput, NotFound, RedscarfError, Unauthenticated
from resolvers.people import bound_to, pupil_by_id
from schema.context import Context

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STATUS_OF = {Unauthenticated: 401, Forbidden: 403, NotFound: 404, InvalidInput: 400}
STATUS_OF_CODE = {"NOT_XLSX": 415, "FILE_TOO_LARGE": 413}


def attachment(filename: str) -> str:
    """The Content-Disposition of a download (a Chinese file name kept intact)."""
    return f"attachment; filename*=UTF-8''{urllib.parse.quote(filename)}"


def xlsx_response(content: bytes, filename: str) -> Response:
    return Response(content, media_type=XLSX, headers={"Content-Disposition": attachment(filename)})


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


ARCHIVE_FORMATS = ("json", "xlsx", "html")


async def archive_export(request: Request) -> Response:
    context = Context(request=request, response=Response(), services=request.app.state.services)
    try:
        return await _archive(
            context, request.path_params["fmt"], request.query_params.get("pupil")
        )
    except RedscarfError as exc:
        return error_response(exc)


async def _archive(context: Context, fmt: str, pupil: str | None) -> Response:
    principal = await context.user()
    if fmt not in ARCHIVE_FORMATS:
        raise NotFound("导出格式只有 json、xlsx、html", code="NOT_FOUND")
    pk = await context.own_id("Pupil", pupil) if pupil else None
    found = None
    if pk is not None:
        scope = await context.list_scope("pupil", "read")
        user_id = principal.id if principal.kind == PrincipalKind.USER else None
        async with context.session() as session:
            found = await pupil_by_id(session, scope, pk, user_id=user_id)
    if found is None:
        raise NotFound("没有这名队员", code="NOT_FOUND")
    squadron = await context.org.unit.load(found.squadron_id)
    school = (
        await context.org.unit.load(squadron.parent_id) if squadron and squadron.parent_id else None
    )
    async with context.session() as session:
        events = (await archives_async(session, [pk]))[0]
        await record(session, principal, "exportArchive", "Pupil", pk, details={"format": fmt})
    tenant = await context.tenant()
    head = {
        "name": found.name,
        "county": tenant.name,
        "school": school.name if school else None,
        "squadron": squadron.name if squadron else None,
        "grade": found.grade,
        "status": STATUSES[found.status],
        "joinedOn": found.joined_on.isoformat() if found.joined_on else None,
    }
    rows = archive_rows(events)
    filename = f"{found.name}的成长档案"
    if fmt == "json":
        body = json.dumps({"pupil": head, "events": rows}, ensure_ascii=False, indent=2)
        return Response(
            body,
            media_type="application/json; charset=utf-8",
            headers={"Content-Disposition": attachment(f"{filename}.json")},
        )
    if fmt == "xlsx":
        columns = (Column("日期", 12, ""), Column("类别", 8, ""), Column("事项", 24, ""),
                   Column("说明", 30, ""), Column("积分", 8, ""))  # fmt: skip
        table = [
            (r["date"], r["kind"], r["title"], r["detail"], str(r["points"] or "")) for r in rows
        ]
        return xlsx_response(sheet_workbook("成长档案", columns, table), f"{filename}.xlsx")
    return HTMLResponse(archive_page([(head, rows)]))


async def archives_download(request: Request) -> Response:
    """`GET /exports/archives/<export ID>.zip`: a unit's growth archives, once the job is done."""
    from resolvers.archive_exports import visible_export

    context = Context(request=request, response=Response(), services=request.app.state.services)
    try:
        principal = await context.user()
        row = await visible_export(context, request.path_params["id"])
        if row is None or not row.has_content:
            raise NotFound("没有这次导出，或尚未完成，或已过保留期", code="NOT_FOUND")
        async with context.session() as session:
            content = (
                await session.execute(
                    select(archive_exports.c.content).where(archive_exports.c.id == row.id)
                )
            ).scalar_one()
            await record(session, principal, "downloadArchives", "ArchiveExport", row.id)
    except RedscarfError as exc:
        return error_response(exc)
    return Response(
        content,
        media_type="application/zip",
        headers={"Content-Disposition": attachment("成长档案.zip")},
    )
