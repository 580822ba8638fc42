"""Reading a roster spreadsheet as people fill it in.

What schools send is not what a template promises: a title row above the headers, a school
name merged down forty rows, a notes sheet, full-width digits, dates typed as text, ID numbers
that Excel turned into 4.69E+17. This module reads all of that into plain rows and says what
it could not read, row by row, so that the import can check every row and report them all.

File-level problems (not an xlsx file, empty, too many rows, no sheet with the headers) raise
`UnreadableFile` with a code and a Chinese message.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils import range_boundaries
from openpyxl.utils.exceptions import InvalidFileException

from redscarf.errors import InvalidInput

HEADER_SEARCH_ROWS = 10  # the headers may sit below a title row or two
ERROR_HEADER = "错误说明"  # the column the error report adds; ignored when read back
Value = str | dt.date | None


class UnreadableFile(InvalidInput):
    code = "UNREADABLE_FILE"
    message = "无法读取这个文件"


def key(text: str) -> str:
    """How names are compared: full-width folded, spaces dropped, case ignored
    (三（1）中队 = 三(1)中队 = 三 (1) 中队)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).casefold()


def check_container(content: bytes) -> None:
    """The cheap checks made at upload: empty, the old .xls format, not a zip at all."""
    if not content:
        raise UnreadableFile("文件是空的", code="EMPTY_FILE")
    if content.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnreadableFile(
            "这是旧版 Excel（.xls）文件，请在 Excel 或 WPS 中另存为 .xlsx 后再上传",
            code="NOT_XLSX",
        )
    if not content.startswith(b"PK\x03\x04"):
        raise UnreadableFile(
            "这不是 Excel 表格（.xlsx）文件，请下载模板填写后上传", code="NOT_XLSX"
        )


@dataclass
class SheetRow:
    sheet: str
    number: int
    """The row's number as Excel shows it."""
    cells: tuple[Any, ...]
    """The row as read, in the order of its sheet's headers (the report writes these back)."""
    values: dict[str, Value]
    """Known columns only, text stripped; empty cells are None."""
    problems: list[tuple[str, str]] = field(default_factory=list)
    """(header, message) of cells that could not be read (formulas, numbers for text)."""

    @property
    def empty(self) -> bool:
        return all(v is None for v in self.values.values()) and not self.problems


@dataclass
class Sheet:
    name: str
    headers: list[str]
    rows: list[SheetRow]


@dataclass
class Book:
    sheets: list[Sheet]
    notes: list[str]

    @property
    def rows(self) -> Iterator[SheetRow]:
        for sheet in self.sheets:
            yield from sheet.rows


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _merged_ranges(worksheet: Any) -> list[tuple[int, int, int, int]]:
    """(min_col, min_row, max_col, max_row) of each merged range (read-only sheets keep
    them only in their XML)."""
    with worksheet._get_source() as source:
        xml = source.read()
    refs = re.findall(rb'<(?:\w+:)?mergeCell ref="([A-Z]+[0-9]+:[A-Z]+[0-9]+)"', xml)
    return [range_boundaries(ref.decode()) for ref in refs]


def _header_row(rows: list[tuple[Any, ...]], required: Sequence[str]) -> int | None:
    for index, row in enumerate(rows):
        found = {key(_text(c.value)) for c in row if c is not None}
        if all(key(h) in found for h in required):
            return index
    return None


def _cell(header: str, cell: Any, date_headers: frozenset[str]) -> tuple[Value, str | None]:
    """A cell's value and, if it cannot be read, why."""
    if cell is None or cell.value is None:
        return None, None
    value = cell.value
    if cell.data_type == "f":
        return None, "是公式，请复制后“选择性粘贴为数值”"
    if isinstance(value, dt.datetime):
        return value.date(), None
    if isinstance(value, dt.date):
        return value, None
    if isinstance(value, bool):
        return str(value), None
    if isinstance(value, int | float):
        if header in date_headers:
            return str(int(value)) if float(value).is_integer() else str(value), None
        if isinstance(value, float) and abs(value) >= 1e15:
            return None, "被 Excel 存成了数字，末几位已丢失；请把该列设为“文本”后重新填写"
        return str(int(value)) if float(value).is_integer() else str(value), None
    text = _text(value)
    return (text or None), None


