"""A parent on the phone: signs in with a code sent to the phone, binds a child with the
binding code the school gave, sees the child's points, signs the child up for an activity
that costs points (held at sign-up) and cancels it (given back); redeems an item with
points and gets a pickup code."""

from __future__ import annotations

import datetime as dt
import random

from playwright.sync_api import Page, expect

from .conftest import ConsoleServer, screenshot

CHINA = dt.timezone(dt.timedelta(hours=8))
POINTS = "query Points($id: ID!) { pupil(id: $id) { points { balance held available } } }"


def _admin(server: ConsoleServer) -> tuple[str, str]:
    county = server.rural
    return county, server.tokens[f"demo-admin-{county}"]


def _pupil_with_points(server: ConsoleServer, at_least: int, nth: int) -> dict:
    """A current pupil of the rural county with enough points to spend (the demo gives
    most pupils a year of postings): the `nth` from the end of the first page, so that
    tests of other pages, which take the first ones, rarely share it."""
    county, token = _admin(server)
    data = server.api(
        """{ pupils(first: 100, status: MEMBER) {
            edges { node { id name points { available } } } } }""",
        token=token,
        county=county,
    )
    rich = [
        e["node"] for e in data["pupils"]["edges"] if e["node"]["points"]["available"] >= at_least
    ]
    assert rich, "the demo should have members with points"
    return rich[-1 - nth]


def _binding_code(server: ConsoleServer, pupil_id: str) -> str:
    county, token = _admin(server)
    data = server.api(
        """mutation Code($p: ID!) { issueBindingCode(input: {pupilId: $p}) {
            code userErrors { code message } } }""",
        {"p": pupil_id},
        token=token,
        county=county,
    )
    return data["issueBindingCode"]["code"]


def _open_activity(server: ConsoleServer, title: str, cost: int, reward: int) -> str:
    """A county-wide activity open for sign-up now, for every grade, published."""
    county, token = _admin(server)
    unit = server.api("{ units(first: 1, kind: COUNTY) { edges { node { id } } } }",
                      token=token, county=county)["units"]["edges"][0]["node"]["id"]  # fmt: skip
    now = dt.datetime.now(CHINA).replace(microsecond=0)
    created = server.api(
        """mutation Organise($i: CreateActivityInput!) { createActivity(input: $i) {
            activity { id } userErrors { field code message } } }""",
        {"i": {"organiserId": unit, "title": title, "place": "县青少年活动中心",
               "startsAt": (now + dt.timedelta(days=5)).isoformat(),
               "endsAt": (now + dt.timedelta(days=5, hours=3)).isoformat(),
               "signupOpensAt": (now - dt.timedelta(hours=1)).isoformat(),
               "signupClosesAt": (now + dt.timedelta(days=4)).isoformat(),
               "capacity": 30, "cost": cost, "reward": reward}},
        token=token, county=county,
    )  # fmt: skip
    assert not created["createActivity"]["userErrors"], created
    activity_id = created["createActivity"]["activity"]["id"]
    server.api(
        """mutation Publish($id: ID!) { publishActivity(input: {id: $id}) {
            activity { state } userErrors { code message } } }""",
        {"id": activity_id},
        token=token,
        county=county,
    )
    return activity_id


def _points(server: ConsoleServer, pupil_id: str) -> dict:
    county, token = _admin(server)
    return server.api(POINTS, {"id": pupil_id}, token=token, county=county)["pupil"]["points"]


def _sign_in_by_phone(page: Page, server: ConsoleServer) -> str:
    """The login page's 家长 tab: phone, 获取验证码, the code from the SMS (the log), 登录."""
    phone = f"139{random.randrange(10**8):08d}"
    logged = len(server.log.read_text())
    page.goto(server.url("login/guardian"))
    page.get_by_label("手机号").fill(phone)
    page.get_by_role("button", name="获取验证码").click()
    expect(page.get_by_text("验证码已发送")).to_be_visible()
    page.get_by_label("验证码").fill(server.login_code(phone, after=logged))
    page.get_by_role("button", name="登录").click()
    return phone


def _bind(page: Page, server: ConsoleServer, code: str) -> None:
    page.get_by_label("县（区）代码").fill(server.rural)
    page.get_by_label("绑定码").fill(code.lower())  # as typed from a note: case does not matter
    page.get_by_label("与孩子的关系").select_option(label="母亲")
    page.get_by_label("我已阅读并同意").check()
    page.get_by_role("button", name="绑定", exact=True).click()


