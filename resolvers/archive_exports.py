"""Exporting a unit's growth archives: `exportArchives` starts the job, `archiveExport`
follows it, and `GET /exports/archives/<ID>.zip` gives the file."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy import insert, select, update
from strawberry.types import Info

from domain.archive import archive_exports
from domain.audit.service import record
from domain.imports.common import Requester, may_see_import
from redscarf.errors import NotFound
from schema.context import Context
from schema.ids import encode_global_id
from schema.points import ArchiveExport, ExportArchivesInput, ExportArchivesPayload
from workers.jobs import JobState, jobs
from workers.outbox import enqueue_async


def _export(row: Any, county: str) -> ArchiveExport:
    global_id = encode_global_id("ArchiveExport", county, row.id)
    return ArchiveExport(
        id=strawberry.ID(global_id),
        done=row.state == "done",
        failed=row.state != "done" and row.job_state == JobState.FAILED,
        pupils=row.pupils,
        download_url=f"/exports/archives/{global_id}.zip" if row.has_content else None,
        created_at=row.created_at,
        job_id=row.job_id,
    )


async def load_export(context: Context, pk: int) -> Any:
    async with context.session() as session:
        return (
            await session.execute(
                select(
                    archive_exports.c.id,
                    archive_exports.c.state,
                    archive_exports.c.pupils,
                    archive_exports.c.requested_by,
                    archive_exports.c.created_at,
                    archive_exports.c.job_id,
                    archive_exports.c.content.is_not(None).label("has_content"),
                    jobs.c.state.label("job_state"),
                )
                .outerjoin(jobs, jobs.c.id == archive_exports.c.job_id)
                .where(archive_exports.c.id == pk)
            )
        ).first()


async def visible_export(context: Context, global_id: str) -> Any:
    """An export, for whoever asked for it or reaches the whole county's pupils."""
    principal = await context.user()
    pk = await context.own_id("ArchiveExport", global_id)
    row = await load_export(context, pk) if pk is not None else None
    if row is None or not may_see_import(
        principal, row.requested_by, await context.list_scope("pupil", "read")
    ):
        return None
    return row


async def archive_export(
    info: Info[Context, None],
    id: Annotated[strawberry.ID, strawberry.argument(description="导出的全局 ID。")],
) -> ArchiveExport | None:
    row = await visible_export(info.context, id)
    return _export(row, (await info.context.tenant()).code) if row else None


async def export_archives(
    info: Info[Context, None], input: ExportArchivesInput
) -> ExportArchivesPayload:
    context = info.context
    principal = await context.user()
    pk = await context.own_id("Unit", input.unit_id)
    unit = await context.org.unit.load(pk) if pk is not None else None
    if unit is None:
        raise NotFound("没有这个单位", code="UNIT_NOT_FOUND")
    await context.require("pupil", "read", unit.path)
    scope = await context.list_scope("pupil", "read")
    tenant = await context.tenant()
    async with context.session() as session:
        made = (
            await session.execute(
                insert(archive_exports)
                .values(unit_id=unit.id, requested_by=Requester.of(principal, scope).as_json())
                .returning(archive_exports.c.id)
            )
        ).scalar_one()
        job_id = await enqueue_async(
            session, "export_archives", county_code=tenant.code, args={"export_id": made}
        )
        await session.execute(
            update(archive_exports).where(archive_exports.c.id == made).values(job_id=job_id)
        )
        await record(
            session, principal, "exportArchives", "Unit", unit.id, details={"export": made}
        )
    row = await load_export(context, made)
    return ExportArchivesPayload(archive_export=_export(row, tenant.code), user_errors=[])
