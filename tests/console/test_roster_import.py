"""名册导入: a county officer brings a school's spreadsheet into the platform, all or nothing.

The story of docs/api/domains/imports.md in the browser: the template downloaded from the page,
filled as a school would (with one row wrong), uploaded, followed to its end; nothing imported
and the wrong row named; the error report downloaded, fixed in place and imported again; the
pupils then found in the roster by their pinyin initials; a one-star list for one of them, and
the pupil's page with the badge and a binding code for the family.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import openpyxl
from openpyxl.worksheet.worksheet import Worksheet
from playwright.sync_api import Page, expect

from .conftest import ConsoleServer, screenshot, signed_in

# Names no demo pupil has, each with its own pinyin initials (the roster finds them by those).
GOOD = [("欧阳紫萱", "女", "oyzx"), ("上官云舒", "女", "sgys"), ("诸葛明轩", "男", "zgmx")]
FIXED = ("司徒嘉禾", "男", "stjh")  # the row first sent without a name

SQUADRONS = """{ units(last: 3, kind: SQUADRON) {
  edges { node { id name grade parent { name } } } } }"""
COUNT = "query($s: String) { pupils(search: $s) { totalCount } }"


def _download(page: Page, button: str, to: Path) -> Path:
    with page.expect_download() as download:
        page.get_by_role("button", name=button).click()
    download.value.save_as(to)
    return to


def _headers(sheet: Worksheet) -> dict[str, int]:
    """Column numbers (1-based) by the template's Chinese headers."""
    return {cell.value: cell.column for cell in sheet[1] if cell.value}


def _import(page: Page, kind: str, workbook: Path, state: str) -> None:
    """Choose the kind and the file, start, and follow the import to its final `state`."""
    page.get_by_role("radio", name=kind, exact=True).check()
    page.get_by_label("选择文件").set_input_files(workbook)
    page.get_by_role("button", name="上传并导入").click()
    expect(page.locator(".import-outcome")).to_have_attribute("data-state", state, timeout=60_000)
    expect(page.locator(".import-result")).to_contain_text(workbook.name)


