"""A demo county's year: activities attended, badges awarded, points earned and spent.

Written after the county's people (`populate_county`), as one resumable step (`history`) in one
transaction of the county's own role, with COPY. Everything is what the service itself would
have written had the year happened through the API:

- each brigade held `ACTIVITIES_PER_BRIGADE` activities over the last year; each pupil attended
  some of its own brigade's (an `attended` sign-up) and got the activity's reward from the
  county's pool (`reward`, keyed `activity:<id>:reward:<sign-up>` as attendance keys it);
- `AWARDED_SHARE` of pupils got a basic badge (`award:<award id>`, its points from the pool);
- pupils spent points at the county's partners (`spend`, `redeem:<redemption id>`), never more
  than they held at the time, and the codes were picked up;
- each credit is a lot (no expiry), debits take the oldest first, so balances, lots, postings and
  the pool agree and `redscarf ledger verify` passes.

About 10 transactions, so 20 postings, per pupil. For today it leaves activities open for sign-up
and goods on sale, so the demo can be used at once.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from domain.activities.service import activity_account
from domain.activities.tables import activities
from domain.badges.tables import badges
from domain.demo.populate import _claim, _copy, _cursor
from domain.exchange.service import partner_account
from domain.exchange.tables import exchange_items, partners
from domain.ledger import service as ledger
from domain.ledger.tables import ledger_accounts
from domain.org.tables import UnitKind, units
from domain.people.tables import PupilStatus, pupils
from tenants.sessions import Tenant, tenant_connection

HISTORY_STEP = "history"
ACTIVITIES_PER_BRIGADE = 12
ATTENDED = (5, 11)  # activities a pupil attended in the year, at least and at most
SPENT = (1, 5)  # redemptions a pupil made in the year
AWARDED_SHARE = 0.4
REWARDS = (5, 10, 15, 20)
BY = "demo"

TITLES = ("红领巾寻访家乡变化", "学雷锋志愿服务", "国旗下的讲话", "红色研学实践", "少先队建队日主题队日",
          "垃圾分类进社区", "清明缅怀先烈", "劳动实践周", "科技节小发明展", "读书分享会")  # fmt: skip
PARTNERS = ("新华书店", "县少年宫")
PAST_ITEMS = (("课外读物", 30), ("文具套装", 20), ("少年宫体验课", 50))
ON_SALE = (("红领巾读本", 20), ("科普图书", 40), ("少年宫研学一日", 60), ("文具礼包", 15))
OPEN_ACTIVITIES = (("周末红领巾志愿服务", 0), ("红色研学：参观纪念馆", 10), ("科技馆一日营", 20))


@dataclass
class _Rows:
    """What the year adds, table by table, before it is copied."""

    activities: list[tuple[Any, ...]] = field(default_factory=list)
    signups: list[tuple[Any, ...]] = field(default_factory=list)
    awards: list[tuple[Any, ...]] = field(default_factory=list)
    transactions: list[tuple[Any, ...]] = field(default_factory=list)
    postings: list[tuple[Any, ...]] = field(default_factory=list)
    lots: list[tuple[Any, ...]] = field(default_factory=list)
    redemptions: list[tuple[Any, ...]] = field(default_factory=list)
    balances: dict[int, int] = field(default_factory=lambda: defaultdict(int))


def write_history(engine: Engine, tenant: Tenant, *, seed: int, run_key: str) -> bool:
    """The county's year, once per run key; False if it was written before."""
    with tenant_connection(engine, tenant) as conn:
        if not _claim(conn, run_key, HISTORY_STEP):
            return False
        # A year of a 50,000-pupil county is a million postings in one transaction.
        conn.execute(text("SET LOCAL statement_timeout = 0"))
        now = conn.execute(select(func.now())).scalar_one()
        cur = _cursor(conn)
        ids = _Allocator(cur, tenant)
        rng = random.Random(seed)
        pool = ledger.pool(conn)
        sellers = [_partner(conn, name) for name in PARTNERS]
        past_items = _items(conn, sellers, PAST_ITEMS, now, on_sale=False)
        _items(conn, sellers, ON_SALE, now, on_sale=True)
        rows = _Rows()
        by_brigade = _pupils_by_brigade(conn)
        basic = conn.execute(
            select(badges.c.id, badges.c.points).where(badges.c.code.like("basic.%"))
        ).all()
        accounts = _pupil_accounts(conn, [p for group in by_brigade.values() for p in group])
        for (brigade, area), group in by_brigade.items():
            held = _brigade_activities(rows, ids, rng, brigade, area, now, len(group))
            for pupil in group:
                _pupil_year(rows, ids, rng, accounts[pupil], pupil, pool, held, basic, past_items,
                            now)  # fmt: skip
        _open_activities(conn, now, rng)
        _copy(conn, tenant, "activities", ACTIVITY_COLUMNS, rows.activities)
        _copy(conn, tenant, "activity_signups", SIGNUP_COLUMNS, rows.signups)
        _copy(conn, tenant, "ledger_transactions", TRANSACTION_COLUMNS, rows.transactions)
        _copy(conn, tenant, "ledger_postings", POSTING_COLUMNS, rows.postings)
        _copy(conn, tenant, "ledger_lots", LOT_COLUMNS, rows.lots)
        _copy(conn, tenant, "badge_awards", AWARD_COLUMNS, rows.awards)
        _copy(conn, tenant, "redemptions", REDEMPTION_COLUMNS, rows.redemptions)
        conn.execute(
            update(ledger_accounts)
            .where(ledger_accounts.c.id == bindparam("account"))
            .values(balance=ledger_accounts.c.balance + bindparam("delta")),
            [{"account": a, "delta": n} for a, n in rows.balances.items()],
        )
    return True


