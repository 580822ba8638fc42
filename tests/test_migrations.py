"""A migration added later reaches every county; a failing county is reported, the rest go on.

These tests run in a database of their own (cloned from the same template as the worker's), so
the 50 counties here are the only ones `upgrade_all` sees, and the extra test migration never
reaches a county that other tests later migrate without it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL

from migrations.runner import Migrator, upgrade_all
from redscarf.database import make_engine
from redscarf.settings import Settings
from tenants.codes import schema_name
from tenants.provisioning import create_county
from tests.conftest import _drop_database, _prepare_database

COUNTIES = 50
NEW_REVISION = "t9001_test_short_name"

# Adds a column and a CHECK that existing data may violate: a county whose units break the
# rule cannot migrate until its data is fixed.
MIGRATION = '''
"""Test migration: units get a short name, and a name of at most 40 characters."""

import sqlalchemy as sa
from alembic import op

from migrations.helpers import TENANT

revision = "{revision}"
down_revision = "{down_revision}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("units", sa.Column("short_name", sa.Text), schema=TENANT)
    op.create_check_constraint(
        "ck_units_name_length", "units", "char_length(name) <= 40", schema=TENANT
    )


def downgrade() -> None:
    op.drop_constraint("ck_units_name_length", "units", schema=TENANT)
    op.drop_column("units", "short_name", schema=TENANT)
'''


@pytest.fixture(scope="module")
def own_database(server_url: str, worker_id: str) -> Iterator[URL]:
    name = f"{os.environ.get('REDSCARF_TEST_DB_PREFIX', 'rs_test')}_{worker_id}mig"
    yield _prepare_database(server_url, name)
    with psycopg.connect(server_url, autocommit=True) as conn:
        _drop_database(conn, name)


@pytest.fixture(scope="module")
def own_engine(own_database: URL) -> Iterator[Engine]:
    eng = make_engine(own_database, Settings(), pool_size=2)
    yield eng
    eng.dispose()


@pytest.fixture(scope="module")
def counties(own_engine: Engine) -> list[str]:
    """50 counties onboarded one after another, as an operator's script would."""
    migrator = Migrator()
    codes = [f"52{n // 99 + 1:02d}{n % 99 + 1:02d}" for n in range(COUNTIES)]
    started = time.perf_counter()
    for code in codes:
        create_county(own_engine, migrator, code, f"迁移测试县{code}", "52")
    per_county = (time.perf_counter() - started) / COUNTIES
    print(f"\nonboarded {COUNTIES} counties, {per_county:.3f} s each")
    assert per_county < 2.0  # the onboarding target, with a wide margin on a loaded machine
    return codes


@pytest.fixture(scope="module")
def new_migration(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("extra_migrations")
    (directory / f"{NEW_REVISION}.py").write_text(
        MIGRATION.format(revision=NEW_REVISION, down_revision=Migrator().head("tenant")),
        encoding="utf-8",
    )
    return directory


def _version_in_schema(engine: Engine, code: str) -> str:
    with engine.connect() as conn:
        return conn.execute(
            text(f'SELECT version_num FROM "{schema_name(code)}".alembic_version')
        ).scalar_one()


def _registry(engine: Engine, code: str) -> tuple[str | None, str | None]:
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT schema_version, migration_error FROM shared.tenants WHERE code = :c"),
            {"c": code},
        ).one()
    return row.schema_version, row.migration_error


def _has_column(engine: Engine, code: str, table: str, column: str) -> bool:
    with engine.connect() as conn:
        return bool(
            conn.execute(
                text(
                    "SELECT 1 FROM information_schema.columns"
                    " WHERE table_schema = :s AND table_name = :t AND column_name = :c"
                ),
                {"s": schema_name(code), "t": table, "c": column},
            ).first()
        )


def _add_unit(engine: Engine, code: str, name: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                f'INSERT INTO "{schema_name(code)}".units (kind, name, path)'
                " VALUES ('county', :n, text2ltree(:p))"
            ),
            {"n": name, "p": f"c{code}"},
        )


def test_a_new_migration_reaches_every_county_and_a_failing_one_is_resumed(
    own_database: URL, own_engine: Engine, counties: list[str], new_migration: Path
) -> None:
    old_head = Migrator().head("tenant")
    # Given 50 counties at head, one of which holds a unit the new migration's CHECK refuses
    broken = counties[17]
    _add_unit(own_engine, broken, "名" * 50)
    _add_unit(own_engine, counties[3], "城关镇")

    # When the new migration is applied to all counties in two worker processes
    started = time.perf_counter()
    report = upgrade_all(own_database, processes=2, extra_version_locations=[new_migration])
    elapsed = time.perf_counter() - started
    print(f"\nupgrade_all over {COUNTIES} counties: {elapsed:.2f} s")

    # Then exactly the broken county is reported, with its error recorded
    assert report.head == NEW_REVISION
    assert report.total == COUNTIES
    assert report.already_at_head == 0
    assert list(report.failed) == [schema_name(broken)]
    assert "ck_units_name_length" in report.failed[schema_name(broken)]
    assert sorted(report.upgraded) == sorted(schema_name(c) for c in counties if c != broken)
    assert not report.ok
    version, error = _registry(own_engine, broken)
    assert version == old_head
    assert error is not None
    assert "ck_units_name_length" in error

    # and it is untouched: its old version, and not even the column added before the CHECK
    assert _version_in_schema(own_engine, broken) == old_head
    assert not _has_column(own_engine, broken, "units", "short_name")

    # while every other county is at the new head, in its own version table and the registry
    for code in counties:
        if code != broken:
            assert _version_in_schema(own_engine, code) == NEW_REVISION
            assert _registry(own_engine, code) == (NEW_REVISION, None)
            assert _has_column(own_engine, code, "units", "short_name")

    # When the data is fixed and the upgrade is run again (in this process, this time)
    with own_engine.begin() as conn:
        conn.execute(text(f"UPDATE \"{schema_name(broken)}\".units SET name = '城关镇'"))
    again = upgrade_all(own_database, processes=1, extra_version_locations=[new_migration])

    # Then only the broken county is migrated; the others are already at head
    assert again.ok
    assert again.upgraded == [schema_name(broken)]
    assert again.already_at_head == COUNTIES - 1
    assert _version_in_schema(own_engine, broken) == NEW_REVISION
    assert _registry(own_engine, broken) == (NEW_REVISION, None)

    # When there is nothing left to do
    started = time.perf_counter()
    idle = upgrade_all(own_database, processes=2, extra_version_locations=[new_migration])
    elapsed = time.perf_counter() - started

    # Then every county is skipped with one query, and no worker process is started
    assert idle.ok
    assert idle.upgraded == []
    assert idle.already_at_head == COUNTIES
    assert elapsed < 5.0, f"a no-op upgrade of {COUNTIES} counties took {elapsed:.2f} s"

    # and the new CHECK now guards every county
    with pytest.raises(Exception, match="ck_units_name_length"), own_engine.begin() as conn:
        conn.execute(
            text(f'UPDATE "{schema_name(counties[3])}".units SET name = :n'), {"n": "名" * 50}
        )
