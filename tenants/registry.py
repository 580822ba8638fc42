"""The shared registry: provinces, prefectures and county tenants."""

from __future__ import annotations

import enum

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    Enum,
    ForeignKey,
    String,
    Table,
    Text,
    func,
)

from tenants.metadata import shared_metadata


class TenantStatus(enum.StrEnum):
    PROVISIONING = "provisioning"
    ACTIVE = "active"
    ARCHIVED = "archived"


provinces = Table(
    "provinces",
    shared_metadata,
    Column("code", String(2), primary_key=True),
    Column("name", Text, nullable=False),
    comment="Province-level divisions (GB/T 2260 first two digits).",
)

prefectures = Table(
    "prefectures",
    shared_metadata,
    Column("code", String(4), primary_key=True),
    Column("province_code", ForeignKey("shared.provinces.code"), nullable=False),
    Column("name", Text, nullable=False),
    comment="Optional prefecture level (e.g. Jiaxing 3304) between province and county.",
)

tenants = Table(
    "tenants",
    shared_metadata,
    Column("code", String(6), primary_key=True, comment="County administrative code, GB/T 2260"),
    Column("name", Text, nullable=False),
    Column("province_code", ForeignKey("shared.provinces.code"), nullable=False, index=True),
    Column("prefecture_code", ForeignKey("shared.prefectures.code"), index=True),
    Column("schema_name", Text, nullable=False, unique=True),
    Column("role_name", Text, nullable=False, unique=True),
    Column(
        "status",
        Enum(TenantStatus, name="tenant_status", values_callable=lambda e: [m.value for m in e]),
        nullable=False,
    ),
    Column("schema_version", Text, comment="Alembic revision the county's schema is at"),
    Column("migration_error", Text, comment="Last failed migration, cleared on success"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("archived_at", DateTime(timezone=True)),
    CheckConstraint("code ~ '^[0-9]{6}$'", name="code_format"),
    CheckConstraint("left(code, 2) = province_code", name="code_in_province"),
    comment="One row per county committee; each owns a PostgreSQL schema and role.",
)