ACTIVITY_COLUMNS = ("id", "unit_id", "title", "starts_at", "ends_at", "signup_opens_at",
                    "signup_closes_at", "capacity", "confirmed", "area", "reward", "state",
                    "created_by", "created_at", "finished_at")  # fmt: skip
SIGNUP_COLUMNS = ("id", "activity_id", "pupil_id", "state", "signed_up_by", "created_at",
                  "updated_at")  # fmt: skip
TRANSACTION_COLUMNS = ("id", "idempotency_key", "kind", "memo", "created_by", "created_at")
POSTING_COLUMNS = ("transaction_id", "account_id", "amount", "created_at")
LOT_COLUMNS = ("account_id", "transaction_id", "amount", "remaining", "created_at")
AWARD_COLUMNS = ("id", "badge_id", "pupil_id", "academic_year", "term", "state", "awarded_by",
                 "awarded_at", "points", "transaction_id")  # fmt: skip
REDEMPTION_COLUMNS = ("id", "item_id", "pupil_id", "code_hash", "state", "transaction_id",
                      "redeemed_by", "created_at", "expires_at", "verified_at")  # fmt: skip


class _Allocator:
    """Ids drawn from the tables' own identity sequences, so rows can name each other."""

    def __init__(self, cur: Any, tenant: Tenant) -> None:
        self.cur = cur
        self.sequences = {}
        for table in ("activities", "activity_signups", "badge_awards", "ledger_transactions",
                      "redemptions"):  # fmt: skip
            cur.execute(
                "SELECT pg_get_serial_sequence(%s, 'id')", (f'"{tenant.schema_name}"."{table}"',)
            )
            self.sequences[table] = cur.fetchone()[0]
        self.free: dict[str, list[int]] = defaultdict(list)

    def next(self, table: str) -> int:
        free = self.free[table]
        if not free:
            self.cur.execute(
                "SELECT nextval(%s::regclass) FROM generate_series(1, 4096)",
                (self.sequences[table],),
            )
            free.extend(sorted((r[0] for r in self.cur.fetchall()), reverse=True))
        return free.pop()


def _partner(conn: Connection, name: str) -> int:
    found = conn.execute(select(partners.c.id).where(partners.c.name == name)).scalar()
    if found is None:
        found = conn.execute(
            insert(partners).values(name=name).returning(partners.c.id)
        ).scalar_one()
    return int(found)


def _items(conn: Connection, sellers: Sequence[int], items: Sequence[tuple[str, int]],
           now: dt.datetime, *, on_sale: bool) -> list[tuple[int, int, int]]:  # fmt: skip
    """(item, price, the partner's account) of goods last year (withdrawn) or on sale now."""
    made = []
    for n, (name, price) in enumerate(items):
        partner = sellers[n % len(sellers)]
        start, until = (now - dt.timedelta(days=30), now + dt.timedelta(days=335)) if on_sale \
            else (now - dt.timedelta(days=365), now - dt.timedelta(days=1))  # fmt: skip
        item = conn.execute(
            insert(exchange_items)
            .values(partner_id=partner, name=name, price=price, stock=100_000,
                    per_pupil=5 if on_sale else 4, valid_from=start, valid_until=until,
                    state="on_sale" if on_sale else "withdrawn")
            .returning(exchange_items.c.id)
        ).scalar_one()  # fmt: skip
        made.append((int(item), price, partner_account(conn, partner)))
    return made


def _pupils_by_brigade(conn: Connection) -> dict[tuple[int, str | None], list[int]]:
    """Pupils in the organisation (members and pre-members) by (brigade, its area)."""
    found: dict[tuple[int, str | None], list[int]] = defaultdict(list)
    for pupil, brigade, area in conn.execute(
        select(pupils.c.id, units.c.parent_id, units.c.area)
        .join(units, units.c.id == pupils.c.squadron_id)
        .where(pupils.c.status.in_([PupilStatus.MEMBER, PupilStatus.PRE_MEMBER]))
        .order_by(pupils.c.id)
    ):
        found[(int(brigade), area)].append(int(pupil))
    return found


def _pupil_accounts(conn: Connection, owners: list[int]) -> dict[int, int]:
    conn.execute(
        pg_insert(ledger_accounts).on_conflict_do_nothing(),
        [{"kind": "pupil", "owner_id": p, "name": f"队员 {p}"} for p in owners],
    )
    rows = conn.execute(
        select(ledger_accounts.c.owner_id, ledger_accounts.c.id).where(
            ledger_accounts.c.kind == "pupil"
        )
    )
    return {int(owner): int(pk) for owner, pk in rows}


