"""Isolation in depth: inside one county's transaction the database refuses every other county.

Each tenant transaction runs as the county's own role (`SET LOCAL ROLE`). These tests name the
other county's schema on purpose — as a buggy query or a wrong translate map would — and expect
PostgreSQL itself to refuse.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest
from sqlalchemy import Engine, func, insert, select, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from domain.org.tables import units
from migrations.runner import Migrator
from redscarf.database import make_engine
from redscarf.settings import Settings
from tenants.metadata import translate_map
from tenants.provisioning import create_county
from tenants.sessions import Tenant, load_tenant, tenant_connection
from tests.conftest import new_county_code


@dataclass(frozen=True)
class TwoCounties:
    a: Tenant
    b: Tenant


@pytest.fixture(scope="module")
def counties(engine: Engine, migrator: Migrator) -> TwoCounties:
    """County A and county B, each with one unit of its own (the root onboarding made)."""
    found = []
    for name in ("甲县", "乙县"):
        code = new_county_code()
        create_county(engine, migrator, code, name, "52")
        with engine.connect() as conn:
            tenant = load_tenant(conn, code)
        found.append(tenant)
    return TwoCounties(*found)


def _refused(exc: pytest.ExceptionInfo[DBAPIError]) -> bool:
    """The database's own refusal (SQLSTATE 42501), not an error of ours."""
    return isinstance(exc.value.orig, psycopg.errors.InsufficientPrivilege)


@pytest.mark.parametrize(
    "statement",
    [
        'SELECT * FROM "{b}".units',
        'SELECT count(*) FROM "{b}".pupils',
        "INSERT INTO \"{b}\".units (kind, name, path) VALUES ('county', 'x', 'x')",
        "UPDATE \"{b}\".units SET name = '被改'",
        'DELETE FROM "{b}".units',
        'DELETE FROM "{b}".badges',
        'TRUNCATE "{b}".units CASCADE',
        'SELECT * FROM "{b}".alembic_version',
    ],
)
def test_a_county_cannot_touch_another_countys_tables(
    engine: Engine, counties: TwoCounties, statement: str
) -> None:
    # Given a transaction of county A, when it names county B's schema, the database refuses
    with pytest.raises(DBAPIError) as caught, tenant_connection(engine, counties.a) as conn:
        conn.execute(text(statement.format(b=counties.b.schema_name)))
    assert _refused(caught), caught.value

    # and county B's data is as it was
    with engine.connect() as conn:
        names = conn.execute(text(f'SELECT name FROM "{counties.b.schema_name}".units')).scalars()
        assert list(names) == ["乙县"]


def test_a_wrong_translate_map_is_refused_too(engine: Engine, counties: TwoCounties) -> None:
    # Given county A's transaction, when an ORM statement is pointed at county B's schema
    with tenant_connection(engine, counties.a) as conn:
        wrong = conn.execution_options(schema_translate_map=translate_map(counties.b.schema_name))
        with pytest.raises(DBAPIError) as caught:
            wrong.execute(select(units))
    # then the database refuses it
    assert _refused(caught)


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT * FROM shared.tenants",
        "SELECT * FROM shared.provinces",
        "UPDATE shared.tenants SET name = 'x'",
        "SELECT * FROM pg_catalog.pg_authid",
    ],
)
def test_a_county_cannot_read_the_registry(
    engine: Engine, counties: TwoCounties, statement: str
) -> None:
    with pytest.raises(DBAPIError) as caught, tenant_connection(engine, counties.a) as conn:
        conn.execute(text(statement))
    assert _refused(caught)


def test_a_county_may_record_jobs_only_for_itself(engine: Engine, counties: TwoCounties) -> None:
    a_code, b_code = counties.a.code, counties.b.code
    insert_job = text("INSERT INTO shared.jobs (county_code, actor) VALUES (:c, 'isolation.test')")
    with tenant_connection(engine, counties.a) as conn:
        conn.execute(insert_job, {"c": a_code})

    # B's job is refused by row-level security
    with pytest.raises(DBAPIError) as caught, tenant_connection(engine, counties.a) as conn:
        conn.execute(insert_job, {"c": b_code})
    assert _refused(caught)

    # and A sees its own jobs only, even when B has some
    with tenant_connection(engine, counties.b) as conn:
        conn.execute(insert_job, {"c": b_code})
    with tenant_connection(engine, counties.a) as conn:
        seen = conn.execute(text("SELECT DISTINCT county_code FROM shared.jobs")).scalars().all()
    assert seen == [a_code]


