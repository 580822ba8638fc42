"""The exchange through the API: the county's partners and items, families redeeming points
for their children, and partners verifying pickup codes.

A partner's staff reach their own partner (`partner_scope`) and nothing else: its items, the
counts and the codes' last characters, never a pupil. The rules live in `domain.exchange`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Annotated, Any

import strawberry
from sqlalchemy import Select, false, func, select, true
from strawberry.types import Info

from authz.roles import Role
from domain.exchange import service as rules
from domain.exchange.tables import exchange_items, partners, redemptions
from domain.imports.common import uploader
from redscarf.errors import Forbidden, InvalidInput, NotFound, RedscarfError
from resolvers.county_work import in_county
from resolvers.paging import After, Before, First, Last, counter, fetch, page_of
from resolvers.pupils import bound_rel, chosen_pupils
from schema.context import Context
from schema.exchange import (
    CreateExchangeItemInput,
    CreatePartnerInput,
    ExchangeItem,
    ExchangeItemPayload,
    Partner,
    PartnerPayload,
    RedeemItemInput,
    Redemption,
    RedemptionConnection,
    RedemptionCounts,
    RedemptionEdge,
    RedemptionPayload,
    RedemptionState,
    UpdateExchangeItemInput,
    UpdatePartnerInput,
    VerifyRedemptionCodeInput,
    VerifyRedemptionPayload,
)
from schema.ids import encode_global_id, encode_key_cursor
from schema.user_errors import user_errors

CODE_HINT = 3


async def own_partners(context: Context) -> frozenset[int]:
    """The partners whose staff the caller is (in the routed county)."""
    return frozenset(
        pk
        for s in await context.scopes()
        if s.role == Role.PARTNER and (pk := rules.partner_of_scope(s.path)) is not None
    )


async def _reach(context: Context, res: str, act: str) -> Any:
    """A WHERE clause on the partner of `res`: everything, the caller's own partners, or none."""
    scope = await context.list_scope(res, act)
    if scope.everything:
        return true()
    if scope.own:
        return exchange_items.c.partner_id.in_(sorted(await own_partners(context)))
    return false()


async def _may(context: Context, res: str, act: str, partner_id: int) -> bool:
    rels = "own" if partner_id in await own_partners(context) else ""
    return await context.may(res, act, rels=rels)


# --- partners ----------------------------------------------------------------------------------


def _partner(row: Any, county: str, *, admin: bool, own: bool) -> Partner:
    return Partner(
        id=strawberry.ID(encode_global_id("Partner", county, row.id)),
        row_id=row.id,
        name=row.name,
        contact=row.contact if admin or own else None,
        staff_scope=rules.partner_scope(row.id) if admin else None,
        created_at=row.created_at,
    )


async def partners_list(info: Info[Context, None]) -> list[Partner]:
    """The county's partners (county admin), or the caller's own (a partner's staff)."""
    context = info.context
    await context.user()
    scope = await context.list_scope("partner", "read")
    if scope.nothing:
        raise Forbidden()
    own = await own_partners(context)
    where = true() if scope.everything else partners.c.id.in_(sorted(own))
    async with context.session() as session:
        rows = (await session.execute(select(partners).where(where).order_by(partners.c.id))).all()
    county = (await context.tenant()).code
    admin = await context.may("partner", "write")
    return [_partner(r, county, admin=admin, own=r.id in own) for r in rows]


async def partner(
    info: Info[Context, None],
    id: Annotated[strawberry.ID, strawberry.argument(description="合作单位的全局 ID。")],
) -> Partner | None:
    context = info.context
    pk = await context.own_id("Partner", id)
    if pk is None or not await _may(context, "partner", "read", pk):
        return None
    async with context.session() as session:
        row = (await session.execute(select(partners).where(partners.c.id == pk))).first()
    if row is None:
        return None
    admin = await context.may("partner", "write")
    own = pk in await own_partners(context)
    return _partner(row, (await context.tenant()).code, admin=admin, own=own)


async def _partner_row(context: Context, global_id: str) -> int:
    pk = await context.own_id("Partner", global_id)
    if pk is not None:
        async with context.session() as session:
            if (await session.execute(select(partners.c.id).where(partners.c.id == pk))).first():
                return pk
    raise NotFound("没有这个合作单位", code="PARTNER_NOT_FOUND")


async def create_partner(info: Info[Context, None], input: CreatePartnerInput) -> PartnerPayload:
    context = info.context
    await context.user()
    await context.require("partner", "write")
    try:
        pk = await in_county(
            context,
            lambda conn: rules.create_partner(conn, input.name, input.contact),
            "createPartner",
            lambda made: [{"object_type": "Partner", "object_id": made,
                           "details": {"name": input.name}}],
        )  # fmt: skip
    except RedscarfError as exc:
        return PartnerPayload(partner=None, user_errors=user_errors(exc, "name"))
    return PartnerPayload(partner=await _fresh_partner(info, pk), user_errors=[])


