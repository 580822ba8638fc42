"""Points that expire by academic year, when the county says so.

Every credit to a pupil's account is a lot with the day it expires (null: never); a debit
takes from the lots that expire soonest. `county_settings` holds the county's rule
(`points_expiry_years`). Existing balances become one lot each that never expires.

Revision ID: t0015
Revises: t0014
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from migrations.helpers import TENANT, current_schema

revision: str = "t0015"
down_revision: str | Sequence[str] | None = "t0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ledger_lots",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column(
            "account_id",
            sa.BigInteger,
            sa.ForeignKey(
                f"{TENANT}.ledger_accounts.id", name="fk_ledger_lots_account_id_ledger_accounts"
            ),
            nullable=False,
        ),
        sa.Column(
            "transaction_id", sa.BigInteger, comment="The credit it came from (null: carried over)"
        ),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("remaining", sa.BigInteger, nullable=False),
        sa.Column("expires_on", sa.Date, comment="Last day it may be spent; null: never"),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("now()"),
        ),
        sa.CheckConstraint(
            "amount > 0 AND remaining >= 0 AND remaining <= amount", name="ck_ledger_lots_remaining"
        ),
        schema=TENANT,
        comment="Pupils' points by when they expire; debits take the soonest first.",
    )
    op.create_index(
        "ix_ledger_lots_open",
        "ledger_lots",
        ["account_id", "expires_on", "id"],
        schema=TENANT,
        postgresql_where=sa.text("remaining > 0"),
    )
    op.create_table(
        "county_settings",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("value", JSONB, nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("now()"),
        ),
        schema=TENANT,
        comment="The county's own settings, e.g. points_expiry_years.",
    )
    schema = current_schema()
    op.execute(
        f'INSERT INTO "{schema}".ledger_lots (account_id, amount, remaining)'
        f' SELECT id, balance, balance FROM "{schema}".ledger_accounts'
        " WHERE kind = 'pupil' AND balance > 0"
    )


def downgrade() -> None:
    op.drop_table("county_settings", schema=TENANT)
    op.drop_table("ledger_lots", schema=TENANT)
