"""Reading the points ledger for the API: pupils' balances and their history, in batches."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.ledger.tables import AccountKind, ledger_accounts, ledger_postings, ledger_transactions


@dataclass(frozen=True)
class Balance:
    balance: int
    held: int


@dataclass(frozen=True)
class Entry:
    posting_id: int
    amount: int
    kind: str
    memo: str | None
    at: dt.datetime
    balance_after: int


async def balances(session: AsyncSession, pupil_ids: Sequence[int]) -> list[Balance]:
    """Each pupil's balance and held points (zero for a pupil who never had any)."""
    rows = await session.execute(
        select(ledger_accounts.c.owner_id, ledger_accounts.c.balance, ledger_accounts.c.held).where(
            ledger_accounts.c.kind == AccountKind.PUPIL.value,
            ledger_accounts.c.owner_id.in_(list(pupil_ids)),
        )
    )
    found = {r.owner_id: Balance(int(r.balance), int(r.held)) for r in rows}
    return [found.get(pk, Balance(0, 0)) for pk in pupil_ids]


HistoryKey = tuple[int, int, int | None]  # (pupil id, page size, before this posting id)


async def histories(
    session: AsyncSession, keys: Sequence[HistoryKey]
) -> list[tuple[list[Entry], bool]]:
    """Pages of pupils' postings, newest first, each with the balance it left."""
    results = []
    for pupil_id, first, before in keys:  # one page per pupil asked: a page is per pupil
        running = (
            select(
                ledger_postings.c.id,
                ledger_postings.c.amount,
                ledger_transactions.c.kind,
                ledger_transactions.c.memo,
                ledger_postings.c.created_at,
                func.sum(ledger_postings.c.amount)
                .over(order_by=ledger_postings.c.id)
                .label("balance_after"),
            )
            .join(ledger_transactions, ledger_transactions.c.id == ledger_postings.c.transaction_id)
            .join(ledger_accounts, ledger_accounts.c.id == ledger_postings.c.account_id)
            .where(
                ledger_accounts.c.kind == AccountKind.PUPIL.value,
                ledger_accounts.c.owner_id == pupil_id,
            )
            .subquery()
        )
        stmt = select(running).order_by(running.c.id.desc()).limit(first + 1)
        if before is not None:
            stmt = stmt.where(running.c.id < before)
        rows = (await session.execute(stmt)).all()
        entries = [
            Entry(r.id, int(r.amount), r.kind, r.memo, r.created_at, int(r.balance_after))
            for r in rows[:first]
        ]
        results.append((entries, len(rows) > first))
    return results