def read_book(
    content: bytes,
    headers: Sequence[str],
    *,
    required: Sequence[str],
    date_headers: Sequence[str] = (),
    max_rows: int,
    on_progress: Callable[[int], None] | None = None,
) -> Book:
    """Every sheet that has the `required` headers (in its first rows), read into rows."""
    check_container(content)
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise UnreadableFile(
            "文件已损坏或不是 Excel 表格（.xlsx），请用 Excel 或 WPS 打开后另存为 .xlsx",
            code="NOT_XLSX",
        ) from exc
    wanted = {key(h): h for h in headers}
    dates = frozenset(date_headers)
    sheets: list[Sheet] = []
    notes: list[str] = []
    total = 0
    try:
        for worksheet in book.worksheets:
            sheet = _read_sheet(worksheet, wanted, required, dates, max_rows - total, on_progress)
            if sheet is None:
                notes.append(
                    f"工作表「{worksheet.title}」没有表头（{'、'.join(required)}），已忽略"
                )
                continue
            total += len(sheet.rows)
            sheets.append(sheet)
    finally:
        book.close()
    if not sheets:
        raise UnreadableFile(
            f"文件中没有含表头（{'、'.join(required)}）的工作表，请使用模板", code="NO_HEADERS"
        )
    if total == 0:
        raise UnreadableFile("表格中没有数据行", code="EMPTY_FILE")
    return Book(sheets, notes)


def _read_sheet(
    worksheet: Any,
    wanted: dict[str, str],
    required: Sequence[str],
    dates: frozenset[str],
    room: int,
    on_progress: Callable[[int], None] | None,
) -> Sheet | None:
    rows = worksheet.iter_rows(min_row=1)
    top = [row for _, row in zip(range(HEADER_SEARCH_ROWS), rows, strict=False)]
    found = _header_row(top, required)
    if found is None:
        return None
    names = [_text(c.value) if c is not None else "" for c in top[found]]
    columns = {i: wanted[key(n)] for i, n in enumerate(names) if key(n) in wanted}
    keep = [i for i, n in enumerate(names) if n and key(n) != key(ERROR_HEADER)]
    merged = [
        r for r in _merged_ranges(worksheet) if r[3] > r[1] and r[1] > found + 1
    ]  # ranges spanning rows of data: their value belongs to every row they cover
    fill: dict[tuple[int, int], Any] = {}
    sheet = Sheet(worksheet.title, [names[i] for i in keep], [])
    for number, row in enumerate(_chain(top[found + 1 :], rows), start=found + 2):
        cells = list(row)
        if all(c is None or c.value is None for c in cells):
            continue  # a blank row (merged values alone do not make a row)
        for min_col, min_row, max_col, max_row in merged:
            if min_row <= number <= max_row:
                for col in range(min_col, max_col + 1):
                    index = col - 1
                    if number == min_row and index < len(cells):
                        fill[(min_row, col)] = cells[index]
                    elif index < len(cells) and (min_row, col) in fill:
                        cells[index] = fill[(min_row, col)]
        parsed = SheetRow(worksheet.title, number, (), {})
        for index, header in columns.items():
            cell = cells[index] if index < len(cells) else None
            value, problem = _cell(header, cell, dates)
            parsed.values[header] = value
            if problem:
                parsed.problems.append((header, f"「{header}」{problem}"))
        if parsed.empty:
            continue
        parsed.cells = tuple(
            (cells[i].value if i < len(cells) and cells[i] is not None else None) for i in keep
        )
        if len(sheet.rows) >= room:
            raise UnreadableFile(
                f"表格超过 {len(sheet.rows)} 行，请拆分成几个文件分别导入", code="TOO_MANY_ROWS"
            )
        sheet.rows.append(parsed)
        if on_progress and len(sheet.rows) % 1000 == 0:
            on_progress(len(sheet.rows))
    return sheet


