"""Human reply, automatic reply, bounce or unrelated (probes.email_classify).

Each case is a small synthetic message built from the headers and text that matter; the
expected verdicts follow the evidence order in the module docstring.
"""

from __future__ import annotations

import pytest

from probes.email_classify import Kind, Verdict, classify
from probes.email_parse import parse_mail

H, A, B, U = Kind.HUMAN_REPLY, Kind.AUTO_REPLY, Kind.BOUNCE, Kind.UNRELATED
REPLY = [("In-Reply-To", "<q1@fraga.example.se>")]

ANSWER = (
    "Hej Anna!\n\nEn altan lägre än 1,2 meter som ligger minst 4,5 meter från tomtgränsen "
    "behöver varken bygglov eller anmälan. Er altan hamnar närmare, så grannen behöver "
    "skriva under ett medgivande.\n\nMed vänlig hälsning\nKarin Ström\nBygglovshandläggare\n"
)


def verdict(headers: list[tuple[str, str]], text: str = "", ctype: str = "text/plain") -> Verdict:
    head = [
        ("From", "Karin Ström <karin.strom@ostersund.example.se>"),
        ("To", "anna.lindqvist+k7x2q9@fraga.example.se"),
        ("Message-ID", "<m1@ostersund.example.se>"),
        ("Content-Type", f"{ctype}; charset=utf-8"),
    ]
    names = {name.casefold() for name, _ in headers}
    lines = [(n, v) for n, v in head if n.casefold() not in names] + headers
    body = text.replace("\r\n", "\n").replace("\n", "\r\n")
    raw = "".join(f"{n}: {v}\r\n" for n, v in lines) + "\r\n" + body
    return classify(parse_mail(raw.encode("utf-8")))


def dsn_body(*actions: str) -> str:
    recipients = "".join(
        f"Final-Recipient: rfc822; r{i}@krokom.example.se\r\nAction: {a}\r\nStatus: 5.0.0\r\n\r\n"
        for i, a in enumerate(actions)
    )
    return (
        "--r\r\nContent-Type: text/plain\r\n\r\nDelivery report.\r\n"
        "--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
        f"{recipients}--r--\r\n"
    )


def test_it_names_kinds_with_stable_strings() -> None:
    assert [str(k) for k in Kind] == ["human_reply", "auto_reply", "bounce", "unrelated"]
    assert Verdict(H, "personal", holding=False).final


# --- bounces -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actions", "kind", "reason", "final"),
    [
        (("failed",), B, "dsn", True),
        (("failed", "delayed"), B, "dsn", True),
        (("delayed",), B, "dsn_delayed", False),
        (("delayed", "delayed"), B, "dsn_delayed", False),
        (("delivered",), A, "dsn_success", True),
        (("relayed", "expanded"), A, "dsn_success", True),
    ],
)
def test_it_reads_delivery_status_reports(
    actions: tuple[str, ...], kind: Kind, reason: str, final: bool
) -> None:
    ctype = [("Content-Type", "multipart/report; report-type=delivery-status; boundary=r")]
    assert verdict(ctype, dsn_body(*actions)) == Verdict(kind, reason, False, final)


def test_it_treats_a_delivery_report_without_a_status_part_as_a_bounce() -> None:
    ctype = [("Content-Type", "multipart/report; report-type=delivery-status; boundary=r")]
    body = "--r\r\nContent-Type: text/plain\r\n\r\nFailed.\r\n--r--\r\n"
    assert verdict(ctype, body) == Verdict(B, "dsn", False, True)


DAEMON = [("From", "MAILER-DAEMON@mx.example.se")]
POSTMASTER = [("From", "postmaster@berg.example.se")]
NULL = [("Return-Path", "<>"), ("From", "filter@krokom.example.se")]
EXCHANGE = [("From", "MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@x.example.se")]
OTHER = [("From", "mailfilter@krokom.example.se")]


