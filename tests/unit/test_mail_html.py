"""Mail HTML cleaned under caps (harness.channels.email.html): hostile shapes are refused fast,
mail is not.

The sanitiser underneath (nh3) is quadratic in nesting depth; these documents took seconds to
minutes of CPU each when handed to it directly (issue 15, M1).
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from harness.campaign.retention import Cutoffs, purge_stored
from harness.channels.email.html import (
    MAX_DEPTH,
    MAX_HTML_CHARS,
    MAX_TAGS,
    CleanHtml,
    clean_mail_html,
    normalise,
    sanitise,
)
from harness.channels.email.store import MailStore
from harness.core.clock import FakeClock
from harness.store.models import Message
from probes.email_analysis import TimingRules
from probes.email_parse import parse_mail
from probes.imap_wire import FetchedMessage
from tests.factories import seed_sent_probe

ROOT = Path(__file__).resolve().parents[2]
SENT = datetime(2026, 10, 6, 8, 0, tzinfo=UTC)


def nasty_documents() -> dict[str, str]:
    """The shapes that make the sanitiser slow, each beyond a cap."""
    return {
        "1 MB of nested div": "<div>" * 90_000 + "x" + "</div>" * 90_000,
        "100,000 nested span": "<span>" * 100_000,
        "nested div under the size cap": "<div>" * 40_000 + "x" + "</div>" * 40_000,
        "20,000 b, each different": "".join(f"<b id={n}>" for n in range(20_000)),
        "end tags the parser ignores": "<span><div></span></div>" * 10_000,
        "100,000 attributes": "<div " + " ".join(f"a{n}=1" for n in range(100_000)) + ">x",
        "stray <": "< a" * 100_000,
        "comments": "<!--x-->" * 50_000,
    }


def worst_accepted() -> dict[str, str]:
    """Documents just inside every cap: shown, and still cheap."""
    tags = MAX_TAGS - 200
    return {
        "deep, then flat": "<div>" * (MAX_DEPTH - 1) + "<span>x</span>" * (tags // 2),
        "formatting in a deep document": "<div>" * (MAX_DEPTH - 10) + "<b><i><u><em>"
        + "x<b>y</b>" * (tags // 2),
        "long search for a list item": "<li>" + "<span>" * (MAX_DEPTH - 2) + "<li>" * tags,
        "paragraph behind a table": "<p><table>" + "<span>" * (MAX_DEPTH - 3)
        + "<div></div>" * (tags // 2),
        "many attributes on many tags": ("<a " + " ".join(f"h{n}=1" for n in range(30))
                                         + ' href="https://e.se">y</a>') * 2_000,
    }  # fmt: skip


def cpu_ms(html: str) -> tuple[CleanHtml, float]:
    """The result and the CPU time it took (CPU, not wall-clock: other load does not count)."""
    started = time.process_time()
    result = clean_mail_html(html)
    return result, (time.process_time() - started) * 1000


def test_hostile_shapes_are_refused_quickly():
    for what, html in nasty_documents().items():
        result, ms = cpu_ms(html)
        assert result.html is None, what
        assert result.refused in ("size", "tags", "depth"), what
        assert ms < 100, f"{what}: {ms:.0f} ms"


def test_each_cap_is_named():
    assert clean_mail_html("x" * (MAX_HTML_CHARS + 1)).refused == "size"
    assert clean_mail_html("<br>" * (MAX_TAGS + 1)).refused == "tags"
    assert clean_mail_html("<div>" * (MAX_DEPTH + 1)).refused == "depth"
    assert clean_mail_html("<div>" * MAX_DEPTH).refused is None
    # End tags the parser would ignore (a span closed while a div in it is open) cannot make
    # the parser's stack grow: the rewrite closes the div with the span.
    assert normalise("<span><div></span></div>" * 3) == "<span><div></div></span>" * 3
    # Unclosed paragraphs, list items and table cells are closed as the parser closes them.
    assert clean_mail_html("<p>stycke" * (MAX_TAGS // 2)).refused is None
    assert clean_mail_html("<ul>" + "<li>punkt" * (MAX_TAGS // 2)).refused is None
    assert clean_mail_html("<table>" + "<tr><td>a<td>b" * (MAX_TAGS // 5)).refused is None


def test_the_largest_documents_inside_the_caps_are_cheap():
    for what, html in worst_accepted().items():
        result, ms = cpu_ms(html)
        assert result.refused is None, what
        assert result.html, what
        assert ms < 150, f"{what}: {ms:.0f} ms"


def test_the_rewrite_is_balanced_and_holds_no_markup_in_text():
    hostile = (
        '<div title="</div><div>"><a href="x" href="javascript:y" onclick=z>l</a>'
        "<span><div></span></div><textarea><b>text</b></textarea><script><div></script>"
        "<p>a<p>b<ul><li>c<li>d</ul><table><tr><td>e<td>f</table><b><i>g</b>h</i>"
    )
    out = normalise(hostile)
    assert isinstance(out, str)
    assert "onclick" not in out
    assert "title" not in out
    assert '<a href="x">' in out  # the first of a repeated attribute, as the parser keeps it
    assert "&lt;b>text&lt;/b>" in out  # a textarea's content is text
    stack: list[str] = []
    for closing, name in re.findall(r"<(/?)([a-z0-9]+)[^>]*>", out):
        if closing:
            assert stack.pop() == name, out  # every end tag closes the element just opened
        elif name not in ("br", "hr"):
            stack.append(name)
    assert stack == [], out
    assert "<" not in re.sub(r"<[^>]*>", "", out), out


def test_ordinary_mail_looks_the_same_as_cleaned_directly():
    """Every HTML mail among the test data: the rewrite changes nothing nh3 would keep."""
    compared = 0
    for path in sorted((ROOT / "tests" / "data").rglob("*.eml")):
        html = parse_mail(path.read_bytes()).html
        if not html:
            continue
        compared += 1
        assert clean_mail_html(html) == CleanHtml(sanitise(html)), path.name
    assert compared >= 20


def test_sloppy_but_ordinary_markup_looks_the_same():
    for html in (
        "<p>Hej<p>Andra stycket<p>Tredje",
        "<ul><li>a<li>b<ul><li>c<li>d</ul><li>e</ul>",
        "<table><tr><td>a<td>b<tr><td>c<td>d</table>",
        "<!--[if mso]><style>p{}</style><![endif]--><p class=MsoNormal>Hej<o:p></o:p></p>",
        "<html><head><title>T</title><style>p{}</style></head><body><p>Text</p></body></html>",
        "<a href='https://x.se/?a=1&amp;b=2'>länk</a> <a href=mailto:x@y.se>e-post</a>",
        '<p>text <a href="https://e.se">l<a href="https://f.se">m</a>',
        "<table><tr><td colspan=2 rowspan='3'>x</td></tr></table>",
        "a < b > c &amp; d &lt;e&gt; &nbsp;",
        "<h1>A<h2>B</h2><pre>  kod\n  mer</pre>",
    ):
        assert clean_mail_html(html).html == sanitise(html), html


def _html_reply(token: str, message_id: str, html: str) -> bytes:
    return (
        "From: Karin Berg <karin.berg@ostersund.example.se>\r\n"
        f"To: Anna Lindqvist <anna.lindqvist+{token}@fraga.example.se>\r\n"
        "Subject: SV: Bygglov\r\nDate: Tue, 06 Oct 2026 10:00:00 +0200\r\n"
        f"Message-ID: <svar-html@ostersund.example.se>\r\nIn-Reply-To: {message_id}\r\n"
        'MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="g"\r\n\r\n'
        "--g\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHej Anna! Svaret är ja.\r\n"
        f"--g\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{html}\r\n--g--\r\n"
    ).encode()


@pytest.mark.parametrize(
    ("html", "clean", "refused"),
    [
        ("<p onclick=x>Hej <b>Anna</b>!<script>y</script></p>", "<p>Hej <b>Anna</b>!</p>", None),
        ("<div>" * (MAX_DEPTH + 5), None, "depth"),
    ],
)
def test_html_is_cleaned_once_at_ingest_and_purged(
    sqlite_engine: Engine, html: str, clean: str | None, refused: str | None
):
    probe = seed_sent_probe(sqlite_engine, sent_at=SENT, token="html1234")
    arrived = SENT + timedelta(hours=2)
    store = MailStore(sqlite_engine, FakeClock(arrived), TimingRules())
    raw = _html_reply(probe.reply_token, probe.message_id, html)
    assert store.ingest("INBOX", 1, FetchedMessage(1, arrived, None, raw))
    with Session(sqlite_engine) as session:
        row = session.exec(select(Message)).one()
    assert row.probe_id == probe.probe_id
    assert (row.html_clean, row.html_refused) == (clean, refused)

    purge_stored(sqlite_engine, Cutoffs.every(arrived + timedelta(days=1)))
    with Session(sqlite_engine) as session:
        row = session.exec(select(Message)).one()
    assert (row.html_body, row.html_clean, row.html_refused) == (None, None, None)
