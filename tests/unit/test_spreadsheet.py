"""Spreadsheet cells (results.spreadsheet): outside text never becomes a formula (issue 15, M4)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from types import SimpleNamespace

import openpyxl
import pytest
from sqlalchemy import Engine

from harness.campaign.by_target import TargetPieces
from harness.core.config import Settings
from harness.core.i18n import Text
from harness.web.derived import DerivedCache
from harness.web.log_page import email_csv
from results.excel import Sheet, excel_csv, workbook
from results.excel_columns import Column
from results.exports import to_csv
from results.spreadsheet import csv_writer
from tests.factories import seed_sent_probe

COLUMNS = ("text", "number")
# The same two columns for the formats for people (csv-excel, XLSX).
TYPED = (Column("text", Text("text", "text")), Column("number", Text("number", "number"), "number"))


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+2", "'=1+2"),
        (
            '=HYPERLINK("http://attacker.example","x")',
            '\'=HYPERLINK("http://attacker.example","x")',
        ),
        ("+46 63 14 30 00", "'+46 63 14 30 00"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\t=1+2", "'\t=1+2"),
        ("\r=1+2", "'\r=1+2"),
        ("\n=1+2", "'\n=1+2"),
        ("Karin Berg", "Karin Berg"),
        ("a=b", "a=b"),
        ("-3.5", "-3.5"),  # numeric text is a number, not a formula
        ("", ""),
    ],
)
def test_it_neutralises_csv_cells_that_would_start_a_formula(value: str, written: str):
    buffer = io.StringIO()
    csv_writer(buffer).writerow([value, -3.5, 7])
    assert next(csv.reader(io.StringIO(buffer.getvalue()))) == [written, "-3.5", "7"]


def test_every_csv_export_goes_through_it():
    rows: list[dict[str, object]] = [
        {"text": "=1+2", "number": -3.5},
        {"text": "@x", "number": None},
    ]
    text = to_csv(rows, COLUMNS).decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(text))) == [
        ["text", "number"],
        ["'=1+2", "-3.5"],
        ["'@x", ""],
    ]


def test_the_csv_for_swedish_excel_goes_through_it_too():
    rows: list[dict[str, object]] = [
        {"text": "=1+2", "number": -3.5},
        {"text": "\t@x", "number": None},
        {"text": "+46 63 14 30 00", "number": 12},
    ]
    text = excel_csv(rows, TYPED, "sv").decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(text), delimiter=";")) == [
        ["text", "number"],
        ["'=1+2", "-3,5"],
        ["'\t@x", ""],
        ["'+46 63 14 30 00", "12"],
    ]


def test_every_xlsx_export_stores_text_as_text_and_numbers_as_numbers():
    rows: list[dict[str, object]] = [
        {"text": "=1+2", "number": -3.5},
        {"text": "-1", "number": 0},
        {"text": "+4663143000", "number": True},
        {"text": "bell\x07 and NUL\x00", "number": None},
        {"text": "\t=1+2", "number": 12},
    ]
    data = workbook([Sheet("KKiK", TYPED, rows)], "sv")
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    cells = [
        (c.value, c.data_type, c.quotePrefix) for row in sheet.iter_rows(min_row=2) for c in row
    ]
    assert cells == [
        ("=1+2", "s", True), (-3.5, "n", False),
        ("-1", "s", True), (0, "n", False),
        ("+4663143000", "s", True), (True, "b", False),
        ("bell\ufffd and NUL\ufffd", "s", False), (None, "n", False),
        ("\t=1+2", "s", True), (12, "n", False),
    ]  # fmt: skip


def test_the_dashboards_email_log_csv_neutralises_formulas(sqlite_engine: Engine):
    # A target's name is whatever the stored campaign says; the log must not make it a formula.
    seed_sent_probe(sqlite_engine, sent_at=datetime(2026, 10, 9, 14, tzinfo=UTC), name="=1+2")
    state = SimpleNamespace(settings=Settings(), engine=sqlite_engine, derived=DerivedCache(),
                            log_pieces=TargetPieces())  # fmt: skip
    request = SimpleNamespace(app=SimpleNamespace(state=state), state=SimpleNamespace())
    response = email_csv(request, kommun="", within="", sort="sent")  # type: ignore[arg-type]
    rows = list(csv.DictReader(io.StringIO(bytes(response.body).decode("utf-8"))))
    assert [r["kommun"] for r in rows] == ["'=1+2"]
