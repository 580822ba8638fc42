"""Statistics as files (issue 8, exports): a county downloads any statistics view as a workbook
and its yearly report (年度报告) as a workbook and a printable page; every number in them is
the count made in Python from the generated history (`tests.stats_world`)."""

from __future__ import annotations

import datetime as dt
import io
import urllib.parse
from html.parser import HTMLParser
from typing import Any

import openpyxl
import pytest
from sqlalchemy import Engine

from domain.people.tables import CURRENT_STATUSES
from domain.stats.export import LABELS, grade_label, year_label
from domain.stats.figures import academic_year_start
from migrations.runner import Migrator
from schema.ids import encode_global_id
from tests.graphql_client import GraphQLClient
from tests.stats_world import TODAY, World, build_world, pair

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NAME = "惠<b>水</b>县"


@pytest.fixture(scope="module")
def world(engine: Engine, migrator: Migrator) -> World:
    """A county of its own for this module (its name holds markup, as a user might type),
    with a year and more of history and one running school pairing."""
    from tenants.provisioning import create_county
    from tests.conftest import new_county_code

    code = new_county_code()
    county = create_county(engine, migrator, code, f"{NAME}{code}", "52").county
    made = build_world(engine, county, seed=23)
    pair(engine, made, made.schools[1][0], made.pupils[5], "529003")
    return made


def bearer(gql: GraphQLClient, role: str, county: str, scope: str = "c") -> dict[str, str]:
    return {"Authorization": f"Bearer {gql.token_for(role, county, scope)}"}


def unit_id(world: World, pk: int) -> str:
    return encode_global_id("Unit", world.county.code, pk)


def workbook(response: Any) -> Any:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    return openpyxl.load_workbook(io.BytesIO(response.content))


def rows(sheet: Any) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in sheet.iter_rows(values_only=True)]


def values(sheet: Any) -> dict[str, Any]:
    """Label → value of every row whose label comes first (title block and tables alike)."""
    found: dict[str, Any] = {}
    for row in rows(sheet):
        if isinstance(row[0], str) and len(row) > 1:
            found.setdefault(row[0], row[1])
    return found


def grid(sheet: Any, corner: str) -> dict[tuple[str, str], Any]:
    """The cells of the table whose header row starts with `corner`, by (row, column) label."""
    table = rows(sheet)
    top = next(n for n, r in enumerate(table) if r[0] == corner)
    headers = table[top]
    found = {}
    for row in table[top + 1 :]:
        if row[0] is None:
            break
        for header, value in zip(headers[1:], row[1:], strict=True):
            if header is not None:
                found[(row[0], header)] = value
    return found


def current_of(expected: dict[str, Any]) -> int:
    return sum(n for (status, _), n in expected["pupils"].items() if status in CURRENT_STATUSES)


def ratio(part: int, whole: int) -> float | None:
    return round(part * 100 / whole, 1) if whole else None


