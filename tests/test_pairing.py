"""Pairing across counties in the domain: an urban county's school pairs with a rural county's,
each county accepts its own side only, and each sees of the other exactly the partner view; a
pupil pair crosses counties only with the guardian's separate consent."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, insert, select, update

from domain import clock
from domain.org.tables import units
from domain.pairing import service as pairing
from domain.pairing.service import Side
from domain.pairing.tables import PairingLevel, PairingState, pairing_events, pairings
from domain.people.tables import counselors, guardians, pupils
from redscarf.errors import RedscarfError
from tenants.provisioning import County
from tenants.sessions import tenant_connection
from tests.graphql_client import create_unit, tenant_of

TODAY = clock.today()


def _county(engine: Engine, make_county: Callable[..., County], name: str, area: str) -> Any:
    county = make_county(name)
    root = create_unit(engine, county, "county", name)
    township = create_unit(engine, county, "township", f"{name}一镇", root, area=area)
    school = create_unit(engine, county, "brigade", f"{name}小学", township, area=area,
                         school_kind="ordinary")  # fmt: skip
    squadron = create_unit(engine, county, "squadron", "四（1）中队", school, grade=4)
    with tenant_connection(engine, tenant_of(county)) as conn:
        kids = [
            conn.execute(
                insert(pupils).values(squadron_id=squadron.id, name=name_, gender="female",
                                      grade=4, status="member", birth_date=dt.date(2015, 3, 1))
                .returning(pupils.c.id)
            ).scalar_one()
            for name_ in ("王小红", "欧阳明月", "李华")
        ]  # fmt: skip
        counselor = conn.execute(
            insert(counselors).values(name="刘老师", kind="squadron", unit_id=squadron.id)
            .returning(counselors.c.id)
        ).scalar_one()  # fmt: skip
        guardian = conn.execute(
            insert(guardians).values(name="王妈妈").returning(guardians.c.id)
        ).scalar_one()
    return {"county": county, "code": county.code, "root": root, "township": township,
            "school": school, "squadron": squadron, "pupils": kids, "counselor": counselor,
            "guardian": guardian}  # fmt: skip


@pytest.fixture
def two(engine: Engine, make_county: Callable[..., County]) -> tuple[Any, Any]:
    return (_county(engine, make_county, "城区", "urban"),
            _county(engine, make_county, "山区", "rural"))  # fmt: skip


def service(engine: Engine, work: Callable[[Connection], Any]) -> Any:
    with engine.begin() as conn:
        return work(conn)


def refused(engine: Engine, work: Callable[[Connection], Any]) -> str:
    with pytest.raises(RedscarfError) as raised, engine.begin() as conn:
        work(conn)
    return raised.value.code


def school(side: Any) -> Side:
    return Side(side["code"], "unit", side["school"].id)


def pupil(side: Any, i: int = 0) -> Side:
    return Side(side["code"], "pupil", side["pupils"][i])


def row(engine: Engine, pk: int) -> Any:
    with engine.connect() as conn:
        return conn.execute(select(pairings).where(pairings.c.id == pk)).one()


def test_schools_of_two_counties_pair_each_accepting_its_own_side(
    engine: Engine, two: tuple[Any, Any], make_county: Callable[..., County]
) -> None:
    city, hills = two
    pk = service(engine, lambda c: pairing.propose(
        c, PairingLevel.SCHOOL, school(city), school(hills), proposer=f"county:{city['code']}",
        county=city["code"], by="user:1", category="urban_rural", goals="每学期一次联合活动"))  # fmt: skip
    found = row(engine, pk)
    assert found.state == PairingState.PROPOSED
    # The proposing county's side is accepted; a third county is no side at all, and the
    # proposing county accepting again does not accept the other side for it.
    stranger = make_county("第三县")
    assert (
        refused(engine, lambda c: pairing.accept(c, pk, stranger.code, by="u")) == "NOT_YOUR_SIDE"
    )
    assert (
        service(engine, lambda c: pairing.accept(c, pk, city["code"], by="u"))
        == PairingState.PROPOSED
    )
    assert (
        refused(engine, lambda c: pairing.end(c, pk, stranger.code, "x", by="u")) == "NOT_YOUR_SIDE"
    )
    assert (
        service(engine, lambda c: pairing.accept(c, pk, hills["code"], by="u"))
        == PairingState.ACTIVE
    )
    found = row(engine, pk)
    # Each sees exactly the other's partner view: name, kind and area.
    assert pairing.partner_card(found, city["code"]) == (
        hills["code"],
        {"name": "山区小学", "kind": "brigade", "area": "rural"},
    )
    assert pairing.partner_card(found, hills["code"]) == (
        city["code"], {"name": "城区小学", "kind": "brigade", "area": "urban"})  # fmt: skip

    for side, kind in ((city, "joint_activity"), (hills, "class_observation")):
        service(engine, lambda c, s=side, k=kind: pairing.record_event(
            c, pk, s["code"], k, TODAY, "送教下乡", by="u"))  # fmt: skip
    assert refused(engine, lambda c: pairing.record_event(
        c, pk, city["code"], "letter", TODAY, None, by="u")) == "INVALID_EVENT"  # fmt: skip
    service(engine, lambda c: pairing.end(c, pk, hills["code"], "两校共开展活动 2 次", by="u"))
    assert refused(engine, lambda c: pairing.record_event(
        c, pk, city["code"], "joint_activity", TODAY, None, by="u")) == "PAIRING_NOT_ACTIVE"  # fmt: skip
    service(engine, lambda c: pairing.add_review(c, pk, city["code"], "收获很大"))
    ended = row(engine, pk)
    assert (ended.state, ended.a_review or ended.b_review) == (
        "ended",
        ended.a_review or ended.b_review,
    )
    assert {ended.a_review, ended.b_review} == {"两校共开展活动 2 次", "收获很大"}
    with engine.connect() as conn:
        assert conn.execute(select(pairing_events.c.county_code).where(
            pairing_events.c.pairing_id == pk)).scalars().all() == [city["code"], hills["code"]]  # fmt: skip


def test_a_pupil_pair_across_counties_needs_the_guardians_separate_consent(
    engine: Engine, two: tuple[Any, Any]
) -> None:
    city, hills = two
    pk = service(engine, lambda c: pairing.propose(
        c, PairingLevel.PUPIL, pupil(city), pupil(hills, 1), proposer="province:52",
        by="user:9"))  # fmt: skip
    assert (
        refused(engine, lambda c: pairing.accept(c, pk, hills["code"], by="u"))
        == "CONSENT_REQUIRED"
    )
    found = row(engine, pk)
    assert (found.a_card, found.b_card) == (None, None)  # nothing of either pupil is shown
    with tenant_connection(engine, tenant_of(hills["county"])) as conn:
        pairing.give_consent(conn, hills["pupils"][1], hills["guardian"], "2026-09")
    with tenant_connection(engine, tenant_of(city["county"])) as conn:
        pairing.give_consent(conn, city["pupils"][0], city["guardian"], "2026-09")
    service(engine, lambda c: pairing.accept(c, pk, hills["code"], by="u"))
    service(engine, lambda c: pairing.accept(c, pk, city["code"], by="u"))
    found = row(engine, pk)
    assert found.state == PairingState.ACTIVE
    # The partner view of a pupil: given name, grade and school; no surname, birth date, ID.
    assert pairing.partner_card(found, city["code"]) == (
        hills["code"],
        {"givenName": "明月", "grade": 4, "school": "山区小学"},
    )
    assert pairing.partner_card(found, hills["code"]) == (
        city["code"], {"givenName": "小红", "grade": 4, "school": "城区小学"})  # fmt: skip
    service(engine, lambda c: pairing.record_event(c, pk, city["code"], "letter", TODAY, "第一封信",
                                                   by="u"))  # fmt: skip

    # A second pupil pair of the same child: the county allows one.
    other = service(engine, lambda c: pairing.propose(
        c, PairingLevel.PUPIL, pupil(city), pupil(hills, 2), proposer="province:52", by="u"))  # fmt: skip
    with tenant_connection(engine, tenant_of(hills["county"])) as conn:
        pairing.give_consent(conn, hills["pupils"][2], hills["guardian"], "2026-09")
    assert (
        refused(engine, lambda c: pairing.accept(c, other, city["code"], by="u"))
        == "PUPIL_ALREADY_PAIRED"
    )

    # The guardian takes the consent back: the child leaves the pairing and its card with it.
    assert service(engine, lambda c: pairing.withdraw_consent(c, city["code"], city["pupils"][0],
                                                              by="guardian:1")) == 2  # fmt: skip
    found = row(engine, pk)
    assert found.state == PairingState.ENDED
    assert pairing.partner_card(found, hills["code"]) == (city["code"], None)


def test_sides_that_cannot_pair_are_refused_with_a_clear_code(
    engine: Engine, two: tuple[Any, Any]
) -> None:
    city, hills = two
    with tenant_connection(engine, tenant_of(hills["county"])) as conn:
        conn.execute(update(units).where(units.c.id == hills["school"].id)
                     .values(archived_at=dt.datetime.now(dt.UTC)))  # fmt: skip
        conn.execute(update(pupils).where(pupils.c.id == hills["pupils"][0]).values(status="left"))

    def propose(level: PairingLevel, a: Side, b: Side) -> Callable[[Connection], Any]:
        return lambda c: pairing.propose(c, level, a, b, proposer="province:52", by="u")

    assert (
        refused(engine, propose(PairingLevel.SCHOOL, school(city), school(hills)))
        == "UNIT_ARCHIVED"
    )
    assert (
        refused(engine, propose(PairingLevel.PUPIL, pupil(city), pupil(hills)))
        == "PUPIL_NOT_CURRENT"
    )
    assert (
        refused(engine, propose(PairingLevel.SCHOOL, school(city), pupil(hills, 1)))
        == "INVALID_SIDE"
    )
    township = Side(city["code"], "unit", city["township"].id)
    assert refused(engine, propose(PairingLevel.SCHOOL, school(city), township)) == "INVALID_SIDE"
    assert (
        refused(engine, propose(PairingLevel.SCHOOL, school(city), school(city))) == "INVALID_SIDE"
    )
    assert refused(engine, lambda c: pairing.propose(
        c, PairingLevel.SCHOOL, school(city), Side(city["code"], "unit", 10**9),
        proposer="province:52", by="u")) == "UNIT_NOT_FOUND"  # fmt: skip
    # A county proposing learns nothing of the other county's side but that it is unavailable.
    for gone in (pupil(hills), Side(hills["code"], "pupil", 10**9)):
        assert refused(engine, lambda c, g=gone: pairing.propose(
            c, PairingLevel.PUPIL, pupil(city), g, proposer=f"county:{city['code']}",
            county=city["code"], by="u")) == "PARTNER_UNAVAILABLE"  # fmt: skip
    # A county proposes only pairings it is a side of.
    other_township = Side(hills["code"], "unit", hills["township"].id)
    assert refused(engine, lambda c: pairing.propose(
        c, PairingLevel.TOWNSHIP, township, other_township, proposer="county:999999",
        county="999999", by="u")) == "NOT_YOUR_SIDE"  # fmt: skip
    # The same two sides once only while live.
    counselor_a = Side(city["code"], "counselor", city["counselor"])
    counselor_b = Side(hills["code"], "counselor", hills["counselor"])
    service(engine, propose(PairingLevel.COUNSELOR, counselor_a, counselor_b))
    assert (
        refused(engine, propose(PairingLevel.COUNSELOR, counselor_b, counselor_a))
        == "ALREADY_PAIRED"
    )
    # Nothing refused was written.
    with engine.connect() as conn:
        assert conn.execute(select(pairings.c.id).where(
            pairings.c.a_county.in_([city["code"], hills["code"]]),
            pairings.c.level != "counselor")).first() is None  # fmt: skip


def test_given_names_drop_the_surname() -> None:
    assert [pairing.given_name(n) for n in ("王小红", "欧阳明月", "李华", "司马光", "丁")] == [
        "小红",
        "明月",
        "华",
        "光",
        "丁",
    ]


def test_a_province_sees_coverage_unpaired_schools_and_suggested_pairs(
    engine: Engine, two: tuple[Any, Any]
) -> None:
    from domain.pairing import coverage

    city, hills = two
    # The city has a second urban school and a school for migrant workers' children; the
    # hills a second rural school.
    create_unit(engine, city["county"], "brigade", "城区实验小学", city["township"], area="urban")
    create_unit(engine, city["county"], "brigade", "新居民子女学校", city["township"],
                area="urban", school_kind="migrant")  # fmt: skip
    create_unit(engine, hills["county"], "brigade", "山区二小", hills["township"], area="rural")
    pk = service(engine, lambda c: pairing.propose(
        c, PairingLevel.SCHOOL, school(city), school(hills), proposer="province:52", by="u"))  # fmt: skip
    for side in (city, hills):
        service(engine, lambda c, s=side: pairing.accept(c, pk, s["code"], by="u"))
    with tenant_connection(engine, tenant_of(city["county"])) as conn:
        pairing.give_consent(conn, city["pupils"][0], city["guardian"], "2026-09")
    with tenant_connection(engine, tenant_of(hills["county"])) as conn:
        pairing.give_consent(conn, hills["pupils"][1], hills["guardian"], "2026-09")
    pupils = service(engine, lambda c: pairing.propose(
        c, PairingLevel.PUPIL, pupil(city), pupil(hills, 1), proposer="province:52", by="u"))  # fmt: skip
    for side in (city, hills):
        service(engine, lambda c, s=side: pairing.accept(c, pupils, s["code"], by="u"))
    codes = [city["code"], hills["code"]]

    with engine.connect() as conn:
        found = coverage.coverage(conn, codes)
        lonely = coverage.unpaired(conn, codes)
        suggested = coverage.suggest(conn, codes)
    assert [(c.schools, c.schools_paired, c.rural_schools, c.rural_paired, c.migrant_schools,
             c.migrant_paired, c.pupils_in_pairs) for c in found] == [
        (3, 1, 0, 0, 1, 0, 1),  # the city
        (2, 1, 2, 1, 0, 0, 1),  # the hills
    ]  # fmt: skip
    # Unpaired: the rural and migrant-children schools first.
    assert [s.name for s in lonely] == ["新居民子女学校", "山区二小", "城区实验小学"]
    # Each suggestion pairs a school in need with an urban school with room, of another county
    # where there is one, the least busy first.
    assert [(s.rural.name, s.urban.name) for s in suggested] == [
        ("新居民子女学校", "城区实验小学"),
        ("山区二小", "城区实验小学"),
    ]


def test_suggestions_prefer_a_nearer_county_and_follow_the_coordinators_choice(
    engine: Engine, two: tuple[Any, Any], migrator: Any
) -> None:
    """Of urban schools with room in other counties, one of the rural school's own prefecture
    first (near enough for weekend visits); a coordinator may name the counties to draw from."""
    from domain.pairing import coverage
    from tenants.provisioning import create_county
    from tests.conftest import new_county_code

    city, _ = two
    # A rural county and an urban one of the next prefecture (codes later than the city's,
    # so the city would come first by its code alone).
    while (code := new_county_code())[:4] == city["code"][:4]:
        pass
    later = iter([code, new_county_code()])

    def make(name: str) -> Any:
        return create_county(engine, migrator, next(later), name, "52").county

    rural, urban = _county(engine, make, "远山", "rural"), _county(engine, make, "邻城", "urban")
    assert rural["code"][:4] == urban["code"][:4] != city["code"][:4]
    codes = [city["code"], rural["code"], urban["code"]]  # two urban schools, equally free
    with engine.connect() as conn:
        found = coverage.suggest(conn, codes)
        chosen = coverage.suggest(conn, codes, partners_from=[city["code"]])
    assert [(s.rural.name, s.urban.county) for s in found] == [("远山小学", urban["code"])]
    assert [(s.rural.name, s.urban.county) for s in chosen] == [("远山小学", city["code"])]


def test_pairings_whose_period_is_over_end_once_a_day(
    engine: Engine, two: tuple[Any, Any], db_env: dict[str, str]
) -> None:
    from tests.test_cli import redscarf

    city, hills = two
    second = create_unit(engine, hills["county"], "brigade", "山区二小", hills["township"],
                         area="rural")  # fmt: skip
    periods = {
        "over": (school(hills), TODAY - dt.timedelta(days=1)),
        "last day": (Side(hills["code"], "unit", second.id), TODAY),
    }
    made = {}
    for label, (partner, ends_on) in periods.items():
        pk = service(engine, lambda c, p=partner, e=ends_on: pairing.propose(
            c, PairingLevel.SCHOOL, school(city), p, proposer="province:52", by="u",
            starts_on=TODAY - dt.timedelta(days=300), ends_on=e))  # fmt: skip
        for side in (city, hills):
            service(engine, lambda c, s=side, k=pk: pairing.accept(c, k, s["code"], by="u"))
        made[label] = pk
    outputs = []
    for _ in range(2):  # daily; the second run finds nothing more to end
        done = redscarf("pairing", "end-lapsed", env=db_env)
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
    assert "已结束 1 个" in outputs[0]
    assert "已结束 0 个" in outputs[1]
    over, last = row(engine, made["over"]), row(engine, made["last day"])
    assert (over.state, over.closed_by) == ("ended", "redscarf pairing end-lapsed")
    assert last.state == "active"
    # Each side may still write its review of the pairing that ran its course.
    service(engine, lambda c: pairing.add_review(c, made["over"], hills["code"], "送教 4 次"))
    assert row(engine, made["over"]).b_review == "送教 4 次"  # the hills, the later code
