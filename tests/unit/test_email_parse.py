"""Raw bytes -> ParsedMail (probes.email_parse), the decoders and the quote stripper.

Expected values are written out by hand from the bytes in each case, never produced by the code
under test.
"""

from __future__ import annotations

import base64
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from probes import email_parse
from probes.email_decode import decode_bytes, html_to_text, parse_date
from probes.email_parse import (
    ParsedMail,
    arrival_time,
    message_ids,
    normalise_message_id,
    parse_mail,
    strip_reply_prefixes,
)
from probes.email_wording import new_text

CORPUS = Path(__file__).parents[1] / "data" / "mail"


def build(headers: list[tuple[str, str]], body: str | bytes = "") -> bytes:
    """A message with CRLF line ends; str parts are encoded as UTF-8."""
    head = "".join(f"{name}: {value}\r\n" for name, value in headers).encode("utf-8")
    raw_body = body.encode("utf-8") if isinstance(body, str) else body
    return head + b"\r\n" + raw_body.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def u(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=UTC)


# --- headers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw_subject", "expected"),
    [
        ("=?iso-8859-1?Q?SV:_Fr=E5ga_om_bygglov?=", "SV: Fråga om bygglov"),
        ("=?utf-8?B?U1Y6IEbDtnJza29sZXBsYXRz?=", "SV: Förskoleplats"),
        ("=?utf-8?q?Fr=C3=A5ga?=", "Fråga"),  # lower-case q
        # "å" (c3 a5) split over two B words must be joined before decoding
        ("=?utf-8?B?RnLD?= =?utf-8?B?pWdh?=", "Fråga"),
        ("SV: Boendeparkering =?iso-8859-1?Q?p=E5?= Odenslund", "SV: Boendeparkering på Odenslund"),
        ("=?utf-8?Q?a?= =?utf-8?Q?b?=", "ab"),  # whitespace between encoded words goes
        ("=?utf-8?Q?a?= x =?utf-8?Q?b?=", "a x b"),
        ("=?utf-8*sv?Q?h=C3=A4j?=", "häj"),  # RFC 2231 language suffix
        ("=?utf-8?B?U1Y6IEbDtnJza29sZXBsYXR?=", "SV: Förskoleplat"),  # missing padding
        ("Re:=?utf-8?Q?_hej?=", "Re: hej"),
        ("  SV:   Fråga \t om  ", "SV: Fråga om"),  # whitespace folded
    ],
)
def test_it_decodes_rfc2047_subjects(raw_subject: str, expected: str) -> None:
    assert parse_mail(build([("Subject", raw_subject)])).subject == expected


@pytest.mark.parametrize(
    ("raw_subject", "expected", "defect"),
    [
        ("=?x-unknown?Q?Soph=C3=A4mtning?=", "Sophämtning", "charset_unknown"),
        ("=?utf8mb4?Q?Soph=E4mtning?=", "Sophämtning", "charset_unknown"),  # latin-1 fallback
        ("=?utf-8?Q?Soph=E4mtning?=", "Sophämtning", "charset_wrong"),
    ],
)
def test_it_decodes_encoded_words_in_unknown_or_wrong_charsets(
    raw_subject: str, expected: str, defect: str
) -> None:
    mail = parse_mail(build([("Subject", raw_subject)]))
    assert mail.subject == expected
    assert defect in mail.defects
    assert mail.malformed


@pytest.mark.parametrize(
    ("raw", "subject", "from_name", "defect", "malformed"),
    [
        # Raw UTF-8 is allowed by RFC 6532 (SMTPUTF8): noted, not malformed.
        (
            b"Subject: SV: F\xc3\xa4rdtj\xc3\xa4nst\r\nFrom: \xc3\x85sa <a@b.se>\r\n\r\n",
            "SV: Färdtjänst",
            "Åsa",
            "utf8_headers",
            False,
        ),
        (
            b"Subject: SV: F\xe4rdtj\xe4nst\r\nFrom: \xc5sa <a@b.se>\r\n\r\n",
            "SV: Färdtjänst",
            "Åsa",
            "8bit_headers",
            True,
        ),
        # windows-1252 quotes
        (b"Subject: \x93citat\x94\r\n\r\n", "\u201ccitat\u201d", None, "8bit_headers", True),
    ],
)
def test_it_repairs_raw_8bit_headers_and_flags_them(
    raw: bytes, subject: str, from_name: str | None, defect: str, malformed: bool
) -> None:
    mail = parse_mail(raw)
    assert (mail.subject, mail.from_name) == (subject, from_name)
    assert defect in mail.defects
    assert mail.malformed is malformed