@pytest.mark.parametrize(
    ("headers", "text", "reason", "final"),
    [
        ([*DAEMON, ("Subject", "Undelivered Mail Returned to Sender")], "x", "mailer_daemon", True),
        ([*DAEMON, ("Subject", "failure notice")], "x", "mailer_daemon", True),
        ([*POSTMASTER, ("Subject", "Undeliverable: Färdtjänst")], "x", "mailer_daemon", True),
        ([*EXCHANGE, ("Subject", "Olevererbart: Fråga")], "x", "mailer_daemon", True),
        (
            [*NULL, ("Subject", "Meddelande")],
            "Det gick inte att leverera till:",
            "mailer_daemon",
            True,
        ),
        (
            [*DAEMON, ("Subject", "Hej")],
            "Mail delivery failed: returning message",
            "mailer_daemon",
            True,
        ),
        ([*OTHER, ("Subject", "Det gick inte att leverera: Fråga")], "x", "nondelivery_text", True),
        ([*OTHER, ("Subject", "Returned mail: see transcript")], "x", "nondelivery_text", True),
        (
            [*OTHER, ("Subject", "Delivery Status Notification (Failure)")],
            "",
            "nondelivery_text",
            True,
        ),
        ([*DAEMON, ("Subject", "Delayed Mail (still being retried)")], "x", "delay_text", False),
        ([*OTHER, ("Subject", "Fördröjd: Sophämtning")], "x", "delay_text", False),
        ([*OTHER, ("Subject", "Delivery Status Notification (Delay)")], "x", "delay_text", False),
        # Postfix delay warnings say "could not be delivered" too: the delay wording wins.
        (
            [*DAEMON, ("Subject", "Varning")],
            "THIS IS A WARNING ONLY. Your message could not be delivered for 4 hours.",
            "delay_text",
            False,
        ),
        (
            [*DAEMON, ("Subject", "Info")],
            "Leveransen är försenad till följande mottagare",
            "delay_text",
            False,
        ),
    ],
)
def test_it_recognises_bounces_by_sender_and_wording(
    headers: list[tuple[str, str]], text: str, reason: str, final: bool
) -> None:
    assert verdict(headers, text) == Verdict(B, reason, False, final)


@pytest.mark.parametrize(
    ("headers", "text"),
    [
        # wording in the text only counts from a daemon: spam says it too
        ([*OTHER, ("Subject", "Ditt paket")], "Ditt paket kunde inte levereras. Betala 29 kr."),
        # a person's reply about a delay is not a delay notice
        ([("Subject", "SV: Fördröjd sophämtning")], "Hämtningen är fördröjd en dag. Mvh Karin"),
        ([*REPLY, ("Subject", "SV: Fråga")], "Handläggningen är fördröjd, vi ber om ursäkt."),
    ],
)
def test_it_ignores_bounce_wording_in_ordinary_mail(
    headers: list[tuple[str, str]], text: str
) -> None:
    assert verdict(headers, text).kind is not B


# --- automatic replies by header -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        (
            [
                (
                    "Content-Type",
                    "multipart/report; report-type=disposition-notification; boundary=r",
                )
            ],
            "mdn",
        ),
        ([("Subject", "Läst: Fråga om bygglov")], "read_receipt_subject"),
        ([("Subject", "Read: Question")], "read_receipt_subject"),
        ([("Subject", "Oläst: Fråga")], "read_receipt_subject"),
        ([("Auto-Submitted", "auto-replied")], "auto_submitted"),
        ([("Auto-Submitted", "auto-generated")], "auto_submitted"),
        ([("Auto-Submitted", "Auto-Notified; owner-email=x@y")], "auto_submitted"),
        ([("X-Autoreply", "yes")], "x_autoreply"),
        ([("X-Autorespond", "Out of office")], "x_autoreply"),
        ([("X-Autogenerated", "Reply")], "x_autoreply"),
        ([("Precedence", "auto_reply")], "precedence"),
    ],
)
def test_it_recognises_automatic_headers(headers: list[tuple[str, str]], reason: str) -> None:
    body = (
        "--r\r\nContent-Type: text/plain\r\n\r\nLäst.\r\n--r--\r\n" if reason == "mdn" else ANSWER
    )
    assert verdict(REPLY + headers, body) == Verdict(A, reason, False, True)


