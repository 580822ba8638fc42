"""A guardian binds a child: with the school's one-time code, or by the child's ID number and
name, after consenting to the county's notice. The binding also gives the guardian's account
the guardian role in that county. One transaction: shared rows first (as the service), then
the county's rows (as the county role)."""

from __future__ import annotations

import datetime as dt
import enum
import secrets
from typing import Any

from sqlalchemy import Connection, func, select, update
from sqlalchemy.dialects.postgresql import insert

from authz.principal import Principal
from authz.roles import Role
from domain.accounts.service import grant_role
from domain.accounts.tables import binding_failures, users
from domain.audit.service import county_entries
from domain.people.names import normalise_name
from domain.people.pupils import ID_NUMBER
from domain.people.tables import (
    CURRENT_STATUSES,
    binding_codes,
    guardian_bindings,
    guardian_consents,
    guardians,
    pupils,
)
from domain.personal.crypto import FieldCipher
from domain.personal.id_numbers import parse_id_number
from redscarf.errors import InvalidInput, NotFound
from tenants.metadata import translate_map
from tenants.sessions import Tenant, act_as_county

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud, typed by hand
CODE_LENGTH = 10  # 31^10 ≈ 8 × 10^14: guessing is hopeless
CODE_DAYS = 14
CODE = "binding_codes.code"
MAX_FAILURES = 5
FAILURE_WINDOW = dt.timedelta(hours=1)
PHONE = "guardians.phone"


class Relation(enum.StrEnum):
    MOTHER = "mother"
    FATHER = "father"
    GRANDMOTHER = "grandmother"
    GRANDFATHER = "grandfather"
    OTHER = "other"


class BindingNotFound(NotFound):
    code = "BINDING_NOT_FOUND"
    message = "绑定码无效、已使用或已过期，或身份证号码与姓名不符"
    keeps_changes = True  # the failed attempt is counted


class BindingLocked(InvalidInput):
    code = "BINDING_LOCKED"
    message = "绑定失败次数过多，请一小时后再试，或向学校索取绑定码"


def check_attempts(conn: Connection, user_id: int) -> None:
    """Refuse a guardian who failed `MAX_FAILURES` times within the window: ID numbers and
    codes must not be guessable by trying (the keyed hash makes each try cost a request)."""
    failures = conn.execute(
        select(func.count())
        .select_from(binding_failures)
        .where(
            binding_failures.c.user_id == user_id,
            binding_failures.c.at > func.now() - FAILURE_WINDOW,
        )
    ).scalar_one()
    if failures >= MAX_FAILURES:
        raise BindingLocked()


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def code_hash(cipher: FieldCipher, code: str) -> bytes:
    return cipher.keyed_hash(code.strip().upper().replace(" ", "").replace("-", ""), context=CODE)


def code_values(
    cipher: FieldCipher, pupil_id: int, issued_by: int | None
) -> tuple[str, dict[str, Any]]:
    code = new_code()
    return code, {
        "pupil_id": pupil_id,
        "code_hash": code_hash(cipher, code),
        "expires_at": func.now() + dt.timedelta(days=CODE_DAYS),
        "issued_by": issued_by,
    }


def _find_pupil(
    conn: Connection,
    cipher: FieldCipher,
    *,
    code: str | None,
    id_number: str | None,
    name: str | None,
) -> tuple[int, int | None]:
    """(pupil id, binding code id): by the code, or by ID number and name together."""
    if code:
        row = conn.execute(
            select(binding_codes.c.pupil_id, binding_codes.c.id)
            .where(
                binding_codes.c.code_hash == code_hash(cipher, code),
                binding_codes.c.used_at.is_(None),
                binding_codes.c.expires_at > func.now(),
            )
            .with_for_update()
        ).first()
        if row is None:
            raise BindingNotFound()
        return int(row.pupil_id), int(row.id)
    if not id_number or not name:
        raise InvalidInput(
            "请填写学校发的绑定码，或孩子的身份证号码和姓名", code="BINDING_REQUIRED"
        )
    hashed = cipher.keyed_hash(parse_id_number(id_number).value, context=ID_NUMBER)
    pupil_id = conn.execute(
        select(pupils.c.id).where(
            pupils.c.id_number_hash == hashed,
            pupils.c.name == normalise_name(name),
            pupils.c.status.in_(CURRENT_STATUSES),
        )
    ).scalar()
    if pupil_id is None:
        raise BindingNotFound()
    return int(pupil_id), None


def bind(
    conn: Connection,
    tenant: Tenant,
    cipher: FieldCipher,
    principal: Principal,
    *,
    code: str | None,
    id_number: str | None,
    name: str | None,
    relation: Relation,
    notice_version: str,
) -> tuple[int, str]:
    """Bind the principal (a signed-in user) to a pupil; returns (pupil id, pupil name)."""
    if not notice_version.strip():
        raise InvalidInput("请先阅读并同意个人信息保护告知书", code="CONSENT_REQUIRED")
    assert principal.id is not None
    # Read as the service (the owner), before acting as the county.
    service_view = conn.execution_options(schema_translate_map=translate_map(tenant.schema_name))
    check_attempts(conn, principal.id)
    try:
        pupil_id, code_id = _find_pupil(
            service_view, cipher, code=code, id_number=id_number, name=name
        )
    except BindingNotFound:
        conn.execute(insert(binding_failures).values(user_id=principal.id, county_code=tenant.code))
        raise
    grant_role(conn, principal.id, Role.GUARDIAN, tenant.code, "c", granted_by=None)
    user = conn.execute(
        select(users.c.display_name, users.c.phone_enc).where(users.c.id == principal.id)
    ).one()

    county = act_as_county(conn, tenant)
    guardian_id = county.execute(
        select(guardians.c.id).where(guardians.c.user_id == principal.id)
    ).scalar()
    if guardian_id is None:
        phone = cipher.decrypt(user.phone_enc, context="users.phone") if user.phone_enc else None
        guardian_id = county.execute(
            insert(guardians)
            .values(
                name=user.display_name,
                user_id=principal.id,
                phone_enc=cipher.encrypt(phone, context=PHONE) if phone else None,
                phone_hash=cipher.keyed_hash(phone, context=PHONE) if phone else None,
            )
            .returning(guardians.c.id)
        ).scalar_one()
    verified_by = "code" if code_id else "id_number"
    county.execute(
        insert(guardian_bindings)
        .values(
            guardian_id=guardian_id,
            pupil_id=pupil_id,
            relation=relation.value,
            verified_at=func.now(),
            verified_by=verified_by,
        )
        .on_conflict_do_update(
            index_elements=["guardian_id", "pupil_id"],
            set_={
                "relation": relation.value,
                "verified_at": func.now(),
                "verified_by": verified_by,
                "ended_at": None,
            },
        )
    )
    county.execute(
        insert(guardian_consents).values(
            guardian_id=guardian_id,
            pupil_id=pupil_id,
            purpose="roster",
            notice_version=notice_version.strip(),
        )
    )
    if code_id is not None:
        county.execute(
            update(binding_codes).where(binding_codes.c.id == code_id).values(used_at=func.now())
        )
    pupil_name = county.execute(select(pupils.c.name).where(pupils.c.id == pupil_id)).scalar_one()
    county.execute(
        county_entries(
            principal,
            "bindPupil",
            [
                {
                    "object_type": "Pupil",
                    "object_id": pupil_id,
                    "details": {
                        "by": verified_by,
                        "relation": relation.value,
                        "notice": notice_version.strip(),
                    },
                }
            ],
        )
    )
    return pupil_id, pupil_name