def test_it_keeps_other_headers_when_one_is_garbage() -> None:
    raw = build(
        [
            ("Subject", "=?utf-8?B?####?="),
            ("From", "Karin <Karin.Strom@Ostersund.example.se>"),
            ("Message-ID", "<abc@x.se>"),
        ]
    )
    mail = parse_mail(raw)
    assert mail.subject == "=?utf-8?B?####?="  # undecodable word kept as written
    assert mail.from_address == "karin.strom@ostersund.example.se"
    assert mail.message_id == "<abc@x.se>"


def test_it_reads_addresses_and_envelope_headers() -> None:
    raw = build(
        [
            ("Return-Path", "<>"),
            ("Delivered-To", "Anna.Lindqvist+K7x2q9@fraga.example.se"),
            ("X-Original-To", "anna.lindqvist@fraga.example.se"),
            ("From", '"Lindqvist, Karin" <Karin@Berg.example.se>'),
            ("Sender", "Lisa <lisa@berg.example.se>"),
            ("Reply-To", "svar@berg.example.se, =?utf-8?Q?=C3=85sa?= <asa@berg.example.se>"),
            ("To", "a@x.se, B <b@x.se>"),
            ("Cc", "c@x.se"),
        ]
    )
    mail = parse_mail(raw)
    assert mail.return_path == ""
    assert mail.delivered_to == (
        "anna.lindqvist+k7x2q9@fraga.example.se",
        "anna.lindqvist@fraga.example.se",
    )
    assert (mail.from_name, mail.from_address) == ("Lindqvist, Karin", "karin@berg.example.se")
    assert mail.sender == "lisa@berg.example.se"
    assert mail.reply_to == ("svar@berg.example.se", "asa@berg.example.se")
    assert mail.to == ("a@x.se", "b@x.se")
    assert mail.cc == ("c@x.se",)


@pytest.mark.parametrize(
    ("return_path", "expected"),
    [("<>", ""), ("< >", ""), ("<Bounce@X.se>", "bounce@x.se"), ("bounce@x.se", "bounce@x.se")],
)
def test_it_reads_the_envelope_sender(return_path: str, expected: str) -> None:
    assert parse_mail(build([("Return-Path", return_path)])).return_path == expected


def test_it_looks_headers_up_case_insensitively_in_order() -> None:
    mail = parse_mail(build([("X-Test", "one"), ("x-test", "two"), ("Subject", "s")]))
    assert mail.header("X-TEST") == "one"
    assert mail.header_all("x-Test") == ("one", "two")
    assert mail.header("missing") is None
    assert mail.headers[0] == ("X-Test", "one")  # names as written


# --- message-ids ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("<abc@x.se>", "<abc@x.se>"),
        ("  < abc@x.se >  ", "<abc@x.se>"),
        ("abc@x.se", "<abc@x.se>"),
        ("<abc@x.se> (Anna's message of Mon)", "<abc@x.se>"),
        ('"abc@x.se"', "<abc@x.se>"),
        ("<>", None),
        ("", None),
        (None, None),
        ("two words", None),
    ],
)
def test_it_normalises_message_ids(value: str | None, expected: str | None) -> None:
    assert normalise_message_id(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("<a@x> <b@y>", ("<a@x>", "<b@y>")),
        ("<a@x>\r\n <b@y>\t<a@x>", ("<a@x>", "<b@y>")),  # folded, duplicate dropped
        ("<a@x>,<b@y>", ("<a@x>", "<b@y>")),
        ("a@x b@y", ("<a@x>", "<b@y>")),  # no brackets at all
        ("garbage", ()),
        ("", ()),
    ],
)
def test_it_extracts_every_message_id(value: str, expected: tuple[str, ...]) -> None:
    assert message_ids(value) == expected