@pytest.mark.parametrize(
    "headers",
    [
        [("Auto-Submitted", "no")],
        [("X-Autoreply", "no")],
        [("X-Auto-Response-Suppress", "All")],  # Outlook puts this on ordinary mail
        [("X-Auto-Response-Suppress", "DR, RN, NRN, OOF, AutoReply")],
        [("Precedence", "bulk")],  # a reply (In-Reply-To) is never bulk
        [("X-Spam-Flag", "YES")],
        [("List-Id", "<lista.example.se>")],
        [("Subject", "SV: Frånvaroanmälan i förskolan")],
        [("Subject", "SV: Frånvaro i förskolan")],
    ],
)
def test_it_leaves_a_human_answer_alone_despite_weak_markers(
    headers: list[tuple[str, str]],
) -> None:
    assert verdict(REPLY + headers, ANSWER) == Verdict(H, "personal", False, True)


# --- unrelated -----------------------------------------------------------------------------------

NEWS = "Nyheter i oktober: öppet hus på Rådhuset den 20 oktober och grovsopsinsamling vecka 42."


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ([("List-Id", "Nyhetsbrev <nyhetsbrev.ostersund.example.se>")], "bulk"),
        ([("List-Unsubscribe", "<https://x.example.se/u>")], "bulk"),
        ([("Precedence", "bulk")], "bulk"),
        ([("Precedence", "list")], "bulk"),
        ([("Precedence", "junk")], "bulk"),
        ([("X-Spam-Flag", "YES")], "spam"),
        ([("X-Spam-Status", "Yes, score=9.4 required=5.0")], "spam"),
    ],
)
def test_it_sets_aside_bulk_and_spam_that_answers_nothing(
    headers: list[tuple[str, str]], reason: str
) -> None:
    subject = [("Subject", "Nyhetsbrev oktober")]
    assert verdict(subject + headers, NEWS) == Verdict(U, reason, False, True)


def test_it_lets_a_reply_subject_outweigh_bulk_markers() -> None:
    headers = [("Subject", "SV: Fråga om bygglov"), ("Precedence", "bulk")]
    assert verdict(headers, ANSWER) == Verdict(H, "personal", False, True)


def test_it_keeps_a_receipt_sent_with_precedence_bulk_a_receipt() -> None:
    headers = [("Subject", "Ditt ärende har registrerats"), ("Precedence", "bulk")]
    text = "Ditt ärende har registrerats med nummer KS 2026/1. Kommunen"
    assert verdict(headers, text) == Verdict(A, "case_receipt_subject", False, True)


# --- out of office -------------------------------------------------------------------------------

OOO = "Jag är ledig till och med 12 oktober. Vid brådskande ärenden, kontakta 063-14 30 00."


@pytest.mark.parametrize(
    ("subject", "text", "reason"),
    [
        ("Automatiskt svar: Fråga om bygglov", ANSWER, "ooo_subject"),
        ("Autosvar: Fråga", "x", "ooo_subject"),
        ("Automatic reply: Question", "x", "ooo_subject"),
        ("Out of Office: Fråga", "x", "ooo_subject"),
        ("Abwesenheitsnotiz: Frage", "x", "ooo_subject"),
        ("Autoreply", "x", "ooo_subject"),
        ("Frånvarande t.o.m. 16 oktober", OOO, "ooo_subject"),  # weak word plus OOO text
        ("Frånvaro", OOO, "ooo_subject"),
        ("SV: Fråga om bygglov", OOO, "ooo_body"),
        ("SV: Fråga", "Hej!\nI am out of the office until Monday.\n\nKarin", "ooo_body"),
        (
            "SV: Fråga",
            "Jag är föräldraledig. Under min ledighet besvaras frågor av Sofia.",
            "ooo_body",
        ),
    ],
)
def test_it_recognises_out_of_office_replies(subject: str, text: str, reason: str) -> None:
    assert verdict([*REPLY, ("Subject", subject)], text) == Verdict(A, reason, False, True)


def test_it_needs_more_than_a_weak_absence_word_for_out_of_office() -> None:
    headers = [("Subject", "Frånvaro i förskolan")]  # a new mail about absence, no OOO text
    assert verdict(headers, ANSWER).reason == "personal"


def test_it_keeps_out_of_office_wording_followed_by_an_answer_human() -> None:
    text = "Jag är på semester från nästa vecka, så jag svarar direkt.\n" + ANSWER
    assert verdict([*REPLY, ("Subject", "SV: Fråga")], text) == Verdict(H, "personal", False)


