"""Transfers of pupils between counties: asked by the old county, accepted or declined by the
new one. Each decision is one transaction: the shared request first (as the service), then the
county whose pupils change (as that county's role)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry
from sqlalchemy import Connection, func, insert, select, text, update
from strawberry.types import Info

from authz.principal import Principal, PrincipalKind
from domain import clock
from domain.audit.service import county_entries, record_shared
from domain.org.tables import UnitKind
from domain.people.pupils import ID_NUMBER, identity_columns
from domain.people.tables import PupilStatus, pupil_status_changes, pupils
from domain.people.transfers import TransferState, pupil_transfers, seal, unseal
from redscarf.errors import Conflict, InvalidInput, NotFound, RedscarfError
from resolvers.pupil_mutations import reachable_pupil, unit_of_kind
from schema.context import Context
from schema.ids import encode_global_id
from schema.transfers import (
    AcceptTransferInput,
    DeclineTransferInput,
    Transfer,
    TransferPayload,
    TransferPupilInput,
)
from schema.transfers import TransferState as ApiTransferState
from schema.user_errors import user_errors
from tenants.metadata import translate_map
from tenants.sessions import Tenant, act_as_county


def _error(exc: RedscarfError) -> TransferPayload:
    return TransferPayload(
        transfer=None,
        pupil_id=None,
        user_errors=user_errors(exc),
    )


def _transfer(row: Any, name: str, state: TransferState | None = None) -> Transfer:
    return Transfer(
        id=strawberry.ID(str(row.id)),
        pupil_name=name,
        grade=row.grade,
        from_county=row.from_county,
        to_county=row.to_county,
        state=ApiTransferState(state.value if state else row.state),
        requested_at=row.requested_at,
        note=row.note,
    )


def _user_id(principal: Principal) -> int | None:
    return principal.id if principal.kind == PrincipalKind.USER else None


async def transfer_pupil(info: Info[Context, None], input: TransferPupilInput) -> TransferPayload:
    context = info.context
    found = await reachable_pupil(context, input.pupil_id)
    origin = await context.tenant()
    try:
        if found.status not in (PupilStatus.MEMBER, PupilStatus.PRE_MEMBER):
            raise InvalidInput("只有在册的队员可以转学", code="INVALID_STATUS_CHANGE")
        if input.to_county_code == origin.code:
            raise InvalidInput("县内调动请用“调中队”", code="SAME_COUNTY")
        target = await context.services.directory.get(input.to_county_code)
    except RedscarfError as exc:
        return _error(exc)
    cipher = context.services.keys.cipher
    principal = await context.principal()

    def run(conn: Connection) -> Any:
        # Read the record as the service (the owner), seal it, then act as the old county.
        view = conn.execution_options(schema_translate_map=translate_map(origin.schema_name))
        history = view.execute(
            select(
                pupil_status_changes.c.to_status,
                pupil_status_changes.c.on_date,
                pupil_status_changes.c.batch,
            )
            .where(pupil_status_changes.c.pupil_id == found.id)
            .order_by(pupil_status_changes.c.id)
        ).all()
        joined = view.execute(
            select(pupils.c.joined_on, pupils.c.batch).where(pupils.c.id == found.id)
        ).one()
        snapshot: dict[str, Any] = {
            "name": found.name,
            "gender": found.gender,
            "status": found.status,
            "birth_date": found.birth_date,
            "grade": found.grade,
            "id_number": cipher.decrypt(found.id_number_enc, context=ID_NUMBER)
            if found.id_number_enc
            else None,
            "joined_on": joined.joined_on,
            "batch": joined.batch,
            "history": [[h.to_status, h.on_date, h.batch] for h in history],
            "from_county_name": origin.name,
        }
        row = conn.execute(
            insert(pupil_transfers)
            .values(
                from_county=origin.code,
                to_county=target.code,
                from_pupil_id=found.id,
                grade=found.grade,
                snapshot_enc=seal(cipher, snapshot),
                note=input.note,
                requested_by=_user_id(principal),
            )
            .returning(pupil_transfers)
        ).one()
        county = act_as_county(conn, origin)
        county.execute(
            update(pupils)
            .where(pupils.c.id == found.id)
            .values(status=PupilStatus.TRANSFERRED.value, updated_at=func.now())
        )
        county.execute(
            insert(pupil_status_changes).values(
                pupil_id=found.id,
                from_status=found.status,
                to_status=PupilStatus.TRANSFERRED.value,
                on_date=clock.today(),
                note=f"转往 {target.name}（{target.code}）",
            )
        )
        county.execute(
            county_entries(
                principal,
                "transferPupil",
                [
                    {
                        "object_type": "Pupil",
                        "object_id": found.id,
                        "details": {"to": target.code, "transfer": row.id},
                    }
                ],
            )
        )
        return row

    row = await context.in_shared_transaction(run)
    return TransferPayload(transfer=_transfer(row, found.name), pupil_id=None, user_errors=[])


async def incoming_transfers(info: Info[Context, None]) -> list[Transfer]:
    context = info.context
    await context.require("transfer", "receive", "c")
    tenant = await context.tenant()
    cipher = context.services.keys.cipher
    rows = await context.in_shared_transaction(
        lambda conn: list(
            conn.execute(
                select(pupil_transfers)
                .where(
                    pupil_transfers.c.to_county == tenant.code,
                    pupil_transfers.c.state == TransferState.PENDING.value,
                )
                .order_by(pupil_transfers.c.id)
            )
        )
    )
    return [_transfer(r, unseal(cipher, r.snapshot_enc)["name"]) for r in rows]


async def _pending(context: Context, transfer_id: str) -> tuple[Tenant, Any]:
    await context.require("transfer", "receive", "c")
    tenant = await context.tenant()
    try:
        pk = int(transfer_id)
    except ValueError:
        pk = 0
    row = await context.in_shared_transaction(
        lambda conn: conn.execute(
            select(pupil_transfers).where(
                pupil_transfers.c.id == pk,
                pupil_transfers.c.to_county == tenant.code,
                pupil_transfers.c.state == TransferState.PENDING.value,
            )
        ).first()
    )
    if row is None:
        raise NotFound("没有这份待接收的转学申请", code="TRANSFER_NOT_FOUND")
    return tenant, row


def _decide(
    conn: Connection,
    transfer_id: int,
    state: TransferState,
    principal: Principal,
    to_pupil_id: int | None = None,
) -> None:
    done = conn.execute(
        update(pupil_transfers)
        .where(
            pupil_transfers.c.id == transfer_id,
            pupil_transfers.c.state == TransferState.PENDING.value,
        )
        .values(
            state=state.value,
            decided_at=func.now(),
            decided_by=_user_id(principal),
            to_pupil_id=to_pupil_id,
        )
    )
    if done.rowcount != 1:
        raise Conflict("这份转学申请已被处理", code="TRANSFER_DECIDED")


async def accept_transfer(info: Info[Context, None], input: AcceptTransferInput) -> TransferPayload:
    context = info.context
    tenant, row = await _pending(context, input.transfer_id)
    squadron = await unit_of_kind(context, input.squadron_id, UnitKind.SQUADRON)
    assert squadron is not None
    await context.require("pupil", "write", squadron.path)
    cipher = context.services.keys.cipher
    snapshot = unseal(cipher, row.snapshot_enc)
    birth = dt.date.fromisoformat(snapshot["birth_date"]) if snapshot["birth_date"] else None
    values = identity_columns(
        cipher,
        name=snapshot["name"],
        id_number=snapshot["id_number"],
        birth_date=birth,
        gender=snapshot["gender"],
    )
    principal = await context.principal()
    joined = dt.date.fromisoformat(snapshot["joined_on"]) if snapshot["joined_on"] else None

    def run(conn: Connection) -> int:
        # The new pupil's key is drawn first, so the shared request can name it.
        pk = int(
            conn.execute(
                text("SELECT nextval(pg_get_serial_sequence(:t, 'id'))"),
                {"t": f'"{tenant.schema_name}".pupils'},
            ).scalar_one()
        )
        _decide(conn, row.id, TransferState.ACCEPTED, principal, to_pupil_id=pk)
        county = act_as_county(conn, tenant)
        if (
            "id_number_hash" in values
            and county.execute(
                select(pupils.c.id).where(pupils.c.id_number_hash == values["id_number_hash"])
            ).first()
        ):
            raise Conflict("该身份证号码已登记为本县队员", code="DUPLICATE_PUPIL")
        county.execute(
            insert(pupils).values(
                **values,
                id=pk,
                squadron_id=squadron.id,
                grade=squadron.grade or row.grade,
                status=snapshot["status"],
                joined_on=joined,
                batch=snapshot["batch"],
            )
        )
        county.execute(
            insert(pupil_status_changes).values(
                pupil_id=pk,
                from_status=None,
                to_status=snapshot["status"],
                on_date=clock.today(),
                note=f"转入自 {snapshot['from_county_name']}（{row.from_county}）",
            )
        )
        county.execute(
            county_entries(
                principal,
                "acceptTransfer",
                [{"object_type": "Pupil", "object_id": pk, "details": {"transfer": row.id}}],
            )
        )
        return pk

    try:
        pk = await context.in_shared_transaction(run)
    except RedscarfError as exc:
        return _error(exc)
    return TransferPayload(
        transfer=_transfer(row, snapshot["name"], TransferState.ACCEPTED),
        pupil_id=strawberry.ID(encode_global_id("Pupil", tenant.code, pk)),
        user_errors=[],
    )


async def decline_transfer(
    info: Info[Context, None], input: DeclineTransferInput
) -> TransferPayload:
    """The pupil goes back to how it was in the old county."""
    context = info.context
    tenant, row = await _pending(context, input.transfer_id)
    snapshot = unseal(context.services.keys.cipher, row.snapshot_enc)
    origin = await context.services.directory.get(row.from_county)
    principal = await context.principal()

    def run(conn: Connection) -> None:
        _decide(conn, row.id, TransferState.DECLINED, principal)
        record_shared(
            conn,
            principal,
            "declineTransfer",
            "PupilTransfer",
            row.id,
            county_code=tenant.code,
            details={"reason": input.reason},
        )
        county = act_as_county(conn, origin)
        county.execute(
            update(pupils)
            .where(pupils.c.id == row.from_pupil_id)
            .values(status=snapshot["status"], updated_at=func.now())
        )
        county.execute(
            insert(pupil_status_changes).values(
                pupil_id=row.from_pupil_id,
                from_status=PupilStatus.TRANSFERRED.value,
                to_status=snapshot["status"],
                on_date=clock.today(),
                note=f"{tenant.name}未接收：{input.reason}",
            )
        )

    await context.in_shared_transaction(run)
    return TransferPayload(
        transfer=_transfer(row, snapshot["name"], TransferState.DECLINED),
        pupil_id=None,
        user_errors=[],
    )