def check_statistics(book: Any, expected: dict[str, Any]) -> None:
    """Every sheet of a statistics workbook against the count made in Python."""
    assert book.sheetnames == ["概况", "组织", "辅导员", "队员", "奖章", "活动", "征集"]
    current = current_of(expected)
    summary = values(book["概况"])
    assert {
        k: summary[k] for k in ("在册队员", "家长注册数", "绑定队员数", "绑定率（进站率）")
    } == {
        "在册队员": current,
        "家长注册数": expected["guardians"],
        "绑定队员数": expected["pupils_bound"],
        "绑定率（进站率）": ratio(expected["pupils_bound"], current),
    }
    assert isinstance(summary["在册队员"], int)  # a number, not text
    flows = {
        "活动场次": "activities",
        "服务人数": "served_pupils",
        "服务人次": "served_person_times",
        "积分发放": "points_issued",
        "积分消费": "points_spent",
        "积分冻结（报名占用）": "points_held",
        "兑换次数": "redemptions",
        "兑换已核销": "redemptions_verified",
        "学校": "schools",
        "结对学校": "schools_paired",
        "农村学校": "rural_schools",
        "结对的农村学校": "rural_paired",
        "新居民子女学校": "migrant_schools",
        "手拉手结对队员": "pupils_in_pairs",
    }
    assert {k: summary[k] for k in flows} == {k: expected[v] for k, v in flows.items()}
    assert summary["征集完成"] == sum(expected["tasks_completed"].values())
    assert summary["颁发奖章"] == sum(expected["badges"].values())

    units = values(book["组织"])
    assert {k: units[name] for k, name in LABELS["unit_kind"].items()} == {
        k: expected["units"][k] for k in LABELS["unit_kind"]
    }
    counselors = values(book["辅导员"])
    assert {k: counselors[name] for k, name in LABELS["counselor_kind"].items()} == {
        k: expected["counselors"][k] for k in LABELS["counselor_kind"]
    }
    assert counselors["合计"] == sum(expected["counselors"].values())

    pupils = grid(book["队员"], "状态")
    for (status, grade), n in expected["pupils"].items():
        assert pupils[(LABELS["pupil_status"][status], grade_label(grade))] == n
    assert sum(v for (r, c), v in pupils.items() if r == "合计" and c != "合计") == sum(
        expected["pupils"].values()
    )
    assert pupils[("在册合计", "合计")] == current
    assert pupils[("合计", "合计")] == sum(expected["pupils"].values())

    badges = grid(book["奖章"], "等级")
    for (level, year), n in expected["badges"].items():
        assert badges[(LABELS["badge_level"][level], year_label(year))] == n
    assert badges[("合计", "合计")] == sum(expected["badges"].values())
    for level, name in LABELS["badge_level"].items():
        by_level = sum(n for (lv, _), n in expected["badges"].items() if lv == level)
        assert badges[(name, "合计")] == by_level

    tasks = values(book["征集"])
    for kind, name in LABELS["task_kind"].items():
        assert tasks[name] == expected["tasks_completed"][kind]


async def test_the_county_downloads_its_statistics_of_today(
    gql: GraphQLClient, world: World
) -> None:
    admin = bearer(gql, "county_admin", world.county.code)

    response = await gql.http.get("/exports/statistics.xlsx", headers=admin)

    book = workbook(response)
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment; filename*=UTF-8''")
    filename = urllib.parse.unquote(disposition.split("''", 1)[1])
    assert filename == f"{world.county.name}统计（截至{TODAY.isoformat()}）.xlsx"
    expected = world.expected("c", TODAY)
    check_statistics(book, expected)
    head = values(book["概况"])
    assert (head["县（区）"], head["统计单位"]) == (world.county.name, "全县（区）")
    assert head["统计时段"] == f"有记录以来 至 {TODAY.isoformat()}"
    # The pupils served, by township, add up to what each township's own question gives.
    towns = {r[0]: r[1:3] for r in rows(book["活动"]) if r[0] in ("东镇", "西镇")}
    for township in world.townships:
        of = world.expected(township.path, TODAY)
        name = "东镇" if township is world.townships[0] else "西镇"
        assert towns.get(name, (0, 0)) == (of["served_pupils"], of["served_person_times"])
    assert (expected["schools_paired"], expected["pupils_in_pairs"]) == (1, 1)


async def test_a_township_downloads_its_figures_of_a_past_period(
    gql: GraphQLClient, world: World
) -> None:
    township = world.townships[1]
    admin = bearer(gql, "township_admin", world.county.code, township.path)
    as_of, since = TODAY - dt.timedelta(days=100), TODAY - dt.timedelta(days=300)

    response = await gql.http.get(
        "/exports/statistics.xlsx",
        params={
            "unit": unit_id(world, township.id),
            "from": since.isoformat(),
            "asOf": as_of.isoformat(),
        },
        headers=admin,
    )

    book = workbook(response)
    expected = world.expected(township.path, as_of, since)
    check_statistics(book, expected)
    head = values(book["概况"])
    assert head["统计单位"] == "西镇"
    assert head["统计时段"] == f"{since.isoformat()} 至 {as_of.isoformat()}"
    assert sum(expected["pupils"].values()) > 0  # the check above had something to compare


