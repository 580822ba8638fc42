"""The points ledger (积分): accounts, transactions and their postings, and holds.

Double-entry: every transaction's postings sum to zero. Transactions and postings are
append-only (the trigger of s0007 refuses UPDATE, DELETE and TRUNCATE to everyone, and the
county role has no such grant either); a correction is a reversing transaction. An account
keeps its balance and its held amount, changed only in the transaction that posts (the row
is locked first), and a pupil's account can never go below zero or hold more than it has
(check constraints: the database refuses it, not only the code).

Revision ID: t0011
Revises: t0010
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations.helpers import SHARED, TENANT, current_schema

revision: str = "t0011"
down_revision: str | Sequence[str] | None = "t0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = ("ledger_transactions", "ledger_postings")


def _ts(name: str, **kw: object) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), **kw)


def _fk(column: str, table: str, target: str, **kw: object) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        column,
        sa.BigInteger,
        sa.ForeignKey(f"{TENANT}.{target}.id", name=f"fk_{table}_{column}_{target}"),
        **kw,
    )


def upgrade() -> None:
    op.create_table(
        "ledger_accounts",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column(
            "owner_id", sa.BigInteger, comment="The pupil, activity or partner it belongs to"
        ),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("balance", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("held", sa.BigInteger, nullable=False, server_default="0"),
        _ts("created_at", nullable=False, server_default=sa.text("now()")),
        sa.CheckConstraint(
            "kind IN ('pool', 'pupil', 'activity', 'partner', 'sink')",
            name="ck_ledger_accounts_kind",
        ),
        sa.CheckConstraint(
            "kind <> 'pupil' OR (balance >= 0 AND held >= 0 AND held <= balance)",
            name="ck_ledger_accounts_pupil_not_negative",
        ),
        sa.UniqueConstraint(
            "kind",
            "owner_id",
            name="uq_ledger_accounts_kind_owner_id",
            postgresql_nulls_not_distinct=True,  # one pool: its owner is null
        ),
        schema=TENANT,
        comment="Points accounts: the county's issuing pool, each pupil, activities, partners, sinks.",
    )
    op.create_table(
        "ledger_transactions",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("idempotency_key", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False, comment="award, spend, refund, reversal, ..."),
        sa.Column("memo", sa.Text),
        _fk("reverses_id", "ledger_transactions", "ledger_transactions"),
        sa.Column("created_by", sa.Text, comment="Who (user:<id>, api_key:<id>, job)"),
        _ts("created_at", nullable=False, server_default=sa.text("now()")),
        sa.UniqueConstraint("idempotency_key", name="uq_ledger_transactions_idempotency_key"),
        sa.UniqueConstraint("reverses_id", name="uq_ledger_transactions_reverses_id"),
        schema=TENANT,
        comment="Append-only. One business event; its postings sum to zero.",
    )
    op.create_table(
        "ledger_postings",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        _fk("transaction_id", "ledger_postings", "ledger_transactions", nullable=False),
        _fk("account_id", "ledger_postings", "ledger_accounts", nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False, comment="Signed: + credits the account"),
        _ts("created_at", nullable=False, server_default=sa.text("now()")),
        sa.CheckConstraint("amount <> 0", name="ck_ledger_postings_amount"),
        schema=TENANT,
        comment="Append-only. The movements of points, account by account.",
    )
    op.create_index(
        "ix_ledger_postings_transaction_id", "ledger_postings", ["transaction_id"], schema=TENANT
    )
    op.create_index(
        "ix_ledger_postings_account_id", "ledger_postings", ["account_id", "id"], schema=TENANT
    )
    op.create_table(
        "ledger_holds",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("idempotency_key", sa.Text, nullable=False),
        _fk("account_id", "ledger_holds", "ledger_accounts", nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("state", sa.Text, nullable=False, server_default="open"),
        sa.Column("memo", sa.Text),
        _fk(
            "transaction_id",
            "ledger_holds",
            "ledger_transactions",
            comment="The transaction that posted it",
        ),
        _ts("created_at", nullable=False, server_default=sa.text("now()")),
        _ts("closed_at"),
        sa.CheckConstraint("amount > 0", name="ck_ledger_holds_amount"),
        sa.CheckConstraint("state IN ('open', 'posted', 'voided')", name="ck_ledger_holds_state"),
        sa.UniqueConstraint("idempotency_key", name="uq_ledger_holds_idempotency_key"),
        schema=TENANT,
        comment="Points reserved (a sign-up's cost), then posted in full or part, or voided.",
    )
    op.create_index(
        "ix_ledger_holds_account_id_open",
        "ledger_holds",
        ["account_id"],
        schema=TENANT,
        postgresql_where=sa.text("state = 'open'"),
    )
    schema = current_schema()
    role = (
        op.get_bind()
        .exec_driver_sql(
            f"SELECT role_name FROM {SHARED}.tenants WHERE schema_name = %(s)s", {"s": schema}
        )
        .scalar()
    )
    for table in APPEND_ONLY:
        op.execute(
            f'CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON "{schema}".{table}'
            f" FOR EACH ROW EXECUTE FUNCTION {SHARED}.append_only()"
        )
        op.execute(
            f'CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON "{schema}".{table}'
            f" FOR EACH STATEMENT EXECUTE FUNCTION {SHARED}.append_only()"
        )
        if role:
            op.execute(f'REVOKE UPDATE, DELETE, TRUNCATE ON "{schema}".{table} FROM "{role}"')


def downgrade() -> None:
    for table in ("ledger_holds", "ledger_postings", "ledger_transactions", "ledger_accounts"):
        op.drop_table(table, schema=TENANT)
