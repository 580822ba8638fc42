"""The county's daily work in the console: organising an activity and taking attendance, the
audit log that records it, the points exchange, and reviewing what families sent in."""

from __future__ import annotations

import re
import uuid

import httpx
from playwright.sync_api import Page, expect

from .conftest import ConsoleServer, screenshot, signed_in

PUPILS_WITH_POINTS = """{ pupils(first: 100, status: MEMBER) {
  edges { node { id name points { balance available } } } } }"""


def _admin(server: ConsoleServer) -> tuple[str, str]:
    """The rural county's admin: (username, token)."""
    username = f"demo-admin-{server.rural}"
    return username, server.tokens[username]


def _pupil_with(server: ConsoleServer, token: str, points: int, skip: int = 0) -> dict:
    """A member of the county with at least `points` available (the `skip`-th such)."""
    found = [e["node"] for e in server.api(PUPILS_WITH_POINTS, token=token)["pupils"]["edges"]
             if e["node"]["points"]["available"] >= points]  # fmt: skip
    return found[skip]


def test_a_county_admin_organises_an_activity_and_checks_a_pupil_in(
    page: Page, console_server: ConsoleServer
) -> None:
    username, token = _admin(console_server)
    title = f"红领巾寻访家乡变化 {uuid.uuid4().hex[:6]}"
    signed_in(page, console_server, username, "county/activities")

    # A new activity: a points cost held at sign-up, a reward at attendance
    page.get_by_role("button", name="新建活动").click()
    page.get_by_label("活动名称").fill(title)
    page.get_by_label("地点").fill("县烈士陵园")
    page.get_by_label("名额").fill("30")
    page.get_by_label("报名所需积分").fill("2")
    page.get_by_label("签到奖励积分").fill("6")
    page.get_by_role("button", name="创建活动").click()

    expect(page.get_by_role("heading", name=title)).to_be_visible()
    expect(page.locator("div.activity")).to_have_attribute("data-state", "DRAFT")
    page.get_by_role("button", name="发布", exact=True).click()
    expect(page.locator("div.activity")).to_have_attribute("data-state", "PUBLISHED")
    expect(page.locator("div.toolbar .badge")).to_have_text("已发布")

    # Listed as published, and the API agrees
    page.get_by_role("link", name="← 活动列表").click()
    page.get_by_label("按状态筛选").select_option("PUBLISHED")
    row = page.locator("tr", has=page.get_by_role("link", name=title))
    expect(row).to_contain_text("已发布")
    expect(row).to_contain_text("报名 2 · 奖励 6")
    expect(row).to_contain_text("0 / 30")
    screenshot(page, "county-activities")
    listed = console_server.api(
        "{ activities(state: PUBLISHED, first: 100) { edges { node { id title cost reward capacity } } } }",
        token=token,
    )["activities"]["edges"]
    activity = next(e["node"] for e in listed if e["node"]["title"] == title)
    assert (activity["cost"], activity["reward"], activity["capacity"]) == (2, 6, 30)

    # A counselor's group sign-up (here the admin's, through the API) holds the cost
    pupil = _pupil_with(console_server, token, 2)
    signed_up = console_server.api(
        """mutation($a: ID!, $p: [ID!]!) { signUpForActivity(input: {activityId: $a, pupilIds: $p}) {
        signups { state } userErrors { code message } } }""",
        {"a": activity["id"], "p": [pupil["id"]]},
        token=token,
    )["signUpForActivity"]
    assert signed_up["signups"] == [{"state": "CONFIRMED"}], signed_up

    # At the venue: checked in from the activity's page, attended, the points settled
    row.get_by_role("link", name=title).click()
    page.reload()  # the page as the counselor finds it at the venue (no messages of before)
    signup = page.locator("tr", has_text=pupil["name"])
    expect(signup).to_contain_text("已确认")
    expect(page.locator("[data-key=confirmed] .n")).to_have_text("1 / 30")
    screenshot(page, "county-activity")
    page.get_by_role("button", name=f"为 {pupil['name']} 签到").click()
    expect(page.locator("#toasts")).to_contain_text(f"{pupil['name']} 已签到，获得 6 积分")
    expect(page.locator("tr", has_text=pupil["name"])).to_contain_text("已签到")
    after = console_server.api(
        "query($id: ID!) { pupil(id: $id) { points { balance } activitySignups { state activity { id } } } }",
        {"id": pupil["id"]},
        token=token,
    )["pupil"]
    assert {"state": "ATTENDED", "activity": {"id": activity["id"]}} in after["activitySignups"]
    assert after["points"]["balance"] == pupil["points"]["balance"] - 2 + 6

    # The venue's code for families, six digits
    page.get_by_role("button", name="生成签到码").click()
    expect(page.locator(".checkin-code .code")).to_have_text(re.compile(r"^\d{6}$"))