def test_it_lets_x_auto_response_suppress_corroborate_longer_ooo_text() -> None:
    text = "Jag är tjänstledig hela oktober.\n" + ANSWER  # enough text to pass as an answer alone
    headers = [*REPLY, ("Subject", "SV: Fråga")]
    assert verdict(headers, text).kind is H
    suppress = [("X-Auto-Response-Suppress", "OOF, AutoReply")]
    assert verdict(headers + suppress, text) == Verdict(A, "ooo_body", False, True)


# --- case-system receipts ------------------------------------------------------------------------

ORG_SIGNATURE = "\n\nMed vänliga hälsningar\nKrokoms kommun\nKommunkansliet"


@pytest.mark.parametrize(
    ("headers", "text", "reason"),
    [
        (
            [("Subject", "Ditt ärende har registrerats")],
            "Hej!" + ORG_SIGNATURE,
            "case_receipt_subject",
        ),
        (
            [("Subject", "Bekräftelse: Förskoleplats")],
            "Tack." + ORG_SIGNATURE,
            "case_receipt_subject",
        ),
        ([("Subject", "Mottagningsbekräftelse")], "", "case_receipt_subject"),
        ([("Subject", "Kvittens på ditt ärende KS 2026/1234")], "", "case_receipt_subject"),
        (
            [("Subject", "SV: Fråga")],
            "Vi har tagit emot ditt e-postmeddelande och det har diarieförts." + ORG_SIGNATURE,
            "case_receipt_body",
        ),
        (
            [("Subject", "SV: Fråga")],
            "Ditt ärendenummer är KS 2026/1234. En handläggare kontaktar dig." + ORG_SIGNATURE,
            "case_receipt_body",
        ),
        (
            [("Subject", "SV: Fråga")],
            "Hej!\nDetta är ett automatiskt genererat meddelande som inte kan besvaras.",
            "case_receipt_body",
        ),
        (  # weak wording only, short, no person: a receipt
            [("Subject", "SV: Fråga")],
            "Tack för ditt mejl! Vi svarar inom två arbetsdagar." + ORG_SIGNATURE,
            "case_receipt_body",
        ),
        (
            [("Subject", "Tack för din fråga"), ("From", "no-reply@ostersund.example.se")],
            "Tack för att du kontaktade oss. Vi besvarar frågor inom två arbetsdagar.",
            "noreply_sender",
        ),
        (
            [("Subject", "Info"), ("From", "DoNotReply@krokom.example.se")],
            "Vi svarar inom två arbetsdagar.",
            "noreply_sender",
        ),
        (
            [("Subject", "SV: Fråga"), ("From", "svara-inte@berg.example.se")],
            "Meddelandet är mottaget.",
            "noreply_sender",
        ),
    ],
)
def test_it_recognises_case_system_receipts_without_automatic_headers(
    headers: list[tuple[str, str]], text: str, reason: str
) -> None:
    assert verdict(headers, text) == Verdict(A, reason, False, True)


@pytest.mark.parametrize(
    ("headers", "text", "holding"),
    [
        (  # receipt wording first, then a signed answer
            [("Subject", "SV: Fråga")],
            "Ditt ärende har fått diarienummer SN 2026/318.\n" + ANSWER,
            False,
        ),
        (  # the diarienummer sits in the signature
            [("Subject", "SV: Fråga")],
            ANSWER + "Ert ärende har diarienummer BN 2026/123.\n",
            False,
        ),
        (  # courtesy wording, then an answer signed by a team, not a person
            [("Subject", "SV: Fråga")],
            "Tack för ditt mejl!\n\nDin mamma ansöker om färdtjänst på blanketten som finns på "
            "webbplatsen eller i receptionen i kommunhuset, och ett läkarintyg ska bifogas.\n\n"
            "/Kontaktcenter Berg",
            False,
        ),
        (  # an answer relayed by the case system from a noreply address
            [("Subject", "Svar på din fråga"), ("From", "noreply@ostersund.example.se")],
            ANSWER + "\nSvara inte på detta meddelande.",
            False,
        ),
        (  # a registrar typed the receipt herself: a person deferring
            [("Subject", "SV: Fråga")],
            "Ditt ärende har registrerats och handläggaren kommer att kontakta dig.\n\n"
            "Med vänlig hälsning\nEva Nilsson\nRegistrator",
            True,
        ),
    ],
)
def test_it_keeps_a_signed_or_substantive_reply_with_receipt_wording_human(
    headers: list[tuple[str, str]], text: str, holding: bool
) -> None:
    assert verdict(REPLY + headers, text) == Verdict(H, "personal", holding, True)


