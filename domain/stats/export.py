"""Statistics as files a county hands on (DESIGN.md part 11): any question's figures as a
workbook, and the county's yearly report (年度报告) as a workbook and a printable page.

The yearly report carries the numbers the counties' own documents report (seeds 000, 002):
注册数, 绑定数, 进站率, 活动场次, 服务人数, the 大队/中队/小队 and the counselors by kind, the
badges awarded, points, exchange, collection tasks and pairing coverage.

Nothing here reads the database or knows of HTTP: it turns a `Figures` into bytes or text.
Names of counties and units come from users, so a workbook never reads a cell as a formula
and the page escapes every value.
"""

from __future__ import annotations

import datetime as dt
import html
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from domain import clock
from domain.badges.ladder import STARS
from domain.badges.tables import BadgeLevel
from domain.people.pupils import STATUS_LABELS
from domain.people.tables import CURRENT_STATUSES
from domain.stats.figures import Figures, Period

LABELS: dict[str, dict[str, str]] = {
    "unit_kind": {
        "county": "县",
        "township": "乡镇（街道）",
        "community": "社区",
        "brigade": "大队（学校）",
        "squadron": "中队",
        "team": "小队",
    },
    "counselor_kind": {
        "brigade": "大队辅导员",
        "squadron": "中队辅导员",
        "team": "小队辅导员",
        "external": "校外辅导员",
    },
    "pupil_status": {str(status): text for status, text in STATUS_LABELS.items()},
    "badge_level": {
        BadgeLevel.BASIC.value: "基础章",
        **{level.value: name for level, name, _ in STARS},
        BadgeLevel.SPECIAL.value: "特色章",
        BadgeLevel.COLLECTIVE.value: "集体章",
    },
    "task_kind": {"lesson": "红领巾爱学习", "submission": "作品征集", "feedback": "问卷反馈"},
    "area": {"urban": "城区", "rural": "农村", "unknown": "未注明"},
}

HEADING_LABELS = {
    "county": "县（区）",
    "unit": "统计单位",
    "period": "统计时段",
    "computed_at": "生成时间",
}
"""The title block of every file, in this order; `heading` dicts use these keys."""

GRADES = range(1, 10)
NUMERALS = "一二三四五六七八九"
STOCK, FLOW, RATIO = "期末时点数", "时段累计数", "比率"


def label(kind: str, key: str) -> str:
    """The Chinese label of a kind, status, level or area (the key itself if unknown)."""
    return LABELS[kind].get(key, key)


def grade_label(grade: int) -> str:
    return f"{NUMERALS[grade - 1]}年级" if grade in GRADES else f"{grade}年级"


def year_label(year: int) -> str:
    """An academic year (学年: September `year` to August `year + 1`)."""
    return f"{year}—{year + 1}学年"


def percent(part: int, whole: int) -> float | None:
    """`part` of `whole` in per cent, to one decimal (None when there is no whole)."""
    return round(part * 100 / whole, 1) if whole else None


def make_heading(
    county: str, unit: str | None, period: Period, computed_at: dt.datetime
) -> dict[str, str]:
    """The title block of a question: whose figures, over which days, computed when."""
    since = period.since.isoformat() if period.since else "有记录以来"
    return {
        "county": county,
        "unit": unit or "全县（区）",
        "period": f"{since} 至 {period.as_of.isoformat()}",
        "computed_at": computed_at.astimezone(clock.ZONE).strftime("%Y-%m-%d %H:%M"),
    }


