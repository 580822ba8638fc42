"""The points ledger: balanced, append-only, never negative, idempotent, under concurrency.

Everything here runs against the real PostgreSQL, as a county's own role, with real
concurrent transactions (threads with connections of their own).
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.exc import DBAPIError

from domain.ledger import service as ledger
from domain.ledger.tables import AccountKind, ledger_accounts
from migrations.runner import Migrator
from redscarf.errors import RedscarfError
from tenants.provisioning import County, create_county
from tenants.sessions import tenant_connection
from tests.conftest import new_county_code
from tests.graphql_client import tenant_of
from tests.test_cli import redscarf

_owners = itertools.count(1_000_000)


@pytest.fixture(scope="module")
def county(engine: Engine, migrator: Migrator) -> County:
    """One county for the module: every test opens accounts of its own in it."""
    code = new_county_code()
    return create_county(engine, migrator, code, f"积分县{code}", "52").county


def in_county(engine: Engine, county: County, work: Callable[[Connection], Any]) -> Any:
    with tenant_connection(engine, tenant_of(county)) as conn:
        return work(conn)


def new_pupil(engine: Engine, county: County) -> int:
    owner = next(_owners)
    return in_county(engine, county, lambda conn: ledger.pupil_account(conn, owner))


def award(engine: Engine, county: County, account: int, points: int, key: str) -> ledger.Posted:
    return in_county(
        engine,
        county,
        lambda conn: ledger.post(
            conn, key, "award", [(ledger.pool(conn), -points), (account, points)]
        ),
    )


def spend(engine: Engine, county: County, account: int, points: int, key: str) -> ledger.Posted:
    def run(conn: Connection) -> ledger.Posted:
        sink = ledger.account(conn, AccountKind.SINK, None, "兑换")
        return ledger.post(conn, key, "spend", [(account, -points), (sink, points)])

    return in_county(engine, county, run)


def balance(engine: Engine, county: County, account: int) -> tuple[int, int]:
    return in_county(
        engine,
        county,
        lambda conn: tuple(
            conn.execute(
                select(ledger_accounts.c.balance, ledger_accounts.c.held).where(
                    ledger_accounts.c.id == account
                )
            ).one()
        ),
    )


def verified(engine: Engine, county: County) -> ledger.Verification:
    with engine.connect() as conn:
        return ledger.verify(conn, county.schema_name)


def code_of(work: Callable[[], Any]) -> str:
    with pytest.raises(RedscarfError) as raised:
        work()
    return raised.value.code


def test_points_move_balanced_and_a_replay_changes_nothing(engine: Engine, county: County) -> None:
    pupil = new_pupil(engine, county)
    first = award(engine, county, pupil, 10, f"award:{pupil}:1")
    assert first.created
    again = award(engine, county, pupil, 10, f"award:{pupil}:1")
    assert (again.created, again.transaction_id) == (False, first.transaction_id)
    assert balance(engine, county, pupil) == (10, 0)
    # The same key for something else is refused, not taken for a replay.
    assert (
        code_of(lambda: award(engine, county, pupil, 11, f"award:{pupil}:1"))
        == "IDEMPOTENCY_KEY_REUSED"
    )
    # Spending more than held is refused and writes nothing.
    assert (
        code_of(lambda: spend(engine, county, pupil, 11, f"spend:{pupil}:1"))
        == "INSUFFICIENT_POINTS"
    )
    spend(engine, county, pupil, 4, f"spend:{pupil}:2")
    assert balance(engine, county, pupil) == (6, 0)
    assert verified(engine, county).problems == []


def test_a_correction_is_a_reversing_transaction_made_once(engine: Engine, county: County) -> None:
    pupil = new_pupil(engine, county)
    wrong = award(engine, county, pupil, 30, f"award:{pupil}:wrong")
    undo = in_county(
        engine, county, lambda c: ledger.reverse(c, wrong.transaction_id, f"undo:{pupil}")
    )
    assert undo.created
    assert balance(engine, county, pupil) == (0, 0)
    replay = in_county(
        engine, county, lambda c: ledger.reverse(c, wrong.transaction_id, f"undo:{pupil}")
    )
    assert (replay.created, replay.transaction_id) == (False, undo.transaction_id)
    assert (
        code_of(
            lambda: in_county(
                engine, county, lambda c: ledger.reverse(c, wrong.transaction_id, "other")
            )
        )
        == "ALREADY_REVERSED"
    )
    # Points already spent cannot be taken back: the reversal would make the balance negative.
    given_ = award(engine, county, pupil, 5, f"award:{pupil}:ok")
    spend(engine, county, pupil, 5, f"spend:{pupil}:all")
    assert (
        code_of(
            lambda: in_county(
                engine, county, lambda c: ledger.reverse(c, given_.transaction_id, "late")
            )
        )
        == "INSUFFICIENT_POINTS"
    )
    assert verified(engine, county).problems == []


def test_a_hold_reserves_then_posts_in_part_or_is_voided(engine: Engine, county: County) -> None:
    pupil = new_pupil(engine, county)
    award(engine, county, pupil, 20, f"award:{pupil}")
    activity = in_county(
        engine, county, lambda c: ledger.account(c, AccountKind.ACTIVITY, next(_owners))
    )
    held = in_county(engine, county, lambda c: ledger.hold(c, f"hold:{pupil}:1", pupil, 15))
    assert balance(engine, county, pupil) == (20, 15)
    # What is held cannot be spent twice.
    assert (
        code_of(lambda: spend(engine, county, pupil, 6, f"spend:{pupil}")) == "INSUFFICIENT_POINTS"
    )
    assert (
        code_of(
            lambda: in_county(engine, county, lambda c: ledger.hold(c, f"hold:{pupil}:2", pupil, 6))
        )
        == "INSUFFICIENT_POINTS"
    )
    # Attendance posts 10 of the 15 held; the rest is free again.
    posted = in_county(
        engine, county, lambda c: ledger.post_hold(c, held, 10, activity, f"post:{held}")
    )
    assert balance(engine, county, pupil) == (10, 0)
    replay = in_county(
        engine, county, lambda c: ledger.post_hold(c, held, 10, activity, f"post:{held}")
    )
    assert (replay.created, replay.transaction_id) == (False, posted.transaction_id)
    assert (
        code_of(lambda: in_county(engine, county, lambda c: ledger.void_hold(c, held)))
        == "HOLD_CLOSED"
    )
    # A cancelled sign-up voids its hold, once.
    other = in_county(engine, county, lambda c: ledger.hold(c, f"hold:{pupil}:3", pupil, 10))
    assert in_county(engine, county, lambda c: ledger.void_hold(c, other)) is True
    assert in_county(engine, county, lambda c: ledger.void_hold(c, other)) is False
    assert balance(engine, county, pupil) == (10, 0)
    assert verified(engine, county).problems == []


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE {s}.ledger_postings SET amount = amount * 2",
        "DELETE FROM {s}.ledger_postings",
        "TRUNCATE {s}.ledger_postings CASCADE",
        "UPDATE {s}.ledger_transactions SET kind = 'gift'",
        "DELETE FROM {s}.ledger_transactions",
    ],
)
def test_the_database_refuses_to_change_or_remove_postings(
    engine: Engine, county: County, statement: str
) -> None:
    pupil = new_pupil(engine, county)
    award(engine, county, pupil, 3, f"award:{pupil}")
    sql = statement.format(s=f'"{county.schema_name}"')
    with pytest.raises(DBAPIError, match=r"append-only|permission denied"):  # as the county
        in_county(engine, county, lambda conn: conn.execute(text(sql)))
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:  # as the owner
        conn.execute(text(sql))
    assert balance(engine, county, pupil) == (3, 0)


def test_a_pupils_balance_cannot_be_set_below_zero_even_by_hand(
    engine: Engine, county: County
) -> None:
    pupil = new_pupil(engine, county)
    with pytest.raises(DBAPIError, match="pupil_not_negative"), engine.begin() as conn:
        conn.execute(
            text(f'UPDATE "{county.schema_name}".ledger_accounts SET balance = -1 WHERE id = :id'),
            {"id": pupil},
        )


def test_200_concurrent_spends_never_overdraw_and_each_success_is_debited_once(
    wide_engine: Engine, county: County
) -> None:
    pupil = new_pupil(wide_engine, county)
    award(wide_engine, county, pupil, 150, f"award:{pupil}")
    start = threading.Barrier(16)

    def one(i: int) -> str:
        if i < 16:
            start.wait()
        try:
            spend(wide_engine, county, pupil, 1, f"spend:{pupil}:{i}")
        except RedscarfError as exc:
            return exc.code
        return "ok"

    with ThreadPoolExecutor(16) as pool:
        outcomes = list(pool.map(one, range(200)))
    assert outcomes.count("ok") == 150
    assert set(outcomes) == {"ok", "INSUFFICIENT_POINTS"}
    assert balance(wide_engine, county, pupil) == (0, 0)
    # Replaying every request changes nothing: successes stay debited once.
    with ThreadPoolExecutor(16) as pool:
        replays = list(pool.map(one, range(200)))
    assert replays.count("ok") == 150
    with wide_engine.connect() as conn:
        debits = conn.execute(
            text(
                f'SELECT count(*) FROM "{county.schema_name}".ledger_postings WHERE account_id = :a'
                " AND amount < 0"
            ),
            {"a": pupil},
        ).scalar_one()
    assert debits == 150
    assert verified(wide_engine, county).problems == []


# --- property: any sequence of awards, spends, reversals and retries, run concurrently ----

Operation = tuple[str, int, int]  # (kind, pupil index, amount or the index of an earlier op)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("award"), st.integers(0, 2), st.integers(1, 20)),
        st.tuples(st.just("spend"), st.integers(0, 2), st.integers(1, 20)),
        st.tuples(st.just("hold"), st.integers(0, 2), st.integers(1, 20)),
        st.tuples(st.just("reverse"), st.integers(0, 2), st.integers(0, 30)),
        st.tuples(st.just("retry"), st.integers(0, 2), st.integers(0, 30)),
    ),
    min_size=1,
    max_size=30,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=operations)
def test_any_concurrent_sequence_keeps_the_ledger_verifiable(
    wide_engine: Engine, county: County, ops: list[Operation]
) -> None:
    pupils = [new_pupil(wide_engine, county) for _ in range(3)]
    run = next(_owners)
    posted: dict[int, int] = {}  # op index -> its transaction id
    lock = threading.Lock()

    def key(i: int) -> str:
        return f"prop:{run}:{i}"

    def do(i: int, op: Operation) -> None:
        kind, who, n = op
        account = pupils[who]

        def work(conn: Connection) -> ledger.Posted | None:
            if kind == "award":
                return ledger.post(conn, key(i), "award", [(ledger.pool(conn), -n), (account, n)])
            if kind == "spend":
                sink = ledger.account(conn, AccountKind.SINK, None, "兑换")
                return ledger.post(conn, key(i), "spend", [(account, -n), (sink, n)])
            if kind == "hold":
                ledger.hold(conn, key(i), account, n)
                return None
            with lock:
                target = posted.get(n)
            if target is None:
                return None
            if kind == "reverse":
                return ledger.reverse(conn, target, f"reverse:{run}:{n}")
            # a retry of an earlier request: the same key and content, nothing more happens
            earlier = ops[n]
            return ledger.post(conn, key(n), earlier[0], _postings(conn, earlier, pupils))

        try:
            done = in_county(wide_engine, county, work)
        except RedscarfError:
            return
        if done is not None and kind in ("award", "spend"):
            with lock:
                posted[i] = done.transaction_id

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda pair: do(*pair), enumerate(ops)))
    result = verified(wide_engine, county)
    assert result.problems == []
    for pupil in pupils:
        points, held = balance(wide_engine, county, pupil)
        assert 0 <= held <= points


def _postings(conn: Connection, op: Operation, pupils: list[int]) -> list[tuple[int, int]]:
    kind, who, n = op
    if kind == "award":
        return [(ledger.pool(conn), -n), (pupils[who], n)]
    sink = ledger.account(conn, AccountKind.SINK, None, "兑换")
    return [(pupils[who], -n), (sink, n)]


def test_ledger_verify_proves_a_county_and_finds_a_tampered_one(
    engine: Engine, county: County, db_env: dict[str, str]
) -> None:
    pupil = new_pupil(engine, county)
    award(engine, county, pupil, 8, f"award:{pupil}")
    done = redscarf("ledger", "verify", "--county", county.code, env=db_env)
    assert done.returncode == 0, done.stderr
    assert "平衡" in done.stdout
    # Someone with the owner's login edits a balance behind the ledger's back (the account
    # row is not append-only; its postings are): verify finds it.
    with engine.begin() as conn:
        conn.execute(
            text(
                f'UPDATE "{county.schema_name}".ledger_accounts SET balance = balance + 5 WHERE id = :a'
            ),
            {"a": pupil},
        )
    tampered = redscarf("ledger", "verify", "--county", county.code, env=db_env)
    assert tampered.returncode == 1
    assert "balances that are not the sum of their postings" in tampered.stdout
    assert "points not conserved" in tampered.stdout
    with engine.begin() as conn:  # put it back for the module's other tests
        conn.execute(
            text(
                f'UPDATE "{county.schema_name}".ledger_accounts SET balance = balance - 5 WHERE id = :a'
            ),
            {"a": pupil},
        )
    unknown = redscarf("ledger", "verify", "--county", "529999", env=db_env)
    assert unknown.returncode != 0
    assert "COUNTY_NOT_FOUND" in unknown.stderr


def test_points_expire_by_academic_year_soonest_first_but_never_what_is_held(
    engine: Engine, make_county: Callable[..., County]
) -> None:
    place = make_county()
    assert ledger.expires_on(1, dt.date(2025, 10, 1)) == dt.date(2026, 8, 31)
    assert ledger.expires_on(2, dt.date(2026, 3, 1)) == dt.date(2027, 8, 31)
    assert ledger.expires_on(None, dt.date(2026, 3, 1)) is None
    in_county(engine, place, lambda c: ledger.set_expiry(c, 1))
    pupil = new_pupil(engine, place)
    award(engine, place, pupil, 10, "old")
    award(engine, place, pupil, 5, "new")
    with engine.begin() as conn:  # the first ten were earned long ago
        conn.execute(
            text(f'UPDATE "{place.schema_name}".ledger_lots SET expires_on = :d WHERE amount = 10'),
            {"d": dt.date(2020, 8, 31)},
        )
    spend(engine, place, pupil, 3, "spend")  # taken from the old points first
    held = in_county(engine, place, lambda c: ledger.hold(c, "sign-up", pupil, 9))
    # Seven old points are left, but nine of the twelve are held for a sign-up: three expire.
    assert in_county(engine, place, lambda c: ledger.expire(c)) == 3
    assert balance(engine, place, pupil) == (9, 9)
    assert in_county(engine, place, lambda c: ledger.expire(c)) == 0  # nothing free to expire
    in_county(engine, place, lambda c: ledger.void_hold(c, held))
    assert in_county(engine, place, lambda c: ledger.expire(c)) == 4  # the rest of the old ones
    assert balance(engine, place, pupil) == (5, 0)
    assert in_county(engine, place, lambda c: ledger.expire(c)) == 0
    assert verified(engine, place).problems == []
    history = in_county(
        engine, place,
        lambda c: c.execute(text(f'SELECT kind FROM "{place.schema_name}".ledger_transactions ORDER BY id')).scalars().all(),
    )  # fmt: skip
    assert history.count("expiry") == 2


def test_ledger_expire_runs_for_every_county(db_env: dict[str, str]) -> None:
    done = redscarf("ledger", "expire", env=db_env)
    assert done.returncode == 0, done.stderr
    assert "积分过期" in done.stdout
