"""Archiving, exporting and restoring a county: its data comes back whole, or nothing changes."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, select, text

from domain.org.tables import units
from domain.people.tables import pupils
from migrations.runner import Migrator
from redscarf.errors import Conflict
from tenants.provisioning import (
    ExportFailed,
    create_county,
    export_county,
    restore_county,
    set_archived,
)
from tenants.sessions import CountyUnavailable, Tenant, load_tenant, tenant_connection
from tests.conftest import new_county_code

TABLES = ("units", "pupils", "badges", "alembic_version")


def _county_with_pupils(engine: Engine, migrator: Migrator, name: str) -> Tenant:
    """A county with a school, a squadron and three pupils, written as the county's own role."""
    code = new_county_code()
    create_county(engine, migrator, code, name, "52")
    with engine.connect() as conn:
        tenant = load_tenant(conn, code)
    with tenant_connection(engine, tenant) as conn:
        county_id = conn.execute(
            insert(units).values(kind="county", name=name, path=f"c{code}").returning(units.c.id)
        ).scalar_one()
        school_id = conn.execute(
            insert(units)
            .values(parent_id=county_id, kind="brigade", name="第一小学", path=f"c{code}.b1")
            .returning(units.c.id)
        ).scalar_one()
        squadron_id = conn.execute(
            insert(units)
            .values(parent_id=school_id, kind="squadron", name="三（1）中队", path=f"c{code}.b1.s1")
            .returning(units.c.id)
        ).scalar_one()
        conn.execute(
            insert(pupils),
            [
                {"squadron_id": squadron_id, "name": n, "gender": g, "grade": 3}
                for n, g in (("王小明", "male"), ("李小红", "female"), ("张思远", "male"))
            ],
        )
    return tenant


def _snapshot(engine: Engine, schema: str) -> dict[str, list[tuple[object, ...]]]:
    with engine.connect() as conn:
        return {
            table: [tuple(r) for r in conn.execute(text(f'SELECT * FROM "{schema}".{table}'))]
            for table in TABLES
        }


def _registry_row(engine: Engine, code: str) -> tuple[object, ...] | None:
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT name, status::text, schema_version FROM shared.tenants WHERE code = :c"),
            {"c": code},
        ).first()
    return tuple(row) if row else None


def _schema_exists(engine: Engine, schema: str) -> bool:
    with engine.connect() as conn:
        return bool(
            conn.execute(
                text("SELECT 1 FROM pg_namespace WHERE nspname = :s"), {"s": schema}
            ).first()
        )


def test_an_archived_county_is_exported_and_restored_whole(
    engine: Engine, migrator: Migrator, tmp_path: Path
) -> None:
    tenant = _county_with_pupils(engine, migrator, "惠水县")
    before = _snapshot(engine, tenant.schema_name)

    # When the county is archived, its requests are refused
    set_archived(engine, tenant.code, archived=True)
    with engine.connect() as conn, pytest.raises(CountyUnavailable):
        load_tenant(conn, tenant.code)

    # When it is exported and restored over itself
    archive = export_county(engine, tenant.code, tmp_path / "huishui.tar")
    with tarfile.open(archive) as tar:
        assert sorted(tar.getnames()) == ["county.json", "schema.pgdump"]
    county = restore_county(engine, migrator, archive, replace=True)

    # Then its data is as it was, and it is active at head again
    assert _snapshot(engine, tenant.schema_name) == before
    assert county.status == "active"
    assert county.schema_version == migrator.head("tenant")
    with engine.connect() as conn:
        restored = load_tenant(conn, tenant.code)
    # and its own role reads and writes it again (the grants came back with it)
    with tenant_connection(engine, restored) as conn:
        names = conn.execute(select(pupils.c.name).order_by(pupils.c.id)).scalars().all()
        conn.execute(pupils.update().values(grade=4))
    assert names == ["王小明", "李小红", "张思远"]