def test_it_lets_a_machine_marker_outweigh_a_name_when_nothing_is_answered() -> None:
    text = (
        "Ditt ärende har registrerats.\n\nMed vänlig hälsning\nEva Nilsson\n"
        "Detta är ett automatiskt genererat meddelande."
    )
    assert verdict([("Subject", "SV: Fråga")], text) == Verdict(A, "case_receipt_body", False)


def test_it_treats_a_null_sender_without_other_evidence_as_automatic() -> None:
    headers = [*REPLY, ("Return-Path", "<>"), ("Subject", "SV: Fråga om skolskjuts")]
    text = "Den här brevlådan bevakas inte längre. Skicka din fråga till kommun@krokom.example.se."
    assert verdict(headers, text) == Verdict(A, "null_sender", False, True)


# --- holding replies -----------------------------------------------------------------------------

SIGNED = "\n\nMed vänlig hälsning\nPeter Sandberg\nServicecenter"


@pytest.mark.parametrize(
    ("text", "holding"),
    [
        ("Hej! Vi återkommer så snart vi kan." + SIGNED, True),
        ("Jag har vidarebefordrat ditt mejl till bygglovsenheten." + SIGNED, True),
        ("Tack för ditt mejl. Vi har skickat din fråga vidare till förskolan." + SIGNED, True),
        (
            "Din fråga har skickats vidare till miljöenheten, som hör av sig till dig." + SIGNED,
            True,
        ),
        ("Handläggaren kommer att kontakta dig nästa vecka." + SIGNED, True),
        ("I have forwarded your e-mail to the planning office." + SIGNED, True),
        ("Thank you, we will get back to you shortly." + SIGNED, True),
        (ANSWER, False),
        (ANSWER + "\nVi återkommer om reglerna ändras.", False),  # answers, then defers more
        ("Ja." + SIGNED, False),  # short, but nothing deferred
        (  # the deferral is in the quoted earlier message only
            ANSWER + "\nDen tis 6 okt. 2026 kl 11:05 skrev Kontaktcenter <k@x.se>:\n"
            "> Vi återkommer så snart vi kan.",
            False,
        ),
        (
            ANSWER + "\n-----Ursprungligt meddelande-----\nFrån: Info\n"
            "Hej, kan du svara? Vi återkommer annars.",
            False,
        ),
    ],
)
def test_it_flags_replies_that_only_defer(text: str, holding: bool) -> None:
    assert verdict([*REPLY, ("Subject", "SV: Fråga")], text) == Verdict(H, "personal", holding)


def test_it_ignores_automatic_wording_in_quoted_text() -> None:
    text = (
        "Nu kan jag svara: en altan under 1,2 meter behöver inget bygglov om grannen godkänner "
        "placeringen skriftligt.\n\nHälsningar\nAnders Holmgren\n\n"
        "> Ditt ärende har registrerats med ärendenummer KS 2026/1234.\n"
        "> Detta är ett automatiskt genererat meddelande.\n"
        "> Jag är ledig till och med 12 oktober."
    )
    assert verdict([*REPLY, ("Subject", "SV: Fråga")], text) == Verdict(H, "personal", False)


def test_it_reads_an_html_only_reply_through_its_text() -> None:
    html = (
        "<html><body><p class=MsoNormal>Hej!</p><p class=MsoNormal>Jag har vidarebefordrat "
        "ditt mejl till bygglovsenheten.</p><p class=MsoNormal>Vänliga hälsningar<br>"
        "Peter Sandberg</p><div><p><b>Från:</b> Anna<br><b>Skickat:</b> den 5 oktober"
        "<br><b>Ämne:</b> Fråga</p></div><p>Detta är ett automatiskt genererat meddelande.</p>"
        "</body></html>"
    )
    assert verdict(REPLY, html, ctype="text/html") == Verdict(H, "personal", True, True)
