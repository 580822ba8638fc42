"""A county's registered queries: the operations its own apps may send once the county locks
the API to them (an allow-list, issue 9), also served by their hash (persisted queries)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, String, Table, Text, func

from tenants.metadata import tenant_metadata

registered_queries = Table(
    "registered_queries",
    tenant_metadata,
    Column("hash", String(64), primary_key=True, comment="SHA-256 of the query text, hex"),
    Column("name", Text, nullable=False, comment="What the app calls it, e.g. 家长端-积分"),
    Column("query", Text, nullable=False),
    Column("registered_by", BigInteger, comment="The user (shared.users) who registered it"),
    Column("registered_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    comment="Operations the county's apps may send while its allow-list is enforced.",
)
