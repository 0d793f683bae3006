"""Mail written by mail systems: bounces, delays, success notices, complaints, challenges.

The sender and the structure decide that a mail system wrote a message; the wording only says
whether it is a delay, a success or a failure (probes.email_classify). Every case here uses
wording that is in none of the phrase lists unless the case is about the wording itself.
"""

from __future__ import annotations

import pytest

from probes.email_classify import Kind, Verdict, classify
from probes.email_parse import parse_mail

A, B, H, U = Kind.AUTO_REPLY, Kind.BOUNCE, Kind.HUMAN_REPLY, Kind.UNRELATED
ODD = "Ihre Sendung an bygglov@are.example.se wurde vom Zielsystem abgelehnt.\n"  # in no list
ORIGINAL = (
    "From: Olof Strand <olof.strand+t3k9p5@fraga.example.se>\n"
    "To: kommun@are.example.se\n"
    "Subject: Bygglov för garage\n"
    "Message-ID: <20261009071530.t3k9p5@fraga.example.se>\n"
)


def raw(headers: list[tuple[str, str]], text: str = "", ctype: str = "text/plain") -> bytes:
    base = [
        ("From", "Mail Delivery System <MAILER-DAEMON@mail.are.example.se>"),
        ("To", "olof.strand+t3k9p5@fraga.example.se"),
        ("Subject", "Notice"),
        ("Message-ID", "<n1@mail.are.example.se>"),
        ("Content-Type", f"{ctype}; charset=utf-8"),
    ]
    names = {n.casefold() for n, _ in headers}
    lines = [(n, v) for n, v in base if n.casefold() not in names] + headers
    body = text.replace("\r\n", "\n").replace("\n", "\r\n")
    return ("".join(f"{n}: {v}\r\n" for n, v in lines) + "\r\n" + body).encode("utf-8")


def verdict(headers: list[tuple[str, str]], text: str = "", ctype: str = "text/plain") -> Verdict:
    return classify(parse_mail(raw(headers, text, ctype)))


def bounce(reason: str = "mailer_daemon") -> Verdict:
    return Verdict(B, reason, holding=False)


DELAY = Verdict(B, "delay_text", holding=False, final=False)


@pytest.mark.parametrize(
    "sender",
    [
        "MAILER-DAEMON@mail.are.example.se",
        "Mail Delivery System <MAILER-DAEMON@mail.are.example.se>",
        "postmaster@are.example.se",
        "post_master@are.example.se",
        "mail.delivery.system@are.example.se",
        "Mail Delivery Subsystem <mailer-daemon@googlemail.com>",
        "MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@are.example.se",
        "System Administrator <admin@are.example.se>",
        "kommuninfo-owner@lists.are.example.se",
        "owner-kommuninfo@lists.are.example.se",
        "sympa@lists.are.example.se",
        "kommuninfo-bounces@lists.are.example.se",
    ],
)
def test_a_daemon_senders_mail_is_a_bounce_whatever_its_wording(sender: str) -> None:
    assert verdict([("From", sender)], ODD) == bounce()


def test_a_daemon_ndr_under_a_reply_subject_is_still_a_bounce() -> None:
    headers = [("From", "post_master@are.example.se"), ("Subject", "Re: Bygglov för garage")]
    assert verdict(headers, ODD) == bounce()


def test_a_null_sender_with_a_returned_original_is_a_bounce() -> None:
    headers = [("From", "Kundtjänst <info@are.example.se>"), ("Return-Path", "<>")]
    text = f"{ODD}\n--- Kopia ---\n{ORIGINAL}"
    assert verdict(headers, text) == bounce()


def test_a_null_sender_with_an_smtp_code_near_the_top_is_a_bounce() -> None:
    headers = [("From", "Gateway <gw@are.example.se>"), ("Return-Path", "<>")]
    assert verdict(headers, "550 5.1.1 <bygglov@are.example.se>... nope\n") == bounce()


def test_a_null_sender_with_nothing_of_an_auto_responder_is_a_bounce_by_default() -> None:
    headers = [("From", "Gateway <gw@are.example.se>"), ("Return-Path", "<>")]
    assert verdict(headers, ODD) == bounce()


