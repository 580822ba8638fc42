"""Statistics through the API: a county's figures for a unit and a period as of any date, for
whoever may read statistics there; a prefecture's and province's rollup for their admins
only, with each county's summary and when it was computed."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import openpyxl
import pytest
from sqlalchemy import Engine, update

from domain.stats.figures import academic_year_start
from domain.stats.rollup import refresh_county
from migrations.runner import Migrator
from schema.ids import encode_global_id
from tenants.registry import tenants
from tests.graphql_client import GraphQLClient
from tests.stats_world import PROMOTED, TODAY, World, build_world, region

FIGURES = """asOf since computedAt currentPupils pupilsBound boundPercent guardians
  units { kind count } counselors { kind count } pupilsByStatus { status count }
  pupils { status grade count } badges { level academicYear count }
  points { issued spent held } activities { held servedPupils servedPersonTimes
  byTownship { unit { name } served { pupils } } byArea { area served { pupils } } }
  redemptions { made verified } tasksCompleted { kind count }
  pairing { schools schoolsPaired ruralSchools ruralPaired }"""
QUERY = f"""query($u: ID, $f: Date, $a: Date) {{
  statistics(unitId: $u, from: $f, asOf: $a) {{ {FIGURES} unit {{ name }} }} }}"""
REGION = f"""query($c: String!) {{ regionStatistics(code: $c) {{ code name level computedAt
  oldestCountyAt counties countiesMissing countiesOnboarding statistics {{ {FIGURES} }}
  byCounty {{ countyCode countyName statistics {{ computedAt currentPupils pupilsBound }} }} }} }}"""


@pytest.fixture(scope="module")
def world(engine: Engine, migrator: Migrator) -> World:
    _, (county,) = region(engine, migrator, 1)
    return build_world(engine, county, seed=21)


def headers(gql: GraphQLClient, world: World, role: str, scope: str = "c") -> dict[str, str]:
    token = gql.token_for(role, world.county.code, scope)
    return {"Authorization": f"Bearer {token}", "X-County": world.county.code}


def matches(found: dict[str, Any], expected: dict[str, Any]) -> None:
    current = sum(n for (s, _), n in expected["pupils"].items() if s in ("member", "pre_member"))
    assert found["currentPupils"] == current
    assert (found["pupilsBound"], found["guardians"]) == (expected["pupils_bound"],
                                                          expected["guardians"])  # fmt: skip
    assert found["boundPercent"] == (round(100 * expected["pupils_bound"] / current, 1)
                                     if current else 0.0)  # fmt: skip
    assert {u["kind"].lower(): u["count"] for u in found["units"] if u["count"]} == dict(
        expected["units"]
    )
    assert {(p["status"].lower(), p["grade"]): p["count"] for p in found["pupils"]} == dict(
        expected["pupils"]
    )
    assert {(b["level"].lower(), b["academicYear"]): b["count"] for b in found["badges"]} == dict(
        expected["badges"]
    )
    assert (found["activities"]["servedPupils"], found["activities"]["servedPersonTimes"]) == (
        expected["served_pupils"],
        expected["served_person_times"],
    )
    assert (found["points"]["issued"], found["points"]["spent"], found["points"]["held"]) == (
        expected["points_issued"],
        expected["points_spent"],
        expected["points_held"],
    )
    assert (found["redemptions"]["made"], found["redemptions"]["verified"]) == (
        expected["redemptions"],
        expected["redemptions_verified"],
    )
    assert (found["pairing"]["schools"], found["pairing"]["ruralSchools"]) == (
        expected["schools"],
        expected["rural_schools"],
    )


async def test_a_county_admin_reads_the_county_and_a_township_as_of_a_past_date(
    gql: GraphQLClient, world: World
) -> None:
    admin = headers(gql, world, "county_admin")
    now = (await gql.data(QUERY, headers=admin))["statistics"]
    assert (now["asOf"], now["since"], now["unit"]) == (TODAY.isoformat(), None, None)
    matches(now, world.expected("c", TODAY))
    assert {t["unit"]["name"] for t in now["activities"]["byTownship"]} >= {"东镇"}

    township = world.townships[1]
    then, since = PROMOTED - dt.timedelta(days=3), PROMOTED - dt.timedelta(days=200)
    past = (await gql.data(QUERY, {"u": encode_global_id("Unit", world.county.code, township.id),
                                   "f": since.isoformat(), "a": then.isoformat()},
                           headers=admin))["statistics"]  # fmt: skip
    assert (past["asOf"], past["since"], past["unit"]["name"]) == (
        then.isoformat(),
        since.isoformat(),
        "西镇",
    )
    matches(past, world.expected(township.path, then, since))


async def test_a_county_admin_reads_the_county_summary_of_the_academic_year_in_one_read(
    gql: GraphQLClient, world: World, engine: Engine
) -> None:
    refresh_county(engine, world.county.code)
    admin = headers(gql, world, "county_admin")
    query = f"{{ countySummary {{ countyCode countyName statistics {{ {FIGURES} }} }} }}"
    found = (await gql.data(query, headers=admin))["countySummary"]
    assert found["countyCode"] == world.county.code
    start = academic_year_start(TODAY)
    assert (found["statistics"]["asOf"], found["statistics"]["since"]) == (
        TODAY.isoformat(),
        start.isoformat(),
    )
    assert found["statistics"]["computedAt"] is not None
    matches(found["statistics"], world.expected("c", TODAY, start))
    counselor = headers(gql, world, "brigade_counselor", world.schools[0][0].path)
    assert await gql.error_codes(query, headers=counselor) == ["FORBIDDEN"]


async def test_a_counselor_reads_its_own_school_only_and_bad_periods_are_refused(
    gql: GraphQLClient, world: World
) -> None:
    mine, other = world.schools[0][0], world.schools[1][0]
    brigade = headers(gql, world, "brigade_counselor", mine.path)

    def unit(pk: int) -> str:
        return encode_global_id("Unit", world.county.code, pk)

    found = (await gql.data(QUERY, {"u": unit(mine.id)}, headers=brigade))["statistics"]
    matches(found, world.expected(mine.path, TODAY))
    # Another school of the county, the whole county, another county's unit: refused
    assert await gql.error_codes(QUERY, {"u": unit(other.id)}, headers=brigade) == ["FORBIDDEN"]
    assert await gql.error_codes(QUERY, headers=brigade) == ["FORBIDDEN"]
    foreign = encode_global_id("Unit", "520199", mine.id)
    assert await gql.error_codes(QUERY, {"u": foreign}, headers=brigade) == ["UNIT_NOT_FOUND"]
    # A province sees the county whole, never one school's figures
    province = {"Authorization": f"Bearer {gql.token_for('province_admin', None, '63')}",
                "X-County": world.county.code}  # fmt: skip
    whole = (await gql.data(QUERY, headers=province))["statistics"]
    matches(whole, world.expected("c", TODAY))
    assert await gql.error_codes(QUERY, {"u": unit(mine.id)}, headers=province) == ["FORBIDDEN"]
    # A period that ends in the future or starts after it ends: a clear error, no numbers
    tomorrow = (TODAY + dt.timedelta(days=1)).isoformat()
    for variables in ({"a": tomorrow}, {"f": TODAY.isoformat(), "a": "2025-01-01"}):
        answer = await gql.execute(QUERY, {"u": unit(mine.id), **variables}, headers=brigade)
        assert answer["data"] is None
        assert [e["extensions"]["code"] for e in answer["errors"]] == ["INVALID_PERIOD"]
    # A day before anything existed: every figure zero, not an error
    early = (await gql.data(QUERY, {"a": "2020-01-01"}, headers=headers(
        gql, world, "county_admin")))["statistics"]  # fmt: skip
    assert (early["currentPupils"], early["guardians"], early["pairing"]["schools"]) == (0, 0, 0)


async def test_a_province_reads_the_rollup_of_its_counties_only(
    gql: GraphQLClient, engine: Engine, migrator: Migrator
) -> None:
    prefecture, counties = region(engine, migrator, 2)
    worlds = [build_world(engine, c, seed=30 + n, pupils_per_squadron=3)
              for n, c in enumerate(counties)]  # fmt: skip
    operator = {"Authorization": f"Bearer {gql.token_for('operator', None, '')}"}
    # Before any summary: the prefecture is known, its counties missing, no numbers
    empty = (await gql.data(REGION, {"c": prefecture}, headers=operator))["regionStatistics"]
    assert (empty["computedAt"], empty["statistics"], empty["byCounty"]) == (None, None, [])
    assert empty["countiesMissing"] == 2
    for c in counties:
        refresh_county(engine, c.code)

    for code, who in ((prefecture, "prefecture_admin"), ("63", "province_admin")):
        token = gql.token_for(who, None, prefecture if who == "prefecture_admin" else "63")
        found = (await gql.data(REGION, {"c": prefecture},
                                headers={"Authorization": f"Bearer {token}"}))["regionStatistics"]  # fmt: skip
        assert (found["code"], found["level"], found["counties"]) == (prefecture, "PREFECTURE", 2)
        expected = [w.expected("c", TODAY, dt.date(TODAY.year if TODAY.month >= 9
                                                    else TODAY.year - 1, 9, 1)) for w in worlds]  # fmt: skip
        totals = found["statistics"]
        assert totals["currentPupils"] == sum(c["statistics"]["currentPupils"]
                                              for c in found["byCounty"])  # fmt: skip
        assert totals["pupilsBound"] == sum(e["pupils_bound"] for e in expected)
        assert totals["guardians"] == sum(e["guardians"] for e in expected)
        assert [c["countyCode"] for c in found["byCounty"]] == [c.code for c in counties]
        assert found["oldestCountyAt"] <= found["computedAt"]
        assert code  # both levels above read the prefecture's rollup

    # The province's console lists the counties: status, schema version, size from the summary
    listed = (await gql.data(
        "query($c: String!) { regionCounties(code: $c) { code name status schemaVersion behind"
        " pupils summaryComputedAt } }", {"c": prefecture},
        headers={"Authorization": f"Bearer {gql.token_for('province_admin', None, '63')}"},
    ))["regionCounties"]  # fmt: skip
    assert [(c["code"], c["status"], c["behind"]) for c in listed] == [
        (c.code, "ACTIVE", False) for c in counties]  # fmt: skip
    assert all(c["schemaVersion"] and c["summaryComputedAt"] for c in listed)
    assert [c["pupils"] for c in listed] == [c["statistics"]["currentPupils"]
                                             for c in found["byCounty"]]  # fmt: skip

    # The province's officer downloads the same rollup, its counties side by side
    province = {"Authorization": f"Bearer {gql.token_for('province_admin', None, '63')}"}
    response = await gql.http.get(f"/exports/region-statistics.xlsx?code={prefecture}",
                                  headers=province)  # fmt: skip
    assert response.status_code == 200, response.text
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    head = {r[0]: r[1] for r in book["概况"].iter_rows(values_only=True) if r[0]}
    assert head["在册队员"] == found["statistics"]["currentPupils"]
    assert head["统计单位"] == "2 个县（区）汇总"
    by_county = [r[:3] for r in book["各县"].iter_rows(values_only=True) if r[1] in
                 {c.code for c in counties}]  # fmt: skip
    assert by_county == [(c["countyName"], c["countyCode"], c["statistics"]["currentPupils"])
                         for c in found["byCounty"]]  # fmt: skip

    # Another prefecture's admin, a county admin, a bad or unknown code
    stranger = gql.token_for("prefecture_admin", None, "6399")
    assert await gql.error_codes(REGION, {"c": prefecture},
                                 headers={"Authorization": f"Bearer {stranger}"}) == ["FORBIDDEN"]  # fmt: skip
    county_admin = {"Authorization": f"Bearer {gql.token_for('county_admin', counties[0].code)}"}
    assert await gql.error_codes(REGION, {"c": prefecture}, headers=county_admin) == ["FORBIDDEN"]
    assert await gql.error_codes("query($c: String!) { regionCounties(code: $c) { code } }",
                                 {"c": prefecture}, headers=county_admin) == ["FORBIDDEN"]  # fmt: skip
    assert await gql.error_codes(REGION, {"c": "6x"}, headers=operator) == ["INVALID_REGION"]
    assert await gql.error_codes(REGION, {"c": "69"}, headers=operator) == ["REGION_NOT_FOUND"]
    refused = await gql.http.get(f"/exports/region-statistics.xlsx?code={prefecture}",
                                 headers={"Authorization": f"Bearer {stranger}"})  # fmt: skip
    assert (refused.status_code, refused.json()["code"]) == (403, "FORBIDDEN")
    other, _ = region(engine, migrator, 1)
    nothing = await gql.http.get(f"/exports/region-statistics.xlsx?code={other}",
                                 headers=operator)  # fmt: skip
    assert (nothing.status_code, nothing.json()["code"]) == (404, "NO_SUMMARY_YET")


async def test_a_county_still_being_onboarded_answers_unavailable_not_zero(
    gql: GraphQLClient, engine: Engine, migrator: Migrator
) -> None:
    _, (county,) = region(engine, migrator, 1)
    admin = {"Authorization": f"Bearer {gql.token_for('county_admin', county.code)}",
             "X-County": county.code}  # fmt: skip
    with engine.begin() as conn:
        conn.execute(update(tenants).where(tenants.c.code == county.code)
                     .values(status="provisioning"))  # fmt: skip
    try:
        assert await gql.error_codes(QUERY, headers=admin) == ["COUNTY_UNAVAILABLE"]
    finally:
        with engine.begin() as conn:
            conn.execute(update(tenants).where(tenants.c.code == county.code)
                         .values(status="active"))  # fmt: skip
