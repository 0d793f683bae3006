"""Which probe a received mail belongs to (probes.email_match)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from probes.email_match import Match, ProbeRef, match_reply, subject_key
from probes.email_parse import ParsedMail, ReceivedHop

SENT = datetime(2026, 10, 5, 7, 15, tzinfo=UTC)
LATER = SENT + timedelta(hours=3)

BYGGLOV = ProbeRef(
    id=1,
    message_id="<q1@fraga.example.se>",
    reply_token="k7x2q9",
    reply_address="anna.lindqvist+k7x2q9@fraga.example.se",
    target_address="kommun@ostersund.example.se",
    target_domains=("ostersund.example.se",),
    subject="Fråga om bygglov för altan",
    body=(
        "Hej!\n\nVi funderar på att bygga en altan på baksidan av vårt hus på Frösön. Altanen "
        "blir ungefär 25 kvadratmeter och cirka 60 centimeter över marken. Behöver vi söka "
        "bygglov för det, eller räcker det med en anmälan?\n\nMed vänliga hälsningar\nAnna"
    ),
    sent_at=SENT,
)
PARKERING = ProbeRef(
    id=2,
    message_id="<q2@fraga.example.se>",
    reply_token="h4w7d3",
    reply_address="sara.nilsson+h4w7d3@fraga.example.se",
    target_address="kommun@ostersund.example.se",
    target_domains=("ostersund.example.se", "parkering.example.com"),
    subject="Boendeparkering på Odenslund",
    body=(
        "Hej!\n\nJag har precis flyttat till Odenslund och har ingen egen parkeringsplats. Kan "
        "jag få tillstånd för boendeparkering på gatan, och hur ansöker jag om det?\n\nSara"
    ),
    sent_at=SENT + timedelta(minutes=30),
)
# Same subject as BYGGLOV, to the same municipality, a day later.
BYGGLOV_2 = replace(
    BYGGLOV,
    id=3,
    message_id="<q3@fraga.example.se>",
    reply_token="m5q1x8",
    body="Hej! Vi vill bygga en altan på framsidan, ungefär 10 kvadratmeter. Behövs lov?",
    sent_at=SENT + timedelta(days=1),
)
PROBES = (BYGGLOV, PARKERING, BYGGLOV_2)


def mail(
    *,
    sender: str = "karin.strom@ostersund.example.se",
    subject: str = "Ett helt annat ämne",
    text: str = "Ett svar utan citat.",
    arrived: datetime | None = LATER + timedelta(days=2),
    date: datetime | None = None,
    **fields: Any,
) -> ParsedMail:
    hops = (ReceivedHop(by="mx.fraga.example.se", from_=None, at=arrived, raw=""),)
    base = ParsedMail(
        from_address=sender,
        subject=subject,
        text=text,
        date=date,
        received=hops if arrived else (),
    )
    return replace(base, **fields)


def test_it_trusts_in_reply_to() -> None:
    got = match_reply(mail(in_reply_to=("<other@x>", "<Q2@Fraga.Example.se>")), PROBES)
    assert got == Match(2, 1.0, "in_reply_to", False)


def test_it_trusts_the_original_message_id_inside_a_bounce() -> None:
    got = match_reply(
        mail(sender="mailer-daemon@x.example", original_message_id="<q1@fraga.example.se>"), PROBES
    )
    assert got == Match(1, 1.0, "bounce_original", False)


def test_it_matches_references_newest_first() -> None:
    refs = ("<q1@fraga.example.se>", "<internal@berg.example.se>", "<q2@fraga.example.se>")
    assert match_reply(mail(references=refs), PROBES) == Match(2, 0.95, "references", False)


def test_it_prefers_in_reply_to_over_references() -> None:
    got = match_reply(
        mail(in_reply_to=("<q1@fraga.example.se>",), references=("<q2@fraga.example.se>",)),
        PROBES,
    )
    assert got.probe_id == 1


@pytest.mark.parametrize("field", ["to", "cc", "delivered_to"])
def test_it_finds_the_plus_token_in_any_recipient_field(field: str) -> None:
    recipients = ("kommun@ostersund.example.se", "Sara.Nilsson+H4W7D3@fraga.example.se")
    fields: dict[str, Any] = {field: recipients}
    got = match_reply(mail(sender="x@unknown.example", **fields), PROBES)
    assert got == Match(2, 0.95, "reply_token", False)


def test_it_ignores_a_token_shared_by_two_probes() -> None:
    shared = (replace(BYGGLOV, reply_token="same"), replace(PARKERING, reply_token="same"))
    got = match_reply(mail(sender="x@unknown.example", to=("a+same@fraga.example.se",)), shared)
    assert got == Match(None, 0.0, None, True)


def test_it_sends_tokens_of_two_probes_in_one_mail_to_review() -> None:
    to = ("anna+k7x2q9@fraga.example.se", "sara+h4w7d3@fraga.example.se")
    got = match_reply(mail(to=to), PROBES)
    assert got == Match(None, 0.0, "reply_token", True, (1, 2))


def test_it_ignores_unknown_tokens_and_plain_addresses() -> None:
    to = ("anna+zzzzzz@fraga.example.se", "anna.lindqvist@fraga.example.se")
    assert match_reply(mail(sender="x@unknown.example", to=to), PROBES).probe_id is None


# --- weak signals --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sender",
    [
        "karin.strom@ostersund.example.se",
        "kommun@ostersund.example.se",
        "lars@bygg.ostersund.example.se",  # subdomain
        "Karin@OSTERSUND.example.se",
    ],
)
def test_it_matches_the_same_subject_from_the_target_domain(sender: str) -> None:
    got = match_reply(mail(sender=sender, subject="SV: Boendeparkering på Odenslund"), PROBES)
    assert got == Match(2, 0.8, "subject_and_domain", False)


def test_it_counts_an_extra_reply_domain_as_the_target() -> None:
    got = match_reply(
        mail(sender="kundtjanst@parkering.example.com", subject="Re: Boendeparkering på Odenslund"),
        PROBES,
    )
    assert got == Match(2, 0.8, "subject_and_domain", False)


@pytest.mark.parametrize(
    "sender",
    ["x@notostersund.example.se", "x@ostersund.example.se.evil.example", "x@example.se", ""],
)
def test_it_does_not_take_lookalike_domains_for_the_target(sender: str) -> None:
    got = match_reply(mail(sender=sender, subject="SV: Boendeparkering på Odenslund"), PROBES)
    assert got.matched_by != "subject_and_domain"


def test_it_sends_a_subject_match_from_an_unknown_domain_to_review() -> None:
    got = match_reply(
        mail(sender="goran@wikbygg.example.com", subject="SV: Boendeparkering på Odenslund"),
        PROBES,
    )
    assert got == Match(2, 0.5, "subject_only", True)


QUOTED = (
    "Ja, det går bra.\n\n> Jag har precis flyttat till Odenslund och har ingen egen\n"
    "> parkeringsplats. Kan jag få tillstånd för boendeparkering på gatan, och hur\n"
    "> ansöker jag om det?"
)


def test_it_matches_a_quoted_question_from_the_target_domain() -> None:
    got = match_reply(mail(text=QUOTED), PROBES)
    assert got == Match(2, 0.85, "quoted_text_and_domain", False)


def test_it_matches_an_echoed_longest_sentence() -> None:
    text = "Ditt meddelande: Kan jag få tillstånd för boendeparkering på gatan, och hur ansöker?"
    assert match_reply(mail(text=text), PROBES).matched_by == "quoted_text_and_domain"


def test_it_does_not_take_a_few_shared_words_for_a_quote_but_for_the_topic() -> None:
    # Not a quote of the question, but it talks about its specifics (Odenslund,
    # boendeparkering) from the target's domain, and no other question to Östersund fits.
    text = "Boendeparkering på Odenslund kostar 400 kr. Ansök på webbplatsen om tillstånd."
    assert match_reply(mail(text=text), PROBES) == Match(2, 0.75, "topic", False)


def test_it_needs_the_target_domain_for_a_quote_match() -> None:
    assert match_reply(mail(sender="x@unknown.example", text=QUOTED), PROBES).probe_id is None


def test_it_lets_a_quote_break_a_tie_between_equal_subjects() -> None:
    text = (
        "Svar nedan.\n\n> Altanen blir ungefär 25 kvadratmeter och cirka 60 centimeter över marken."
    )
    got = match_reply(mail(subject="SV: Fråga om bygglov för altan", text=text), PROBES)
    assert got == Match(1, 0.85, "quoted_text_and_domain", False)


def test_it_reports_equal_subjects_to_one_municipality_as_ambiguous() -> None:
    got = match_reply(mail(subject="SV: Fråga om bygglov för altan"), PROBES)
    assert got == Match(None, 0.0, "subject_and_domain", True, (1, 3))


def test_it_reports_equal_subjects_from_an_unknown_domain_as_ambiguous() -> None:
    got = match_reply(
        mail(sender="x@unknown.example", subject="Re: Fråga om bygglov för altan"), PROBES
    )
    assert got == Match(None, 0.0, "subject_only", True, (1, 3))


@pytest.mark.parametrize(
    ("arrived", "expected"),
    [
        (SENT - timedelta(minutes=1), None),  # before either was sent
        (SENT + timedelta(hours=2), 1),  # only the first had been sent
        (SENT + timedelta(days=1), 1),  # arrived the instant the second left: not after it
        (SENT + timedelta(days=1, seconds=1), None),  # both sent: ambiguous
    ],
)
def test_it_only_matches_questions_sent_before_the_mail_arrived(
    arrived: datetime, expected: int | None
) -> None:
    got = match_reply(mail(subject="SV: Fråga om bygglov för altan", arrived=arrived), PROBES)
    assert got.probe_id == expected


def test_it_uses_the_date_header_with_some_skew_when_nothing_was_received() -> None:
    subject = "SV: Fråga om bygglov för altan"
    early = match_reply(
        mail(subject=subject, arrived=None, date=SENT - timedelta(minutes=5)), (BYGGLOV,)
    )
    assert early.probe_id == 1  # within ten minutes of skew
    too_early = match_reply(
        mail(subject=subject, arrived=None, date=SENT - timedelta(hours=1)), (BYGGLOV,)
    )
    assert too_early.probe_id is None
    unknown = match_reply(mail(subject=subject, arrived=None, date=None), (BYGGLOV,))
    assert unknown.probe_id == 1  # no time at all: not excluded


def test_it_prefers_the_received_time_over_an_early_date_header() -> None:
    got = match_reply(
        mail(
            subject="SV: Fråga om bygglov för altan", arrived=LATER, date=SENT - timedelta(hours=5)
        ),
        (BYGGLOV,),
    )
    assert got.probe_id == 1


def test_it_applies_no_time_or_domain_rule_to_strong_signals() -> None:
    got = match_reply(
        mail(
            sender="x@unknown.example",
            arrived=SENT - timedelta(days=3),
            in_reply_to=("<q1@fraga.example.se>",),
        ),
        PROBES,
    )
    assert got.probe_id == 1


@pytest.mark.parametrize(
    ("review_below", "needs_review"),
    [(0.7, False), (0.8, False), (0.81, True), (1.0, True)],
)
def test_it_applies_the_review_threshold_to_the_confidence(
    review_below: float, needs_review: bool
) -> None:
    got = match_reply(
        mail(subject="SV: Boendeparkering på Odenslund"), PROBES, review_below=review_below
    )
    assert (got.probe_id, got.needs_review) == (2, needs_review)


def test_it_lets_a_subject_only_match_through_a_low_threshold() -> None:
    got = match_reply(
        mail(sender="x@unknown.example", subject="SV: Boendeparkering på Odenslund"),
        PROBES,
        review_below=0.5,
    )
    assert got == Match(2, 0.5, "subject_only", False)


def test_it_returns_no_match_without_a_signal() -> None:
    assert match_reply(mail(), PROBES) == Match(None, 0.0, None, True, ())
    assert match_reply(mail(in_reply_to=("<q1@fraga.example.se>",)), ()) == Match(
        None, 0.0, None, True
    )


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("SV: Fråga om bygglov", "fråga om bygglov"),
        ("Automatiskt svar: SV: Fråga om bygglov", "fråga om bygglov"),
        ("Autosvar: Fråga", "fråga"),
        ("Automatic reply: Re: Question", "question"),
        ("Olevererbart: Fråga", "fråga"),
        ("Undeliverable: RE: Fråga", "fråga"),
        ("Det gick inte att leverera: Fråga", "fråga"),
        ("Läst: Fråga", "fråga"),
        ("Fördröjd: Fråga", "fråga"),
        ("Bekräftelse: Fråga", "fråga"),
        ("[EXTERN] SV:  Fråga   om  altan", "fråga om altan"),
        ("Fråga: om bygglov", "fråga: om bygglov"),
        (None, ""),
    ],
)
def test_it_keys_subjects_without_reply_and_automatic_prefixes(
    subject: str | None, expected: str
) -> None:
    assert subject_key(subject) == expected
