"""Demo data: realistic proportions, reproducible, resumable after a crash, idempotent."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator

import psycopg
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL

from domain.demo import build_demo, populate_county, summarize_county
from domain.demo.history import write_history
from domain.demo.plan import plan_county
from domain.ledger import service as ledger
from migrations.runner import Migrator
from redscarf.database import make_engine
from redscarf.settings import Settings
from tenants.provisioning import County, create_county
from tenants.sessions import Tenant, tenant_connection

from .conftest import _drop_database, _prepare_database, new_county_code


def _tenant(county: County) -> Tenant:
    return Tenant(county.code, county.name, county.schema_name, county.role_name)


def _rows(engine: Engine, tenant: Tenant, sql: str) -> list[tuple]:
    with tenant_connection(engine, tenant) as conn:
        return [tuple(r) for r in conn.execute(text(sql.format(s=tenant.schema_name)))]


def _snapshot(engine: Engine, tenant: Tenant) -> dict[str, list[tuple]]:
    """Everything demo data consists of, without ids and timestamps of insertion."""
    return {
        "units": _rows(
            engine,
            tenant,
            "SELECT path::text, kind, name, area, school_kind, grade FROM {s}.units ORDER BY path",
        ),
        "pupils": _rows(
            engine,
            tenant,
            """SELECT s.path::text, t.path::text, p.name, p.gender, p.birth_date, p.grade,
                      p.status, p.joined_on, p.batch
               FROM {s}.pupils p JOIN {s}.units s ON s.id = p.squadron_id
               LEFT JOIN {s}.units t ON t.id = p.team_id ORDER BY p.id""",
        ),
        "guardians": _rows(
            engine,
            tenant,
            """SELECT g.name, g.registered_at, b.relation, b.verified_at, p.name
               FROM {s}.guardians g JOIN {s}.guardian_bindings b ON b.guardian_id = g.id
               JOIN {s}.pupils p ON p.id = b.pupil_id ORDER BY g.id, p.id""",
        ),
        "counselors": _rows(
            engine,
            tenant,
            """SELECT c.name, c.kind, u.path::text, c.appointed_on
               FROM {s}.counselors c JOIN {s}.units u ON u.id = c.unit_id ORDER BY c.id""",
        ),
    }


@pytest.fixture(scope="module")
def rural(engine: Engine, migrator: Migrator) -> Tenant:
    """A mostly rural county of 5,000 pupils, like a tenth of Huishui."""
    county = create_county(engine, migrator, new_county_code(), "惠水演示县", "52").county
    tenant = _tenant(county)
    assert populate_county(engine, tenant, pupils=5000, seed=7, run_key="t", urban=False) == 5000
    return tenant


def test_proportions_follow_huishui(engine: Engine, rural: Tenant) -> None:
    s = summarize_county(engine, rural)
    schools, squadrons, teams = s.units["brigade"], s.units["squadron"], s.units["team"]
    assert s.units["county"] == 1
    assert s.units["township"] >= 2
    assert s.units["community"] >= 1
    assert 4 <= schools <= 12  # Huishui: 76 schools for about 50,000 pupils
    assert 2.2 < teams / squadrons < 2.5  # Huishui: 2,921 / 1,243 = 2.35
    assert 30 < s.pupils / squadrons < 45  # Huishui: about 40
    assert s.counselors == {
        "brigade": schools,
        "squadron": squadrons,
        "team": teams,
        "external": s.counselors["external"],
    }
    assert 3.5 < s.counselors["external"] / schools < 6  # Huishui: 359 / 76 = 4.7
    assert 0.86 < s.bound_share < 0.94
    assert s.guardians > 0.9 * s.bound_pupils  # most families register one guardian

    kinds = dict(
        _rows(
            engine,
            rural,
            "SELECT school_kind, count(*) FROM {s}.units WHERE kind = 'brigade' GROUP BY 1",
        )
    )
    assert kinds.get("migrant", 0) >= 1
    assert kinds.get("demonstration", 0) >= 1
    areas = dict(
        _rows(
            engine, rural, "SELECT area, count(*) FROM {s}.units WHERE kind = 'brigade' GROUP BY 1"
        )
    )
    assert areas["rural"] > areas.get("urban", 0)
    # Some guardians have two children in the school.
    [(siblings,)] = _rows(
        engine,
        rural,
        "SELECT count(*) FROM (SELECT guardian_id FROM {s}.guardian_bindings"
        " GROUP BY 1 HAVING count(*) = 2) g",
    )
    assert siblings > 0.02 * s.bound_pupils


def test_pupils_sit_in_squadrons_of_their_grade_and_age(engine: Engine, rural: Tenant) -> None:
    bad = _rows(
        engine,
        rural,
        """SELECT p.id FROM {s}.pupils p
           JOIN {s}.units s ON s.id = p.squadron_id
           LEFT JOIN {s}.units t ON t.id = p.team_id
           WHERE s.kind <> 'squadron' OR s.grade <> p.grade
              OR (t.id IS NOT NULL AND (t.kind <> 'team' OR t.parent_id <> s.id))
              OR (p.status = 'member') <> (p.team_id IS NOT NULL)""",
    )
    assert bad == []
    ages = _rows(
        engine,
        rural,
        "SELECT grade, min(birth_date), max(birth_date), count(*) FILTER (WHERE status ="
        " 'member'), count(*) FROM {s}.pupils GROUP BY grade ORDER BY grade",
    )
    assert [g for g, *_ in ages] == [1, 2, 3, 4, 5, 6]
    for (_, born_from, _, _, _), (_, _, born_until, _, _) in itertools.pairwise(ages):
        assert born_until < born_from  # the next grade up is older
    for grade, _, _, members, total in ages:
        if grade >= 3:
            assert members / total > 0.99  # everyone joined by grade 2's 建队日


def test_every_unit_lies_under_its_parent(engine: Engine, rural: Tenant) -> None:
    bad = _rows(
        engine,
        rural,
        """SELECT c.path::text FROM {s}.units c JOIN {s}.units p ON p.id = c.parent_id
           WHERE NOT (c.path <@ p.path) OR nlevel(c.path) <> nlevel(p.path) + 1""",
    )
    assert bad == []
    wrong_parent = _rows(
        engine,
        rural,
        """SELECT c.kind, p.kind FROM {s}.units c JOIN {s}.units p ON p.id = c.parent_id
           GROUP BY 1, 2 ORDER BY 1, 2""",
    )
    allowed = {
        ("township", "county"),
        ("community", "township"),
        ("brigade", "township"),
        ("brigade", "community"),
        ("squadron", "brigade"),
        ("team", "squadron"),
    }
    assert set(wrong_parent) <= allowed


def test_rerun_with_the_same_run_key_adds_nothing(engine: Engine, rural: Tenant) -> None:
    before = _snapshot(engine, rural)
    calls: list[tuple[int, int]] = []
    populate_county(
        engine,
        rural,
        pupils=5000,
        seed=7,
        run_key="t",
        urban=False,
        on_progress=lambda d, t: calls.append((d, t)),
    )
    assert calls == []
    assert _snapshot(engine, rural) == before


def test_interrupted_run_resumes_to_the_same_data(
    engine: Engine, make_county: Callable[..., County]
) -> None:
    name = "中断演示县"
    whole, broken = _tenant(make_county(name)), _tenant(make_county(name))
    populate_county(engine, whole, pupils=4000, seed=3, run_key="r", urban=False)

    class Crash(Exception):
        pass

    def crash_after_three(done: int, total: int) -> None:
        assert total > 3
        if done == 3:
            raise Crash

    with pytest.raises(Crash):
        populate_county(
            engine,
            broken,
            pupils=4000,
            seed=3,
            run_key="r",
            urban=False,
            on_progress=crash_after_three,
        )
    assert summarize_county(engine, broken).units["brigade"] == 3
    seen: list[int] = []
    resumed = populate_county(
        engine,
        broken,
        pupils=4000,
        seed=3,
        run_key="r",
        urban=False,
        on_progress=lambda d, t: seen.append(d),
    )
    assert resumed == 4000
    schools = len(plan_county(seed=3, pupils=4000, urban=False, county_name=name).schools)
    assert seen == list(range(4, schools + 1))
    assert _snapshot(engine, broken) == _snapshot(engine, whole)


def test_same_seed_same_names_other_seed_other_names(
    engine: Engine, make_county: Callable[..., County]
) -> None:
    a, b, c = (_tenant(make_county("同名县")) for _ in range(3))
    for tenant, seed in ((a, 5), (b, 5), (c, 6)):
        populate_county(engine, tenant, pupils=600, seed=seed, run_key="n", urban=True)
    names = "SELECT name FROM {s}.pupils ORDER BY id"
    assert _rows(engine, a, names) == _rows(engine, b, names)
    assert _rows(engine, a, names) != _rows(engine, c, names)
    assert all(2 <= len(n) <= 4 for (n,) in _rows(engine, a, names))


def test_other_arguments_under_the_same_run_key_are_refused(
    engine: Engine, make_county: Callable[..., County]
) -> None:
    from domain.demo.populate import DemoCountyNotEmpty, DemoRunMismatch

    tenant = _tenant(make_county())
    populate_county(engine, tenant, pupils=300, seed=1, run_key="m")
    with pytest.raises(DemoRunMismatch):
        populate_county(engine, tenant, pupils=400, seed=1, run_key="m")
    with pytest.raises(DemoCountyNotEmpty):
        populate_county(engine, tenant, pupils=300, seed=1, run_key="other")


@pytest.fixture
def empty_installation(server_url: str, worker_id: str) -> Iterator[Engine]:
    """A database of its own: the demo counties have real codes that other tests may take."""
    name = f"{os.environ.get('REDSCARF_TEST_DB_PREFIX', 'rs_test')}_demo_{worker_id}"
    url: URL = _prepare_database(server_url, name)
    engine = make_engine(url, Settings(), pool_size=2)
    yield engine
    engine.dispose()
    with psycopg.connect(server_url, autocommit=True) as conn:
        _drop_database(conn, name)


def test_build_demo_makes_a_rural_and_an_urban_county_and_is_idempotent(
    empty_installation: Engine, migrator: Migrator
) -> None:
    engine = empty_installation
    progress: list[tuple[str, int, int]] = []
    first = build_demo(engine, migrator, pupils=1500, counties=3, seed=2, others=600,
                       on_progress=lambda *a: progress.append(a))  # fmt: skip
    assert [(c.code, c.name, c.urban) for c in first.counties] == [
        ("522731", "惠水县", False),
        ("520102", "南明区", True),
        ("522701", "都匀市", None),
    ]
    assert [c.pupils for c in first.counties] == [1500, 600, 600]
    assert all(c.created for c in first.counties)
    assert all(18 <= c.postings / c.pupils <= 22 for c in first.counties), first
    assert {name for name, _, _ in progress} == {"惠水县", "南明区", "都匀市"}
    text_ = str(first)
    assert "惠水县（522731，农村为主" in text_
    assert "队员共 2,700" in text_
    assert "积分记录" in text_

    again = build_demo(engine, migrator, pupils=1500, counties=3, seed=2, others=600)
    assert [c.created for c in again.counties] == [False, False, False]
    assert [(c.units, c.pupils, c.guardians, c.counselors, c.postings) for c in again.counties] == [
        (c.units, c.pupils, c.guardians, c.counselors, c.postings) for c in first.counties
    ]


def test_a_year_of_history_keeps_the_ledger_whole(engine: Engine, migrator: Migrator) -> None:
    """Activities attended, badges, points earned and spent: what the service would have
    written, so the ledger proves itself and today's demo has activities and goods to use."""
    county = create_county(engine, migrator, new_county_code(), "历史演示县", "52").county
    tenant = _tenant(county)
    populate_county(engine, tenant, pupils=600, seed=11, run_key="h", urban=None)
    assert write_history(engine, tenant, seed=11, run_key="h") is True

    with tenant_connection(engine, tenant) as conn:
        proof = ledger.verify(conn, tenant.schema_name)
    assert proof.problems == []
    assert 18 <= proof.postings / 600 <= 22, proof
    (kinds,) = _rows(
        engine,
        tenant,
        """SELECT json_object_agg(kind, n) FROM (SELECT kind,
        count(*) n FROM {s}.ledger_transactions GROUP BY kind) k""",
    )[0:1]
    assert set(kinds[0]) == {"reward", "award", "spend"}
    assert kinds[0]["spend"] > 600  # most pupils spent, some more than once
    # Every credit is a lot and the lots hold exactly what the pupils hold.
    holding, lots = _rows(
        engine,
        tenant,
        """SELECT (SELECT sum(balance) FROM {s}.ledger_accounts
        WHERE kind = 'pupil'), (SELECT sum(remaining) FROM {s}.ledger_lots)""",
    )[0]
    assert holding == lots > 0
    # Each reward belongs to an attended sign-up of the pupil's own brigade's finished activity.
    assert _rows(
        engine,
        tenant,
        """SELECT count(*) FROM {s}.ledger_transactions t
        WHERE t.kind = 'reward' AND NOT EXISTS (SELECT FROM {s}.activity_signups g
          JOIN {s}.activities a ON a.id = g.activity_id JOIN {s}.pupils p ON p.id = g.pupil_id
          JOIN {s}.units s ON s.id = p.squadron_id
         WHERE t.idempotency_key = 'activity:' || a.id || ':reward:' || g.id
           AND g.state = 'attended' AND a.state = 'finished' AND a.unit_id = s.parent_id)""",
    ) == [(0,)]
    assert (
        _rows(
            engine,
            tenant,
            """SELECT count(*) FROM {s}.badge_awards b
        JOIN {s}.ledger_transactions t ON t.id = b.transaction_id AND t.kind = 'award'
         AND t.idempotency_key = 'award:' || b.id""",
        )[0][0]
        > 150
    )
    # Today: activities open for sign-up and goods on sale.
    assert (
        _rows(
            engine,
            tenant,
            """SELECT count(*) FROM {s}.activities WHERE state = 'published'
        AND signup_opens_at < now() AND signup_closes_at > now()""",
        )[0][0]
        >= 3
    )
    assert (
        _rows(
            engine,
            tenant,
            """SELECT count(*) FROM {s}.exchange_items
        WHERE state = 'on_sale' AND valid_until > now() AND stock > 0""",
        )[0][0]
        >= 3
    )

    assert write_history(engine, tenant, seed=11, run_key="h") is False
    with tenant_connection(engine, tenant) as conn:
        assert ledger.verify(conn, tenant.schema_name).postings == proof.postings
