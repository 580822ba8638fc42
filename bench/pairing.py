"""Benchmark: the province's pairing coordination view over 100 counties, at p99 (issue 7).

Not a test; run by hand, figures go to docs/benchmarks.md:

    .venv/bin/python -m bench.pairing                         # embedded PostgreSQL
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python -m bench.pairing
    .venv/bin/python -m bench.pairing --counties 20 --requests 50      # a quick run

In a database of its own (`--database`, default `redscarf_bench_pairing`, recreated each run
and dropped with its county roles at the end unless `--keep`), a province (33, 浙江省, 11
prefectures) gets `--counties` counties (100), onboarded with `create_county`, and `--others`
counties (2) of another province (52), which its admin must not see. Each county's
organisation is planned by `domain.demo.plan.plan_county` (the demo's shapes: townships and
communities, schools with their squadrons and teams, urban and rural by the county's kind —
mostly urban, mostly rural or mixed, in turn — one 实验小学, a few 红领巾示范校 and
新居民子女学校) for as many pupils as give `--schools` schools (30), and written by bulk
INSERT as the county's own role (`tenant_connection`); one school more per county is
archived (撤并), which the view must leave out. Each county gets `--pupils` pupils (400)
spread over its squadrons: the coordination view reads no pupil table (pupils in pairs are
counted from the shared pairings), so only the pupils that are paired matter to it.

Pairings are made by the service itself (`domain.pairing.service`: `propose`, `accept`,
`end`, on the service's login): rural and migrant-children schools are paired with urban
schools that have spare capacity (at most `coverage.SPARE` partners each), `--across` (40 %)
with an urban school of another county of the same prefecture, the rest within the county,
until `--paired` (half) of the schools are a side of an active pairing. Then, among schools
still without a partner, one proposal in ten pairings left waiting for the other side, and one
pairing in twenty made and ended (neither counts). Each county's counselors pair
`--pupil-pairs` pupils (20) hand in hand, a quarter of them with a pupil of another county
after both families' separate consent (guardian, verified binding, `give_consent`).

Measured, `--requests` (200) calls per cell at each number of concurrent clients in
`--levels` (1 and 4), after `--warmup` (20) untimed calls:

- **domain**: `coverage`, `unpaired` and `suggest` (limit 100) of `domain.pairing.coverage`
  for the province's counties, in this process, each call on a pooled connection of the
  service's login committed at the end (as the API's `in_shared_transaction` runs them);
  clients are threads with a pool of that size. The floor of this code;
- **API**: `pairingCoverage`, `unpairedSchools` and `suggestedPairs` through `/graphql` of
  `redscarf serve` (a subprocess on loopback), as a signed-in province admin (`province_admin`
  at 33); clients are asyncio tasks over httpx. A call includes the caller's region
  (`_region`: the province's active counties, checked against the policy).

Before each cell the script waits (at most 2 minutes) until the machine has been under 15 %
busy for 3 s, as the machine is shared. Every answer is checked: 100 counties covered with
exactly the counts the pairings made, the unpaired schools exactly those without an active
partner, the API's answers the same as the domain's. What the build left in this process is
frozen (`gc.freeze`) before anything is timed, so that Python's full collections scan only
what the calls themselves allocate, as in the server. A probe (untimed, one client) counts each function's statements and the time spent
in them; `--explain` prints EXPLAIN (ANALYZE, BUFFERS) of each kind of statement of
`coverage`. Printed: the sizes, a markdown table (requests/s, p50, p95, p99 and max, the share
of the machine's CPU busy during the cell, load average before and after), the probe, and a
fingerprint of the code measured (the pairing domain and resolvers change often).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import hashlib
import os
import platform
import random
import re
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Connection, Engine, event, func, insert, select, text, update

from authz.roles import Role
from bench.activities import cpu_ticks, loadavg
from bench.roster import _free_port, start_server
from bench.tenants import drop_database, fresh_database, percentile, server_url
from domain.accounts.service import create_user, grant_role, start_session
from domain.demo.names import PLACES, numeral, person, village
from domain.demo.plan import CountyPlan, plan_county
from domain.org.tables import Area, SchoolKind, UnitKind, units
from domain.pairing import coverage as coordination
from domain.pairing import service as rules
from domain.pairing.service import Side
from domain.pairing.tables import PairingLevel, pairings
from domain.people.tables import guardian_bindings, guardians, pupils
from migrations.runner import Migrator
from redscarf.database import libpq_url, make_engine, sqlalchemy_url
from redscarf.keys import load_keys
from redscarf.settings import Settings
from schema.ids import encode_global_id
from tenants.provisioning import create_county, create_prefecture
from tenants.sessions import Tenant, load_tenant, tenant_connection

PROVINCE = ("33", "浙江省")
PREFECTURES = {
    "3301": "杭州市", "3302": "宁波市", "3303": "温州市", "3304": "嘉兴市", "3305": "湖州市",
    "3306": "绍兴市", "3307": "金华市", "3308": "衢州市", "3309": "舟山市", "3310": "台州市",
    "3311": "丽水市",
}  # fmt: skip
OTHER_PROVINCE = "52"
PROPOSER = f"province:{PROVINCE[0]}"
BY = "bench"
KINDS = (None, False, True)  # mixed, mostly rural, mostly urban (as demo_counties), in turn

SCHOOL = "unitId countyCode name area schoolKind partners"
QUERIES = {
    "coverage": "{ pairingCoverage { countyCode countyName schools schoolsPaired ruralSchools"
    " ruralPaired migrantSchools migrantPaired pupilsInPairs } }",
    "unpaired": f"{{ unpairedSchools {{ {SCHOOL} }} }}",
    "suggest": f"{{ suggestedPairs(limit: 100) {{ school {{ {SCHOOL} }} partner {{ {SCHOOL} }} }} }}",
}
FIELDS = {"coverage": "pairingCoverage", "unpaired": "unpairedSchools", "suggest": "suggestedPairs"}
TITLES = {
    "coverage": "coverage of every county",
    "unpaired": "unpaired schools",
    "suggest": "suggested pairs (100)",
}


# --- the province (untimed) -------------------------------------------------------------------


@dataclass(frozen=True)
class School:
    county: str
    prefecture: str
    id: int
    name: str
    area: str
    kind: str

    @property
    def side(self) -> Side:
        return Side(self.county, "unit", self.id)

    @property
    def strong(self) -> bool:
        """An urban school other than a migrant-children school: one that takes partners."""
        return self.area == Area.URBAN and self.kind != SchoolKind.MIGRANT


@dataclass
class Province:
    codes: list[str] = field(default_factory=list)
    """The province's counties, in code order (what `_region` gives its admin)."""
    schools: list[School] = field(default_factory=list)
    pupils: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    """Each county's pupils: (pupil id, school id)."""
    units: Counter[str] = field(default_factory=Counter)
    pupils_n: int = 0