def test_it_records_a_missing_message_id_as_a_minor_defect() -> None:
    mail = parse_mail(build([("Subject", "x"), ("Date", "Mon, 5 Oct 2026 09:00:00 +0200")]))
    assert mail.message_id is None
    assert "no_message_id" in mail.defects
    assert not mail.malformed


# --- dates and Received --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mon, 5 Oct 2026 11:02:13 +0200 (CEST)", u(2026, 10, 5, 9, 2, 13)),
        ("Mon,  5 Oct 2026 11:02:13 +0200", u(2026, 10, 5, 9, 2, 13)),
        ("5 Oct 2026 11:02:13 +0200", u(2026, 10, 5, 9, 2, 13)),  # no day name
        ("Mon, 5 Oct 2026 11:02:13 CEST", u(2026, 10, 5, 9, 2, 13)),  # named zone
        ("Mon, 5 Oct 2026 10:02:13 CET", u(2026, 10, 5, 9, 2, 13)),
        ("Tue, 06 Oct 2026 05:30:19 -0700 (PDT)", u(2026, 10, 6, 12, 30, 19)),
        ("Mon, 5 Oct 2026 09:02:13.123 +0000", u(2026, 10, 5, 9, 2, 13)),  # fractions
        ("Mon, 5 Oct 2026 11:02:13 +02:00", u(2026, 10, 5, 9, 2, 13)),
        ("Mon, 5 Oct 26 09:02:13 GMT", u(2026, 10, 5, 9, 2, 13)),  # two-digit year
        ("9 Oct 2026 07:15:37 -0000", u(2026, 10, 9, 7, 15, 37)),  # qmail
        ("Mon Oct  5 09:02:13 2026", u(2026, 10, 5, 9, 2, 13)),  # ctime, read as UTC
        ("2026-10-05T11:02:13+02:00", u(2026, 10, 5, 9, 2, 13)),
        ("Mon, 5 Oct 2026 11:02 +0200", u(2026, 10, 5, 9, 2)),  # no seconds
        ("torsdag 8 oktober 2026 kl 11.02", None),
        ("Mon, 99 Foo 2026 99:99:99 +0200", None),
        ("Mon, 5 Oct 1850 11:02:13 +0200", None),  # outside any plausible mail date
        ("", None),
        (None, None),
    ],
)
def test_it_parses_real_world_dates_to_aware_utc(
    text: str | None, expected: datetime | None
) -> None:
    assert parse_date(text) == expected


def test_it_parses_received_headers_newest_first() -> None:
    raw = build(
        [
            (
                "Received",
                "from mail.ostersund.example.se (mail.ostersund.example.se [192.0.2.25])\r\n"
                "\tby mx.fraga.example.se (Postfix) with ESMTPS id 4S1k\r\n"
                "\tfor <anna@fraga.example.se>; Mon, 5 Oct 2026 13:42:18 +0200 (CEST)",
            ),
            (
                "Received",
                "from EXCH02.ad (10.20.1.15) by mail.ostersund.example.se (10.20.1.10) with"
                " Microsoft SMTP Server (version=TLS1_2; cipher=X) id 15.2; Mon, 5 Oct 2026"
                " 11:42:16 +0000",
            ),
            ("Received", "by smtp.fraga.example.se (Postfix) id 4S41; garbage date"),
            ("Received", "(qmail 31818 invoked from network); 9 Oct 2026 07:15:36 -0000"),
        ]
    )
    hops = parse_mail(raw).received
    assert [(h.by, h.from_, h.at) for h in hops] == [
        ("mx.fraga.example.se", "mail.ostersund.example.se", u(2026, 10, 5, 11, 42, 18)),
        ("mail.ostersund.example.se", "exch02.ad", u(2026, 10, 5, 11, 42, 16)),
        ("smtp.fraga.example.se", None, None),
        (None, None, u(2026, 10, 9, 7, 15, 36)),
    ]
    assert hops[0].raw.endswith("Mon, 5 Oct 2026 13:42:18 +0200 (CEST)")


