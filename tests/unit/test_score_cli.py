"""``kkik score`` from an evidence file and from the campaign database."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from harness.channels.email.store import MailStore
from harness.core.clock import SystemClock
from harness.store.models import Probe, ProbeState
from probes.email_analysis import TimingRules
from probes.imap_wire import FetchedMessage
from tests.factories import reply_to, seed_sent_probe

EVIDENCE = Path(__file__).resolve().parents[1] / "data" / "evidence"
FRIDAY_1600 = datetime(2026, 10, 9, 14, 0, tzinfo=UTC)


def test_it_scores_an_evidence_file_as_json(kkik):
    result = kkik("score", "--from-csv", str(EVIDENCE / "good-three-municipalities.csv"), "--json")
    assert result.code == 0, result.err
    rows = json.loads(result.out)
    assert set(rows[0]) == {
        "kommunkod", "measure", "value", "value_exact", "numerator", "denominator",
        "ci_low", "ci_high", "points", "max_points", "calls",
        "national_year", "national_best", "national_worst", "national_mean", "national_n",
        "national_rank", "national_quartile", "network_best", "network_worst", "network_mean",
        "awaiting_review", "approximated",
    }  # fmt: skip
    assert rows[0]["awaiting_review"] is None  # a file has no review queue
    first = rows[0]
    assert (first["kommunkod"], first["measure"]) == ("0180", "email_within_1_working_day")
    assert (first["value"], first["numerator"], first["denominator"]) == (50, 2, 4)
    assert (first["ci_low"], first["ci_high"]) == (15.0, 85.0)
    assert (first["points"], first["max_points"], first["calls"]) == (None, None, None)
    # Bemötande: 5 of 6 points from 2 assessed calls; the value is numerator / denominator.
    [bemotande] = [r for r in rows if (r["kommunkod"], r["measure"]) == ("0180", "phone_bemotande")]
    assert (bemotande["value"], bemotande["numerator"], bemotande["denominator"]) == (83, 5, 6)
    assert (bemotande["points"], bemotande["max_points"], bemotande["calls"]) == (5, 6, 2)
    editions = {
        e: {r["measure"] for r in json.loads(kkik(
            "score", "--from-csv", str(EVIDENCE / "good-three-municipalities.csv"),
            "--edition", e, "--json",
        ).out)}
        for e in ("2011", "2016")
    }  # fmt: skip
    assert "email_within_2_working_days" in editions["2011"]
    assert "email_within_1_working_day" not in editions["2011"]
    assert {"email_within_1_working_day", "email_within_2_working_days"} <= editions["2016"]


def test_it_reports_every_bad_row_and_scores_nothing(kkik):
    path = EVIDENCE / "bad-naive-timestamp.csv"
    result = kkik("--lang", "en", "score", "--from-csv", str(path))
    assert result.code == 2
    assert result.out == ""
    assert result.err.splitlines()[0] == (
        f"{path}: line 2, column answered_at: needs a UTC offset, e.g. +01:00 or Z "
        '(got "2026-10-05T15:00:00")'
    )


def test_it_scores_the_campaign_in_the_database(kkik, tmp_path: Path, sqlite_engine: Engine):
    config = tmp_path / "config.toml"
    database = sqlite_engine.url.database
    config.write_text(f'[database]\nurl = "sqlite:///{database}"\n')
    answered = seed_sent_probe(sqlite_engine, sent_at=FRIDAY_1600, token="aaaa1111")
    seed_sent_probe(sqlite_engine, sent_at=FRIDAY_1600, token="bbbb2222")  # never answered
    failed = seed_sent_probe(sqlite_engine, sent_at=FRIDAY_1600, token="cccc3333")
    with Session(sqlite_engine) as session:
        probe = session.get(Probe, failed.probe_id)
        assert probe is not None
        probe.state = ProbeState.FAILED  # our side: excluded
        session.add(probe)
        session.commit()
    store = MailStore(sqlite_engine, SystemClock(), TimingRules())
    monday_1600 = FRIDAY_1600 + timedelta(days=3)
    raw = reply_to(answered, written_at=monday_1600)
    assert store.ingest("INBOX", 1, FetchedMessage(1, monday_1600, None, raw))
    result = kkik("--config", str(config), "score", "--json")
    assert result.code == 0, result.err
    [email_row] = [
        r for r in json.loads(result.out) if r["measure"] == "email_within_1_working_day"
    ]
    assert (email_row["kommunkod"], email_row["value"]) == ("2380", 50)
    assert (email_row["numerator"], email_row["denominator"]) == (1, 2)


def test_it_compares_the_municipalities_like_a_kkik_network(kkik):
    result = kkik(
        "--lang", "en", "score", "--from-csv", str(EVIDENCE / "good-three-municipalities.csv")
    )
    lines = result.out.splitlines()
    start = lines.index(
        "comparison                                       mean  best worst  nat. (year)  colour"
    )
    assert lines[start + 1] == (
        "E-mails answered within one working day          71.0   100    50   84 (2019)  "
        "0180 yellow, 1280 green, 1480 yellow"
    )


# What a spreadsheet program writes when the evidence file is saved from it (issue 15, L2).
def _as_saved(path: Path, encoding: str, delimiter: str) -> bytes:
    rows = list(csv.reader(io.StringIO(GOOD.read_text(encoding="utf-8"))))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    for row in rows:
        # Non-ASCII text in a field, so the encoding matters; Swedish Excel writes "3,0".
        row[2] = row[2].replace("e1", "fråga-ö1")
        if delimiter == ";" and row[10] in ("0", "1", "2", "3"):
            row[10] += ",0"
        writer.writerow(row)
    data = out.getvalue().encode(encoding)
    path.write_bytes(data)
    return data


GOOD = EVIDENCE / "good-three-municipalities.csv"
SAVED_AS = [
    ("utf-8", ","),
    ("cp1252", ";"),  # Swedish Excel, "CSV (semikolonavgränsad)"
    ("utf-8-sig", ";"),  # Swedish Excel, "CSV UTF-8"
    ("utf-16", "\t"),  # Excel, "Unicode-text": UTF-16 with a byte-order mark, tabs
]


@pytest.mark.parametrize(("encoding", "delimiter"), SAVED_AS, ids=lambda v: repr(v))
def test_it_reads_evidence_files_as_spreadsheet_programs_save_them(
    kkik, tmp_path: Path, encoding: str, delimiter: str
):
    expected = kkik("score", "--from-csv", str(GOOD), "--json")
    saved = tmp_path / "underlag.csv"
    _as_saved(saved, encoding, delimiter)
    result = kkik("score", "--from-csv", str(saved), "--json")
    assert (result.code, result.err) == (0, "")
    assert json.loads(result.out) == json.loads(expected.out)


def _utf16_without_bom(path: Path) -> None:
    path.write_bytes(GOOD.read_text(encoding="utf-8").encode("utf-16-le"))


def _binary(path: Path) -> None:
    path.write_bytes(GOOD.read_bytes()[:200] + bytes(range(256)) * 8)


def _huge_field(path: Path) -> None:
    header = GOOD.read_text(encoding="utf-8").splitlines()[0]
    path.write_text(f"{header}\n0180,email,{'x' * 200_000},,,false,,,,,\n", encoding="utf-8")


@pytest.mark.parametrize(
    ("write", "en", "sv"),
    [
        (
            _utf16_without_bom,
            "line 1: not text (control characters or undecodable bytes); save the file as CSV "
            "(UTF-8 or Windows-1252)",
            "rad 1: ingen text (styrtecken eller okodbara byte); spara filen som CSV "
            "(UTF-8 eller Windows-1252)",
        ),
        (
            _binary,
            "line 3: not text (control characters or undecodable bytes); save the file as CSV "
            "(UTF-8 or Windows-1252)",
            "rad 3: ingen text (styrtecken eller okodbara byte); spara filen som CSV "
            "(UTF-8 eller Windows-1252)",
        ),
        (
            _huge_field,
            "line 2: a field is longer than 131072 characters; is this an evidence file?",
            "rad 2: ett fält är längre än 131072 tecken; är det en underlagsfil?",
        ),
    ],
    ids=["utf16-without-bom", "binary", "field-over-128-kib"],
)
def test_it_refuses_a_file_it_cannot_read_in_one_line(kkik, tmp_path: Path, write, en, sv):
    path = tmp_path / "underlag.csv"
    write(path)
    for lang, line in (("en", en), ("sv", sv)):
        result = kkik("--lang", lang, "score", "--from-csv", str(path))
        assert (result.code, result.out, result.err) == (2, "", f"{path}: {line}\n")


def test_it_says_when_the_evidence_path_is_no_file(kkik, tmp_path: Path):
    result = kkik("--lang", "en", "score", "--from-csv", str(tmp_path))
    assert (result.code, result.err) == (2, f"{tmp_path}: cannot be read (Is a directory)\n")
    missing = kkik("score", "--from-csv", str(tmp_path / "nej.csv"))
    assert (missing.code, missing.err) == (2, f"{tmp_path / 'nej.csv'}: filen finns inte\n")


def test_a_score_without_values_says_why(kkik, tmp_path: Path, sqlite_engine: Engine):
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{sqlite_engine.url.database}"\n')
    args = ("--config", str(config), "score")
    none = kkik(*args)
    assert (none.code, none.out) == (1, "")
    assert none.err == (
        "Ingen kampanj i databasen; spara en plan med `kkik plan SCENARIO --save`.\n"
    )
    seeded = seed_sent_probe(sqlite_engine, sent_at=FRIDAY_1600, token="aaaa1111")

    def make(state: ProbeState, sent: bool) -> None:
        with Session(sqlite_engine) as session:
            probe = session.get(Probe, seeded.probe_id)
            assert probe is not None
            probe.state, probe.sent_at = state, FRIDAY_1600 if sent else None
            session.add(probe)
            session.commit()

    make(ProbeState.PLANNED, sent=False)
    planned = kkik(*args)
    assert (planned.code, planned.err) == (0, "")
    assert planned.out.splitlines() == [  # no table of dashes, no bare header
        "Inga resultat än i KKiK hösten 2026: ingen fråga är skickad och inget samtal ringt "
        "(planerade mätningar: 1); `kkik run` skickar dem när det är dags."
    ]
    make(ProbeState.FAILED, sent=True)
    faults = kkik("--lang", "en", *args)
    assert faults.code == 0
    assert faults.out.splitlines()[-1] == (
        "No results in KKiK hösten 2026: every probe sent (1) is a harness fault on our side "
        "and does not count; see `kkik status`."
    )
    as_json = kkik(*args, "--json")
    assert [r["value"] for r in json.loads(as_json.out)] == [None] * 5  # stdout stays JSON
    assert as_json.err.startswith("Inga resultat i KKiK hösten 2026: alla skickade mätningar")


def test_an_evidence_file_without_rows_says_so(kkik, tmp_path: Path):
    empty = tmp_path / "underlag.csv"
    empty.write_text(GOOD.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    result = kkik("--lang", "en", "score", "--from-csv", str(empty))
    assert (result.code, result.err) == (0, "")
    assert result.out == f"{empty}: no evidence rows, only the header; nothing to score.\n"


def _national_file(path: Path, seed: int) -> dict[int, dict[str, float]]:
    """A Kolada CSV for every one of the 290 municipalities, two years, with the country's and
    a region's rows, which are no municipalities; returns what was written, by year."""
    import random

    from harness.core.scenario import municipalities

    rng = random.Random(seed)
    written: dict[int, dict[str, float]] = {}
    lines = ["kpi,municipality,period,value"]
    for year in (2020, 2021):
        written[year] = {}
        for code in municipalities():
            value = float(rng.randint(0, 100))
            written[year][code] = value
            lines.append(f"U00412,{code},{year},{value:g}")
        lines += [f"U00412,0000,{year},61", f"U00412,0003,{year},100"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return written


def test_score_json_places_each_value_in_the_country(kkik, tmp_path: Path, sqlite_engine: Engine):
    """Issue 18: the country's best, worst, mean, rank and quartile from a national file, equal
    to an independent computation from the file; the network's beside them."""
    import math
    import statistics

    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{sqlite_engine.url.database}"\n')
    written = _national_file(tmp_path / "kolada.csv", seed=18)
    imported = kkik("--config", str(config), "reference", "import", str(tmp_path / "kolada.csv"))
    assert imported.code == 0, imported.err
    # Östersund answers one of two within two working days, Stockholm both.
    towns = (("2380", "Östersund", "ostersund", 1), ("0180", "Stockholm", "stockholm", 2))
    answers = []
    for kommunkod, name, domain, answered in towns:
        for n in range(2):
            probe = seed_sent_probe(
                sqlite_engine, sent_at=FRIDAY_1600, token=f"{kommunkod}ab{n}c",
                kommunkod=kommunkod, name=name, address=f"kommun@{domain}.example.se",
            )  # fmt: skip
            if n < answered:
                answers.append((probe, f"karin.berg@{domain}.example.se"))
    store = MailStore(sqlite_engine, SystemClock(), TimingRules())
    monday = FRIDAY_1600 + timedelta(days=3)
    for uid, (probe, sender) in enumerate(answers, 1):
        raw = reply_to(probe, written_at=monday, sender=sender)
        assert store.ingest("INBOX", 1, FetchedMessage(uid, monday, None, raw))
    result = kkik("--config", str(config), "score", "--edition", "2016", "--json")
    assert result.code == 0, result.err
    rows = {
        r["kommunkod"]: r
        for r in json.loads(result.out)
        if r["measure"] == "email_within_2_working_days"
    }
    assert (rows["0180"]["value"], rows["2380"]["value"]) == (100, 50)
    # Independently: the campaign is of 2026, so the latest year stored up to it, 2021; every
    # municipality's value but the country's and the region's.
    country = written[2021]
    assert len(country) == 290
    for kommunkod, row in rows.items():
        others = [v for code, v in country.items() if code != kommunkod]
        sorted_desc = sorted([*others, row["value"]], reverse=True)
        rank = sorted_desc.index(row["value"]) + 1
        position = rank - 1
        quartile = next(q for q in (1, 2, 3, 4) if position < math.ceil(q * len(sorted_desc) / 4))
        assert row["national_year"] == 2021
        assert row["national_n"] == 290
        assert row["national_best"] == max(country.values())
        assert row["national_worst"] == min(country.values())
        assert row["national_mean"] == pytest.approx(
            math.floor(statistics.mean(country.values()) * 10 + 0.5) / 10
        )
        assert (row["national_rank"], row["national_quartile"]) == (rank, quartile)
        assert (row["network_best"], row["network_worst"], row["network_mean"]) == (100, 50, 75.0)
    # A measure without a Kolada id has its network figures and no national ones.
    own = next(
        r for r in json.loads(result.out)
        if r["kommunkod"] == "0180" and r["measure"] == "email_within_1_working_day"
    )  # fmt: skip
    assert own["national_best"] is None
    assert own["national_rank"] is None
    text = kkik("--lang", "en", "--config", str(config), "score", "--edition", "2016")
    line = next(
        x for x in text.out.splitlines() if x.strip().startswith("0180 E-mails answered within two")
    )
    assert f"rank {rows['0180']['national_rank']} of 290" in line
    assert "country 2021:" in line