async def _fresh_partner(info: Info[Context, None], pk: int) -> Partner | None:
    return await partner(info, strawberry.ID(encode_global_id(
        "Partner", (await info.context.tenant()).code, pk)))  # fmt: skip


async def update_partner(info: Info[Context, None], input: UpdatePartnerInput) -> PartnerPayload:
    context = info.context
    await context.user()
    await context.require("partner", "write")
    pk = await _partner_row(context, input.id)
    values = {k: v for k, v in (("name", input.name), ("contact", input.contact)) if v is not None}
    try:
        await in_county(
            context,
            lambda conn: rules.update_partner(conn, pk, values),
            "updatePartner",
            lambda _: [{"object_type": "Partner", "object_id": pk, "fields": sorted(values)}],
        )
    except RedscarfError as exc:
        return PartnerPayload(partner=None, user_errors=user_errors(exc))
    return PartnerPayload(partner=await _fresh_partner(info, pk), user_errors=[])


# --- items -------------------------------------------------------------------------------------


def _items_query() -> Select[Any]:
    return select(exchange_items, partners.c.name.label("partner_name")).join(
        partners, partners.c.id == exchange_items.c.partner_id
    )


def _item(row: Any, county: str) -> ExchangeItem:
    return ExchangeItem(
        id=strawberry.ID(encode_global_id("ExchangeItem", county, row.id)),
        row_id=row.id, partner_id=row.partner_id, name=row.name, description=row.description,
        partner_name=row.partner_name, price=row.price, stock=row.stock, per_pupil=row.per_pupil,
        valid_from=row.valid_from, valid_until=row.valid_until, pickup_days=row.pickup_days,
        on_sale=row.state == "on_sale",
    )  # fmt: skip


async def _items(context: Context, *where: Any) -> list[ExchangeItem]:
    reach = await _reach(context, "exchange_item", "read")
    async with context.session() as session:
        rows = (
            await session.execute(
                _items_query().where(reach, *where).order_by(exchange_items.c.id.desc())
            )
        ).all()
    county = (await context.tenant()).code
    return [_item(r, county) for r in rows]


async def exchange_items_list(
    info: Info[Context, None],
    partner_id: Annotated[
        strawberry.ID | None, strawberry.argument(description="只列出该合作单位的物品。")
    ] = None,
    on_sale: Annotated[
        bool | None, strawberry.argument(description="true 只列出上架且在兑换期内的。")
    ] = None,
) -> list[ExchangeItem]:
    context = info.context
    await context.user()
    if (await context.list_scope("exchange_item", "read")).nothing:
        raise Forbidden()
    where = []
    if partner_id is not None:
        where.append(exchange_items.c.partner_id == await _partner_row(context, partner_id))
    if on_sale:
        where += [exchange_items.c.state == "on_sale", exchange_items.c.valid_from <= func.now(),
                  exchange_items.c.valid_until >= func.now()]  # fmt: skip
    return await _items(context, *where)


async def items_of_partner(context: Context, partner_id: int) -> list[ExchangeItem]:
    return await _items(context, exchange_items.c.partner_id == partner_id)


async def _item_row(context: Context, global_id: str) -> Any:
    pk = await context.own_id("ExchangeItem", global_id)
    row = None
    if pk is not None:
        reach = await _reach(context, "exchange_item", "read")
        async with context.session() as session:
            row = (
                await session.execute(_items_query().where(exchange_items.c.id == pk, reach))
            ).first()
    if row is None:
        raise NotFound("没有这件兑换物品", code="ITEM_NOT_FOUND")
    return row


async def exchange_item(
    info: Info[Context, None],
    id: Annotated[strawberry.ID, strawberry.argument(description="物品的全局 ID。")],
) -> ExchangeItem | None:
    try:
        row = await _item_row(info.context, id)
    except NotFound:
        return None
    return _item(row, (await info.context.tenant()).code)


async def counts_of_item(context: Context, item: ExchangeItem) -> RedemptionCounts | None:
    if not await _may(context, "redemption", "read", item.partner_id):
        return None
    async with context.session() as session:
        rows = (
            await session.execute(
                select(redemptions.c.state, func.count())
                .where(redemptions.c.item_id == item.row_id)
                .group_by(redemptions.c.state)
            )
        ).all()
    found = {state: int(n) for state, n in rows}
    return RedemptionCounts(issued=found.get("issued", 0), verified=found.get("verified", 0),
                            expired=found.get("expired", 0))  # fmt: skip


