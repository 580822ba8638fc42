"""Mutations of pupils: register, correct, move, change status, enrol a batch, promote a year.

Each runs in one county transaction with its audit entry. A pupil the caller cannot see is
not found; one the caller can see but not change is forbidden.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from strawberry.types import Info

from domain import clock
from domain.audit.service import record
from domain.org.tables import UnitKind
from domain.people.pupils import (
    ID_NUMBER,
    STATUS_LABELS,
    academic_year,
    check_transition,
    identity_columns,
)
from domain.people.tables import PupilStatus
from domain.personal.id_numbers import mask_id_number
from redscarf.errors import InvalidInput, NotFound, RedscarfError
from resolvers.org import UnitRecord
from resolvers.people import (
    PupilRecord,
    insert_pupil,
    promote_grades,
    pupil_by_id,
    record_status,
    update_pupil,
)
from resolvers.pupils import caller_user_id
from schema.context import Context
from schema.pupils import (
    ChangePupilStatusInput,
    CreatePupilInput,
    EnrolPupilsInput,
    EnrolPupilsPayload,
    MovePupilInput,
    PromoteGradesInput,
    PromoteGradesPayload,
    Pupil,
    PupilPayload,
    UpdatePupilInput,
)
from schema.user_errors import UserError, user_errors

MAX_BATCH = 500


def _duplicate() -> list[UserError]:
    return [
        UserError(
            field="idNumber", code="DUPLICATE_PUPIL", message="该身份证号码已登记为本县另一名队员"
        )
    ]


async def unit_of_kind(
    context: Context, global_id: str | None, kind: UnitKind
) -> UnitRecord | None:
    if global_id is None:
        return None
    pk = await context.own_id("Unit", global_id)
    found = await context.org.unit.load(pk) if pk is not None else None
    if found is None or found.archived_at is not None:
        raise NotFound("没有这个单位", code="UNIT_NOT_FOUND")
    if found.kind != kind:
        raise InvalidInput(
            f"「{found.name}」不是{'中队' if kind == UnitKind.SQUADRON else '小队'}",
            code="WRONG_UNIT_KIND",
        )
    return found


async def _placement(
    context: Context, squadron_id: str, team_id: str | None
) -> tuple[UnitRecord, UnitRecord | None]:
    squadron = await unit_of_kind(context, squadron_id, UnitKind.SQUADRON)
    assert squadron is not None
    team = await unit_of_kind(context, team_id, UnitKind.TEAM)
    if team is not None and team.parent_id != squadron.id:
        raise InvalidInput(
            f"小队「{team.name}」不在中队「{squadron.name}」中", code="WRONG_UNIT_KIND"
        )
    await context.require("pupil", "write", (team or squadron).path)
    return squadron, team


async def reachable_pupil(context: Context, global_id: str) -> PupilRecord:
    """A pupil the caller may change (not found if out of sight, forbidden if only seen)."""
    pk = await context.own_id("Pupil", global_id)
    found = None
    if pk is not None:
        scope = await context.list_scope("pupil", "read")
        async with context.session() as session:
            found = await pupil_by_id(session, scope, pk, user_id=await caller_user_id(context))
    if found is None:
        raise NotFound("没有这名队员", code="PUPIL_NOT_FOUND")
    await context.require("pupil", "write", found.path)
    return found


async def _pupil(context: Context, pk: int) -> Pupil:
    scope = await context.list_scope("pupil", "read")
    async with context.session() as session:
        found = await pupil_by_id(session, scope, pk, user_id=await caller_user_id(context))
    assert found is not None
    return Pupil.from_record(found, (await context.tenant()).code)


def _identity(context: Context, input: CreatePupilInput | UpdatePupilInput) -> dict[str, Any]:
    return identity_columns(
        context.services.keys.cipher,
        name=input.name,
        id_number=input.id_number,
        birth_date=input.birth_date,
        gender=input.gender.value if input.gender else None,
    )


async def create_pupil(info: Info[Context, None], input: CreatePupilInput) -> PupilPayload:
    context = info.context
    squadron, team = await _placement(context, input.squadron_id, input.team_id)
    try:
        values = _identity(context, input)
        if "gender" not in values:
            raise InvalidInput("请填写性别或身份证号码", code="GENDER_REQUIRED")
        if squadron.grade is None:
            raise InvalidInput(f"中队「{squadron.name}」没有年级", code="INVALID_GRADE")
    except RedscarfError as exc:
        return PupilPayload(pupil=None, user_errors=user_errors(exc))
    status = input.status.value
    joined = input.joined_on if status == PupilStatus.MEMBER else None
    principal = await context.principal()
    async with context.session() as session:
        pk = await insert_pupil(
            session,
            {
                **values,
                "squadron_id": squadron.id,
                "team_id": team.id if team else None,
                "grade": squadron.grade,
                "status": status,
                "joined_on": joined,
                "batch": input.batch if joined else None,
            },
        )
        if pk is None:
            return PupilPayload(pupil=None, user_errors=_duplicate())
        await record_status(
            session, [pk], status, joined or clock.today(), from_status=None, batch=input.batch
        )
        await record(session, principal, "createPupil", "Pupil", pk, fields=sorted(values))
    return PupilPayload(pupil=await _pupil(context, pk), user_errors=[])


def _shown(column: str, value: Any) -> Any:
    """How a value goes into the audit log: ID numbers masked (the encrypted old value kept)."""
    if column == "id_number_enc":
        return None
    return value.isoformat() if isinstance(value, dt.date) else value


async def update_pupil_details(info: Info[Context, None], input: UpdatePupilInput) -> PupilPayload:
    context = info.context
    current = await reachable_pupil(context, input.id)
    cipher = context.services.keys.cipher
    try:
        values = _identity(context, input)
    except RedscarfError as exc:
        return PupilPayload(pupil=None, user_errors=user_errors(exc))
    if not values:
        return PupilPayload(pupil=await _pupil(context, current.id), user_errors=[])
    before = {
        "name": current.name,
        "gender": current.gender,
        "birth_date": current.birth_date.isoformat() if current.birth_date else None,
    }
    details: dict[str, Any] = {
        "before": {k: v for k, v in before.items() if k in values},
        "after": {k: _shown(k, v) for k, v in values.items() if k in before},
    }
    if "id_number_enc" in values:
        old = current.id_number_enc
        details["before"]["id_number"] = (
            mask_id_number(cipher.decrypt(old, context=ID_NUMBER)) if old else None
        )
        details["before"]["id_number_enc"] = old  # the old value, recoverable with the key
        details["after"]["id_number"] = mask_id_number(input.id_number or "")
    principal = await context.principal()
    async with context.session() as session:
        if not await update_pupil(session, current.id, values):
            return PupilPayload(pupil=None, user_errors=_duplicate())
        fields = sorted(k for k in values if not k.startswith(("name_", "id_number_hash")))
        await record(
            session, principal, "updatePupil", "Pupil", current.id, fields=fields, details=details
        )
    return PupilPayload(pupil=await _pupil(context, current.id), user_errors=[])


async def move_pupil(info: Info[Context, None], input: MovePupilInput) -> PupilPayload:
    context = info.context
    current = await reachable_pupil(context, input.id)
    squadron, team = await _placement(context, input.squadron_id, input.team_id)
    principal = await context.principal()
    async with context.session() as session:
        await update_pupil(
            session,
            current.id,
            {
                "squadron_id": squadron.id,
                "team_id": team.id if team else None,
                "grade": squadron.grade or 1,
            },
        )
        await record(
            session,
            principal,
            "movePupil",
            "Pupil",
            current.id,
            fields=["squadron_id", "team_id"],
            details={"from": current.squadron_id, "to": squadron.id},
        )
    return PupilPayload(pupil=await _pupil(context, current.id), user_errors=[])


async def change_pupil_status(
    info: Info[Context, None], input: ChangePupilStatusInput
) -> PupilPayload:
    context = info.context
    current = await reachable_pupil(context, input.id)
    new = input.status.value
    try:
        check_transition(current.status, new)
        if input.on_date > clock.today():
            raise InvalidInput("生效日期不能晚于今天", code="INVALID_DATE")
    except RedscarfError as exc:
        return PupilPayload(pupil=None, user_errors=user_errors(exc, "status"))
    values: dict[str, Any] = {"status": new}
    if new == PupilStatus.MEMBER and current.status == PupilStatus.PRE_MEMBER:
        values["joined_on"] = input.on_date
    principal = await context.principal()
    async with context.session() as session:
        await update_pupil(session, current.id, values)
        await record_status(
            session, [current.id], new, input.on_date, from_status=current.status, note=input.note
        )
        await record(
            session,
            principal,
            "changePupilStatus",
            "Pupil",
            current.id,
            fields=["status"],
            details={"from": current.status, "to": new, "on": input.on_date.isoformat()},
        )
    return PupilPayload(pupil=await _pupil(context, current.id), user_errors=[])


async def enrol_pupils(info: Info[Context, None], input: EnrolPupilsInput) -> EnrolPupilsPayload:
    """Pre-members join in one batch, all or none (a ceremony is one event)."""
    context = info.context
    if not input.ids or len(input.ids) > MAX_BATCH:
        error = InvalidInput(f"一批 1–{MAX_BATCH} 人", code="INVALID_BATCH")
        return EnrolPupilsPayload(enrolled=0, user_errors=user_errors(error, "ids"))
    found = [await reachable_pupil(context, pid) for pid in input.ids]
    wrong = [p.name for p in found if p.status != PupilStatus.PRE_MEMBER]
    if wrong:
        error = InvalidInput(
            f"只有{STATUS_LABELS[PupilStatus.PRE_MEMBER]}可以入队：{'、'.join(wrong[:10])}",
            code="NOT_PRE_MEMBER",
        )
        return EnrolPupilsPayload(enrolled=0, user_errors=user_errors(error, "ids"))
    ids = sorted({p.id for p in found})
    principal = await context.principal()
    async with context.session() as session:
        for pk in ids:
            await update_pupil(
                session,
                pk,
                {
                    "status": PupilStatus.MEMBER.value,
                    "joined_on": input.joined_on,
                    "batch": input.batch,
                },
            )
        await record_status(
            session,
            ids,
            PupilStatus.MEMBER,
            input.joined_on,
            from_status=PupilStatus.PRE_MEMBER,
            batch=input.batch,
        )
        await record(
            session,
            principal,
            "enrolPupils",
            "Pupil",
            None,
            details={"pupils": ids, "batch": input.batch},
        )
    return EnrolPupilsPayload(enrolled=len(ids), user_errors=[])


async def promote_all_grades(
    info: Info[Context, None], input: PromoteGradesInput
) -> PromoteGradesPayload:
    context = info.context
    await context.require("pupil", "promote", "c")
    current = academic_year(clock.today())
    if input.academic_year not in (current, current + 1):
        error = InvalidInput(f"只能为本学年（{current}）或下一学年升级", code="INVALID_YEAR")
        return PromoteGradesPayload(
            pupils=0,
            squadrons=0,
            already_done=False,
            user_errors=user_errors(error, "academicYear"),
        )
    principal = await context.principal()
    async with context.session() as session:
        done = await promote_grades(session, input.academic_year)
        if done is not None:
            await record(
                session,
                principal,
                "promoteGrades",
                "County",
                None,
                details={
                    "academic_year": input.academic_year,
                    "pupils": done[0],
                    "squadrons": done[1],
                },
            )
    if done is None:
        return PromoteGradesPayload(pupils=0, squadrons=0, already_done=True, user_errors=[])
    return PromoteGradesPayload(
        pupils=done[0], squadrons=done[1], already_done=False, user_errors=[]
    )
