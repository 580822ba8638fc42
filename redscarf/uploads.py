"""Spreadsheets going in: `POST /uploads`, and the error report of an import coming back.

An import takes two steps, as Shopify's staged uploads do: the file is sent over plain HTTP
(a browser's `fetch` with the file as the body, or a form with a `file` field), which answers
with an upload ID; the GraphQL mutation `importRoster` then names that ID and starts the job.

- `POST /uploads`: the file, at most `upload_max_bytes`; answers 201 with
  `{"id", "filename", "size"}`; 400/413/415 with `{"code", "message"}` for an empty file, one
  too large, or one that is not an xlsx file. Same credentials and `X-County` as the API.
- `GET /imports/{id}/report.xlsx`: the report of an import that found errors (the file's
  rows with an error column), for whoever started the import or a county administrator.
"""

from __future__ import annotations

import hashlib
import urllib.parse

from sqlalchemy import func, insert, select
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from domain.audit.service import record
from domain.imports.common import may_see_import, resource_of, uploader
from domain.imports.tables import roster_imports, uploads
from domain.spreadsheets.reading import check_container
from redscarf.downloads import error_response, xlsx_response
from redscarf.errors import Forbidden, InvalidInput, NotFound, RedscarfError
from schema.context import Context
from schema.ids import encode_global_id

IMPORTABLE = ("pupil", "unit", "counselor")  # whoever may write one of these may upload


class FileTooLarge(InvalidInput):
    code = "FILE_TOO_LARGE"
    message = "文件太大"


def _context(request: Request) -> Context:
    return Context(request=request, response=Response(), services=request.app.state.services)


async def _may_import(context: Context) -> bool:
    for resource in IMPORTABLE:
        if not (await context.list_scope(resource, "write")).nothing:
            return True
    return False


def _too_large(limit: int) -> FileTooLarge:
    return FileTooLarge(f"文件超过 {limit // (1024 * 1024)} MB，请拆分成几个文件分别上传")


async def _body(request: Request, limit: int) -> tuple[str, bytes]:
    """The file's name and content, from a form's `file` field or the raw body."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit + 64 * 1024:
        raise _too_large(limit)
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        async with request.form(max_files=1, max_fields=5) as form:
            file = form.get("file")
            if not isinstance(file, UploadFile):
                raise InvalidInput("表单中没有名为 file 的文件", code="NO_FILE")
            content = await file.read(limit + 1)
            name = file.filename or "upload.xlsx"
    else:
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            chunks.append(chunk)
        content = b"".join(chunks)
        name = urllib.parse.unquote(request.query_params.get("filename") or "upload.xlsx")
    if len(content) > limit:
        raise _too_large(limit)
    return name.replace("\\", "/").rsplit("/", 1)[-1][:200] or "upload.xlsx", content


async def upload(request: Request) -> Response:
    context = _context(request)
    try:
        principal = await context.user()
        if not await _may_import(context):
            raise Forbidden("没有导入名册的权限")
        filename, content = await _body(request, context.services.settings.upload_max_bytes)
        check_container(content)
        tenant = await context.tenant()
        async with context.session() as session:
            pk = (
                await session.execute(
                    insert(uploads)
                    .values(
                        filename=filename,
                        size=len(content),
                        sha256=hashlib.sha256(content).digest(),
                        content=content,
                        uploaded_by=uploader(principal),
                    )
                    .returning(uploads.c.id)
                )
            ).scalar_one()
            await record(
                session, principal, "upload", "Upload", pk, details={"filename": filename,
                                                                      "size": len(content)}
            )  # fmt: skip
    except RedscarfError as exc:
        return error_response(exc)
    return JSONResponse(
        {"id": encode_global_id("Upload", tenant.code, pk), "filename": filename,
         "size": len(content)},
        status_code=201,
    )  # fmt: skip


async def report(request: Request) -> Response:
    context = _context(request)
    try:
        principal = await context.user()
        pk = await context.own_id("RosterImport", request.path_params["id"])
        days = context.services.settings.import_report_days
        expiry = func.make_interval(0, 0, 0, days)
        found = None
        async with context.session() as session:
            if pk is not None:
                found = (
                    await session.execute(
                        select(
                            roster_imports.c.kind,
                            roster_imports.c.requested_by,
                            roster_imports.c.report,
                            (roster_imports.c.finished_at < func.now() - expiry).label("expired"),
                        ).where(roster_imports.c.id == pk)
                    )
                ).first()
            if found is not None:
                scope = await context.list_scope(resource_of(found.kind), "write")
                if not may_see_import(principal, found.requested_by, scope):
                    found = None
            if found is None:
                raise NotFound("没有这次导入", code="NOT_FOUND")
            if found.report is None or found.expired:
                raise NotFound(
                    f"这次导入没有错误报告，或已超过 {days} 天被删除；请重新导入", code="NO_REPORT"
                )
            await record(session, principal, "downloadImportReport", "RosterImport", pk)
    except RedscarfError as exc:
        return error_response(exc)
    return xlsx_response(found.report, "导入错误报告.xlsx")
