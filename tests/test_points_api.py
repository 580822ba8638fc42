"""A pupil's points through the API: the balance and the history a parent and a counselor see."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, event, select

from domain.ledger import service as ledger
from domain.ledger.tables import AccountKind
from domain.people.tables import pupils
from tenants.sessions import tenant_connection
from tests.graphql_client import GraphQLClient, create_pupils, create_unit, tenant_of

ROSTER = """query($after: String) { pupils(first: 10) { edges { node { name
  points { balance held available }
  pointsHistory(first: 2, after: $after) { edges { node { amount kind memo balanceAfter } }
    pageInfo { hasNextPage endCursor } } } } } }"""


async def test_a_roster_shows_each_pupils_points_and_history_newest_first(
    gql: GraphQLClient, make_county: Any, engine: Engine
) -> None:
    county = make_county()
    root = create_unit(engine, county, "county", county.name)
    school = create_unit(engine, county, "brigade", "城关小学", root)
    squadron = create_unit(engine, county, "squadron", "三（1）中队", school, grade=3)
    create_pupils(engine, county, squadron, 3)
    with tenant_connection(engine, tenant_of(county)) as conn:
        ids = conn.execute(select(pupils.c.id).order_by(pupils.c.id)).scalars().all()
        first = ledger.pupil_account(conn, ids[0])
        pool = ledger.pool(conn)
        sink = ledger.account(conn, AccountKind.SINK, None, "兑换")
        ledger.post(conn, "a1", "award", [(pool, -10), (first, 10)], memo="一星章")
        ledger.post(conn, "a2", "award", [(pool, -5), (first, 5)], memo="红领巾小书法家")
        ledger.post(conn, "s1", "spend", [(first, -3), (sink, 3)], memo="兑换文具")
        ledger.hold(conn, "h1", first, 4, memo="报名：研学")

    statements: list[str] = []
    sync_engine = gql.app.state.services.engine.sync_engine

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(sync_engine, "before_cursor_execute", count)
    try:
        body = await gql.data(ROSTER, county=county.code)
    finally:
        event.remove(sync_engine, "before_cursor_execute", count)
    nodes = [e["node"] for e in body["pupils"]["edges"]]
    assert nodes[0]["points"] == {"balance": 12, "held": 4, "available": 8}
    assert nodes[1]["points"] == {"balance": 0, "held": 0, "available": 0}  # never had any
    history = nodes[0]["pointsHistory"]
    assert [e["node"] for e in history["edges"]] == [
        {"amount": -3, "kind": "SPEND", "memo": "兑换文具", "balanceAfter": 12},
        {"amount": 5, "kind": "AWARD", "memo": "红领巾小书法家", "balanceAfter": 15},
    ]
    assert history["pageInfo"]["hasNextPage"] is True
    # One query for all the balances of the page, not one per pupil.
    assert sum("ledger_accounts" in s and "ledger_postings" not in s for s in statements) == 1

    rest = await gql.data(ROSTER, {"after": history["pageInfo"]["endCursor"]}, county=county.code)
    older = rest["pupils"]["edges"][0]["node"]["pointsHistory"]
    assert [e["node"]["amount"] for e in older["edges"]] == [10]
    assert older["pageInfo"]["hasNextPage"] is False
