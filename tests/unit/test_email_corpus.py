"""The fixture corpus: realistic received mail, parsed, classified and matched end to end.

tests/data/mail/expected.json says, per file, what a careful reader decided the mail is and which
probe (tests/data/mail/probes.json) it belongs to, with a "note" saying why the file exists.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from probes.email_classify import classify
from probes.email_match import ProbeRef, match_reply
from probes.email_parse import parse_mail

MAIL = Path(__file__).parents[1] / "data" / "mail"
EXPECTED: dict[str, dict[str, Any]] = json.loads((MAIL / "expected.json").read_text("utf-8"))
PROBES = tuple(
    ProbeRef(
        id=p["id"],
        message_id=p["message_id"],
        reply_token=p["reply_token"],
        reply_address=p["reply_address"],
        target_address=p["target_address"],
        target_domains=tuple(p["target_domains"]),
        subject=p["subject"],
        body=p["body"],
        sent_at=datetime.fromisoformat(p["sent_at"]),
    )
    for p in json.loads((MAIL / "probes.json").read_text("utf-8"))
)


def test_it_has_a_large_fully_described_corpus() -> None:
    on_disk = {path.name for path in MAIL.glob("*.eml")}
    assert len(on_disk) >= 45
    assert on_disk == set(EXPECTED)
    assert all(entry["note"].strip() for entry in EXPECTED.values())
    assert 6 <= len(PROBES) <= 8


def test_it_stores_corpus_files_with_crlf_line_ends() -> None:
    for name in EXPECTED:
        data = (MAIL / name).read_bytes()
        assert b"\n" not in data.replace(b"\r\n", b""), name


def test_it_has_our_server_stamp_every_corpus_mail() -> None:
    for name in EXPECTED:
        mail = parse_mail((MAIL / name).read_bytes())
        assert mail.received, name
        assert mail.received[0].by == "mx.fraga.example.se", name
        assert mail.received[0].at is not None, name


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_it_classifies_and_matches_each_corpus_file(name: str) -> None:
    expected = EXPECTED[name]
    mail = parse_mail((MAIL / name).read_bytes())
    verdict = classify(mail)
    match = match_reply(mail, PROBES)
    got = {
        "kind": str(verdict.kind),
        "reason": verdict.reason,
        "holding": verdict.holding,
        "final": verdict.final,
        "probe_id": match.probe_id,
        "matched_by": match.matched_by,
        "malformed": mail.malformed,
    }
    assert got == {key: expected[key] for key in got}
    if "confidence" in expected:
        assert match.confidence == expected["confidence"]
    if "needs_review" in expected:
        assert match.needs_review == expected["needs_review"]
    if "candidates" in expected:
        assert list(match.candidates) == expected["candidates"]
    if "attachments" in expected:
        assert mail.attachments == expected["attachments"]
    if "dsn_status" in expected:
        assert mail.dsn is not None
        assert [r.status for r in mail.dsn.recipients] == [expected["dsn_status"]]
    for field in ("subject", "from_name"):
        if field in expected:
            assert getattr(mail, field) == expected[field]
    assert set(expected.get("defects_include", [])) <= set(mail.defects)


def test_it_shows_why_arrival_comes_from_received() -> None:
    mail = parse_mail((MAIL / "human_offline_outlook_date.eml").read_bytes())
    assert mail.date is not None
    assert mail.received[0].at is not None
    assert (mail.received[0].at - mail.date).total_seconds() == 3 * 3600 + 36 * 60 + 28


@pytest.mark.parametrize(
    ("name", "snippet"),
    [
        ("human_latin1_declared_cp1252.eml", "zon C – det kostar"),  # 0x96 as windows-1252
        ("human_latin1_declared_cp1252.eml", "“Boendeparkering”"),
        ("human_windows1252_b_subject.eml", "”Vinterhämtning”"),
        ("human_iso8859_1_q_subject.eml", "Region Jämtland Härjedalen"),
        ("malformed_unknown_charset.eml", "Vinterhämtning för fritidshus"),
        ("human_html_only_outlook.eml", "Du ansöker om förskoleplats i e-tjänsten"),
        ("ooo_exchange_online.eml", "Jag är ledig till och med måndag 12 oktober"),
    ],
)
def test_it_decodes_corpus_bodies_to_swedish_text(name: str, snippet: str) -> None:
    text = parse_mail((MAIL / name).read_bytes()).text
    assert text is not None
    assert snippet in text


def test_it_drops_script_and_styles_from_the_html_only_reply() -> None:
    text = parse_mail((MAIL / "human_html_only_outlook.eml").read_bytes()).text
    assert text is not None
    assert "alert" not in text
    assert "MsoNormal" not in text
