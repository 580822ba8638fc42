"""The county's figures and its pairings in the console: the statistics page shows what the API
computes (the summary and exact statistics of a unit and a period), and a pairing another
county proposed is accepted and its first joint activity recorded."""

from __future__ import annotations

import uuid

from playwright.sync_api import Locator, Page, expect

from .conftest import ConsoleServer, screenshot, signed_in

STATS = """query($unit: ID, $from: Date, $asOf: Date) { statistics(unitId: $unit, from: $from, asOf: $asOf) {
  currentPupils pupilsBound boundPercent guardians activities { held servedPupils } points { issued spent } } }"""
# Statistics over a period are computed when asked: a fresh demo's tables are not analysed yet
# (a test database runs without autovacuum), which makes them take a few seconds.
COMPUTING = 30_000
SUMMARY = "{ countySummary { statistics { computedAt currentPupils pupilsBound boundPercent } } }"


def _n(value: int) -> str:
    return f"{value:,}"


def _percent(value: float) -> str:
    return f"{value:.1f}%"


def _figure(section: Locator, key: str) -> Locator:
    return section.locator(f"[data-key={key}] .n")


def _summary_as_on_the_page(page: Page, server: ConsoleServer, token: str) -> dict | None:
    """The summary the page shows and the API's, read at the same computation: the workers
    recompute it a minute or so after any change (another test's), so reload until the page and
    the API agree on when it was computed."""
    for _ in range(5):
        card = page.locator("#stats-summary")
        expect(card.or_(page.get_by_text("还没有生成汇总"))).to_be_visible(timeout=COMPUTING)
        found = server.api(SUMMARY, token=token)["countySummary"]
        shown = card.locator("[data-computed-at]")
        if found is None and not shown.count():
            return None
        if (
            found
            and shown.count()
            and shown.get_attribute("data-computed-at") == found["statistics"]["computedAt"]
        ):
            return found["statistics"]
        page.reload()
    raise AssertionError("the summary kept changing while the page was read")


def test_the_statistics_page_shows_the_figures_the_api_computes(
    page: Page, console_server: ConsoleServer
) -> None:
    username = f"demo-admin-{console_server.rural}"
    token = console_server.tokens[username]
    signed_in(page, console_server, username, "county/stats")

    # The first figures: the county's summary for this academic year
    summary = _summary_as_on_the_page(page, console_server, token)
    if summary is not None:
        card = page.locator("#stats-summary")
        expect(_figure(card, "currentPupils")).to_have_text(_n(summary["currentPupils"]))
        expect(_figure(card, "pupilsBound")).to_have_text(_n(summary["pupilsBound"]))
        expect(_figure(card, "boundPercent")).to_have_text(_percent(summary["boundPercent"]))

    # Exact statistics of the whole county for the period on the page
    live = page.locator("#stats-live")
    expect(_figure(live, "currentPupils")).to_be_visible(timeout=COMPUTING)
    period = {"from": live.locator("input[name=from]").input_value(),
              "asOf": live.locator("input[name=asOf]").input_value()}  # fmt: skip
    county = console_server.api(STATS, period, token=token)["statistics"]
    expect(_figure(live, "currentPupils")).to_have_text(_n(county["currentPupils"]))
    expect(_figure(live, "pupilsBound")).to_have_text(_n(county["pupilsBound"]))
    expect(_figure(live, "boundPercent")).to_have_text(_percent(county["boundPercent"]))
    expect(_figure(live, "guardians")).to_have_text(_n(county["guardians"]))
    expect(_figure(live, "activitiesHeld")).to_have_text(_n(county["activities"]["held"]))
    expect(_figure(live, "pointsIssued")).to_have_text(_n(county["points"]["issued"]))
    # The charts carry the same figures (as text beside the picture)
    binding = live.locator("figure.chart", has_text="家长绑定")
    expect(binding.locator("tr", has_text="已绑定")).to_contain_text(_n(county["pupilsBound"]))
    unbound = county["currentPupils"] - county["pupilsBound"]
    expect(binding.locator("tr", has_text="未绑定")).to_contain_text(_n(unbound))
    screenshot(page, "county-stats")

    # The workbook of the same figures, and the yearly report
    with page.expect_download() as workbook:
        live.get_by_role("button", name="下载统计表（Excel）").click()
    assert workbook.value.suggested_filename.endswith(".xlsx")
    with page.expect_download() as report:
        page.get_by_role("button", name="下载年度报告（可打印网页）").click()
    assert report.value.suggested_filename.endswith(".html")
    assert "年度报告" in report.value.path().read_text()

    # One township, for the same period
    township = console_server.api(
        "{ units(kind: TOWNSHIP, first: 1) { edges { node { id name } } } }", token=token
    )["units"]["edges"][0]["node"]
    live.locator("select[data-depth='1']").select_option(township["id"])
    live.get_by_role("button", name="统计", exact=True).click()
    expect(live.locator(".stats .stamp")).to_contain_text(
        f"{township['name']} · ", timeout=COMPUTING
    )
    mine = console_server.api(STATS, {**period, "unit": township["id"]}, token=token)["statistics"]
    expect(_figure(live, "currentPupils")).to_have_text(_n(mine["currentPupils"]))
    expect(_figure(live, "boundPercent")).to_have_text(_percent(mine["boundPercent"]))
    expect(_figure(live, "servedPupils")).to_have_text(_n(mine["activities"]["servedPupils"]))


