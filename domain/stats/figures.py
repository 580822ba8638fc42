"""The figures a county reports upward (DESIGN.md part 11), for any unit and period, as of
any date.

A question is a `Period`: the unit path the figures are of, the last day (`as_of`), and for
what happens over time the first day (`since`, or from the beginning). Two kinds of figure:

- **stocks** are counted as they stood at the end of `as_of` (China's day): units open,
  counselors in office, pupils by status and grade, guardians registered and pupils bound,
  points held. They are rebuilt from the history the county keeps (a unit's creation and
  archiving, counselors' appointments, pupils' status changes and the yearly grade
  promotions, bindings verified and ended, holds opened and closed), so a past date gets the
  number it had then, not today's;
- **flows** are counted over `since`..`as_of`: badges awarded (by level and academic year),
  points issued, spent and expired, activities held and pupils served, exchange
  redemptions, collection tasks completed.

A pupil counts where they are placed now (their squadron). Pairing coverage comes from the
shared schema (`PairedSides`, read by the caller as the service) and is scoped here.
Everything else is read as the county's role, on the county's connection.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    DateTime,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)

from authz.principal import COUNTY_ROOT
from domain import clock
from domain.activities import reach as reach_rules
from domain.badges.tables import AwardState, badge_awards, badges
from domain.exchange.tables import redemptions
from domain.ledger.tables import (
    AccountKind,
    ledger_accounts,
    ledger_holds,
    ledger_postings,
    ledger_transactions,
)
from domain.org.tables import units
from domain.pairing.tables import PairingLevel, PairingState, pairings
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
from domain.tasks.tables import SubmissionState, task_submissions, tasks
from domain.types import LTree
from tenants.sessions import Tenant, act_as_county


@dataclass(frozen=True)
class Period:
    under: str
    """The unit path the figures are of (`c`: the whole county)."""
    as_of: dt.date
    since: dt.date | None = None

    @property
    def until(self) -> dt.datetime:
        """The end of `as_of`: what happened before it counts."""
        return clock.start_of(self.as_of + dt.timedelta(days=1))

    @property
    def now(self) -> bool:
        """Whether the stocks are today's (read from the current state, not rebuilt)."""
        return self.as_of >= clock.today()

    def within(self, path: Any) -> ColumnElement[bool]:
        return path.op("<@")(cast(self.under, LTree))

    def alive(self, start: Any, end: Any) -> ColumnElement[bool]:
        """A span that had begun by the end of `as_of` and had not ended by then."""
        return and_(start < self.until, or_(end.is_(None), end >= self.until))

    def flowed(self, moment: Any) -> ColumnElement[bool]:
        clauses = [moment < self.until]
        if self.since is not None:
            clauses.append(moment >= clock.start_of(self.since))
        return and_(*clauses)


@dataclass(frozen=True)
class PairedSides:
    """What of the county was a side of an active pairing at the end of the period."""

    schools: frozenset[int] = frozenset()
    pupils: frozenset[int] = frozenset()


@dataclass
class TownshipServed:
    unit_id: int
    pupils: int
    person_times: int
    current_pupils: int


