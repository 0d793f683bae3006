"""What counts as an answer (results.answer_rule), and the safety rule for returned originals.

No message whose only link to a question is the copy of our message it carries
(``bounce_original``) may ever count as the answer, whatever it is classified as: that is how a
bounce misread as a person's reply would count as answered within one working day.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from probes.email_analysis import TimingRules, analyse
from probes.email_match import ProbeRef
from results.answer_rule import LINK_ONLY, REPLY_SIGNALS, counts_as_answer
from results.email_log import ReplyEvidence, answer

SENT = datetime(2026, 10, 6, 7, 0, tzinfo=UTC)
OURS = "<20261006090000.a1b2c3@fraga.example.se>"
PROBE = ProbeRef(
    id=1,
    message_id=OURS,
    reply_token="a1b2c3",
    reply_address="per.olsson+a1b2c3@fraga.example.se",
    target_address="kommun@ostersund.example.se",
    target_domains=("ostersund.example.se",),
    subject="Läckande brandpost utanför huset",
    body="Brandposten utanför Kyrkgatan 12 läcker. Vem lagar den?",
    sent_at=SENT,
)
ANSWER = (
    "Hej Per!\n\nBrandposten vid Kyrkgatan 12 är lagad sedan i går. VA-jouren bytte packningen "
    "och trottoaren är sandad.\n\nMed vänlig hälsning\nLars Öberg\nVA-enheten\n"
)


def test_only_a_human_reply_linked_by_a_reply_signal_and_not_in_review_counts() -> None:
    base = {
        "kind": "human_reply",
        "holding": False,
        "matched_by": "in_reply_to",
        "needs_review": False,
        "count_holding_replies": False,
    }
    assert counts_as_answer(**base)  # type: ignore[arg-type]
    for change in (
        {"kind": "auto_reply"},
        {"kind": "bounce"},
        {"kind": "unrelated"},
        {"kind": None},
        {"holding": True},
        {"matched_by": "bounce_original"},
        {"matched_by": None},
        {"matched_by": "something_new"},
        {"needs_review": True},
    ):
        assert not counts_as_answer(**{**base, **change}), change  # type: ignore[arg-type]
    assert counts_as_answer(**{**base, "holding": True, "count_holding_replies": True})  # type: ignore[arg-type]


def test_the_signals_are_named_once() -> None:
    assert not REPLY_SIGNALS & LINK_ONLY
    assert "manual" in REPLY_SIGNALS  # a person's assignment counts


def _mail(
    *,
    sender: str,
    return_path: str,
    subject: str,
    text: str,
    enclose: str,
    to: str,
) -> bytes:
    enclosed = {
        "rfc822": f"Content-Type: message/rfc822\r\n\r\nMessage-ID: {OURS}\r\n\r\nHej",
        "headers": f"Content-Type: text/rfc822-headers\r\n\r\nMessage-ID: {OURS}\r\n",
        "quoted": f"Content-Type: text/plain\r\n\r\n> Message-ID: {OURS}\r\n",
    }[enclose]
    return (
        f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\nReturn-Path: {return_path}\r\n"
        "Message-ID: <m1@ostersund.example.se>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        f"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n"
        f"--b\r\n{enclosed}\r\n--b--\r\n"
    ).encode()


senders = st.sampled_from(
    [
        "Lars Öberg <lars.oberg@ostersund.example.se>",
        "MAILER-DAEMON@mx.ostersund.example.se",
        "post_master@ostersund.example.se",
        "Kundtjänst <info@helpdesk.example.net>",
    ]
)
texts = st.one_of(
    st.sampled_from(
        [
            ANSWER,
            "Unable to deliver message to the following address(es).",
            "Ihre Nachricht konnte nicht zugestellt werden.",
            "Ärendet är registrerat.",
            "",
        ]
    ),
    st.text(max_size=300),
)


@settings(max_examples=300, deadline=None)
@given(
    sender=senders,
    return_path=st.sampled_from(["<>", "<lars.oberg@ostersund.example.se>"]),
    subject=st.sampled_from(["Re: Läckande brandpost utanför huset", "Svar", "Undeliverable"]),
    text=texts,
    enclose=st.sampled_from(["rfc822", "headers", "quoted"]),
    to=st.sampled_from(["per.olsson+a1b2c3@fraga.example.se", "per.olsson@fraga.example.se"]),
)
def test_a_message_linked_only_by_the_returned_original_never_counts(
    sender: str, return_path: str, subject: str, text: str, enclose: str, to: str
) -> None:
    raw = _mail(
        sender=sender, return_path=return_path, subject=subject, text=text, enclose=enclose, to=to
    )
    result = analyse(raw, [PROBE], TimingRules(), internal_date=SENT + timedelta(hours=2))
    if result.match.matched_by == "bounce_original":
        assert not result.counts_as_answer
        assert result.business_hours is None
        if result.verdict.kind.value == "human_reply":
            assert result.match.needs_review
    evidence = ReplyEvidence(
        arrived_at=SENT + timedelta(hours=2),
        kind=result.verdict.kind.value,
        holding=result.verdict.holding,
        matched_by=result.match.matched_by,
        needs_review=False,  # even if nothing else held it back
    )
    if result.match.matched_by == "bounce_original":
        assert answer([evidence], count_holding_replies=True) is None


def test_a_personal_looking_mail_carrying_our_original_goes_to_review() -> None:
    raw = _mail(
        sender="Lars Öberg <lars.oberg@ostersund.example.se>",
        return_path="<lars.oberg@ostersund.example.se>",
        subject="Svar",
        text=ANSWER,
        enclose="rfc822",
        to="per.olsson+a1b2c3@fraga.example.se",
    )
    result = analyse(raw, [PROBE], TimingRules(), internal_date=SENT + timedelta(hours=2))
    assert (result.match.probe_id, result.match.matched_by) == (1, "bounce_original")
    assert result.verdict.kind.value == "human_reply"
    assert result.match.needs_review
    assert not result.counts_as_answer
