"""Benchmark: a county's whole roster imported from one spreadsheet, and imported again.

Not a test; run by hand, figures go to docs/benchmarks.md:

    .venv/bin/python -m bench.imports                         # embedded PostgreSQL
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python -m bench.imports
    .venv/bin/python -m bench.imports --pupils 2000 --squadrons 60 --schools 6   # a quick run

Target (the issue): a 50,000-pupil roster (Huishui scale: 76 brigades, 1,243 squadrons)
imported in under 60 s on 2 cores.

In a database of its own (`redscarf_bench_import`, recreated each run) one county is onboarded
(with its root unit, as onboarding makes it). Its organisation
(`--townships` townships, `--schools` schools, `--squadrons` squadrons of grades 1-6, no
teams) is set up by a units import, timed on its own line. A
pupils file of `--pupils` rows is written with `domain.spreadsheets.rosters.workbook`: spread
evenly over the squadrons, one in ten without an ID number (gender and birth date instead),
the others with a valid, unique GB 11643 number; gender and birth date filled on every row, as
an export has them. Then `run_import` (what the `import_roster` job calls) runs on it twice,
in this process: the first import creates every pupil, the second finds all of them unchanged.

Each import's time is broken down by wrapping its steps in this process: read (`read_book`),
check (the kind's `check`), write (its `apply`); "other" is the rest (marking it running,
loading the upload, ending it, the commit). `--profile` runs the first pupils import under
cProfile and prints the top functions. `--worker` onboards a second county organised alike and
has a real worker (`redscarf worker` in a subprocess, jobs enqueued through the outbox) import
the same file into it twice, each timed from the commit that enqueues it to the job's end.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import datetime as dt
import os
import pstats
import random
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

from sqlalchemy import Engine, func, insert, select

import domain.imports.service as service
from authz.principal import COUNTY_ROOT
from bench.tenants import fresh_database, server_url
from domain.audit.tables import audit_log
from domain.badges.awards import set_points_rule
from domain.imports.common import Requester
from domain.imports.tables import ImportKind, roster_imports, uploads
from domain.ledger.service import verify
from domain.org.tables import units
from domain.people.pupils import ID_NUMBER
from domain.people.tables import pupils
from domain.personal.crypto import FieldCipher
from domain.personal.id_numbers import check_digit
from domain.spreadsheets.rosters import (
    HEADERS,
    ONE_STAR_COLUMNS,
    UNIT_COLUMNS,
    Row,
    sheet_workbook,
    workbook,
)
from migrations.runner import Migrator
from redscarf.database import libpq_url, make_engine, sqlalchemy_url
from redscarf.keys import load_keys
from redscarf.settings import Settings
from tenants.provisioning import create_county
from tenants.sessions import Tenant, load_tenant, tenant_connection

CODE = "522731"
WORKER_CODE = "522729"
REQUESTER = Requester("user", None, "bench", "county_admin", False, (COUNTY_ROOT,)).as_json()
TOWNSHIPS = ("城关镇", "好花红镇", "羡塘镇", "断杉镇", "摆金镇", "雅水镇", "王佑镇", "高镇镇",
             "岗度镇", "抵季镇", "和平镇", "涟江街道")  # fmt: skip
NUMERALS = "一二三四五六七八九十"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐韦蒙潘岑莫"
GIVEN = "小子文明华国红建英玉兰芳俊杰伟强磊敏静丽艳娟霞勇军平刚桂秀梅海涛欣怡宇轩浩然"
PHASES = ("read", "check", "write")


# --- the organisation and the files ----------------------------------------------------------


def organisation(townships: int, schools: int, squadrons: int) -> list[tuple[str, str, str]]:
    """(township, school, squadron) of every squadron: schools spread over the townships,
    squadrons over the schools, each school's squadrons over grades 1-6 (三（2）中队)."""
    if not 1 <= townships <= len(TOWNSHIPS) or schools < townships or squadrons < schools:
        raise SystemExit(
            f"need 1 <= townships <= {len(TOWNSHIPS)} <= schools <= squadrons"
            if townships > len(TOWNSHIPS)
            else "need townships <= schools <= squadrons"
        )
    found: list[tuple[str, str, str]] = []
    for school in range(schools):
        town = TOWNSHIPS[school % townships]
        number = school // townships + 1
        name = f"{town.removesuffix('街道').removesuffix('镇')}第{number}小学"
        for k in range(squadrons // schools + (1 if school < squadrons % schools else 0)):
            grade, klass = k % 6 + 1, k // 6 + 1
            found.append((town, name, f"{NUMERALS[grade - 1]}（{klass}）中队"))
    return found


def units_file(squadrons: list[tuple[str, str, str]]) -> bytes:
    rows: list[Row] = [
        (town, "", school, "城镇" if town == TOWNSHIPS[0] else "农村", "普通学校", squadron, "", "")
        for town, school, squadron in squadrons
    ]
    return sheet_workbook("组织", UNIT_COLUMNS, rows)


def pupils_file(squadrons: list[tuple[str, str, str]], count: int, seed: int) -> bytes:
    """`count` pupils spread evenly over the squadrons, in squadron order as a school sends
    them; every tenth row without an ID number. Names are unique within a squadron, so rows
    without an ID number are told apart by name and birth date."""
    rng = random.Random(seed)
    today = dt.date.today()
    year = today.year if today.month >= 9 else today.year - 1  # the academic year
    serials: dict[tuple[dt.date, int], int] = {}
    rows: list[Row] = []
    i = 0
    for s, (_, school, squadron) in enumerate(squadrons):
        grade = NUMERALS.index(squadron[0]) + 1
        first_born = dt.date(year - 6 - grade, 9, 1)
        names: set[str] = set()
        for _ in range(count // len(squadrons) + (1 if s < count % len(squadrons) else 0)):
            while (name := rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=2))) in names:
                pass
            names.add(name)
            birth = first_born + dt.timedelta(days=rng.randrange(365))
            male = rng.random() < 0.52
            number = None
            if i % 10 != 9:
                # The 17th digit is odd for a boy: serials 2n+1 for boys, 2n for girls.
                n = serials[(birth, male)] = serials.get((birth, male), -1) + 1
                first17 = f"{CODE}{birth:%Y%m%d}{2 * n + male:03d}"
                number = first17 + check_digit(first17)
            joined = dt.date(year - grade + 2, 6, 1) if grade > 1 else None
            rows.append(
                (school, squadron, None, name, "男" if male else "女", birth, number,
                 "少先队员" if joined else "预备队员", joined,
                 f"{joined.year}年六一批" if joined else None)
            )  # fmt: skip
            i += 1
    assert len(rows) == count
    assert len(HEADERS) == len(rows[0])
    return workbook(rows)


