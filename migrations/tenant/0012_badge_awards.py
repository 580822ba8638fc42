"""Badge awards and the selection that leads to star awards, points rules, and quotas.

- `badges` gains an icon reference and, for a county's special badges, an academic year.
- `points_rules`: versioned points of a badge (or of a badge level); an award keeps the rule
  version it was granted by. Rules are added, never edited.
- `badge_awards`: one row per award or candidacy. Star levels one to three are selected:
  nominated -> reviewed -> under public notice (公示) -> awarded, or rejected; other badges
  are awarded directly. An award grants its points once (ledger key `award:<id>`); a revoked
  award's points are taken back by a reversing transaction.
- `award_objections`: objections raised during the public notice, and how each was resolved.
- `badge_quotas`: the share of candidates a star level may go to (the county's setting).

Revision ID: t0012
Revises: t0011
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations.helpers import TENANT, current_schema

revision: str = "t0012"
down_revision: str | Sequence[str] | None = "t0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATES = "'nominated', 'reviewed', 'noticed', 'awarded', 'rejected', 'revoked'"
QUOTAS = {"star1": 30, "star2": 30, "star3": 20, "star4": 10}


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
    op.add_column(
        "badges", sa.Column("icon", sa.Text, comment="Icon reference (URL or key)"), schema=TENANT
    )
    op.add_column(
        "badges",
        sa.Column("academic_year", sa.Integer, comment="Special badges: the year it is awarded in"),
        schema=TENANT,
    )
    op.create_table(
        "points_rules",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("subject", sa.Text, nullable=False, comment="badge:<code> or level:<level>"),
        sa.Column("points", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("effective_from", sa.Date, nullable=False),
        sa.Column("created_by", sa.Text),
        _ts("created_at", nullable=False, server_default=sa.text("now()")),
        sa.CheckConstraint("points >= 0", name="ck_points_rules_points"),
        sa.UniqueConstraint("subject", "version", name="uq_points_rules_subject_version"),
        schema=TENANT,
        comment="Versioned points rules of the county; added, never edited.",
    )
    op.create_table(
        "badge_awards",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        _fk("badge_id", "badge_awards", "badges", nullable=False),
        _fk("pupil_id", "badge_awards", "pupils"),
        _fk(
            "unit_id", "badge_awards", "units", comment="Collective badges: the squadron or brigade"
        ),
        sa.Column("academic_year", sa.Integer, nullable=False),
        sa.Column("term", sa.SmallInteger, comment="Basic badges: 1 or 2"),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("evidence", sa.Text),
        sa.Column("conferred_by", sa.Text, comment="Star four and five: who conferred it"),
        sa.Column("nominated_by", sa.Text),
        _ts("nominated_at"),
        sa.Column("reviewed_by", sa.Text),
        _ts("reviewed_at"),
        sa.Column("notice_until", sa.Date, comment="Last day of the public notice (公示)"),
        sa.Column("awarded_by", sa.Text),
        _ts("awarded_at"),
        sa.Column("points", sa.Integer, comment="Points granted, by `rule_id`"),
        _fk("rule_id", "badge_awards", "points_rules"),
        sa.Column("transaction_id", sa.BigInteger, comment="The ledger transaction of its points"),
        sa.Column("rejected_reason", sa.Text),
        sa.Column("revoked_by", sa.Text),
        _ts("revoked_at"),
        sa.Column("revoked_reason", sa.Text),
        _ts("created_at", nullable=False, server_default=sa.text("now()")),
        sa.CheckConstraint(f"state IN ({STATES})", name="ck_badge_awards_state"),
        sa.CheckConstraint(
            "(pupil_id IS NULL) <> (unit_id IS NULL)", name="ck_badge_awards_one_holder"
        ),
        sa.CheckConstraint("term IS NULL OR term IN (1, 2)", name="ck_badge_awards_term"),
        schema=TENANT,
        comment="Badge awards and candidacies (star levels one to three are selected).",
    )
    # One live award (or candidacy) of a badge per holder, year and term.
    op.create_index(
        "uq_badge_awards_live",
        "badge_awards",
        ["badge_id", sa.text("coalesce(pupil_id, -unit_id)"), "academic_year",
         sa.text("coalesce(term, 0)")],
        unique=True,
        schema=TENANT,
        postgresql_where=sa.text("state NOT IN ('rejected', 'revoked')"),
    )  # fmt: skip
    op.create_index("ix_badge_awards_pupil_id", "badge_awards", ["pupil_id"], schema=TENANT)
    op.create_table(
        "award_objections",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        _fk("award_id", "award_objections", "badge_awards", nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("raised_by", sa.Text, comment="Who objected, as recorded"),
        _ts("raised_at", nullable=False, server_default=sa.text("now()")),
        sa.Column("upheld", sa.Boolean),
        sa.Column("resolution", sa.Text),
        sa.Column("resolved_by", sa.Text),
        _ts("resolved_at"),
        schema=TENANT,
        comment="Objections raised during a public notice (公示), and their resolution.",
    )
    op.create_index("ix_award_objections_award_id", "award_objections", ["award_id"], schema=TENANT)
    op.create_table(
        "badge_quotas",
        sa.Column("level", sa.Text, primary_key=True),
        sa.Column("percent", sa.SmallInteger, nullable=False),
        sa.CheckConstraint("percent BETWEEN 0 AND 100", name="ck_badge_quotas_percent"),
        schema=TENANT,
        comment="Share of the candidates a star level may be awarded to (the county's setting).",
    )
    values = ", ".join(f"('{level}', {percent})" for level, percent in QUOTAS.items())
    op.execute(f'INSERT INTO "{current_schema()}".badge_quotas (level, percent) VALUES {values}')


def downgrade() -> None:
    for table in ("badge_quotas", "award_objections", "badge_awards", "points_rules"):
        op.drop_table(table, schema=TENANT)
    op.drop_column("badges", "academic_year", schema=TENANT)
    op.drop_column("badges", "icon", schema=TENANT)
