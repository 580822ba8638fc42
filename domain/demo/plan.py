"""The shape of a demo county, decided before anything is written.

A plan is a pure function of (seed, pupils, urban, county name): townships and communities,
then schools with their squadrons (classes), team counts and pupil counts. Writing it school by
school can therefore stop anywhere and resume with exactly the same result.

Proportions follow Huishui county (seed 002): 76 school brigades, 1,243 squadrons and 2,921
teams for about 50,000 pupils (≈ 16 classes of ≈ 40 pupils per school, ≈ 2.35 teams per class),
11 township and 15 community committees, 359 external counselors (≈ 4.7 per school). Urban
schools are larger with larger classes; rural schools have one to four classes per grade.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass

from domain.demo.names import PLACES, numeral, village
from domain.org.tables import Area, SchoolKind, UnitKind

GRADES = range(1, 7)  # primary school: grades 1-6
URBAN_SHARE = {True: 0.85, False: 0.25, None: 0.5}  # share of schools in urban areas
TEAMS_3_SHARE = 0.35  # 2 teams in 65% of squadrons, 3 in 35%: 2.35 per squadron (Huishui)
TOWNSHIPS_PER_SCHOOL = 11 / 76
COMMUNITIES_PER_SCHOOL = {True: 25 / 76, False: 15 / 76, None: 20 / 76}
EXTERNAL_COUNSELORS = ((2, 6), (3, 12), (4, 20), (5, 35), (6, 18), (7, 9))  # mean ≈ 359 / 76

ROOT_LABEL = "c"


@dataclass(frozen=True)
class AreaUnit:
    """A township (镇 or 街道) or community (社区) committee."""

    kind: UnitKind
    path: str
    name: str
    place: str
    area: Area


@dataclass(frozen=True)
class SquadronPlan:
    grade: int
    number: int  # class number within its grade
    pupils: int
    teams: int

    @property
    def name(self) -> str:
        return f"{numeral(self.grade)}（{self.number}）中队"


@dataclass(frozen=True)
class SchoolPlan:
    index: int  # 1-based, stable: the step of this school is f"school:{index}"
    name: str
    area: Area
    kind: SchoolKind
    parent_path: str
    squadrons: tuple[SquadronPlan, ...]
    external_counselors: int

    @property
    def path(self) -> str:
        return f"{self.parent_path}.b{self.index}"

    @property
    def pupils(self) -> int:
        return sum(s.pupils for s in self.squadrons)


@dataclass(frozen=True)
class CountyPlan:
    seed: int
    pupils: int
    urban: bool | None
    county_name: str
    areas: tuple[AreaUnit, ...]
    schools: tuple[SchoolPlan, ...]

    @property
    def fingerprint(self) -> str:
        """Identifies the arguments: a run resumed with other arguments is refused."""
        key = f"v1|{self.seed}|{self.pupils}|{self.urban}|{self.county_name}"
        return hashlib.sha1(key.encode()).hexdigest()[:12]


def short_name(county_name: str) -> str:
    """惠水县 → 惠水, 南明区 → 南明, 三都水族自治县 → 三都."""
    if "族" in county_name or "自治" in county_name:
        return county_name[:2]
    if len(county_name) > 2 and county_name[-1] in "县区市旗":
        return county_name[:-1]
    return county_name


def _distribute(total: int, capacities: list[int]) -> list[int]:
    """Split `total` over the capacities proportionally (largest remainder, ties by position)."""
    room = sum(capacities)
    exact = [total * c / room for c in capacities]
    shares = [math.floor(x) for x in exact]
    order = sorted(range(len(exact)), key=lambda i: (shares[i] - exact[i], i))
    for i in order[: total - sum(shares)]:
        shares[i] += 1
    return shares


def _unique_place(rng: random.Random, pool: list[str], used: set[str]) -> str:
    while pool:
        place = pool.pop()
        if place not in used:
            used.add(place)
            return place
    while True:  # more townships than listed places: invent village-style names
        place = village(rng)
        if place not in used:
            used.add(place)
            return place


def plan_county(*, seed: int, pupils: int, urban: bool | None, county_name: str) -> CountyPlan:
    rng = random.Random(f"redscarf-demo|{seed}|{urban}|plan")
    share = URBAN_SHARE[urban]

    # 1. Schools and their class capacities, until the pupils fit.
    specs: list[tuple[Area, list[list[int]]]] = []
    capacity = 0
    while capacity < pupils:
        if not specs or rng.random() < share:  # school 1 is the county seat's 实验小学
            area = Area.URBAN
            per_grade = rng.choice((3, 4, 4, 5, 5, 5, 6, 6, 7))
            size = rng.randint(40, 50)
        else:
            area = Area.RURAL
            per_grade = rng.choices((1, 2, 3, 4), weights=(30, 35, 20, 15))[0]
            size = rng.randint(24, 44)
        # The last school is only as large as the pupils left need.
        per_grade = max(1, min(per_grade, math.ceil((pupils - capacity) / (6 * size))))
        classes = [[max(8, size + rng.randint(-4, 4)) for _ in range(per_grade)] for _ in GRADES]
        capacity += sum(map(sum, classes))
        specs.append((area, classes))
    flat = _distribute(pupils, [c for _, classes in specs for grade in classes for c in grade])

    # 2. Townships (街道 urban, 镇 rural) and communities.
    n = len(specs)
    urban_schools = sum(1 for area, _ in specs if area == Area.URBAN)
    rural_schools = n - urban_schools
    n_townships = max(1, round(n * TOWNSHIPS_PER_SCHOOL))
    n_streets = round(n_townships * share)
    if urban_schools and n_streets == 0:
        n_streets = 1
    if rural_schools and n_streets >= n_townships:
        n_townships = max(n_townships, n_streets + 1)
    if not urban_schools:
        n_streets = 0
    if not rural_schools:
        n_townships = n_streets
    n_communities = max(1, round(n * COMMUNITIES_PER_SCHOOL[urban]))

    pool = list(PLACES)
    rng.shuffle(pool)
    used: set[str] = set()
    townships: list[AreaUnit] = []
    for t in range(1, n_townships + 1):
        place = _unique_place(rng, pool, used)
        street = t <= n_streets
        townships.append(
            AreaUnit(
                kind=UnitKind.TOWNSHIP,
                path=f"{ROOT_LABEL}.t{t}",
                name=f"{place}{'街道' if street else '镇'}",
                place=place,
                area=Area.URBAN if street else Area.RURAL,
            )
        )
    hosts = [t for t in townships if t.area == Area.URBAN] or townships
    communities: list[AreaUnit] = []
    for q in range(1, n_communities + 1):
        host = hosts[(q - 1) % len(hosts)]
        place = _unique_place(rng, pool, used)
        communities.append(
            AreaUnit(
                kind=UnitKind.COMMUNITY,
                path=f"{host.path}.q{q}",
                name=f"{place}社区",
                place=place,
                area=host.area,
            )
        )
    areas = (*townships, *communities)

    # 3. Kinds: the county's 实验小学 (school 1) and about 7% more are 红领巾示范校; about 8% of
    # urban schools (at least one from four schools on) are 新居民子女学校.
    kinds = [SchoolKind.ORDINARY] * n
    kinds[0] = SchoolKind.DEMONSTRATION
    others = list(range(1, n))
    urban_others = [i for i in others if specs[i][0] == Area.URBAN] or others
    n_migrant = max(1 if n >= 4 else 0, round(len(urban_others) * 0.08))
    for i in rng.sample(urban_others, min(n_migrant, len(urban_others))):
        kinds[i] = SchoolKind.MIGRANT
    ordinary = [i for i in others if kinds[i] == SchoolKind.ORDINARY]
    for i in rng.sample(ordinary, min(round(n * 0.07), len(ordinary))):
        kinds[i] = SchoolKind.DEMONSTRATION

    # 4. Where each school is and its name.
    parents = {
        a: [u for u in areas if u.area == a] or list(townships) for a in (Area.URBAN, Area.RURAL)
    }
    for candidates in parents.values():
        rng.shuffle(candidates)
    seen = dict.fromkeys((Area.URBAN, Area.RURAL), 0)
    short = short_name(county_name)
    names: set[str] = set()
    numbered = 0
    schools: list[SchoolPlan] = []
    cursor = 0
    for index, (area, classes) in enumerate(specs, start=1):
        parent = parents[area][seen[area] % len(parents[area])]
        seen[area] += 1
        kind = kinds[index - 1]
        suffix = "新居民子女学校" if kind == SchoolKind.MIGRANT else "小学"
        if index == 1:
            name = f"{short}实验小学"
        elif kind == SchoolKind.MIGRANT:
            name = f"{parent.place}{suffix}"
        elif area == Area.URBAN and rng.random() < 0.5:
            numbered += 1
            name = f"{short}第{numeral(numbered)}小学"
        elif area == Area.URBAN:
            name = f"{parent.place}小学"
        else:
            town = parent.name if parent.kind == UnitKind.TOWNSHIP else parent.place
            name = f"{town}中心小学"
        while name in names:
            name = f"{parent.place}{village(rng)}{suffix}"
        names.add(name)
        squadrons = []
        for grade, grade_classes in zip(GRADES, classes, strict=True):
            for number, _ in enumerate(grade_classes, start=1):
                size = flat[cursor]
                cursor += 1
                teams = 3 if rng.random() < TEAMS_3_SHARE else 2
                squadrons.append(SquadronPlan(grade, number, size, max(1, min(teams, size // 6))))
        external = rng.choices(
            [v for v, _ in EXTERNAL_COUNSELORS], weights=[w for _, w in EXTERNAL_COUNSELORS]
        )[0]
        schools.append(SchoolPlan(index, name, area, kind, parent.path, tuple(squadrons), external))
    return CountyPlan(seed, pupils, urban, county_name, areas, tuple(schools))
