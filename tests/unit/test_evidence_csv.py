"""Evidence CSV input (results.evidence_csv), with hand-made files in tests/data/evidence/."""

from __future__ import annotations

import codecs
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from results.evidence_csv import (
    COLUMNS,
    EvidenceError,
    UnreadableEvidence,
    decode_evidence,
    parse_evidence,
)
from results.scoring import Evidence, Score, ScoringRules, score

DATA = Path(__file__).parent.parent / "data" / "evidence"
CEST = timezone(timedelta(hours=2))
HEADER = ",".join(COLUMNS)


def read(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def problems(text: str) -> list[str]:
    with pytest.raises(EvidenceError) as info:
        parse_evidence(text)
    return info.value.problems


def test_it_parses_rows_into_evidence() -> None:
    rows = parse_evidence(read("good-three-municipalities.csv"))
    assert len(rows) == 21
    assert rows[0] == Evidence(
        "0180",
        "email",
        "e1",
        datetime(2026, 10, 5, 10, tzinfo=CEST),
        datetime(2026, 10, 5, 15, tzinfo=CEST),
        False,
    )
    assert rows[5] == Evidence(
        "0180",
        "phone",
        "p1",
        datetime(2026, 10, 5, 10, tzinfo=CEST),
        None,
        False,
        "bridged",
        "person",
        datetime(2026, 10, 5, 10, 0, 45, tzinfo=CEST),
        True,
        3,
    )
    assert rows[-2].sent_at == datetime(2026, 10, 5, 7, tzinfo=UTC)  # "Z" accepted


def test_it_scores_the_good_file_exactly() -> None:
    got = score(parse_evidence(read("good-three-municipalities.csv")), ScoringRules())
    k = "0180"
    expected = [
        # e1 within, e2 Fri 16:00 -> Mon 16:00 within, e3 one second late, e4 unanswered,
        # e5 a harness fault: 2 of 4.
        Score(k, "email_within_1_working_day", 50, 50.0, 2, 4, 15.0, 85.0, 0, 1),
        # Bridged p1 yes, p2 no, p3 busy; p4 not assessed: 1 of 3.
        Score(k, "phone_direct_answer", 33, 100 / 3, 1, 3, 6.1, 79.2, 1, 0),
        # p1 3 + p2 2 = 5 of 6 points; p4 awaits.
        Score(k, "phone_bemotande", 83, 500 / 6, 5, 2, 43.6, 97.0, 1, 0),
        # p1 45 s, p2 60 s, p5 30 s of p1..p5 (p4 took 130 s, p3 busy).
        Score(k, "phone_person_within_60s", 60, 60.0, 3, 5, 23.1, 88.2, 0, 0),
        Score(k, "phone_person_within_120s", 60, 60.0, 3, 5, 23.1, 88.2, 0, 0),
        # Malmö 1280: m1 09:00 -> next day 09:00 (exactly 9 h, given in UTC), m2 half an hour.
        Score("1280", "email_within_1_working_day", 100, 100.0, 2, 2, 34.2, 100.0, 0, 0),
        Score("1280", "phone_direct_answer", None, None, 0, 0, None, None, 0, 0),
        Score("1280", "phone_bemotande", None, None, 0, 0, None, None, 0, 0),
        Score("1280", "phone_person_within_60s", None, None, 0, 0, None, None, 0, 0),
        Score("1280", "phone_person_within_120s", None, None, 0, 0, None, None, 0, 0),
        # Göteborg 1480: 5 of 8 e-mails (62.5 -> 63); one bridged call, not answered.
        Score("1480", "email_within_1_working_day", 63, 62.5, 5, 8, 30.6, 86.3, 0, 0),
        Score("1480", "phone_direct_answer", 0, 0.0, 0, 1, 0.0, 79.3, 0, 0),
        Score("1480", "phone_bemotande", None, None, 0, 0, None, None, 0, 0),
        Score("1480", "phone_person_within_60s", 0, 0.0, 0, 1, 0.0, 79.3, 0, 0),
        Score("1480", "phone_person_within_120s", 0, 0.0, 0, 1, 0.0, 79.3, 0, 0),
    ]
    assert got == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "bad-naive-timestamp.csv",
            [
                "line 2, column answered_at: needs a UTC offset, e.g. +01:00 or Z "
                '(got "2026-10-05T15:00:00")',
                "line 3, column sent_at: needs a UTC offset, e.g. +01:00 or Z "
                '(got "2026-10-05 10:00:00")',
            ],
        ),
        (
            "bad-kommunkod.csv",
            [
                'line 2, column kommunkod: must be a 4-digit kommunkod such as 0180 (got "180")',
                'line 3, column kommunkod: must be a 4-digit kommunkod such as 0180 (got "01800")',
            ],
        ),
        ("bad-unknown-column.csv", ['line 1, column svarstid: unknown column (got "svarstid")']),
        (
            "bad-renamed-column.csv",
            [
                'line 1, column answered: unknown column (got "answered")',
                'line 1, column answered_at: missing column (got "")',
            ],
        ),
        (
            "bad-bemotande.csv",
            ['line 2, column bemotande: must be 0, 1, 2 or 3 (or empty) (got "4")'],
        ),
        (
            "bad-duplicate-probe-id.csv",
            ['line 4, column probe_id: duplicate of line 2 (got "e1")'],
        ),
    ],
)
def test_it_reports_every_problem_in_a_bad_file(name: str, expected: list[str]) -> None:
    assert problems(read(name)) == expected


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (
            "0180,fax,f1,2026-10-05T10:00:00+02:00,,false,,,,,",
            'line 2, column channel: must be one of email|phone (got "fax")',
        ),
        (
            "0180,email,,2026-10-05T10:00:00+02:00,,false,,,,,",
            'line 2, column probe_id: is required (got "")',
        ),
        (
            "0180,email,e1,,,false,,,,,",
            'line 2, column sent_at: is required (got "")',
        ),
        (
            "0180,email,e1,yesterday,,false,,,,,",
            'line 2, column sent_at: is not an ISO 8601 timestamp (got "yesterday")',
        ),
        (
            "0180,email,e1,2026-10-05T10:00:00+02:00,,maybe,,,,,",
            'line 2, column harness_fault: must be one of true|false (got "maybe")',
        ),
        (
            "0180,email,e1,2026-10-05T10:00:00+02:00,2026-10-05T09:00:00+02:00,false,,,,,",
            'line 2, column answered_at: is before sent_at (got "2026-10-05T09:00:00+02:00")',
        ),
        (
            "0180,phone,p1,2026-10-05T10:00:00+02:00,,false,bridged,,,,",
            "line 2, column outcome: must be one of busy|no_answer|failed|no_person|person "
            '(got "")',
        ),
        (
            "0180,phone,p1,2026-10-05T10:00:00+02:00,,false,,busy,,,",
            'line 2, column mode: must be one of bridged|automated (got "")',
        ),
        (
            "0180,phone,p1,2026-10-05T10:00:00+02:00,,false,bridged,person,,yes,",
            'line 2, column direct_answer: must be one of true|false (got "yes")',
        ),
        (
            "0180,email,e1,2026-10-05T10:00:00+02:00,,false",
            "line 2, column (row): has 6 fields, the header has 11 "
            '(got "0180,email,e1,2026-10-05T10:00:00+02:00,,false")',
        ),
    ],
)
def test_it_reports_a_bad_field(row: str, expected: str) -> None:
    assert problems(f"{HEADER}\n{row}\n") == [expected]