def test_a_new_activity_is_required_to_make_sense_before_it_is_sent(
    page: Page, console_server: ConsoleServer
) -> None:
    username, _ = _admin(console_server)
    signed_in(page, console_server, username, "county/activities")
    page.get_by_role("button", name="新建活动").click()
    page.get_by_label("活动名称").fill("时间倒过来的活动")
    page.get_by_label("结束时间").fill("2020-01-01T08:00")
    page.get_by_role("button", name="创建活动").click()
    # The API's refusal, in Chinese, beside the field it is about
    expect(page.locator('.field-error[data-for="endsAt"]')).to_contain_text(
        "结束时间应晚于开始时间"
    )
    expect(page.locator("form p.error")).to_have_attribute("data-code", "INVALID_TIME")


def test_the_audit_log_shows_who_created_an_activity_a_moment_ago(
    page: Page, console_server: ConsoleServer
) -> None:
    username, token = _admin(console_server)
    county = console_server.api(
        "{ me { name } units(kind: COUNTY, first: 1) { edges { node { id } } } }", token=token
    )
    console_server.api(
        """mutation($input: CreateActivityInput!) { createActivity(input: $input) {
        activity { id } userErrors { code message } } }""",
        {"input": {
            "organiserId": county["units"]["edges"][0]["node"]["id"], "title": "审计里的活动",
            "startsAt": "2030-06-01T09:00:00+08:00", "endsAt": "2030-06-01T11:00:00+08:00",
            "signupOpensAt": "2030-05-01T09:00:00+08:00", "signupClosesAt": "2030-05-30T18:00:00+08:00",
            "capacity": 10,
        }},
        token=token,
    )  # fmt: skip
    newest = console_server.api("{ auditLog(first: 1) { action actor } }", token=token)["auditLog"]
    assert newest == [{"action": "createActivity", "actor": county["me"]["name"]}]

    signed_in(page, console_server, username, "county/audit")
    first = page.locator(".audit tbody tr").first
    expect(first).to_contain_text("createActivity")
    expect(first).to_contain_text("新建一项活动")
    expect(first).to_contain_text(county["me"]["name"])
    expect(first).to_contain_text("县级管理员")
    expect(first).to_contain_text("活动 #")
    screenshot(page, "county-audit")

    # The filter narrows what is loaded; "more" reads the earlier entries
    page.get_by_label("筛选审计日志").fill("createActivity")
    expect(page.locator(".audit tbody tr").first).to_contain_text("createActivity")
    for text in page.locator(".audit tbody tr").all_inner_texts():
        assert "createActivity" in text


def test_a_county_admin_registers_a_partner_and_puts_an_item_on_sale(
    page: Page, console_server: ConsoleServer
) -> None:
    username, token = _admin(console_server)
    suffix = uuid.uuid4().hex[:4]
    partner, item = f"县科技馆{suffix}", f"科技馆亲子票{suffix}"
    signed_in(page, console_server, username, "county/exchange")

    page.locator("summary", has_text="登记合作单位").click()
    page.get_by_label("单位名称").fill(partner)
    page.get_by_label("联系方式").fill("0854-6221234")
    page.get_by_role("button", name="登记合作单位").click()
    expect(page.locator("#toasts")).to_contain_text(f"已登记合作单位“{partner}”")
    expect(page.locator("tr", has_text=partner)).to_contain_text("0 件上架 / 共 0 件")

    page.locator("summary", has_text="上架新物品").click()
    page.locator("select[name=partnerId]").select_option(label=partner)
    page.get_by_label("物品名称").fill(item)
    page.get_by_label("所需积分").fill("12")
    page.get_by_label("库存", exact=True).fill("40")
    page.get_by_role("button", name="上架", exact=True).click()
    row = page.locator("tr", has_text=item)
    expect(row).to_contain_text("上架中")
    expect(row).to_contain_text(partner)
    expect(page.locator("tr", has_text=partner).first).to_contain_text("1 件上架 / 共 1 件")
    page.reload()
    expect(row).to_contain_text("上架中")
    screenshot(page, "county-exchange")

    # Restocked and taken off sale
    row.get_by_role("button", name=f"修改 {item}").click()
    page.get_by_label("补充库存").fill("10")
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.locator("tr", has_text=item)).to_contain_text("50")
    page.get_by_role("button", name=f"下架 {item}").click()
    expect(page.locator("tr", has_text=item)).to_contain_text("已下架")
    items = console_server.api(
        "{ exchangeItems { name price stock onSale partnerName } }", token=token
    )
    assert {
        "name": item,
        "price": 12,
        "stock": 50,
        "onSale": False,
        "partnerName": partner,
    } in items["exchangeItems"]
    # Every redemption of the county, with the child
    expect(page.get_by_role("heading", name="兑换记录")).to_be_visible()


