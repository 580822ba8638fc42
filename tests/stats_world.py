"""A county with a year and more of generated history, and the figures it should give,
counted in Python from what was generated (not by the SQL under test).

The history goes in as rows with their dates (units created and archived, pupils' status
changes and a grade promotion, counselors' appointments, guardians registered and bindings
verified or ended, badges awarded or revoked, redemptions, completed tasks, attendance); the
points move through the ledger itself, today.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from domain import clock
from domain.activities.tables import activities, activity_signups
from domain.badges.tables import badge_awards, badges
from domain.exchange.tables import exchange_items, partners, redemptions
from domain.ledger import service as ledger
from domain.ledger.tables import AccountKind
from domain.org.tables import units
from domain.pairing.tables import pairings
from domain.people.tables import (
    CURRENT_STATUSES,
    counselor_appointments,
    counselors,
    grade_promotions,
    guardian_bindings,
    guardians,
    pupil_status_changes,
    pupils,
)
from domain.tasks.tables import task_submissions, tasks
from migrations.runner import Migrator
from tenants.provisioning import County, create_county, create_prefecture
from tests.graphql_client import UnitRef, create_unit, in_county

TODAY = clock.today()
START = TODAY - dt.timedelta(days=500)
PROMOTED = TODAY - dt.timedelta(days=200)


def day(rng: random.Random, after: dt.date = START, before: dt.date = TODAY) -> dt.date:
    return after + dt.timedelta(days=rng.randrange((before - after).days + 1))


def moment(d: dt.date, hour: int = 10) -> dt.datetime:
    return clock.start_of(d) + dt.timedelta(hours=hour)


@dataclass
class Pupil:
    id: int
    path: str
    changes: list[tuple[dt.date, str | None, str]]
    grade_now: int
    bindings: list[tuple[dt.date, dt.date | None]] = field(default_factory=list)

    def status(self, on: dt.date) -> str | None:
        found = None
        for when, _, to in self.changes:
            if when <= on:
                found = to
        return found

    def left_on(self, after: dt.date) -> dt.date | None:
        return next((w for w, _, to in self.changes if w > after and to not in CURRENT_STATUSES),
                    None)  # fmt: skip

    def grade(self, on: dt.date) -> int:
        left = self.left_on(on)
        promoted_after = on < PROMOTED and (left is None or left > PROMOTED)
        return self.grade_now - promoted_after


@dataclass
class World:
    county: County
    root: UnitRef
    townships: list[UnitRef]
    schools: list[tuple[UnitRef, str, str]]  # (unit, area, school kind)
    units: list[tuple[str, str, dt.date, dt.date | None]] = field(default_factory=list)
    pupils: list[Pupil] = field(default_factory=list)
    counselors: list[tuple[str, str, dt.date, dt.date | None]] = field(default_factory=list)
    guardians: list[dt.date] = field(default_factory=list)
    awards: list[tuple[str, str, int, dt.date, dt.date | None]] = field(default_factory=list)
    redemptions: list[tuple[str, dt.date, dt.date | None]] = field(default_factory=list)
    tasks: list[tuple[str, str, dt.date]] = field(default_factory=list)
    points: Counter[str] = field(default_factory=Counter)
    activity: tuple[str, dt.date] = ("", TODAY)
    attended: list[tuple[str, int, dt.date]] = field(default_factory=list)
    paired_schools: set[int] = field(default_factory=set)
    paired_pupils: set[int] = field(default_factory=set)

    # --- the figures, counted in Python ------------------------------------------------------

    def expected(self, under: str, as_of: dt.date, since: dt.date | None = None) -> dict[str, Any]:
        def inside(path: str) -> bool:
            return path == under or path.startswith(under + ".")

        def alive(start: dt.date, end: dt.date | None) -> bool:
            return start <= as_of and (end is None or end > as_of)

        def flowed(d: dt.date) -> bool:
            return d <= as_of and (since is None or d >= since)

        placed = [p for p in self.pupils if inside(p.path)]
        by_status: Counter[tuple[str, int]] = Counter()
        for p in placed:
            status = p.status(as_of)
            if status is not None:
                by_status[(status, p.grade(as_of))] += 1
        current = [p for p in placed if p.status(as_of) in CURRENT_STATUSES]
        bound = [p for p in current if any(alive(v, e) for v, e in p.bindings)]
        opened = {path for path, _, c, a in self.units if alive(c, a)}
        schools = [(u, a, k) for u, a, k in self.schools if inside(u.path) and u.path in opened]
        # The pairings were accepted today.
        paired_schools = self.paired_schools if as_of >= TODAY else set()
        paired_pupils = self.paired_pupils if as_of >= TODAY else set()
        return {
            "units": Counter(k for path, k, c, a in self.units if inside(path) and alive(c, a)),
            "counselors": Counter(
                k for path, k, s, e in self.counselors if inside(path) and alive(s, e)
            ),
            "pupils": by_status,
            "pupils_bound": len(bound),
            # The county's guardians are all who registered; a unit's, those bound to its pupils.
            "guardians": sum(r <= as_of for r in self.guardians)
            if under == "c"
            else sum(alive(v, e) for p in placed for v, e in p.bindings),
            "badges": Counter(
                (level, year)
                for path, level, year, a, r in self.awards
                if inside(path) and flowed(a) and alive(a, r)
            ),
            "redemptions": sum(inside(path) and flowed(c) for path, c, _ in self.redemptions),
            "redemptions_verified": sum(
                inside(path) and v is not None and flowed(v) for path, _, v in self.redemptions
            ),
            "tasks_completed": Counter(
                kind for path, kind, d in self.tasks if inside(path) and flowed(d)
            ),
            "served_pupils": len(
                {pk for path, pk, d in self.attended if inside(path) and flowed(d)}
            ),
            "served_person_times": sum(inside(path) and flowed(d) for path, _, d in self.attended),
            "schools": len(schools),
            "schools_paired": sum(u.id in paired_schools for u, _, _ in schools),
            "rural_schools": sum(a == "rural" for _, a, _ in schools),
            "rural_paired": sum(a == "rural" and u.id in paired_schools for u, a, _ in schools),
            "migrant_schools": sum(k == "migrant" for _, _, k in schools),
            "pupils_in_pairs": sum(p.id in paired_pupils for p in placed),
            "townships": {
                t.id: row
                for t in self.townships
                if (inside(t.path) or under.startswith(t.path + "."))
                and any(
                    row := (
                        len(
                            {
                                pk
                                for path, pk, d in self.attended
                                if path.startswith(t.path + ".") and inside(path) and flowed(d)
                            }
                        ),
                        sum(
                            path.startswith(t.path + ".") and inside(path) and flowed(d)
                            for path, _, d in self.attended
                        ),
                        sum(p.path.startswith(t.path + ".") for p in current),
                    )
                )
            },
            # Activities organised in the unit or above it (a county's serves a school too).
            "activities": int(
                flowed(self.activity[1])
                and (inside(self.activity[0]) or under.startswith(self.activity[0] + "."))
            ),
            **{
                f"points_{k}": sum(
                    n
                    for key, n in self.points.items()
                    if key.endswith("|" + k) and inside(key.split("|")[0]) and flowed(TODAY)
                )
                for k in ("issued", "spent", "expired")
            },
            "points_held": sum(
                n
                for key, n in self.points.items()
                if key.endswith("|held") and inside(key.split("|")[0]) and as_of >= TODAY
            ),
        }


def build_world(engine: Engine, county: County, seed: int, pupils_per_squadron: int = 12) -> World:
    rng = random.Random(seed)
    root = create_unit(engine, county, "county", county.name)
    townships = [create_unit(engine, county, "township", f"{n}镇", root) for n in "东西"]
    world = World(county, root, townships, [])
    squadrons: list[UnitRef] = []
    for n, (area, kind) in enumerate([("urban", "ordinary"), ("rural", "ordinary"),
                                      ("rural", "migrant"), ("rural", "ordinary")]):  # fmt: skip
        school = create_unit(engine, county, "brigade", f"第{n}小学", townships[n % 2],
                             area=area, school_kind=kind)  # fmt: skip
        world.schools.append((school, area, kind))
        for g in (3, 5):
            squadrons.append(create_unit(engine, county, "squadron", f"{g}（{n}）中队", school,
                                         grade=g))  # fmt: skip
    closed = create_unit(engine, county, "squadron", "撤并中队", world.schools[1][0], grade=4)

    def dates(conn: Connection) -> None:
        for u in [*townships, *(s for s, _, _ in world.schools), *squadrons, closed]:
            created = day(rng, START, PROMOTED)
            archived = day(rng, created) if u is closed else None
            conn.execute(update(units).where(units.c.id == u.id)
                         .values(created_at=moment(created), archived_at=archived
                                 and moment(archived)))  # fmt: skip
            kind = conn.execute(select(units.c.kind).where(units.c.id == u.id)).scalar_one()
            world.units.append((u.path, kind, created, archived))
        conn.execute(update(units).where(units.c.path == "c")
                     .values(created_at=moment(START - dt.timedelta(days=1))))  # fmt: skip
        world.units.append(("c", "county", START - dt.timedelta(days=1), None))

    in_county(engine, county, dates)
    in_county(engine, county, lambda conn: _people(conn, world, squadrons, rng,
                                                   pupils_per_squadron))  # fmt: skip
    in_county(engine, county, lambda conn: _awards_and_flows(conn, world, rng))
    return world


def _people(conn: Connection, world: World, squadrons: list[UnitRef], rng: random.Random,
            per_squadron: int) -> None:  # fmt: skip
    conn.execute(insert(grade_promotions).values(academic_year=PROMOTED.year - 1,
                                                 promoted_at=moment(PROMOTED), pupils=0,
                                                 squadrons=0))  # fmt: skip
    for squadron in squadrons:
        grade_now = int(conn.execute(select(units.c.grade).where(units.c.id == squadron.id))
                        .scalar_one())  # fmt: skip
        for i in range(per_squadron):
            first = day(rng)
            changes: list[tuple[dt.date, str | None, str]] = []
            status = rng.choice(["pre_member", "member"])
            changes.append((first, None, status))
            if status == "pre_member" and rng.random() < 0.6:
                changes.append((day(rng, first), status, "member"))
                status = "member"
            if rng.random() < 0.25:
                leaving = rng.choice(["left", "transferred", "joined_league"])
                changes.append((day(rng, changes[-1][0]), status, leaving))
                status = leaving
            pupil = Pupil(0, squadron.path, changes, grade_now)
            # Pupils current at the promotion moved up with their squadron; those who had
            # left stayed a grade below it.
            promoted = first <= PROMOTED and pupil.status(PROMOTED) in CURRENT_STATUSES
            pupil.grade_now = grade_now if promoted or first > PROMOTED else grade_now - 1
            pupil.id = conn.execute(insert(pupils).values(
                squadron_id=squadron.id, name=f"队员{i}", gender="female", grade=pupil.grade_now,
                status=status,
                created_at=moment(first)).returning(pupils.c.id)).scalar_one()  # fmt: skip
            conn.execute(insert(pupil_status_changes), [
                {"pupil_id": pupil.id, "from_status": f, "to_status": t, "on_date": w}
                for w, f, t in changes])  # fmt: skip
            for _ in range(rng.choice([0, 1, 1, 2])):
                registered = day(rng)
                world.guardians.append(registered)
                guardian = conn.execute(insert(guardians).values(
                    name="家长", registered_at=moment(registered)).returning(guardians.c.id)
                ).scalar_one()  # fmt: skip
                verified = day(rng, registered) if rng.random() < 0.85 else None
                ended = day(rng, verified) if verified and rng.random() < 0.2 else None
                conn.execute(insert(guardian_bindings).values(
                    guardian_id=guardian, pupil_id=pupil.id, relation="母亲",
                    verified_at=verified and moment(verified, 11),
                    ended_at=ended and moment(ended, 12)))  # fmt: skip
                if verified:
                    pupil.bindings.append((verified, ended))
            world.pupils.append(pupil)
    for squadron in squadrons:
        kinds = ["squadron", "team"] if rng.random() < 0.5 else ["squadron"]
        for kind in kinds:
            started = day(rng)
            ended = day(rng, started) if rng.random() < 0.3 else None
            counselor = conn.execute(insert(counselors).values(
                name="辅导员", kind=kind, unit_id=squadron.id, appointed_on=started,
                ended_on=ended).returning(counselors.c.id)).scalar_one()  # fmt: skip
            conn.execute(insert(counselor_appointments).values(
                counselor_id=counselor, unit_id=squadron.id, kind=kind, started_on=started,
                ended_on=ended))  # fmt: skip
            world.counselors.append((squadron.path, kind, started, ended))


def _awards_and_flows(conn: Connection, world: World, rng: random.Random) -> None:
    ladder = {level: pk for pk, level in conn.execute(
        select(badges.c.id, badges.c.level).where(badges.c.level.in_(
            ["basic", "star1", "star2"]))).all()}  # fmt: skip
    partner = conn.execute(insert(partners).values(name="书店").returning(partners.c.id)).scalar()
    item = conn.execute(insert(exchange_items).values(
        partner_id=partner, name="书签", price=5, stock=1000, valid_from=moment(START),
        valid_until=moment(TODAY + dt.timedelta(days=30))).returning(exchange_items.c.id)
    ).scalar()  # fmt: skip
    lesson, work = (conn.execute(insert(tasks).values(
        unit_id=conn.execute(select(units.c.id).where(units.c.path == "c")).scalar(), kind=kind,
        title=kind, opens_at=moment(START), closes_at=moment(TODAY), state="published")
        .returning(tasks.c.id)).scalar() for kind in ("lesson", "submission"))  # fmt: skip
    school = world.schools[0][0]
    activity = conn.execute(insert(activities).values(
        unit_id=school.id, title="研学", starts_at=moment(TODAY - dt.timedelta(days=40)),
        ends_at=moment(TODAY - dt.timedelta(days=40), 16),
        signup_opens_at=moment(START), signup_closes_at=moment(TODAY - dt.timedelta(days=41)),
        capacity=500, state="finished").returning(activities.c.id)).scalar()  # fmt: skip
    world.activity = (school.path, TODAY - dt.timedelta(days=40))
    flows: Counter[str] = Counter()
    sink = ledger.account(conn, AccountKind.SINK)
    for n, pupil in enumerate(world.pupils):
        if rng.random() < 0.5:
            level = rng.choice(list(ladder))
            awarded = day(rng)
            revoked = day(rng, awarded) if rng.random() < 0.15 else None
            year = awarded.year if awarded.month >= 9 else awarded.year - 1
            conn.execute(insert(badge_awards).values(
                badge_id=ladder[level], pupil_id=pupil.id, academic_year=year,
                state="revoked" if revoked else "awarded", awarded_at=moment(awarded),
                revoked_at=revoked and moment(revoked, 15)))  # fmt: skip
            world.awards.append((pupil.path, level, year, awarded, revoked))
        if rng.random() < 0.3:
            made = day(rng)
            verified = day(rng, made) if rng.random() < 0.6 else None
            conn.execute(insert(redemptions).values(
                item_id=item, pupil_id=pupil.id, code_hash=rng.randbytes(16),
                created_at=moment(made), expires_at=moment(made + dt.timedelta(days=30)),
                verified_at=verified and moment(verified, 14),
                state="verified" if verified else "issued"))  # fmt: skip
            world.redemptions.append((pupil.path, made, verified))
        if rng.random() < 0.3:
            kind = rng.choice(["lesson", "submission"])
            done = day(rng)
            state = rng.choice(["approved", "approved", "rejected"])
            conn.execute(insert(task_submissions).values(
                task_id=lesson if kind == "lesson" else work, pupil_id=pupil.id, state=state,
                submitted_at=moment(done), reviewed_at=None if kind == "lesson"
                else moment(done, 16)))  # fmt: skip
            if state == "approved":
                world.tasks.append((pupil.path, kind, done))
        if rng.random() < 0.3:
            conn.execute(insert(activity_signups).values(activity_id=activity, pupil_id=pupil.id,
                                                         state="attended"))  # fmt: skip
            world.attended.append((pupil.path, pupil.id, TODAY - dt.timedelta(days=40)))
        # Points, through the ledger: an issue, maybe a spend, a reversal, a hold.
        account = ledger.pupil_account(conn, pupil.id)
        issued = rng.randrange(5, 40)
        posted = ledger.post(conn, f"t:{n}:issue", "award",
                             [(ledger.pool(conn), -issued), (account, issued)])  # fmt: skip
        flows[pupil.path + "|issued"] += issued
        spent = rng.randrange(0, issued)
        if spent and rng.random() < 0.5:
            ledger.post(conn, f"t:{n}:spend", "spend", [(account, -spent), (sink, spent)])
            flows[pupil.path + "|spent"] += spent
            if rng.random() < 0.4:  # what is left of the year's points expires
                left = issued - spent
                ledger.post(conn, f"t:{n}:expire", "expiry",
                            [(account, -left), (ledger.pool(conn), left)])  # fmt: skip
                flows[pupil.path + "|expired"] += left
        elif rng.random() < 0.2:
            ledger.reverse(conn, posted.transaction_id, f"t:{n}:undo")
            flows[pupil.path + "|issued"] -= issued
        elif spent:
            hold = ledger.hold(conn, f"t:{n}:hold", account, spent)
            if rng.random() < 0.3:
                ledger.void_hold(conn, hold)
            else:
                flows[pupil.path + "|held"] += spent
    world.points = flows


def pair(engine: Engine, world: World, school: UnitRef, pupil: Pupil, partner: str,
         ended: bool = False) -> None:  # fmt: skip
    """An accepted school pairing and a pupil pairing of the world's county with `partner`
    (ended again at once when `ended`)."""
    now = clock.start_of(TODAY) + dt.timedelta(hours=1)
    with engine.begin() as conn:
        for level, kind, pk, path in (("school", "unit", school.id, school.path),
                                      ("pupil", "pupil", pupil.id, pupil.path)):  # fmt: skip
            conn.execute(insert(pairings).values(
                level=level, proposed_by=f"county:{world.county.code}", state="ended" if ended
                else "active", a_county=world.county.code, a_kind=kind, a_id=pk, a_path=path,
                a_accepted_at=now, b_county=partner, b_kind=kind, b_id=1, b_path="c.x",
                b_accepted_at=now, closed_at=now if ended else None))  # fmt: skip
    if not ended:
        world.paired_schools.add(school.id)
        world.paired_pupils.add(pupil.id)


_prefectures = itertools.count(1)


def region(engine: Engine, migrator: Migrator, counties: int) -> tuple[str, list[County]]:
    """A fresh prefecture of province 63 with `counties` counties."""
    prefecture = f"63{next(_prefectures) + 10:02d}"
    create_prefecture(engine, prefecture, f"测试市{prefecture}", "63")
    made = [create_county(engine, migrator, f"{prefecture}{n + 1:02d}", f"县{prefecture}{n}", "63",
                          prefecture).county for n in range(counties)]  # fmt: skip
    return prefecture, made
