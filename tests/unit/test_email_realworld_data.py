"""The realworld mail corpus: checks of the DATA only, not of the classifier.

tests/data/mail/realworld/ holds received mail written the way real MTAs, case systems,
challenge services and people write it. probes.json holds the questions it is matched against;
expected.json says per file what a careful reader decided: the kind and reason, the probe and
the signal that links it, whether it counts as the answer, and a note on what it imitates.

These tests keep the data honest (files and entries agree, line ends, our MX's stamp, labels from
the specification's tables, internal consistency); the classifier's own assertions live with the
classifier. Only the standard library reads the mail here.
"""

from __future__ import annotations

import email
import email.policy
import json
import re
from datetime import datetime
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest

CORPUS = Path(__file__).parents[1] / "data" / "mail" / "realworld"
EXPECTED: dict[str, dict[str, Any]] = json.loads((CORPUS / "expected.json").read_text("utf-8"))
PROBES: dict[int, dict[str, Any]] = {
    p["id"]: p for p in json.loads((CORPUS / "probes.json").read_text("utf-8"))
}
NAMES = sorted(EXPECTED)

REASONS_BY_KIND = {
    "bounce": {"dsn", "mailer_daemon", "nondelivery_text", "dsn_delayed", "delay_text"},
    "auto_reply": {
        "dsn_success",
        "delivery_success",
        "mdn",
        "read_receipt_subject",
        "auto_submitted",
        "x_autoreply",
        "precedence",
        "challenge_response",
        "ooo_subject",
        "ooo_body",
        "case_receipt_subject",
        "case_receipt_body",
        "noreply_sender",
        "null_sender",
    },
    "unrelated": {"feedback_report", "spam", "bulk"},
    "human_reply": {"personal"},
}
DELAY_REASONS = {"dsn_delayed", "delay_text"}
CONFIDENCE = {
    "in_reply_to": 1.0,
    "references": 0.95,
    "reply_token": 0.95,
    "case_number": 0.9,
    "thread_topic": 0.85,
    "quoted_text_and_domain": 0.85,
    "subject_and_domain": 0.8,
    "subject_contained": 0.75,
    "topic": 0.75,
    "subject_only": 0.5,
    "bounce_original": 1.0,
}
REVIEW_BELOW = 0.7
# bounce_original links a returned original to its probe but is never an answer's signal.
REPLY_SIGNALS = set(CONFIDENCE) - {"bounce_original"}
REQUIRED = {"kind", "reason", "final", "probe_id", "matched_by", "counts", "note"}
OPTIONAL = {
    "holding",
    "confidence",
    "candidates",
    "needs_review",
    "original_message_id",
    "case_numbers",
}
# Upper case, no spaces, no leading zeros in a digit group; '-' and '/' kept between groups.
CASE_NUMBER = re.compile(r"[A-ZÅÄÖ]*(?:0|[1-9]\d*)(?:[-/](?:0|[1-9]\d*))*")
MESSAGE_ID = re.compile(r"<\d{14}\.([a-z0-9]+)@fraga\.example\.se>")


