"""Test fixtures: a real PostgreSQL always.

`TEST_DATABASE_URL` names a server to use; without it an embedded PostgreSQL is started in
`.redscarf/test`. The shared schema is migrated once into a template database (named after a
hash of the migrations); each pytest-xdist worker clones its own database from it, so workers
never share a database and nothing is migrated twice.
"""

from __future__ import annotations

import hashlib
import itertools
import os
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import pytest_asyncio
from psycopg import sql
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from migrations.runner import MIGRATIONS_DIR, Migrator
from redscarf.database import (
    libpq_url,
    make_async_engine,
    make_engine,
    sqlalchemy_url,
    start_embedded,
)
from redscarf.settings import Settings
from tenants.provisioning import County, create_county
from tenants.roles import roles_of_database

ROOT = Path(__file__).resolve().parents[1]


def _server_url() -> str:
    return os.environ.get("TEST_DATABASE_URL") or start_embedded(ROOT / ".redscarf" / "test")


def _migrations_hash() -> str:
    digest = hashlib.sha256()
    for path in sorted(MIGRATIONS_DIR.rglob("*.py")):
        digest.update(path.relative_to(MIGRATIONS_DIR).as_posix().encode())
        digest.update(path.read_bytes())
    for path in sorted((ROOT / "tenants").glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def _drop_database(conn: psycopg.Connection, name: str) -> None:
    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    roles = conn.execute(
        "SELECT rolname FROM pg_roles WHERE rolname ~ %s", (roles_of_database(name),)
    ).fetchall()
    for (role,) in roles:
        conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


def _prepare_database(server: str, name: str) -> URL:
    """Clone this worker's database from the migrated template (made once per migration set)."""
    template = f"rs_tpl_{_migrations_hash()}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(hashtext('redscarf-test-template'))")
        try:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (template,)
            ).fetchone()
            if not exists:
                building = template + "_building"
                _drop_database(conn, building)
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(building)))
                engine = make_engine(sqlalchemy_url(server, building), Settings(), pool_size=1)
                with engine.begin() as c:
                    Migrator().upgrade_shared(c)
                engine.dispose()
                conn.execute(
                    sql.SQL("ALTER DATABASE {} RENAME TO {}").format(
                        sql.Identifier(building), sql.Identifier(template)
                    )
                )
            _drop_database(conn, name)
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(template)
                )
            )
        finally:
            conn.execute("SELECT pg_advisory_unlock(hashtext('redscarf-test-template'))")
    url = sqlalchemy_url(server, name)
    engine = make_engine(url, Settings(), pool_size=1)
    with engine.begin() as c:
        Migrator().upgrade_shared(c)  # the group role of *this* database, and its grants
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def server_url() -> str:
    return _server_url()


@pytest.fixture(scope="session")
def database_url(server_url: str, worker_id: str) -> Iterator[URL]:
    # Separate prefixes let several test runs share one server without touching each other.
    name = f"{os.environ.get('REDSCARF_TEST_DB_PREFIX', 'rs_test')}_{worker_id}"
    url = _prepare_database(server_url, name)
    yield url
    with psycopg.connect(server_url, autocommit=True) as conn:
        _drop_database(conn, name)


@pytest.fixture(scope="session")
def settings(database_url: URL, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        database_url=libpq_url(database_url),
        data_dir=tmp_path_factory.mktemp("data"),
        pool_size=5,
        max_overflow=5,
    )


@pytest.fixture(scope="session")
def db_env(settings: Settings) -> dict[str, str]:
    """Environment for a `redscarf` subprocess that should use this worker's database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REDSCARF_")}
    env["DATABASE_URL"] = settings.database_url or ""
    env.pop("BROKER_URL", None) if "BROKER_URL" not in os.environ else None
    return env


@pytest.fixture(scope="session")
def engine(database_url: URL, settings: Settings) -> Iterator[Engine]:
    eng = make_engine(database_url, settings)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def wide_engine(database_url: URL, settings: Settings) -> Iterator[Engine]:
    """An engine with room for many concurrent transactions (the concurrency tests)."""
    eng = make_engine(database_url, settings, pool_size=20, max_overflow=10)
    yield eng
    eng.dispose()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def async_engine(database_url: URL, settings: Settings) -> AsyncIterator[AsyncEngine]:
    eng = make_async_engine(database_url, settings)
    yield eng
    await eng.dispose()


@pytest.fixture(scope="session")
def migrator() -> Migrator:
    return Migrator()


_codes = itertools.count(1)


def new_county_code(province: str = "52") -> str:
    """A fresh, valid county code (unique within this test process)."""
    n = next(_codes)
    return f"{province}{n // 99 + 1:02d}{n % 99 + 1:02d}"


@pytest.fixture
def make_county(engine: Engine, migrator: Migrator) -> Callable[..., County]:
    """Onboard a new county with a fresh code, as `redscarf county create` does."""

    def make(name: str | None = None, province: str = "52") -> County:
        code = new_county_code(province)
        return create_county(engine, migrator, code, name or f"测试县{code}", province).county

    return make


@pytest.fixture
def count_rows(engine: Engine) -> Callable[[str], int]:
    def count(qualified_table: str) -> int:
        with engine.connect() as conn:
            return conn.execute(text(f"SELECT count(*) FROM {qualified_table}")).scalar_one()

    return count


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def gql(settings: Settings, async_engine: AsyncEngine) -> AsyncIterator[Any]:
    """A frontend's client of the real app (one per test module: the lifespan is not free)."""
    from redscarf.app import create_app
    from tests.graphql_client import GraphQLClient

    async with GraphQLClient(create_app(settings, async_engine=async_engine)) as client:
        yield client