def _anonymous(server: ConsoleServer, query: str, variables: dict) -> dict:
    """A request of someone not signed in (a family asking for its login code)."""
    body = httpx.post(f"{server.base}/graphql", json={"query": query, "variables": variables},
                      timeout=30).json()  # fmt: skip
    assert not body.get("errors"), body
    return body["data"]


def _guardian_of(server: ConsoleServer, token: str, pupil_id: str) -> str:
    """A family bound to the pupil through the API (binding code, SMS login): its token."""
    code = server.api(
        "mutation($p: ID!) { issueBindingCode(input: {pupilId: $p}) { code } }",
        {"p": pupil_id},
        token=token,
    )["issueBindingCode"]["code"]
    phone = f"139{uuid.uuid4().int % 10**8:08d}"
    after = len(server.log.read_text())
    _anonymous(
        server,
        "mutation($p: String!) { requestLoginCode(input: {phone: $p}) { ok } }",
        {"p": phone},
    )
    signed = _anonymous(
        server,
        """mutation($p: String!, $c: String!) { signInWithCode(input: {phone: $p, code: $c}) {
        tokens { accessToken } } }""",
        {"p": phone, "c": server.login_code(phone, after)},
    )["signInWithCode"]["tokens"]["accessToken"]
    bound = server.api(
        """mutation($county: String!, $c: String!) { bindPupil(input: {countyCode: $county,
        relation: MOTHER, noticeVersion: "2026-09", code: $c}) { userErrors { code message } } }""",
        {"county": server.rural, "c": code},
        token=signed,
        county=server.rural,
    )["bindPupil"]
    assert not bound["userErrors"], bound
    return signed


def test_a_county_admin_reviews_a_work_a_family_sent_in(
    page: Page, console_server: ConsoleServer
) -> None:
    username, token = _admin(console_server)
    title = f"我心中的红领巾 {uuid.uuid4().hex[:4]}"
    county = console_server.api(
        "{ units(kind: COUNTY, first: 1) { edges { node { id } } } }", token=token
    )
    task = console_server.api(
        """mutation($input: CreateCollectionTaskInput!) { createCollectionTask(input: $input) {
        task { id } userErrors { code message } } }""",
        {"input": {
            "organiserId": county["units"]["edges"][0]["node"]["id"], "kind": "SUBMISSION",
            "title": title, "opensAt": "2020-01-01T00:00:00+08:00",
            "closesAt": "2099-01-01T00:00:00+08:00", "reward": 4,
        }},
        token=token,
    )["createCollectionTask"]["task"]  # fmt: skip
    pupil = _pupil_with(console_server, token, 0, skip=1)
    family = _guardian_of(console_server, token, pupil["id"])

    # The organiser publishes it in the console; then the family sends a drawing
    signed_in(page, console_server, username, "county/tasks")
    page.get_by_role("button", name=f"发布 {title}").click()
    expect(page.locator("tr", has_text=title)).to_contain_text("进行中")
    console_server.api(
        """mutation($t: ID!, $p: ID!) { submitTaskWork(input: {taskId: $t, pupilId: $p,
        text: "我画了升旗仪式", fileUrls: ["https://img.example.cn/zuopin/1.jpg"]}) { submission { id } } }""",
        {"t": task["id"], "p": pupil["id"]},
        token=family,
        county=console_server.rural,
    )

    page.reload()
    card = page.locator("article.submission", has_text=title)
    expect(card).to_contain_text(pupil["name"])
    expect(card).to_contain_text("我画了升旗仪式")
    expect(card.get_by_role("link", name=re.compile("作品 1"))).to_have_attribute(
        "href", "https://img.example.cn/zuopin/1.jpg"
    )
    # Sending back needs a reason the family can act on
    card.get_by_role("button", name="退回").click()
    expect(card.locator("p.error")).to_have_attribute("data-code", "NOTE_REQUIRED")
    card.get_by_label(f"对 {pupil['name']} 的审核意见").fill("画得很用心")
    card.get_by_role("button", name="通过").click()
    expect(page.locator("#toasts")).to_contain_text(f"已通过 {pupil['name']} 的提交，发放 4 积分")
    expect(page.locator("article.submission", has_text=title)).to_have_count(0)

    reviewed = console_server.api(
        "query($id: ID!) { pupil(id: $id) { points { balance } taskSubmissions { state reviewNote task { id } } } }",
        {"id": pupil["id"]},
        token=token,
    )["pupil"]
    assert {
        "state": "APPROVED",
        "reviewNote": "画得很用心",
        "task": {"id": task["id"]},
    } in reviewed["taskSubmissions"]
    assert reviewed["points"]["balance"] == pupil["points"]["balance"] + 4
