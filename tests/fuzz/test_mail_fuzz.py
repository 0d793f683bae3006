"""Fuzzing the mail pipeline: whatever arrives is analysed without an error and kept raw.

Two sources of input: MIME messages built by hypothesis (nested multiparts, wrong and missing
boundaries, unknown and lying charsets, RFC 2047 encoded words good and broken, huge and folded
headers, binary junk in bodies and headers), and mutations of the real corpus in
``tests/data/mail`` (bytes flipped, cut short, spliced, lines duplicated). Every case goes through
parse, classify, match and timing (:func:`probes.email_analysis.analyse`); a sample also goes
through the mail store, which must keep the exact bytes.

``KKIK_FUZZ_EXAMPLES`` sets the number of generated cases per test (CI runs the default; the
full run in docs/performance.md used 10,000).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlmodel import Session, select

from harness.channels.email.store import MailStore, decompress
from harness.core.clock import FakeClock
from harness.store import migrate
from harness.store.db import make_engine
from harness.store.models import Message
from probes.email_analysis import TimingRules, analyse
from probes.email_match import ProbeRef
from probes.imap_wire import FetchedMessage

EXAMPLES = int(os.environ.get("KKIK_FUZZ_EXAMPLES", "1000"))
# A full run (10,000 cases) takes minutes; the per-test time limit grows with it.
pytestmark = pytest.mark.timeout(max(120, EXAMPLES // 10))
CORPUS = sorted((Path(__file__).parents[1] / "data" / "mail").glob("*.eml"))
SENT = datetime(2026, 10, 5, 7, 0, tzinfo=UTC)
PROBE = ProbeRef(
    id=1,
    message_id="<q1@fraga.example.se>",
    reply_token="k7x2q9",
    reply_address="anna.lindqvist+k7x2q9@fraga.example.se",
    target_address="kommun@ostersund.example.se",
    target_domains=("ostersund.example.se",),
    subject="Fråga om bygglov för altan",
    body="Behöver vi söka bygglov för en altan på 25 kvadratmeter?",
    sent_at=SENT,
)
RULES = TimingRules(receiving_hosts=("mx.fraga.example.se",))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)

# --- building blocks --------------------------------------------------------------------------

TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=200)
CHARSETS = st.sampled_from(
    ["utf-8", "iso-8859-1", "windows-1252", "us-ascii", "utf-16", "x-unknown", "", "utf-8''"]
)
ENCODINGS = st.sampled_from(["7bit", "8bit", "base64", "quoted-printable", "binary", "x-bogus"])


@st.composite
def encoded_word(draw: st.DrawFn) -> str:
    """RFC 2047 words, valid or broken (wrong charset, bad base64, unterminated)."""
    charset = draw(CHARSETS)
    kind = draw(st.sampled_from(["B", "Q", "X"]))
    payload = draw(st.text(alphabet="ABCDEFGHabcdefgh0123456789+/=_?åäö ", max_size=40))
    end = draw(st.sampled_from(["?=", "", "?"]))
    return f"=?{charset}?{kind}?{payload}{end}"


@st.composite
def header_value(draw: st.DrawFn) -> str:
    parts = draw(st.lists(st.one_of(TEXT, encoded_word()), max_size=5))
    value = " ".join(parts)
    if draw(st.booleans()):
        value = value * draw(st.integers(1, 400))  # huge headers
    if draw(st.booleans()):
        value = value.replace(" ", "\r\n\t", draw(st.integers(0, 20)))  # folded
    return value


HEADER_NAMES = st.sampled_from(
    ["From", "To", "Cc", "Subject", "Date", "Message-ID", "In-Reply-To", "References",
     "Received", "Auto-Submitted", "Content-Type", "X-Spam-Flag", "Return-Path",
     "Delivered-To", "X-Weird", "Content-Transfer-Encoding", "MIME-Version"]
)  # fmt: skip


@st.composite
def part(draw: st.DrawFn, depth: int = 0) -> bytes:
    """One MIME entity: a leaf with some body, or a multipart of more (boundaries may lie)."""
    headers = [
        f"{draw(HEADER_NAMES)}: {draw(header_value())}" for _ in range(draw(st.integers(0, 6)))
    ]
    if depth < 3 and draw(st.booleans()):
        boundary = draw(st.text(alphabet="abcXYZ0123-_=", min_size=0, max_size=20))
        declared = boundary if draw(st.integers(0, 4)) else draw(st.text(max_size=10))
        subtype = draw(st.sampled_from(["mixed", "alternative", "related", "report", "x"]))
        headers.append(f'Content-Type: multipart/{subtype}; boundary="{declared}"')
        children = draw(st.lists(part(depth + 1), max_size=4))
        body = b"".join(b"--" + boundary.encode() + b"\r\n" + c + b"\r\n" for c in children)
        if draw(st.booleans()):
            body += b"--" + boundary.encode() + b"--\r\n"
    else:
        subtype = draw(st.sampled_from(["plain", "html", "calendar", "rfc822", "octet-stream"]))
        charset = draw(CHARSETS)
        headers.append(f"Content-Type: text/{subtype}; charset={charset}")
        headers.append(f"Content-Transfer-Encoding: {draw(ENCODINGS)}")
        body = draw(st.one_of(TEXT.map(lambda t: t.encode("utf-8")), st.binary(max_size=500)))
    head = "\r\n".join(headers).encode("utf-8", "surrogateescape")
    return head + b"\r\n\r\n" + body


MESSAGES = st.one_of(part(), st.binary(max_size=2000))


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A corpus message damaged the way transport and software damage mail."""
    raw = bytearray(draw(st.sampled_from(CORPUS)).read_bytes())
    for _ in range(draw(st.integers(1, 6))):
        action = draw(st.sampled_from(["flip", "cut", "splice", "repeat", "nul"]))
        at = draw(st.integers(0, max(0, len(raw) - 1)))
        if action == "flip" and raw:
            raw[at] ^= draw(st.integers(1, 255))
        elif action == "cut":
            del raw[at:]
        elif action == "splice":
            other = draw(st.sampled_from(CORPUS)).read_bytes()
            raw[at:at] = other[: draw(st.integers(0, len(other)))]
        elif action == "repeat":
            raw[at:at] = raw[at : at + draw(st.integers(0, 300))] * draw(st.integers(1, 50))
        elif action == "nul":
            raw[at:at] = b"\x00\r\r\n\xff"
    return bytes(raw)


