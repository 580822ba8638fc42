"""Guardians bind their children: one-time binding codes, consents with the notice's version,
and bindings that end (unbinding) rather than vanish.

Revision ID: t0005
Revises: t0004
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations.helpers import TENANT

revision: str = "t0005"
down_revision: str | Sequence[str] | None = "t0004"
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
    op.add_column(
        "guardian_bindings",
        sa.Column("verified_by", sa.Text, comment="code, id_number, or school"),
        schema=TENANT,
    )
    op.add_column(
        "guardian_bindings",
        _ts("ended_at", comment="Unbound; bound again clears it"),
        schema=TENANT,
    )
    op.create_table(
        "binding_codes",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        _fk("pupil_id", "binding_codes", "pupils"),
        sa.Column("code_hash", sa.LargeBinary, nullable=False),
        _ts("issued_at", nullable=False, server_default=sa.text("now()")),
        _ts("expires_at", nullable=False),
        _ts("used_at"),
        sa.Column("issued_by", sa.BigInteger, comment="User who issued it"),
        sa.UniqueConstraint("code_hash", name="uq_binding_codes_code_hash"),
        schema=TENANT,
        comment="One-time codes a school gives a family to bind their child.",
    )
    op.create_index("ix_binding_codes_pupil_id", "binding_codes", ["pupil_id"], schema=TENANT)
    op.create_table(
        "guardian_consents",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        _fk("guardian_id", "guardian_consents", "guardians"),
        _fk("pupil_id", "guardian_consents", "pupils"),
        sa.Column(
            "purpose", sa.Text, nullable=False, comment="roster; later e.g. cross_county_pairing"
        ),
        sa.Column("notice_version", sa.Text, nullable=False),
        _ts("consented_at", nullable=False, server_default=sa.text("now()")),
        _ts("withdrawn_at"),
        schema=TENANT,
        comment="A guardian's consent (PIPL art. 31 for children under 14), with the notice's version.",
    )
    op.create_index(
        "ix_guardian_consents_guardian_id", "guardian_consents", ["guardian_id"], schema=TENANT
    )
    op.create_index(
        "ix_guardian_consents_pupil_id", "guardian_consents", ["pupil_id"], schema=TENANT
    )


def downgrade() -> None:
    op.drop_table("guardian_consents", schema=TENANT)
    op.drop_table("binding_codes", schema=TENANT)
    op.drop_column("guardian_bindings", "ended_at", schema=TENANT)
    op.drop_column("guardian_bindings", "verified_by", schema=TENANT)
