"""Counts a reader trusts (results.counts) and the exports for Swedish Excel (results.excel): pure.

Bemötande is points of the maximum from so many calls in every format, never "18/12"; the
CSV for Swedish Excel reads back in columns with semicolons and decimal commas; the workbook has
typed cells and number formats.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta, timezone

import openpyxl
import pytest

from harness.services.outputs import EVIDENCE_COLUMNS
from harness.store.models import Channel, ProbeState
from results.counts import Empty, count_text, counts, why_empty
from results.excel import Sheet, excel_csv, workbook
from results.excel_columns import OUTCOMES, PROBE_COLUMNS, RESULT_COLUMNS, Column
from results.exports import COLUMNS, kolada_json, score_rows, to_csv, to_json
from results.other_measures import OtherValue
from results.scoring import Evidence, Score, ScoringRules, score

# 12 assessed calls, 18 of 36 points: 50 %.
BEMOTANDE = Score("2380", "phone_bemotande", 50, 50.0, 18, 12, 34.2, 65.8, 1, 0)
EMAIL = Score("2380", "email_within_1_working_day", 63, 62.5, 5, 8, 30.6, 86.3, 0, 0)
HOURS = OtherValue("2380", "library_hours_outside_office", 12.25, "scenario", None)
NAMES = {"2380": "Östersund"}


def test_bemotande_counts_as_points_of_the_maximum_with_the_calls():
    c = counts(BEMOTANDE)
    assert (c.numerator, c.denominator, c.points, c.max_points, c.calls) == (18, 36, 18, 36, 12)
    assert 100 * c.numerator / c.denominator == BEMOTANDE.value
    share = counts(EMAIL)
    assert (share.numerator, share.denominator, share.points, share.calls) == (5, 8, None, None)


@pytest.mark.parametrize(
    ("score", "lang", "text"),
    [
        (BEMOTANDE, "sv", "18 av 36 poäng, 12 samtal"),
        (BEMOTANDE, "en", "18 of 36 points, 12 calls"),
        (
            Score("2380", "phone_bemotande", 67, 66.7, 2, 1, 1, 99, 0, 0),
            "en",
            "2 of 3 points, 1 call",
        ),
        (EMAIL, "sv", "5/8"),
    ],
)
def test_the_count_reads_as_it_should(score: Score, lang, text: str):
    assert count_text(score, lang) == text


def test_every_export_format_carries_points_max_points_and_calls():
    rows = score_rows([EMAIL, BEMOTANDE], NAMES, 2026, "2018")
    [bem] = [r for r in rows if r["measure"] == "phone_bemotande"]
    expected = {"numerator": 18, "denominator": 36, "points": 18, "max_points": 36, "calls": 12}
    assert {k: bem[k] for k in expected} == expected
    machine = list(csv.DictReader(io.StringIO(to_csv(rows).decode("utf-8-sig"))))
    assert list(machine[0]) == list(COLUMNS)
    [line] = [r for r in machine if r["measure"] == "phone_bemotande"]
    assert {k: line[k] for k in expected} == {k: str(v) for k, v in expected.items()}
    [email] = [r for r in machine if r["measure"] == "email_within_1_working_day"]
    assert (email["points"], email["max_points"], email["calls"]) == ("", "", "")
    [js] = [r for r in json.loads(to_json(rows)) if r["measure"] == "phone_bemotande"]
    assert {k: js[k] for k in expected} == expected
    [sv] = [
        r
        for r in _read(excel_csv(rows, RESULT_COLUMNS, "sv"))
        if r["Måttets id"] == "phone_bemotande"
    ]
    assert (sv["Täljare"], sv["Nämnare"], sv["Poäng"], sv["Maxpoäng"], sv["Bedömda samtal"]) == (
        "18", "36", "18", "36", "12",
    )  # fmt: skip
    sheet = openpyxl.load_workbook(
        io.BytesIO(workbook([Sheet("results", RESULT_COLUMNS, rows)], "en"))
    ).active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    header = values[0]
    [en] = [dict(zip(header, v, strict=True)) for v in values[1:] if "phone_bemotande" in v]
    assert (en["Points"], en["Maximum points"], en["Assessed calls"], en["Value"]) == (
        18,
        36,
        12,
        50,
    )
    # Kolada counts observations: the calls, not the points.
    kolada = json.loads(kolada_json([BEMOTANDE], 2026))
    assert kolada["values"][0]["values"] == [{"gender": "T", "value": 50, "count": 12}]


def test_the_csv_for_swedish_excel_has_decimal_commas_and_words():
    rows = score_rows([EMAIL], NAMES, 2026, "2018", others=[HOURS])
    data = excel_csv(rows, RESULT_COLUMNS, "sv")
    assert data.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in data
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert all(len(line) == len(RESULT_COLUMNS) for line in table)
    head = table[0]
    assert head[:6] == ["Kommunkod", "Kommun", "År", "Mått", "Måttets id", "Kolada-id"]
    assert {"Konfidensintervall, nedre", "Konfidensintervall, övre"} <= set(head)
    email, hours = (dict(zip(head, line, strict=True)) for line in table[1:])
    interval = (email["Konfidensintervall, nedre"], email["Konfidensintervall, övre"])
    assert (email["Värde"], interval) == ("63", ("30,6", "86,3"))
    assert (email["Enhet"], email["Källa"], email["Kolada-id"]) == ("procent", "mätning", "")
    assert (hours["Värde"], hours["Enhet"], hours["Kolada-id"]) == (
        "12,25",
        "timmar per vecka",
        "U09403",
    )
    assert hours["Mått"] == "Huvudbibliotekets öppettimmar per vecka utöver 08–17 vardagar"
    english = excel_csv(rows, RESULT_COLUMNS, "en").decode("utf-8-sig")
    head_en, first = list(csv.reader(io.StringIO(english), delimiter=";"))[:2]
    assert head_en[:4] == ["Municipality code", "Municipality", "Year", "Measure"]
    assert first[head_en.index("Confidence interval, lower")] == "30,6"  # still for Swedish Excel


def _read(data: bytes) -> list[dict[str, str]]:
    """The rows of a CSV for Swedish Excel, as Python's csv module reads them with ``;``."""
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


