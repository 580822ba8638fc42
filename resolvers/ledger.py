"""Reading the points ledger for the API: pupils' balances and their history, in batches."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.ledger.tables import AccountKind, ledger_accounts, ledger_postings, ledger_transactions
from resolvers.paging import Fetched, Page


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


HistoryKey = tuple[int, Page[int]]  # (pupil id, the page of its postings)


async def histories(session: AsyncSession, keys: Sequence[HistoryKey]) -> list[Fetched[Entry]]:
    """Pages of pupils' postings, newest first, each with the balance it left: one statement
    for all the pupils that ask the same page (a roster page asks one page of each pupil)."""
    by_page: dict[Page[int], list[int]] = defaultdict(list)
    for pupil_id, page in keys:
        by_page[page].append(pupil_id)
    found: dict[HistoryKey, Fetched[Entry]] = {}
    for page, pupil_ids in by_page.items():
        running = (
            select(
                ledger_postings.c.id,
                ledger_accounts.c.owner_id,
                ledger_postings.c.amount,
                ledger_transactions.c.kind,
                ledger_transactions.c.memo,
                ledger_postings.c.created_at,
                func.sum(ledger_postings.c.amount)
                .over(partition_by=ledger_accounts.c.owner_id, order_by=ledger_postings.c.id)
                .label("balance_after"),
            )
            .join(ledger_transactions, ledger_transactions.c.id == ledger_postings.c.transaction_id)
            .join(ledger_accounts, ledger_accounts.c.id == ledger_postings.c.account_id)
            .where(
                ledger_accounts.c.kind == AccountKind.PUPIL.value,
                ledger_accounts.c.owner_id.in_(pupil_ids),
            )
            .subquery()
        )
        paged, order, limit = page.keyset(running.c.id, newest_first=True)
        ranked = (
            select(
                running,
                func.row_number()
                .over(partition_by=running.c.owner_id, order_by=order)
                .label("rank"),
            )
            .where(*paged)
            .subquery()
        )
        rows = await session.execute(
            select(ranked).where(ranked.c.rank <= limit).order_by(ranked.c.owner_id, ranked.c.rank)
        )
        of_pupil: dict[int, list[Any]] = defaultdict(list)
        for r in rows:
            of_pupil[r.owner_id].append(r)
        for pupil_id in pupil_ids:
            kept, has_next, has_previous = page.take(of_pupil[pupil_id])
            entries = [
                Entry(r.id, int(r.amount), r.kind, r.memo, r.created_at, int(r.balance_after))
                for r in kept
            ]
            found[(pupil_id, page)] = Fetched(entries, has_next, has_previous)
    return [found[key] for key in keys]
