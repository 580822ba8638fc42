"""Running an import: read the uploaded file, check every row, and either apply it all in one
transaction or keep a report of its errors and apply nothing.

The whole run is one county transaction that first locks the import's row, so a job
delivered twice (at least once delivery) waits for the first and then finds the import
ended; a worker killed midway leaves nothing behind, and its rerun starts from the file again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, func, select, update

from domain.archive import archive_exports
from domain.imports import counselors, one_star, pupils, units
from domain.imports.common import MAX_ERRORS_SHOWN, Plan, Requester
from domain.imports.tables import ImportKind, ImportState, roster_imports, uploads
from domain.personal.crypto import FieldCipher
from domain.spreadsheets.reading import Book, error_report, read_book
from domain.spreadsheets.rosters import (
    COUNSELOR_EXAMPLE,
    ONE_STAR_EXAMPLE,
    PUPIL_EXAMPLE,
    UNIT_EXAMPLE,
    Row,
)
from redscarf.errors import RedscarfError
from tenants.sessions import Tenant, tenant_connection

MAX_ROWS = 100_000
Progress = Callable[[int, int | None, str], None]


class Checker(Protocol):
    def __call__(
        self,
        conn: Connection,
        book: Book,
        cipher: FieldCipher,
        requester: Requester,
        on_progress: Callable[[int, int], None],
    ) -> Plan: ...


class Applier(Protocol):
    def __call__(
        self,
        conn: Connection,
        plan: Any,
        import_id: int,
        requester: Requester,
        cipher: FieldCipher,
        on_progress: Callable[[int, int], None],
    ) -> None: ...


@dataclass(frozen=True)
class Kind:
    headers: tuple[str, ...]
    required: tuple[str, ...]
    date_headers: tuple[str, ...]
    check: Checker
    apply: Applier
    example: Row
    """The template's sample row: left in by mistake, it is skipped (with a note)."""


KINDS: dict[ImportKind, Kind] = {
    ImportKind.PUPILS: Kind(
        pupils.HEADERS,
        pupils.REQUIRED,
        pupils.DATE_HEADERS,
        pupils.check,
        pupils.apply,
        PUPIL_EXAMPLE,
    ),
    ImportKind.UNITS: Kind(
        units.HEADERS, units.REQUIRED, (), units.check, units.apply, UNIT_EXAMPLE
    ),
    ImportKind.COUNSELORS: Kind(
        counselors.HEADERS,
        counselors.REQUIRED,
        counselors.DATE_HEADERS,
        counselors.check,
        counselors.apply,
        COUNSELOR_EXAMPLE,
    ),
    ImportKind.ONE_STAR: Kind(
        one_star.HEADERS, one_star.REQUIRED, (), one_star.check, one_star.apply, ONE_STAR_EXAMPLE
    ),
}


def _skip_example(book: Book, kind: Kind) -> None:
    sample = {h: (v or None) for h, v in zip(kind.headers, kind.example, strict=True)}
    for sheet in book.sheets:
        kept = [r for r in sheet.rows if r.values != {h: sample[h] for h in r.values}]
        if len(kept) < len(sheet.rows):
            book.notes.append(f"工作表「{sheet.name}」中模板的示例行已跳过")
            sheet.rows = kept


def _result(row: Any) -> dict[str, Any]:
    return {
        "state": row.state,
        "rows": row.rows,
        "created": row.created,
        "updated": row.updated,
        "unchanged": row.unchanged,
        "error_count": row.error_count,
    }


def _end(conn: Connection, import_id: int, **values: Any) -> None:
    conn.execute(
        update(roster_imports)
        .where(roster_imports.c.id == import_id)
        .values(**values, finished_at=func.now())
    )
    upload = select(roster_imports.c.upload_id).where(roster_imports.c.id == import_id)
    # The file holds children's personal data: it is not kept once its import has ended.
    conn.execute(
        update(uploads).where(uploads.c.id == upload.scalar_subquery()).values(content=None)
    )


