"""A provincial League officer's day in the console: onboard a county and invite its first
admin, who then signs in; read the province's statistics; propose a pairing across counties."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from .conftest import ConsoleServer, screenshot, sign_in_staff, signed_in

NEW_COUNTY = ("522732", "三都水族自治县")
COUNTIES = '{ regionCounties(code: "52") { code name status behind schemaVersion } }'


def test_a_province_officer_onboards_a_county_whose_first_admin_then_signs_in(
    page: Page, browser: Browser, console_server: ConsoleServer
) -> None:
    server = console_server
    # Given the province officer, signed in with password and one-time password
    sign_in_staff(page, server, "demo-province")
    expect(page.locator("nav.side")).to_contain_text("开通县（区）")
    page.locator("nav.side").get_by_role("link", name="县（区）", exact=True).click()
    table = page.locator("table")
    for name in server.counties.values():
        expect(table).to_contain_text(name)
    screenshot(page, "province-counties")

    # A code of another province is refused beside the field, in Chinese; nothing is created
    page.get_by_role("link", name="开通县（区）").first.click()
    page.get_by_label("县级行政区划代码").fill("469034")
    page.get_by_label("名称", exact=True).fill("陵水黎族自治县")
    page.get_by_role("button", name="开通").click()
    expect(page.locator('.field-error[data-for="code"]')).to_contain_text("52 开头")
    assert "469034" not in str(server.api(COUNTIES, token=server.tokens["demo-province"]))

    # When the officer onboards a county of the province
    page.get_by_label("县级行政区划代码").fill(NEW_COUNTY[0])
    page.get_by_label("名称", exact=True).fill(NEW_COUNTY[1])
    page.get_by_role("button", name="开通").click()
    done = page.locator(f'p.ok[data-county="{NEW_COUNTY[0]}"]')
    expect(done).to_contain_text("已开通")
    expect(page.locator("ol.steps li.done")).to_have_count(3)

    # and invites its first admin
    page.get_by_label("管理员姓名").fill("王晓燕")
    page.get_by_role("button", name="生成邀请").click()
    link = page.get_by_label("邀请链接").input_value()
    assert re.fullmatch(rf"{re.escape(server.base)}/console/#/invite/\S+", link), link
    expect(page.locator("ol.steps li.done")).to_have_count(4)
    screenshot(page, "province-onboard")

    # Then the county is listed as active, its schema at the latest version
    page.get_by_role("link", name="返回县（区）列表").click()
    row = page.locator("tr", has_text=NEW_COUNTY[1])
    expect(row.locator("[data-status]")).to_have_attribute("data-status", "ACTIVE")
    expect(row).to_contain_text("最新")
    listed = server.api(COUNTIES, token=server.tokens["demo-province"])["regionCounties"]
    new = next(c for c in listed if c["code"] == NEW_COUNTY[0])
    assert (new["status"], new["behind"]) == ("ACTIVE", False)

    # And the invited admin accepts in a browser of her own, signs in, and works in her county
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="zh-CN")
    admin = context.new_page()
    admin.goto(link)
    admin.get_by_label("姓名").fill("王晓燕")
    admin.get_by_label("用户名").fill("wang-xiaoyan")
    admin.get_by_label("密码").fill("Sandu-County-2026")
    admin.get_by_role("button", name="接受邀请").click()
    expect(admin.get_by_text("账号已开通")).to_be_visible()
    sign_in_staff(admin, server, "wang-xiaoyan", "Sandu-County-2026")
    expect(admin.locator("header.top .who")).to_contain_text("王晓燕")
    expect(admin.locator("header.top .who")).to_contain_text("县级管理员")
    expect(admin.locator("nav.side")).not_to_contain_text("开通县（区）")
    context.close()

    # Onboarding the same county again changes nothing, and says so
    page.goto(server.url("province/onboard"))
    page.get_by_label("县级行政区划代码").fill(NEW_COUNTY[0])
    page.get_by_label("名称", exact=True).fill(NEW_COUNTY[1])
    page.get_by_role("button", name="开通").click()
    expect(page.locator("p.ok")).to_contain_text("此前已开通")


def test_the_province_statistics_show_each_county_in_charts(
    page: Page, console_server: ConsoleServer
) -> None:
    server = console_server
    token = server.tokens["demo-province"]
    query = ('{ regionStatistics(code: "52") { statistics { currentPupils boundPercent } '
             "byCounty { countyName statistics { currentPupils } } } }")  # fmt: skip
    # The demo's counties are summarised by the workers within seconds of the start
    signed_in(page, server, "demo-province", "province/stats")
    for _ in range(30):
        if page.locator("div.figures").count():
            break
        page.wait_for_timeout(1000)
        page.reload()
    figures = server.api(query, token=token)["regionStatistics"]
    expect(page.locator("div.figures")).to_contain_text(
        f"{figures['statistics']['currentPupils']:,}"
    )
    charts = page.locator("figure.chart")
    expect(charts).to_have_count(5)
    for county in figures["byCounty"]:
        expect(charts.nth(0)).to_contain_text(county["countyName"])
    # A county's townships, on demand
    page.get_by_label("选择县（区）").select_option(label="惠水县")
    expect(page.locator(".townships figure.chart, .townships p.empty")).to_be_visible()
    screenshot(page, "province-stats")


def test_a_province_officer_proposes_a_suggested_pairing(
    page: Page, console_server: ConsoleServer
) -> None:
    server = console_server
    signed_in(page, server, "demo-province", "province/pairing")
    expect(page.locator("figure.chart")).to_contain_text("惠水县")
    screenshot(page, "province-pairing")
    proposed = (
        "{ pairings(first: 100, state: PROPOSED) { edges { node { partner { countyName } } } } }"
    )

    def waiting(county: str) -> int:
        token = server.tokens[f"demo-admin-{county}"]
        return len(server.api(proposed, token=token)["pairings"]["edges"])

    before = {county: waiting(county) for county in server.counties}
    row = page.locator("section", has_text="建议结对").locator("tbody tr").first
    cells = row.locator("td").all_inner_texts()[:2]
    sides = {name for name in server.counties.values() if any(f"· {name}" in c for c in cells)}
    row.locator("[data-action=propose]").click()
    expect(row.locator("[data-state]")).to_have_attribute("data-state", "PROPOSED")
    # Both counties see the proposal on their side, waiting for their answer
    after = {county: waiting(county) for county in server.counties}
    raised = {server.counties[c] for c in server.counties if after[c] == before[c] + 1}
    assert raised == sides, (sides, before, after)


def test_a_chart_of_a_hundred_counties_keeps_those_who_lead_and_lag(
    page: Page, console_server: ConsoleServer
) -> None:
    # A province of 100 counties: the chart shows the ten highest and ten lowest, and says
    # how many are left out between them (their figures are in the Excel download)
    page.goto(console_server.url("login"))
    drawn = page.evaluate("""async () => {
        const { bars } = await import('/console/charts.js');
        const items = Array.from({length: 100}, (_, i) => ({label: `县${i}`, value: i}));
        const fig = bars('绑定率', items, {sorted: true, limit: 20});
        return [...fig.querySelectorAll('text.axis')].map(t => t.textContent);
    }""")
    assert drawn[:2] == ["县99", "县98"]
    assert drawn[10] == "…另 80 项"
    assert drawn[-1] == "县0"
    assert len(drawn) == 21
