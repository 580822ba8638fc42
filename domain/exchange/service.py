"""Redeeming points for a partner's item, and the partner verifying the pickup code.

A redemption locks the item's row, then pays and takes one from stock in the same transaction:
of any number of families at once, exactly as many as the stock get a code, the rest a clear
refusal, and the stock never goes below zero (a check constraint backs the lock). The code is
shown once; only its keyed hash is kept, so a partner verifies a code by typing it, never by
browsing codes, and sees no personal data.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import Connection, func, insert, select, update

from domain.exchange.tables import RedemptionState, exchange_items, redemptions
from domain.ledger import service as ledger
from domain.ledger.tables import AccountKind
from domain.personal.crypto import FieldCipher
from redscarf.errors import Conflict, InvalidInput, NotFound

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud at a counter
CODE_LENGTH = 10
CODE = "redemptions.code"


class RedemptionRefused(InvalidInput):
    code = "REDEMPTION_REFUSED"
    message = "不能兑换"


class CodeUsed(Conflict):
    code = "CODE_USED"
    message = "这个兑换码已核销过"


@dataclass(frozen=True)
class Redeemed:
    redemption_id: int
    code: str
    expires_at: dt.datetime


def partner_account(conn: Connection, partner_id: int) -> int:
    return ledger.account(conn, AccountKind.PARTNER, partner_id, f"合作单位 {partner_id}")


def _code_hash(cipher: FieldCipher, code: str) -> bytes:
    return cipher.keyed_hash(code.strip().upper().replace(" ", "").replace("-", ""), context=CODE)


def redeem(conn: Connection, cipher: FieldCipher, item_id: int, pupil_id: int, *, by: str,
           now: dt.datetime | None = None) -> Redeemed:  # fmt: skip
    """Pay the item's price from the pupil's points and take one from stock; returns the
    pickup code (shown once)."""
    now = now or dt.datetime.now(dt.UTC)
    item = conn.execute(
        select(exchange_items).where(exchange_items.c.id == item_id).with_for_update()
    ).first()
    if item is None or item.state != "on_sale":
        raise NotFound("没有这件兑换物品", code="ITEM_NOT_FOUND")
    if not item.valid_from <= now <= item.valid_until:
        raise RedemptionRefused("不在兑换期内", code="OUTSIDE_VALIDITY")
    if item.stock <= 0:
        raise RedemptionRefused("已兑完", code="OUT_OF_STOCK")
    taken = conn.execute(
        select(func.count()).where(
            redemptions.c.item_id == item_id,
            redemptions.c.pupil_id == pupil_id,
            redemptions.c.state != RedemptionState.EXPIRED.value,
        )
    ).scalar_one()
    if taken >= item.per_pupil:
        raise RedemptionRefused(f"每名队员限兑 {item.per_pupil} 件", code="LIMIT_REACHED")
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    expires = now + dt.timedelta(days=item.pickup_days)
    redemption_id = conn.execute(
        insert(redemptions)
        .values(item_id=item_id, pupil_id=pupil_id, code_hash=_code_hash(cipher, code),
                code_enc=cipher.encrypt(code, context=CODE), redeemed_by=by, expires_at=expires)
        .returning(redemptions.c.id)
    ).scalar_one()  # fmt: skip
    paid = ledger.post(
        conn, f"redeem:{redemption_id}", "spend",
        [(ledger.pupil_account(conn, pupil_id), -item.price),
         (partner_account(conn, item.partner_id), item.price)],
        memo=item.name, by=by,
    )  # fmt: skip
    conn.execute(update(redemptions).where(redemptions.c.id == redemption_id)
                 .values(transaction_id=paid.transaction_id))  # fmt: skip
    conn.execute(update(exchange_items).where(exchange_items.c.id == item_id)
                 .values(stock=exchange_items.c.stock - 1))  # fmt: skip
    return Redeemed(redemption_id, code, expires)


def verify_code(conn: Connection, cipher: FieldCipher, partner_id: int, code: str) -> str:
    """The partner checks a code at the counter, once; returns the item's name."""
    row = conn.execute(
        select(redemptions.c.id, redemptions.c.state, exchange_items.c.name)
        .join(exchange_items, exchange_items.c.id == redemptions.c.item_id)
        .where(redemptions.c.code_hash == _code_hash(cipher, code),
               exchange_items.c.partner_id == partner_id)
        .with_for_update(of=redemptions)
    ).first()  # fmt: skip
    if row is None:
        raise NotFound("兑换码无效", code="CODE_NOT_FOUND")
    if row.state == RedemptionState.VERIFIED:
        raise CodeUsed()
    if row.state == RedemptionState.EXPIRED:
        raise RedemptionRefused("兑换码已过期，积分已退还", code="CODE_EXPIRED")
    conn.execute(update(redemptions).where(redemptions.c.id == row.id)
                 .values(state=RedemptionState.VERIFIED.value, verified_at=func.now()))  # fmt: skip
    return str(row.name)


def expire_codes(conn: Connection, now: dt.datetime | None = None, *, by: str | None = None) -> int:
    """Codes not picked up in time: points back to the pupil, the item back in stock (each
    once: a redemption expires only from `issued`)."""
    now = now or dt.datetime.now(dt.UTC)
    due = conn.execute(
        select(redemptions.c.id, redemptions.c.item_id, redemptions.c.transaction_id)
        .where(redemptions.c.state == RedemptionState.ISSUED.value, redemptions.c.expires_at < now)
        .order_by(redemptions.c.item_id, redemptions.c.id)
        .with_for_update(skip_locked=True)
    ).all()  # fmt: skip
    for row in due:
        conn.execute(
            select(exchange_items.c.id).where(exchange_items.c.id == row.item_id).with_for_update()
        )
        if row.transaction_id is not None:
            ledger.reverse(
                conn,
                row.transaction_id,
                f"redeem-expired:{row.id}",
                by=by,
                memo="兑换码过期，积分退还",
            )
        conn.execute(update(exchange_items).where(exchange_items.c.id == row.item_id)
                     .values(stock=exchange_items.c.stock + 1))  # fmt: skip
        conn.execute(update(redemptions).where(redemptions.c.id == row.id)
                     .values(state=RedemptionState.EXPIRED.value))  # fmt: skip
    return len(due)
