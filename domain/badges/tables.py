"""The badge catalogue of one county (tenant schema)."""

from __future__ import annotations

import enum

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Identity,
    Integer,
    SmallInteger,
    Table,
    Text,
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
    CheckConstraint(
        "level IN (" + ", ".join(repr(v.value) for v in BadgeLevel) + ")", name="level"
    ),
)
