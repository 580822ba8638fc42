"""Moving points: transactions of balanced postings, holds, reversals, and the verification.

Every function runs in the caller's county transaction (a `Connection` bound by
`tenants.sessions.act_as_county`). A refused movement raises, and the caller's transaction must
then roll back (the transaction row may already be written).

Concurrency: the accounts a transaction touches are locked (`FOR UPDATE`, in key order, so two
transactions never deadlock on them) before their balances are checked and changed; a second
request with the same idempotency key waits on the unique index for the first to commit, then
finds it and returns it (`created=False`) if it asked for the same postings.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    bindparam,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert

from domain import clock
from domain.ledger.tables import (
    AccountKind,
    HoldState,
    county_settings,
    ledger_accounts,
    ledger_holds,
    ledger_lots,
    ledger_postings,
    ledger_transactions,
)
from redscarf.errors import Conflict, InvalidInput, NotFound
from tenants.metadata import next_ids

POOL_NAME = "县（区）积分发行池"


class InsufficientPoints(InvalidInput):
    code = "INSUFFICIENT_POINTS"
    message = "积分不足"


class Unbalanced(InvalidInput):
    code = "UNBALANCED_TRANSACTION"
    message = "积分记账不平衡"


class IdempotencyKeyReused(Conflict):
    code = "IDEMPOTENCY_KEY_REUSED"
    message = "这个幂等键已用于另一笔不同的积分操作"


class AlreadyReversed(Conflict):
    code = "ALREADY_REVERSED"
    message = "这笔积分已冲正过"


class HoldClosed(Conflict):
    code = "HOLD_CLOSED"
    message = "这笔预留积分已结算或已取消"


@dataclass(frozen=True)
class Posted:
    transaction_id: int
    created: bool
    """False when the idempotency key had been used for this very transaction already."""


def _owned_by(kind: AccountKind, owner_id: int | None) -> ColumnElement[bool]:
    """The account of (kind, owner) as its unique index can find it: `owner_id IS NOT DISTINCT
    FROM :x` says the same but no index answers it, so each lookup read every account (4-15 ms
    in a county of 50,000 pupils, twice in a sign-up, under the activity's lock)."""
    owner = (
        ledger_accounts.c.owner_id.is_(None)
        if owner_id is None
        else ledger_accounts.c.owner_id == owner_id
    )
    return and_(ledger_accounts.c.kind == kind.value, owner)


def account(
    conn: Connection, kind: AccountKind, owner_id: int | None = None, name: str = ""
) -> int:
    """The account of (kind, owner), opened on first use."""
    key = _owned_by(kind, owner_id)
    found = conn.execute(select(ledger_accounts.c.id).where(key)).scalar()
    if found is not None:
        return int(found)
    conn.execute(
        pg_insert(ledger_accounts)
        .values(kind=kind.value, owner_id=owner_id, name=name or kind.value)
        .on_conflict_do_nothing()
    )
    return int(conn.execute(select(ledger_accounts.c.id).where(key)).scalar_one())


def pool(conn: Connection) -> int:
    return account(conn, AccountKind.POOL, None, POOL_NAME)


def pupil_account(conn: Connection, pupil_id: int) -> int:
    return account(conn, AccountKind.PUPIL, pupil_id, f"队员 {pupil_id}")


def balance_of(conn: Connection, kind: AccountKind, owner_id: int | None) -> int:
    """The balance of an owner's account (zero before it has one)."""
    found = conn.execute(
        select(ledger_accounts.c.balance).where(_owned_by(kind, owner_id))
    ).scalar()
    return int(found or 0)


def lock_accounts(conn: Connection, account_ids: Sequence[int]) -> None:
    """Lock accounts in key order, as every posting does: work that posts more than once in a
    transaction takes them all first, so it never waits holding one another transaction needs."""
    conn.execute(
        select(ledger_accounts.c.id)
        .where(ledger_accounts.c.id.in_(sorted(set(account_ids))))
        .order_by(ledger_accounts.c.id)
        .with_for_update()
    ).all()


def available_of(conn: Connection, kind: AccountKind, owner_id: int | None) -> int:
    """What an owner may spend now: the balance less what is held (zero before any account)."""
    return available_account(conn, kind, owner_id)[1]


def available_account(
    conn: Connection, kind: AccountKind, owner_id: int | None
) -> tuple[int | None, int]:
    """The owner's account (None before it has one) and what it may spend now, in one query."""
    found = conn.execute(
        select(ledger_accounts.c.id, ledger_accounts.c.balance - ledger_accounts.c.held).where(
            _owned_by(kind, owner_id)
        )
    ).first()
    return (None, 0) if found is None else (int(found[0]), int(found[1]))


def _merged(postings: Iterable[tuple[int, int]]) -> dict[int, int]:
    by_account: dict[int, int] = defaultdict(int)
    for account_id, amount in postings:
        by_account[account_id] += amount
    return {a: n for a, n in by_account.items() if n != 0}


def _existing(conn: Connection, key: str, kind: str, wanted: dict[int, int]) -> Posted:
    found = conn.execute(
        select(ledger_transactions.c.id, ledger_transactions.c.kind).where(
            ledger_transactions.c.idempotency_key == key
        )
    ).one()
    postings = _merged(
        conn.execute(
            select(ledger_postings.c.account_id, ledger_postings.c.amount).where(
                ledger_postings.c.transaction_id == found.id
            )
        ).tuples()
    )
    if found.kind != kind or postings != wanted:
        raise IdempotencyKeyReused()
    return Posted(int(found.id), created=False)


def _apply(
    conn: Connection, wanted: dict[int, int], *, releasing: dict[int, int] | None = None
) -> set[int]:
    """Lock the accounts, check that no pupil goes below what it holds, change the balances
    (and, for a posted hold, the held amounts); returns the pupils' accounts among them."""
    releasing = releasing or {}
    rows = conn.execute(
        select(ledger_accounts.c.id, ledger_accounts.c.kind, ledger_accounts.c.balance,
               ledger_accounts.c.held)
        .where(ledger_accounts.c.id.in_(sorted(set(wanted) | set(releasing))))
        .order_by(ledger_accounts.c.id)
        .with_for_update()
    ).all()  # fmt: skip
    if len(rows) != len(set(wanted) | set(releasing)):
        raise NotFound("没有这个积分账户", code="ACCOUNT_NOT_FOUND")
    for row in rows:
        balance = row.balance + wanted.get(row.id, 0)
        held = row.held - releasing.get(row.id, 0)
        if row.kind == AccountKind.PUPIL and balance < held:
            raise InsufficientPoints(
                f"积分不足：可用 {row.balance - row.held}，需要 {-wanted.get(row.id, 0)}"
            )
        conn.execute(
            update(ledger_accounts)
            .where(ledger_accounts.c.id == row.id)
            .values(balance=balance, held=held)
        )
    return {row.id for row in rows if row.kind == AccountKind.PUPIL}


# --- lots: what a pupil holds, by when it expires -------------------------------------------

EXPIRY_SETTING = "points_expiry_years"


def county_setting(conn: Connection, key: str) -> int | None:
    """One of the county's numeric rules (`county_settings`), None when never set."""
    value = conn.execute(
        select(county_settings.c.value).where(county_settings.c.key == key)
    ).scalar()
    return int(value) if value is not None else None


def set_county_setting(conn: Connection, key: str, value: int) -> None:
    conn.execute(
        pg_insert(county_settings)
        .values(key=key, value=value)
        .on_conflict_do_update(
            index_elements=["key"], set_={"value": value, "updated_at": func.now()}
        )
    )


def expiry_years(conn: Connection) -> int | None:
    """The county's rule: points expire at the end of the academic year this many years after
    the one they were earned in (1: at the end of the same year); None: never."""
    return county_setting(conn, EXPIRY_SETTING)


def expires_on(years: int | None, earned: dt.date) -> dt.date | None:
    if years is None:
        return None
    first = earned.year if earned.month >= 9 else earned.year - 1  # 学年 starts in September
    return dt.date(first + years, 8, 31)


def set_expiry(conn: Connection, years: int | None) -> None:
    """Points earned from now on follow the rule; points already held keep their date."""
    if years is None:
        conn.execute(county_settings.delete().where(county_settings.c.key == EXPIRY_SETTING))
        return
    if not 1 <= years <= 10:
        raise InvalidInput("积分有效期应为 1–10 个学年", code="INVALID_EXPIRY")
    set_county_setting(conn, EXPIRY_SETTING, years)


def _lots(conn: Connection, transaction_id: int, credits: dict[int, int]) -> None:
    """New lots for credits to pupils' accounts."""
    if credits:
        until = expires_on(expiry_years(conn), clock.today())
        conn.execute(
            insert(ledger_lots),
            [{"account_id": a, "transaction_id": transaction_id, "amount": n, "remaining": n,
              "expires_on": until} for a, n in credits.items()],
        )  # fmt: skip


def _consume(conn: Connection, account_id: int, amount: int) -> None:
    """Take `amount` from a pupil's lots, soonest to expire first (the account is locked)."""
    lots = conn.execute(
        select(ledger_lots.c.id, ledger_lots.c.remaining)
        .where(ledger_lots.c.account_id == account_id, ledger_lots.c.remaining > 0)
        .order_by(ledger_lots.c.expires_on.asc().nulls_last(), ledger_lots.c.id)
    ).all()
    for lot in lots:
        if amount <= 0:
            break
        taken = min(amount, lot.remaining)
        conn.execute(
            update(ledger_lots)
            .where(ledger_lots.c.id == lot.id)
            .values(remaining=ledger_lots.c.remaining - taken)
        )
        amount -= taken
    if amount > 0:
        raise Unbalanced(f"账户 {account_id} 的积分批次不足（差 {amount}）：请运行 ledger verify")


def _move_lots(
    conn: Connection, transaction_id: int, wanted: dict[int, int], pupils: set[int]
) -> None:
    credits = {a: n for a, n in wanted.items() if a in pupils and n > 0}
    for account_id, amount in wanted.items():
        if account_id in pupils and amount < 0:
            _consume(conn, account_id, -amount)
    _lots(conn, transaction_id, credits)


def expire(conn: Connection, today: dt.date | None = None, *, by: str | None = None) -> int:
    """Move the points past their expiry (but not those held for a sign-up) from each pupil
    back to the pool, one transaction per pupil and day; returns the points expired."""
    today = today or clock.today()
    due = conn.execute(
        select(ledger_lots.c.account_id, func.sum(ledger_lots.c.remaining))
        .where(ledger_lots.c.remaining > 0, ledger_lots.c.expires_on < today)
        .group_by(ledger_lots.c.account_id)
        .order_by(ledger_lots.c.account_id)
    ).all()
    source = pool(conn) if due else None
    expired = 0
    for account_id, points in due:
        row = conn.execute(
            select(ledger_accounts.c.balance, ledger_accounts.c.held)
            .where(ledger_accounts.c.id == account_id)
            .with_for_update()
        ).one()
        amount = min(int(points), row.balance - row.held)
        if amount > 0:
            # The balance is part of the key: a rerun after a crash (nothing changed) is the same
            # transaction; a later run after a hold was released expires what was left.
            key = f"expire:{account_id}:{today.isoformat()}:{row.balance}"
            done = post(conn, key, "expiry",
                        [(account_id, -amount), (source, amount)], memo="积分过期", by=by)  # fmt: skip
            expired += amount if done.created else 0
    return expired


def post(
    conn: Connection,
    key: str,
    kind: str,
    postings: Sequence[tuple[int, int]],
    *,
    memo: str | None = None,
    by: str | None = None,
    reverses: int | None = None,
    releasing: dict[int, int] | None = None,
) -> Posted:
    """One transaction of `postings` (account id, signed amount) that sum to zero."""
    wanted = _merged(postings)
    if not wanted or sum(amount for _, amount in postings) != 0:
        raise Unbalanced(f"各笔积分之和应为零，收到 {sum(a for _, a in postings)}")
    transaction_id = conn.execute(
        pg_insert(ledger_transactions)
        .values(idempotency_key=key, kind=kind, memo=memo, created_by=by, reverses_id=reverses)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(ledger_transactions.c.id)
    ).scalar()
    if transaction_id is None:
        return _existing(conn, key, kind, wanted)
    pupils = _apply(conn, wanted, releasing=releasing)
    _move_lots(conn, transaction_id, wanted, pupils)
    conn.execute(
        insert(ledger_postings),
        [
            {"transaction_id": transaction_id, "account_id": a, "amount": n}
            for a, n in wanted.items()
        ],
    )
    return Posted(int(transaction_id), created=True)


@dataclass(frozen=True)
class Grant:
    key: str
    pupil_id: int
    points: int
    memo: str | None = None


def pupil_accounts(conn: Connection, pupil_ids: Sequence[int]) -> dict[int, int]:
    """Accounts of many pupils at once (opened where missing): pupil id -> account id."""
    wanted = sorted(set(pupil_ids))
    if wanted:
        conn.execute(
            pg_insert(ledger_accounts).on_conflict_do_nothing(),
            [
                {"kind": AccountKind.PUPIL.value, "owner_id": pk, "name": f"队员 {pk}"}
                for pk in wanted
            ],
        )
    rows = conn.execute(
        select(ledger_accounts.c.owner_id, ledger_accounts.c.id).where(
            ledger_accounts.c.kind == AccountKind.PUPIL.value,
            ledger_accounts.c.owner_id.in_(wanted),
        )
    )
    return {int(owner): int(pk) for owner, pk in rows}


def issue_many(conn: Connection, grants: Sequence[Grant], *, kind: str, by: str | None = None
               ) -> dict[str, int]:  # fmt: skip
    """Points from the county's pool to many pupils, one balanced transaction each (an import
    of 50,000 awards): statements run once for all, not once per grant. Keys already used are
    refused, as the grants of a new award's key can never have been made. Returns key ->
    transaction id."""
    grants = [g for g in grants if g.points]
    if not grants:
        return {}
    if any(g.points < 0 for g in grants):
        raise Unbalanced("发放的积分不能为负")
    accounts = pupil_accounts(conn, [g.pupil_id for g in grants])
    source = pool(conn)
    locked = sorted({source, *accounts.values()})
    conn.execute(
        select(ledger_accounts.c.id).where(ledger_accounts.c.id.in_(locked)).with_for_update()
    ).all()
    ids = next_ids(conn, "ledger_transactions", len(grants))
    conn.execute(
        insert(ledger_transactions),
        [{"id": pk, "idempotency_key": g.key, "kind": kind, "memo": g.memo, "created_by": by}
         for pk, g in zip(ids, grants, strict=True)],
    )  # fmt: skip
    conn.execute(
        insert(ledger_postings),
        [row for pk, g in zip(ids, grants, strict=True)
         for row in ({"transaction_id": pk, "account_id": source, "amount": -g.points},
                     {"transaction_id": pk, "account_id": accounts[g.pupil_id], "amount": g.points})],
    )  # fmt: skip
    until = expires_on(expiry_years(conn), clock.today())
    conn.execute(
        insert(ledger_lots),
        [{"account_id": accounts[g.pupil_id], "transaction_id": pk, "amount": g.points,
          "remaining": g.points, "expires_on": until} for pk, g in zip(ids, grants, strict=True)],
    )  # fmt: skip
    credit: dict[int, int] = defaultdict(int)
    for g in grants:
        credit[accounts[g.pupil_id]] += g.points
    credit[source] -= sum(g.points for g in grants)
    conn.execute(
        update(ledger_accounts)
        .where(ledger_accounts.c.id == bindparam("account"))
        .values(balance=ledger_accounts.c.balance + bindparam("delta")),
        [{"account": a, "delta": n} for a, n in credit.items()],
    )
    return {g.key: pk for pk, g in zip(ids, grants, strict=True)}


def reverse(conn: Connection, transaction_id: int, key: str, *, by: str | None = None,
            memo: str | None = None) -> Posted:  # fmt: skip
    """A new transaction with the postings negated; a transaction is reversed at most once."""
    done = conn.execute(
        select(ledger_transactions.c.id, ledger_transactions.c.idempotency_key).where(
            ledger_transactions.c.reverses_id == transaction_id
        )
    ).first()
    if done is not None:
        if done.idempotency_key == key:
            return Posted(int(done.id), created=False)
        raise AlreadyReversed()
    original = conn.execute(
        select(ledger_postings.c.account_id, ledger_postings.c.amount).where(
            ledger_postings.c.transaction_id == transaction_id
        )
    ).all()
    if not original:
        raise NotFound("没有这笔积分记录", code="TRANSACTION_NOT_FOUND")
    return post(conn, key, "reversal", [(a, -n) for a, n in original], memo=memo, by=by,
                reverses=transaction_id)  # fmt: skip


def hold(
    conn: Connection, key: str, account_id: int, amount: int, *, memo: str | None = None
) -> int:
    """Reserve `amount` of an account (a sign-up's cost); returns the hold's id."""
    if amount <= 0:
        raise InvalidInput("预留积分应大于零", code="INVALID_AMOUNT")
    # The account first: inserting the hold takes a share lock on it (the foreign key), and two
    # holds that then both asked for the row lock would wait for each other (a deadlock the
    # property test found).
    row = conn.execute(
        select(ledger_accounts.c.kind, ledger_accounts.c.balance, ledger_accounts.c.held)
        .where(ledger_accounts.c.id == account_id)
        .with_for_update()
    ).first()
    if row is None:
        raise NotFound("没有这个积分账户", code="ACCOUNT_NOT_FOUND")
    pk = conn.execute(
        pg_insert(ledger_holds)
        .values(idempotency_key=key, account_id=account_id, amount=amount, memo=memo)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(ledger_holds.c.id)
    ).scalar()
    if pk is None:
        found = conn.execute(
            select(ledger_holds).where(ledger_holds.c.idempotency_key == key)
        ).one()
        if (found.account_id, found.amount) != (account_id, amount):
            raise IdempotencyKeyReused()
        return int(found.id)
    if row.kind == AccountKind.PUPIL and row.balance - row.held < amount:
        raise InsufficientPoints(f"积分不足：可用 {row.balance - row.held}，需要 {amount}")
    conn.execute(
        update(ledger_accounts)
        .where(ledger_accounts.c.id == account_id)
        .values(held=ledger_accounts.c.held + amount)
    )
    return int(pk)


def _open_hold(conn: Connection, hold_id: int) -> object:
    found = conn.execute(
        select(ledger_holds).where(ledger_holds.c.id == hold_id).with_for_update()
    ).first()
    if found is None:
        raise NotFound("没有这笔预留积分", code="HOLD_NOT_FOUND")
    return found


def post_hold(
    conn: Connection, hold_id: int, amount: int, to_account: int, key: str, *,
    by: str | None = None, memo: str | None = None,
) -> Posted:  # fmt: skip
    """Post `amount` (at most the hold's) of a hold to `to_account`; the rest is released."""
    found = _open_hold(conn, hold_id)
    if found.state == HoldState.POSTED:
        posted = conn.execute(
            select(ledger_transactions.c.idempotency_key).where(
                ledger_transactions.c.id == found.transaction_id
            )
        ).scalar()
        if posted == key:
            return Posted(int(found.transaction_id), created=False)
    if found.state != HoldState.OPEN:
        raise HoldClosed()
    if not 0 < amount <= found.amount:
        raise InvalidInput(f"结算积分应在 1 到 {found.amount} 之间", code="INVALID_AMOUNT")
    done = post(
        conn, key, "hold", [(found.account_id, -amount), (to_account, amount)],
        by=by, memo=memo or found.memo, releasing={found.account_id: found.amount},
    )  # fmt: skip
    conn.execute(
        update(ledger_holds)
        .where(ledger_holds.c.id == hold_id)
        .values(state=HoldState.POSTED.value, transaction_id=done.transaction_id,
                closed_at=func.now())
    )  # fmt: skip
    return done


def void_hold(conn: Connection, hold_id: int) -> bool:
    """Release a hold; False when it was voided already (a retry)."""
    found = _open_hold(conn, hold_id)
    if found.state == HoldState.VOIDED:
        return False
    if found.state != HoldState.OPEN:
        raise HoldClosed()
    conn.execute(
        update(ledger_accounts)
        .where(ledger_accounts.c.id == found.account_id)
        .values(held=ledger_accounts.c.held - found.amount)
    )
    conn.execute(
        update(ledger_holds)
        .where(ledger_holds.c.id == hold_id)
        .values(state=HoldState.VOIDED.value, closed_at=func.now())
    )
    return True


@dataclass(frozen=True)
class Verification:
    transactions: int
    postings: int
    accounts: int
    problems: list[str]


_CHECKS = {
    "unbalanced transactions": """
        SELECT t.id FROM {s}.ledger_transactions t
        LEFT JOIN {s}.ledger_postings p ON p.transaction_id = t.id
        GROUP BY t.id HAVING coalesce(sum(p.amount), 0) <> 0 OR count(p.id) = 0""",
    "balances that are not the sum of their postings": """
        SELECT a.id FROM {s}.ledger_accounts a
        LEFT JOIN {s}.ledger_postings p ON p.account_id = a.id
        GROUP BY a.id HAVING a.balance <> coalesce(sum(p.amount), 0)""",
    "pupils' balances that went below zero": """
        SELECT DISTINCT account_id FROM (
            SELECT p.account_id, sum(p.amount) OVER (PARTITION BY p.account_id ORDER BY p.id) AS running
            FROM {s}.ledger_postings p JOIN {s}.ledger_accounts a ON a.id = p.account_id
            WHERE a.kind = 'pupil') r
        WHERE running < 0""",
    "held amounts that are not the sum of open holds": """
        SELECT a.id FROM {s}.ledger_accounts a
        LEFT JOIN {s}.ledger_holds h ON h.account_id = a.id AND h.state = 'open'
        GROUP BY a.id HAVING a.held <> coalesce(sum(h.amount), 0)""",
    "pupils whose lots do not add up to their balance": """
        SELECT a.id FROM {s}.ledger_accounts a
        LEFT JOIN {s}.ledger_lots l ON l.account_id = a.id
        WHERE a.kind = 'pupil'
        GROUP BY a.id HAVING a.balance <> coalesce(sum(l.remaining), 0)""",
    "pupils holding more than they have": """
        SELECT id FROM {s}.ledger_accounts WHERE kind = 'pupil' AND (held > balance OR held < 0)""",
}  # fmt: skip


def verify(conn: Connection, schema: str) -> Verification:
    """Prove the ledger of a county (its real schema name): every transaction balances, every
    balance is the sum of its postings, no pupil's balance was ever below zero, and what is held
    is what the open holds say."""
    s = f'"{schema}"'
    problems = []
    for what, query in _CHECKS.items():
        found = conn.execute(text(query.format(s=s) + " LIMIT 10")).scalars().all()
        if found:
            problems.append(f"{what}: {', '.join(str(i) for i in found)}")
    total = conn.execute(
        text(f"SELECT coalesce(sum(balance), 0) FROM {s}.ledger_accounts")
    ).scalar_one()
    if total != 0:
        problems.append(f"points not conserved: the balances sum to {total}")
    counts = conn.execute(
        text(
            f"SELECT (SELECT count(*) FROM {s}.ledger_transactions),"
            f" (SELECT count(*) FROM {s}.ledger_postings), (SELECT count(*) FROM {s}.ledger_accounts)"
        )
    ).one()
    return Verification(int(counts[0]), int(counts[1]), int(counts[2]), problems)