def test_it_takes_the_arrival_time_from_our_receiving_server() -> None:
    raw = build(
        [
            ("Received", "from a by mx.fraga.example.se; Mon, 5 Oct 2026 13:42:18 +0200"),
            ("Received", "from b by relay.example.com; Mon, 5 Oct 2026 13:40:00 +0200"),
        ]
    )
    mail = parse_mail(raw)
    assert arrival_time(mail, ("fraga.example.se",)) == u(2026, 10, 5, 11, 42, 18)
    assert arrival_time(mail, ("relay.example.com",)) == u(2026, 10, 5, 11, 40)
    assert arrival_time(mail, ("elsewhere.example.org",)) is None
    assert arrival_time(mail) == u(2026, 10, 5, 11, 42, 18)  # any hop: the newest
    assert arrival_time(parse_mail(build([("Subject", "x")]))) is None


def test_it_keeps_an_unparseable_date_as_none_with_a_defect() -> None:
    mail = parse_mail(build([("Date", "torsdag 8 oktober 2026 kl 11.02")]))
    assert mail.date is None
    assert mail.header("Date") == "torsdag 8 oktober 2026 kl 11.02"
    assert "unparseable_date" in mail.defects
    assert not mail.malformed


# --- bodies --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "charset", "expected", "defect"),
    [
        (b"h\xc3\xa4j", "utf-8", "häj", None),
        (b"h\xe4j", "iso-8859-1", "häj", None),
        (b"h\xe4j \x96 \x93x\x94", "iso-8859-1", "häj – “x”", None),  # really windows-1252
        (b"h\xe4j \x96", "windows-1252", "häj –", None),
        (b"h\xe4j", '"ISO-8859-1"', "häj", None),
        (b"h\xc3\xa4j", "x-unknown", "häj", "charset_unknown"),
        (b"h\xe4j", "utf8mb4", "häj", "charset_unknown"),  # not utf-8 either: windows-1252
        (b"h\xe4j", "utf-8", "häj", "charset_wrong"),
        (b"h\xc3\xa4j", "us-ascii", "häj", "charset_wrong"),
        (b"h\xc3\xa4j", None, "häj", "charset_missing"),
        (b"plain", "x-unknown", "plain", None),  # ASCII reads the same in any charset
        (b"aGVq", "base64", "aGVq", None),  # a codec, but not a charset
        (b"\\u00e4", "unicode_escape", "\\u00e4", None),
    ],
)
def test_it_decodes_text_in_the_declared_charset_or_falls_back(
    data: bytes, charset: str | None, expected: str, defect: str | None
) -> None:
    assert decode_bytes(data, charset) == (expected, defect)


def test_it_prefers_the_plain_part_and_keeps_the_raw_html() -> None:
    body = (
        "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHej i text\r\n"
        "--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Hej i <b>html</b></p>\r\n"
        "--b--\r\n"
    )
    mail = parse_mail(build([("Content-Type", 'multipart/alternative; boundary="b"')], body))
    assert mail.text == "Hej i text"
    assert mail.html == "<p>Hej i <b>html</b></p>"
    assert mail.content_type == "multipart/alternative"


