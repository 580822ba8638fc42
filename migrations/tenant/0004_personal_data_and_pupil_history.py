"""Pupils' ID numbers (encrypted, found by keyed hash) and pinyin for search, guardians'
phones (the same), the history of pupils' status, and the once-a-year grade promotion.

Revision ID: t0004
Revises: t0003
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations.helpers import TENANT, current_schema

revision: str = "t0004"
down_revision: str | Sequence[str] | None = "t0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    add = [
        sa.Column("id_number_enc", sa.Text, comment="ID number, encrypted"),
        sa.Column("id_number_hash", sa.LargeBinary, comment="Keyed hash of the ID number"),
        sa.Column("name_pinyin", sa.Text, comment="Full pinyin of the name, for search"),
        sa.Column("name_initials", sa.Text, comment="Pinyin initials of the name, for search"),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("now()"),
        ),
    ]
    for column in add:
        op.add_column("pupils", column, schema=TENANT)
    op.create_unique_constraint(
        "uq_pupils_id_number_hash", "pupils", ["id_number_hash"], schema=TENANT
    )
    for column in ("name_pinyin", "name_initials"):
        op.create_index(
            f"ix_pupils_{column}",
            "pupils",
            [column],
            schema=TENANT,
            postgresql_ops={column: "text_pattern_ops"},
        )
    _fill_pinyin()

    op.add_column(
        "guardians",
        sa.Column("phone_enc", sa.Text, comment="Phone number, encrypted"),
        schema=TENANT,
    )
    op.add_column(
        "guardians",
        sa.Column("phone_hash", sa.LargeBinary, comment="Keyed hash of the phone number"),
        schema=TENANT,
    )
    op.create_index("ix_guardians_phone_hash", "guardians", ["phone_hash"], schema=TENANT)

    op.create_table(
        "pupil_status_changes",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column(
            "pupil_id",
            sa.BigInteger,
            sa.ForeignKey(f"{TENANT}.pupils.id", name="fk_pupil_status_changes_pupil_id_pupils"),
            nullable=False,
        ),
        sa.Column("from_status", sa.Text),
        sa.Column("to_status", sa.Text, nullable=False),
        sa.Column(
            "on_date", sa.Date, nullable=False, comment="When it took effect (入队, 离队 ...)"
        ),
        sa.Column("batch", sa.Text),
        sa.Column("note", sa.Text),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("now()"),
        ),
        schema=TENANT,
        comment="Every change of a pupil's status, so any figure can be asked as of a date.",
    )
    op.create_index(
        "ix_pupil_status_changes_pupil_id", "pupil_status_changes", ["pupil_id"], schema=TENANT
    )
    op.create_table(
        "grade_promotions",
        sa.Column("academic_year", sa.Integer, primary_key=True, comment="Its first calendar year"),
        sa.Column(
            "promoted_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("now()"),
        ),
        sa.Column("pupils", sa.Integer, nullable=False),
        sa.Column("squadrons", sa.Integer, nullable=False),
        schema=TENANT,
        comment="The start-of-year promotion, done once per academic year.",
    )


def _fill_pinyin() -> None:
    """Pupils written before this migration get their pinyin (computed here, in batches)."""
    from pypinyin import Style, lazy_pinyin

    conn = op.get_bind()
    schema = current_schema()
    rows = conn.exec_driver_sql(f'SELECT id, name FROM "{schema}".pupils').fetchall()
    values = []
    for pk, name in rows:
        plain = name.replace("·", "")
        full = "".join(
            s for s in lazy_pinyin(plain, errors="ignore") if s.isascii() and s.isalpha()
        )
        initials = "".join(
            i
            for i in lazy_pinyin(plain, style=Style.FIRST_LETTER, errors="ignore")
            if i.isascii() and i.isalpha()
        )
        values.append({"id": pk, "p": full.lower(), "i": initials.lower()})
    for start in range(0, len(values), 5000):
        conn.execute(
            sa.text(
                f'UPDATE "{schema}".pupils SET name_pinyin = :p, name_initials = :i WHERE id = :id'
            ),
            values[start : start + 5000],
        )


def downgrade() -> None:
    op.drop_table("grade_promotions", schema=TENANT)
    op.drop_table("pupil_status_changes", schema=TENANT)
    op.drop_index("ix_guardians_phone_hash", "guardians", schema=TENANT)
    op.drop_column("guardians", "phone_hash", schema=TENANT)
    op.drop_column("guardians", "phone_enc", schema=TENANT)
    for column in ("updated_at", "name_initials", "name_pinyin", "id_number_hash", "id_number_enc"):
        op.drop_column("pupils", column, schema=TENANT)
