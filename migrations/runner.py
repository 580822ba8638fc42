"""Migrating the shared schema and every county schema.

Alembic is driven programmatically: the script directory is loaded once per process and each
schema is upgraded inside a transaction the caller owns, under a per-schema advisory lock, so
that provisioning can create a county and migrate it atomically, and `upgrade_all` can run
counties in a pool of worker processes (Alembic is not thread-safe) without paying Alembic's
start-up per county.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alembic.config import Config
from alembic.ddl.base import AlterTable
from alembic.ddl.impl import DefaultImpl
from alembic.runtime.environment import EnvironmentContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool

from redscarf.database import connected
from tenants.metadata import SHARED, TENANT, translate_map

MIGRATIONS_DIR = Path(__file__).resolve().parent
VERSION_TABLE = "alembic_version"


def alembic_config(extra_version_locations: Sequence[Path | str] = ()) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    locations = [MIGRATIONS_DIR / "shared", MIGRATIONS_DIR / "tenant", *extra_version_locations]
    config.set_main_option("path_separator", "space")
    config.set_main_option("version_locations", " ".join(str(p) for p in locations))
    return config


class Migrator:
    """Alembic's scripts, loaded once; upgrades one schema at a time on a given connection."""

    def __init__(self, extra_version_locations: Sequence[Path | str] = ()) -> None:
        self.config = alembic_config(extra_version_locations)
        self.script = ScriptDirectory.from_config(self.config)

    def head(self, branch: str) -> str:
        (head,) = self.script.get_revisions(f"{branch}@head")
        assert head is not None
        return head.revision

    def upgrade_shared(self, conn: Connection) -> str:
        from tenants.grants import ensure_shared_grants

        conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {SHARED}"))
        version = self._upgrade(conn, "shared", SHARED, lock_key=SHARED)
        ensure_shared_grants(conn)
        return version

    def upgrade_tenant(self, conn: Connection, schema_name: str) -> str:
        """Bring one county schema to head inside the caller's transaction; returns the head."""
        version = self._upgrade(
            conn.execution_options(schema_translate_map=translate_map(schema_name)),
            "tenant",
            schema_name,
            lock_key=schema_name,
        )
        conn.execute(
            text(
                f"UPDATE {SHARED}.tenants SET schema_version = :v, migration_error = NULL,"
                " updated_at = now() WHERE schema_name = :s"
            ),
            {"v": version, "s": schema_name},
        )
        return version

    def _upgrade(self, conn: Connection, branch: str, version_schema: str, lock_key: str) -> str:
        assert conn.in_transaction(), "the caller owns the transaction"
        conn.execute(
            text("SELECT pg_advisory_xact_lock(hashtext('redscarf.migrate'), hashtext(:k))"),
            {"k": lock_key},
        )
        target = f"{branch}@head"

        def steps(rev: object, context: object) -> list[object]:
            return self.script._upgrade_revs(target, rev)  # type: ignore[arg-type]

        with EnvironmentContext(self.config, self.script, fn=steps, destination_rev=target) as env:
            env.configure(
                connection=conn,
                version_table_schema=version_schema,
                version_table=VERSION_TABLE,
                transactional_ddl=True,
            )
            _translate_alter_table(env.get_context().impl, conn)
            env.run_migrations()
        return self.head(branch)

    def tenant_versions(self, conn: Connection) -> dict[str, str | None]:
        """The version of every registered county schema, read from the schemas themselves."""
        registered = (
            conn.execute(text(f"SELECT schema_name FROM {SHARED}.tenants ORDER BY code"))
            .scalars()
            .all()
        )
        with_table = set(
            conn.execute(
                text(
                    "SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                    " WHERE c.relname = :t AND n.nspname = ANY(:s)"
                ),
                {"t": VERSION_TABLE, "s": list(registered)},
            ).scalars()
        )
        versions: dict[str, str | None] = dict.fromkeys(registered)
        names = [s for s in registered if s in with_table]
        for chunk in _chunks(names, 500):
            union = " UNION ALL ".join(
                f"SELECT '{s}' AS s, version_num FROM \"{s}\".{VERSION_TABLE}" for s in chunk
            )
            for schema_name, version in conn.execute(text(union)):
                versions[schema_name] = version
        return versions


