"""Exchange (兑换): partners (社会单位), their items with a points price and limited stock, and
redemptions, each with a pickup code the partner verifies once.

Revision ID: t0017
Revises: t0016
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations.helpers import TENANT

revision: str = "t0017"
down_revision: str | Sequence[str] | None = "t0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, **kw: object) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), **kw)


def _fk(column: str, table: str, target: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        column,
        sa.BigInteger,
        sa.ForeignKey(f"{TENANT}.{target}.id", name=f"fk_{table}_{column}_{target}"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "partners",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("contact", sa.Text),
        _ts("created_at", nullable=False, server_default=sa.text("now()")),
        schema=TENANT,
        comment="Partners (社会单位) who donate items for points.",
    )
    op.create_table(
        "exchange_items",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        _fk("partner_id", "exchange_items", "partners"),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("price", sa.Integer, nullable=False),
        sa.Column("stock", sa.Integer, nullable=False),
        sa.Column("per_pupil", sa.Integer, nullable=False, server_default="1"),
        _ts("valid_from", nullable=False),
        _ts("valid_until", nullable=False),
        sa.Column("pickup_days", sa.Integer, nullable=False, server_default="30"),
        sa.Column("state", sa.Text, nullable=False, server_default="on_sale"),
        _ts("created_at", nullable=False, server_default=sa.text("now()")),
        sa.CheckConstraint("price > 0", name="ck_exchange_items_price"),
        sa.CheckConstraint("stock >= 0", name="ck_exchange_items_stock"),
        sa.CheckConstraint("per_pupil > 0 AND pickup_days > 0", name="ck_exchange_items_limits"),
        sa.CheckConstraint("state IN ('on_sale', 'withdrawn')", name="ck_exchange_items_state"),
        schema=TENANT,
        comment="Items for points: stock never below zero (the database refuses it).",
    )
    op.create_table(
        "redemptions",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        _fk("item_id", "redemptions", "exchange_items"),
        _fk("pupil_id", "redemptions", "pupils"),
        sa.Column("code_hash", sa.LargeBinary, nullable=False),
        sa.Column("state", sa.Text, nullable=False, server_default="issued"),
        sa.Column("transaction_id", sa.BigInteger, comment="The points paid"),
        sa.Column("redeemed_by", sa.Text),
        _ts("created_at", nullable=False, server_default=sa.text("now()")),
        _ts("expires_at", nullable=False),
        _ts("verified_at"),
        sa.CheckConstraint(
            "state IN ('issued', 'verified', 'expired')", name="ck_redemptions_state"
        ),
        sa.UniqueConstraint("code_hash", name="uq_redemptions_code_hash"),
        schema=TENANT,
        comment="Redemptions: points paid, a pickup code issued, verified once by the partner.",
    )
    op.create_index(
        "ix_redemptions_item_id_pupil_id", "redemptions", ["item_id", "pupil_id"], schema=TENANT
    )


def downgrade() -> None:
    for table in ("redemptions", "exchange_items", "partners"):
        op.drop_table(table, schema=TENANT)