# --- running an import ------------------------------------------------------------------------


def start_import(engine: Engine, tenant: Tenant, kind: ImportKind, content: bytes) -> int:
    with tenant_connection(engine, tenant) as conn:
        upload = conn.execute(
            insert(uploads)
            .values(filename=f"{kind}.xlsx", size=len(content), sha256=b"-", content=content)
            .returning(uploads.c.id)
        ).scalar_one()
        return int(
            conn.execute(
                insert(roster_imports)
                .values(kind=kind.value, upload_id=upload, requested_by=REQUESTER)
                .returning(roster_imports.c.id)
            ).scalar_one()
        )


@contextmanager
def phase_timer(kind: ImportKind) -> Iterator[dict[str, float]]:
    """Seconds spent reading, checking and writing, by wrapping the steps `run_import` calls."""
    spent = dict.fromkeys(PHASES, 0.0)

    def timed(phase: str, step: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return step(*args, **kwargs)
            finally:
                spent[phase] += time.perf_counter() - t0

        return run

    original = service.KINDS[kind]
    wrapped = dataclasses.replace(
        original, check=timed("check", original.check), apply=timed("write", original.apply)
    )
    with (
        mock.patch.object(service, "read_book", timed("read", service.read_book)),
        mock.patch.dict(service.KINDS, {kind: wrapped}),
    ):
        yield spent


def timed_import(
    engine: Engine,
    tenant: Tenant,
    cipher: FieldCipher,
    kind: ImportKind,
    content: bytes,
    profile: cProfile.Profile | None = None,
) -> tuple[float, dict[str, float], dict[str, Any]]:
    import_id = start_import(engine, tenant, kind, content)
    calls: list[tuple[int, int | None, str]] = []
    with phase_timer(kind) as spent:
        t0 = time.perf_counter()
        if profile is not None:
            profile.enable()
        result = service.run_import(
            engine, tenant, import_id, cipher, lambda d, t, m: calls.append((d, t, m))
        )
        if profile is not None:
            profile.disable()
        total = time.perf_counter() - t0
    if result["state"] != "done":
        with tenant_connection(engine, tenant) as conn:
            errors = conn.execute(
                select(roster_imports.c.errors).where(roster_imports.c.id == import_id)
            ).scalar()
        raise SystemExit(f"{kind} import {result['state']}: {result}\n{(errors or [])[:5]}")
    spent["other"] = total - sum(spent.values())
    spent["progress calls"] = len(calls)
    return total, spent, result


def worker_imports(
    engine: Engine, settings: Settings, tenant: Tenant, content: bytes, times: int
) -> list[tuple[float, dict[str, Any]]]:
    """The import run `times` by a real worker process (`redscarf worker`, one thread), each
    enqueued through the outbox with the import's row, as `importRoster` does; each timed
    from the commit that enqueues it to the job's end (relay and polling included)."""
    from workers.outbox import enqueue
    from workers.state import get_job

    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url or "",
        "REDSCARF_DATA_DIR": str(settings.data_dir),
    }
    redscarf = str(Path(sys.executable).parent / "redscarf")
    worker = subprocess.Popen(
        [redscarf, "worker", "--processes", "1", "--threads", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    done: list[tuple[float, dict[str, Any]]] = []
    try:
        time.sleep(5)  # let the worker start before the clock does
        for _ in range(times):
            import_id = start_import(engine, tenant, ImportKind.PUPILS, content)
            with engine.begin() as conn:
                job_id = enqueue(
                    conn, "import_roster", county_code=tenant.code, args={"import_id": import_id}
                )
            t0 = time.perf_counter()
            while (view := get_job_now(engine, get_job, job_id)) is None or view.state not in (
                "done",
                "failed",
            ):
                if worker.poll() is not None:
                    raise SystemExit("the worker exited")
                time.sleep(0.1)
            elapsed = time.perf_counter() - t0
            if view.state != "done":
                raise SystemExit(f"worker import {view.state}: {view}")
            done.append((elapsed, view.result or {}))
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    return done


def get_job_now(engine: Engine, get_job: Callable[..., Any], job_id: Any) -> Any:
    with engine.connect() as conn:
        return get_job(conn, job_id)


# --- the run ----------------------------------------------------------------------------------


def onboard(engine: Engine, code: str, name: str) -> Tenant:
    create_county(engine, Migrator(), code, name, code[:2])
    with engine.connect() as conn:
        return load_tenant(conn, code)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def counts(engine: Engine, tenant: Tenant) -> tuple[int, int]:
    with tenant_connection(engine, tenant) as conn:
        found = conn.execute(select(func.count()).select_from(pupils)).scalar_one()
        audited = conn.execute(select(func.count()).select_from(audit_log)).scalar_one()
    return int(found), int(audited)


def line(
    step: str, rows: int, total: float, spent: dict[str, float], result: dict[str, Any]
) -> str:
    phases = " | ".join(f"{spent[p]:.2f}" for p in (*PHASES, "other"))
    outcome = f"{result['created']:,} created, {result['unchanged']:,} unchanged"
    return f"| {step} | {rows:,} | **{total:.2f}** | {phases} | {outcome} | {peak_mb():,.0f} |"


def one_star_file(engine: Engine, tenant: Tenant, cipher: FieldCipher) -> tuple[bytes, int]:
    """Every pupil the list can name: by ID number, or by a name unique in its squadron."""
    school, squadron = units.alias("school"), units.alias("squadron")
    with tenant_connection(engine, tenant) as conn:
        rows = conn.execute(
            select(school.c.name, squadron.c.name, pupils.c.name, pupils.c.id_number_enc,
                   func.count().over(partition_by=(pupils.c.squadron_id, pupils.c.name)))
            .join(squadron, squadron.c.id == pupils.c.squadron_id)
            .join(school, school.c.id == squadron.c.parent_id)
            .order_by(pupils.c.id)
        ).all()  # fmt: skip
    listed = [
        (a, b, name, cipher.decrypt(enc, context=ID_NUMBER) if enc else "", "2025", "")
        for a, b, name, enc, same in rows
        if enc or same == 1
    ]
    return sheet_workbook("一星章", ONE_STAR_COLUMNS, listed), len(listed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pupils", type=int, default=50_000)
    parser.add_argument("--squadrons", type=int, default=1_243)
    parser.add_argument("--schools", type=int, default=76)
    parser.add_argument("--townships", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database", default="redscarf_bench_import")
    parser.add_argument("--profile", action="store_true", help="cProfile the first import")
    parser.add_argument("--worker", action="store_true", help="imports by a worker too")
    args = parser.parse_args()

    with open("/proc/loadavg") as f:
        print(f"{os.cpu_count()} CPUs; load average {' '.join(f.read().split()[:3])}")
    url = fresh_database(server_url(), args.database)
    settings = Settings(database_url=libpq_url(url), data_dir=Settings().data_dir / "bench-imports")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    cipher = load_keys(settings).cipher
    engine = make_engine(sqlalchemy_url(settings.database_url or ""), settings, pool_size=2)
    with engine.begin() as conn:
        Migrator().upgrade_shared(conn)
    tenant = onboard(engine, CODE, "惠水县")

    squadrons = organisation(args.townships, args.schools, args.squadrons)
    t0 = time.perf_counter()
    organised = units_file(squadrons)
    content = pupils_file(squadrons, args.pupils, args.seed)
    print(
        f"files written in {time.perf_counter() - t0:.1f} s: units {len(organised) / 1024:,.0f} KiB"
        f" ({len(squadrons):,} rows), pupils {len(content) / 1024 / 1024:.2f} MiB"
        f" ({args.pupils:,} rows, {len(content):,} bytes)"
    )

    header = [
        "| import | rows | total (s) | read | check | write | other | result | peak RSS (MiB) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    lines: list[str] = []
    total, spent, result = timed_import(engine, tenant, cipher, ImportKind.UNITS, organised)
    lines.append(line("units (organisation)", len(squadrons), total, spent, result))
    print(lines[-1], flush=True)

    profile = cProfile.Profile() if args.profile else None
    total, spent, result = timed_import(engine, tenant, cipher, ImportKind.PUPILS, content, profile)
    assert result["created"] == args.pupils, result
    lines.append(line("pupils, first (all new)", args.pupils, total, spent, result))
    print(lines[-1], flush=True)

    total, spent, result = timed_import(engine, tenant, cipher, ImportKind.PUPILS, content)
    assert result["unchanged"] == args.pupils, result
    lines.append(line("pupils, again (all unchanged)", args.pupils, total, spent, result))
    print(lines[-1], flush=True)

    with tenant_connection(engine, tenant) as conn:
        set_points_rule(conn, "level:star1", 10, dt.date(2020, 9, 1), "bench")
    stars, listed = one_star_file(engine, tenant, cipher)
    total, spent, result = timed_import(engine, tenant, cipher, ImportKind.ONE_STAR, stars)
    assert result["created"] == listed, result
    lines.append(line("one-star list, first (awards + points)", listed, total, spent, result))
    print(lines[-1], flush=True)
    total, spent, result = timed_import(engine, tenant, cipher, ImportKind.ONE_STAR, stars)
    assert result["unchanged"] == listed, result
    lines.append(line("one-star list, again (nothing granted)", listed, total, spent, result))
    print(lines[-1], flush=True)
    with engine.connect() as conn:
        t0 = time.perf_counter()
        checked = verify(conn, tenant.schema_name)
        lines.append(
            f"| ledger verify | {checked.postings:,} postings | **{time.perf_counter() - t0:.2f}** |"
            f" | | | | {'balanced' if not checked.problems else checked.problems} | |"
        )
    print(lines[-1], flush=True)

    if args.worker:
        # A second county, organised alike (units import untimed), for a first import too.
        other = onboard(engine, WORKER_CODE, "长顺县")
        timed_import(engine, other, cipher, ImportKind.UNITS, organised)
        runs = worker_imports(engine, settings, other, content, 2)
        for step, (elapsed, result) in zip(("first", "again"), runs, strict=True):
            assert result.get("created", 0) + result.get("unchanged", 0) == args.pupils, result
            lines.append(
                f"| pupils, {step}, by a worker | {args.pupils:,} | **{elapsed:.1f}** | | | | |"
                f" {result['created']:,} created, {result['unchanged']:,} unchanged | |"
            )
            print(lines[-1], flush=True)

    found, audited = counts(engine, tenant)
    engine.dispose()
    print(f"\n{found:,} pupils stored, {audited:,} audit entries")
    with open("/proc/loadavg") as f:
        print(f"load average at the end {' '.join(f.read().split()[:3])}")
    print("\n" + "\n".join(header + lines))
    if profile is not None:
        print("\nfirst pupils import, by own time:")
        pstats.Stats(profile).sort_stats("tottime").print_stats(25)
        print("first pupils import, by cumulative time:")
        pstats.Stats(profile).sort_stats("cumulative").print_stats(40)


if __name__ == "__main__":
    main()
