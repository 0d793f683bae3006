"""``kkik score`` from an evidence file and from the campaign database."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session

from harness.clock import SystemClock
from harness.mailstore import MailStore
from harness.models import Probe, ProbeState
from probes.email_analysis import TimingRules
from probes.imap_client import FetchedMessage
from tests.factories import reply_to, seed_sent_probe

EVIDENCE = Path(__file__).resolve().parents[1] / "data" / "evidence"
FRIDAY_1600 = datetime(2026, 10, 9, 14, 0, tzinfo=UTC)


def test_it_scores_an_evidence_file_as_json(kkik):
    result = kkik("score", "--from-csv", str(EVIDENCE / "good-three-municipalities.csv"), "--json")
    assert result.code == 0, result.err
    rows = json.loads(result.out)
    assert set(rows[0]) == {
        "kommunkod", "measure", "value", "value_exact", "numerator", "denominator",
        "ci_low", "ci_high",
    }  # fmt: skip
    first = rows[0]
    assert (first["kommunkod"], first["measure"]) == ("0180", "email_within_1_working_day")
    assert (first["value"], first["numerator"], first["denominator"]) == (50, 2, 4)
    assert (first["ci_low"], first["ci_high"]) == (15.0, 85.0)
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
