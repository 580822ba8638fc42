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

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, and_, bindparam, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from domain.ledger.tables import (
    AccountKind,
    HoldState,
    ledger_accounts,
    ledger_holds,
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


def account(
    conn: Connection, kind: AccountKind, owner_id: int | None = None, name: str = ""
) -> int:
    """The account of (kind, owner), opened on first use."""
    key = and_(
        ledger_accounts.c.kind == kind.value,
        ledger_accounts.c.owner_id.is_not_distinct_from(owner_id),
    )
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
        select(ledger_accounts.c.balance).where(
            ledger_accounts.c.kind == kind.value,
            ledger_accounts.c.owner_id.is_not_distinct_from(owner_id),
        )
    ).scalar()
    return int(found or 0)


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
) -> None:
    """Lock the accounts, check that no pupil goes below what it holds, change the balances
    (and, for a posted hold, the held amounts)."""
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
    _apply(conn, wanted, releasing=releasing)
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