def test_it_derives_text_from_an_html_only_mail() -> None:
    html = "<html><head><style>p{color:red}</style></head><body><p>Hej&nbsp;Anna</p></body>"
    mail = parse_mail(build([("Content-Type", "text/html; charset=utf-8")], html))
    assert mail.text == "Hej Anna"
    assert mail.html == html


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<p>Ett</p><p>Två</p>", "Ett\n\nTvå"),
        ("Rad 1<br>Rad 2<br/>Rad 3", "Rad 1\nRad 2\nRad 3"),
        ("<div>a</div><div>b</div>", "a\n\nb"),
        ("<ul><li>ett</li><li>två</li></ul>", "ett\n\ntvå"),
        ("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>", "a b\n\nc"),
        ("<script>alert(1)</script><style>x{}</style>kvar", "kvar"),
        ("&aring;&auml;&ouml; &amp; &lt;tag&gt; &#246; &#x2013;", "åäö & <tag> ö –"),
        ("<p>  många    mellanslag\n  och radbrytning </p>", "många mellanslag och radbrytning"),
        ("Svar<blockquote>Fråga<br>rad två</blockquote>Slut", "Svar\n> Fråga\n> rad två\nSlut"),
        ("<head><title>T</title>utan slut<body>text</body>", "text"),  # unclosed head
        ("<p class=MsoNormal>Hej<o:p></o:p></p><p class=MsoNormal><o:p>&nbsp;</o:p></p>", "Hej"),
        ("<!--[if gte mso 9]><xml><o:x/></xml><![endif]-->synlig", "synlig"),
        ("<p>trasig <b>html", "trasig html"),
    ],
)
def test_it_converts_html_to_readable_text(html: str, expected: str) -> None:
    assert html_to_text(html) == expected


def test_it_counts_attachments_without_decoding_them() -> None:
    blob = base64.b64encode(bytes(range(256)) * 100).decode()
    body = (
        "--m\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSe bilaga.\r\n"
        "--m\r\nContent-Type: application/pdf; name=a.pdf\r\n"
        "Content-Disposition: attachment; filename=a.pdf\r\n"
        f"Content-Transfer-Encoding: base64\r\n\r\n{blob}\r\n"
        "--m\r\nContent-Type: text/plain; name=notes.txt\r\n"
        "Content-Disposition: attachment; filename=notes.txt\r\n\r\nbilaga, inte text\r\n"
        "--m\r\nContent-Type: image/png\r\nContent-Disposition: inline\r\n\r\nxx\r\n"
        "--m--\r\n"
    )
    raw = build([("Content-Type", "multipart/mixed; boundary=m")], body)
    mail = parse_mail(raw)
    assert mail.text == "Se bilaga."
    assert mail.attachments == 3
    assert mail.size == len(raw)


