"""The growth archive (成长档案): a pupil's history in time order, from every part of the county
that records one (status changes, badges, points; activities, tasks and pairings as they come).
One batch of queries serves any number of pupils (a roster page, a school's export)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.badges.tables import AwardState, badge_awards, badges
from domain.ledger.tables import AccountKind, ledger_accounts, ledger_postings, ledger_transactions
from domain.people.tables import PupilStatus, pupil_status_changes

STATUS_TITLES = {
    PupilStatus.PRE_MEMBER: "登记为预备队员",
    PupilStatus.MEMBER: "加入中国少年先锋队",
    PupilStatus.LEFT: "离队",
    PupilStatus.JOINED_LEAGUE: "离队入团",
    PupilStatus.TRANSFERRED: "转学转出",
}
POINTS_TITLES = {
    "spend": "积分兑换",
    "hold": "活动积分",
    "refund": "积分退还",
    "task": "征集任务积分",
}
# Points that come with a badge show on the badge's own line, not twice.
ON_BADGE_LINES = ("award", "reversal")


@dataclass(frozen=True)
class Event:
    on: dt.date
    kind: str  # status, badge, revoked, points
    title: str
    detail: str | None
    points: int | None
    order: int  # ties on a day keep the order they happened in


def _day(value: dt.datetime | dt.date) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


async def archives(session: AsyncSession, pupil_ids: Sequence[int]) -> list[list[Event]]:
    """Each pupil's archive, oldest first."""
    ids = list(pupil_ids)
    found: dict[int, list[Event]] = defaultdict(list)
    for r in await session.execute(
        select(pupil_status_changes).where(pupil_status_changes.c.pupil_id.in_(ids))
    ):
        if r.to_status in STATUS_TITLES:
            detail = r.batch if r.to_status == PupilStatus.MEMBER else r.note
            found[r.pupil_id].append(
                Event(
                    r.on_date, "status", STATUS_TITLES[PupilStatus(r.to_status)], detail, None, r.id
                )
            )
    awarded = await session.execute(
        select(badge_awards, badges.c.name)
        .join(badges, badges.c.id == badge_awards.c.badge_id)
        .where(
            badge_awards.c.pupil_id.in_(ids),
            badge_awards.c.state.in_([AwardState.AWARDED.value, AwardState.REVOKED.value]),
        )
    )
    for r in awarded:
        found[r.pupil_id].append(
            Event(_day(r.awarded_at or r.created_at), "badge", f"获得{r.name}", r.evidence or r.conferred_by,
                  r.points, r.id)
        )  # fmt: skip
        if r.state == AwardState.REVOKED and r.revoked_at is not None:
            found[r.pupil_id].append(
                Event(_day(r.revoked_at), "revoked", f"{r.name}被撤销", r.revoked_reason,
                      -(r.points or 0) or None, r.id)
            )  # fmt: skip
    postings = await session.execute(
        select(ledger_accounts.c.owner_id, ledger_postings.c.id, ledger_postings.c.amount,
               ledger_postings.c.created_at, ledger_transactions.c.kind, ledger_transactions.c.memo)
        .join(ledger_accounts, ledger_accounts.c.id == ledger_postings.c.account_id)
        .join(ledger_transactions, ledger_transactions.c.id == ledger_postings.c.transaction_id)
        .where(
            ledger_accounts.c.kind == AccountKind.PUPIL.value,
            ledger_accounts.c.owner_id.in_(ids),
            ledger_transactions.c.kind.not_in(ON_BADGE_LINES),
        )
    )  # fmt: skip
    for r in postings:
        title = POINTS_TITLES.get(r.kind, "积分变动")
        found[r.owner_id].append(
            Event(_day(r.created_at), "points", title, r.memo, int(r.amount), r.id)
        )
    kinds = {"status": 0, "badge": 1, "revoked": 2, "points": 3}
    return [sorted(found[pk], key=lambda e: (e.on, kinds[e.kind], e.order)) for pk in ids]