def _probe_row(**changes: object) -> dict[str, object]:
    zone = timezone(timedelta(hours=2))
    row: dict[str, object] = {
        "probe_id": 7, "kommunkod": "0180", "kommun": "Stockholm", "channel": "email",
        "planned_at": datetime(2026, 10, 9, 16, 0, tzinfo=zone),
        "sent_at": datetime(2026, 10, 9, 16, 0, 12, tzinfo=zone),
        "answered_at": datetime(2026, 10, 12, 9, 30, 59, tzinfo=zone),
        "state": "completed", "outcome": "answered", "fault_reason": None, "replies": 1,
    }  # fmt: skip
    row.update(changes)
    return row


def test_probe_times_are_local_wall_time_in_both_formats():
    rows = [_probe_row(), _probe_row(probe_id=8, answered_at=None, state="sent", outcome=None)]
    first, second = _read(excel_csv(rows, PROBE_COLUMNS, "sv"))
    assert (first["Planerad"], first["Skickad eller ringd"], first["Svar kom"]) == (
        "2026-10-09 16:00", "2026-10-09 16:00", "2026-10-12 09:30",
    )  # fmt: skip
    assert (first["Kanal"], first["Status"], first["Utfall"], first["Kommunkod"]) == (
        "E-post", "klar", "besvarad", "0180",
    )  # fmt: skip
    assert (second["Svar kom"], second["Utfall"]) == ("", "")
    book = openpyxl.load_workbook(
        io.BytesIO(workbook([Sheet("probes", PROBE_COLUMNS, rows)], "sv"))
    )
    assert book.sheetnames == ["Per mätning"]
    sheet = book.active
    assert sheet is not None
    cell = sheet["G2"]
    assert (cell.value, cell.data_type, cell.number_format) == (
        datetime(2026, 10, 12, 9, 30, 59, tzinfo=UTC).replace(tzinfo=None), "d", "yyyy-mm-dd hh:mm",
    )  # fmt: skip
    assert sheet["B2"].value == "0180"
    assert (sheet.freeze_panes, sheet.auto_filter.ref) == ("A2", "A1:K3")
    assert sheet["A1"].font.bold