def test_it_caps_the_text_of_a_huge_body(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(email_parse, "MAX_TEXT", 1000)
    mail = parse_mail(build([("Content-Type", "text/plain")], "x" * 5000))
    assert mail.text == "x" * 1000
    assert "text_truncated" in mail.defects
    assert not mail.malformed


def test_it_parses_only_the_first_part_of_an_enormous_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(email_parse, "MAX_PARSE", 200)
    monkeypatch.setattr(email_parse, "HUGE", 100)
    raw = build([("Subject", "stor")], "y" * 1000)
    mail = parse_mail(raw)
    assert mail.subject == "stor"
    assert mail.size == len(raw)
    assert {"huge", "truncated_parse"} <= set(mail.defects)
    assert mail.malformed


# --- reports -------------------------------------------------------------------------------------

DSN = (
    "--r\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
    "--r\r\nContent-Type: message/delivery-status\r\n\r\n"
    "Reporting-MTA: dns; smtp.fraga.example.se\r\n\r\n"
    "Final-Recipient: rfc822; Kommun@Krokom.example.se\r\nAction: failed\r\nStatus: 5.1.1\r\n"
    "Diagnostic-Code: smtp; 550 5.1.1 <kommun@krokom.example.se>: Recipient\r\n"
    "    address rejected\r\n\r\n"
    "Final-Recipient: rfc822;other@krokom.example.se\r\nAction: delayed\r\nStatus: 4.4.1 (x)\r\n"
    "\r\n"
    "--r\r\nContent-Type: text/rfc822-headers\r\n\r\n"
    "From: anna@fraga.example.se\r\nMessage-ID:\r\n <q1@fraga.example.se>\r\n"
    "--r--\r\n"
)


def test_it_reads_a_delivery_status_report() -> None:
    ctype = "multipart/report; report-type=Delivery-Status; boundary=r"
    mail = parse_mail(build([("Content-Type", ctype), ("Message-ID", "<dsn@x>")], DSN))
    assert mail.report_type == "delivery-status"
    assert mail.dsn is not None
    assert mail.dsn.reporting_mta == "smtp.fraga.example.se"
    assert [(r.final_recipient, r.action, r.status) for r in mail.dsn.recipients] == [
        ("kommun@krokom.example.se", "failed", "5.1.1"),
        ("other@krokom.example.se", "delayed", "4.4.1"),
    ]
    assert mail.dsn.recipients[0].diagnostic_code == (
        "550 5.1.1 <kommun@krokom.example.se>: Recipient address rejected"
    )
    assert mail.original_message_id == "<q1@fraga.example.se>"
    assert mail.text == "Your message could not be delivered."


def test_it_reads_a_base64_encoded_delivery_status() -> None:
    fields = "Reporting-MTA: dns; a\r\n\r\nFinal-Recipient: rfc822; x@y\r\nAction: failed\r\n"
    encoded = base64.b64encode(fields.encode()).decode()
    body = (
        "--r\r\nContent-Type: message/delivery-status\r\nContent-Transfer-Encoding: base64\r\n"
        f"\r\n{encoded}\r\n--r--\r\n"
    )
    raw = build(
        [("Content-Type", "multipart/report; report-type=delivery-status; boundary=r")], body
    )
    dsn = parse_mail(raw).dsn
    assert dsn is not None
    assert [(r.final_recipient, r.action) for r in dsn.recipients] == [("x@y", "failed")]


@pytest.mark.parametrize(
    ("headers", "body", "expected"),
    [
        (  # the original attached whole, as Exchange and Gmail do
            [("Content-Type", "multipart/report; report-type=delivery-status; boundary=r")],
            "--r\r\nContent-Type: text/plain\r\n\r\nx\r\n--r\r\nContent-Type: message/rfc822\r\n"
            "\r\nMessage-ID: <q2@fraga.example.se>\r\nSubject: s\r\n\r\nbody\r\n--r--\r\n",
            "<q2@fraga.example.se>",
        ),
        (  # a read receipt
            [
                (
                    "Content-Type",
                    "multipart/report; report-type=disposition-notification; boundary=r",
                )
            ],
            "--r\r\nContent-Type: text/plain\r\n\r\nLäst\r\n"
            "--r\r\nContent-Type: message/disposition-notification\r\n\r\n"
            "Final-Recipient: rfc822;kommun@x\r\nOriginal-Message-ID: <q3@fraga.example.se>\r\n"
            "Disposition: manual-action/MDN-sent-manually; displayed\r\n--r--\r\n",
            "<q3@fraga.example.se>",
        ),
        (  # a plain-text bounce quoting our headers
            [("Content-Type", "text/plain"), ("Message-ID", "<own@x>")],
            "Det gick inte att leverera.\r\n\r\nMessage-ID: <own@x>\r\n"
            "  Message-Id: <q4@fraga.example.se>\r\n",
            "<q4@fraga.example.se>",
        ),
        ([("Content-Type", "text/plain")], "Ingen rubrik här.\r\n", None),
    ],
)
def test_it_finds_the_original_message_id_inside_reports(
    headers: list[tuple[str, str]], body: str, expected: str | None
) -> None:
    assert parse_mail(build(headers, body)).original_message_id == expected


# --- malformed input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "defect"),
    [
        (
            b'Content-Type: multipart/mixed; boundary="declared"\r\n\r\n--other\r\n\r\ntext\r\n',
            "broken_mime",
        ),
        (
            b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n"
            b"\r\ncut off here",
            "truncated",
        ),
        (b"Content-Type: multipart/mixed\r\n\r\nno boundary parameter\r\n", "broken_mime"),
        (
            b"Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\naGVq!!!\r\n",
            "bad_base64",
        ),
        (b"Subject: ok\r\n this line starts folded\r\nnot a header\r\n\r\nbody", "broken_headers"),
        (b" folded first line\r\nSubject: x\r\n\r\n", "broken_headers"),
    ],
)
def test_it_marks_broken_structure_as_malformed(raw: bytes, defect: str) -> None:
    mail = parse_mail(raw)
    assert defect in mail.defects
    assert mail.malformed


