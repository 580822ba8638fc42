"""Organisation units of one county (tenant schema)."""

from __future__ import annotations

import enum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Table,
    Text,
    func,
    text,
)

from domain.types import LTree
from tenants.metadata import tenant_metadata


class UnitKind(enum.StrEnum):
    COUNTY = "county"
    TOWNSHIP = "township"
    COMMUNITY = "community"
    BRIGADE = "brigade"
    SQUADRON = "squadron"
    TEAM = "team"


class Area(enum.StrEnum):
    URBAN = "urban"
    RURAL = "rural"


class SchoolKind(enum.StrEnum):
    ORDINARY = "ordinary"
    MIGRANT = "migrant"  # 新居民子女学校
    DEMONSTRATION = "demonstration"  # 红领巾示范校


def _in(column: str, values: type[enum.StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


units = Table(
    "units",
    tenant_metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("parent_id", ForeignKey("tenant.units.id"), index=True),
    Column("kind", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("path", LTree, nullable=False, unique=True, comment="ltree path, one label per level"),
    Column("area", Text, comment="urban or rural"),
    Column("school_kind", Text, comment="brigades only: ordinary, migrant, demonstration"),
    Column("grade", Integer, comment="squadrons only: school grade 1-9"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("archived_at", DateTime(timezone=True)),
    CheckConstraint(_in("kind", UnitKind), name="kind"),
    CheckConstraint(f"area IS NULL OR {_in('area', Area)}", name="area"),
    CheckConstraint(f"school_kind IS NULL OR {_in('school_kind', SchoolKind)}", name="school_kind"),
    CheckConstraint("(kind = 'county') = (parent_id IS NULL)", name="one_root"),
    Index("ix_units_path_gist", "path", postgresql_using="gist"),
    # The open schools of a county, in path order (the province's pairing coordination).
    Index(
        "ix_units_open_schools",
        "path",
        postgresql_where=text("kind = 'brigade' AND archived_at IS NULL"),
    ),
    comment="County, townships/communities, school brigades, squadrons and teams.",
)
