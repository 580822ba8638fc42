"""Roster imports: `importRoster` starts one from an upload; `rosterImport` follows it.

The mutation records the import and its job in one county transaction (the outbox): the job
runs only once that transaction has committed, and is sent by the workers' relay.
"""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy import insert, select, update
from strawberry.types import Info

from domain.audit.service import record
from domain.imports.common import Requester, may_see_import, resource_of, uploader
from domain.imports.tables import ImportState as State
from domain.imports.tables import roster_imports, uploads
from redscarf.errors import Forbidden, NotFound
from schema.context import Context
from schema.ids import encode_global_id
from schema.imports import (
    ImportRosterInput,
    ImportRosterPayload,
    ImportRowError,
    ImportState,
    RosterImport,
    RosterKind,
)
from schema.user_errors import UserError
from workers.jobs import JobState, jobs
from workers.outbox import enqueue_async

_COLUMNS = (
    roster_imports.c.id,
    roster_imports.c.kind,
    roster_imports.c.state,
    roster_imports.c.requested_by,
    roster_imports.c.rows,
    roster_imports.c.created,
    roster_imports.c.updated,
    roster_imports.c.unchanged,
    roster_imports.c.error_count,
    roster_imports.c.errors,
    roster_imports.c.notes,
    roster_imports.c.report.is_not(None).label("has_report"),
    roster_imports.c.created_at,
    roster_imports.c.finished_at,
    uploads.c.filename,
    roster_imports.c.job_id,
    jobs.c.state.label("job_state"),
    jobs.c.progress,
    jobs.c.total,
    jobs.c.message,
)


def _state(row: Any) -> ImportState:
    if row.state in (State.PENDING, State.RUNNING) and row.job_state == JobState.FAILED:
        return ImportState.FAILED
    return ImportState(row.state)


def _import(row: Any, county_code: str) -> RosterImport:
    global_id = encode_global_id("RosterImport", county_code, row.id)
    return RosterImport(
        id=strawberry.ID(global_id),
        kind=RosterKind(row.kind),
        state=_state(row),
        filename=row.filename,
        phase=row.message,
        progress=row.progress or 0,
        total=row.total,
        rows=row.rows,
        created=row.created,
        updated=row.updated,
        unchanged=row.unchanged,
        error_count=row.error_count,
        errors=[ImportRowError(**e) for e in row.errors or []],
        notes=list(row.notes or []),
        report_url=f"/imports/{global_id}/report.xlsx" if row.has_report else None,
        created_at=row.created_at,
        finished_at=row.finished_at,
        job_id=row.job_id,
    )


async def _load(context: Context, pk: int) -> Any:
    async with context.session() as session:
        return (
            await session.execute(
                select(*_COLUMNS)
                .join(uploads, uploads.c.id == roster_imports.c.upload_id)
                .outerjoin(jobs, jobs.c.id == roster_imports.c.job_id)
                .where(roster_imports.c.id == pk)
            )
        ).first()


async def roster_import(
    info: Info[Context, None],
    id: Annotated[strawberry.ID, strawberry.argument(description="导入的全局 ID。")],
) -> RosterImport | None:
    """An import, for whoever started it or reaches the whole county for its kind."""
    context = info.context
    principal = await context.user()
    pk = await context.own_id("RosterImport", id)
    row = await _load(context, pk) if pk is not None else None
    if row is None:
        return None
    scope = await context.list_scope(resource_of(row.kind), "write")
    if not may_see_import(principal, row.requested_by, scope):
        return None
    return _import(row, (await context.tenant()).code)


def _not_found() -> ImportRosterPayload:
    return ImportRosterPayload(
        roster_import=None,
        user_errors=[
            UserError(
                field="uploadId",
                code="UPLOAD_NOT_FOUND",
                message="没有这个上传的文件（或已导入过）；请重新上传",
            )
        ],
    )


async def import_roster(info: Info[Context, None], input: ImportRosterInput) -> ImportRosterPayload:
    context = info.context
    principal = await context.user()
    kind = input.kind.value
    scope = await context.list_scope(resource_of(kind), "write")
    if scope.nothing:
        raise Forbidden("没有导入这种名册的权限")
    tenant = await context.tenant()
    upload_pk = await context.own_id("Upload", input.upload_id)
    if upload_pk is None:
        return _not_found()
    async with context.session() as session:
        upload = (
            await session.execute(
                select(uploads.c.id, uploads.c.uploaded_by, uploads.c.content.is_not(None))
                .where(uploads.c.id == upload_pk)
                .with_for_update()
            )
        ).first()
        if upload is None or upload.uploaded_by != uploader(principal):
            return _not_found()
        started = (
            await session.execute(
                select(roster_imports.c.id).where(roster_imports.c.upload_id == upload_pk)
            )
        ).scalar()
        if started is None:  # the same upload asked twice (a double click) is one import
            if not upload[2]:
                return _not_found()
            started = (
                await session.execute(
                    insert(roster_imports)
                    .values(
                        kind=kind,
                        upload_id=upload_pk,
                        requested_by=Requester.of(principal, scope).as_json(),
                    )
                    .returning(roster_imports.c.id)
                )
            ).scalar_one()
            job_id = await enqueue_async(
                session,
                "import_roster",
                county_code=tenant.code,
                args={"import_id": started},
                dedup_key=f"import_roster:{started}",
            )
            await session.execute(
                update(roster_imports).where(roster_imports.c.id == started).values(job_id=job_id)
            )
            await record(
                session,
                principal,
                "importRoster",
                "RosterImport",
                started,
                details={"kind": kind, "upload": upload_pk},
            )
    row = await _load(context, started)
    if row is None:
        raise NotFound("没有这次导入", code="IMPORT_NOT_FOUND")
    return ImportRosterPayload(roster_import=_import(row, tenant.code), user_errors=[])