def test_it_still_reads_the_text_of_a_mail_with_a_broken_boundary() -> None:
    raw = (
        b'Content-Type: multipart/alternative; boundary="declared"\r\n\r\n'
        b"--other\r\nContent-Type: text/plain\r\n\r\nHej Erik, svaret kommer h\xc3\xa4r.\r\n"
    )
    mail = parse_mail(raw)
    assert mail.text is not None
    assert "Hej Erik, svaret kommer här." in mail.text


def _garbage() -> list[bytes]:
    rng = random.Random(20261005)
    nasty = [
        b"",
        b"\x00" * 1000,
        b"\r\n\r\n\r\n",
        b"From: a@b\r\nSubject: bara rubriker\r\n",
        b"".join(b"X-Header-%d: v\r\n" % i for i in range(10_000)) + b"\r\nbody",
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n--b\r\n--b",
        b"Content-Type: multipart/mixed; boundary=\r\n\r\n--\r\n\r\n--\r\n",
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: message/delivery-status\r\n\r\n\xff\xfe:::\r\n\r\n: x\r\n",
        b"Content-Type: message/rfc822\r\n\r\n\x00\x01garbage",
        b"Content-Type: text/plain; charset*=utf-8''%FF%FE%\r\n\r\nx",
        b'Content-Type: text/plain; charset="=?utf-8?q?x?="\r\n\r\nx',
        b"Content-Type: text/plain; charset=idna\r\n\r\n\xff\xfe",
        b"Content-Transfer-Encoding: x-uuencode\r\n\r\nbegin 644 x\r\n`\r\nend\r\n",
        b"Received: ;;;;\r\nReceived: \r\nDate: ;\r\nMessage-ID: <<<>>>\r\n\r\n",
        b'From: <<@@>>, "\\\r\nTo: ,,,,\r\nReferences: <<a@b\r\n\r\n',
        b"Subject: =?" + b"=?utf-8?B?" * 2000 + b"\r\n\r\n",
        b"Content-Type: multipart/mixed; boundary=x\r\n\r\n"
        + b"--x\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n" * 300,
        b"From \xff\xfe mbox line\r\nSubject: \xff\r\n\r\n\xff",
    ]
    nasty += [bytes(rng.randrange(256) for _ in range(n)) for n in (1, 17, 512, 8192)]
    nasty += [b"Subject: x\r\n" + bytes(rng.randrange(256) for _ in range(4096))]
    return nasty


@pytest.mark.parametrize("raw", _garbage(), ids=lambda raw: f"{len(raw)}b")
def test_it_never_raises_and_returns_sane_fields(raw: bytes) -> None:
    mail = parse_mail(raw)
    _assert_sane(mail, raw)


def test_it_never_raises_on_damaged_copies_of_the_corpus() -> None:
    rng = random.Random(7)
    for path in sorted(CORPUS.glob("*.eml")):
        data = path.read_bytes()
        for _ in range(3):
            damaged = bytearray(data[: rng.randrange(1, len(data) + 1)])
            for _ in range(20):
                damaged[rng.randrange(len(damaged))] = rng.randrange(256)
            _assert_sane(parse_mail(bytes(damaged)), bytes(damaged))


def _assert_sane(mail: ParsedMail, raw: bytes) -> None:
    assert isinstance(mail, ParsedMail)
    assert mail.size == len(raw)
    for values in (mail.in_reply_to, mail.references, mail.to, mail.cc, mail.reply_to):
        assert all(isinstance(v, str) for v in values)
    for when in (mail.date, *(hop.at for hop in mail.received)):
        assert when is None or when.utcoffset() is not None
    assert mail.text is None or isinstance(mail.text, str)
    assert mail.malformed == any(d in email_parse.SERIOUS_DEFECTS for d in mail.defects)
    assert len(set(mail.defects)) == len(mail.defects)


