"""Erasing a pupil's personal data on a guardian's request (PIPL art. 47).

The pupil's row stays, pseudonymised: status `erased`, no name, pinyin, gender, birth date or
ID number, so that the status history, the county's figures and (later) the points ledger stay
whole and balanced, owned by a row that no longer says whose it was. Everything else that
held the child's personal data is cleared in the same transaction:

- the audit log's old and new values of corrections and imports of the pupil (`details`
  replaced by `{"redacted": true}`: the one change the append-only trigger allows, s0006);
- the encrypted snapshot of a transfer to or from another county;
- binding codes (deleted) and guardians' bindings (ended; consents stay as the record that
  consent was given);
- what the child wrote, uploaded or answered for collection tasks, and the counselors' notes
  on it (the submissions stay, with their state, reward and badge);
- uploaded files and import error reports that mention the pupil by name or ID number.

The erasure itself is audited, without any personal data.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, and_, delete, func, insert, or_, select, text, update

from domain import clock
from domain.archive import archive_exports
from domain.audit.tables import audit_log
from domain.badges.tables import award_objections, badge_awards
from domain.care.tables import care_aid, care_records, care_visits
from domain.imports.tables import roster_imports, uploads
from domain.pairing.service import forget_pupil
from domain.people.pupils import ID_NUMBER
from domain.people.tables import (
    PupilStatus,
    binding_codes,
    data_requests,
    guardian_bindings,
    pupil_status_changes,
    pupils,
)
from domain.people.transfers import TransferState, pupil_transfers, seal
from domain.personal.crypto import FieldCipher
from domain.spreadsheets.reading import mentions
from domain.tasks.tables import task_submissions
from redscarf.errors import InvalidInput, NotFound
from tenants.metadata import translate_map
from tenants.sessions import Tenant, act_as_county

ERASED_NAME = "（已删除）"
REDACTED = {"redacted": True}


@dataclass(frozen=True)
class Erasure:
    pupil_id: int
    audit_entries: int
    transfers: int
    files: int


def erase_pupil(conn: Connection, tenant: Tenant, cipher: FieldCipher, pupil_id: int) -> Erasure:
    """Erase, in the caller's transaction on the service's own login (the audit log and the
    shared transfers are changed before the rest runs as the county's role)."""
    service = conn.execution_options(schema_translate_map=translate_map(tenant.schema_name))
    row = service.execute(select(pupils).where(pupils.c.id == pupil_id).with_for_update()).first()
    if row is None or row.status == PupilStatus.ERASED:
        raise NotFound("没有这名队员", code="PUPIL_NOT_FOUND")
    moving = service.execute(
        select(func.count())
        .select_from(pupil_transfers)
        .where(
            pupil_transfers.c.from_county == tenant.code,
            pupil_transfers.c.from_pupil_id == pupil_id,
            pupil_transfers.c.state == TransferState.PENDING.value,
        )
    ).scalar_one()
    if moving:
        raise InvalidInput(
            "这名队员正在转学，待转入县（区）接收或退回后再删除", code="PENDING_TRANSFER"
        )
    traces = {row.name}
    if row.id_number_enc:
        traces.add(cipher.decrypt(row.id_number_enc, context=ID_NUMBER))
    about_pupil = and_(audit_log.c.object_type == "Pupil", audit_log.c.object_id == str(pupil_id))
    for details in service.execute(select(audit_log.c.details).where(about_pupil)).scalars():
        for side in ("before", "after"):  # names it had before a correction
            name = ((details or {}).get(side) or {}).get("name")
            if isinstance(name, str):
                traces.add(name)

    service.execute(text("SET LOCAL redscarf.audit_redact = 'on'"))
    redacted = service.execute(
        update(audit_log)
        .where(
            about_pupil,
            audit_log.c.details.is_not(None),
            audit_log.c.details != REDACTED,
        )
        .values(details=REDACTED)
    ).rowcount
    service.execute(text("SET LOCAL redscarf.audit_redact = 'off'"))
    transfers = service.execute(
        update(pupil_transfers)
        .where(
            or_(
                and_(
                    pupil_transfers.c.from_county == tenant.code,
                    pupil_transfers.c.from_pupil_id == pupil_id,
                ),
                and_(
                    pupil_transfers.c.to_county == tenant.code,
                    pupil_transfers.c.to_pupil_id == pupil_id,
                ),
            )
        )
        .values(snapshot_enc=seal(cipher, {"name": ERASED_NAME, "erased": True}))
    ).rowcount

    # Its card leaves every pairing (the other county saw its given name, grade and school).
    forget_pupil(conn, tenant.code, pupil_id, by="erasure")

    county = act_as_county(conn, tenant)
    county.execute(
        update(pupils)
        .where(pupils.c.id == pupil_id)
        .values(
            name=ERASED_NAME,
            name_pinyin=None,
            name_initials=None,
            gender=None,
            birth_date=None,
            id_number_enc=None,
            id_number_hash=None,
            batch=None,
            status=PupilStatus.ERASED.value,
            erased_at=func.now(),
            updated_at=func.now(),
        )
    )
    county.execute(
        insert(pupil_status_changes).values(
            pupil_id=pupil_id,
            from_status=row.status,
            to_status=PupilStatus.ERASED.value,
            on_date=clock.today(),
            note="应监护人要求删除个人信息",
        )
    )
    county.execute(delete(binding_codes).where(binding_codes.c.pupil_id == pupil_id))
    # What guardians wrote in their requests may name the child; the requests themselves stay.
    county.execute(
        update(data_requests).where(data_requests.c.pupil_id == pupil_id).values(note=None)
    )
    # So may what staff wrote of the child's badges (evidence, reasons, objections): the awards
    # stay (with their points in the ledger), their words go.
    awarded = select(badge_awards.c.id).where(badge_awards.c.pupil_id == pupil_id)
    county.execute(
        update(award_objections)
        .where(award_objections.c.award_id.in_(awarded))
        .values(content=ERASED_NAME, raised_by=None, resolution=None)
    )
    county.execute(
        update(badge_awards)
        .where(badge_awards.c.pupil_id == pupil_id)
        .values(evidence=None, rejected_reason=None, revoked_reason=None)
    )
    # The child's own works and answers for collection tasks, and what was said of them; that
    # the task was done (and rewarded) stays, like a badge. The files behind the references
    # live outside this service (where the county's app uploaded them): deleting them is its part.
    county.execute(
        update(task_submissions)
        .where(task_submissions.c.pupil_id == pupil_id)
        .values(text=None, file_urls=[], answers=None, review_note=None)
    )
    # A child's care: the situation and the visit log go; the aid stays (amount and source,
    # which the county accounts for), attached to a pupil who is no longer named.
    cared = select(care_records.c.id).where(care_records.c.pupil_id == pupil_id)
    county.execute(update(care_records).where(care_records.c.pupil_id == pupil_id)
                   .values(note=None, ended_on=func.coalesce(care_records.c.ended_on, clock.today())))  # fmt: skip
    county.execute(update(care_visits).where(care_visits.c.record_id.in_(cared))
                   .values(volunteer=ERASED_NAME, what=ERASED_NAME, needs=None))  # fmt: skip
    county.execute(update(care_aid).where(care_aid.c.record_id.in_(cared)).values(note=None))
    county.execute(
        update(guardian_bindings)
        .where(guardian_bindings.c.pupil_id == pupil_id, guardian_bindings.c.ended_at.is_(None))
        .values(ended_at=func.now())
    )
    return Erasure(pupil_id, redacted, transfers, _forget_files(county, sorted(traces)))


def _forget_files(county: Connection, traces: list[str]) -> int:
    """Clear the uploads, error reports and archive exports that mention the pupil; returns
    how many."""
    cleared = 0
    for pk, report in county.execute(
        select(roster_imports.c.id, roster_imports.c.report).where(
            roster_imports.c.report.is_not(None)
        )
    ):
        if mentions(report, traces):
            county.execute(
                update(roster_imports)
                .where(roster_imports.c.id == pk)
                .values(report=None, errors=None)
            )
            cleared += 1
    for pk, content in county.execute(
        select(uploads.c.id, uploads.c.content).where(uploads.c.content.is_not(None))
    ):
        if mentions(content, traces):
            county.execute(update(uploads).where(uploads.c.id == pk).values(content=None))
            cleared += 1
    for pk, content in county.execute(
        select(archive_exports.c.id, archive_exports.c.content).where(
            archive_exports.c.content.is_not(None)
        )
    ):
        if mentions(content, traces):
            county.execute(
                update(archive_exports).where(archive_exports.c.id == pk).values(content=None)
            )
            cleared += 1
    return cleared


def erasure_details(erasure: Erasure) -> dict[str, int]:
    """What the audit entry of an erasure says (counts only)."""
    return {
        "auditEntries": erasure.audit_entries,
        "transfers": erasure.transfers,
        "files": erasure.files,
    }
