"""The pupils' roster as a spreadsheet: one sheet, Chinese headers, the same columns in the
template, the export and the import, so an export can be imported again unchanged."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import xlsxwriter

SHEET = "队员"


@dataclass(frozen=True)
class Column:
    header: str
    width: int
    note: str
    choices: tuple[str, ...] = ()


PUPIL_COLUMNS: tuple[Column, ...] = (
    Column("学校", 22, "学校（大队）全称，须已在平台中登记"),
    Column("中队", 14, "中队名称，如 三（1）中队"),
    Column("小队", 12, "可不填"),
    Column("姓名", 12, "可含间隔号，如 阿卜杜·热合曼"),
    Column("性别", 6, "男 或 女；填了身份证号码可不填", ("男", "女")),
    Column("出生日期", 12, "如 2016-07-21；填了身份证号码可不填"),
    Column("身份证号码", 22, "18 位，最后一位可为 X"),
    Column("状态", 10, "少先队员 或 预备队员", ("少先队员", "预备队员")),
    Column("入队日期", 12, "如 2023-10-13"),
    Column("入队批次", 16, "如 2023年秋季第一批"),
)
HEADERS = tuple(c.header for c in PUPIL_COLUMNS)
GENDERS = {"male": "男", "female": "女"}
STATUSES = {"member": "少先队员", "pre_member": "预备队员", "left": "已离队",
            "joined_league": "已离队入团", "transferred": "已转出"}  # fmt: skip

Row = Sequence[str | dt.date | None]


def workbook(rows: Iterable[Row], *, example: bool = False) -> bytes:
    """The sheet with its headers (a note on each), rows below; `example` adds one sample."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False})
    sheet = book.add_worksheet(SHEET)
    header = book.add_format({"bold": True, "bg_color": "#F4CCCC", "border": 1})
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    text = book.add_format({"num_format": "@"})  # ID numbers stay text, never 4.69E+17
    for col, column in enumerate(PUPIL_COLUMNS):
        sheet.write_string(0, col, column.header, header)
        sheet.write_comment(0, col, column.note)
        sheet.set_column(col, col, column.width, text if column.header == "身份证号码" else None)
        if column.choices:
            sheet.data_validation(
                1, col, 100_000, col, {"validate": "list", "source": list(column.choices)}
            )
    sheet.freeze_panes(1, 0)
    if example:
        rows = [
            (
                "城关第一小学",
                "三（1）中队",
                "第一小队",
                "王小红",
                "女",
                dt.date(2016, 7, 21),
                "",
                "少先队员",
                dt.date(2023, 10, 13),
                "2023年秋季第一批",
            )
        ]
    for r, values in enumerate(rows, start=1):
        for col, value in enumerate(values):
            if isinstance(value, dt.date):
                sheet.write_datetime(r, col, dt.datetime(value.year, value.month, value.day), day)
            elif value:
                sheet.write_string(r, col, str(value))
    book.close()
    return out.getvalue()