# --- subjects and quotes -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("SV: Fråga om bygglov", "Fråga om bygglov"),
        ("Sv: sv: SV:Fråga", "Fråga"),
        ("RE: Re: re : Fråga", "Fråga"),
        ("VB: SV: Fråga", "Fråga"),
        ("Vb: Fråga", "Fråga"),
        ("FW: Fwd: FWD: Fråga", "Fråga"),
        ("AW: WG: TR: Fråga", "Fråga"),
        ("Re[2]: Fråga", "Fråga"),
        ("Re(3): Fråga", "Fråga"),
        ("[EXTERN] SV: Fråga", "Fråga"),
        ("SV: [EXTERNAL] Fråga", "Fråga"),
        ("(Extern) Fråga", "Fråga"),
        ("EXTERN: Fråga", "Fråga"),
        ("  SV:   Fråga   om  bygglov ", "Fråga om bygglov"),
        ("Svar på din fråga", "Svar på din fråga"),  # "Svar" is not "SV:"
        ("Revision av taxan", "Revision av taxan"),
        ("Fråga: SV: om", "Fråga: SV: om"),  # only leading prefixes go
        ("", ""),
        (None, ""),
    ],
)
def test_it_strips_reply_prefixes(subject: str | None, expected: str) -> None:
    assert strip_reply_prefixes(subject) == expected


QUESTION = "Hej!\nBehöver vi bygglov för altanen?\nMvh Anna"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (  # Outlook, Swedish
            "Nej, inget bygglov.\n\nFrån: Anna <a@x.se>\nSkickat: den 5 oktober 2026 09:15\n"
            f"Till: Kommun\nÄmne: Fråga\n\n{QUESTION}",
            "Nej, inget bygglov.",
        ),
        (  # Outlook, English, with the underscore separator line
            "No permit needed.\n\n________________________________\nFrom: Anna <a@x.se>\n"
            f"Sent: Monday, October 5, 2026 9:15 AM\nTo: Kommun\nSubject: Q\n\n{QUESTION}",
            "No permit needed.",
        ),
        (  # Outlook HTML converted: bold markers survive as asterisks in some converters
            f"Svar.\n\n*Från:* Anna\n*Skickat:* den 5 oktober\n\n{QUESTION}",
            "Svar.",
        ),
        (
            f"Svar.\n\n-----Ursprungligt meddelande-----\nFrån: Anna\n{QUESTION}",
            "Svar.",
        ),
        (f"Answer.\n-----Original Message-----\n{QUESTION}", "Answer."),
        (f"Svar.\n---------- Forwarded message ---------\n{QUESTION}", "Svar."),
        (  # Gmail, Swedish, wrapped over two lines
            "Svar här.\n\nDen tis 6 okt. 2026 kl 09:15 skrev Anna Lindqvist <\n"
            f"anna@fraga.example.se>:\n\n{QUESTION}",
            "Svar här.",
        ),
        (
            "Answer.\n\nOn Tue, Oct 6, 2026 at 9:15 AM Anna Lindqvist <anna@x.se> wrote:\n"
            f"> {QUESTION}",
            "Answer.",
        ),
        ("Svar.\n\n5 okt. 2026 kl. 09:15 skrev Anna <a@x.se>:\n\n> fråga", "Svar."),  # Apple Mail
        (  # the line before a one-line quote header stays
            "Svar.\nMvh Karin\nOn Tue, Oct 6, 2026 at 9:15 AM Anna <a@x.se> wrote:\n> fråga",
            "Svar.\nMvh Karin",
        ),
        (
            "Inline svar:\n> Behöver vi bygglov?\nNej.\n>> äldre citat\nSlut.",
            "Inline svar:\nNej.\nSlut.",
        ),
        (f"Tack för ditt meddelande.\n\nDitt meddelande:\n{QUESTION}", "Tack för ditt meddelande."),
        (
            "Du skrev att ni vill bygga: en altan.\nSvar: nej.",
            "Du skrev att ni vill bygga: en altan.\nSvar: nej.",
        ),
        ("Från: och med måndag gäller nya taxor.", "Från: och med måndag gäller nya taxor."),
        ("", ""),
    ],
)
def test_it_drops_quoted_parts_from_new_text(text: str, expected: str) -> None:
    assert new_text(text) == expected
