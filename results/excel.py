"""Exports for Swedish Excel (pure: rows in, bytes out): ``csv-excel`` and the XLSX workbook.

The rows are the machine formats' (:mod:`results.exports`, the evidence rows); the columns, their
headers and the codes' labels are in :mod:`results.excel_columns`.

``csv-excel`` is what Swedish Excel opens in columns with a double click: UTF-8 with a
byte-order mark (without one Excel reads the bytes as Windows-1252), semicolons between fields
(the comma is the Swedish decimal sign, so Swedish Excel's list separator is the semicolon), CRLF
line ends, numbers with a decimal comma and no thousands separator (Babel, ``sv_SE``; a grouping
space would make Excel read text), times as ``YYYY-MM-DD HH:MM`` in local time, which Excel reads
as a date and time. The numbers are Swedish whatever the language of the headers: the file is
for Swedish Excel, and ``--lang en`` only changes the words.

The XLSX has one sheet per level (per municipality and measure; per probe): typed cells, so the
number format is the cell's (shown with the reader's own decimal sign), times are real date
cells, the header row is bold, frozen and filtered.

Both go through :mod:`results.spreadsheet`, so text from outside is never a formula.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from harness.core.i18n import Lang
from results.excel_columns import SHEETS, Column, label
from results.spreadsheet import csv_writer, xlsx_append

if TYPE_CHECKING:  # openpyxl is loaded only when a workbook is written (a slow import)
    from openpyxl.worksheet.worksheet import Worksheet

__all__ = ["Sheet", "excel_csv", "workbook"]

#: Swedish Excel's locale: decimal comma.
NUMBER_LOCALE = "sv_SE"
TIME_TEXT = "%Y-%m-%d %H:%M"
TIME_WIDTH = len("2026-10-12 16:00")
#: XLSX number formats by cell kind (Excel shows the decimal sign of the reader's locale).
XLSX_FORMATS = {
    "count": "0",
    "one_decimal": "0.0",
    "number_int": "0",
    "number": "0.0##",
    "time": "yyyy-mm-dd hh:mm",
}


def _cell(column: Column, row: Mapping[str, Any], lang: Lang) -> object:
    """The cell's value before formatting: a code's label, a time in local wall-clock time."""
    value = label(column, column.value(row, lang), lang)
    if column.kind == "time" and isinstance(value, datetime):
        # The rows hold aware times in the campaign's zone: Excel has no zones, so wall time.
        return value.replace(tzinfo=None)
    return value


def excel_csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[Column], lang: Lang) -> bytes:
    """One table for Swedish Excel: BOM, semicolons, decimal commas, headers in ``lang``."""
    from babel.numbers import format_decimal

    def text(column: Column, value: object) -> object:
        if value is None:
            return ""
        if isinstance(value, datetime):
            return value.strftime(TIME_TEXT)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return value
        if column.kind == "one_decimal":
            return format_decimal(value, format="0.0", locale=NUMBER_LOCALE)
        return format_decimal(value, locale=NUMBER_LOCALE, group_separator=False)

    buffer = io.StringIO()
    writer = csv_writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(c.header(lang) for c in columns)
    for row in rows:
        writer.writerow(text(c, _cell(c, row, lang)) for c in columns)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


@dataclass(frozen=True)
class Sheet:
    """One sheet of the workbook: its name (a key of ``SHEETS``), columns and rows."""

    name: str
    columns: Sequence[Column]
    rows: Sequence[Mapping[str, Any]]


def workbook(sheets: Sequence[Sheet], lang: Lang) -> bytes:
    """An XLSX workbook with ``sheets`` in order, the first one open."""
    from openpyxl import Workbook

    book = Workbook()
    first = book.active
    assert first is not None
    book.remove(first)
    for sheet in sheets:
        title = SHEETS[sheet.name](lang) if sheet.name in SHEETS else sheet.name
        _fill(book.create_sheet(title), sheet, lang)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _fill(ws: Worksheet, sheet: Sheet, lang: Lang) -> None:
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    headers = [c.header(lang) for c in sheet.columns]
    xlsx_append(ws, headers)
    bold = Font(bold=True)
    for cell in ws[1]:
        cell.font = bold
    widths = [len(h) for h in headers]
    for row in sheet.rows:
        values = [_cell(c, row, lang) for c in sheet.columns]
        # A reply's sender name is the municipality's text: stored as text, never a formula.
        xlsx_append(ws, values)
        for i, (column, cell) in enumerate(zip(sheet.columns, ws[ws.max_row], strict=True)):
            fmt = _number_format(column, cell.value)
            if fmt is not None:
                cell.number_format = fmt
            shown = TIME_WIDTH if isinstance(cell.value, datetime) else len(str(cell.value))
            widths[i] = max(widths[i], 0 if cell.value is None else shown)
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = min(width + 2, 60)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions


def _number_format(column: Column, value: object) -> str | None:
    if isinstance(value, datetime):
        return XLSX_FORMATS["time"]
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if column.kind == "number":
        return XLSX_FORMATS["number_int" if isinstance(value, int) else "number"]
    return XLSX_FORMATS.get(column.kind)
