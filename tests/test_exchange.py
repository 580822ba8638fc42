"""The exchange under the rush for a scarce coupon: real PostgreSQL, real concurrent
transactions, the county's own role, the ledger verified."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, insert, select

from domain.exchange import service as exchange
from domain.exchange.tables import exchange_items, partners, redemptions
from domain.ledger import service as ledger
from domain.ledger.tables import AccountKind
from domain.org.tables import units
from domain.people.tables import pupils
from redscarf.errors import RedscarfError
from redscarf.settings import Settings
from tenants.provisioning import County
from tenants.sessions import tenant_connection
from tests.graphql_client import create_unit, tenant_of

NOW = dt.datetime.now(dt.UTC)


@pytest.fixture
def county(make_county: Callable[..., County], engine: Engine) -> County:
    county = make_county()
    root = create_unit(engine, county, "county", county.name)
    school = create_unit(engine, county, "brigade", "城关小学", root)
    create_unit(engine, county, "squadron", "四（1）中队", school, grade=4)
    return county


def run(engine: Engine, county: County, work: Callable[[Connection], Any]) -> Any:
    with tenant_connection(engine, tenant_of(county)) as conn:
        return work(conn)


def setup(
    engine: Engine, county: County, pupils_n: int, points: int, **item: Any
) -> tuple[list[int], int, int]:
    squadron = run(engine, county, lambda c: c.execute(
        select(units.c.id).where(units.c.kind == "squadron")).scalar_one())  # fmt: skip
    with tenant_connection(engine, tenant_of(county)) as conn:
        conn.execute(insert(pupils), [{"squadron_id": squadron, "name": "队员", "gender": "male",
                                       "grade": 4} for _ in range(pupils_n)])  # fmt: skip
        ids = list(
            conn.execute(select(pupils.c.id).order_by(pupils.c.id.desc()).limit(pupils_n)).scalars()
        )
        ledger.issue_many(
            conn, [ledger.Grant(f"seed:{pk}", pk, points) for pk in ids], kind="award"
        )
        partner = conn.execute(
            insert(partners).values(name="县宾馆").returning(partners.c.id)
        ).scalar_one()
        values = {"partner_id": partner, "name": "亲子套餐券", "price": 20, "stock": 100, "per_pupil": 1,
                  "valid_from": NOW - dt.timedelta(days=1), "valid_until": NOW + dt.timedelta(days=30),
                  **item}  # fmt: skip
        item_id = conn.execute(
            insert(exchange_items).values(**values).returning(exchange_items.c.id)
        ).scalar_one()
    return ids, item_id, partner


def cipher(gql_settings: Settings) -> Any:
    from redscarf.keys import load_keys

    return load_keys(gql_settings).cipher


def refused(engine: Engine, county: County, work: Callable[[Connection], Any]) -> str:
    with pytest.raises(RedscarfError) as raised:
        run(engine, county, work)
    return raised.value.code


@pytest.mark.slow
def test_1000_concurrent_redemptions_of_100_coupons(
    wide_engine: Engine, county: County, settings: Settings
) -> None:
    keys = cipher(settings)
    ids, item, partner = setup(wide_engine, county, 1000, 50)
    start = threading.Barrier(16)

    def one(i: int) -> str:
        if i < 16:
            start.wait()
        try:
            run(wide_engine, county, lambda c: exchange.redeem(c, keys, item, ids[i], by="user:1"))
        except RedscarfError as exc:
            return exc.code
        return "ok"

    with ThreadPoolExecutor(16) as pool:
        outcomes = list(pool.map(one, range(1000)))
    assert outcomes.count("ok") == 100
    assert set(outcomes) == {"ok", "OUT_OF_STOCK"}
    stock = run(wide_engine, county, lambda c: c.execute(
        select(exchange_items.c.stock).where(exchange_items.c.id == item)).scalar_one())  # fmt: skip
    assert stock == 0
    issued = run(
        wide_engine, county, lambda c: c.execute(select(redemptions.c.pupil_id)).scalars().all()
    )
    assert len(issued) == len(set(issued)) == 100
    paid = run(wide_engine, county, lambda c: ledger.balance_of(c, AccountKind.PARTNER, partner))
    assert paid == 100 * 20
    with wide_engine.connect() as conn:
        assert ledger.verify(conn, county.schema_name).problems == []


def test_a_code_is_verified_once_by_its_partner_and_expiry_gives_back_points_and_stock(
    engine: Engine, county: County, settings: Settings
) -> None:
    keys = cipher(settings)
    (pupil, poor), item, partner = setup(engine, county, 2, 30, stock=2, per_pupil=1, pickup_days=3)
    got = run(engine, county, lambda c: exchange.redeem(c, keys, item, pupil, by="user:1"))
    assert (
        refused(engine, county, lambda c: exchange.redeem(c, keys, item, pupil, by="u"))
        == "LIMIT_REACHED"
    )
    assert (
        refused(engine, county, lambda c: exchange.verify_code(c, keys, partner, "FORGED2345"))
        == "CODE_NOT_FOUND"
    )
    assert (
        refused(engine, county, lambda c: exchange.verify_code(c, keys, partner + 999, got.code))
        == "CODE_NOT_FOUND"
    )
    assert (
        run(engine, county, lambda c: exchange.verify_code(c, keys, partner, got.code.lower()))
        == got.id
    )
    assert (
        refused(engine, county, lambda c: exchange.verify_code(c, keys, partner, got.code))
        == "CODE_USED"
    )
    # A second family redeems and never comes: after the pickup days, points and stock return.
    other = run(engine, county, lambda c: exchange.redeem(c, keys, item, poor, by="user:1"))
    assert run(engine, county, lambda c: ledger.balance_of(c, AccountKind.PUPIL, poor)) == 10
    later = NOW + dt.timedelta(days=4)
    assert run(engine, county, lambda c: exchange.expire_codes(c, later)) == 1
    assert run(engine, county, lambda c: exchange.expire_codes(c, later)) == 0
    assert run(engine, county, lambda c: ledger.balance_of(c, AccountKind.PUPIL, poor)) == 30
    assert (
        refused(engine, county, lambda c: exchange.verify_code(c, keys, partner, other.code))
        == "CODE_EXPIRED"
    )
    stock = run(engine, county, lambda c: c.execute(
        select(exchange_items.c.stock).where(exchange_items.c.id == item)).scalar_one())  # fmt: skip
    assert stock == 1
    with engine.connect() as conn:
        assert ledger.verify(conn, county.schema_name).problems == []
