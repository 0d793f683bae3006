"""Answers that case systems rewrote, matched to the right question (probes.email_match).

Two questions are open to Östersund at once (a leaking hydrant on Kyrkgatan and a preschool
place in Lugnvik), one to Åre. Every reply here comes without threading headers or our reply
token, the way case and contact-centre systems send them.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from probes.email_match import Match, ProbeRef, TopicIndex, match_reply, subject_key
from probes.email_parse import ParsedMail, ReceivedHop

SENT = datetime(2026, 10, 6, 7, 0, tzinfo=UTC)
ARRIVED = SENT + timedelta(hours=5)

BRANDPOST = ProbeRef(
    id=11,
    message_id="<q11@fraga.example.se>",
    reply_token="a1b2c3",
    reply_address="per.olsson+a1b2c3@fraga.example.se",
    target_address="kommun@ostersund.example.se",
    target_domains=("ostersund.example.se",),
    subject="Läckande brandpost utanför huset",
    body=(
        "Hej!\n\nBrandposten utanför Kyrkgatan 12 har läckt vatten i flera dagar och det har "
        "bildats is på trottoaren. Vem ska jag kontakta för att få den lagad?\n\nTack på förhand"
    ),
    sent_at=SENT,
)
FORSKOLA = ProbeRef(
    id=12,
    message_id="<q12@fraga.example.se>",
    reply_token="d4e5f6",
    reply_address="lena.berg+d4e5f6@fraga.example.se",
    target_address="kommun@ostersund.example.se",
    target_domains=("ostersund.example.se",),
    subject="Förskoleplats i Lugnvik",
    body=(
        "Hej!\n\nVi flyttar till Lugnvik i januari och vår dotter behöver förskoleplats. Hur "
        "lång är kön till förskolorna där, och när måste vi ansöka?\n\nVänliga hälsningar"
    ),
    sent_at=SENT + timedelta(minutes=40),
)
ARE = ProbeRef(
    id=13,
    message_id="<q13@fraga.example.se>",
    reply_token="g7h8i9",
    reply_address="olof.strand+g7h8i9@fraga.example.se",
    target_address="kommun@are.example.se",
    target_domains=("are.example.se",),
    subject="Bygglov för garage i Järpen",
    body="Hej! Jag vill bygga ett garage på 40 kvadratmeter på min tomt i Järpen. Behövs lov?",
    sent_at=SENT,
)
PROBES = (BRANDPOST, FORSKOLA, ARE)


def mail(
    subject: str,
    text: str = "Hej! Svar på din fråga.",
    *,
    sender: str = "gata@ostersund.example.se",
    thread_topic: str | None = None,
    arrived: datetime = ARRIVED,
    headers: tuple[tuple[str, str], ...] = (),
) -> ParsedMail:
    extra = (("Thread-Topic", thread_topic),) if thread_topic else ()
    return ParsedMail(
        from_address=sender,
        to=("per.olsson@fraga.example.se",),
        subject=subject,
        text=text,
        headers=(*extra, *headers),
        received=(ReceivedHop("mx.fraga.example.se", None, arrived, ""),),
    )


@pytest.mark.parametrize(
    "subject",
    [
        "[Ärende #2025-004211] SV: Läckande brandpost utanför huset",
        "Läckande brandpost utanför huset [Ärende #2025-004211]",
        "Ärende 4711: Läckande brandpost utanför huset",
        "SV: Läckande brandpost utanför huset (Ärende 4711)",
        "Re: [#123] Läckande brandpost utanför huset",
        "Dnr KS 2025/0193 - Läckande brandpost utanför huset",
        "Läckande brandpost utanför huset Ticket#2025101010000123",
    ],
)
def test_case_and_ticket_tags_anywhere_in_the_subject_are_removed(subject: str) -> None:
    assert subject_key(subject) == "läckande brandpost utanför huset"
    assert match_reply(mail(subject), PROBES) == Match(11, 0.8, "subject_and_domain", False)


@pytest.mark.parametrize(
    "subject",
    [
        "Svar i ärende KS 2025/0193 - Läckande brandpost utanför huset",
        "Re: [#123] Läckande brandpost utanför huset (ref:_00D1x._5004x:ref) - Östersund",
        "Vidarebefordrat från Gatuenheten: Läckande brandpost utanför huset",
    ],
)
def test_our_subject_inside_theirs_matches(subject: str) -> None:
    assert match_reply(mail(subject), PROBES) == Match(11, 0.75, "subject_contained", False)


def test_a_short_subject_is_not_looked_for_inside_another() -> None:
    short = replace(ARE, subject="Garage", target_domains=("ostersund.example.se",))
    got = match_reply(mail("Garage och carport vid Storsjön"), (short,))
    assert got.matched_by != "subject_contained"


def test_outlooks_thread_topic_carries_our_subject_under_a_new_one() -> None:
    got = match_reply(mail("Ang. din fråga", thread_topic="Förskoleplats i Lugnvik"), PROBES)
    assert got == Match(12, 0.85, "thread_topic", False)
    stranger = mail("Ang. din fråga", thread_topic="Förskoleplats i Lugnvik", sender="x@y.example")
    assert match_reply(stranger, PROBES) == Match(12, 0.5, "subject_only", True)


def test_a_stored_case_number_cited_in_the_subject_or_the_text_matches() -> None:
    numbered = (replace(BRANDPOST, case_numbers=("KS2025/193",)), FORSKOLA, ARE)
    by_subject = mail("Beslut i ärende KS 2025/0193")
    assert match_reply(by_subject, numbered) == Match(11, 0.9, "case_number", False)
    by_text = mail("Information", "Angående ditt ärende KS 2025/193: vi har åtgärdat felet.")
    assert match_reply(by_text, numbered) == Match(11, 0.9, "case_number", False)


def test_a_case_number_needs_the_targets_domain_and_a_question_sent_before() -> None:
    numbered = (replace(BRANDPOST, case_numbers=("KS2025/193",)),)
    elsewhere = mail("Beslut i ärende KS 2025/0193", sender="info@are.example.se")
    assert match_reply(elsewhere, numbered).probe_id is None
    early = mail("Beslut i ärende KS 2025/0193", arrived=SENT - timedelta(hours=1))
    assert match_reply(early, numbered).probe_id is None


def test_a_new_subject_about_the_questions_specifics_matches_by_topic() -> None:
    text = (
        "Hej Per!\n\nTack för att du hörde av dig om brandposten vid Kyrkgatan 12. Vår "
        "VA-jour har varit där och bytt packningen, så läckaget är åtgärdat.\n\n"
        "Med vänlig hälsning\nLars Öberg\nVA-enheten"
    )
    got = match_reply(mail("Läckande brandpost Kyrkgatan 12", text), PROBES)
    assert got == Match(11, 0.75, "topic", False)


def test_the_topic_picks_the_right_one_of_two_open_questions_to_one_municipality() -> None:
    text = "Hej! Kön till förskolorna i Lugnvik är ungefär tre månader. Ansök i e-tjänsten."
    assert match_reply(mail("Kö till förskola", text), PROBES) == Match(12, 0.75, "topic", False)


def test_a_reply_whose_topic_fits_two_open_questions_goes_to_review() -> None:
    text = (
        "Hej! Om brandposten på Kyrkgatan 12: den är lagad. Om förskoleplats i Lugnvik: "
        "ansök i e-tjänsten."
    )
    got = match_reply(mail("Dina frågor", text), PROBES)
    assert got == Match(None, 0.0, "topic", True, (11, 12))


@pytest.mark.parametrize(
    ("subject", "text", "headers"),
    [
        # The same municipality writes about something else.
        ("Inbjudan till samråd", "Välkommen till samråd om detaljplanen för Odenslund.", ()),
        # A newsletter that happens to mention a preschool in Lugnvik and the street.
        (
            "Nyhetsbrev oktober",
            "Nu öppnar förskolan i Lugnvik. Kyrkgatan 12 får ny belysning.",
            (("List-Unsubscribe", "<https://news.ostersund.example.se/u>"),),
        ),
        # Everyday words shared with the question, nothing specific.
        ("Information", "Hej! Vi vill informera om att trottoaren kommer att sandas.", ()),
    ],
)
def test_mail_that_does_not_talk_about_a_question_is_not_matched(
    subject: str, text: str, headers: tuple[tuple[str, str], ...]
) -> None:
    assert match_reply(mail(subject, text, headers=headers), PROBES).probe_id is None


def test_the_topic_needs_the_targets_domain() -> None:
    text = "Brandposten vid Kyrkgatan 12 är lagad."
    assert match_reply(mail("Brandposten", text, sender="x@are.example.se"), PROBES) == Match(
        None, 0.0, None, True
    )


def test_rarity_comes_from_the_question_bank_given() -> None:
    # In a bank where every question is about Lugnvik's preschools, those words say little.
    bank = TopicIndex(
        [f"Förskoleplats i Lugnvik {n}: förskolorna i Lugnvik, kön och ansökan" for n in range(40)]
    )
    text = "Hej! Kön till förskolorna i Lugnvik är ungefär tre månader."
    assert match_reply(mail("Kö", text), PROBES, topics=bank).probe_id is None
    assert match_reply(mail("Kö", text), PROBES).probe_id == 12