def county_list(n: int, others: int) -> list[tuple[str, str, str | None, bool | None]]:
    """(code, name, prefecture, urban) of `n` counties of the province, then `others` of
    another province."""
    found: list[tuple[str, str, str | None, bool | None]] = []
    per = -(-n // len(PREFECTURES))
    for k in range(n):
        prefecture = sorted(PREFECTURES)[k // per]
        code = f"{prefecture}{k % per + 2:02d}"
        urban = KINDS[k % 3]
        place = PLACES[k % len(PLACES)] + ("" if k < len(PLACES) else "新")
        found.append((code, f"{place}{'区' if urban else '县'}", prefecture, urban))
    found += [
        (f"{OTHER_PROVINCE}99{k + 50:02d}", f"外省{k + 1}县", None, None) for k in range(others)
    ]
    return found


def plan_schools(code: str, name: str, urban: bool | None, schools: int) -> CountyPlan:
    """The demo's plan of the county for as many pupils as give `schools` schools (the plan
    adds schools until the pupils fit, so the count grows with the pupils)."""
    seed = int(code)
    lo, hi = 100, 400_000
    while lo < hi:
        mid = (lo + hi) // 2
        if len(plan_county(seed=seed, pupils=mid, urban=urban, county_name=name).schools) < schools:
            lo = mid + 1
        else:
            hi = mid
    return plan_county(seed=seed, pupils=lo, urban=urban, county_name=name)


def write_county(
    engine: Engine, tenant: Tenant, plan: CountyPlan, prefecture: str, pupils_n: int, seed: int
) -> tuple[list[School], list[tuple[int, int]], Counter[str]]:
    """The plan's units (no counselors, no guardians), one archived school more, and
    `pupils_n` pupils over all squadrons; as the county's own role, in one transaction."""
    rng = random.Random(seed)
    sizes: Counter[str] = Counter()
    with tenant_connection(engine, tenant) as conn:
        root_area = {True: Area.URBAN, False: Area.RURAL, None: None}[plan.urban]
        root = conn.execute(
            update(units).where(units.c.path == "c").values(name=tenant.name, area=root_area)
            .returning(units.c.id)
        ).scalar_one()  # fmt: skip
        by_path = {"c": root}

        def add(rows: list[dict[str, Any]]) -> list[int]:
            if not rows:
                return []
            sizes.update(r["kind"] for r in rows)
            return list(conn.execute(insert(units).returning(units.c.id, sort_by_parameter_order=True),
                                     rows).scalars())  # fmt: skip

        for level in (UnitKind.TOWNSHIP, UnitKind.COMMUNITY):
            areas = [a for a in plan.areas if a.kind == level]
            ids = add([{"kind": a.kind.value, "name": a.name, "path": a.path, "area": a.area.value,
                        "parent_id": by_path[a.path.rsplit(".", 1)[0]]} for a in areas])  # fmt: skip
            by_path.update(zip([a.path for a in areas], ids, strict=True))
        brigades = add([{"kind": "brigade", "name": s.name, "path": s.path, "area": s.area.value,
                         "school_kind": s.kind.value, "parent_id": by_path[s.parent_path]}
                        for s in plan.schools])  # fmt: skip
        squadron_rows, squadron_school = [], []
        for school, brigade in zip(plan.schools, brigades, strict=True):
            for k, squadron in enumerate(school.squadrons, start=1):
                squadron_rows.append({"kind": "squadron", "name": squadron.name,
                                      "path": f"{school.path}.s{k}", "area": school.area.value,
                                      "grade": squadron.grade, "parent_id": brigade})  # fmt: skip
                squadron_school.append((brigade, squadron))
        squadron_ids = add(squadron_rows)
        add([{"kind": "team", "name": f"第{numeral(j)}小队", "path": f"{row['path']}.m{j}",
              "area": row["area"], "parent_id": pk}
             for row, pk, (_, squadron) in zip(squadron_rows, squadron_ids, squadron_school, strict=True)
             for j in range(1, squadron.teams + 1)])  # fmt: skip
        # A school merged into another (撤并) keeps its record, archived.
        township = next(a for a in plan.areas if a.kind == UnitKind.TOWNSHIP)
        add([{"kind": "brigade", "name": f"{township.place}{village(rng)}小学", "area": "rural",
              "path": f"{township.path}.b{len(plan.schools) + 1}", "school_kind": "ordinary",
              "parent_id": by_path[township.path], "archived_at": dt.datetime.now(dt.UTC)}])  # fmt: skip
        rows = []
        for i in range(pupils_n):
            j = (i * 7919) % len(squadron_ids)  # a prime stride: every school gets some
            male = rng.random() < 0.52
            rows.append({"squadron_id": squadron_ids[j], "name": person(rng, male),
                         "gender": "male" if male else "female",
                         "grade": squadron_school[j][1].grade, "status": "member"})  # fmt: skip
        pupil_ids = conn.execute(
            insert(pupils).returning(pupils.c.id, sort_by_parameter_order=True), rows
        ).scalars()
        roster = [(pk, squadron_school[(i * 7919) % len(squadron_ids)][0])
                  for i, pk in enumerate(pupil_ids)]  # fmt: skip
    schools = [School(tenant.code, prefecture, pk, s.name, s.area.value, s.kind.value)
               for s, pk in zip(plan.schools, brigades, strict=True)]  # fmt: skip
    return schools, roster, sizes


def build(engine: Engine, args: argparse.Namespace) -> Province:
    with engine.begin() as conn:
        Migrator().upgrade_shared(conn)
    for code, name in PREFECTURES.items():
        create_prefecture(engine, code, name, PROVINCE[0])
    province = Province()
    t0 = time.perf_counter()
    for n, (code, name, prefecture, urban) in enumerate(county_list(args.counties, args.others)):
        create_county(engine, Migrator(), code, name, code[:2], prefecture)
        with engine.connect() as conn:
            tenant = load_tenant(conn, code)
        plan = plan_schools(code, name, urban, args.schools)
        schools, roster, sizes = write_county(
            engine, tenant, plan, prefecture or code[:4], args.pupils, args.seed + n
        )
        province.units.update(sizes)
        province.pupils_n += len(roster)
        if prefecture is not None:
            province.codes.append(code)
            province.schools += schools
            province.pupils[code] = roster
        if (n + 1) % 20 == 0:
            print(f"  {n + 1} counties, {time.perf_counter() - t0:.1f} s", flush=True)
    province.codes.sort()
    return province


# --- pairing (untimed; by the service's own rules) ---------------------------------------------


@dataclass
class Expected:
    """What the coordination view must show: active partners of each school, each county's
    pupils in active pairs."""

    partners: Counter[tuple[str, int]] = field(default_factory=Counter)
    pupils: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    states: Counter[tuple[str, str]] = field(default_factory=Counter)


def _school_pairing(conn: Connection, a: School, b: School) -> int:
    category = "migrant" if SchoolKind.MIGRANT in (a.kind, b.kind) else "urban_rural"
    pk = rules.propose(conn, PairingLevel.SCHOOL, a.side, b.side, proposer=PROPOSER, by=BY,
                       category=category, goals="送教下乡，每学期至少一次联合活动")  # fmt: skip
    rules.accept(conn, pk, a.county, by=BY)
    if b.county != a.county:
        rules.accept(conn, pk, b.county, by=BY)
    return pk


def pair_schools(engine: Engine, province: Province, args: argparse.Namespace) -> Expected:
    rng = random.Random(args.seed)
    expected = Expected()
    schools = province.schools
    weak = [s for s in schools if s.area == Area.RURAL or s.kind == SchoolKind.MIGRANT]
    rng.shuffle(weak)
    strong: dict[str, list[School]] = defaultdict(list)
    for s in schools:
        if s.strong:
            strong[s.county].append(s)
    prefecture_of = {s.county: s.prefecture for s in schools}
    load: Counter[tuple[str, int]] = Counter()
    paired: set[tuple[str, int]] = set()
    goal = args.paired * len(schools)
    left = []
    with engine.begin() as conn:
        for school in weak:
            if len(paired) >= goal:
                left.append(school)
                continue
            here = [u for u in strong[school.county] if load[u.county, u.id] < coordination.SPARE]
            there = [u for county, us in strong.items() if county != school.county
                     and prefecture_of[county] == school.prefecture for u in us
                     if load[u.county, u.id] < coordination.SPARE]  # fmt: skip
            choices = there if (rng.random() < args.across and there) or not here else here
            if not choices:
                left.append(school)
                continue
            partner = rng.choice(choices)
            _school_pairing(conn, partner, school)
            for s in (partner, school):
                load[s.county, s.id] += 1
                paired.add((s.county, s.id))
            expected.states["school", "active"] += 1
    expected.partners = load
    # Among schools still without a partner: proposals of the province waiting for a side,
    # and pairings made and ended; neither makes a school paired.
    free = [u for us in strong.values() for u in us if load[u.county, u.id] == 0]
    rng.shuffle(free)
    active = expected.states["school", "active"]
    with engine.begin() as conn:
        for k, (school, partner) in enumerate(zip(left, free, strict=False)):
            if k < active // 10:
                pk = rules.propose(conn, PairingLevel.SCHOOL, partner.side, school.side,
                                   proposer=PROPOSER, by=BY, category="urban_rural")  # fmt: skip
                if partner.county != school.county:
                    rules.accept(conn, pk, partner.county, by=BY)
                expected.states["school", "proposed"] += 1
            elif k < active // 10 + active // 20:
                pk = _school_pairing(conn, partner, school)
                rules.end(conn, pk, school.county, "学期结束，结对期满", by=BY)
                expected.states["school", "ended"] += 1
    return expected


def pair_pupils(
    engine: Engine, province: Province, expected: Expected, args: argparse.Namespace
) -> None:
    """Each county's counselors pair `--pupil-pairs` pupils of two schools; a quarter with a
    pupil of another county, once both families gave their separate consent."""
    rng = random.Random(args.seed + 1)
    across_n = args.pupil_pairs // 4
    free = {c: list(p) for c, p in province.pupils.items()}
    for ps in free.values():
        rng.shuffle(ps)
    plans: list[tuple[str, int, str, int]] = []
    for county in province.codes:
        for k in range(args.pupil_pairs):
            if k < across_n:
                other = rng.choice([c for c in province.codes if c != county])
            else:
                other = county
            a = free[county].pop()
            b = next(p for p in free[other] if p[1] != a[1])
            free[other].remove(b)
            plans.append((county, a[0], other, b[0]))
    consenting: dict[str, list[int]] = defaultdict(list)
    for county, a, other, b in plans:
        if county != other:
            consenting[county].append(a)
            consenting[other].append(b)
    with engine.connect() as conn:
        tenants_by_code = {c: load_tenant(conn, c) for c in consenting}
    for county, ids in consenting.items():
        with tenant_connection(engine, tenants_by_code[county]) as conn:
            for pk in ids:
                guardian = conn.execute(
                    insert(guardians).values(name=person(rng, False, adult=True))
                    .returning(guardians.c.id)
                ).scalar_one()  # fmt: skip
                conn.execute(insert(guardian_bindings).values(
                    guardian_id=guardian, pupil_id=pk, relation="mother",
                    verified_at=dt.datetime.now(dt.UTC), verified_by="school"))  # fmt: skip
                rules.give_consent(conn, pk, guardian, "2026-09")
    with engine.begin() as conn:
        for county, a, other, b in plans:
            pk = rules.propose(conn, PairingLevel.PUPIL, Side(county, "pupil", a),
                               Side(other, "pupil", b), proposer=f"county:{county}", by=BY,
                               county=county)  # fmt: skip
            if other != county:
                rules.accept(conn, pk, other, by=BY)
            expected.pupils[county].add(a)
            expected.pupils[other].add(b)
            expected.states["pupil", "active"] += 1


def expected_coverage(province: Province, expected: Expected) -> list[tuple[Any, ...]]:
    """(county, schools, paired, rural, rural paired, migrant, migrant paired, pupils in pairs)
    of each county, as the view must count them."""
    found = []
    for county in province.codes:
        schools = [s for s in province.schools if s.county == county]
        paired = [s for s in schools if expected.partners[s.county, s.id]]
        found.append((
            county, len(schools), len(paired), sum(s.area == "rural" for s in schools),
            sum(s.area == "rural" for s in paired), sum(s.kind == "migrant" for s in schools),
            sum(s.kind == "migrant" for s in paired), len(expected.pupils[county]),
        ))  # fmt: skip
    return found


def coverage_rows(found: Sequence[Any]) -> list[tuple[Any, ...]]:
    return [(c.county, c.schools, c.schools_paired, c.rural_schools, c.rural_paired,
             c.migrant_schools, c.migrant_paired, c.pupils_in_pairs) for c in found]  # fmt: skip


def check_domain(engine: Engine, province: Province, expected: Expected) -> dict[str, Any]:
    """The domain's answers, checked against what the pairings made."""
    with engine.connect() as conn:
        covered = coordination.coverage(conn, province.codes)
        lonely = coordination.unpaired(conn, province.codes)
        suggested = coordination.suggest(conn, province.codes)
    assert coverage_rows(covered) == expected_coverage(province, expected)
    should = {(s.county, s.id) for s in province.schools if not expected.partners[s.county, s.id]}
    assert {(s.county, s.id) for s in lonely} == should
    assert len(lonely) == len(should)
    assert 0 < len(suggested) <= 100, len(suggested)
    for pair in suggested:
        assert pair.rural.partners == 0, pair
        assert pair.urban.area == "urban", pair
    return {"coverage": covered, "unpaired": lonely, "suggest": suggested}


def api_expected(answers: dict[str, Any]) -> dict[str, Any]:
    """The domain's answers as the API renders them."""

    def school(s: coordination.School) -> dict[str, Any]:
        return {"unitId": encode_global_id("Unit", s.county, s.id), "countyCode": s.county,
                "name": s.name, "area": s.area.upper(), "schoolKind": (s.school_kind or "").upper(),
                "partners": s.partners}  # fmt: skip

    return {
        "coverage": [{"countyCode": c.county, "countyName": c.name, "schools": c.schools,
                      "schoolsPaired": c.schools_paired, "ruralSchools": c.rural_schools,
                      "ruralPaired": c.rural_paired, "migrantSchools": c.migrant_schools,
                      "migrantPaired": c.migrant_paired, "pupilsInPairs": c.pupils_in_pairs}
                     for c in answers["coverage"]],
        "unpaired": [school(s) for s in answers["unpaired"]],
        "suggest": [{"school": school(p.rural), "partner": school(p.urban)}
                    for p in answers["suggest"]],
    }  # fmt: skip


def sizes(engine: Engine, province: Province, answers: dict[str, Any]) -> str:
    with engine.connect() as conn:
        by_state = conn.execute(
            select(pairings.c.level, pairings.c.state, func.count())
            .group_by(pairings.c.level, pairings.c.state).order_by(pairings.c.level, pairings.c.state)
        ).all()  # fmt: skip
        counties = conn.execute(text("SELECT count(*) FROM shared.tenants")).scalar_one()
    kinds = Counter(s.kind for s in province.schools)
    areas = Counter(s.area for s in province.schools)
    u = province.units
    return "\n".join([
        f"counties: {len(province.codes)} of province {PROVINCE[0]} ({counties} onboarded in all)",
        f"schools (brigades) of the province: {len(province.schools):,} (rural {areas['rural']:,},"
        f" urban {areas['urban']:,}; migrant-children {kinds['migrant']}, demonstration"
        f" {kinds['demonstration']}, ordinary {kinds['ordinary']:,}), and {len(province.codes)}"
        " archived",
        f"units in all counties: {sum(u.values()) + counties:,} (townships {u['township']:,},"
        f" communities {u['community']:,}, brigades {u['brigade']:,}, squadrons"
        f" {u['squadron']:,}, teams {u['team']:,}); pupils {province.pupils_n:,}",
        "pairings: " + ", ".join(f"{level} {state} {n:,}" for level, state, n in by_state),
        f"answers: coverage of {len(answers['coverage'])} counties, {len(answers['unpaired']):,}"
        f" unpaired schools, {len(answers['suggest'])} suggested pairs",
    ])  # fmt: skip


# --- measuring --------------------------------------------------------------------------------


def province_token(settings: Settings) -> str:
    engine = make_engine(sqlalchemy_url(settings.database_url or ""), settings, pool_size=1)
    keys = load_keys(settings)
    with engine.begin() as conn:
        user = create_user(
            conn, keys.cipher, display_name="团省委少年部", username="bench-province"
        )
        grant_role(conn, user, Role.PROVINCE_ADMIN, None, PROVINCE[0], granted_by=None)
        long = settings.model_copy(
            update={"access_token_minutes": 600, "idle_timeout_minutes": 600}
        )
        token = start_session(conn, keys, long, user, mfa=True, client="bench").access_token
    engine.dispose()
    return token


@dataclass
class Cell:
    wall: float
    latencies: list[float]
    busy: float
    before: str
    after: str


def threads(call: Callable[[], Any], requests: int, clients: int) -> Cell:
    """`clients` threads make `requests` calls in all, back to back."""
    latencies: list[float] = []
    taking = threading.Lock()
    left = [requests]
    start = threading.Barrier(clients + 1)

    def client() -> None:
        start.wait()
        while True:
            with taking:
                if not left[0]:
                    return
                left[0] -= 1
            t0 = time.perf_counter()
            call()
            latencies.append(time.perf_counter() - t0)

    running = [threading.Thread(target=client) for _ in range(clients)]
    for thread in running:
        thread.start()
    before, (busy0, total0) = loadavg(), cpu_ticks()
    start.wait()
    t0 = time.perf_counter()
    for thread in running:
        thread.join()
    wall = time.perf_counter() - t0
    busy1, total1 = cpu_ticks()
    return Cell(wall, latencies, (busy1 - busy0) / max(1, total1 - total0), before, loadavg())


async def tasks(call: Callable[[], Any], requests: int, clients: int) -> Cell:
    """`clients` asyncio tasks make `requests` calls in all, back to back."""
    latencies: list[float] = []
    left = [requests]

    async def client() -> None:
        while left[0]:
            left[0] -= 1
            t0 = time.perf_counter()
            await call()
            latencies.append(time.perf_counter() - t0)

    before, (busy0, total0) = loadavg(), cpu_ticks()
    t0 = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    wall = time.perf_counter() - t0
    busy1, total1 = cpu_ticks()
    return Cell(wall, latencies, (busy1 - busy0) / max(1, total1 - total0), before, loadavg())


def wait_quiet(limit: float = 120.0, idle: float = 0.15, seconds: int = 3) -> None:
    """Wait (at most `limit` seconds) until the machine's CPU has been under `idle` busy for
    `seconds` seconds in a row: a cell should not start while something else runs."""
    t0, calm = time.perf_counter(), 0
    busy0, total0 = cpu_ticks()
    while calm < seconds and time.perf_counter() - t0 < limit:
        time.sleep(1)
        busy1, total1 = cpu_ticks()
        calm = calm + 1 if (busy1 - busy0) / max(1, total1 - total0) < idle else 0
        busy0, total0 = busy1, total1
    if time.perf_counter() - t0 > seconds + 2:
        print(f"  (waited {time.perf_counter() - t0:.0f} s for a quiet machine)", flush=True)


def ms(values: list[float], q: float) -> str:
    return f"{percentile(values, q) * 1000:.1f}"


def line(query: str, path: str, clients: int, cell: Cell) -> str:
    t = cell.latencies
    return (
        f"| {TITLES[query]} | {path} | {clients} | {len(t)} | {len(t) / cell.wall:,.1f}"
        f" | {ms(t, 0.5)} | {ms(t, 0.95)} | {ms(t, 0.99)} | {max(t) * 1000:.1f}"
        f" | {cell.busy:.0%} | {cell.before} → {cell.after} |"
    )


def domain_calls(engine: Engine, codes: list[str]) -> dict[str, Callable[[], Any]]:
    def call(work: Callable[[Connection], Any]) -> Callable[[], Any]:
        def run() -> Any:
            with engine.connect() as conn:
                found = work(conn)
                conn.commit()
            return found

        return run

    return {
        "coverage": call(lambda c: coordination.coverage(c, codes)),
        "unpaired": call(lambda c: coordination.unpaired(c, codes)),
        "suggest": call(lambda c: coordination.suggest(c, codes, limit=100)),
    }


def measure_domain(
    engine: Engine, codes: list[str], levels: list[int], args: argparse.Namespace
) -> list[str]:
    calls = domain_calls(engine, codes)
    for call in calls.values():
        for _ in range(args.warmup):
            call()
    lines = []
    for clients in levels:
        for query, call in calls.items():
            wait_quiet()
            lines.append(line(query, "domain", clients, threads(call, args.requests, clients)))
            print(lines[-1], flush=True)
    return lines


async def measure_api(
    settings: Settings, expected: dict[str, Any], levels: list[int], args: argparse.Namespace
) -> list[str]:
    token = province_token(settings)
    port = args.port or _free_port()
    server = start_server(settings, port)
    lines = []
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", timeout=60,
            headers={"Authorization": f"Bearer {token}"}, limits=httpx.Limits(max_connections=16),
        ) as http:  # fmt: skip

            def call(query: str) -> Callable[[], Any]:
                async def run() -> None:
                    response = await http.post("/graphql", json={"query": QUERIES[query]})
                    body = response.json()
                    assert not body.get("errors"), body["errors"]
                    assert len(body["data"][FIELDS[query]]) == len(expected[query])

                return run

            for query in QUERIES:  # the whole answer once, then the warm-up
                response = await http.post("/graphql", json={"query": QUERIES[query]})
                assert response.json()["data"][FIELDS[query]] == expected[query], query
                for _ in range(args.warmup):
                    await call(query)()
            for clients in levels:
                for query in QUERIES:
                    wait_quiet()  # the server idles meanwhile
                    cell = await tasks(call(query), args.requests, clients)
                    lines.append(line(query, "API", clients, cell))
                    print(lines[-1], flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return lines


def probe(engine: Engine, codes: list[str], repeat: int = 20) -> list[str]:
    """One client: each function's statements per call and the time spent executing them
    (the driver's execute, round trip included), against the whole call."""
    spent: list[float] = []
    started: list[float] = []

    def before(*_: Any) -> None:
        started.append(time.perf_counter())

    def after(*_: Any) -> None:
        spent.append(time.perf_counter() - started.pop())

    lines = [
        "| function | statements per call | in statements (ms) | whole call (ms) |",
        "|---|---|---|---|",
    ]
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        for query, call in domain_calls(engine, codes).items():
            calls, statements, inside = [], [], []
            for _ in range(repeat):
                spent.clear()
                t0 = time.perf_counter()
                call()
                calls.append(time.perf_counter() - t0)
                statements.append(len(spent))
                inside.append(sum(spent))
            lines.append(
                f"| `{query}` | {max(statements)} | {ms(inside, 0.5)} | {ms(calls, 0.5)} |"
            )
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    return lines


def explain(engine: Engine, codes: list[str]) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of the first statement of each shape `coverage` runs (the
    schools of the first county stand for every county's)."""
    captured: list[tuple[str, Any]] = []

    def keep(_c: Any, _cur: Any, statement: str, parameters: Any, *_: Any) -> None:
        captured.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        with engine.connect() as conn:
            coordination.coverage(conn, codes)
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    shown: set[str] = set()
    with engine.connect() as conn:
        for statement, parameters in captured:
            shape = re.sub(r"county_\d+", "county_N", statement)
            if shape in shown:
                continue
            shown.add(shape)
            plan = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {statement}", parameters)
            print("\n" + " ".join(statement.split())[:300])
            print("\n".join(f"    {r[0]}" for r in plan))


MEASURED = ("domain/pairing/coverage.py", "resolvers/pairing.py", "domain/org/tables.py")


def fingerprint() -> str:
    """The first 12 hex digits of the SHA-256 of each file measured."""
    root = Path(__file__).resolve().parent.parent
    return ", ".join(
        f"{name} {hashlib.sha256((root / name).read_bytes()).hexdigest()[:12]}" for name in MEASURED
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counties", type=int, default=100, help="counties of the province")
    parser.add_argument("--others", type=int, default=2, help="counties of another province")
    parser.add_argument("--schools", type=int, default=30, help="schools per county")
    parser.add_argument("--pupils", type=int, default=400, help="pupils per county")
    parser.add_argument("--paired", type=float, default=0.5, help="share of schools paired")
    parser.add_argument("--across", type=float, default=0.4, help="share paired across counties")
    parser.add_argument("--pupil-pairs", type=int, default=20, help="pupil pairings per county")
    parser.add_argument("--requests", type=int, default=200, help="calls per cell")
    parser.add_argument("--warmup", type=int, default=20, help="untimed calls per query first")
    parser.add_argument("--levels", default="1,4", help="concurrent clients to try")
    parser.add_argument("--paths", default="domain,api", help="domain, api or both")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE of coverage")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database", default="redscarf_bench_pairing")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    paths = args.paths.split(",")

    print(f"{platform.node()}: {os.cpu_count()} CPUs, Python {platform.python_version()};"
          f" load average {loadavg()}")  # fmt: skip
    code = fingerprint()
    print(f"code measured: {code}")
    server = server_url()
    url = fresh_database(server, args.database)
    settings = Settings(database_url=libpq_url(url), data_dir=Settings().data_dir / "bench-pairing")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(url, settings, pool_size=max(levels), max_overflow=0)
    output: list[str] = []
    try:
        t0 = time.perf_counter()
        province = build(engine, args)
        print(f"counties built in {time.perf_counter() - t0:.1f} s", flush=True)
        t0 = time.perf_counter()
        expected = pair_schools(engine, province, args)
        pair_pupils(engine, province, expected, args)
        print(f"pairings made in {time.perf_counter() - t0:.1f} s", flush=True)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
        answers = check_domain(engine, province, expected)
        # What the build left in this process is no part of the domain's work: keep the
        # collector from scanning it again in every full collection on the clock.
        gc.collect()
        gc.freeze()
        output += [sizes(engine, province, answers), ""]
        print(output[0], flush=True)
        if args.explain:
            explain(engine, province.codes)
        output += [
            "| query | path | clients | requests | requests/s | p50 (ms) | p95 (ms) | p99 (ms)"
            " | max (ms) | machine CPU busy | load average |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        if "domain" in paths:
            output += measure_domain(engine, province.codes, levels, args)
        if "api" in paths:
            output += asyncio.run(measure_api(settings, api_expected(answers), levels, args))
        output += ["", *probe(engine, province.codes)]
    finally:
        engine.dispose()
        if not args.keep:
            print(f"dropped {args.database} and {drop_database(server, args.database)} roles")
    if fingerprint() != code:
        print(f"THE CODE CHANGED DURING THE RUN: now {fingerprint()}")
    print(f"all checks passed; load average {loadavg()}; code measured: {code}")
    print("\n" + "\n".join(output))


if __name__ == "__main__":
    main()