def _translate_alter_table(impl: DefaultImpl, conn: Connection) -> None:
    """Point Alembic's own ALTER TABLE statements at the county's schema too.

    `create_table`, `create_index` and constraints are SQLAlchemy constructs and honour the
    connection's `schema_translate_map`; Alembic renders `add_column`, `alter_column`,
    `drop_column` and `rename_table` itself with the literal schema name (`tenant.units`),
    which does not exist. Rewriting those constructs' schema lets tenant migrations use
    `schema=TENANT` for every operation alike.
    """
    translate = conn.get_execution_options().get("schema_translate_map") or {}
    if not translate:
        return
    execute = impl._exec

    def _exec(construct: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(construct, AlterTable) and construct.schema in translate:
            construct.schema = translate[construct.schema]
        return execute(construct, *args, **kwargs)

    impl._exec = _exec  # type: ignore[method-assign]


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


@dataclass
class UpgradeReport:
    shared_version: str
    head: str
    total: int = 0
    already_at_head: int = 0
    upgraded: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed


# --- the worker-process side of upgrade_all -------------------------------------------------

_worker: tuple[Engine, Migrator] | None = None


def _init_worker(url: str, extra: Sequence[str]) -> None:
    global _worker
    engine = create_engine(url, poolclass=NullPool)
    _worker = (engine, Migrator(extra))


def _migrate_one(schema_name: str) -> tuple[str, str | None, str | None]:
    assert _worker is not None
    engine, migrator = _worker
    return migrate_tenant(engine, migrator, schema_name)


def migrate_tenant(
    engine: Engine, migrator: Migrator, schema_name: str
) -> tuple[str, str | None, str | None]:
    """Upgrade one county; a failure is recorded on the county and returned, never raised."""
    try:
        with engine.begin() as conn:
            version = migrator.upgrade_tenant(conn, schema_name)
        return schema_name, version, None
    except Exception as exc:  # a failing county must not stop the others
        message = f"{type(exc).__name__}: {exc}".strip()[:2000]
        with engine.begin() as conn:
            conn.execute(
                text(
                    f"UPDATE {SHARED}.tenants SET migration_error = :e, updated_at = now()"
                    " WHERE schema_name = :s"
                ),
                {"e": message, "s": schema_name},
            )
        return schema_name, None, message


def upgrade_all(
    url: URL,
    *,
    processes: int = 0,
    extra_version_locations: Sequence[Path | str] = (),
    on_start: Callable[[int], None] | None = None,
    on_progress: Callable[[str, str | None], None] | None = None,
) -> UpgradeReport:
    """Bring the shared schema and every county schema to head.

    Counties already at head are found with one query and skipped; the rest run in a pool of
    processes. A failing county is reported and the others go on; running again resumes.
    """
    extra = [str(p) for p in extra_version_locations]
    migrator = Migrator(extra)
    engine = create_engine(url, poolclass=NullPool)
    try:
        with connected(engine) as conn, conn.begin():
            shared_version = migrator.upgrade_shared(conn)
        head = migrator.head("tenant")
        with engine.begin() as conn:
            versions = migrator.tenant_versions(conn)
            _sync_registry(conn, [s for s, v in versions.items() if v == head], head)
    finally:
        engine.dispose()

    report = UpgradeReport(shared_version=shared_version, head=head, total=len(versions))
    behind = [s for s, v in versions.items() if v != head]
    report.already_at_head = report.total - len(behind)
    if on_start:
        on_start(len(behind))
    if not behind:
        return report

    workers = processes or os.cpu_count() or 2
    workers = max(1, min(workers, len(behind)))
    url_text = url.render_as_string(hide_password=False)
    results: Iterable[tuple[str, str | None, str | None]]
    if workers == 1:
        _init_worker(url_text, extra)
        results = (_migrate_one(s) for s in behind)
        results = list(_report_each(results, report, on_progress))
    else:
        context = multiprocessing.get_context("forkserver")
        with ProcessPoolExecutor(
            max_workers=workers,
            mp_context=context,
            initializer=_init_worker,
            initargs=(url_text, extra),
        ) as pool:
            futures = [pool.submit(_migrate_one, s) for s in behind]
            list(_report_each((f.result() for f in as_completed(futures)), report, on_progress))
    return report


def _sync_registry(conn: Connection, at_head: list[str], head: str) -> None:
    """Counties already at head show it in the registry, without an old migration error.

    (A county can reach head outside `upgrade_all`: a restore, or a fix by hand.)
    """
    conn.execute(
        text(
            f"UPDATE {SHARED}.tenants SET schema_version = :v, migration_error = NULL,"
            " updated_at = now() WHERE schema_name = ANY(:s)"
            " AND (schema_version IS DISTINCT FROM :v OR migration_error IS NOT NULL)"
        ),
        {"v": head, "s": at_head},
    )


def _report_each(
    results: Iterable[tuple[str, str | None, str | None]],
    report: UpgradeReport,
    on_progress: Callable[[str, str | None], None] | None,
) -> Iterable[tuple[str, str | None, str | None]]:
    for schema_name, version, error in results:
        if error is None:
            report.upgraded.append(schema_name)
        else:
            report.failed[schema_name] = error
        if on_progress:
            on_progress(schema_name, error)
        yield schema_name, version, error


__all__ = ["TENANT", "Migrator", "UpgradeReport", "migrate_tenant", "upgrade_all"]
