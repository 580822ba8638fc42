"""Roster spreadsheets: one sheet each for pupils, units and counselors, with Chinese headers;
the same columns in the template, the export and the import, so an export can be imported
again unchanged."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import xlsxwriter

from domain.people.pupils import STATUS_LABELS

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

UNIT_COLUMNS: tuple[Column, ...] = (
    Column("乡镇（街道）", 16, "学校直属县（区）的可不填"),
    Column("社区", 14, "可不填"),
    Column("学校", 22, "学校（大队）全称"),
    Column("城乡", 8, "城镇 或 农村；不填则同上级", ("城镇", "农村")),
    Column("学校类别", 14, "普通学校、新居民子女学校 或 红领巾示范校",
           ("普通学校", "新居民子女学校", "红领巾示范校")),
    Column("中队", 14, "中队名称，如 三（1）中队；只登记学校时不填"),
    Column("年级", 6, "1–9；不填则按中队名称（如 三（1）中队 为 3）"),
    Column("小队", 12, "可不填"),
)  # fmt: skip
UNIT_EXAMPLE = ("城关镇", "", "城关第一小学", "城镇", "普通学校", "三（1）中队", "3", "第一小队")

COUNSELOR_COLUMNS: tuple[Column, ...] = (
    Column("姓名", 12, "辅导员姓名"),
    Column("类别", 12, "大队辅导员、中队辅导员、小队辅导员 或 校外辅导员",
           ("大队辅导员", "中队辅导员", "小队辅导员", "校外辅导员")),
    Column("学校", 22, "学校（大队）全称，须已在平台中登记"),
    Column("中队", 14, "中队辅导员、小队辅导员必填"),
    Column("小队", 12, "小队辅导员必填"),
    Column("任职日期", 12, "如 2024-09-01；不填为导入当天"),
)  # fmt: skip
ONE_STAR_COLUMNS: tuple[Column, ...] = (
    Column("学校", 22, "学校（大队）全称"),
    Column("中队", 14, "中队名称，如 三（1）中队"),
    Column("姓名", 12, "获得一星章的队员"),
    Column("身份证号码", 22, "可不填；同一中队有同名队员时必填"),
    Column("学年", 10, "如 2025（即 2025—2026 学年）；不填为当前学年"),
    Column("事迹", 30, "可不填"),
)
ONE_STAR_EXAMPLE = ("城关第一小学", "三（1）中队", "王小红", "", "2025", "热心助人，成绩优良")

COUNSELOR_EXAMPLE = ("李老师", "中队辅导员", "城关第一小学", "三（1）中队", "", dt.date(2024, 9, 1))
GENDERS = {"male": "男", "female": "女"}
STATUSES = {str(status): label for status, label in STATUS_LABELS.items()}

Row = Sequence[str | dt.date | None]
PUPIL_EXAMPLE: Row = ("城关第一小学", "三（1）中队", "第一小队", "王小红", "女", dt.date(2016, 7, 21),
                      "", "少先队员", dt.date(2023, 10, 13), "2023年秋季第一批")  # fmt: skip


def workbook(rows: Iterable[Row], *, example: bool = False) -> bytes:
    """The pupils' sheet with its headers (a note on each), rows below; `example` adds one
    sample row."""
    return sheet_workbook(SHEET, PUPIL_COLUMNS, [PUPIL_EXAMPLE] if example else rows)


def sheet_workbook(name: str, columns: Sequence[Column], rows: Iterable[Row]) -> bytes:
    """One sheet: headers with notes and choices, text columns kept text, rows below."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False})
    sheet = book.add_worksheet(name)
    header = book.add_format({"bold": True, "bg_color": "#F4CCCC", "border": 1})
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    text = book.add_format({"num_format": "@"})  # ID numbers stay text, never 4.69E+17
    for col, column in enumerate(columns):
        sheet.write_string(0, col, column.header, header)
        sheet.write_comment(0, col, column.note)
        sheet.set_column(col, col, column.width, text if column.header == "身份证号码" else None)
        if column.choices:
            sheet.data_validation(
                1, col, 100_000, col, {"validate": "list", "source": list(column.choices)}
            )
    sheet.freeze_panes(1, 0)
    for r, values in enumerate(rows, start=1):
        for col, value in enumerate(values):
            if isinstance(value, dt.date):
                sheet.write_datetime(r, col, dt.datetime(value.year, value.month, value.day), day)
            elif value:
                sheet.write_string(r, col, str(value))
    book.close()
    return out.getvalue()
