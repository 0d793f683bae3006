"""A bounce's copy of our message is found wherever the mail system put it (probes.email_parse).

``original_message_id`` is how a bounce is tied to the question it returns: it must be found
in a ``message/rfc822-headers`` part (Python parses that as a list of messages), in a
``message/rfc822`` part that starts with a blank line (the headers then land in the body), in a
text attachment holding the headers (plain or base64), and in the raw text when parsing finds
none of these.
"""

from __future__ import annotations

import base64

import pytest

from probes.email_parse import parse_mail

OURS = "<20261009071530.t3k9p5@fraga.example.se>"
HEADERS = (
    "Return-Path: <olof.strand+t3k9p5@fraga.example.se>\r\n"
    "From: Olof Strand <olof.strand+t3k9p5@fraga.example.se>\r\n"
    "To: kommun@are.example.se\r\n"
    "Subject: Bygglov\r\n"
    f"Message-ID: {OURS}\r\n"
)
TOP = (
    "From: MAILER-DAEMON@mail.are.example.se\r\n"
    "To: olof.strand+t3k9p5@fraga.example.se\r\n"
    "Subject: Undelivered Mail Returned to Sender\r\n"
    "Message-ID: <ndr-1@mail.are.example.se>\r\n"
    "MIME-Version: 1.0\r\n"
)


def report(part: str, ctype: str = "multipart/report; report-type=delivery-status") -> bytes:
    return (
        f'{TOP}Content-Type: {ctype}; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\nThe mail could not be delivered.\r\n"
        f"--b\r\n{part}\r\n--b--\r\n"
    ).encode()


B64 = base64.encodebytes(HEADERS.encode()).decode().replace("\n", "\r\n")


@pytest.mark.parametrize(
    "part",
    [
        f"Content-Type: message/rfc822-headers\r\n\r\n{HEADERS}",
        f"Content-Type: text/rfc822-headers\r\n\r\n{HEADERS}",
        f"Content-Type: message/rfc822\r\n\r\n{HEADERS}\r\nHej!\r\n",
        f"Content-Type: message/rfc822\r\n\r\n\r\n{HEADERS}\r\nHej!\r\n",  # a blank line first
        "Content-Type: text/plain; name=details.txt\r\n"
        f'Content-Disposition: attachment; filename="details.txt"\r\n\r\n{HEADERS}',
        "Content-Type: text/plain; name=details.txt\r\nContent-Transfer-Encoding: base64\r\n"
        f'Content-Disposition: attachment; filename="details.txt"\r\n\r\n{B64}',
        f"Content-Type: application/octet-stream\r\n\r\n{HEADERS}",  # unread: the raw text
    ],
    ids=["rfc822-headers", "text-headers", "rfc822", "blank-line", "attachment", "base64", "raw"],
)
def test_it_finds_the_returned_message_id(part: str) -> None:
    mail = parse_mail(report(part))
    assert mail.original_message_id == OURS


def test_it_records_the_structure_of_the_report() -> None:
    mail = parse_mail(report(f"Content-Type: message/rfc822-headers\r\n\r\n{HEADERS}"))
    assert mail.parts == ("multipart/report", "text/plain", "message/rfc822-headers")
    assert mail.attachments == 0  # headers only: not an attachment a person would open


def test_it_never_takes_the_mails_own_message_id_for_the_original() -> None:
    own = "<ndr-1@mail.are.example.se>"
    part = f"Content-Type: application/octet-stream\r\n\r\nMessage-ID: {own}\r\n"
    assert parse_mail(report(part)).original_message_id is None


def test_a_plain_reply_has_no_original() -> None:
    raw = (
        "From: Karin <karin@are.example.se>\r\nSubject: SV: Bygglov\r\n"
        f"In-Reply-To: {OURS}\r\nContent-Type: text/plain\r\n\r\nHej! Svaret är ja.\r\n"
    ).encode()
    assert parse_mail(raw).original_message_id is None