def test_a_pairing_proposed_by_another_county_is_accepted_and_an_event_recorded(
    page: Page, console_server: ConsoleServer
) -> None:
    rural, urban = console_server.rural, console_server.urban
    ours = console_server.tokens[f"demo-admin-{rural}"]
    theirs = console_server.tokens[f"demo-admin-{urban}"]
    suffix = uuid.uuid4().hex[:4]
    school, goals = f"摆金镇中心小学{suffix}", f"送教下乡，每学期一次（{suffix}）"

    # Our new rural school, and an urban school of the other county that proposes to pair
    township = console_server.api(
        "{ units(kind: TOWNSHIP, first: 1) { edges { node { id } } } }", token=ours
    )["units"]["edges"][0]["node"]["id"]
    ours_id = console_server.api(
        """mutation($p: ID!, $name: String!) { createUnit(input: {parentId: $p, kind: BRIGADE,
        name: $name, area: RURAL}) { unit { id } userErrors { code message } } }""",
        {"p": township, "name": school},
        token=ours,
    )["createUnit"]["unit"]["id"]
    partner = console_server.api(
        "{ units(kind: BRIGADE, first: 1) { edges { node { id name } } } }", token=theirs
    )["units"]["edges"][0]["node"]
    proposed = console_server.api(
        """mutation($side: ID!, $partner: ID!, $goals: String!) { proposePairing(input: {level: SCHOOL,
        category: URBAN_RURAL, sideId: $side, partnerId: $partner, goals: $goals}) {
        pairing { id state } userErrors { code message } } }""",
        {"side": partner["id"], "partner": ours_id, "goals": goals},
        token=theirs,
    )["proposePairing"]["pairing"]
    assert proposed["state"] == "PROPOSED"

    # Our side accepts in the console: the pairing starts, both cards show
    signed_in(page, console_server, f"demo-admin-{rural}", "county/pairings")
    expect(page.locator("[data-key=schoolsPaired]")).to_be_visible()
    card = page.locator("article.pairing", has_text=goals)
    expect(card).to_have_attribute("data-state", "PROPOSED")
    expect(card.locator(".side:not(.mine)")).to_contain_text(partner["name"])
    card.get_by_role("button", name=f"接受与{partner['name']}的结对").click()
    expect(card).to_have_attribute("data-state", "ACTIVE")
    expect(card.locator(".side.mine")).to_contain_text(school)
    expect(card).to_contain_text("进行中")

    # The first joint activity, recorded by our side
    card.get_by_role("button", name=f"记录与{partner['name']}的活动").click()
    card.locator("select[name=kind]").select_option("JOINT_ACTIVITY")
    card.get_by_label("说明").fill("联合升旗仪式")
    card.get_by_role("button", name="保存记录").click()
    expect(card.locator("ol.events")).to_contain_text("联合活动")
    expect(card.locator("ol.events")).to_contain_text("联合升旗仪式（本方记录）")
    page.reload()
    expect(card.locator("ol.events")).to_contain_text("联合升旗仪式")
    screenshot(page, "county-pairings")

    # The other county sees it running, with our event
    seen = console_server.api(
        "query($id: ID!) { pairing(id: $id) { state partner { name } events { kind note byMySide } } }",
        {"id": proposed["id"]},
        token=theirs,
    )["pairing"]
    assert seen["state"] == "ACTIVE"
    assert seen["partner"]["name"] == school
    assert seen["events"] == [{"kind": "JOINT_ACTIVITY", "note": "联合升旗仪式", "byMySide": False}]