def test_it_ignores_the_other_channels_fields_on_email_rows() -> None:
    rows = parse_evidence(f"{HEADER}\n0180,email,e1,2026-10-05T10:00:00+02:00,,false,x,y,z,w,9\n")
    assert (rows[0].mode, rows[0].outcome, rows[0].bemotande) == (None, None, None)


def test_it_accepts_a_byte_order_mark_blank_lines_and_any_column_order() -> None:
    header = ",".join(reversed(COLUMNS))
    row = ",,,busy,bridged,false,,2026-10-05T10:00:00+02:00,p1,phone,0180"
    rows = parse_evidence(f"\ufeff{header}\n{row}\n\n")
    assert (rows[0].kommunkod, rows[0].mode, rows[0].outcome) == ("0180", "bridged", "busy")


def test_it_rejects_an_empty_file() -> None:
    assert problems("") == ['line 1, column (header): the file is empty (got "")']


def test_it_parses_a_header_only_file_to_no_evidence() -> None:
    assert parse_evidence(HEADER + "\n") == []


# Files as spreadsheet programs save them (issue 15, L2).
@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b"a,\xc3\xa5\n", "a,å\n"),  # UTF-8
        (b"\xef\xbb\xbfa,\xc3\xa5\n", "a,å\n"),  # UTF-8 with a byte-order mark
        (b"a;\xe5\xe4\xf6\r\n", "a;åäö\r\n"),  # Windows-1252 (Swedish Excel's "CSV")
        ("a\tå\n".encode("utf-16"), "a\tå\n"),  # UTF-16 with a byte-order mark
        (codecs.BOM_UTF16_BE + "a\tå\n".encode("utf-16-be"), "a\tå\n"),  # big-endian
    ],
)
def test_it_decodes_the_encodings_spreadsheets_write(data: bytes, text: str) -> None:
    assert decode_evidence(data) == text


@pytest.mark.parametrize(
    ("data", "line"),
    [
        (b"a,b\nc,d\x00e\n", 2),  # NUL
        (b"a,b\nc,d\n\x1b[31m\n", 3),  # another control character
        (b"a,b\n\n\nc,\x81\n", 4),  # a byte that is neither UTF-8 nor Windows-1252
        (b"\xff\xfea\x00\x00\xd8", 1),  # UTF-16 ending in half a surrogate pair
        ("a,b\n".encode("utf-16-le"), 1),  # UTF-16 without a byte-order mark: NUL bytes
    ],
)
def test_it_refuses_what_is_not_text_with_the_line(data: bytes, line: int) -> None:
    with pytest.raises(UnreadableEvidence) as info:
        decode_evidence(data)
    assert (info.value.kind, info.value.line) == ("not_text", line)


def test_it_reads_semicolons_and_decimal_commas_like_commas() -> None:
    text = read("good-three-municipalities.csv")
    swedish = text.replace(",", ";").replace(";true;3\n", ";true;3,0\n")
    assert ";true;3,0\n" in swedish
    assert parse_evidence(swedish) == parse_evidence(text)


def test_it_reports_a_field_beyond_the_csv_limit_with_its_line() -> None:
    with pytest.raises(UnreadableEvidence) as info:
        parse_evidence(f"{HEADER}\n0180,email,e1,,,false,,,,,\n0180,email,{'x' * 140_000}\n")
    assert (info.value.kind, info.value.line, info.value.limit) == ("field_too_large", 3, 131072)


def test_it_says_once_when_the_file_is_no_evidence_file_at_all() -> None:
    assert problems("namn,adress\nAnna,Storgatan 1\n") == [
        'line 1, column (header): names no evidence column; see docs/scoring.md (got "namn,adress")'
    ]
