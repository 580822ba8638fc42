"""Tables of the exchange (migration t0017)."""

from __future__ import annotations

import enum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    Table,
    Text,
    UniqueConstraint,
    func,
)

from tenants.metadata import tenant_metadata


class RedemptionState(enum.StrEnum):
    ISSUED = "issued"
    VERIFIED = "verified"
    EXPIRED = "expired"  # not picked up in time: points and stock returned


partners = Table(
    "partners",
    tenant_metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("name", Text, nullable=False),
    Column("contact", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    comment="Partners (社会单位) who donate items for points.",
)

exchange_items = Table(
    "exchange_items",
    tenant_metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("partner_id", ForeignKey("tenant.partners.id"), nullable=False),
    Column("name", Text, nullable=False),
    Column("description", Text),
    Column("price", Integer, nullable=False),
    Column("stock", Integer, nullable=False),
    Column("per_pupil", Integer, nullable=False, server_default="1"),
    Column("valid_from", DateTime(timezone=True), nullable=False),
    Column("valid_until", DateTime(timezone=True), nullable=False),
    Column("pickup_days", Integer, nullable=False, server_default="30"),
    Column("state", Text, nullable=False, server_default="on_sale"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("price > 0", name="price"),
    CheckConstraint("stock >= 0", name="stock"),
    CheckConstraint("per_pupil > 0 AND pickup_days > 0", name="limits"),
    CheckConstraint("state IN ('on_sale', 'withdrawn')", name="state"),
    comment="Items for points: stock never below zero (the database refuses it).",
)

redemptions = Table(
    "redemptions",
    tenant_metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("item_id", ForeignKey("tenant.exchange_items.id"), nullable=False),
    Column("pupil_id", ForeignKey("tenant.pupils.id"), nullable=False),
    Column("code_hash", LargeBinary, nullable=False),
    Column("code_enc", Text, comment="The pickup code, encrypted (for the family)"),
    Column("state", Text, nullable=False, server_default=RedemptionState.ISSUED.value),
    Column("transaction_id", BigInteger, comment="The points paid"),
    Column("redeemed_by", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("verified_at", DateTime(timezone=True)),
    CheckConstraint("state IN ('issued', 'verified', 'expired')", name="state"),
    UniqueConstraint("code_hash"),
    Index("ix_redemptions_item_id_pupil_id", "item_id", "pupil_id"),
    comment="Redemptions: points paid, a pickup code issued, verified once by the partner.",
)