def test_a_dropped_county_comes_back_from_its_export(
    engine: Engine, migrator: Migrator, tmp_path: Path
) -> None:
    tenant = _county_with_pupils(engine, migrator, "都匀市")
    before = _snapshot(engine, tenant.schema_name)
    archive = export_county(engine, tenant.code, tmp_path / "duyun.tar")

    # Restoring over an existing county needs --replace
    with pytest.raises(Conflict) as caught:
        restore_county(engine, migrator, archive)
    assert caught.value.code == "COUNTY_EXISTS"

    # Given the county is gone (schema and registry entry)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{tenant.schema_name}" CASCADE'))
        conn.execute(text("DELETE FROM shared.tenants WHERE code = :c"), {"c": tenant.code})

    # When it is restored, then it is all back
    restore_county(engine, migrator, archive)
    assert _snapshot(engine, tenant.schema_name) == before
    assert _registry_row(engine, tenant.code) == ("都匀市", "active", migrator.head("tenant"))


def _tar_with(path: Path, files: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_a_corrupt_archive_is_refused_and_changes_nothing(
    engine: Engine, migrator: Migrator, tmp_path: Path
) -> None:
    tenant = _county_with_pupils(engine, migrator, "三都县")
    before = _snapshot(engine, tenant.schema_name)
    registry_before = _registry_row(engine, tenant.code)
    archive = export_county(engine, tenant.code, tmp_path / "sandu.tar")
    with tarfile.open(archive) as tar:
        meta = tar.extractfile("county.json").read()  # type: ignore[union-attr]
        dump = tar.extractfile("schema.pgdump").read()  # type: ignore[union-attr]

    other = _county_with_pupils(engine, migrator, "荔波县")
    other_dump = export_county(engine, other.code, tmp_path / "other.tar")
    with tarfile.open(other_dump) as tar:
        foreign = tar.extractfile("schema.pgdump").read()  # type: ignore[union-attr]

    not_a_tar = tmp_path / "not-a.tar"
    not_a_tar.write_bytes(b"this is not an archive")
    corrupt = {
        "not a tar file": not_a_tar,
        "no county.json": _tar_with(tmp_path / "a.tar", {"schema.pgdump": dump}),
        "other format": _tar_with(
            tmp_path / "b.tar", {"county.json": b'{"format": "x"}', "schema.pgdump": dump}
        ),
        "truncated dump": _tar_with(
            tmp_path / "c.tar", {"county.json": meta, "schema.pgdump": dump[: len(dump) // 2]}
        ),
        "another county's schema": _tar_with(
            tmp_path / "e.tar", {"county.json": meta, "schema.pgdump": foreign}
        ),
        "garbage dump": _tar_with(
            tmp_path / "d.tar", {"county.json": meta, "schema.pgdump": b"PGDMP" + b"\0" * 500}
        ),
    }
    for case, path in corrupt.items():
        # When the county is restored from a broken archive, even with --replace
        with pytest.raises(ExportFailed) as caught:
            restore_county(engine, migrator, path, replace=True)
        # Then the error says so, and the county is exactly as it was
        assert caught.value.code == "EXPORT_FAILED", case
        assert caught.value.message, case
        assert _snapshot(engine, tenant.schema_name) == before, case
        assert _registry_row(engine, tenant.code) == registry_before, case


def test_a_corrupt_archive_of_a_new_county_leaves_nothing(
    engine: Engine, migrator: Migrator, tmp_path: Path
) -> None:
    tenant = _county_with_pupils(engine, migrator, "独山县")
    archive = export_county(engine, tenant.code, tmp_path / "dushan.tar")
    with tarfile.open(archive) as tar:
        meta = json.loads(tar.extractfile("county.json").read())  # type: ignore[union-attr]
        dump = tar.extractfile("schema.pgdump").read()  # type: ignore[union-attr]
    # An archive of a county this installation does not have, whose dump is cut short
    code = new_county_code()
    meta.update(code=code, schema_name=f"county_{code}")
    broken = _tar_with(
        tmp_path / "broken.tar",
        {
            "county.json": json.dumps(meta).encode(),
            "schema.pgdump": dump[: len(dump) // 2],
        },
    )

    with pytest.raises(ExportFailed):
        restore_county(engine, migrator, broken)

    assert _registry_row(engine, code) is None
    assert not _schema_exists(engine, f"county_{code}")
