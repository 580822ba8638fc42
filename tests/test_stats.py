"""Statistics (DESIGN.md part 11): every figure of a county, for a unit and a period and as of
a past date, checked against a count made in Python from the generated history."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import Engine

from domain.stats.figures import Figures, Period, county_figures, paired_sides
from tests.graphql_client import in_county
from tests.stats_world import PROMOTED, START, TODAY, World, build_world, pair


def figures_of(engine: Engine, world: World, period: Period) -> Figures:
    with engine.connect() as conn:
        paired = paired_sides(conn, world.county.code, period.as_of)
    return in_county(engine, world.county, lambda c: county_figures(c, period, paired))


def observed(found: Figures) -> dict[str, Any]:
    return {
        "units": +found.units,
        "counselors": +found.counselors,
        "pupils": +found.pupils,
        "pupils_bound": found.pupils_bound,
        "guardians": found.guardians,
        "badges": +found.badges,
        "redemptions": found.redemptions,
        "redemptions_verified": found.redemptions_verified,
        "tasks_completed": +found.tasks_completed,
        "served_pupils": found.served_pupils,
        "served_person_times": found.served_person_times,
        "schools": found.schools,
        "schools_paired": found.schools_paired,
        "rural_schools": found.rural_schools,
        "rural_paired": found.rural_paired,
        "migrant_schools": found.migrant_schools,
        "pupils_in_pairs": found.pupils_in_pairs,
        "activities": found.activities,
        "townships": {
            t.unit_id: (t.pupils, t.person_times, t.current_pupils)
            for t in found.served_by_township
        },
        "points_issued": found.points_issued,
        "points_spent": found.points_spent,
        "points_expired": found.points_expired,
        "points_held": found.points_held,
    }


@pytest.fixture(scope="module", params=[8, 21], ids=["seed 8", "seed 21"])
def world(engine: Engine, migrator: Any, request: pytest.FixtureRequest) -> World:
    from tenants.provisioning import create_county
    from tests.conftest import new_county_code

    code = new_county_code()
    county = create_county(engine, migrator, code, f"统计县{code}", "52").county
    made = build_world(engine, county, seed=request.param)
    pair(engine, made, made.schools[1][0], made.pupils[3], "529001")
    pair(engine, made, made.schools[2][0], made.pupils[40], "529002", ended=True)
    return made


QUESTIONS = [
    ("county today", lambda w: ("c", TODAY, None)),
    ("county this term", lambda w: ("c", TODAY, TODAY - dt.timedelta(days=90))),
    ("county before the promotion", lambda w: ("c", PROMOTED - dt.timedelta(days=1), None)),
    ("county on the promotion day", lambda w: ("c", PROMOTED, START)),
    (
        "county a year ago, that year",
        lambda w: ("c", TODAY - dt.timedelta(days=365), TODAY - dt.timedelta(days=480)),
    ),
    ("a township today", lambda w: (w.townships[0].path, TODAY, None)),
    (
        "a township in the past",
        lambda w: (
            w.townships[1].path,
            TODAY - dt.timedelta(days=100),
            TODAY - dt.timedelta(days=300),
        ),
    ),
    ("a rural school", lambda w: (w.schools[1][0].path, TODAY, None)),
    ("before anything existed", lambda w: ("c", START - dt.timedelta(days=30), None)),
]


@pytest.mark.parametrize("question", [q for _, q in QUESTIONS], ids=[n for n, _ in QUESTIONS])
def test_every_figure_matches_a_count_of_the_generated_history(
    engine: Engine, world: World, question: Any
) -> None:
    under, as_of, since = question(world)
    found = figures_of(engine, world, Period(under, as_of, since))
    expected = world.expected(under, as_of, since)
    assert observed(found) == {k: (+v if hasattr(v, "most_common") else v)
                               for k, v in expected.items()}  # fmt: skip


def test_the_generated_history_is_not_trivial(world: World) -> None:
    """The comparison above means something only if the history has every kind of event."""
    now, then = world.expected("c", TODAY), world.expected("c", PROMOTED - dt.timedelta(days=1))
    assert now["pupils"] != then["pupils"]
    assert {s for s, _ in now["pupils"]} >= {"member", "pre_member", "left"}
    assert all(now[k] for k in ("pupils_bound", "badges", "redemptions_verified", "points_held"))
    assert all(now["tasks_completed"][k] for k in ("lesson", "submission"))
    assert now["points_issued"] > now["points_spent"] > 0
    assert now["points_expired"] > 0
    assert (now["schools_paired"], now["pupils_in_pairs"]) == (1, 1)
    assert now["units"]["squadron"] == 8  # one squadron was closed