class Rows(HTMLParser):
    """The table rows of a page: the text of each cell, and whether a script was there."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag in ("th", "td"):
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("th", "td") and self.cell is not None:
            self.rows[-1].append("".join(self.cell).strip())
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def headline_of(expected: dict[str, Any]) -> dict[str, Any]:
    current = current_of(expected)
    return {
        "注册数": expected["guardians"],
        "绑定数": expected["pupils_bound"],
        "进站率": ratio(expected["pupils_bound"], current),
        "活动场次": expected["activities"],
        "服务人数": expected["served_pupils"],
        "服务人次": expected["served_person_times"],
        "在册队员": current,
        "积分发放": expected["points_issued"],
        "积分消费": expected["points_spent"],
        "兑换次数": expected["redemptions"],
        "结对学校": expected["schools_paired"],
        "大队": expected["units"]["brigade"],
        "中队": expected["units"]["squadron"],
        "中队辅导员": expected["counselors"]["squadron"],
    }


async def test_the_yearly_report_has_the_numbers_counties_report(
    gql: GraphQLClient, world: World
) -> None:
    admin = bearer(gql, "county_admin", world.county.code)
    year = academic_year_start(TODAY).year
    expected = world.expected("c", TODAY, dt.date(year, 9, 1))
    wanted = headline_of(expected)
    assert wanted["注册数"] > wanted["绑定数"] > 0  # the checks below compare something

    # The workbook
    response = await gql.http.get("/exports/report.xlsx", params={"year": year}, headers=admin)
    book = workbook(response)
    assert book.sheetnames == ["年度报告"]
    found = values(book["年度报告"])
    assert {k: found[k] for k in wanted} == wanted
    assert found["县（区）"] == world.county.name
    assert found["统计时段"] == f"{year}-09-01 至 {TODAY.isoformat()}"
    assert (
        rows(book["年度报告"])[0][0]
        == f"{world.county.name}少先队工作年度报告（{year_label(year)}）"
    )
    filename = urllib.parse.unquote(response.headers["content-disposition"].split("''", 1)[1])
    assert filename == f"{world.county.name}{year_label(year)}少先队工作年度报告.xlsx"

    # The printable page
    page = await gql.http.get("/exports/report.html", params={"year": year}, headers=admin)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    text = page.text
    parsed = Rows()
    parsed.feed(text)
    cells = {r[0]: r[1] for r in parsed.rows if len(r) >= 2}
    shown = {
        k: (f"{v:.1f}" if isinstance(v, float) else "—" if v is None else str(v))
        for k, v in wanted.items()
    }
    assert {k: cells[k] for k in wanted} == shown
    assert "<script" not in text.lower()
    assert "size: A4" in text
    assert "@media print" in text
    assert "://" not in text  # nothing fetched from elsewhere
    # The county's name, as a user typed it, is shown, never taken for markup.
    assert "惠&lt;b&gt;水&lt;/b&gt;县" in text
    assert "<b>水" not in text

    # The province reads a county's report too (aggregates, no pupil named), by `X-County`
    province = {
        "Authorization": f"Bearer {gql.token_for('province_admin', None, '52')}",
        "X-County": world.county.code,
    }
    theirs = await gql.http.get("/exports/report.html", params={"year": year}, headers=province)
    assert theirs.status_code == 200
    parsed = Rows()
    parsed.feed(theirs.text)
    assert {r[0]: r[1] for r in parsed.rows if len(r) >= 2}["注册数"] == shown["注册数"]


async def test_a_past_academic_year_ends_on_the_last_of_august(
    gql: GraphQLClient, world: World
) -> None:
    admin = bearer(gql, "county_admin", world.county.code)
    year = academic_year_start(TODAY).year - 1
    expected = world.expected("c", dt.date(year + 1, 8, 31), dt.date(year, 9, 1))

    response = await gql.http.get("/exports/report.xlsx", params={"year": year}, headers=admin)

    found = values(workbook(response)["年度报告"])
    assert found["统计时段"] == f"{year}-09-01 至 {year + 1}-08-31"
    wanted = headline_of(expected)
    assert {k: found[k] for k in wanted} == wanted


async def test_who_may_not_read_the_county_gets_a_coded_refusal(
    gql: GraphQLClient, world: World, make_county: Any
) -> None:
    squadron = world.pupils[0].path
    counselor = bearer(gql, "squadron_counselor", world.county.code, squadron)
    for path in ("/exports/statistics.xlsx", "/exports/report.html?year=2024"):
        refused = await gql.http.get(path, headers=counselor)
        assert (refused.status_code, refused.json()["code"]) == (403, "FORBIDDEN"), path

        anonymous = await gql.http.get(path)
        assert (anonymous.status_code, anonymous.json()["code"]) == (401, "UNAUTHENTICATED")

    # Another county's admin, or a made-up ID, finds no such unit
    stranger = bearer(gql, "county_admin", make_county().code)
    township = unit_id(world, world.townships[0].id)
    admin = bearer(gql, "county_admin", world.county.code)
    for headers, unit in (
        (stranger, township),
        (admin, "bogus"),
        (admin, encode_global_id("Unit", world.county.code, 2**40)),
        (admin, encode_global_id("Pupil", world.county.code, 1)),
    ):
        missing = await gql.http.get(
            "/exports/statistics.xlsx", params={"unit": unit}, headers=headers
        )
        assert (missing.status_code, missing.json()["code"]) == (404, "UNIT_NOT_FOUND"), unit

    # A township admin sees the other township, but not its statistics
    east = bearer(gql, "township_admin", world.county.code, world.townships[0].path)
    west = unit_id(world, world.townships[1].id)
    other = await gql.http.get("/exports/statistics.xlsx", params={"unit": west}, headers=east)
    assert (other.status_code, other.json()["code"]) == (403, "FORBIDDEN")


@pytest.mark.parametrize(
    ("path", "params", "status", "code"),
    [
        ("/exports/statistics.xlsx", {"from": "2025-13-01"}, 400, "INVALID_DATE"),
        ("/exports/statistics.xlsx", {"asOf": "2025-02-30"}, 400, "INVALID_DATE"),
        ("/exports/statistics.xlsx", {"asOf": "yesterday"}, 400, "INVALID_DATE"),
        ("/exports/statistics.xlsx", {"asOf": "20250101"}, 400, "INVALID_DATE"),
        (
            "/exports/statistics.xlsx",
            {"asOf": (TODAY + dt.timedelta(days=1)).isoformat()},
            400,
            "INVALID_PERIOD",
        ),
        (
            "/exports/statistics.xlsx",
            {"from": TODAY.isoformat(), "asOf": (TODAY - dt.timedelta(days=1)).isoformat()},
            400,
            "INVALID_PERIOD",
        ),
        ("/exports/report.xlsx", {"year": str(TODAY.year + 1)}, 400, "INVALID_PERIOD"),
        ("/exports/report.html", {"year": "下一年"}, 400, "INVALID_YEAR"),
        ("/exports/report.html", {"year": "20251"}, 400, "INVALID_YEAR"),
        ("/exports/report.html", {}, 400, "INVALID_YEAR"),
        ("/exports/report.pdf", {"year": "2024"}, 404, "NOT_FOUND"),
    ],
)
async def test_a_bad_question_is_a_coded_error_in_chinese(
    gql: GraphQLClient, world: World, path: str, params: dict[str, str], status: int, code: str
) -> None:
    admin = bearer(gql, "county_admin", world.county.code)

    response = await gql.http.get(path, params=params, headers=admin)

    assert (response.status_code, response.json()["code"]) == (status, code)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in response.json()["message"])
