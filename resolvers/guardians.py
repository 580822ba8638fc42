"""Guardians and their children: binding codes, binding, unbinding."""

from __future__ import annotations

import datetime as dt

import strawberry
from sqlalchemy import Connection, func, insert, select, update
from strawberry.types import Info

from authz.principal import PrincipalKind
from domain.audit.service import record
from domain.people.guardians import CODE_DAYS, Relation, bind, code_values
from domain.people.tables import binding_codes, guardian_bindings, guardians
from redscarf.errors import Forbidden, NotFound, RedscarfError
from resolvers.pupil_mutations import reachable_pupil
from resolvers.pupils import pupil
from schema.accounts import OkPayload
from schema.context import Context
from schema.guardians import (
    BindingCodePayload,
    BindPupilInput,
    BindPupilPayload,
    IssueBindingCodeInput,
    UnbindPupilInput,
)
from schema.ids import encode_global_id
from schema.user_errors import user_errors


async def issue_binding_code(
    info: Info[Context, None], input: IssueBindingCodeInput
) -> BindingCodePayload:
    context = info.context
    found = await reachable_pupil(context, input.pupil_id)
    principal = await context.principal()
    code, values = code_values(
        context.services.keys.cipher,
        found.id,
        principal.id if principal.kind == PrincipalKind.USER else None,
    )
    async with context.session() as session:
        await session.execute(insert(binding_codes).values(**values))
        await record(session, principal, "issueBindingCode", "Pupil", found.id)
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=CODE_DAYS)
    return BindingCodePayload(code=code, expires_at=expires, user_errors=[])


async def bind_pupil(info: Info[Context, None], input: BindPupilInput) -> BindPupilPayload:
    context = info.context
    principal = await context.user()
    if principal.kind != PrincipalKind.USER:
        raise Forbidden("只有家长本人的账号可以绑定孩子")
    tenant = await context.services.directory.get(input.county_code)
    cipher = context.services.keys.cipher

    def run(conn: Connection) -> tuple[int, str]:
        return bind(
            conn,
            tenant,
            cipher,
            principal,
            code=input.code,
            id_number=input.id_number,
            name=input.name,
            relation=Relation(input.relation.value),
            notice_version=input.notice_version,
        )

    try:
        pupil_id, name = await context.in_shared_transaction(run)
    except RedscarfError as exc:
        return BindPupilPayload(pupil_id=None, pupil_name=None, user_errors=user_errors(exc))
    return BindPupilPayload(
        pupil_id=strawberry.ID(encode_global_id("Pupil", tenant.code, pupil_id)),
        pupil_name=name,
        user_errors=[],
    )


async def unbind_pupil(info: Info[Context, None], input: UnbindPupilInput) -> OkPayload:
    """The guardian's own binding ends; the pupil's data stays with the school."""
    context = info.context
    principal = await context.user()
    found = await pupil(info, input.pupil_id)  # bound pupils only, for a guardian
    if found is None or not found.record.bound:
        raise NotFound("您没有绑定这名队员", code="PUPIL_NOT_FOUND")
    async with context.session() as session:
        guardian_id = (
            await session.execute(select(guardians.c.id).where(guardians.c.user_id == principal.id))
        ).scalar_one()
        await session.execute(
            update(guardian_bindings)
            .where(
                guardian_bindings.c.guardian_id == guardian_id,
                guardian_bindings.c.pupil_id == found.row_id,
            )
            .values(ended_at=func.now())
        )
        await record(session, principal, "unbindPupil", "Pupil", found.row_id)
    return OkPayload(ok=True, user_errors=[])
