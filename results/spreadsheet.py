"""Spreadsheet cells that show outside text as text, never run it as a formula (issue 15, M4).

Exports and the dashboard's e-mail log carry text that others wrote: the sender name of a
municipality's reply, case numbers, fault messages. Excel and LibreOffice take a CSV cell that
starts with ``=``, ``+``, ``-`` or ``@`` for a formula (``=HYPERLINK(...)`` becomes a live link
that can carry the sheet's other cells away), and a leading tab or line break can hide such a
start. Every CSV and XLSX file the harness writes goes through this module:

* CSV has no types, so the text is changed: defusedcsv's writer puts an apostrophe in front of
  such a cell (OWASP's advice; spreadsheets do not show it) and leaves numbers, and numeric text
  such as ``-3.5``, as they are. It does not look at a leading tab, carriage return or line feed,
  so :func:`csv_writer` adds the apostrophe there itself before handing the row on.
* XLSX cells have a type, so no character is changed: text is stored as a string (openpyxl would
  make any ``str`` that starts with ``=`` a formula) and formula-like text gets Excel's quote
  prefix, so that editing the cell keeps it text; numbers stay numbers. Characters that XML cannot
  hold (control characters in a mail header) become U+FFFD instead of making openpyxl refuse the
  whole file.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from defusedcsv import csv as defused_csv
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.worksheet.worksheet import Worksheet

__all__ = ["CsvWriter", "csv_cell", "csv_writer", "xlsx_append"]

# What a spreadsheet may read as the start of a formula (OWASP "CSV Injection").
FORMULA_START = ("=", "+", "-", "@")
# Leading characters defusedcsv lets through; after them a program may still see a formula.
_HIDDEN_START = ("\t", "\r", "\n")


class _TextStream(Protocol):
    def write(self, text: str, /) -> Any: ...


class CsvWriter:
    """A ``csv.writer`` whose cells cannot start a formula; see the module docstring."""

    def __init__(self, stream: _TextStream, **fmtparams: Any) -> None:
        self._writer = defused_csv.writer(stream, **fmtparams)

    def writerow(self, row: Iterable[object]) -> None:
        self._writer.writerow([csv_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(stream: _TextStream, **fmtparams: Any) -> CsvWriter:
    """Return a writer like ``csv.writer(stream, **fmtparams)`` that neutralises formulas."""
    return CsvWriter(stream, **fmtparams)


def csv_cell(value: object) -> object:
    """``value`` with an apostrophe before a leading tab or line break; defusedcsv does the rest."""
    if isinstance(value, str) and value.startswith(_HIDDEN_START):
        return "'" + value
    return value


def xlsx_append(sheet: Worksheet, values: Iterable[object]) -> None:
    """Append one row to ``sheet``: text as text cells, numbers as numbers, never a formula."""
    cells = []
    for value in values:
        if isinstance(value, str):
            text = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
            cell = Cell(sheet, value=text)
            # Set after the value: openpyxl has just typed "=..." as a formula ("f").
            cell.data_type = "s"
            if text.lstrip("\t\r\n").startswith(FORMULA_START):
                cell.quotePrefix = True
        else:
            cell = Cell(sheet, value=value)
        cells.append(cell)
    sheet.append(cells)
