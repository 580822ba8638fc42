"""The badge catalogue of one county (tenant schema)."""

from __future__ import annotations

import enum

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    SmallInteger,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)

from tenants.metadata import tenant_metadata


class BadgeLevel(enum.StrEnum):
    BASIC = "basic"  # 基础章
    STAR1 = "star1"  # 一星章, awarded by the squadron
    STAR2 = "star2"  # 二星章, by the school
    STAR3 = "star3"  # 三星章, by the county
    STAR4 = "star4"  # 四星章, by the province
    STAR5 = "star5"  # 五星章, national
    SPECIAL = "special"  # 特色章 of the county
    COLLECTIVE = "collective"  # 集体章 for squadrons and brigades


badges = Table(
    "badges",
    tenant_metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("code", Text, nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("level", Text, nullable=False),
    Column("family", Text, comment="basic badges: hongqi, hongxing or huoju"),
    Column("sort_order", SmallInteger, nullable=False),
    Column("criteria", Text),
    Column("points", Integer, nullable=False, server_default="0"),
    Column("national", Boolean, nullable=False, server_default="false"),
    Column("icon", Text, comment="Icon reference (URL or key)"),
    Column("academic_year", Integer, comment="Special badges: the year it is awarded in"),
    CheckConstraint(
        "level IN (" + ", ".join(repr(v.value) for v in BadgeLevel) + ")", name="level"
    ),
)


class AwardState(enum.StrEnum):
    NOMINATED = "nominated"
    REVIEWED = "reviewed"
    NOTICED = "noticed"  # under public notice (公示)
    AWARDED = "awarded"
    REJECTED = "rejected"
    REVOKED = "revoked"


LIVE = (AwardState.NOMINATED, AwardState.REVIEWED, AwardState.NOTICED, AwardState.AWARDED)

points_rules = Table(
    "points_rules",
    tenant_metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("subject", Text, nullable=False, comment="badge:<code> or level:<level>"),
    Column("points", Integer, nullable=False),
    Column("version", Integer, nullable=False),
    Column("effective_from", Date, nullable=False),
    Column("created_by", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("points >= 0", name="points"),
    UniqueConstraint("subject", "version"),
    comment="Versioned points rules of the county; added, never edited.",
)

badge_awards = Table(
    "badge_awards",
    tenant_metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("badge_id", ForeignKey("tenant.badges.id"), nullable=False),
    Column("pupil_id", ForeignKey("tenant.pupils.id"), index=True),
    Column("unit_id", ForeignKey("tenant.units.id"), comment="Collective badges: the squadron or brigade"),
    Column("academic_year", Integer, nullable=False),
    Column("term", SmallInteger, comment="Basic badges: 1 or 2"),
    Column("state", Text, nullable=False),
    Column("evidence", Text),
    Column("conferred_by", Text, comment="Star four and five: who conferred it"),
    Column("nominated_by", Text),
    Column("nominated_at", DateTime(timezone=True)),
    Column("reviewed_by", Text),
    Column("reviewed_at", DateTime(timezone=True)),
    Column("notice_until", Date, comment="Last day of the public notice (公示)"),
    Column("awarded_by", Text),
    Column("awarded_at", DateTime(timezone=True)),
    Column("points", Integer, comment="Points granted, by `rule_id`"),
    Column("rule_id", ForeignKey("tenant.points_rules.id")),
    Column("transaction_id", BigInteger, comment="The ledger transaction of its points"),
    Column("rejected_reason", Text),
    Column("revoked_by", Text),
    Column("revoked_at", DateTime(timezone=True)),
    Column("revoked_reason", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint(
        "state IN (" + ", ".join(repr(s.value) for s in AwardState) + ")", name="state"
    ),
    CheckConstraint("(pupil_id IS NULL) <> (unit_id IS NULL)", name="one_holder"),
    CheckConstraint("term IS NULL OR term IN (1, 2)", name="term"),
    Index(
        "uq_badge_awards_live",
        "badge_id",
        text("coalesce(pupil_id, -unit_id)"),
        "academic_year",
        text("coalesce(term, 0)"),
        unique=True,
        postgresql_where=text("state NOT IN ('rejected', 'revoked')"),
    ),
    comment="Badge awards and candidacies (star levels one to three are selected).",
)  # fmt: skip

award_objections = Table(
    "award_objections",
    tenant_metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("award_id", ForeignKey("tenant.badge_awards.id"), nullable=False, index=True),
    Column("content", Text, nullable=False),
    Column("raised_by", Text, comment="Who objected, as recorded"),
    Column("raised_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("upheld", Boolean),
    Column("resolution", Text),
    Column("resolved_by", Text),
    Column("resolved_at", DateTime(timezone=True)),
    comment="Objections raised during a public notice (公示), and their resolution.",
)

badge_quotas = Table(
    "badge_quotas",
    tenant_metadata,
    Column("level", Text, primary_key=True),
    Column("percent", SmallInteger, nullable=False),
    CheckConstraint("percent BETWEEN 0 AND 100", name="percent"),
    comment="Share of the candidates a star level may be awarded to (the county's setting).",
)