# --- properties ---------------------------------------------------------------------------------


def _analyse(raw: bytes) -> None:
    result = analyse(raw, [PROBE], RULES, internal_date=SENT + timedelta(hours=1))
    assert result.verdict.kind is not None
    assert result.match.probe_id in (None, 1)


@FUZZ
@given(MESSAGES)
def test_generated_mime_never_breaks_the_analysis(raw: bytes):
    _analyse(raw)


@FUZZ
@given(mutated())
def test_damaged_corpus_mail_never_breaks_the_analysis(raw: bytes):
    _analyse(raw)


def test_every_fuzzed_message_is_stored_raw(tmp_path: Path):
    """A sample through the real store: stored once, bytes identical, malformed ones flagged."""
    engine: Engine = make_engine(f"sqlite:///{tmp_path / 'kkik.db'}")
    migrate.upgrade(engine)
    store = MailStore(engine, FakeClock(SENT + timedelta(hours=2)), RULES)
    samples: list[bytes] = []

    @settings(max_examples=max(50, EXAMPLES // 10), deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
    @given(st.one_of(MESSAGES, mutated()))
    def collect(raw: bytes) -> None:
        samples.append(raw)

    collect()
    fetched = [
        FetchedMessage(uid, SENT + timedelta(hours=1), len(raw), raw)
        for uid, raw in enumerate(samples, start=1)
    ]
    for message in fetched:
        store.ingest("INBOX", 1, message)
    with Session(engine) as session:
        rows = session.exec(select(Message)).all()
    assert {decompress(r.raw_compressed) for r in rows} == set(samples)  # nothing lost
    assert len(rows) <= len(samples)
    # Fetched again (a restart, a reconnect): nothing is stored twice.
    assert not any(store.ingest("INBOX", 1, message) for message in fetched)
    with Session(engine) as session:
        assert len(session.exec(select(Message)).all()) == len(rows)
    engine.dispose()