def test_a_county_reads_and_writes_its_own_tables_through_the_translate_map(
    engine: Engine, counties: TwoCounties
) -> None:
    a = counties.a
    # Given county A's transaction, when it writes and reads with schema-less ORM statements
    with tenant_connection(engine, a) as conn:
        assert conn.execute(text("SELECT current_user")).scalar_one() == a.role_name
        county_id = conn.execute(select(units.c.id).where(units.c.kind == "county")).scalar_one()
        conn.execute(
            insert(units).values(parent_id=county_id, kind="township", name="城关镇", path="c.t1")
        )
        conn.execute(units.update().where(units.c.path == "c.t1").values(name="城关"))
        in_transaction = conn.execute(select(func.count()).select_from(units)).scalar_one()
        conn.execute(units.delete().where(units.c.path == "c.t1"))

    # Then the statements ran in A's schema, and B's schema never saw them
    assert in_transaction == 2
    with engine.connect() as conn:
        a_count = conn.execute(text(f'SELECT count(*) FROM "{a.schema_name}".units')).scalar()
        b_names = conn.execute(text(f'SELECT name FROM "{counties.b.schema_name}".units')).scalars()
        assert a_count == 1
        assert list(b_names) == ["乙县"]


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE TABLE public.smuggled (id int)",
        'CREATE TABLE "{b}".smuggled (id int)',
        'CREATE TABLE "{a}".smuggled (id int)',  # no DDL in its own schema either
        "CREATE SCHEMA smuggled_{a}",
        "CREATE FUNCTION public.smuggled() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$",
        'CREATE VIEW "{b}".smuggled AS SELECT 1',
    ],
)
def test_a_county_cannot_create_objects_outside_its_data(
    engine: Engine, counties: TwoCounties, statement: str
) -> None:
    sql = statement.format(a=counties.a.schema_name, b=counties.b.schema_name)
    with pytest.raises(DBAPIError) as caught, tenant_connection(engine, counties.a) as conn:
        conn.execute(text(sql))
    assert _refused(caught)


def test_a_countys_role_is_not_a_member_of_any_other_county_role(
    engine: Engine, counties: TwoCounties
) -> None:
    # SET ROLE is checked against the *session* user (the service's login, which must be able to
    # become every county), so it is not a fence against arbitrary SQL; what the database
    # guarantees is that A's role holds no membership, and so no privilege, of B's.
    with tenant_connection(engine, counties.a) as conn:
        memberships = conn.execute(
            text(
                "SELECT pg_has_role(current_user, :b, 'MEMBER'),"
                " pg_has_role(current_user, :b, 'USAGE'),"
                " has_schema_privilege(current_user, :bs, 'USAGE')"
            ),
            {"b": counties.b.role_name, "bs": counties.b.schema_name},
        ).one()
    assert tuple(memberships) == (False, False, False)


def _fail_midway(engine: Engine, tenant: Tenant) -> None:
    with tenant_connection(engine, tenant) as conn:
        conn.execute(select(func.count()).select_from(units))
        raise ZeroDivisionError


@pytest.fixture
def one_connection_engine(database_url: URL) -> Iterator[Engine]:
    """An engine whose pool holds exactly one connection, so every checkout reuses it."""
    eng = make_engine(database_url, Settings(), pool_size=1, max_overflow=0)
    yield eng
    eng.dispose()


def test_the_pooled_connection_is_back_to_the_service_role_afterwards(
    one_connection_engine: Engine, counties: TwoCounties
) -> None:
    eng = one_connection_engine
    with eng.connect() as conn:
        backend, service_user = conn.execute(text("SELECT pg_backend_pid(), current_user")).one()

    # Given a committed transaction of A and a failed one of B on the same pooled connection
    with tenant_connection(eng, counties.a) as conn:
        assert conn.execute(text("SELECT current_setting('role')")).scalar() == counties.a.role_name
    with pytest.raises(ZeroDivisionError):
        _fail_midway(eng, counties.b)

    # Then the connection is the same one, and nothing of either county is left on it
    with eng.connect() as conn:
        pid, role, user, path = conn.execute(
            text(
                "SELECT pg_backend_pid(), current_setting('role'), current_user,"
                " current_setting('search_path')"
            )
        ).one()
    assert pid == backend
    assert role == "none"
    assert user == service_user
    assert "county_" not in path
