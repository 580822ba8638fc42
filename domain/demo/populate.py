"""Writing a county's demo data, school by school, resumable.

The county's structure (root, townships, communities) is one step, and each school (its
brigade, squadrons, teams, pupils, guardians and counselors) is one more; each step is one
transaction of the county's own role (`tenant_connection`) that also records the step in
`completed_steps`. A rerun with the same `run_key` skips recorded steps, so a run that stopped
midway, run again, ends with exactly the data of an uninterrupted run. Recording the step
first also makes two concurrent runs safe: the second waits on the first's row and skips.

Rows go in with COPY (one per table per school); ids are drawn from the tables' own identity
sequences first so that children can name their parents without a round trip per row.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Engine, func, select, update
from sqlalchemy.dialects.postgresql import insert

from domain.demo.names import given_name, numeral, person, surname
from domain.demo.plan import ROOT_LABEL, CountyPlan, SchoolPlan, plan_county
from domain.org.tables import Area, UnitKind, units
from domain.people import tables as people
from domain.people.names import pinyin_of
from domain.people.tables import CounselorKind, PupilStatus
from redscarf.errors import Conflict, InvalidInput
from tenants.sessions import Tenant, tenant_connection
from tenants.steps import completed_steps, done_steps

STRUCTURE_STEP = "structure"

UNIT_COLUMNS = ("id", "parent_id", "kind", "name", "path", "area", "school_kind", "grade")
PUPIL_COLUMNS = (
    "id",
    "squadron_id",
    "team_id",
    "name",
    "gender",
    "birth_date",
    "grade",
    "status",
    "joined_on",
    "batch",
    "name_pinyin",
    "name_initials",
)
GUARDIAN_COLUMNS = ("id", "name", "registered_at")
BINDING_COLUMNS = ("guardian_id", "pupil_id", "relation", "verified_at")
COUNSELOR_COLUMNS = ("name", "kind", "unit_id", "appointed_on")

BOUND_SHARE = 0.9  # pupils whose family registered and bound them (Lingshui: 15,762 of ~19,700)
SIBLING_SHARE = (
    0.08  # pupils with a brother or sister in the same school (one guardian, two children)
)
TWO_GUARDIANS_SHARE = 0.2  # families where both parents registered
VERIFIED_SHARE = 0.95
# 分批入队: a first batch on 建队日 (13 October) of grade 1, a second on 六一 at its end, the rest
# on 建队日 of grade 2.
BATCHES = ((1, 10, 13, 0, 0.45), (2, 6, 1, 1, 0.45), (3, 10, 13, 1, 0.10))
RELATIONS = {  # relation → (male, same surname as the child); weights by area below
    "mother": (False, False),
    "father": (True, True),
    "grandmother": (False, False),
    "grandfather": (True, True),
    "other": (True, False),
}
RELATION_WEIGHTS = {
    # Rural: many children live with grandparents while parents work away (留守儿童).
    Area.RURAL: (35, 25, 22, 13, 5),
    Area.URBAN: (50, 35, 8, 5, 2),
}


class DemoRunMismatch(Conflict):
    code = "DEMO_RUN_MISMATCH"
    message = "同一批次的演示数据已用其他参数生成过，请换一个 run_key 或使用新的县（区）"


class DemoCountyNotEmpty(Conflict):
    code = "DEMO_COUNTY_NOT_EMPTY"
    message = "该县（区）已有组织架构数据，不能再生成演示数据"


def populate_county(
    engine: Engine,
    tenant: Tenant,
    *,
    pupils: int,
    seed: int,
    run_key: str,
    urban: bool | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> int:
    """Fill one county with demo data; returns the number of pupils in the county afterwards.

    The data depends only on (seed, pupils, urban, the county's name) and the date of the first
    run (birth dates and 入队 batches follow the academic year of that date). `on_progress`
    receives (schools done, schools in all) after each school's commit.
    """
    if pupils < 1:
        raise InvalidInput("演示数据的队员人数至少为 1", code="DEMO_PUPILS")
    plan = plan_county(seed=seed, pupils=pupils, urban=urban, county_name=tenant.name)
    _write_structure(engine, tenant, plan, run_key)

    with tenant_connection(engine, tenant) as conn:
        done = done_steps(conn, run_key)
        as_of = _as_of(conn, run_key)
        parents = {
            row.path: row.id
            for row in conn.execute(
                select(units.c.path, units.c.id).where(
                    units.c.kind.in_([UnitKind.COUNTY, UnitKind.TOWNSHIP, UnitKind.COMMUNITY])
                )
            )
        }
    sequences = _sequences(engine, tenant)
    total = len(plan.schools)
    finished = sum(1 for s in plan.schools if f"school:{s.index}" in done)
    for school in plan.schools:
        step = f"school:{school.index}"
        if step in done:
            continue
        with tenant_connection(engine, tenant) as conn:
            if _claim(conn, run_key, step):
                _write_school(conn, tenant, sequences, plan, school, parents, as_of)
        finished += 1
        if on_progress is not None:
            on_progress(finished, total)

    with tenant_connection(engine, tenant) as conn:
        _first_appointments(conn)
        return conn.execute(select(func.count()).select_from(people.pupils)).scalar_one()


def _first_appointments(conn: Connection) -> None:
    """Counselors written by COPY get their first appointment (again and again: idempotent)."""
    appointments = people.counselor_appointments
    counselors = people.counselors
    conn.execute(
        insert(appointments).from_select(
            ["counselor_id", "unit_id", "kind", "started_on"],
            select(
                counselors.c.id,
                counselors.c.unit_id,
                counselors.c.kind,
                func.coalesce(counselors.c.appointed_on, func.current_date()),
            ).where(
                ~select(appointments.c.id)
                .where(appointments.c.counselor_id == counselors.c.id)
                .exists()
            ),
        )
    )


# --- steps -----------------------------------------------------------------------------------


def _write_structure(engine: Engine, tenant: Tenant, plan: CountyPlan, run_key: str) -> None:
    plan_step = f"plan:{plan.fingerprint}"
    with tenant_connection(engine, tenant) as conn:
        done = done_steps(conn, run_key)
        if done and plan_step not in done:
            raise DemoRunMismatch(
                f"{tenant.name} 的演示数据批次 {run_key} 已用其他参数（队员人数、种子或城乡）生成过；"
                "请换一个种子（--seed）或使用新的县（区）"
            )
        if STRUCTURE_STEP in done:
            return
        if conn.execute(select(units.c.id).where(units.c.kind != UnitKind.COUNTY)).first():
            raise DemoCountyNotEmpty(
                f"{tenant.name} 已有组织架构数据，演示数据只能生成到空的县（区）里"
            )
        if not _claim(conn, run_key, STRUCTURE_STEP):
            return  # a concurrent run did it meanwhile
        _claim(conn, run_key, plan_step)
        root_area = {True: Area.URBAN.value, False: Area.RURAL.value, None: None}[plan.urban]
        # Onboarding made the root (migration t0010); the demo gives it its area.
        root_id = conn.execute(
            update(units)
            .where(units.c.path == ROOT_LABEL)
            .values(area=root_area)
            .returning(units.c.id)
        ).scalar_one()
        ids = _allocate(_cursor(conn), _sequences_from(conn, tenant)["units"], len(plan.areas))
        by_path = {ROOT_LABEL: root_id}
        rows: list[tuple[Any, ...]] = []
        for unit_id, area in zip(ids, plan.areas, strict=True):
            by_path[area.path] = unit_id
            parent = by_path[area.path.rsplit(".", 1)[0]]
            rows.append(
                (
                    unit_id,
                    parent,
                    area.kind.value,
                    area.name,
                    area.path,
                    area.area.value,
                    None,
                    None,
                )
            )
        _copy(conn, tenant, "units", UNIT_COLUMNS, rows)


def _write_school(
    conn: Connection,
    tenant: Tenant,
    sequences: dict[str, str],
    plan: CountyPlan,
    school: SchoolPlan,
    parents: dict[str, int],
    as_of: dt.date,
) -> None:
    rng = random.Random(f"redscarf-demo|{plan.seed}|{plan.urban}|school|{school.index}")
    cur = _cursor(conn)
    year = as_of.year if as_of.month >= 9 else as_of.year - 1  # academic year starts in September
    n_teams = sum(s.teams for s in school.squadrons)
    unit_ids = iter(_allocate(cur, sequences["units"], 1 + len(school.squadrons) + n_teams))

    # Units: the brigade, its squadrons, their teams.
    brigade_id = next(unit_ids)
    unit_rows: list[tuple[Any, ...]] = [
        (
            brigade_id,
            parents[school.parent_path],
            UnitKind.BRIGADE.value,
            school.name,
            school.path,
            school.area.value,
            school.kind.value,
            None,
        )
    ]
    squadrons: list[tuple[int, list[int]]] = []  # (squadron id, team ids)
    for k, squadron in enumerate(school.squadrons, start=1):
        squadron_id, path = next(unit_ids), f"{school.path}.s{k}"
        unit_rows.append(
            (squadron_id, brigade_id, UnitKind.SQUADRON.value, squadron.name, path, school.area.value, None, squadron.grade)
        )  # fmt: skip
        teams = []
        for j in range(1, squadron.teams + 1):
            team_id = next(unit_ids)
            teams.append(team_id)
            unit_rows.append(
                (team_id, squadron_id, UnitKind.TEAM.value, f"第{numeral(j)}小队", f"{path}.m{j}", school.area.value, None, None)
            )  # fmt: skip
        squadrons.append((squadron_id, teams))

    # Pupils: [surname, given name, row fields...]; siblings get their elder's surname below.
    roster: list[list[Any]] = []
    for (squadron_id, teams), squadron in zip(squadrons, school.squadrons, strict=True):
        grade = squadron.grade
        born_from = dt.date(year - 6 - grade, 9, 1)
        first_year = year - grade + 1  # the autumn this pupil entered grade 1
        members = 0
        for _ in range(squadron.pupils):
            male = rng.random() < 0.52
            family = surname(rng)
            given = given_name(rng, male)
            birth = born_from + dt.timedelta(days=rng.randrange(365))
            draw, joined, batch, team = rng.random(), None, None, None
            status = PupilStatus.PRE_MEMBER.value
            for number, month, day, years_after, share in BATCHES:
                if draw < share:
                    day_joined = dt.date(first_year + years_after, month, day)
                    if day_joined <= as_of:
                        status, joined = PupilStatus.MEMBER.value, day_joined
                        batch = f"{first_year}级第{numeral(number)}批"
                    break
                draw -= share
            if status == PupilStatus.MEMBER.value:
                if rng.random() < 0.003:
                    status = PupilStatus.TRANSFERRED.value
                else:
                    team = teams[members % len(teams)]
                    members += 1
            roster.append(
                [family, given, squadron_id, team, "male" if male else "female", birth, grade, status, joined, batch]
            )  # fmt: skip

    # Families: most pupils are an only child in this school; some pairs are siblings two or
    # more grades apart, who share a surname and their guardians.
    order = list(range(len(roster)))
    rng.shuffle(order)
    partner: dict[int, int] = {}
    wanted = round(len(roster) * SIBLING_SHARE / 2)
    for a in order:
        if len(partner) >= 2 * wanted:
            break
        if a in partner:
            continue
        b = rng.choice(order)
        if b in partner or b == a or abs(roster[a][6] - roster[b][6]) < 2:
            continue
        partner[a], partner[b] = b, a
        younger = a if roster[a][6] < roster[b][6] else b
        roster[younger][0] = roster[partner[younger]][0]
    families: list[list[int]] = []
    for i in range(len(roster)):
        if i not in partner:
            families.append([i])
        elif i < partner[i]:
            families.append([i, partner[i]])

    pupil_ids = _allocate(cur, sequences["pupils"], len(roster))
    pupil_rows = [
        (
            pupil_id,
            e[2],
            e[3],
            e[0] + e[1],
            e[4],
            e[5],
            e[6],
            e[7],
            e[8],
            e[9],
            *_pinyin(e[0] + e[1]),
        )
        for pupil_id, e in zip(pupil_ids, roster, strict=True)
    ]

    # Guardians and their bindings.
    weights = RELATION_WEIGHTS[school.area]
    relations = tuple(RELATIONS)
    guardian_plan: list[tuple[str, str, list[int]]] = []  # (name, relation, pupil indexes)
    for family in families:
        if rng.random() >= BOUND_SHARE:
            continue
        family_name = roster[family[0]][0]
        if rng.random() < TWO_GUARDIANS_SHARE:
            chosen: Iterable[str] = ("father", "mother")
        else:
            chosen = rng.choices(relations, weights=weights)
        for relation in chosen:
            male, same = RELATIONS[relation]
            name = person(rng, male, adult=True, family=family_name if same else None)
            guardian_plan.append((name, relation, family))
    guardian_ids = _allocate(cur, sequences["guardians"], len(guardian_plan))
    tz = dt.UTC
    start = dt.datetime(as_of.year, as_of.month, as_of.day, 8, tzinfo=tz)
    guardian_rows = []
    binding_rows = []
    for guardian_id, (name, relation, family) in zip(guardian_ids, guardian_plan, strict=True):
        registered = start - dt.timedelta(minutes=rng.randrange(300 * 24 * 60))
        guardian_rows.append((guardian_id, name, registered))
        for i in family:
            verified = (
                registered + dt.timedelta(minutes=rng.randrange(5, 3 * 24 * 60))
                if rng.random() < VERIFIED_SHARE
                else None
            )
            binding_rows.append((guardian_id, pupil_ids[i], relation, verified))

    # Counselors: one per brigade, squadron and team; external counselors of the school.
    def appointed() -> dt.date:
        return dt.date(year - rng.randrange(6), 9, 1)

    def teacher() -> str:
        return person(rng, rng.random() < 0.3, adult=True)

    counselor_rows = [(teacher(), CounselorKind.BRIGADE.value, brigade_id, appointed())]
    for squadron_id, teams in squadrons:
        counselor_rows.append((teacher(), CounselorKind.SQUADRON.value, squadron_id, appointed()))
        counselor_rows.extend(
            (teacher(), CounselorKind.TEAM.value, team_id, appointed()) for team_id in teams
        )
    counselor_rows.extend(
        (person(rng, rng.random() < 0.5, adult=True), CounselorKind.EXTERNAL.value, brigade_id, appointed())
        for _ in range(school.external_counselors)
    )  # fmt: skip

    _copy(conn, tenant, "units", UNIT_COLUMNS, unit_rows)
    _copy(conn, tenant, "pupils", PUPIL_COLUMNS, pupil_rows)
    _copy(conn, tenant, "guardians", GUARDIAN_COLUMNS, guardian_rows)
    _copy(conn, tenant, "guardian_bindings", BINDING_COLUMNS, binding_rows)
    _copy(conn, tenant, "counselors", COUNSELOR_COLUMNS, counselor_rows)


# --- database helpers ------------------------------------------------------------------------


@lru_cache(maxsize=65_536)
def _pinyin(name: str) -> tuple[str, str]:
    return pinyin_of(name)  # names repeat often across a county: computed once each


def _claim(conn: Connection, run_key: str, step: str) -> bool:
    """Record a step in this transaction; False if it is already recorded (or being recorded).

    What `tenants.steps.mark_step_done` does, with RETURNING instead of `rowcount`: SQLAlchemy
    2.1 reports -1 as the rowcount of an INSERT unless `preserve_rowcount` is set.
    """
    inserted = conn.execute(
        insert(completed_steps)
        .values(run_key=run_key, step=step)
        .on_conflict_do_nothing(index_elements=["run_key", "step"])
        .returning(completed_steps.c.step)
    ).first()
    return inserted is not None


def _as_of(conn: Connection, run_key: str) -> dt.date:
    """The date of the run's first step: the data is as of that day, however often resumed."""
    done_at = conn.execute(
        select(completed_steps.c.done_at).where(
            completed_steps.c.run_key == run_key, completed_steps.c.step == STRUCTURE_STEP
        )
    ).scalar_one()
    return done_at.astimezone(dt.UTC).date()


def _cursor(conn: Connection) -> Any:
    """A psycopg cursor on the same connection, inside the same transaction and role."""
    return conn.connection.driver_connection.cursor()  # type: ignore[union-attr]


def _qualified(tenant: Tenant, table: str) -> str:
    return f'"{tenant.schema_name}"."{table}"'


def _sequences_from(conn: Connection, tenant: Tenant) -> dict[str, str]:
    cur = _cursor(conn)
    found = {}
    for table in ("units", "pupils", "guardians"):
        cur.execute("SELECT pg_get_serial_sequence(%s, 'id')", (_qualified(tenant, table),))
        found[table] = cur.fetchone()[0]
    return found


def _sequences(engine: Engine, tenant: Tenant) -> dict[str, str]:
    with tenant_connection(engine, tenant) as conn:
        return _sequences_from(conn, tenant)


def _allocate(cur: Any, sequence: str, n: int) -> list[int]:
    if n == 0:
        return []
    cur.execute("SELECT nextval(%s::regclass) FROM generate_series(1, %s)", (sequence, n))
    return sorted(row[0] for row in cur.fetchall())


def _copy(
    conn: Connection,
    tenant: Tenant,
    table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
) -> None:
    cur = _cursor(conn)
    statement = f"COPY {_qualified(tenant, table)} ({', '.join(columns)}) FROM STDIN"
    with cur.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)
