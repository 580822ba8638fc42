"""Badges through the API, as a county runs a year of them: the school awards basic badges,
the county sets points, a one-star badge is selected (nomination, review, public notice, an
objection, confirmation), a parent sees the badges and the points, a wrong award is revoked."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from collections.abc import Awaitable, Callable
from typing import Any

import jwt
import openpyxl
import pytest
from sqlalchemy import Engine, text

from schema.ids import decode_global_id, encode_global_id
from tenants.provisioning import County
from tests.graphql_client import GraphQLClient, create_unit
from tests.test_pupils import id_number

Do = Callable[..., Awaitable[Any]]
AWARD = """mutation($b: ID!, $p: [ID!]!, $t: Int) { awardBadge(input: {badgeId: $b, pupilIds: $p,
  academicYear: 2025, term: $t}) { awards { id state points } userErrors { code message } } }"""
STEP = """mutation($ids: [ID!]!) { %s(input: {ids: $ids%s}) {
  awards { id state noticeUntil points objections { id upheld } } userErrors { code } } }"""


async def run_a_badge_year(do: Do, headers: dict[str, str], county: County, engine: Engine,
                           pupil: str, squadron: str) -> dict[str, Any]:  # fmt: skip
    """Every badge mutation once, successfully, on one pupil; returns what they answered."""
    catalogue = {
        b["code"]: b["id"] for b in (await do("{ badges { id code } }", headers=headers))["badges"]
    }
    rule = await do(
        'mutation { setPointsRule(input: {level: BASIC, points: 2, effectiveFrom: "2020-09-01"}) '
        "{ rule { subject points version } userErrors { code } } }",
        headers=headers,
    )
    expiry = await do(
        "mutation { setPointsExpiry(input: {years: 3}) { years userErrors { code } } }",
        headers=headers,
    )
    assert expiry["setPointsExpiry"] == {"years": 3, "userErrors": []}
    basics = [code for code in catalogue if code.startswith("basic.")]
    for code in basics:
        given = await do(AWARD, {"b": catalogue[code], "p": [pupil], "t": 1}, headers=headers)
        assert given["awardBadge"]["userErrors"] == [], given
    quota = await do(  # a county whose one-star quota is everyone eligible
        "mutation { setBadgeQuota(input: {level: STAR1, percent: 100}) { quota { percent } "
        "userErrors { code } } }",
        headers=headers,
    )
    assert quota["setBadgeQuota"]["quota"] == {"percent": 100}, quota
    nominated = await do(
        "mutation($b: ID!, $p: [ID!]!) { nominateForBadge(input: {badgeId: $b, pupilIds: $p, "
        'academicYear: 2025, evidence: "热心助人"}) { awards { id state } userErrors { code } } }',
        {"b": catalogue["star.1"], "p": [pupil]},
        headers=headers,
    )
    (candidacy,) = nominated["nominateForBadge"]["awards"]
    worklist = await do(
        "query($b: ID!) { badgeAwards(badgeId: $b, state: NOMINATED) { id pupilName } }",
        {"b": catalogue["star.1"]},
        headers=headers,
    )
    assert [a["id"] for a in worklist["badgeAwards"]] == [candidacy["id"]]
    ids = [candidacy["id"]]
    reviewed = await do(
        STEP % ("reviewBadgeCandidates", ", approve: true"), {"ids": ids}, headers=headers
    )
    until = (dt.date.today() + dt.timedelta(days=5)).isoformat()
    noticed = await do(
        STEP % ("startBadgeNotice", f', until: "{until}"'), {"ids": ids}, headers=headers
    )
    objected = await do(
        'mutation($a: ID!) { recordAwardObjection(input: {awardId: $a, content: "请核实", '
        'raisedBy: "家长"}) { award { objections { id } } userErrors { code } } }',
        {"a": ids[0]},
        headers=headers,
    )
    objection = objected["recordAwardObjection"]["award"]["objections"][0]["id"]
    resolved = await do(
        "mutation($o: ID!) { resolveAwardObjection(input: {objectionId: $o, upheld: false, "
        'resolution: "经核实不属实"}) { award { state } userErrors { code } } }',
        {"o": objection},
        headers=headers,
    )
    early = await do(STEP % ("confirmBadgeAwards", ""), {"ids": ids}, headers=headers)
    with engine.begin() as conn:  # five days later
        conn.execute(
            text(f'UPDATE "{county.schema_name}".badge_awards SET notice_until = current_date - 1')
        )
    confirmed = await do(STEP % ("confirmBadgeAwards", ""), {"ids": ids}, headers=headers)
    first_basic = await do(
        "query($p: ID!) { pupil(id: $p) { badges { id badge { code } } } }", {"p": pupil},
        headers=headers,
    )  # fmt: skip
    wrong = first_basic["pupil"]["badges"][0]["id"]
    revoked = await do(
        'mutation($id: ID!) { revokeBadgeAward(input: {id: $id, reason: "录入有误"}) '
        "{ awards { state revokedReason } userErrors { code } } }",
        {"id": wrong},
        headers=headers,
    )
    created = await do(
        'mutation { createBadge(input: {name: "小金果章", level: COLLECTIVE, points: 0, '
        'criteria: "优秀中队"}) { badge { id code level } userErrors { code } } }',
        headers=headers,
    )
    collective = created["createBadge"]["badge"]
    edited = await do(
        'mutation($b: ID!) { updateBadge(input: {id: $b, icon: "icons/jinguo.png"}) '
        "{ badge { icon } userErrors { code } } }",
        {"b": collective["id"]},
        headers=headers,
    )
    team_award = await do(
        "mutation($b: ID!, $u: ID!) { awardCollectiveBadge(input: {badgeId: $b, unitId: $u, "
        "academicYear: 2025}) { awards { state unitName } userErrors { code } } }",
        {"b": collective["id"], "u": squadron},
        headers=headers,
    )
    return {"collective": collective, "edited": edited, "team_award": team_award,
            "rule": rule, "reviewed": reviewed, "noticed": noticed, "resolved": resolved,
            "early": early, "confirmed": confirmed, "revoked": revoked, "basics": len(basics)}  # fmt: skip


async def test_a_badge_year_from_the_schools_awards_to_a_parents_view(
    gql: GraphQLClient, make_county: Any, engine: Engine
) -> None:
    county = make_county()
    root = create_unit(engine, county, "county", county.name)
    school = create_unit(engine, county, "brigade", "城关小学", root)
    squadron = create_unit(engine, county, "squadron", "四（1）中队", school, grade=4)
    admin = {"Authorization": f"Bearer {gql.token_for('county_admin', county.code)}"}
    made = await gql.data(
        'mutation($s: ID!, $n: String!) { createPupil(input: {squadronId: $s, name: "李小花", '
        "idNumber: $n}) { pupil { id } } }",
        {
            "s": encode_global_id("Unit", county.code, squadron.id),
            "n": id_number("20160101", "124"),
        },
        headers=admin,
    )
    pupil = made["createPupil"]["pupil"]["id"]
    result = await run_a_badge_year(
        gql.data, admin, county, engine, pupil, encode_global_id("Unit", county.code, squadron.id)
    )
    assert result["collective"]["level"] == "COLLECTIVE"
    assert result["edited"]["updateBadge"]["badge"]["icon"] == "icons/jinguo.png"
    assert result["team_award"]["awardCollectiveBadge"]["awards"] == [
        {"state": "AWARDED", "unitName": "四（1）中队"}
    ]
    # The squadron's collective badge counts towards its brigade's own.
    brigade = await gql.data(
        "query($u: ID!) { unit(id: $u) { badges { badge { name } unitName } } }",
        {"u": encode_global_id("Unit", county.code, school.id)},
        headers=admin,
    )
    assert brigade["unit"]["badges"] == [{"badge": {"name": "小金果章"}, "unitName": "四（1）中队"}]

    assert result["rule"]["setPointsRule"]["rule"] == {
        "subject": "level:basic",
        "points": 2,
        "version": 1,
    }
    assert result["reviewed"]["reviewBadgeCandidates"]["awards"][0]["state"] == "REVIEWED"
    assert result["noticed"]["startBadgeNotice"]["awards"][0]["state"] == "NOTICED"
    assert result["resolved"]["resolveAwardObjection"]["award"]["state"] == "NOTICED"
    assert result["early"]["confirmBadgeAwards"]["userErrors"] == [{"code": "NOTICE_NOT_ENDED"}]
    (star,) = result["confirmed"]["confirmBadgeAwards"]["awards"]
    assert (star["state"], star["objections"][0]["upheld"]) == ("AWARDED", False)
    assert result["revoked"]["revokeBadgeAward"]["awards"][0]["state"] == "REVOKED"

    view = await gql.data(
        "query($p: ID!) { pupil(id: $p) { points { balance } badges { state badge { level } } "
        "pointsHistory(first: 1) { edges { node { amount kind } } } } }",
        {"p": pupil},
        headers=admin,
    )
    states = [(b["badge"]["level"], b["state"]) for b in view["pupil"]["badges"]]
    assert states.count(("BASIC", "AWARDED")) == result["basics"] - 1
    assert ("BASIC", "REVOKED") in states
    assert ("STAR1", "AWARDED") in states
    # 12 basic badges at 2 points, one taken back with its badge; the star's level had no rule.
    assert view["pupil"]["points"]["balance"] == 2 * (result["basics"] - 1)
    assert view["pupil"]["pointsHistory"]["edges"][0]["node"] == {"amount": -2, "kind": "REVERSAL"}


async def test_the_growth_archive_is_one_query_and_one_export_away(
    gql: GraphQLClient, make_county: Any, engine: Engine
) -> None:
    county = make_county()
    root = create_unit(engine, county, "county", county.name)
    school = create_unit(engine, county, "brigade", "城关小学", root)
    squadron = create_unit(engine, county, "squadron", "五（2）中队", school, grade=5)
    admin = {"Authorization": f"Bearer {gql.token_for('county_admin', county.code)}"}
    made = await gql.data(
        'mutation($s: ID!) { createPupil(input: {squadronId: $s, name: "周小舟", gender: MALE, '
        'joinedOn: "2022-10-13", batch: "2022年秋季第一批"}) { pupil { id } } }',
        {"s": encode_global_id("Unit", county.code, squadron.id)},
        headers=admin,
    )
    pupil = made["createPupil"]["pupil"]["id"]
    await run_a_badge_year(
        gql.data, admin, county, engine, pupil, encode_global_id("Unit", county.code, squadron.id)
    )

    with engine.begin() as conn:  # a badge given at 01:30 in China is that day's, not UTC's
        conn.execute(
            text(
                f'UPDATE "{county.schema_name}".badge_awards SET awarded_at = '
                "'2025-10-13 17:30:00+00' WHERE badge_id = (SELECT id FROM "
                f"\"{county.schema_name}\".badges WHERE code = 'star.1')"
            )
        )
    archive = (await gql.data(
        "query($p: ID!) { pupil(id: $p) { archive { on kind title detail points } } }",
        {"p": pupil}, headers=admin,
    ))["pupil"]["archive"]  # fmt: skip
    assert archive[0] == {"on": "2022-10-13", "kind": "STATUS", "title": "加入中国少年先锋队",
                          "detail": "2022年秋季第一批", "points": None}  # fmt: skip
    titles = [e["title"] for e in archive]
    assert {"on": "2025-10-14", "title": "获得一星章"} in [
        {"on": e["on"], "title": e["title"]} for e in archive
    ]
    assert titles.count("获得红旗章（一）") == 1
    assert "红旗章（一）被撤销" in titles
    assert [e["on"] for e in archive] == sorted(e["on"] for e in archive)

    as_json = await gql.http.get("/exports/archive.json", params={"pupil": pupil}, headers=admin)
    assert as_json.status_code == 200
    exported = as_json.json()
    assert exported["pupil"]["name"] == "周小舟"
    assert (exported["pupil"]["school"], exported["pupil"]["squadron"]) == (
        "城关小学",
        "五（2）中队",
    )
    assert [e["title"] for e in exported["events"]] == titles
    page = await gql.http.get("/exports/archive.html", params={"pupil": pupil}, headers=admin)
    assert page.headers["content-type"].startswith("text/html")
    assert "少先队员成长档案" in page.text
    assert "周小舟" in page.text
    assert "@page" in page.text
    sheet = await gql.http.get("/exports/archive.xlsx", params={"pupil": pupil}, headers=admin)
    book = openpyxl.load_workbook(io.BytesIO(sheet.content))
    assert [r[2] for r in book.active.iter_rows(min_row=2, values_only=True)] == titles
    # Another county's admin finds no such pupil; an unknown format is refused.
    stranger = {"Authorization": f"Bearer {gql.token_for('county_admin', make_county().code)}"}
    elsewhere = await gql.http.get(
        "/exports/archive.json", params={"pupil": pupil}, headers=stranger
    )
    assert elsewhere.status_code == 404
    pdf = await gql.http.get("/exports/archive.pdf", params={"pupil": pupil}, headers=admin)
    assert pdf.status_code == 404


async def test_an_award_is_a_signed_open_badge_naming_the_pupil_only_by_a_salted_hash(
    gql: GraphQLClient, make_county: Any, engine: Engine
) -> None:
    county = make_county()
    root = create_unit(engine, county, "county", county.name)
    school = create_unit(engine, county, "brigade", "城关小学", root)
    squadron = create_unit(engine, county, "squadron", "五（3）中队", school, grade=5)
    admin = {"Authorization": f"Bearer {gql.token_for('county_admin', county.code)}"}
    number = id_number("20150505", "135")
    made = await gql.data(
        'mutation($s: ID!, $n: String!) { createPupil(input: {squadronId: $s, name: "吴小燕", '
        "idNumber: $n}) { pupil { id } } }",
        {"s": encode_global_id("Unit", county.code, squadron.id), "n": number},
        headers=admin,
    )
    pupil = made["createPupil"]["pupil"]["id"]
    await run_a_badge_year(
        gql.data, admin, county, engine, pupil, encode_global_id("Unit", county.code, squadron.id)
    )
    awards = (await gql.data(
        "query($p: ID!) { pupil(id: $p) { badges { id state badge { code } } } }", {"p": pupil},
        headers=admin,
    ))["pupil"]["badges"]  # fmt: skip
    star = next(a for a in awards if a["badge"]["code"] == "star.1")
    revoked = next(a for a in awards if a["state"] == "REVOKED")

    signed = await gql.http.get(f"/credentials/{star['id']}.jwt", headers=admin)
    assert signed.status_code == 200
    assert signed.headers["content-type"].startswith("application/vc+jwt")
    key_set = (await gql.http.get("/credentials/keys")).json()
    public = jwt.PyJWK(key_set["keys"][0])
    claims = jwt.decode(signed.text, public.key, algorithms=["EdDSA"])
    vc = claims["vc"]
    assert vc["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert vc["credentialSubject"]["achievement"]["name"] == "一星章"
    assert (
        vc["credentialSubject"]["achievement"]["creator"]["name"] == "中国少年先锋队全国工作委员会"
    )
    assert vc["issuer"]["name"] == f"{county.name}少工委"
    decoded = json.dumps(claims, ensure_ascii=False)
    assert "吴小燕" not in decoded  # never by name
    assert number not in decoded  # nor by ID number
    subject = vc["credentialSubject"]["identifier"][0]
    expected = hashlib.sha256((number + subject["salt"]).encode()).hexdigest()
    assert subject["identityHash"] == f"sha256${expected}"  # the family can prove it is theirs
    # A tampered credential does not verify.
    head, body, signature = signed.text.split(".")
    forged = ".".join((head, body[:-4] + ("AAAA" if body[-4:] != "AAAA" else "BBBB"), signature))
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(forged, public.key, algorithms=["EdDSA"])

    # Revocation is published by id only; a candidacy has no credential.
    listed = (
        await gql.http.get(vc["credentialStatus"]["id"].replace("http://testserver", ""))
    ).json()
    revoked_url = vc["id"].rsplit("/", 1)[0] + "/" + str(decode_global_id(revoked["id"])[2])
    assert {"id": revoked_url} in listed["revokedCredentials"]
    assert {"id": vc["id"]} not in listed["revokedCredentials"]
    stranger = {"Authorization": f"Bearer {gql.token_for('county_admin', make_county().code)}"}
    assert (
        await gql.http.get(f"/credentials/{star['id']}.json", headers=stranger)
    ).status_code == 404