def test_a_fault_reads_in_the_readers_language():
    rows = [
        _probe_row(state="failed", outcome="harness_fault", fault_code="smtp_relay_refused",
                   fault_params={"reply": "554 5.7.1 Relay denied"},
                   fault_reason="SMTP relay refused: 554 5.7.1 Relay denied"),
        # Stored before faults had codes: the stored reason, as it is.
        _probe_row(state="failed", outcome="harness_fault", fault_reason="Relay down"),
    ]  # fmt: skip
    coded, old = _read(excel_csv(rows, PROBE_COLUMNS, "sv"))
    assert coded["Orsak till mätfel"] == (
        "utgående e-postserver vägrade skicka vidare (servern svarade ”554 5.7.1 Relay denied”)"
    )
    assert (coded["Status"], coded["Utfall"]) == ("mätfel (ersätts)", "mätfel (vårt fel)")
    assert old["Orsak till mätfel"] == "Relay down"
    [english] = _read(excel_csv(rows[:1], PROBE_COLUMNS, "en"))[:1]
    assert english["Fault reason"].startswith("the outgoing mail server refused to relay")
    machine = list(csv.DictReader(io.StringIO(to_csv(rows, EVIDENCE_COLUMNS).decode("utf-8-sig"))))
    assert (machine[0]["fault_code"], machine[0]["fault_reason"]) == (
        "smtp_relay_refused",
        "SMTP relay refused: 554 5.7.1 Relay denied",
    )


def test_every_state_and_channel_has_a_label():
    labels = {c.key: c.labels for c in PROBE_COLUMNS if c.labels is not None}
    assert set(labels["state"] or {}) == {s.value for s in ProbeState}
    assert set(labels["channel"] or {}) == {c.value for c in Channel}
    # The outcomes the harness stores (harness/store/probestore.py, settle.py, upkeep.py, the
    # runner, resolve) and the call outcomes (results.scoring.Outcome).
    stored = {"answered", "bounced", "not_answered", "rejected", "send_unknown", "refused",
              "harness_fault", "busy", "no_answer", "failed", "no_person", "person"}  # fmt: skip
    assert set(OUTCOMES) == stored


def test_a_code_without_a_label_is_shown_as_it_is():
    column = Column("outcome", PROBE_COLUMNS[8].header, labels=OUTCOMES)
    text = excel_csv([{"outcome": "something_new"}], [column], "sv").decode("utf-8-sig")
    assert text.splitlines() == ["Utfall", "something_new"]


SENT = datetime(2026, 10, 9, 14, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("evidence", "planned", "expected"),
    [
        ([], 0, Empty("no_probes")),
        ([], 36, Empty("nothing_sent", planned=36)),
        (
            [
                Evidence("2380", "email", "1", SENT, harness_fault=True),
                Evidence("2380", "phone", "2", SENT, mode="bridged", outcome="failed"),
            ],
            36,
            Empty("only_faults", planned=36, faults=2),
        ),
        (
            [
                Evidence("2380", "phone", "3", SENT, mode="bridged"),
                Evidence("2380", "phone", "4", SENT, harness_fault=True),
            ],
            36,
            Empty("awaiting", planned=36, faults=1, waiting=1),
        ),
        ([Evidence("2380", "email", "5", SENT)], 36, None),
    ],
)
def test_an_empty_result_says_why(evidence: list[Evidence], planned: int, expected: Empty | None):
    assert why_empty(evidence, score(evidence, ScoringRules()), planned) == expected


def test_the_reasons_read_in_both_languages():
    empty = Empty("nothing_sent", planned=36)
    assert empty.text("sv", "Hösten 2026") == (
        "Inga resultat än i Hösten 2026: ingen fråga är skickad och inget samtal ringt "
        "(planerade mätningar: 36); `kkik run` skickar dem när det är dags."
    )
    assert Empty("awaiting", waiting=3).text("en", "Autumn") == (
        "No values yet in Autumn: calls waiting for an outcome or an assessment: 3 "
        "(`kkik call list`)."
    )
