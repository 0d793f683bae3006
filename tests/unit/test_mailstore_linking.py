"""The mail store links case-system mail to questions, keeps case numbers, never counts a bounce.

Real SQLite, the real MailStore; the messages are what case systems and mail servers send.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from sqlalchemy import Engine
from sqlmodel import Session, select

from harness.campaign.evidence import email_evidence
from harness.channels.email.settle import replies_by_probe
from harness.channels.email.store import MailStore
from harness.core.clock import SystemClock
from harness.store.models import CaseNumber, Message, Probe, ProbeState, Question, Target
from probes.email_analysis import TimingRules
from probes.imap_wire import FetchedMessage
from results.calendar import DeadlineRule, WorkCalendar
from results.email_log import answer, log_rows
from tests.factories import SentProbe, seed_sent_probe

SENT = datetime(2026, 10, 6, 7, 0, tzinfo=UTC)  # Tuesday 09:00 in Stockholm
_uid = iter(range(1, 1000))


def _mail(headers: dict[str, str], text: str, written: datetime) -> bytes:
    head = {
        "From": "Ärendehantering <registrator@ostersund.example.se>",
        "To": "anna.lindqvist@fraga.example.se",
        "Date": format_datetime(written),
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=utf-8",
        **headers,
    }
    lines = [f"{k}: {v}" for k, v in head.items()] + ["", text]
    return "\r\n".join(lines).replace("\n", "\r\n").replace("\r\r\n", "\r\n").encode("utf-8")


def _ingest(store: MailStore, raw: bytes, at: datetime) -> Message:
    uid = next(_uid)
    assert store.ingest("INBOX", 1, FetchedMessage(uid, at, None, raw))
    with Session(store.engine) as session:
        row = session.exec(select(Message).where(Message.uid == uid)).one()
        session.expunge(row)
        return row


def _probe(engine: Engine, probe: SentProbe) -> Probe:
    with Session(engine) as session:
        row = session.get(Probe, probe.probe_id)
        assert row is not None
        session.expunge(row)
        return row


def _ask(engine: Engine, probe: SentProbe, subject: str, body: str) -> None:
    with Session(engine) as session:
        row = session.get(Probe, probe.probe_id)
        assert row is not None
        question = session.get(Question, row.question_id)
        assert question is not None
        question.subject, question.body = subject, body
        session.add(question)
        session.commit()


def test_a_receipts_diarienummer_links_the_later_answer(sqlite_engine: Engine) -> None:
    probe = seed_sent_probe(sqlite_engine, sent_at=SENT, token="aaaa1111")
    store = MailStore(sqlite_engine, SystemClock(), TimingRules())
    receipt = _mail(
        {
            "Subject": "Ditt ärende har registrerats",
            "Message-ID": "<kvitto-1@ostersund.example.se>",
            "In-Reply-To": probe.message_id,
            "Auto-Submitted": "auto-generated",
        },
        "Vi har tagit emot ditt meddelande. Diarienummer: KS 2025/0194.\n"
        "Ange diarienumret om du kontaktar oss.",
        SENT + timedelta(minutes=2),
    )
    row = _ingest(store, receipt, SENT + timedelta(minutes=2))
    assert (row.classification, row.probe_id) == ("auto_reply", probe.probe_id)
    with Session(sqlite_engine) as session:
        numbers = session.exec(select(CaseNumber)).all()
    assert [(n.probe_id, n.number, n.message_id) for n in numbers] == [
        (probe.probe_id, "KS2025/194", row.id)
    ]
    assert _probe(sqlite_engine, probe).state == ProbeState.SENT  # a receipt never answers
    # The log shows that the question arrived, and the number it was given.
    [logged] = log_rows(
        email_evidence(sqlite_engine, None, None, "Europe/Stockholm", 0.7),
        WorkCalendar(),
        DeadlineRule.OFFICE_HOURS,
    )
    assert (logged.acknowledged_at, logged.case_numbers) == (
        SENT + timedelta(minutes=2),
        ("KS2025/194",),
    )
    assert (logged.answered_at, logged.reply_kind) == (None, "auto_reply")

    store.prepare()  # the next sync: the number is now part of what the matcher knows
    arrived = SENT + timedelta(hours=26)
    answer_mail = _mail(
        {
            "From": "Karin Berg <karin.berg@ostersund.example.se>",
            "Subject": "Beslut i ärende KS 2025/0194",
            "Message-ID": "<svar-7@ostersund.example.se>",
        },
        "Hej Anna!\n\nEtt uterum på tolv kvadratmeter kräver bygglov eftersom det byggs ihop "
        "med huset. Du söker i vår e-tjänst.\n\nMed vänlig hälsning\nKarin Berg\n",
        arrived,
    )
    row = _ingest(store, answer_mail, arrived)
    assert (row.probe_id, row.match_method, row.classification) == (
        probe.probe_id,
        "case_number",
        "human_reply",
    )
    stored = _probe(sqlite_engine, probe)
    assert (stored.state, stored.outcome, stored.completed_at) == (
        ProbeState.COMPLETED,
        "answered",
        arrived,
    )


def test_the_answer_about_one_of_two_open_questions_is_matched_by_topic(
    sqlite_engine: Engine,
) -> None:
    brandpost = seed_sent_probe(sqlite_engine, sent_at=SENT, token="bbbb2222")
    forskola = seed_sent_probe(sqlite_engine, sent_at=SENT, token="cccc3333")
    _ask(
        sqlite_engine,
        brandpost,
        "Läckande brandpost",
        "Brandposten utanför Kyrkgatan 12 har läckt vatten i flera dagar. Vem lagar den?",
    )
    _ask(
        sqlite_engine,
        forskola,
        "Förskoleplats i Lugnvik",
        "Vi flyttar till Lugnvik och behöver förskoleplats. Hur lång är kön?",
    )
    store = MailStore(sqlite_engine, SystemClock(), TimingRules())
    row = _ingest(
        store,
        _mail(
            {
                "From": "Lars Öberg <lars.oberg@ostersund.example.se>",
                "Subject": "Brandposten på Kyrkgatan 12 är lagad",
                "Message-ID": "<va-1@ostersund.example.se>",
            },
            "Hej!\n\nVA-jouren har bytt packningen i brandposten på Kyrkgatan 12.\n\n"
            "Med vänlig hälsning\nLars Öberg\n",
            SENT + timedelta(hours=3),
        ),
        SENT + timedelta(hours=3),
    )
    assert (row.probe_id, row.match_method, row.needs_review) == (
        brandpost.probe_id,
        "topic",
        False,
    )
    assert _probe(sqlite_engine, brandpost).outcome == "answered"
    assert _probe(sqlite_engine, forskola).outcome is None

    both = _ingest(
        store,
        _mail(
            {
                "From": "Kontaktcenter <kontakt@ostersund.example.se>",
                "Subject": "Dina frågor",
                "Message-ID": "<kc-2@ostersund.example.se>",
            },
            "Hej! Brandposten på Kyrkgatan 12 är lagad, och om förskoleplats i Lugnvik: "
            "ansök i e-tjänsten.\n\nMed vänlig hälsning\nEva Lund\n",
            SENT + timedelta(hours=4),
        ),
        SENT + timedelta(hours=4),
    )
    assert (both.probe_id, both.needs_review) == (None, True)
    assert both.candidates == sorted([brandpost.probe_id, forskola.probe_id])
    assert both.review_note == "Ambiguous: several probes fit"


def test_a_personal_looking_mail_tied_only_by_our_original_never_counts(
    sqlite_engine: Engine,
) -> None:
    probe = seed_sent_probe(sqlite_engine, sent_at=SENT, token="dddd4444")
    store = MailStore(sqlite_engine, SystemClock(), TimingRules())
    raw = (
        "From: Lars Öberg <lars.oberg@ostersund.example.se>\r\n"
        "To: anna.lindqvist+dddd4444@fraga.example.se\r\nSubject: Ditt mejl\r\n"
        "Message-ID: <fwd-1@ostersund.example.se>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        "Hej! Jag hittade ditt mejl i fel brevlåda och skickar tillbaka det, det ska nog till "
        "registraturen i stället.\r\n\r\nMed vänlig hälsning\r\nLars Öberg\r\n"
        f"--b\r\nContent-Type: message/rfc822\r\n\r\nMessage-ID: {probe.message_id}\r\n"
        f"Subject: {probe.subject}\r\n\r\nHej!\r\n--b--\r\n"
    ).encode()
    row = _ingest(store, raw, SENT + timedelta(hours=1))
    assert (row.probe_id, row.match_method, row.classification) == (
        probe.probe_id,
        "bounce_original",
        "human_reply",
    )
    assert row.needs_review
    assert row.review_note == "Reads as a reply, linked only by the returned original"
    assert _probe(sqlite_engine, probe).outcome is None
    with Session(sqlite_engine) as session:
        replies = replies_by_probe(session, [probe.probe_id], TimingRules().review_below)
    assert answer(replies[probe.probe_id], count_holding_replies=True) is None


def test_a_daemon_bounce_in_unknown_words_marks_the_address_broken(sqlite_engine: Engine) -> None:
    probe = seed_sent_probe(sqlite_engine, sent_at=SENT, token="eeee5555")
    store = MailStore(sqlite_engine, SystemClock(), TimingRules())
    raw = (
        "Return-Path: <>\r\nFrom: post_master@ostersund.example.se\r\n"
        "To: anna.lindqvist+eeee5555@fraga.example.se\r\n"
        f"Subject: Re: {probe.subject}\r\nMessage-ID: <ndr-9@ostersund.example.se>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        "Postfach kommun@ostersund.example.se existiert nicht mehr.\r\n\r\n"
        f"Message-ID: {probe.message_id}\r\nSubject: {probe.subject}\r\n"
    ).encode()
    at = SENT + timedelta(minutes=1)
    row = _ingest(store, raw, at)
    assert (row.classification, row.classification_reason, row.match_method) == (
        "bounce",
        "mailer_daemon",
        "bounce_original",
    )
    stored = _probe(sqlite_engine, probe)
    assert (stored.state, stored.outcome, stored.completed_at) == (
        ProbeState.COMPLETED,
        "bounced",
        at,
    )
    with Session(sqlite_engine) as session:
        target = session.get(Target, probe.target_id)
        assert target is not None
        assert target.email_broken_reason == "Bounced"