def test_a_null_sender_auto_responder_that_threads_stays_an_auto_reply() -> None:
    headers = [
        ("From", "Skolskjuts <skolskjuts@krokom.example.se>"),
        ("Return-Path", "<>"),
        ("In-Reply-To", "<20261007101200.m5q1x8@fraga.example.se>"),
        ("Subject", "SV: Fråga om skolskjuts"),
    ]
    text = "Den här brevlådan bevakas inte längre. Skriv till kommun@krokom.example.se.\n"
    assert verdict(headers, text) == Verdict(A, "null_sender", holding=False)


@pytest.mark.parametrize(
    "header",
    [("X-Failed-Recipients", "bygglov@are.example.se"), ("X-MS-Exchange-Message-Is-Ndr", "")],
)
def test_an_mta_report_header_makes_a_bounce(header: tuple[str, str]) -> None:
    assert verdict([("From", "Info <info@are.example.se>"), header], ODD) == bounce()


def test_a_multipart_report_without_report_type_is_a_bounce() -> None:
    text = (
        "--b\nContent-Type: text/plain\n\n"
        "Delivery to the following recipients failed permanently:\n\n  bygglov@are.example.se\n"
        "--b--\n"
    )
    headers = [("From", "Mail Delivery Subsystem <mailer-daemon@googlemail.com>")]
    got = verdict(headers, text, ctype='multipart/report; boundary="b"')
    assert got == bounce()
    # Not even the daemon address is needed: the structure says a mail system wrote it.
    headers = [("From", "Gmail <gmail@googlemail.com>")]
    assert verdict(headers, text, ctype='multipart/report; boundary="b"') == bounce()


@pytest.mark.parametrize(
    ("subject", "text"),
    [
        (
            "Warning: message 1qAbCd-000123-XY delayed 24 hours",
            "A message that you sent has not yet been delivered to one or more of its "
            "recipients after more than 24 hours on the queue.\nDelivery attempts will continue "
            "for some time. Eventually the mail delivery software will give up.",
        ),
        ("Notice", "Die Nachricht wurde noch nicht zugestellt. Es wird erneut versucht."),
        ("Notice", "Vi försöker igen senare; meddelandet har inte gått fram ännu."),
        ("Notice", "Your message is postponed: the recipient's server is busy."),
        ("Forsinket: Bygglov", "Leveringen er forsinket."),
    ],
)
def test_a_mail_systems_delay_wording_makes_a_delay(subject: str, text: str) -> None:
    assert verdict([("Subject", subject)], text) == DELAY


def test_a_notice_that_has_given_up_is_final_even_with_delay_words() -> None:
    text = (
        "The server has tried to deliver this message for 2 days; delivery was delayed and "
        "it has stopped trying.\n"
    )
    assert verdict([], text) == bounce()
    qmail = "This is a permanent error; I've given up. Sorry it didn't work out.\n"
    assert verdict([], qmail) == bounce()


def test_a_delay_notice_from_anyone_is_read_from_the_subject() -> None:
    headers = [("From", "E-postfilter <filter@are.example.se>"), ("Subject", "Delivery delayed")]
    assert verdict(headers, "Mottagarens server svarar inte.") == DELAY


def test_the_copy_of_our_question_never_decides_the_verdict() -> None:
    # Our returned question happens to say "har levererats"; the explanation above it is odd.
    text = f"{ODD}\n------ This is a copy of the message ------\n{ORIGINAL}\nSoffan har levererats."
    assert verdict([], text) == bounce()


@pytest.mark.parametrize(
    ("subject", "text"),
    [
        (
            "Delivered: Bygglov för garage",
            "Your message has been delivered to the following recipients:",
        ),
        (
            "Levererat: Bygglov för garage",
            "Leveransen till dessa mottagare eller grupper har slutförts:",
        ),
        ("Notice", "Zustellung erfolgreich an bygglov@are.example.se"),
        ("Relayed: Bygglov", "Delivery to these recipients or groups is complete."),
    ],
)
def test_a_mail_systems_success_notice_is_an_auto_reply(subject: str, text: str) -> None:
    assert verdict([("Subject", subject)], text) == Verdict(A, "delivery_success", holding=False)


