"""The realworld corpus through the real pipeline: kind, reason, probe, signal, counting.

tests/data/mail/realworld/ was written from how real MTAs, case systems, challenge services and
people write mail, against the specification of issue 14, before the classifier it tests
(its data checks: tests/unit/test_email_realworld_data.py). Here every message goes through
``analyse`` as the watcher runs it, with the corpus's questions as the question bank.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from probes.case_numbers import find_case_numbers
from probes.email_analysis import TimingRules, analyse, probe_refs_from_json
from probes.email_match import TopicIndex
from probes.email_wording import new_text

CORPUS = Path(__file__).parents[1] / "data" / "mail" / "realworld"
EXPECTED: dict[str, dict[str, Any]] = json.loads((CORPUS / "expected.json").read_text("utf-8"))
PROBES = probe_refs_from_json(json.loads((CORPUS / "probes.json").read_text("utf-8")))
TOPICS = TopicIndex(f"{p.subject}\n{p.body}" for p in PROBES)
RULES = TimingRules(receiving_hosts=("mx.fraga.example.se",))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_realworld_mail_is_read_as_a_careful_reader_would(name: str) -> None:
    want = EXPECTED[name]
    result = analyse((CORPUS / name).read_bytes(), PROBES, RULES, topics=TOPICS)
    got = {
        "kind": result.verdict.kind.value,
        "reason": result.verdict.reason,
        "final": result.verdict.final,
        "probe_id": result.match.probe_id,
        "matched_by": result.match.matched_by,
        "counts": result.counts_as_answer,
    }
    assert got == {key: want[key] for key in got}, want["note"]
    if "holding" in want:
        assert result.verdict.holding == want["holding"]
    if "candidates" in want:
        assert list(result.match.candidates) == want["candidates"]
    if "needs_review" in want:
        assert result.match.needs_review == want["needs_review"]
    if "original_message_id" in want:
        assert result.mail.original_message_id == want["original_message_id"]
    if (
        "case_numbers" in want
    ):  # what the mail store keeps with the probe (harness.channels.email.store)
        mail = result.mail
        found = find_case_numbers(f"{mail.subject or ''}\n{new_text(mail.text or '')}")
        assert found == want["case_numbers"]


def test_a_bounce_never_counts_and_every_counting_mail_is_a_persons_reply() -> None:
    for name, want in EXPECTED.items():
        result = analyse((CORPUS / name).read_bytes(), PROBES, RULES, topics=TOPICS)
        if result.counts_as_answer:
            assert result.verdict.kind.value == "human_reply", name
            assert result.match.matched_by != "bounce_original", name
        if want["kind"] == "bounce":
            assert not result.counts_as_answer, name


def test_counted_answers_are_timed_from_our_mail_servers_stamp() -> None:
    timed = 0
    for name in EXPECTED:
        result = analyse((CORPUS / name).read_bytes(), PROBES, RULES, topics=TOPICS)
        if result.counts_as_answer:
            assert result.arrival.source == "received_header", name
            assert isinstance(result.arrival.at, datetime)
            assert result.business_hours is not None
            timed += 1
    assert timed >= 10
