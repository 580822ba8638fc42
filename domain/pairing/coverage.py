"""Coordination for a province or prefecture: how far pairing reaches in each county, the
schools still without a partner, and suggested pairs.

Schools are read from each county's own schema, all counties in one statement (a UNION ALL of
one SELECT per county's `units`: no join across counties, but one round trip instead of a
hundred); pairings come from the shared schema. A school counts as paired while it is a side
of an active school pairing; "reached" is the share of a kind of school (rural, for migrant
workers' children) that is paired; pupils in pairs are those of the county in an active pupil
pairing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, TableClause, column, literal, select, table, union_all

from domain.pairing.tables import PairingLevel, PairingState, pairings
from tenants.codes import schema_name
from tenants.registry import tenants

SPARE = 2
"""How many partners an urban school takes before it has no spare capacity (a suggestion's)."""


@dataclass(frozen=True)
class School:
    county: str
    id: int
    name: str
    area: str | None
    school_kind: str | None
    partners: int
    """Active school pairings it is a side of."""


@dataclass(frozen=True)
class Coverage:
    county: str
    name: str
    schools: int
    schools_paired: int
    rural_schools: int
    rural_paired: int
    migrant_schools: int
    migrant_paired: int
    pupils_in_pairs: int


@dataclass(frozen=True)
class Suggestion:
    rural: School
    urban: School


def _brigades(county: str) -> TableClause:
    """The county's `units`, as much of it as the schools' statement reads."""
    return table("units", column("id"), column("name"), column("area"), column("school_kind"),
                 column("kind"), column("archived_at"), column("path"),
                 schema=schema_name(county))  # fmt: skip


def _schools(conn: Connection, counties: Sequence[str],
             partners: dict[tuple[str, int], int]) -> list[School]:  # fmt: skip
    """The schools of `counties`, county by county in the order given, each in path order."""
    if not counties:
        return []
    parts = []
    for n, county in enumerate(counties):
        u = _brigades(county).c
        parts.append(select(literal(n).label("n"), u.id, u.name, u.area, u.school_kind, u.path)
                     .where(u.kind == "brigade", u.archived_at.is_(None)))  # fmt: skip
    rows = conn.execute(union_all(*parts).order_by("n", "path")).all()
    return [School(counties[n], pk, name, area, kind, partners.get((counties[n], pk), 0))
            for n, pk, name, area, kind, _ in rows]  # fmt: skip


def _active(
    conn: Connection, counties: Sequence[str], level: PairingLevel
) -> list[tuple[str, str, int]]:
    """(county, kind, id) of every side in `counties` of an active pairing of `level`."""
    found = []
    for prefix in ("a", "b"):
        found += conn.execute(
            select(pairings.c[f"{prefix}_county"], pairings.c[f"{prefix}_kind"],
                   pairings.c[f"{prefix}_id"])
            .where(pairings.c.state == PairingState.ACTIVE.value, pairings.c.level == level.value,
                   pairings.c[f"{prefix}_county"].in_(list(counties)))
        ).all()  # fmt: skip
    return [(str(c), str(k), int(i)) for c, k, i in found]


def schools_of(conn: Connection, counties: Sequence[str]) -> list[School]:
    """Every school of `counties`, with how many active partners it has."""
    partners: dict[tuple[str, int], int] = defaultdict(int)
    for county, _, pk in _active(conn, counties, PairingLevel.SCHOOL):
        partners[(county, pk)] += 1
    return _schools(conn, counties, partners)


def coverage(conn: Connection, counties: Sequence[str]) -> list[Coverage]:
    """Pairing coverage of each county, in the order given."""
    names = dict(conn.execute(select(tenants.c.code, tenants.c.name)
                              .where(tenants.c.code.in_(list(counties)))).all())  # fmt: skip
    pupils: dict[str, set[int]] = defaultdict(set)
    for county, _, pk in _active(conn, counties, PairingLevel.PUPIL):
        pupils[county].add(pk)
    by_county: dict[str, list[School]] = defaultdict(list)
    for school in schools_of(conn, counties):
        by_county[school.county].append(school)
    found = []
    for county in counties:
        schools = by_county[county]
        rural = [s for s in schools if s.area == "rural"]
        migrant = [s for s in schools if s.school_kind == "migrant"]
        found.append(Coverage(
            county=county, name=names.get(county, county), schools=len(schools),
            schools_paired=sum(s.partners > 0 for s in schools), rural_schools=len(rural),
            rural_paired=sum(s.partners > 0 for s in rural), migrant_schools=len(migrant),
            migrant_paired=sum(s.partners > 0 for s in migrant),
            pupils_in_pairs=len(pupils[county]),
        ))  # fmt: skip
    return found


def unpaired(conn: Connection, counties: Sequence[str]) -> list[School]:
    """Schools without an active partner: rural and migrant-children schools first."""
    lonely = [s for s in schools_of(conn, counties) if s.partners == 0]
    return sorted(lonely, key=lambda s: (s.area != "rural" and s.school_kind != "migrant",
                                         s.county, s.name))  # fmt: skip


def suggest(conn: Connection, counties: Sequence[str], *, limit: int = 100,
            partners_from: Sequence[str] | None = None) -> list[Suggestion]:  # fmt: skip
    """Pairs to propose: each rural or migrant-children school without a partner, with an
    urban school that has spare capacity (fewer than `SPARE` partners): of the counties
    `partners_from` when the coordinator names them (a district assigned to help), preferring
    another county (the urban–rural pairing the documents ask for) and, of those, one in the
    same prefecture (the first four digits of the county code: near enough for weekend
    visits), then the least busy."""
    schools = schools_of(conn, counties)
    load = {(s.county, s.id): s.partners for s in schools}
    # In (county, name) order, so that the first fit of each pass below is the least by the
    # order asked for; a rural or migrant-children school is never one of them.
    urban = sorted((s for s in schools if s.area == "urban" and s.school_kind != "migrant"
                    and (partners_from is None or s.county in partners_from)),
                   key=lambda u: (u.county, u.name))  # fmt: skip
    near: dict[str, list[School]] = defaultdict(list)
    for u in urban:
        near[u.county[:4]].append(u)
    found = []
    for school in schools:
        if len(found) >= limit:
            break
        if school.partners or not (school.area == "rural" or school.school_kind == "migrant"):
            continue
        best = _least_busy(school, near[school.county[:4]], urban, load)
        if best is None:
            continue
        load[(best.county, best.id)] += 1
        found.append(Suggestion(school, best))
    return found


def _least_busy(school: School, near: list[School], urban: list[School],
                load: dict[tuple[str, int], int]) -> School | None:  # fmt: skip
    """The partner for `school`: of another county of its prefecture, then of another
    prefecture, then of its own county; of those, the least busy; then by county and name.
    (A `min` over a fresh list of every urban school for each suggestion made 130,000
    dataclass comparisons for 100 suggestions in 100 counties: half of its 150 ms.)"""
    passes = ((near, lambda u: u.county != school.county),
              (urban, lambda u: _far(u.county, school.county)),
              (near, lambda u: u.county == school.county))  # fmt: skip
    for pool, fits in passes:
        for busy in range(SPARE):
            for u in pool:
                if load[(u.county, u.id)] == busy and fits(u):
                    return u
    return None


def _far(county: str, other: str) -> bool:
    """Two counties of different prefectures (GB/T 2260: the first four digits)."""
    return county[:4] != other[:4]
