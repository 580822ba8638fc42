"""A guardian's separate consent to share a pupil's partner view in a pairing with another
county (PIPL art. 23).

Revision ID: t0020
Revises: t0019
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations.helpers import TENANT

revision: str = "t0020"
down_revision: str | Sequence[str] | None = "t0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pairing_consents",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column(
            "pupil_id",
            sa.BigInteger,
            sa.ForeignKey(f"{TENANT}.pupils.id", name="fk_pairing_consents_pupil_id_pupils"),
            nullable=False,
        ),
        sa.Column(
            "guardian_id",
            sa.BigInteger,
            sa.ForeignKey(
                f"{TENANT}.guardians.id", name="fk_pairing_consents_guardian_id_guardians"
            ),
            nullable=False,
        ),
        sa.Column("notice_version", sa.Text, nullable=False),
        sa.Column(
            "given_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")
        ),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True)),
        schema=TENANT,
        comment="A guardian's separate consent to share the pupil's partner view across "
        "counties (PIPL art. 23).",
    )
    op.create_index("ix_pairing_consents_pupil_id", "pairing_consents", ["pupil_id"], schema=TENANT)


def downgrade() -> None:
    op.drop_table("pairing_consents", schema=TENANT)
