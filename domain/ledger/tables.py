"""Tables of the points ledger (migration t0011)."""

from __future__ import annotations

import enum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from tenants.metadata import tenant_metadata


class AccountKind(enum.StrEnum):
    POOL = "pool"  # the county's issuing pool: its balance is minus the points in circulation
    PUPIL = "pupil"
    ACTIVITY = "activity"
    PARTNER = "partner"
    SINK = "sink"


class HoldState(enum.StrEnum):
    OPEN = "open"
    POSTED = "posted"
    VOIDED = "voided"


ledger_accounts = Table(
    "ledger_accounts",
    tenant_metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("kind", Text, nullable=False),
    Column("owner_id", BigInteger, comment="The pupil, activity or partner it belongs to"),
    Column("name", Text, nullable=False),
    Column("balance", BigInteger, nullable=False, server_default="0"),
    Column("held", BigInteger, nullable=False, server_default="0"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("kind IN ('pool', 'pupil', 'activity', 'partner', 'sink')", name="kind"),
    CheckConstraint(
        "kind <> 'pupil' OR (balance >= 0 AND held >= 0 AND held <= balance)",
        name="pupil_not_negative",
    ),
    UniqueConstraint("kind", "owner_id", postgresql_nulls_not_distinct=True),
    comment="Points accounts: the county's issuing pool, each pupil, activities, partners, sinks.",
)

ledger_transactions = Table(
    "ledger_transactions",
    tenant_metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("idempotency_key", Text, nullable=False, unique=True),
    Column("kind", Text, nullable=False, comment="award, spend, refund, reversal, ..."),
    Column("memo", Text),
    Column("reverses_id", ForeignKey("tenant.ledger_transactions.id"), unique=True),
    Column("created_by", Text, comment="Who (user:<id>, api_key:<id>, job)"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    comment="Append-only. One business event; its postings sum to zero.",
)

ledger_postings = Table(
    "ledger_postings",
    tenant_metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column(
        "transaction_id", ForeignKey("tenant.ledger_transactions.id"), nullable=False, index=True
    ),
    Column("account_id", ForeignKey("tenant.ledger_accounts.id"), nullable=False),
    Column("amount", BigInteger, nullable=False, comment="Signed: + credits the account"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("amount <> 0", name="amount"),
    Index("ix_ledger_postings_account_id", "account_id", "id"),
    comment="Append-only. The movements of points, account by account.",
)

ledger_holds = Table(
    "ledger_holds",
    tenant_metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("idempotency_key", Text, nullable=False, unique=True),
    Column("account_id", ForeignKey("tenant.ledger_accounts.id"), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("state", Text, nullable=False, server_default=HoldState.OPEN.value),
    Column("memo", Text),
    Column(
        "transaction_id",
        ForeignKey("tenant.ledger_transactions.id"),
        comment="The transaction that posted it",
    ),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("closed_at", DateTime(timezone=True)),
    CheckConstraint("amount > 0", name="amount"),
    CheckConstraint("state IN ('open', 'posted', 'voided')", name="state"),
    Index("ix_ledger_holds_account_id_open", "account_id", postgresql_where=text("state = 'open'")),
    comment="Points reserved (a sign-up's cost), then posted in full or part, or voided.",
)

ledger_lots = Table(
    "ledger_lots",
    tenant_metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("account_id", ForeignKey("tenant.ledger_accounts.id"), nullable=False),
    Column("transaction_id", BigInteger, comment="The credit it came from (null: carried over)"),
    Column("amount", BigInteger, nullable=False),
    Column("remaining", BigInteger, nullable=False),
    Column("expires_on", Date, comment="Last day it may be spent; null: never"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("amount > 0 AND remaining >= 0 AND remaining <= amount", name="remaining"),
    Index(
        "ix_ledger_lots_open",
        "account_id",
        "expires_on",
        "id",
        postgresql_where=text("remaining > 0"),
    ),
    comment="Pupils' points by when they expire; debits take the soonest first.",
)

county_settings = Table(
    "county_settings",
    tenant_metadata,
    Column("key", Text, primary_key=True),
    Column("value", JSONB, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    comment="The county's own settings, e.g. points_expiry_years.",
)