def test_a_parent_binds_a_child_and_signs_up_for_an_activity_with_points(
    phone_page: Page, console_server: ConsoleServer
) -> None:
    page, server = phone_page, console_server
    cost, reward = 7, 5
    title = f"科技馆研学 {random.randrange(10**6)}"
    activity_id = _open_activity(server, title, cost, reward)
    child = _pupil_with_points(server, at_least=cost, nth=0)
    code = _binding_code(server, child["id"])

    # A new parent signs in with the phone and is asked to bind a child
    _sign_in_by_phone(page, server)
    expect(page.get_by_text("欢迎使用红领巾家长服务")).to_be_visible()

    # Without consenting to the notice, nothing is bound; the reason is said in Chinese
    page.get_by_label("县（区）代码").fill(server.rural)
    page.get_by_label("绑定码").fill(code)
    page.get_by_label("与孩子的关系").select_option(label="母亲")
    page.get_by_role("button", name="绑定", exact=True).click()
    expect(page.locator("form p.error")).to_have_attribute("data-code", "CONSENT_REQUIRED")
    expect(page.locator("form p.error")).to_contain_text("个人信息保护告知书")

    # With consent, the code binds the child: the home page shows the child and the points
    _bind(page, server, code)
    expect(page.locator(".g-child-name")).to_have_text(child["name"])
    before = _points(server, child["id"])
    available = page.locator("[data-figure=available] .n")
    expect(available).to_have_text(str(before["available"]))
    expect(page.locator("[data-figure=balance] .n")).to_have_text(str(before["balance"]))
    expect(page.get_by_role("heading", name="成长档案")).to_be_visible()
    expect(page.get_by_role("heading", name="积分明细")).to_be_visible()
    screenshot(page, "guardian-home")

    # The activities open to the child, with cost, reward and places left
    page.locator("nav.g-tabs").get_by_role("link", name="活动").click()
    card = page.locator(f"[data-activity='{activity_id}']")
    expect(card).to_contain_text(f"{cost} 积分")
    expect(card).to_contain_text("30 / 30")

    # Signing up says what will be held before it is
    card.get_by_role("button", name="报名").click()
    expect(card.locator(".g-confirm")).to_contain_text(
        f"可用积分 {before['available']} → {before['available'] - cost}"
    )
    card.get_by_role("button", name="确认报名").click()

    # …and after: the points held, the same figures as the API's, the sign-up listed
    flash = page.locator(".g-flash")
    expect(flash).to_contain_text(f"预留 {cost} 积分")
    expect(available).to_have_text(str(before["available"] - cost))
    after = _points(server, child["id"])
    assert after["available"] == before["available"] - cost
    assert after["held"] == before["held"] + cost
    expect(page.locator("[data-figure=held] .n")).to_have_text(str(after["held"]))
    signups = page.locator(".g-signups")
    expect(signups.locator("li", has_text=title)).to_contain_text("已确认")
    expect(card).to_contain_text("29 / 30")
    screenshot(page, "guardian-activities")

    # Cancelling gives the points back
    card.get_by_role("button", name="取消报名").click()
    expect(card.locator(".g-confirm")).to_contain_text(f"预留的 {cost} 积分将全部退还")
    card.get_by_role("button", name="确认取消报名").click()
    expect(flash).to_contain_text(f"退还 {cost} 积分")
    expect(available).to_have_text(str(before["available"]))
    assert _points(server, child["id"]) == before
    expect(signups.locator("li", has_text=title)).to_contain_text("已取消")

    # Signing out ends the session and leads back to the parents' login
    page.locator("[data-action=sign-out]").click()
    expect(page.get_by_label("手机号")).to_be_visible()
    page.goto(server.url("guardian"))
    expect(page.get_by_role("button", name="登录")).to_be_visible()


def test_a_parent_redeems_an_item_and_sees_the_pickup_code(
    phone_page: Page, console_server: ConsoleServer
) -> None:
    page, server = phone_page, console_server
    county, token = _admin(server)
    items = server.api("{ exchangeItems(onSale: true) { id name price stock } }",
                       token=token, county=county)["exchangeItems"]  # fmt: skip
    item = min((i for i in items if i["stock"] > 0), key=lambda i: i["price"])
    child = _pupil_with_points(server, at_least=item["price"], nth=1)

    _sign_in_by_phone(page, server)
    _bind(page, server, _binding_code(server, child["id"]))
    expect(page.locator(".g-child-name")).to_have_text(child["name"])
    before = _points(server, child["id"])

    page.locator("nav.g-tabs").get_by_role("link", name="兑换").click()
    card = page.locator(f"[data-item='{item['id']}']")
    card.get_by_role("button", name="兑换").click()
    expect(card.locator(".g-confirm")).to_contain_text(f"使用 {item['price']} 积分")
    card.get_by_role("button", name="确认兑换").click()

    # The pickup code, large, is the one the API keeps for the family; the points are spent
    shown = page.locator(".g-code").first
    expect(shown).to_be_visible()
    # (the county admin sees who redeemed, and only the code's last characters)
    redemptions = server.api(
        "query R($id: ID!) { pupil(id: $id) { redemptions { codeHint state itemName } } }",
        {"id": child["id"]},
        token=token,
        county=county,
    )["pupil"]["redemptions"]
    newest = redemptions[0]
    assert newest["itemName"] == item["name"]
    assert newest["state"] == "ISSUED"
    code = shown.get_attribute("data-code") or ""
    assert len(code) == 10
    assert code.endswith(newest["codeHint"])
    expect(shown.locator(".n")).to_have_text(f"{code[:5]} {code[5:]}")
    available = before["available"] - item["price"]
    expect(page.locator("[data-figure=available] .n")).to_have_text(str(available))
    assert _points(server, child["id"])["available"] == available
    screenshot(page, "guardian-exchange")