def _chain(first: list[Any], rest: Iterator[Any]) -> Iterator[Any]:
    yield from first
    yield from rest


_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


def parse_date(raw: Value, header: str) -> dt.date | None:
    """A date cell or text such as 2016-07-21, 2016/7/21, 2016.7.21, 2016年7月21日, 20160721."""
    if raw is None or isinstance(raw, dt.date):
        return raw
    text = unicodedata.normalize("NFKC", raw).strip()
    match = _DATE.match(text)
    if match is None and re.fullmatch(r"\d{8}", text):
        match = re.match(r"(\d{4})(\d{2})(\d{2})", text)
    if match is None:
        raise InvalidInput(f"「{header}」{raw} 不是日期，请写成 2016-07-21", code="INVALID_DATE")
    try:
        return dt.date(*(int(g) for g in match.groups()))
    except ValueError:
        raise InvalidInput(f"「{header}」{raw} 这一天不存在", code="INVALID_DATE") from None


def error_report(book: Book, errors: dict[tuple[str, int], list[str]]) -> bytes:
    """The sheets as read, each with an error column (`ERROR_HEADER`, ignored when the report
    is imported again) and its rows in error marked: fix them in place and upload it again."""
    import xlsxwriter

    out = io.BytesIO()
    workbook = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False})
    header = workbook.add_format({"bold": True, "bg_color": "#F4CCCC", "border": 1})
    bad = workbook.add_format({"bg_color": "#FCE4E4"})
    message = workbook.add_format({"bg_color": "#FCE4E4", "font_color": "#9C0006"})
    day = workbook.add_format({"num_format": "yyyy-mm-dd"})
    bad_day = workbook.add_format({"num_format": "yyyy-mm-dd", "bg_color": "#FCE4E4"})
    for sheet in book.sheets:
        out_sheet = workbook.add_worksheet(sheet.name[:31])
        headers = [*sheet.headers, ERROR_HEADER]
        for col, name in enumerate(headers):
            out_sheet.write_string(0, col, name, header)
            out_sheet.set_column(col, col, 40 if name == ERROR_HEADER else 16)
        out_sheet.freeze_panes(1, 0)
        for r, row in enumerate(sheet.rows, start=1):
            found = errors.get((sheet.name, row.number))
            for col, value in enumerate(row.cells):
                if isinstance(value, dt.datetime | dt.date):
                    as_dt = (
                        value
                        if isinstance(value, dt.datetime)
                        else dt.datetime(value.year, value.month, value.day)
                    )
                    out_sheet.write_datetime(r, col, as_dt, bad_day if found else day)
                elif value is not None:
                    out_sheet.write_string(r, col, str(value), bad if found else None)
                elif found:
                    out_sheet.write_blank(r, col, None, bad)
            if found:
                out_sheet.write_string(r, len(sheet.headers), "；".join(found), message)
    workbook.close()
    return out.getvalue()


def _folded(text: str) -> str:
    return re.sub(r"[·•‧∙・･.．]", "·", unicodedata.normalize("NFKC", text)).casefold()


def mentions(content: bytes, needles: Sequence[str]) -> bool:
    """Whether a zipped file's text (an xlsx file's XML, an export's HTML and JSON) holds any of
    `needles`, compared as names are (full-width folded, middle dots made one; exports write
    JSON unescaped). A file that cannot be read counts as mentioning them."""
    wanted = [_folded(n) for n in needles if n]
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            for name in archive.namelist():
                if name.endswith((".xml", ".html", ".json")):
                    text = _folded(archive.read(name).decode("utf-8", errors="replace"))
                    if any(n in text for n in wanted):
                        return True
    except (zipfile.BadZipFile, OSError, ValueError):
        return True
    return False