def test_a_county_admin_imports_a_roster_all_or_nothing_and_finds_the_pupils(
    page: Page, console_server: ConsoleServer, tmp_path: Path
) -> None:
    county = console_server.rural
    admin = f"demo-admin-{county}"
    token = console_server.tokens[admin]
    classes = [e["node"] for e in console_server.api(SQUADRONS, token=token)["units"]["edges"]]

    signed_in(page, console_server, admin, "county/import")
    expect(page.get_by_role("heading", name="名册导入")).to_be_visible()
    expect(page.locator(".all-or-nothing")).to_contain_text("全部导入，要么全部不导入")

    # The template of the roster, filled as a school fills it: three good rows and one without
    # a name, under real classes of the county.
    page.get_by_role("radio", name="队员名册", exact=True).check()
    template = _download(page, "下载模板", tmp_path / "template.xlsx")
    book = openpyxl.load_workbook(template)
    sheet = book.active
    col = _headers(sheet)
    assert {"学校", "中队", "姓名", "性别", "出生日期", "状态"} <= set(col)
    sheet.delete_rows(2)  # the template's sample row
    rows = [*GOOD, (None, FIXED[1], None)]
    for n, (name, gender, _) in enumerate(rows):
        squadron = classes[n % len(classes)]
        line = 2 + n
        sheet.cell(line, col["学校"], squadron["parent"]["name"])
        sheet.cell(line, col["中队"], squadron["name"])
        sheet.cell(line, col["姓名"], name)
        sheet.cell(line, col["性别"], gender)
        sheet.cell(line, col["出生日期"], dt.date(2020 - squadron["grade"], 3, 1 + n))
        sheet.cell(line, col["状态"], "预备队员")
    bad_row = 2 + len(GOOD)  # as Excel numbers it: the header is row 1
    roster = tmp_path / "新生名册.xlsx"
    book.save(roster)

    # Sent: the progress runs to its end, and the whole file is refused for the one row
    _import(page, "队员名册", roster, "INVALID")
    progress = page.locator(".import-progress progress")
    expect(progress).to_have_js_property("value", len(rows))
    expect(progress).to_have_js_property("max", len(rows))
    outcome = page.locator(".import-outcome")
    expect(outcome).to_contain_text("整份文件都没有导入")
    errors = outcome.locator("tbody tr")
    expect(errors).to_have_count(1)
    expect(errors.first.locator("td")).to_have_text(
        ["队员", str(bad_row), "姓名", "「姓名」不能为空"]
    )
    screenshot(page, "county-import-errors")
    for _, _, initials in GOOD:  # really nothing: not even the good rows
        assert console_server.api(COUNT, {"s": initials}, token=token)["pupils"]["totalCount"] == 0

    # The error report: the same rows, the wrong one saying what is wrong
    report_path = _download(page, "下载错误报告", tmp_path / "report.xlsx")
    report = openpyxl.load_workbook(report_path)
    sheet = report.active
    col = _headers(sheet)
    assert "错误说明" in col
    assert sheet.cell(bad_row, col["姓名"]).value is None
    assert "姓名" in sheet.cell(bad_row, col["错误说明"]).value
    assert sheet.cell(2, col["错误说明"]).value is None
    assert sheet.cell(2, col["姓名"]).value == GOOD[0][0]

    # Fixed in place and sent again: every row is in
    sheet.cell(bad_row, col["姓名"], FIXED[0])
    fixed = tmp_path / "新生名册（改正）.xlsx"
    report.save(fixed)
    _import(page, "队员名册", fixed, "DONE")
    expect(page.locator(".import-outcome")).to_contain_text(f"新登记 {len(rows)}")
    assert console_server.api(COUNT, {"s": FIXED[2]}, token=token)["pupils"]["totalCount"] == 1

    # In the roster, found by the initials of their names
    page.get_by_role("link", name="队员名册", exact=True).click()
    expect(page.locator(".roster .summary")).to_contain_text("名队员")
    screenshot(page, "county-roster")
    search = page.get_by_label("查找队员")
    for name, _, initials in [*GOOD, FIXED]:
        search.fill(initials)
        expect(page.locator(".roster .summary")).to_have_text("共 1 名队员（符合条件）")
        expect(page.locator(".roster tbody tr")).to_have_count(1)
        expect(page.locator(".roster tbody tr").first).to_contain_text(name)

    # A one-star list naming one of them: the badge is awarded
    first = GOOD[0][0]
    squadron = classes[0]
    page.get_by_role("link", name="名册导入").click()
    page.get_by_role("radio", name="一星章名单", exact=True).check()
    book = openpyxl.load_workbook(_download(page, "下载模板", tmp_path / "one_star.xlsx"))
    sheet = book.active
    col = _headers(sheet)
    sheet.delete_rows(2)
    sheet.cell(2, col["学校"], squadron["parent"]["name"])
    sheet.cell(2, col["中队"], squadron["name"])
    sheet.cell(2, col["姓名"], first)
    sheet.cell(2, col["事迹"], "热心助人，坚持参加社区志愿服务")
    one_star = tmp_path / "一星章名单.xlsx"
    book.save(one_star)
    _import(page, "一星章名单", one_star, "DONE")
    expect(page.locator(".import-outcome")).to_contain_text("新登记 1")

    # The pupil's page: the badge, and a binding code for the family, large, with its expiry
    page.get_by_role("link", name="到队员名册查看").click()
    page.get_by_label("查找队员").fill(GOOD[0][2])
    page.get_by_role("link", name=first).click()
    expect(page.locator("h1")).to_contain_text(first)
    expect(page.locator("dl.facts")).to_contain_text(
        f"{squadron['parent']['name']} {squadron['name']}"
    )
    badges = page.locator("section.card", has=page.get_by_role("heading", name="奖章", exact=True))
    expect(badges.locator("tbody tr")).to_have_count(1)
    expect(badges.locator("tbody tr")).to_contain_text("一星章")
    expect(badges.locator("tbody tr")).to_contain_text("已颁发")
    page.get_by_role("button", name="生成家长绑定码").click()
    code = page.locator(".binding-code")
    expect(code).to_have_text(re.compile(r"^[A-Z0-9]{10}$"))
    expect(page.locator(".binding-result")).to_contain_text("有效期至")
    screenshot(page, "county-pupil")