def _brigade_activities(rows: _Rows, ids: _Allocator, rng: random.Random, brigade: int,
                        area: str | None, now: dt.datetime, size: int) -> list[tuple[int, dt.datetime, int, str]]:  # fmt: skip
    """The brigade's activities of the year: (id, when, reward, title)."""
    held = []
    for _ in range(ACTIVITIES_PER_BRIGADE):
        pk = ids.next("activities")
        starts = now - dt.timedelta(days=rng.randint(7, 360), hours=rng.randint(0, 6))
        title, reward = rng.choice(TITLES), rng.choice(REWARDS)
        held.append((pk, starts, reward, title))
        rows.activities.append((pk, brigade, title, starts, starts + dt.timedelta(hours=3),
                                starts - dt.timedelta(days=10), starts - dt.timedelta(days=1),
                                max(size, 1), 0, area, reward, "finished", BY,
                                starts - dt.timedelta(days=12), starts + dt.timedelta(hours=3)))  # fmt: skip
    return held


def _pupil_year(rows: _Rows, ids: _Allocator, rng: random.Random, account: int, pupil: int,
                pool: int, held: list[tuple[int, dt.datetime, int, str]], basic: Sequence[Any],
                items: Sequence[tuple[int, int, int]], now: dt.datetime) -> None:  # fmt: skip
    """One pupil's credits and debits of the year, in time order, never below zero."""
    events: list[tuple[dt.datetime, str, Any]] = []
    for activity in rng.sample(held, min(len(held), rng.randint(*ATTENDED))):
        events.append((activity[1] + dt.timedelta(hours=3), "reward", activity))
    if basic and rng.random() < AWARDED_SHARE:
        badge = rng.choice(basic)
        events.append((now - dt.timedelta(days=rng.randint(14, 300)), "award", badge))
    events.sort(key=lambda e: e[0])
    last = events[-1][0] if events else now
    for _ in range(rng.randint(*SPENT)):
        events.append((min(now, last + dt.timedelta(days=rng.randint(1, 60))), "spend",
                       rng.choice(items)))  # fmt: skip
    events.sort(key=lambda e: (e[0], e[1] == "spend"))
    lots: list[list[Any]] = []  # [transaction, amount, remaining, at], oldest first
    balance = 0
    for at, kind, what in events:
        if kind == "spend" and what[1] > balance:
            continue
        tx = ids.next("ledger_transactions")
        if kind == "reward":
            activity, _, reward, title = what
            signup = ids.next("activity_signups")
            rows.signups.append((signup, activity, pupil, "attended", BY,
                                 at - dt.timedelta(days=5), at))  # fmt: skip
            key, memo, amount, source = f"activity:{activity}:reward:{signup}", title, reward, pool
        elif kind == "award":
            badge, points = what
            award = ids.next("badge_awards")
            points = points or 10
            year = at.year if at.month >= 9 else at.year - 1
            rows.awards.append((award, badge, pupil, year, 1, "awarded", BY, at, points, tx))
            key, memo, amount, source = f"award:{award}", "基础章", points, pool
        else:
            item, price, partner = what  # the partner's account is credited
            redemption = ids.next("redemptions")
            rows.redemptions.append((redemption, item, pupil, secrets.token_bytes(32), "verified",
                                     tx, BY, at, at + dt.timedelta(days=30),
                                     at + dt.timedelta(days=2)))  # fmt: skip
            key, memo, amount, source = f"redeem:{redemption}", "兑换", -price, partner
        rows.transactions.append((tx, key, kind, memo, BY, at))
        rows.postings.append((tx, account, amount, at))
        rows.postings.append((tx, source, -amount, at))
        rows.balances[account] += amount
        rows.balances[source] -= amount
        balance += amount
        if amount > 0:
            lots.append([tx, amount, amount, at])
        else:
            _take(lots, -amount)
    rows.lots.extend((account, tx, amount, remaining, at) for tx, amount, remaining, at in lots)


def _take(lots: list[list[Any]], amount: int) -> None:
    for lot in lots:
        taken = min(lot[2], amount)
        lot[2] -= taken
        amount -= taken
        if not amount:
            return


def _open_activities(conn: Connection, now: dt.datetime, rng: random.Random) -> None:
    """Activities of the county open for sign-up now, so the demo has something to join."""
    root = conn.execute(select(units.c.id).where(units.c.kind == UnitKind.COUNTY)).scalar_one()
    for n, (title, cost) in enumerate(OPEN_ACTIVITIES):
        starts = now + dt.timedelta(days=7 + 7 * n, hours=rng.randint(0, 4))
        pk = conn.execute(
            insert(activities)
            .values(unit_id=root, title=title, starts_at=starts,
                    ends_at=starts + dt.timedelta(hours=4), signup_opens_at=now - dt.timedelta(days=1),
                    signup_closes_at=starts - dt.timedelta(days=1), capacity=200, cost=cost,
                    reward=10, state="published", created_by=BY)
            .returning(activities.c.id)
        ).scalar_one()  # fmt: skip
        activity_account(conn, pk)