@dataclass
class Figures:
    """Every figure of one question. Counters are keyed by kind, status or level; `pupils`
    by (status, grade), `badges` by (level, academic year)."""

    units: Counter[str] = field(default_factory=Counter)
    counselors: Counter[str] = field(default_factory=Counter)
    pupils: Counter[tuple[str, int]] = field(default_factory=Counter)
    guardians: int = 0
    pupils_bound: int = 0
    badges: Counter[tuple[str, int]] = field(default_factory=Counter)
    points_issued: int = 0
    points_spent: int = 0
    points_expired: int = 0
    points_held: int = 0
    activities: int = 0
    served_pupils: int = 0
    served_person_times: int = 0
    served_by_area: dict[str, tuple[int, int]] = field(default_factory=dict)
    served_by_township: list[TownshipServed] = field(default_factory=list)
    redemptions: int = 0
    redemptions_verified: int = 0
    tasks_completed: Counter[str] = field(default_factory=Counter)
    schools: int = 0
    schools_paired: int = 0
    rural_schools: int = 0
    rural_paired: int = 0
    migrant_schools: int = 0
    migrant_paired: int = 0
    pupils_in_pairs: int = 0

    @property
    def current_pupils(self) -> int:
        return sum(n for (status, _), n in self.pupils.items() if status in CURRENT_STATUSES)

    def pupils_by_status(self) -> Counter[str]:
        found: Counter[str] = Counter()
        for (status, _), n in self.pupils.items():
            found[status] += n
        return found

    def to_json(self) -> dict[str, Any]:
        return {
            **{name: getattr(self, name) for name in _NUMBERS},
            **{name: dict(getattr(self, name)) for name in _COUNTERS},
            "pupils": {f"{s}|{g}": n for (s, g), n in self.pupils.items()},
            "badges": {f"{lv}|{y}": n for (lv, y), n in self.badges.items()},
            "served_by_area": {a: list(v) for a, v in self.served_by_area.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Figures:
        def pairs(raw: dict[str, int]) -> Counter[tuple[str, int]]:
            found: Counter[tuple[str, int]] = Counter()
            for key, n in raw.items():
                name, number = key.rsplit("|", 1)
                found[(name, int(number))] = int(n)
            return found

        return cls(
            **{name: int(data.get(name, 0)) for name in _NUMBERS},
            **{name: Counter(data.get(name, {})) for name in _COUNTERS},
            pupils=pairs(data.get("pupils", {})),
            badges=pairs(data.get("badges", {})),
            served_by_area={a: (int(v[0]), int(v[1]))
                            for a, v in data.get("served_by_area", {}).items()},
        )  # fmt: skip


_NUMBERS = ("guardians", "pupils_bound", "points_issued", "points_spent", "points_expired",
            "points_held", "activities", "served_pupils", "served_person_times", "redemptions",
            "redemptions_verified", "schools", "schools_paired", "rural_schools", "rural_paired",
            "migrant_schools", "migrant_paired", "pupils_in_pairs")  # fmt: skip
_COUNTERS = ("units", "counselors", "tasks_completed")


def total(parts: Iterable[Figures]) -> Figures:
    """The sum of several counties' figures (a prefecture's, a province's). Townships are
    each county's own and are not summed."""
    found = Figures()
    for part in parts:
        for name in _NUMBERS:
            setattr(found, name, getattr(found, name) + getattr(part, name))
        for name in (*_COUNTERS, "pupils", "badges"):
            getattr(found, name).update(getattr(part, name))
        for area, (n, times) in part.served_by_area.items():
            was = found.served_by_area.get(area, (0, 0))
            found.served_by_area[area] = (was[0] + n, was[1] + times)
    return found


# --- the shared part: what was paired -------------------------------------------------------


def paired_sides(conn: Connection, county: str, as_of: dt.date) -> PairedSides:
    """The county's schools and pupils that were sides of an active pairing at the end of
    `as_of` (read from the shared schema, as the service)."""
    until = clock.start_of(as_of + dt.timedelta(days=1))
    found: dict[str, set[int]] = {PairingLevel.SCHOOL: set(), PairingLevel.PUPIL: set()}
    accepted = func.greatest(pairings.c.a_accepted_at, pairings.c.b_accepted_at)
    for prefix in ("a", "b"):
        rows = conn.execute(
            select(pairings.c.level, pairings.c[f"{prefix}_id"]).where(
                pairings.c[f"{prefix}_county"] == county,
                pairings.c.level.in_(list(found)),
                pairings.c.state.in_([PairingState.ACTIVE.value, PairingState.ENDED.value]),
                accepted < until,
                or_(pairings.c.closed_at.is_(None), pairings.c.closed_at >= until),
            )
        )
        for level, pk in rows:
            found[level].add(int(pk))
    return PairedSides(frozenset(found[PairingLevel.SCHOOL]), frozenset(found[PairingLevel.PUPIL]))


# --- the county's part ----------------------------------------------------------------------


def county_figures(conn: Connection, period: Period, paired: PairedSides) -> Figures:
    """Every figure of `period`, on the county's connection."""
    found = Figures()
    found.units = _units(conn, period)
    found.counselors = _counselors(conn, period)
    found.pupils = _pupils(conn, period)
    found.guardians, found.pupils_bound = _guardians(conn, period)
    found.badges = _badges(conn, period)
    _points(conn, period, found)
    _activities(conn, period, found)
    found.redemptions, found.redemptions_verified = _redemptions(conn, period)
    found.tasks_completed = _tasks(conn, period)
    _pairing(conn, period, paired, found)
    return found


def _counter(rows: Iterable[Any]) -> Counter[Any]:
    found: Counter[Any] = Counter()
    for *key, n in rows:
        found[key[0] if len(key) == 1 else tuple(key)] += int(n)
    return found


def _units(conn: Connection, p: Period) -> Counter[str]:
    return _counter(conn.execute(
        select(units.c.kind, func.count())
        .where(p.within(units.c.path), p.alive(units.c.created_at, units.c.archived_at))
        .group_by(units.c.kind)
    ))  # fmt: skip


def _counselors(conn: Connection, p: Period) -> Counter[str]:
    """Counselors in office by kind: their appointments, or (for a counselor recorded without
    any) the counselor's own unit, kind and dates."""
    ca, c = counselor_appointments.c, counselors.c
    spans = union_all(
        select(ca.counselor_id, ca.unit_id, ca.kind, ca.started_on, ca.ended_on),
        select(c.id, c.unit_id, c.kind, c.appointed_on, c.ended_on).where(
            ~exists().where(ca.counselor_id == c.id)
        ),
    ).subquery()
    started = func.coalesce(spans.c.started_on, literal(dt.date.min))
    return _counter(conn.execute(
        select(spans.c.kind, func.count(func.distinct(spans.c.counselor_id)))
        .join(units, units.c.id == spans.c.unit_id)
        .where(p.within(units.c.path), started <= p.as_of,
               or_(spans.c.ended_on.is_(None), spans.c.ended_on > p.as_of))
        .group_by(spans.c.kind)
    ))  # fmt: skip


def _placed(p: Period, source: Any = pupils) -> tuple[Any, ColumnElement[bool], Any]:
    """`source` (the pupils, or what is joined to them) with each pupil's squadron, the
    condition that the squadron is under the period's unit, and the squadron."""
    squadron = units.alias("placed")
    joined = source.join(squadron, squadron.c.id == pupils.c.squadron_id)
    return joined, p.within(squadron.c.path), squadron


def _status_as_of(p: Period) -> tuple[Any, Any, Any]:
    """The status (null: not on the roster yet) and grade of each pupil at the end of
    `as_of`, and the FROM clause they need, rebuilt from the status changes and promotions."""
    if p.now:
        return pupils.c.status, pupils.c.grade, pupils
    sc = pupil_status_changes.c
    last = (
        select(sc.pupil_id, sc.to_status)
        .where(sc.on_date <= p.as_of)
        .distinct(sc.pupil_id)
        .order_by(sc.pupil_id, sc.on_date.desc(), sc.id.desc())
        .subquery()
    )
    after = sc.on_date > p.as_of
    following = (
        select(sc.pupil_id, sc.from_status)
        .where(after)
        .distinct(sc.pupil_id)
        .order_by(sc.pupil_id, sc.on_date, sc.id)
        .subquery()
    )
    # Each pupil's first leaving after the day, once per pupil (a join, not a lookup per
    # pupil and promotion: 570 of 890 ms on PostgreSQL 15 at 50,000 pupils).
    leaving = (
        select(sc.pupil_id, func.min(sc.on_date).label("left_on"))
        .where(after, sc.to_status.not_in(CURRENT_STATUSES))
        .group_by(sc.pupil_id)
        .subquery()
    )
    left_on = leaving.c.left_on
    status = case(
        (last.c.pupil_id.is_not(None), last.c.to_status),
        (following.c.pupil_id.is_not(None), following.c.from_status),
        (pupils.c.created_at < p.until, pupils.c.status),
        else_=null(),
    )
    # Every promotion after the day moved the pupils current at the time up a grade.
    gp = grade_promotions.c
    promoted_since = (
        select(func.count())
        .where(gp.promoted_at >= p.until,
               or_(left_on.is_(None), gp.promoted_at < func.timezone(clock.ZONE.key, cast(left_on, DateTime()))))
        .scalar_subquery()
    )  # fmt: skip
    grade = func.greatest(pupils.c.grade - promoted_since, 1)
    source = (
        pupils.outerjoin(last, last.c.pupil_id == pupils.c.id)
        .outerjoin(following, following.c.pupil_id == pupils.c.id)
        .outerjoin(leaving, leaving.c.pupil_id == pupils.c.id)
    )
    return status, grade, source


def _pupils(conn: Connection, p: Period) -> Counter[tuple[str, int]]:
    status, grade, source = _status_as_of(p)
    placed, within, _ = _placed(p, source)
    rows = conn.execute(
        select(status, grade, func.count())
        .select_from(placed)
        .where(within, status.is_not(None))
        .group_by(status, grade)
    )
    return _counter(rows)


def _guardians(conn: Connection, p: Period) -> tuple[int, int]:
    """Guardians registered (for the county: all; for a unit: those bound to its pupils) and
    current pupils with a verified binding, at the end of `as_of`."""
    status, _, source = _status_as_of(p)
    placed, within, _ = _placed(p, source)
    b = guardian_bindings.c
    live = and_(b.verified_at.is_not(None), p.alive(b.verified_at, b.ended_at))
    bound = conn.execute(
        select(func.count(func.distinct(b.pupil_id)))
        .select_from(placed.join(guardian_bindings, b.pupil_id == pupils.c.id))
        .where(within, status.in_(CURRENT_STATUSES), live)
    ).scalar_one()  # fmt: skip
    registered = guardians.c.registered_at < p.until
    if p.under == COUNTY_ROOT:
        count = select(func.count()).select_from(guardians).where(registered)
    else:
        bound_to, bound_within, _ = _placed(p)
        count = (
            select(func.count(func.distinct(b.guardian_id)))
            .select_from(bound_to.join(guardian_bindings, b.pupil_id == pupils.c.id)
                         .join(guardians, guardians.c.id == b.guardian_id))
            .where(bound_within, registered, live)
        )  # fmt: skip
    return int(conn.execute(count).scalar_one()), int(bound)


def _badges(conn: Connection, p: Period) -> Counter[tuple[str, int]]:
    """Badges awarded in the period and not revoked by its end, by level and academic year:
    a pupil's by where the pupil is placed, a collective badge by its unit."""
    a = badge_awards.c
    holder = units.alias("holder")
    placed = func.coalesce(a.unit_id, pupils.c.squadron_id)
    return _counter(conn.execute(
        select(badges.c.level, a.academic_year, func.count())
        .select_from(badge_awards.join(badges, badges.c.id == a.badge_id)
                     .outerjoin(pupils, pupils.c.id == a.pupil_id)
                     .join(holder, holder.c.id == placed))
        .where(a.state.in_([AwardState.AWARDED.value, AwardState.REVOKED.value]),
               p.flowed(a.awarded_at), p.alive(a.awarded_at, a.revoked_at),
               p.within(holder.c.path))
        .group_by(badges.c.level, a.academic_year)
    ))  # fmt: skip


def _pupil_accounts(p: Period) -> tuple[Any, ColumnElement[bool]]:
    """Pupils' ledger accounts, and the condition that the pupil is placed under the unit."""
    of_pupils = ledger_accounts.c.kind == AccountKind.PUPIL.value
    if p.under == COUNTY_ROOT:  # every pupil's account: no need to place them
        return ledger_accounts, of_pupils
    joined, within, _ = _placed(
        p, ledger_accounts.join(pupils, pupils.c.id == ledger_accounts.c.owner_id)
    )
    return joined, and_(of_pupils, within)


def _points(conn: Connection, p: Period, found: Figures) -> None:
    """Points issued (from the county's pool to pupils, net of reversals), spent (by pupils
    on activities, exchange items or the sink, net of refunds), expired (returned to the
    pool at a year's end) in the period; and held by open sign-ups at its end."""
    accounts, scoped = _pupil_accounts(p)
    # Each transaction is classified once, by joining the sets of the period's transactions
    # that touch the pool and that are expiries (not a lookup per pupil posting: measured
    # 1.5 s of 1.7 s at 500,000 postings).
    pool, pool_posting = ledger_accounts.alias("pool"), ledger_postings.alias("pool_posting")
    from_pool = (
        select(pool_posting.c.transaction_id.label("id"))
        .join(pool, pool.c.id == pool_posting.c.account_id)
        .where(pool.c.kind == AccountKind.POOL.value, p.flowed(pool_posting.c.created_at))
        .distinct()
        .subquery("from_pool")
    )
    t = ledger_transactions.c
    expiries = select(t.id).where(t.kind == "expiry", p.flowed(t.created_at)).subquery("expiry")
    amount, issued, expired = (
        ledger_postings.c.amount,
        from_pool.c.id.is_not(None),
        expiries.c.id.is_not(None),
    )
    row = conn.execute(
        select(
            func.coalesce(func.sum(amount).filter(issued, ~expired), 0),
            func.coalesce(func.sum(-amount).filter(~issued), 0),
            func.coalesce(func.sum(-amount).filter(expired), 0),
        )
        .select_from(accounts.join(ledger_postings, ledger_postings.c.account_id
                                   == ledger_accounts.c.id)
                     .outerjoin(from_pool, from_pool.c.id == ledger_postings.c.transaction_id)
                     .outerjoin(expiries, expiries.c.id == ledger_postings.c.transaction_id))
        .where(scoped, p.flowed(ledger_postings.c.created_at))
    ).one()  # fmt: skip
    found.points_issued, found.points_spent, found.points_expired = (int(v) for v in row)
    h = ledger_holds.c
    found.points_held = int(conn.execute(
        select(func.coalesce(func.sum(h.amount), 0))
        .select_from(accounts.join(ledger_holds, h.account_id == ledger_accounts.c.id))
        .where(scoped, p.alive(h.created_at, h.closed_at))
    ).scalar_one())  # fmt: skip


def _activities(conn: Connection, p: Period, found: Figures) -> None:
    reached = reach_rules.reach(conn, p.under, p.since, p.as_of)
    found.activities = reached.activities
    found.served_pupils = reached.served.pupils
    found.served_person_times = reached.served.person_times
    found.served_by_area = {a: (s.pupils, s.person_times) for a, s in reached.by_area.items()}
    # Reach counts each township's pupils of today; a past period wants those of its end.
    current = _current_by_township(conn, p) if not p.now else None
    found.served_by_township = [
        TownshipServed(t.unit_id, t.served.pupils, t.served.person_times,
                       t.current_pupils if current is None else current.get(t.unit_id, 0))
        for t in reached.by_township
    ]  # fmt: skip
    found.served_by_township = [t for t in found.served_by_township
                                if t.pupils or t.current_pupils]  # fmt: skip


def _current_by_township(conn: Connection, p: Period) -> dict[int, int]:
    """Current pupils at the end of the period by township (or school directly under the
    county), keyed by the unit's id."""
    status, _, source = _status_as_of(p)
    placed, within, squadron = _placed(p, source)
    township = func.subpath(squadron.c.path, 0, 2)
    counted = (
        select(township.label("path"), func.count().label("n"))
        .select_from(placed)
        .where(within, status.in_(CURRENT_STATUSES))
        .group_by(township)
        .subquery()
    )
    rows = conn.execute(
        select(units.c.id, counted.c.n).join(counted, units.c.path == counted.c.path)
    )
    return {int(pk): int(n) for pk, n in rows}


def _redemptions(conn: Connection, p: Period) -> tuple[int, int]:
    """Exchange redemptions made in the period, and those picked up in it."""
    r = redemptions.c
    source, within, _ = _placed(p)
    row = conn.execute(
        select(
            func.count().filter(p.flowed(r.created_at)),
            func.count().filter(p.flowed(r.verified_at)),
        )
        .select_from(source.join(redemptions, r.pupil_id == pupils.c.id))
        .where(within)
    ).one()
    return int(row[0]), int(row[1])


def _tasks(conn: Connection, p: Period) -> Counter[str]:
    """Collection tasks completed in the period, by kind: lessons finished, works and forms
    approved."""
    s = task_submissions.c
    done_at = func.coalesce(s.reviewed_at, s.submitted_at)
    source, within, _ = _placed(p)
    return _counter(conn.execute(
        select(tasks.c.kind, func.count())
        .select_from(source.join(task_submissions, s.pupil_id == pupils.c.id)
                     .join(tasks, tasks.c.id == s.task_id))
        .where(within, s.state == SubmissionState.APPROVED.value, p.flowed(done_at))
        .group_by(tasks.c.kind)
    ))  # fmt: skip


def _pairing(conn: Connection, p: Period, paired: PairedSides, found: Figures) -> None:
    """Schools open at the end of the period (rural, for migrant workers' children), how many
    of them were paired then, and the pupils in pupil pairs."""
    rows = conn.execute(
        select(units.c.id, units.c.area, units.c.school_kind).where(
            units.c.kind == "brigade",
            p.within(units.c.path),
            p.alive(units.c.created_at, units.c.archived_at),
        )
    ).all()
    for pk, area, kind in rows:
        is_paired = pk in paired.schools
        found.schools += 1
        found.schools_paired += is_paired
        if area == "rural":
            found.rural_schools += 1
            found.rural_paired += is_paired
        if kind == "migrant":
            found.migrant_schools += 1
            found.migrant_paired += is_paired
    if paired.pupils:
        source, within, _ = _placed(p)
        found.pupils_in_pairs = int(conn.execute(
            select(func.count()).select_from(source)
            .where(within, pupils.c.id.in_(sorted(paired.pupils)))
        ).scalar_one())  # fmt: skip


def compute(conn: Connection, tenant: Tenant, period: Period) -> Figures:
    """Every figure of `period` in one transaction of a service connection: the pairings from
    the shared schema first, then the rest as the county (there is no way back)."""
    paired = paired_sides(conn, tenant.code, period.as_of)
    return county_figures(act_as_county(conn, tenant), period, paired)


def academic_year_start(day: dt.date) -> dt.date:
    """1 September of the academic year `day` falls in (学年: September to August)."""
    return dt.date(day.year if day.month >= 9 else day.year - 1, 9, 1)