async def create_exchange_item(
    info: Info[Context, None], input: CreateExchangeItemInput
) -> ExchangeItemPayload:
    context = info.context
    await context.user()
    partner_id = await _partner_row(context, input.partner_id)
    if not await _may(context, "exchange_item", "write", partner_id):
        raise Forbidden()
    values = {"name": input.name, "description": input.description, "price": input.price,
              "stock": input.stock, "per_pupil": input.per_pupil, "valid_from": input.valid_from,
              "valid_until": input.valid_until, "pickup_days": input.pickup_days}  # fmt: skip
    try:
        pk = await in_county(
            context,
            lambda conn: rules.create_item(conn, partner_id, values),
            "createExchangeItem",
            lambda made: [{"object_type": "ExchangeItem", "object_id": made,
                           "details": {"name": input.name, "stock": input.stock}}],
        )  # fmt: skip
    except RedscarfError as exc:
        return ExchangeItemPayload(item=None, user_errors=user_errors(exc))
    county = (await context.tenant()).code
    return ExchangeItemPayload(
        item=await exchange_item(info, strawberry.ID(encode_global_id("ExchangeItem", county, pk))),
        user_errors=[],
    )


async def update_exchange_item(
    info: Info[Context, None], input: UpdateExchangeItemInput
) -> ExchangeItemPayload:
    context = info.context
    await context.user()
    row = await _item_row(context, input.id)
    if not await _may(context, "exchange_item", "write", row.partner_id):
        raise Forbidden()
    values: dict[str, Any] = {
        k: v
        for k, v in (("name", input.name), ("description", input.description),
                     ("price", input.price), ("per_pupil", input.per_pupil),
                     ("valid_until", input.valid_until))
        if v is not None
    }  # fmt: skip
    if input.on_sale is not None:
        values["state"] = "on_sale" if input.on_sale else "withdrawn"
    try:
        await in_county(
            context,
            lambda conn: rules.update_item(conn, row.id, values, input.add_stock),
            "updateExchangeItem",
            lambda _: [{"object_type": "ExchangeItem", "object_id": row.id,
                        "fields": sorted(values), "details": {"add_stock": input.add_stock}}],
        )  # fmt: skip
    except RedscarfError as exc:
        return ExchangeItemPayload(item=None, user_errors=user_errors(exc))
    return ExchangeItemPayload(item=await exchange_item(info, input.id), user_errors=[])


# --- redemptions -------------------------------------------------------------------------------


def _redemptions_query() -> Select[Any]:
    return select(
        redemptions, exchange_items.c.name.label("item_name"), exchange_items.c.price,
        exchange_items.c.partner_id,
    ).join(exchange_items, exchange_items.c.id == redemptions.c.item_id)  # fmt: skip


async def _redemptions(context: Context, rows: Sequence[Any]) -> list[Redemption]:
    """Redemptions as the API shows them: the code to the child's own family only."""
    cipher = context.services.keys.cipher
    county = (await context.tenant()).code
    seen = await context.visible_pupils.load_many([r.pupil_id for r in rows])
    return [_redemption(county, r, rules.code_of(cipher, r.code_enc),
                        family=record is not None and record.bound)
            for r, record in zip(rows, seen, strict=True)]  # fmt: skip


def _redemption(county: str, r: Any, code: str | None, *, family: bool) -> Redemption:
    """A redemption (a row, or what `redeem` made) as the API shows it: the code to the
    child's own family only."""
    return Redemption(
        id=strawberry.ID(encode_global_id("Redemption", county, r.id)),
        row_id=r.id, pupil_id=r.pupil_id, item_id=r.item_id, item_name=r.item_name,
        price=r.price, state=RedemptionState(r.state), code=code if family else None,
        code_hint=(code or "")[-CODE_HINT:], created_at=r.created_at,
        expires_at=r.expires_at, verified_at=r.verified_at,
    )  # fmt: skip


async def redemptions_list(
    info: Info[Context, None],
    first: First = None,
    after: After = None,
    last: Last = None,
    before: Before = None,
    item_id: Annotated[
        strawberry.ID | None, strawberry.argument(description="只列出该物品的兑换。")
    ] = None,
    state: Annotated[
        RedemptionState | None, strawberry.argument(description="只列出该状态。")
    ] = None,
) -> RedemptionConnection:
    """The county's redemptions (county admin), or those of a partner's own items."""
    context = info.context
    await context.user()
    if (await context.list_scope("redemption", "read")).nothing:
        raise Forbidden()
    page = page_of(first, after, last, before)
    clauses = [await _reach(context, "redemption", "read")]
    if item_id is not None:
        clauses.append(redemptions.c.item_id == (await _item_row(context, item_id)).id)
    if state is not None:
        clauses.append(redemptions.c.state == state.value)
    listed = _redemptions_query().where(*clauses)
    fetched = await fetch(context.session, listed, redemptions.c.id, page, newest_first=True)
    nodes = await _redemptions(context, fetched.rows)
    edges = [RedemptionEdge(cursor=encode_key_cursor(n.row_id), node=n) for n in nodes]
    return RedemptionConnection(
        edges=edges,
        page_info=fetched.page_info([e.cursor for e in edges]),
        count_all=counter(context.session, listed),
    )