def dsn(*blocks: str) -> str:
    return (
        "--r\nContent-Type: text/plain\n\nReport.\n"
        "--r\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.are.example.se\n\n"
        + "\n".join(blocks)
        + "--r--\n"
    )


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        (
            "Final-Recipient: rfc822; a@are.example.se\nAction: deliverable\nStatus: 2.1.5\n",
            Verdict(A, "dsn_success", False),
        ),
        (
            "Final-Recipient: rfc822; a@are.example.se\nStatus: 2.0.0\n",
            Verdict(A, "dsn_success", False),
        ),
        ("Final-Recipient: rfc822; a@are.example.se\nStatus: 5.1.1\n", bounce("dsn")),
        (
            "Final-Recipient: rfc822; a@are.example.se\nStatus: 4.4.1\n",
            Verdict(B, "dsn_delayed", False, final=False),
        ),
    ],
)
def test_a_dsn_is_decided_by_action_or_else_by_status(block: str, expected: Verdict) -> None:
    ctype = "multipart/report; report-type=delivery-status; boundary=r"
    assert verdict([], dsn(block), ctype=ctype) == expected


@pytest.mark.parametrize(
    ("headers", "text", "ctype"),
    [
        (
            [("From", "Abuse <fbl@mail.example.net>")],
            "--f\nContent-Type: text/plain\n\nThis is an abuse report.\n"
            "--f\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\nVersion: 1\n"
            f"--f\nContent-Type: message/rfc822\n\n{ORIGINAL}\nHej!\n--f--\n",
            "multipart/report; report-type=feedback-report; boundary=f",
        ),
        (
            [("From", "Abuse <fbl@mail.example.net>")],
            "--f\nContent-Type: text/plain\n\nReport.\n"
            "--f\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\n--f--\n",
            "multipart/mixed; boundary=f",
        ),
        (
            [("From", "staff@hotmail.com"), ("Subject", "complaint about message from 192.0.2.6")],
            "A user has reported this message as spam.",
            "text/plain",
        ),
    ],
)
def test_spam_complaints_are_unrelated(headers, text: str, ctype: str) -> None:
    assert verdict(headers, text, ctype) == Verdict(U, "feedback_report", holding=False)


@pytest.mark.parametrize(
    ("sender", "subject", "text"),
    [
        (
            "Boxbe <notify@boxbe.com>",
            "Request to join my Guest List",
            "Hi, I use Boxbe to manage my inbox.",
        ),
        (
            "Anna Berg <anna.berg@example.net>",
            "Please verify your email",
            "I'm protected by SpamArrest. Click the link to confirm you are human.",
        ),
        (
            "Per Ek <per.ek@example.net>",
            "Bekräfta ditt meddelande",
            "Jag använder ett skräppostskydd. Bekräfta att du är en människa genom att klicka här.",
        ),
    ],
)
def test_challenge_response_requests_are_auto_replies(sender: str, subject: str, text: str) -> None:
    headers = [("From", sender), ("Subject", subject)]
    assert verdict(headers, text) == Verdict(A, "challenge_response", holding=False)


def test_a_person_who_mentions_a_robot_in_passing_is_still_a_person() -> None:
    text = (
        "Hej Anna!\n\nI e-tjänsten får du bekräfta att du inte är en robot innan du skickar "
        "ansökan om bygglov. Ansökan kostar 4 500 kr och handläggningen tar cirka fyra veckor.\n\n"
        "Med vänlig hälsning\nKarin Ström\nBygglovshandläggare\n"
    )
    headers = [
        ("From", "Karin Ström <karin.strom@ostersund.example.se>"),
        ("Subject", "SV: Bygglov"),
        ("In-Reply-To", "<q1@fraga.example.se>"),
    ]
    assert verdict(headers, text).kind is H


def test_an_ordinary_mail_about_a_delay_is_not_a_bounce() -> None:
    headers = [
        ("From", "Karin Ström <karin.strom@ostersund.example.se>"),
        ("Subject", "Handläggningen är fördröjd"),
    ]
    text = "Hej! Vi har mycket att göra och ditt ärende är tyvärr fördröjt. Mvh Karin Ström"
    assert verdict(headers, text).kind is H