def report_period(year: int, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The days of academic year `year` that a report can count: 1 September `year` to
    31 August `year + 1`, or to today while the year runs."""
    today = today or clock.today()
    return dt.date(year, 9, 1), min(dt.date(year + 1, 8, 31), today)


# --- the figures as rows ---------------------------------------------------------------------

Value = int | float | None


@dataclass(frozen=True)
class Line:
    label: str
    value: Value
    unit: str = ""
    basis: str = STOCK
    """How the number was counted: at the end of the period, over it, or a ratio."""


def _count(counter: Mapping[Any, int], key: Any) -> int:
    return int(counter.get(key, 0))


def summary_lines(f: Figures) -> list[Line]:
    """The key figures of a question (the 概况 sheet)."""
    current, status = f.current_pupils, f.pupils_by_status()
    unit_kind = LABELS["unit_kind"]
    return [
        Line("在册队员", current, "人"),
        Line("其中：少先队员", _count(status, "member"), "人"),
        Line("其中：预备队员", _count(status, "pre_member"), "人"),
        Line("家长注册数", f.guardians, "人"),
        Line("绑定队员数", f.pupils_bound, "人"),
        Line("绑定率（进站率）", percent(f.pupils_bound, current), "%", RATIO),
        *(Line(unit_kind[k], _count(f.units, k), "个") for k in ("brigade", "squadron", "team")),
        Line("辅导员", sum(f.counselors.values()), "人"),
        Line("活动场次", f.activities, "场", FLOW),
        Line("服务人数", f.served_pupils, "人", FLOW),
        Line("服务人次", f.served_person_times, "人次", FLOW),
        Line("活动覆盖率（服务人数 ÷ 在册队员）", percent(f.served_pupils, current), "%", RATIO),
        Line("颁发奖章", sum(f.badges.values()), "枚", FLOW),
        Line("积分发放", f.points_issued, "分", FLOW),
        Line("积分消费", f.points_spent, "分", FLOW),
        Line("积分到期", f.points_expired, "分", FLOW),
        Line("积分冻结（报名占用）", f.points_held, "分"),
        Line("兑换次数", f.redemptions, "次", FLOW),
        Line("兑换已核销", f.redemptions_verified, "次", FLOW),
        Line("征集完成", sum(f.tasks_completed.values()), "项", FLOW),
        *pairing_lines(f),
    ]


def pairing_lines(f: Figures) -> list[Line]:
    return [
        Line("学校", f.schools, "所"),
        Line("结对学校", f.schools_paired, "所"),
        Line("学校结对覆盖率", percent(f.schools_paired, f.schools), "%", RATIO),
        Line("农村学校", f.rural_schools, "所"),
        Line("结对的农村学校", f.rural_paired, "所"),
        Line("农村学校结对覆盖率", percent(f.rural_paired, f.rural_schools), "%", RATIO),
        Line("新居民子女学校", f.migrant_schools, "所"),
        Line("结对的新居民子女学校", f.migrant_paired, "所"),
        Line("手拉手结对队员", f.pupils_in_pairs, "人"),
    ]


def _ordered(known: Iterable[str], found: Iterable[str]) -> list[str]:
    """The known keys in their order, then any others found (sorted)."""
    order = list(known)
    return order + sorted(set(found) - set(order))


def pupil_grid(f: Figures) -> tuple[list[str], list[int], dict[tuple[str, int], int]]:
    """Statuses (rows) and grades (columns) of the pupils' grid; erased rows only if any."""
    statuses = [
        s
        for s in _ordered(LABELS["pupil_status"], (s for s, _ in f.pupils))
        if s != "erased" or any(st == s for st, _ in f.pupils)
    ]
    grades = sorted(set(GRADES) | {g for _, g in f.pupils})
    return statuses, grades, dict(f.pupils)


def badge_grid(f: Figures) -> tuple[list[str], list[int]]:
    return (
        _ordered(LABELS["badge_level"], (lv for lv, _ in f.badges)),
        sorted({y for _, y in f.badges}),
    )


def badges_by_level(f: Figures) -> dict[str, int]:
    levels, _ = badge_grid(f)
    return {lv: sum(n for (level, _), n in f.badges.items() if level == lv) for lv in levels}


def township_rows(
    f: Figures, names: Mapping[int, str] | None
) -> list[tuple[str, int, int, int, float | None]]:
    """(name, pupils served, person-times, current pupils at the end, coverage %) per
    township."""
    names = names or {}
    return [
        (
            names.get(t.unit_id, f"单位 {t.unit_id}"),
            t.pupils,
            t.person_times,
            t.current_pupils,
            percent(t.pupils, t.current_pupils),
        )
        for t in f.served_by_township
    ]


# --- workbooks --------------------------------------------------------------------------------


class _Book:
    """An xlsxwriter workbook in memory with the formats every sheet uses."""

    def __init__(self) -> None:
        self.out = io.BytesIO()
        self.book = xlsxwriter.Workbook(
            self.out,
            {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False},
        )
        add = self.book.add_format
        self.title = add({"bold": True, "font_size": 14, "font_color": "#B3141C"})
        self.key = add({"bold": True, "font_color": "#666666"})
        self.header = add({"bold": True, "bg_color": "#F4E1E1", "border": 1, "align": "center"})
        self.section = add({"bold": True, "font_size": 12, "bottom": 1})
        self.text = add({"border": 1})
        self.bold_text = add({"border": 1, "bold": True})
        self.number = add({"border": 1, "num_format": "#,##0"})
        self.bold_number = add({"border": 1, "bold": True, "num_format": "#,##0"})
        self.ratio = add({"border": 1, "num_format": "0.0"})

    def sheet(self, name: str, title: str, heading: Mapping[str, str]) -> tuple[Worksheet, int]:
        """A sheet on A4 with its title and the heading's block; the next free row."""
        sheet = self.book.add_worksheet(name)
        sheet.set_paper(9)
        sheet.fit_to_pages(1, 0)
        sheet.set_header("&C" + _header_text(f"{heading.get('county', '')} {title}"))
        sheet.set_footer("&C第 &P 页，共 &N 页")
        sheet.write_string(0, 0, title, self.title)
        row = 1
        for key, text in HEADING_LABELS.items():
            if key in heading:
                sheet.write_string(row, 0, text, self.key)
                sheet.write_string(row, 1, heading[key])
                row += 1
        return sheet, row + 1

    def value(
        self, sheet: Worksheet, row: int, col: int, value: Value, *, bold: bool = False
    ) -> None:
        """A number as a number (a ratio to one decimal); nothing for a ratio of nothing."""
        if value is None:
            sheet.write_blank(row, col, None, self.text)
        elif isinstance(value, float):
            sheet.write_number(row, col, value, self.ratio)
        else:
            sheet.write_number(row, col, value, self.bold_number if bold else self.number)

    def headers(self, sheet: Worksheet, row: int, headers: Sequence[str]) -> int:
        for col, text in enumerate(headers):
            sheet.write_string(row, col, text, self.header)
        return row + 1

    def table(
        self,
        sheet: Worksheet,
        row: int,
        headers: Sequence[str],
        rows: Iterable[Sequence[Any]],
        *,
        bold_last: bool = False,
    ) -> int:
        """Headers and rows (first column text, the rest numbers); the next free row."""
        row = self.headers(sheet, row, headers)
        body = list(rows)
        for n, (first, *values) in enumerate(body):
            bold = bold_last and n == len(body) - 1
            sheet.write_string(row, 0, str(first), self.bold_text if bold else self.text)
            for col, value in enumerate(values, start=1):
                if isinstance(value, str):
                    sheet.write_string(row, col, value, self.text)
                else:
                    self.value(sheet, row, col, value, bold=bold)
            row += 1
        return row

    def close(self) -> bytes:
        self.book.close()
        return self.out.getvalue()


def _header_text(text: str) -> str:
    """Text for a printed page header: `&` starts a control code there."""
    return text[:100].replace("&", "&&")


def statistics_xlsx(
    figures: Figures,
    heading: Mapping[str, str],
    township_names: Mapping[int, str] | None = None,
    counties: Sequence[tuple[str, str, Figures]] = (),
) -> bytes:
    """A question's figures as a workbook: the key figures (概况), then a sheet per breakdown.
    `township_names` names the townships of `figures.served_by_township` (by unit id); a
    region's workbook has `counties` (code, name, figures), one row each on a sheet of its own."""
    out = _Book()
    _summary_sheet(out, figures, heading)
    if counties:
        _counties_sheet(out, heading, counties)
    _kinds_sheet(
        out,
        heading,
        "组织",
        "组织：单位数（期末）",
        ("单位类别", "数量"),
        "unit_kind",
        figures.units,
        total=False,
    )
    _kinds_sheet(
        out,
        heading,
        "辅导员",
        "辅导员：在任人数（期末）",
        ("辅导员类别", "人数"),
        "counselor_kind",
        figures.counselors,
    )
    _pupils_sheet(out, figures, heading)
    _badges_sheet(out, figures, heading)
    _activities_sheet(out, figures, heading, township_names)
    _kinds_sheet(
        out,
        heading,
        "征集",
        "征集任务：完成数（时段内）",
        ("任务类别", "完成数"),
        "task_kind",
        figures.tasks_completed,
    )
    return out.close()


def _counties_sheet(
    out: _Book, heading: Mapping[str, str], counties: Sequence[tuple[str, str, Figures]]
) -> None:
    """A region's counties side by side: the key figures of each, one row per county."""
    sheet, row = out.sheet("各县", "各县（区）主要指标", heading)
    labels = [f"{line.label}（{line.unit}）" if line.unit else line.label
              for line in summary_lines(counties[0][2])]  # fmt: skip
    rows = [(name, code, *[line.value for line in summary_lines(f)]) for code, name, f in counties]
    out.table(sheet, row, ["县（区）", "代码", *labels], rows)
    sheet.set_column(0, 0, 18)
    sheet.set_column(1, len(labels) + 1, 12)
    sheet.freeze_panes(row + 1, 1)


def _summary_sheet(out: _Book, f: Figures, heading: Mapping[str, str]) -> None:
    sheet, row = out.sheet("概况", "少先队工作统计", heading)
    lines = ((x.label, x.value, x.unit, x.basis) for x in summary_lines(f))
    out.table(sheet, row, ("指标", "数值", "单位", "口径"), lines)
    sheet.set_column(0, 0, 34)
    sheet.set_column(1, 1, 22)
    sheet.set_column(2, 3, 12)


def _kinds_sheet(
    out: _Book,
    heading: Mapping[str, str],
    name: str,
    title: str,
    headers: tuple[str, str],
    kind: str,
    counts: Mapping[str, int],
    *,
    total: bool = True,
) -> None:
    """A count per kind (every known kind, zeros too), and their total."""
    sheet, row = out.sheet(name, title, heading)
    lines: list[tuple[Any, ...]] = [
        (label(kind, k), _count(counts, k)) for k in _ordered(LABELS[kind], counts)
    ]
    if total:
        lines.append(("合计", sum(counts.values())))
    out.table(sheet, row, headers, lines, bold_last=total)
    sheet.set_column(0, 0, 20)
    sheet.set_column(1, 1, 12)


def _pupils_sheet(out: _Book, f: Figures, heading: Mapping[str, str]) -> None:
    """Pupils by status (rows) and grade (columns), with the current pupils' and all totals."""
    sheet, row = out.sheet("队员", "队员：按状态和年级（期末）", heading)
    statuses, grades, cells = pupil_grid(f)
    grid: list[tuple[Any, ...]] = []
    for status in statuses:
        line = [cells.get((status, g), 0) for g in grades]
        grid.append((label("pupil_status", status), *line, sum(line)))
    current = [sum(cells.get((s, g), 0) for s in CURRENT_STATUSES) for g in grades]
    grid.append(("在册合计", *current, sum(current)))
    every = [sum(cells.get((s, g), 0) for s in statuses) for g in grades]
    grid.append(("合计", *every, sum(every)))
    sheet.freeze_panes(row + 1, 1)
    out.table(sheet, row, ("状态", *(grade_label(g) for g in grades), "合计"), grid, bold_last=True)
    sheet.set_column(0, 0, 14)
    sheet.set_column(1, len(grades) + 1, 9)


def _badges_sheet(out: _Book, f: Figures, heading: Mapping[str, str]) -> None:
    """Badges awarded by level (rows) and academic year (columns), with totals."""
    sheet, row = out.sheet("奖章", "奖章：按等级和学年（时段内颁发）", heading)
    levels, years = badge_grid(f)
    grid: list[tuple[Any, ...]] = []
    for level in levels:
        line = [_count(f.badges, (level, y)) for y in years]
        grid.append((label("badge_level", level), *line, sum(line)))
    totals = [sum(_count(f.badges, (lv, y)) for lv in levels) for y in years]
    grid.append(("合计", *totals, sum(totals)))
    sheet.freeze_panes(row + 1, 1)
    out.table(sheet, row, ("等级", *(year_label(y) for y in years), "合计"), grid, bold_last=True)
    sheet.set_column(0, 0, 14)
    sheet.set_column(1, len(years) + 1, 16)


def _activities_sheet(
    out: _Book, f: Figures, heading: Mapping[str, str], names: Mapping[int, str] | None
) -> None:
    """Activities and pupils served, then served by urban/rural and by township."""
    sheet, row = out.sheet("活动", "活动与服务（时段内）", heading)
    totals = (
        ("活动场次", f.activities),
        ("服务人数", f.served_pupils),
        ("服务人次", f.served_person_times),
    )
    row = out.table(sheet, row, ("指标", "数值"), totals)
    areas = _ordered(("urban", "rural"), f.served_by_area)
    by_area = [(label("area", a), *f.served_by_area.get(a, (0, 0))) for a in areas]
    row = out.table(sheet, row + 1, ("城乡", "服务人数", "服务人次"), by_area)
    headers = (
        "乡镇（街道）/直属学校",
        "服务人数",
        "服务人次",
        "期末在册队员",
        "覆盖率（%）",
    )
    out.table(sheet, row + 1, headers, township_rows(f, names))
    sheet.set_column(0, 0, 26)
    sheet.set_column(1, 3, 14)
    sheet.set_column(4, 4, 24)


# --- the yearly report --------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    title: str
    lines: list[Line]


HEADLINE = ("注册数", "绑定数", "进站率", "活动场次", "服务人数")
"""The numbers the counties' documents lead with (seed 000), on top of the report."""


def report_title(heading: Mapping[str, str], year: int) -> str:
    return f"{heading.get('county', '')}少先队工作年度报告（{year_label(year)}）"


def report_sections(f: Figures) -> list[Section]:
    """The yearly report's figures, section by section."""
    current, kinds = f.current_pupils, LABELS["unit_kind"]
    by_level = badges_by_level(f)
    return [
        Section(
            "平台注册与绑定",
            [
                Line("注册数", f.guardians, "人"),
                Line("绑定数", f.pupils_bound, "人"),
                Line("在册队员", current, "人"),
                Line("进站率", percent(f.pupils_bound, current), "%", RATIO),
            ],
        ),
        Section(
            "活动开展",
            [
                Line("活动场次", f.activities, "场", FLOW),
                Line("服务人数", f.served_pupils, "人", FLOW),
                Line("服务人次", f.served_person_times, "人次", FLOW),
                *(
                    Line(
                        f"服务人数（{label('area', a)}学校）",
                        f.served_by_area.get(a, (0, 0))[0],
                        "人",
                        FLOW,
                    )
                    for a in ("urban", "rural")
                ),
            ],
        ),
        Section(
            "组织建设",
            [
                Line(f"{kinds['township']}少工委", _count(f.units, "township"), "个"),
                Line("社区少工委", _count(f.units, "community"), "个"),
                Line("大队", _count(f.units, "brigade"), "个"),
                Line("中队", _count(f.units, "squadron"), "个"),
                Line("小队", _count(f.units, "team"), "个"),
            ],
        ),
        Section(
            "辅导员队伍",
            [
                Line(name, _count(f.counselors, kind), "名")
                for kind, name in LABELS["counselor_kind"].items()
            ],
        ),
        Section(
            "红领巾奖章（学年内颁发）",
            [
                *(Line(label("badge_level", lv), n, "枚", FLOW) for lv, n in by_level.items()),
                Line("合计", sum(by_level.values()), "枚", FLOW),
            ],
        ),
        Section(
            "积分与兑换",
            [
                Line("积分发放", f.points_issued, "分", FLOW),
                Line("积分消费", f.points_spent, "分", FLOW),
                Line("兑换次数", f.redemptions, "次", FLOW),
                Line("兑换已核销", f.redemptions_verified, "次", FLOW),
            ],
        ),
        Section(
            "征集任务（完成）",
            [
                *(
                    Line(name, _count(f.tasks_completed, kind), "项", FLOW)
                    for kind, name in LABELS["task_kind"].items()
                ),
                Line("合计", sum(f.tasks_completed.values()), "项", FLOW),
            ],
        ),
        Section("结对共建", pairing_lines(f)),
    ]


def headline(f: Figures) -> list[Line]:
    found = {x.label: x for s in report_sections(f) for x in s.lines}
    return [found[name] for name in HEADLINE]


def yearly_report(
    figures: Figures,
    heading: Mapping[str, str],
    year: int,
    township_names: Mapping[int, str] | None = None,
) -> bytes:
    """The county's yearly report for academic year `year` as a workbook of one sheet, laid
    out to print on A4: the sections, then the pupils served by township."""
    out = _Book()
    sheet, row = out.sheet("年度报告", report_title(heading, year), heading)
    for section in report_sections(figures):
        sheet.write_string(row, 0, section.title, out.section)
        lines = ((x.label, x.value, x.unit) for x in section.lines)
        row = out.table(sheet, row + 1, ("指标", "数值", "单位"), lines) + 1
    sheet.write_string(row, 0, "各乡镇（街道）服务情况", out.section)
    rows = [
        (name, pupils, times)
        for name, pupils, times, _, _ in township_rows(figures, township_names)
    ]
    out.table(sheet, row + 1, ("乡镇（街道）/直属学校", "服务人数", "服务人次"), rows)
    sheet.set_column(0, 0, 30)
    sheet.set_column(1, 1, 22)
    sheet.set_column(2, 2, 10)
    return out.close()


def _number(value: Value) -> str:
    if value is None:
        return "—"
    return f"{value:.1f}" if isinstance(value, float) else str(value)


def yearly_report_html(
    figures: Figures,
    heading: Mapping[str, str],
    year: int,
    township_names: Mapping[int, str] | None = None,
) -> str:
    """The county's yearly report as one printable page (A4, no script, nothing fetched)."""
    e = html.escape
    title = report_title(heading, year)
    facts = "".join(
        f"<div><dt>{e(text)}</dt><dd>{e(heading[key])}</dd></div>"
        for key, text in HEADING_LABELS.items()
        if key in heading
    )
    cards = "".join(
        f'<div class="kpi"><b>{e(_number(x.value))}</b><small>{e(x.unit)}</small>'
        f"<span>{e(x.label)}</span></div>"
        for x in headline(figures)
    )
    sections = "".join(
        f"<section><h2>{e(s.title)}</h2><table><tbody>"
        + "".join(
            f'<tr><th>{e(x.label)}</th><td class="n">{e(_number(x.value))}</td>'
            f"<td>{e(x.unit)}</td></tr>"
            for x in s.lines
        )
        + "</tbody></table></section>"
        for s in report_sections(figures)
    )
    towns = (
        "".join(
            f'<tr><td>{e(name)}</td><td class="n">{pupils}</td><td class="n">{times}</td></tr>'
            for name, pupils, times, _, _ in township_rows(figures, township_names)
        )
        or '<tr><td colspan="3">本学年暂无活动服务记录</td></tr>'
    )
    return REPORT_PAGE.format(
        title=e(title), facts=facts, cards=cards, sections=sections, towns=towns
    )


REPORT_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
  @page {{ size: A4; margin: 16mm 15mm; }}
  body {{ font-family: "Noto Serif CJK SC", "Songti SC", SimSun, serif; color: #222;
         margin: 0 auto; padding: 8mm; max-width: 180mm; }}
  h1 {{ text-align: center; font-size: 19pt; letter-spacing: .1em; color: #b3141c; margin: 0 0 4mm; }}
  h2 {{ font-size: 12.5pt; color: #b3141c; border-bottom: 1.5px solid #b3141c;
        padding-bottom: 1mm; margin: 6mm 0 2mm; }}
  dl {{ display: grid; grid-template-columns: repeat(2, 1fr); gap: 1mm 8mm; margin: 0 0 5mm;
        font-size: 10pt; }}
  dl div {{ display: flex; gap: 3mm; border-bottom: 1px solid #ccc; }}
  dt {{ color: #666; }} dd {{ margin: 0; }}
  .kpis {{ display: grid; grid-template-columns: repeat(5, 1fr); gap: 3mm; margin: 4mm 0; }}
  .kpi {{ border: 1px solid #d9a3a6; border-radius: 2mm; padding: 3mm 2mm; text-align: center; }}
  .kpi b {{ font-size: 17pt; color: #b3141c; }} .kpi small {{ margin-left: 1mm; color: #666; }}
  .kpi span {{ display: block; font-size: 10pt; color: #444; margin-top: 1mm; }}
  .columns {{ columns: 2; column-gap: 8mm; }}
  section {{ break-inside: avoid; }}
  table {{ width: 100%; border-collapse: collapse; font-size: 10.5pt; }}
  th, td {{ border: 1px solid #999; padding: 1.2mm 2mm; text-align: left; }}
  th {{ font-weight: normal; background: #f8eded; }}
  thead th {{ font-weight: bold; background: #f4e1e1; }}
  td.n {{ text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }}
  tr {{ break-inside: avoid; }} thead {{ display: table-header-group; }}
  footer {{ margin-top: 8mm; font-size: 9pt; color: #666; }}
  @media print {{
    body {{ padding: 0; max-width: none; }}
    .kpi {{ border-color: #999; }}
    a {{ color: inherit; text-decoration: none; }}
  }}
</style></head>
<body>
<header><h1>{title}</h1><dl>{facts}</dl></header>
<div class="kpis">{cards}</div>
<div class="columns">{sections}</div>
<section><h2>各乡镇（街道）服务情况</h2>
<table><thead><tr><th>乡镇（街道）/直属学校</th><th>服务人数</th><th>服务人次</th></tr></thead>
<tbody>{towns}</tbody></table></section>
<footer>本报告由县（区）少工委平台根据系统记录生成。注册数、绑定数、组织、辅导员和结对为统计截止日的时点数；
活动、奖章、积分、兑换和征集为学年内（统计时段内）的累计数；进站率 = 绑定数 ÷ 在册队员。</footer>
</body></html>"""
