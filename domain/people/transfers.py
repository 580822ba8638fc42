"""A pupil moving to another county: the record leaves with them and the receiving county
accepts it. The request lives in the shared schema (both counties see it); the pupil's data in
it is one encrypted snapshot, never columns in the clear."""

from __future__ import annotations

import enum
import json
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    SmallInteger,
    String,
    Table,
    Text,
    func,
)

from domain.personal.crypto import FieldCipher
from tenants.metadata import shared_metadata

SNAPSHOT = "pupil_transfers.snapshot"


class TransferState(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"


pupil_transfers = Table(
    "pupil_transfers",
    shared_metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("from_county", String(6), nullable=False, index=True),
    Column("to_county", String(6), nullable=False, index=True),
    Column("from_pupil_id", BigInteger, nullable=False),
    Column("grade", SmallInteger, nullable=False),
    Column("snapshot_enc", Text, nullable=False, comment="The pupil's record, encrypted JSON"),
    Column("state", Text, nullable=False, server_default=TransferState.PENDING.value),
    Column("note", Text),
    Column("requested_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("requested_by", BigInteger),
    Column("decided_at", DateTime(timezone=True)),
    Column("decided_by", BigInteger),
    Column("to_pupil_id", BigInteger),
    comment="Pupils moving between counties: asked by the old county, decided by the new one.",
)


def seal(cipher: FieldCipher, record: dict[str, Any]) -> str:
    return cipher.encrypt(json.dumps(record, ensure_ascii=False, default=str), context=SNAPSHOT)


def unseal(cipher: FieldCipher, stored: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(cipher.decrypt(stored, context=SNAPSHOT))
    return loaded
