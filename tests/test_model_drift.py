"""The tables declared in code and the tables the migrations create must not drift apart."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, MetaData

from migrations.models import shared_metadata, tenant_metadata
from tenants.metadata import SHARED


def _at_schema(metadata: MetaData, schema: str) -> MetaData:
    copy = MetaData(naming_convention=metadata.naming_convention)
    for table in metadata.tables.values():
        table.to_metadata(copy, schema=schema)
    return copy


def _diff(engine: Engine, metadata: MetaData, schema: str) -> list[Any]:
    def only_this_schema(name: str | None, type_: str, parent: dict[str, Any]) -> bool:
        if type_ == "schema":
            return name == schema
        return not (type_ == "table" and name == "alembic_version")

    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "include_schemas": True,
                "include_name": only_this_schema,
                "compare_type": True,
            },
        )
        return compare_metadata(context, metadata)


def test_county_schema_matches_the_declared_tables(engine: Engine, make_county: Any) -> None:
    county = make_county()
    diff = _diff(engine, _at_schema(tenant_metadata, county.schema_name), county.schema_name)
    assert diff == [], "\n".join(map(str, diff))


def test_shared_schema_matches_the_declared_tables(engine: Engine) -> None:
    diff = _diff(engine, shared_metadata, SHARED)
    assert diff == [], "\n".join(map(str, diff))
