"""Redeeming points for a partner's item, and the partner verifying the pickup code.

A redemption locks the item's row, then pays and takes one from stock in the same transaction:
of any number of families at once, exactly as many as the stock get a code, the rest a clear
refusal, and the stock never goes below zero (a check constraint backs the lock). The code is
looked up by its keyed hash and kept encrypted only for the family to show again: a partner
verifies a code by typing it, never by browsing codes, and sees no personal data.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from domain.exchange.tables import RedemptionState, exchange_items, partners, redemptions
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


class ItemRefused(InvalidInput):
    code = "INVALID_ITEM"
    message = "兑换物品信息有误"


MAX_PRICE = 100_000
MAX_STOCK = 1_000_000
PARTNER_LABEL = "partner_"


def partner_scope(partner_id: int) -> str:
    """The scope of a partner's staff role: a label of its own under the county's root, which
    no unit ever has (units are `u…` and the like), so it reaches the partner and nothing else."""
    return f"c.{PARTNER_LABEL}{partner_id}"


def partner_of_scope(scope: str) -> int | None:
    label = scope.removeprefix("c.")
    if label == scope or not label.startswith(PARTNER_LABEL):
        return None
    digits = label.removeprefix(PARTNER_LABEL)
    return int(digits) if digits.isdigit() else None


def create_partner(conn: Connection, name: str, contact: str | None) -> int:
    if not name.strip():
        raise ItemRefused("请填写合作单位名称", code="NAME_REQUIRED")
    return int(
        conn.execute(
            insert(partners).values(name=name.strip(), contact=contact).returning(partners.c.id)
        ).scalar_one()
    )


def update_partner(conn: Connection, partner_id: int, values: dict[str, Any]) -> None:
    if "name" in values and not (values["name"] or "").strip():
        raise ItemRefused("请填写合作单位名称", code="NAME_REQUIRED")
    done = conn.execute(update(partners).where(partners.c.id == partner_id).values(**values))
    if done.rowcount == 0:
        raise NotFound("没有这个合作单位", code="PARTNER_NOT_FOUND")


def _check_item(values: dict[str, Any]) -> None:
    if not (values.get("name") or "").strip():
        raise ItemRefused("请填写物品名称", code="NAME_REQUIRED")
    if not 1 <= values["price"] <= MAX_PRICE:
        raise ItemRefused(f"兑换积分应为 1–{MAX_PRICE}", code="INVALID_PRICE")
    if not 0 <= values["stock"] <= MAX_STOCK:
        raise ItemRefused(f"库存应为 0–{MAX_STOCK}", code="INVALID_STOCK")
    if not 1 <= values["per_pupil"] <= 100:
        raise ItemRefused("每名队员限兑应为 1–100 件", code="INVALID_LIMIT")
    if not 1 <= values["pickup_days"] <= 365:
        raise ItemRefused("领取期限应为 1–365 天", code="INVALID_PICKUP_DAYS")
    if values["valid_until"] <= values["valid_from"]:
        raise ItemRefused("兑换截止应晚于开始", code="INVALID_VALIDITY")


def create_item(conn: Connection, partner_id: int, values: dict[str, Any]) -> int:
    """An item a partner offers for points (on sale from `valid_from`)."""
    if conn.execute(select(partners.c.id).where(partners.c.id == partner_id)).first() is None:
        raise NotFound("没有这个合作单位", code="PARTNER_NOT_FOUND")
    values = {"per_pupil": 1, "pickup_days": 30, **values}
    _check_item(values)
    return int(
        conn.execute(
            insert(exchange_items)
            .values(partner_id=partner_id, **values)
            .returning(exchange_items.c.id)
        ).scalar_one()
    )


def update_item(conn: Connection, item_id: int, values: dict[str, Any],
                add_stock: int = 0) -> None:  # fmt: skip
    """Change an item; `add_stock` adds to (or, negative, takes from) the stock under the
    item's lock, so a restock never loses a redemption made meanwhile."""
    item = conn.execute(
        select(exchange_items).where(exchange_items.c.id == item_id).with_for_update()
    ).first()
    if item is None:
        raise NotFound("没有这件兑换物品", code="ITEM_NOT_FOUND")
    merged = {**item._asdict(), **values, "stock": item.stock + add_stock}
    _check_item(merged)
    conn.execute(update(exchange_items).where(exchange_items.c.id == item_id)
                 .values(**values, stock=merged["stock"]))  # fmt: skip


def code_of(cipher: FieldCipher, code_enc: str | None) -> str | None:
    """The pickup code, for the family to show again."""
    return cipher.decrypt(code_enc, context=CODE) if code_enc else None


@dataclass(frozen=True)
class Redeemed:
    """The redemption as stored and paid, with its code: the API answers with it without
    reading it again."""

    id: int
    item_id: int
    pupil_id: int
    item_name: str
    price: int
    state: str
    code: str
    created_at: dt.datetime
    expires_at: dt.datetime
    verified_at: dt.datetime | None = None


def partner_account(conn: Connection, partner_id: int) -> int:
    return ledger.account(conn, AccountKind.PARTNER, partner_id, f"合作单位 {partner_id}")


def _code_hash(cipher: FieldCipher, code: str) -> bytes:
    return cipher.keyed_hash(code.strip().upper().replace(" ", "").replace("-", ""), context=CODE)


def redeem(conn: Connection, cipher: FieldCipher, item_id: int, pupil_id: int, *, by: str,
           now: dt.datetime | None = None) -> Redeemed:  # fmt: skip
    """Pay the item's price from the pupil's points and take one from stock; returns the
    pickup code (kept encrypted for the family, looked up by its keyed hash)."""
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
    made = conn.execute(
        insert(redemptions)
        .values(item_id=item_id, pupil_id=pupil_id, code_hash=_code_hash(cipher, code),
                code_enc=cipher.encrypt(code, context=CODE), redeemed_by=by, expires_at=expires)
        .returning(redemptions.c.id, redemptions.c.created_at, redemptions.c.expires_at)
    ).one()  # fmt: skip
    redemption_id = int(made.id)
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
    return Redeemed(redemption_id, item_id, pupil_id, item.name, item.price,
                    RedemptionState.ISSUED.value, code, made.created_at, made.expires_at)  # fmt: skip


def verify_code(conn: Connection, cipher: FieldCipher, partner_id: int, code: str) -> int:
    """The partner checks a code at the counter, once; returns the redemption's id."""
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
    return int(row.id)


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