def _raw(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


def _message(name: str) -> Message:
    return email.message_from_bytes(_raw(name), policy=email.policy.compat32)


def _arrival(message: Message) -> datetime:
    """The time our MX wrote in the first Received: header."""
    stamp = str(message.get_all("Received", [])[0])
    return parsedate_to_datetime(stamp.rpartition(";")[2].strip())


def _sent_at(probe_id: int) -> datetime:
    return datetime.fromisoformat(PROBES[probe_id]["sent_at"])


def _decoded_parts(message: Message) -> list[str]:
    """Every leaf part's payload, transfer-decoded, as text (for finding a returned original)."""
    texts: list[str] = []
    for part in message.walk():
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            texts.append(payload.decode("utf-8", "replace"))
        else:
            texts.append(str(part.get_payload()))
    return texts


def test_every_file_has_an_entry_and_every_entry_a_file() -> None:
    on_disk = {path.name for path in CORPUS.glob("*.eml")}
    assert len(on_disk) >= 50
    assert on_disk == set(EXPECTED)


def test_the_probes_are_well_formed() -> None:
    assert 6 <= len(PROBES) <= 8
    for probe_id, probe in PROBES.items():
        assert isinstance(probe_id, int)
        match = MESSAGE_ID.fullmatch(probe["message_id"])
        assert match, probe["message_id"]
        token = probe["reply_token"]
        assert match.group(1) == token
        assert re.fullmatch(rf"[a-z.]+\+{token}@fraga\.example\.se", probe["reply_address"])
        assert probe["target_address"].rpartition("@")[2] in probe["target_domains"]
        assert probe["subject"].strip()
        assert probe["body"].strip()
        assert _sent_at(probe_id).tzinfo is not None
        for number in probe.get("case_numbers", []):
            assert CASE_NUMBER.fullmatch(number), number
    tokens = [p["reply_token"] for p in PROBES.values()]
    assert len(set(tokens)) == len(tokens)


def test_two_open_questions_share_one_target() -> None:
    by_target: dict[str, list[dict[str, Any]]] = {}
    for probe in PROBES.values():
        by_target.setdefault(probe["target_address"], []).append(probe)
    shared = [group for group in by_target.values() if len(group) >= 2]
    assert shared
    assert all(len({p["subject"] for p in group}) == len(group) for group in shared)
    assert any("case_numbers" in probe for probe in PROBES.values())


@pytest.mark.parametrize("name", NAMES)
def test_it_stores_the_file_with_crlf_line_ends(name: str) -> None:
    data = _raw(name)
    assert data.endswith(b"\r\n")
    assert b"\n" not in data.replace(b"\r\n", b"")


@pytest.mark.parametrize("name", NAMES)
def test_our_mx_stamps_the_first_received_header(name: str) -> None:
    message = _message(name)
    received = message.get_all("Received", [])
    assert received, name
    assert re.search(r"\bby mx\.fraga\.example\.se\b", str(received[0]))
    assert _arrival(message).tzinfo is not None


@pytest.mark.parametrize("name", NAMES)
def test_a_linked_mail_arrives_after_its_question(name: str) -> None:
    expected = EXPECTED[name]
    linked = [expected["probe_id"], *expected.get("candidates", [])]
    arrival = _arrival(_message(name))
    for probe_id in (p for p in linked if p is not None):
        assert arrival > _sent_at(probe_id), (name, probe_id)


@pytest.mark.parametrize("name", NAMES)
def test_the_entry_uses_the_specification_labels(name: str) -> None:
    expected = EXPECTED[name]
    assert REQUIRED <= set(expected) <= REQUIRED | OPTIONAL
    assert expected["note"].strip()
    kind, reason = expected["kind"], expected["reason"]
    assert reason in REASONS_BY_KIND[kind]
    assert expected["final"] is (reason not in DELAY_REASONS)
    assert isinstance(expected.get("holding", False), bool)
    assert not expected.get("holding", False) or kind == "human_reply"
    matched_by = expected["matched_by"]
    assert matched_by is None or matched_by in CONFIDENCE
    probe_id = expected["probe_id"]
    assert probe_id is None or probe_id in PROBES
    if probe_id is not None:
        assert matched_by is not None
        assert expected.get("confidence", CONFIDENCE[matched_by]) == CONFIDENCE[matched_by]
    candidates = expected.get("candidates")
    if candidates is not None:
        assert probe_id is None
        assert len(candidates) >= 2
        assert set(candidates) <= set(PROBES)
        assert expected["needs_review"] is True
    if matched_by is None:
        assert probe_id is None
        assert candidates is None


@pytest.mark.parametrize("name", NAMES)
def test_counts_follows_the_rule(name: str) -> None:
    expected = EXPECTED[name]
    matched_by = expected["matched_by"]
    needs_review = expected.get("needs_review", False)
    if matched_by == "subject_only" or (
        matched_by == "bounce_original" and expected["kind"] == "human_reply"
    ):
        assert needs_review is True
    counts = (
        expected["kind"] == "human_reply"
        and not expected.get("holding", False)
        and expected["probe_id"] is not None
        and matched_by in REPLY_SIGNALS
        and CONFIDENCE[matched_by] >= REVIEW_BELOW
        and not needs_review
    )
    assert expected["counts"] is counts


@pytest.mark.parametrize("name", NAMES)
def test_the_linking_signal_is_in_the_data(name: str) -> None:
    expected = EXPECTED[name]
    probe_id = expected["probe_id"]
    if probe_id is None:
        return
    probe = PROBES[probe_id]
    message = _message(name)
    matched_by = expected["matched_by"]
    if matched_by == "in_reply_to":
        assert probe["message_id"] in str(message.get("In-Reply-To", ""))
    elif matched_by == "references":
        assert probe["message_id"] in str(message.get("References", ""))
    elif matched_by == "reply_token":
        fields = [str(v) for h in ("To", "Cc", "Delivered-To") for v in message.get_all(h, [])]
        addresses = {address.casefold() for _, address in getaddresses(fields)}
        assert probe["reply_address"].casefold() in addresses
    elif matched_by == "bounce_original":
        assert expected["original_message_id"] == probe["message_id"]


@pytest.mark.parametrize(
    "name", [name for name in NAMES if "original_message_id" in EXPECTED[name]]
)
def test_the_returned_original_is_in_the_file(name: str) -> None:
    """The original's Message-ID is somewhere in the body, raw or after transfer decoding."""
    wanted = EXPECTED[name]["original_message_id"]
    assert wanted in {p["message_id"] for p in PROBES.values()}
    raw = _raw(name)
    body = raw.partition(b"\r\n\r\n")[2]
    found = wanted.encode() in body or any(wanted in t for t in _decoded_parts(_message(name)))
    assert found, name


@pytest.mark.parametrize("name", [name for name in NAMES if "case_numbers" in EXPECTED[name]])
def test_case_numbers_are_normalised(name: str) -> None:
    numbers = EXPECTED[name]["case_numbers"]
    assert numbers
    for number in numbers:
        assert CASE_NUMBER.fullmatch(number), number


def test_the_corpus_covers_every_kind_and_the_review_cases() -> None:
    entries = list(EXPECTED.values())
    assert {e["kind"] for e in entries} == set(REASONS_BY_KIND)
    assert any(e["counts"] for e in entries)
    assert any(e.get("candidates") for e in entries)
    assert any(not e["final"] for e in entries)
    assert any(e["matched_by"] == "bounce_original" and e["kind"] == "human_reply" for e in entries)
