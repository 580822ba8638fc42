"""Guardians' requests about a child's personal data, and their handling by the school or the
county: a deletion request, once completed, erases the pupil's personal data
(`domain.people.erasure`) in the same transaction as the request's new state."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy import Connection, and_, func, insert, or_, select, update
from strawberry.types import Info

from authz.sql import scope_predicate
from domain.audit.service import county_entries, record
from domain.org.tables import units
from domain.people.erasure import erase_pupil, erasure_details
from domain.people.tables import DataRequestKind as Kind
from domain.people.tables import DataRequestState as State
from domain.people.tables import data_requests, guardians, pupils
from redscarf.errors import InvalidInput, NotFound, RedscarfError
from resolvers.people import pupils_by_ids
from resolvers.pupil_mutations import reachable_pupil
from resolvers.pupils import caller_user_id, pupil
from schema.context import Context
from schema.data_requests import (
    DataRequest,
    DataRequestDecision,
    DataRequestKind,
    DataRequestPayload,
    DataRequestState,
    HandleDataRequestInput,
    RequestPupilDataInput,
)
from schema.ids import encode_global_id
from schema.pupils import Pupil
from schema.user_errors import UserError, user_errors
from tenants.sessions import act_as_county

MAX_NOTE = 500
MAX_LISTED = 100

_COLUMNS = (
    data_requests.c.id,
    data_requests.c.pupil_id,
    data_requests.c.kind,
    data_requests.c.state,
    data_requests.c.note,
    data_requests.c.requested_by,
    data_requests.c.requested_at,
    data_requests.c.handled_at,
    data_requests.c.answer,
    units.c.path,
)


def _request(row: Any, county: str, pupil: Pupil | None) -> DataRequest:
    return DataRequest(
        id=strawberry.ID(encode_global_id("DataRequest", county, row.id)),
        kind=DataRequestKind(row.kind),
        state=DataRequestState(row.state),
        pupil=pupil,
        note=row.note,
        requested_at=row.requested_at,
        handled_at=row.handled_at,
        answer=row.answer,
    )


def _located() -> Any:
    return (
        select(*_COLUMNS)
        .join(pupils, pupils.c.id == data_requests.c.pupil_id)
        .join(units, units.c.id == func.coalesce(pupils.c.team_id, pupils.c.squadron_id))
    )


async def _shown(context: Context, rows: list[Any]) -> list[DataRequest]:
    scope = await context.list_scope("pupil", "read")
    async with context.session() as session:
        found = await pupils_by_ids(
            session, scope, [r.pupil_id for r in rows], user_id=await caller_user_id(context)
        )
    county = (await context.tenant()).code
    return [
        _request(
            r,
            county,
            Pupil.from_record(found[r.pupil_id], county) if r.pupil_id in found else None,
        )
        for r in rows
    ]


def _note(text: str | None) -> str | None:
    if text is not None and len(text.strip()) > MAX_NOTE:
        raise InvalidInput(f"说明不能超过 {MAX_NOTE} 字", code="TOO_LONG")
    return text.strip() or None if text is not None else None


async def request_pupil_data(
    info: Info[Context, None], input: RequestPupilDataInput
) -> DataRequestPayload:
    """A bound guardian asks (or a school records a request made on paper)."""
    context = info.context
    principal = await context.user()
    found = await pupil(info, input.pupil_id)  # what the caller may see, erased pupils not
    if found is None:
        raise NotFound("没有这名队员", code="PUPIL_NOT_FOUND")
    if not found.record.bound:
        await reachable_pupil(context, input.pupil_id)  # staff: who may change the pupil
    try:
        note = _note(input.note)
    except RedscarfError as exc:
        return DataRequestPayload(data_request=None, user_errors=user_errors(exc, "note"))
    user_id = await caller_user_id(context)
    async with context.session() as session:
        guardian_id = (
            await session.execute(select(guardians.c.id).where(guardians.c.user_id == user_id))
        ).scalar() if found.record.bound else None  # fmt: skip
        pk = (
            await session.execute(
                insert(data_requests)
                .values(
                    pupil_id=found.row_id,
                    kind=input.kind.value,
                    note=note,
                    requested_by=user_id,
                    guardian_id=guardian_id,
                )
                .returning(data_requests.c.id)
            )
        ).scalar_one()
        await record(
            session,
            principal,
            "requestPupilData",
            "DataRequest",
            pk,
            details={"kind": input.kind.value},
        )
        row = (await session.execute(_located().where(data_requests.c.id == pk))).one()
    return DataRequestPayload(data_request=(await _shown(context, [row]))[0], user_errors=[])


async def _visible(context: Context, *conditions: Any) -> list[Any]:
    """Requests about pupils the caller may change, and those the caller made."""
    await context.user()
    scope = await context.list_scope("pupil", "write")
    user_id = await caller_user_id(context)
    reach = scope_predicate(scope, units.c.path)
    if user_id is not None:
        reach = or_(reach, data_requests.c.requested_by == user_id)
    stmt = (
        _located()
        .where(reach, *conditions)
        .order_by(data_requests.c.requested_at.desc(), data_requests.c.id.desc())
        .limit(MAX_LISTED)
    )
    async with context.session() as session:
        return list((await session.execute(stmt)).all())


async def data_requests_list(
    info: Info[Context, None],
    state: Annotated[
        DataRequestState | None, strawberry.argument(description="只列出该状态的请求。")
    ] = None,
) -> list[DataRequest]:
    """Staff: the requests about pupils they may change; guardians: their own."""
    conditions = [data_requests.c.state == state.value] if state is not None else []
    return await _shown(info.context, await _visible(info.context, *conditions))


async def data_request(info: Info[Context, None], id: strawberry.ID) -> DataRequest | None:
    """One request, under the same rule as the list (for `node(id:)`)."""
    pk = await info.context.own_id("DataRequest", id)
    rows = await _visible(info.context, data_requests.c.id == pk) if pk is not None else []
    return (await _shown(info.context, rows))[0] if rows else None


def _error(code: str, message: str, field: str | None = None) -> DataRequestPayload:
    return DataRequestPayload(
        data_request=None, user_errors=[UserError(field=field, code=code, message=message)]
    )


async def handle_data_request(
    info: Info[Context, None], input: HandleDataRequestInput
) -> DataRequestPayload:
    context = info.context
    principal = await context.user()
    pk = await context.own_id("DataRequest", input.id)
    row = None
    if pk is not None:
        async with context.session() as session:
            row = (await session.execute(_located().where(data_requests.c.id == pk))).first()
    if row is None or not await context.may("pupil", "read", row.path):
        raise NotFound("没有这项请求", code="DATA_REQUEST_NOT_FOUND")
    await context.require("pupil", "write", row.path)
    erase = input.decision == DataRequestDecision.COMPLETE and row.kind == Kind.DELETE
    if erase:
        await context.require("pupil", "erase", row.path)
    if row.state != State.PENDING:
        return _error("ALREADY_HANDLED", "这项请求已处理过")
    try:
        answer = _note(input.answer)
    except RedscarfError as exc:
        return DataRequestPayload(data_request=None, user_errors=user_errors(exc, "answer"))
    if input.decision == DataRequestDecision.REJECT and not answer:
        return _error("ANSWER_REQUIRED", "不予办理须写明理由", "answer")
    if erase:
        answer = "已删除该队员的个人信息"  # whatever was typed might name the child
    state = State.COMPLETED if input.decision == DataRequestDecision.COMPLETE else State.REJECTED
    tenant = await context.tenant()
    handled = (
        update(data_requests)
        .where(and_(data_requests.c.id == pk, data_requests.c.state == State.PENDING.value))
        .values(state=state.value, handled_at=func.now(), handled_by=principal.id, answer=answer)
    )
    entry = {"object_type": "DataRequest", "object_id": pk,
             "details": {"kind": row.kind, "decision": input.decision.value}}  # fmt: skip

    if erase:
        cipher = context.services.keys.cipher

        def run(conn: Connection) -> None:
            erased = erase_pupil(conn, tenant, cipher, row.pupil_id)
            county = act_as_county(conn, tenant)
            county.execute(handled)
            county.execute(
                county_entries(
                    principal,
                    "erasePupil",
                    [{"object_type": "Pupil", "object_id": row.pupil_id,
                      "details": erasure_details(erased)}],
                )
            )  # fmt: skip
            county.execute(county_entries(principal, "handleDataRequest", [entry]))

        try:
            await context.in_shared_transaction(run)
        except RedscarfError as exc:
            return DataRequestPayload(data_request=None, user_errors=user_errors(exc))
    else:
        async with context.session() as session:
            await session.execute(handled)
            await session.execute(county_entries(principal, "handleDataRequest", [entry]))
    async with context.session() as session:
        fresh = (await session.execute(_located().where(data_requests.c.id == pk))).one()
    return DataRequestPayload(data_request=(await _shown(context, [fresh]))[0], user_errors=[])
