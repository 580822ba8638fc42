"""Statistics as files over plain HTTP (a browser saves them; a county office prints them),
with the same credentials and `X-County` as the GraphQL API.

- `GET /exports/statistics.xlsx?unit=<unit ID>&from=YYYY-MM-DD&asOf=YYYY-MM-DD`: the figures
  of a unit (the whole county without one) as a workbook: stocks as of the end of `asOf`
  (today by default), flows from `from` (from the beginning by default).
- `GET /exports/report.{xlsx,html}?year=2025`: the county's yearly report (年度报告) for the
  academic year starting in September `year`, up to 31 August or today; the HTML page
  prints on A4.

- `GET /exports/region-statistics.xlsx?code=33`: a province's (or prefecture's) rollup, with a
  sheet of its counties side by side, for the region's admins and the operator.

Who may read the statistics at the unit (the county root, for the report) gets the file;
`resolvers.stats.ask` decides, validates the period and computes.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from domain import clock
from domain.stats.export import (
    make_heading,
    report_period,
    statistics_xlsx,
    year_label,
    yearly_report,
    yearly_report_html,
)
from domain.stats.figures import Figures, Period
from redscarf.downloads import error_response, xlsx_response
from redscarf.errors import InvalidInput, NotFound, RedscarfError
from resolvers.stats import Question, ask, ask_region
from schema.context import Context
from schema.ids import InvalidId, decode_global_id

REPORT_FORMATS = ("xlsx", "html")
DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
YEAR = re.compile(r"[0-9]{4}")
# The page carries its own style and nothing else: a browser runs and fetches nothing of it.
PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


def _date(value: str | None, name: str) -> dt.date | None:
    """A day from the query string (`YYYY-MM-DD`), or None when not given."""
    if value is None or value == "":
        return None
    try:
        if not DAY.fullmatch(value):
            raise ValueError(value)
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            f"参数 {name} 不是有效日期（应为 YYYY-MM-DD）：{value[:20]}", code="INVALID_DATE"
        ) from None


def _unit_id(value: str | None) -> str | None:
    """The unit's global ID as given; an ID that names nothing is a unit not found, as one
    of another county is (the download answers 404 either way)."""
    if not value:
        return None
    try:
        _, _, pk = decode_global_id(value)
    except InvalidId:
        pk = -1
    if not 0 < pk < 2**63:
        raise NotFound("没有这个单位", code="UNIT_NOT_FOUND")
    return value


def _year(value: str | None) -> int:
    if value is None or not YEAR.fullmatch(value) or int(value) < 1900:
        raise InvalidInput("请用参数 year 指定学年的起始年份，如 year=2025", code="INVALID_YEAR")
    return int(value)


async def _names(context: Context, unit_ids: Iterable[int]) -> dict[int, str]:
    ids = sorted(set(unit_ids))
    found = await context.org.unit.load_many(ids)
    return {pk: unit.name for pk, unit in zip(ids, found, strict=True) if unit is not None}


def _heading(question: Question) -> dict[str, str]:
    return make_heading(
        question.tenant.name,
        question.unit.name if question.unit is not None else None,
        question.period,
        question.computed_at,
    )


async def statistics_export(request: Request) -> Response:
    context = Context(request=request, response=Response(), services=request.app.state.services)
    try:
        return await _statistics(context, request)
    except RedscarfError as exc:
        return error_response(exc)


async def _statistics(context: Context, request: Request) -> Response:
    await context.user()
    params = request.query_params
    since, as_of = _date(params.get("from"), "from"), _date(params.get("asOf"), "asOf")
    question = await ask(context, _unit_id(params.get("unit")), since, as_of)
    figures = question.figures
    names = await _names(context, (t.unit_id for t in figures.served_by_township))
    content = statistics_xlsx(figures, _heading(question), names)
    unit = question.unit.name if question.unit is not None else ""
    filename = f"{question.tenant.name}{unit}统计（截至{question.period.as_of.isoformat()}）.xlsx"
    return xlsx_response(content, filename)


async def report_export(request: Request) -> Response:
    context = Context(request=request, response=Response(), services=request.app.state.services)
    try:
        return await _report(context, request.path_params["fmt"], request.query_params.get("year"))
    except RedscarfError as exc:
        return error_response(exc)


async def _report(context: Context, fmt: str, year_text: str | None) -> Response:
    await context.user()
    if fmt not in REPORT_FORMATS:
        raise NotFound("年度报告只有 xlsx、html 两种格式", code="NOT_FOUND")
    year = _year(year_text)
    if dt.date(year, 9, 1) > clock.today():
        raise InvalidInput(f"{year_label(year)}尚未开始", code="INVALID_PERIOD")
    since, as_of = report_period(year)
    question = await ask(context, None, since, as_of)
    figures = question.figures
    names = await _names(context, (t.unit_id for t in figures.served_by_township))
    heading = _heading(question)
    if fmt == "html":
        page = yearly_report_html(figures, heading, year, names)
        return HTMLResponse(page, headers={"Content-Security-Policy": PAGE_POLICY})
    filename = f"{question.tenant.name}{year_label(year)}少先队工作年度报告.xlsx"
    return xlsx_response(yearly_report(figures, heading, year, names), filename)


async def region_export(request: Request) -> Response:
    context = Context(request=request, response=Response(), services=request.app.state.services)
    try:
        return await _region(context, request.query_params.get("code") or "")
    except RedscarfError as exc:
        return error_response(exc)


async def _region(context: Context, code: str) -> Response:
    found = await ask_region(context, code)
    if found.row is None:
        raise NotFound(f"{found.name}尚无汇总统计", code="NO_SUMMARY_YET")
    counties = [(c.code, c.name, Figures.from_json(c.figures)) for c in found.counties]
    summed = f"{found.row.counties} 个县（区）汇总"
    if found.row.counties_missing or found.row.counties_onboarding:
        summed += f"（另有 {found.row.counties_missing} 个尚无数据、"
        summed += f"{found.row.counties_onboarding} 个正在开通，未计入）"
    heading = make_heading(found.name, summed, Period("c", found.as_of, found.since),
                           found.row.computed_at)  # fmt: skip
    content = statistics_xlsx(Figures.from_json(found.row.figures), heading, counties=counties)
    return xlsx_response(content, f"{found.name}统计汇总（截至{found.as_of.isoformat()}）.xlsx")
