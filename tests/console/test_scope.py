"""Who sees whom: a squadron counselor's console holds its own class and nothing of another
school (the roster, a search, a pupil's address typed in, the menu, the tree); the county admin
opens the county's organisation on demand and sets up a unit where a counselor may not."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from .conftest import ConsoleServer, screenshot, signed_in

ME = "{ me { grants { role scope } } }"
UNITS = """query($kind: UnitKind) { units(first: 100, kind: $kind) {
  edges { node { id name path parent { id name } } } } }"""
PUPILS = """query($under: ID, $search: String) { pupils(first: 30, under: $under, search: $search) {
  totalCount edges { node { id name } } } }"""
PUPIL = "query($id: ID!) { pupil(id: $id) { name } }"


def _units(server: ConsoleServer, token: str, kind: str) -> list[dict]:
    return [e["node"] for e in server.api(UNITS, {"kind": kind}, token=token)["units"]["edges"]]


def _pupils(server: ConsoleServer, token: str, **variables: str) -> dict:
    return server.api(PUPILS, variables, token=token)["pupils"]


def test_a_counselor_out_of_scope_cannot_reach_another_schools_pupils(
    page: Page, console_server: ConsoleServer
) -> None:
    county = console_server.rural
    admin = console_server.tokens[f"demo-admin-{county}"]
    counselor = f"demo-counselor-{county}"
    mine = console_server.tokens[counselor]

    # What the API says: the counselor's class, its pupils, and a pupil of another school whose
    # name nobody in the class shares (found with the county admin's token)
    grant = console_server.api(ME, token=mine)["me"]["grants"][0]
    assert grant["role"] == "SQUADRON_COUNSELOR"
    squadrons = _units(console_server, admin, "SQUADRON")
    squadron = next(u for u in squadrons if u["path"] == grant["scope"])
    school = squadron["parent"]["name"]
    in_class = _pupils(console_server, admin, under=squadron["id"])["totalCount"]
    schools = _units(console_server, admin, "BRIGADE")
    # (other tests may have added schools without pupils: every other school's pupils count)
    strangers = [
        e["node"]
        for s in schools
        if not grant["scope"].startswith(f"{s['path']}.")
        for e in _pupils(console_server, admin, under=s["id"])["edges"]
    ]
    stranger = next(
        p for p in strangers if _pupils(console_server, mine, search=p["name"])["totalCount"] == 0
    )
    assert console_server.api(PUPIL, {"id": stranger["id"]}, token=mine)["pupil"] is None

    # The roster: the class and only the class, page after page
    signed_in(page, console_server, counselor, "county/roster")
    summary = page.locator(".roster .summary")
    expect(summary).to_have_text(f"共 {in_class} 名队员")
    expect(page.get_by_label("学校").locator("option")).to_have_text(["全部学校", school])
    classes = page.locator(".roster tbody td:nth-child(4)")
    seen = 0
    while True:
        expect(classes.first).to_be_visible()
        shown = classes.all_inner_texts()
        assert set(shown) == {f"{school} {squadron['name']}"}
        seen += len(shown)
        following = page.get_by_role("button", name="下一页")
        if following.is_disabled():
            break
        page_label = page.locator("nav.pages span").inner_text()
        following.click()
        expect(page.locator("nav.pages span")).not_to_have_text(page_label)
    assert seen == in_class

    # Not by searching the other school's pupil's name either
    page.get_by_label("查找队员").fill(stranger["name"])
    expect(summary).to_have_text("共 0 名队员（符合条件）")
    expect(page.locator(".roster p.empty")).to_contain_text("没有符合条件的队员")

    # Nor by typing the pupil's address: a refusal in Chinese, and nothing of the pupil
    page.goto(console_server.url(f"county/pupils/{stranger['id']}"))
    refusal = page.locator("main p.error")
    expect(refusal).to_have_text("没有这名队员，或您无权查看")
    expect(refusal).to_have_attribute("data-code", "PUPIL_NOT_FOUND")
    expect(page.locator("main")).not_to_contain_text(stranger["name"])
    expect(page.locator("main dl.facts")).to_have_count(0)

    # The menu: the class's pages, no county administration
    menu = page.locator("nav.side")
    expect(menu.get_by_role("link", name="队员名册")).to_be_visible()
    expect(menu.get_by_role("link", name="组织架构")).to_be_visible()
    expect(menu.get_by_role("link", name="审计日志")).to_have_count(0)

    # Imports: a class's roster and its one-star list, not the organisation or the counselors
    menu.get_by_role("link", name="名册导入").click()
    expect(page.get_by_role("radio")).to_have_count(2)
    expect(page.get_by_role("radio", name="队员名册", exact=True)).to_be_visible()
    expect(page.get_by_role("radio", name="一星章名单", exact=True)).to_be_visible()
    expect(page.get_by_role("radio", name="组织架构", exact=True)).to_have_count(0)

    # The tree opens on the counselor's own class, which it may read but not change
    menu.get_by_role("link", name="组织架构").click()
    own = page.locator(".node-row.mine")
    expect(own).to_contain_text(squadron["name"])
    expect(own).to_contain_text("我的单位")
    expect(own).to_contain_text(f"队员 {in_class}")
    expect(page.locator("[data-action=add-unit]")).to_have_count(0)


def test_the_county_admin_opens_the_organisation_on_demand_and_sets_up_a_class(
    page: Page, console_server: ConsoleServer
) -> None:
    county = console_server.rural
    admin = console_server.tokens[f"demo-admin-{county}"]
    school = _units(console_server, admin, "BRIGADE")[0]
    township = school["parent"]["name"]
    name = "六（9）中队"

    signed_in(page, console_server, f"demo-admin-{county}", "county/org")
    expect(page.locator("h1")).to_contain_text(console_server.counties[county])
    expect(page.locator(".figures")).to_contain_text("中队")
    # Only the first level is there; a school's classes come when it is opened
    tree = page.locator(".org-tree")
    expect(tree.locator(".node-row", has_text=township)).to_be_visible()
    expect(tree.locator(".node-row", has_text=school["name"])).to_have_count(0)
    page.get_by_role("button", name=f"展开 {township}").click()
    school_row = tree.locator(".node-row", has_text=school["name"])
    expect(school_row).to_contain_text("大队")
    expect(school_row).to_contain_text("队员")
    page.get_by_role("button", name=f"展开 {school['name']}").click()
    expect(tree.locator("li[data-kind=SQUADRON]").first).to_contain_text("年级")
    screenshot(page, "county-org")

    # A new class: without a grade it is refused beside the form, with one it is in the tree
    school_row.get_by_role("button", name="新设下级单位").click()
    add = page.locator(".add-unit")
    add.get_by_label("名称").fill(name)
    add.get_by_role("button", name="新设").click()
    expect(add.locator("p.error")).to_contain_text("中队须填写年级")
    add.get_by_label("年级").select_option(label="六年级")
    add.get_by_role("button", name="新设").click()
    expect(page.locator(".toast")).to_contain_text(f"已新设中队：{name}")
    expect(page.locator(".add-unit")).to_have_count(0)
    created = tree.locator("li[data-kind=SQUADRON] .node-row", has_text=name)
    expect(created).to_contain_text("六年级")

    children = console_server.api(
        "query($id: ID!) { unit(id: $id) { children { id name grade } } }",
        {"id": school["id"]},
        token=admin,
    )["unit"]["children"]
    new = next(c for c in children if c["name"] == name)
    assert new["grade"] == 6
    # Leave the county as the other tests expect it: an empty class may be archived
    archived = console_server.api(
        "mutation($id: ID!) { archiveUnit(input: {id: $id}) { userErrors { code } } }",
        {"id": new["id"]},
        token=admin,
    )
    assert archived["archiveUnit"]["userErrors"] == []