async def redemptions_of_pupils(context: Context, ids: Sequence[int]) -> list[list[Redemption]]:
    """`Pupil.redemptions` (the pupil is one the caller sees), newest first: for the family,
    and whoever reads the county's redemptions."""
    if (await context.list_scope("redemption", "read")).everything:
        shown = list(ids)
    else:
        records = await context.visible_pupils.load_many(list(ids))
        shown = [pk for pk, r in zip(ids, records, strict=True) if r is not None and r.bound]
    async with context.session() as session:
        rows = (
            await session.execute(
                _redemptions_query()
                .where(redemptions.c.pupil_id.in_(shown))
                .order_by(redemptions.c.id.desc())
            )
        ).all()
    by_pupil: dict[int, list[Redemption]] = defaultdict(list)
    for r in await _redemptions(context, rows):
        by_pupil[r.pupil_id].append(r)
    return [by_pupil[pk] for pk in ids]


async def _redemption_by_id(context: Context, pk: int) -> Redemption:
    async with context.session() as session:
        row = (await session.execute(_redemptions_query().where(redemptions.c.id == pk))).one()
    return (await _redemptions(context, [row]))[0]


async def redemption(
    info: Info[Context, None],
    id: Annotated[strawberry.ID, strawberry.argument(description="兑换的全局 ID。")],
) -> Redemption | None:
    """A redemption of a pupil the caller sees, or of the caller's own partner's item."""
    context = info.context
    pk = await context.own_id("Redemption", id)
    if pk is None:
        return None
    async with context.session() as session:
        row = (await session.execute(_redemptions_query().where(redemptions.c.id == pk))).first()
    if row is None:
        return None
    record = await context.visible_pupils.load(row.pupil_id)
    if not (await _may(context, "redemption", "read", row.partner_id)
            or (record is not None and record.bound)):  # fmt: skip
        return None
    return (await _redemptions(context, [row]))[0]


async def redeem_item(info: Info[Context, None], input: RedeemItemInput) -> RedemptionPayload:
    context = info.context
    principal = await context.user()
    item = await _item_row(context, input.item_id)
    try:
        record = (await chosen_pupils(context, [input.pupil_id]))[0]
    except InvalidInput:
        raise NotFound("没有这名队员", code="PUPIL_NOT_FOUND") from None
    await context.require("redemption", "create", record.path, bound_rel(record))
    cipher = context.services.keys.cipher
    try:
        made = await in_county(
            context,
            lambda conn: rules.redeem(conn, cipher, item.id, record.id, by=uploader(principal)),
            "redeemItem",
            lambda r: [{"object_type": "Redemption", "object_id": r.id,
                        "details": {"item": item.id, "pupil": record.id, "price": item.price}}],
        )  # fmt: skip
    except RedscarfError as exc:
        return RedemptionPayload(redemption=None, user_errors=user_errors(exc))
    # The answer is what the transaction made, not a read of it again (two county transactions
    # less: the redemption, and the pupil `_redemptions` would look up; the code needs no
    # decrypting).
    county = (await context.tenant()).code
    return RedemptionPayload(
        redemption=_redemption(county, made, made.code, family=record.bound), user_errors=[]
    )


async def verify_redemption_code(
    info: Info[Context, None], input: VerifyRedemptionCodeInput
) -> VerifyRedemptionPayload:
    context = info.context
    await context.user()
    own = sorted(await own_partners(context))
    if not own or not await context.may("redemption", "verify", rels="own"):
        raise Forbidden()
    cipher = context.services.keys.cipher

    def work(conn: Any) -> int:
        for partner_id in own[:-1]:
            try:
                with conn.begin_nested():
                    return rules.verify_code(conn, cipher, partner_id, input.code)
            except NotFound:
                continue
        return rules.verify_code(conn, cipher, own[-1], input.code)

    try:
        pk = await in_county(
            context, work, "verifyRedemptionCode",
            lambda done: [{"object_type": "Redemption", "object_id": done}],
        )  # fmt: skip
    except RedscarfError as exc:
        return VerifyRedemptionPayload(item_name=None, redemption=None,
                                       user_errors=user_errors(exc, "code"))  # fmt: skip
    found = await _redemption_by_id(context, pk)
    return VerifyRedemptionPayload(item_name=found.item_name, redemption=found, user_errors=[])