def forget_expired_files(conn: Connection, days: int) -> int:
    """Forget error reports, uploads never imported and exported archives older than `days`
    (they hold children's personal data); returns how many."""
    age = func.now() - func.make_interval(0, 0, 0, days)
    reports = conn.execute(
        update(roster_imports)
        .where(
            roster_imports.c.finished_at < age,
            (roster_imports.c.report.is_not(None)) | (roster_imports.c.errors.is_not(None)),
        )
        .values(report=None, errors=None)
    ).rowcount
    files = conn.execute(
        update(uploads)
        .where(uploads.c.created_at < age, uploads.c.content.is_not(None))
        .values(content=None)
    ).rowcount
    archives = conn.execute(
        update(archive_exports)
        .where(archive_exports.c.finished_at < age, archive_exports.c.content.is_not(None))
        .values(content=None)
    ).rowcount
    return reports + files + archives


def mark_running(engine: Engine, tenant: Tenant, import_id: int) -> None:
    with tenant_connection(engine, tenant) as conn:
        conn.execute(
            update(roster_imports)
            .where(
                roster_imports.c.id == import_id,
                roster_imports.c.state == ImportState.PENDING.value,
            )
            .values(state=ImportState.RUNNING.value)
        )


def run_import(
    engine: Engine,
    tenant: Tenant,
    import_id: int,
    cipher: FieldCipher,
    progress: Progress,
    *,
    report_days: int = 7,
) -> dict[str, Any]:
    """Run one import to its end (`done` or `invalid`); an import already ended is left as is.
    The county's expired reports are forgotten on the way (see `forget_expired_files`)."""
    with tenant_connection(engine, tenant) as conn:
        forget_expired_files(conn, report_days)
    mark_running(engine, tenant, import_id)
    with tenant_connection(engine, tenant) as conn:
        found = conn.execute(
            select(roster_imports, uploads.c.content)
            .join(uploads, uploads.c.id == roster_imports.c.upload_id)
            .where(roster_imports.c.id == import_id)
            .with_for_update(of=roster_imports)
        ).first()
        if found is None:
            raise LookupError(f"no import {import_id} in county {tenant.code}")
        if found.state in (ImportState.DONE, ImportState.INVALID):
            return _result(found)
        kind = KINDS[ImportKind(found.kind)]
        requester = Requester.from_json(found.requested_by)
        try:
            book = read_book(
                found.content,
                kind.headers,
                required=kind.required,
                date_headers=kind.date_headers,
                max_rows=MAX_ROWS,
                on_progress=lambda n: progress(n, None, "读取文件"),
            )
        except RedscarfError as exc:
            # The file as a whole cannot be read: one error, no report to give back.
            error = {"sheet": None, "row": None, "column": None, "code": exc.code,
                     "message": exc.message}  # fmt: skip
            _end(conn, import_id, state=ImportState.INVALID.value, rows=0, created=0,
                 updated=0, unchanged=0, error_count=1, errors=[error])  # fmt: skip
            return {"state": ImportState.INVALID.value, "rows": 0, "error_count": 1}
        _skip_example(book, kind)
        plan = kind.check(
            conn, book, cipher, requester, lambda done, total: progress(done, total, "校验")
        )
        counts = plan.counts()
        if plan.errors:
            by_row: dict[tuple[str, int], list[str]] = {}
            for error in plan.errors:
                by_row.setdefault((error.sheet, error.row), []).append(error.message)
            _end(
                conn,
                import_id,
                state=ImportState.INVALID.value,
                errors=[e.as_json() for e in plan.errors[:MAX_ERRORS_SHOWN]],
                notes=book.notes or None,
                report=error_report(book, by_row),
                **counts,
            )
            return {"state": ImportState.INVALID.value, **counts}
        kind.apply(
            conn,
            plan,
            import_id,
            requester,
            cipher,
            lambda done, total: progress(done, total, "写入"),
        )
        _end(conn, import_id, state=ImportState.DONE.value, notes=book.notes or None, **counts)
    return {"state": ImportState.DONE.value, **counts}
