"""Hostile reply mail on every page that shows mail, in headless Chromium: nothing may run.

The mails (``tests/security/site.py``) carry script in every form: script tags, event handlers,
``javascript:`` links (plain, mixed case, entity-encoded, with a tab), SVG, CSS ``url()`` and
``expression()``, ``<meta refresh>``, ``<iframe>``, ``<base>``, ``<object>``, parser tricks, and
HTML in the Subject and the From display name (plain and RFC 2047-encoded). Every payload sets
``window.top.__pwned`` or fetches a loopback canary; neither may happen, no dialog may open and
the browser may request nothing but the site itself.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest_asyncio
from playwright.async_api import Browser, Page

from harness.channels.email.html import CLEAN_TAGS
from tests.browser import chromium, needs_chromium
from tests.security.site import PASSWORDS, SUBJECT_HTML, Site, routes

pytestmark = needs_chromium


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def browser() -> AsyncIterator[Browser]:
    """One browser for the module (many pages); the shared fixture is per test."""
    async with chromium() as launched:
        yield launched


def mail_pages(site: Site) -> list[str]:
    """The HTML pages that show mail or data derived from it."""
    return [f"/probe/{site.matched_probe}", "/review", "/email", "/report.html", "/"]


def _csp(header: str) -> dict[str, str]:
    parts = (p.strip().split(None, 1) for p in header.split(";") if p.strip())
    return {p[0]: p[1] if len(p) > 1 else "" for p in parts}


def assert_strict_csp(path: str, header: str | None) -> None:
    assert header, f"{path}: no Content-Security-Policy"
    policy = _csp(header)
    assert policy.get("default-src") == "'none'", (path, header)
    for directive in ("script-src", "script-src-elem", "script-src-attr", "object-src"):
        assert directive not in policy, (path, header)  # falls back to default-src 'none'
    assert "unsafe-eval" not in header, (path, header)
    assert "'unsafe-inline'" not in policy.get("default-src", ""), (path, header)
    # The same for every page, the report included (issue 15: it once allowed framing by the
    # site and had no base-uri or form-action).
    assert policy.get("base-uri") == "'none'", (path, header)
    assert policy.get("frame-ancestors") == "'none'", (path, header)
    assert policy.get("form-action") in ("'self'", "'none'"), (path, header)
    inline = "'unsafe-inline'" in header
    if path == "/report.html":  # the report alone may style inline (its CSS and SVG charts)
        assert policy["style-src"] == "'unsafe-inline'", (path, header)
        assert policy.get("form-action") == "'none'", (path, header)  # it has no form
        inline = "'unsafe-inline'" in header.replace("style-src 'unsafe-inline'", "")
    assert not inline, (path, header)


class Markup(HTMLParser):
    """Tags and attributes of an HTML fragment, as a browser's parser would see them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def assert_clean_fragment(html: str) -> None:
    parser = Markup()
    parser.feed(html)
    parser.close()
    for tag, attrs in parser.tags:
        assert tag in CLEAN_TAGS, tag
        for name, value in attrs:
            assert name in ("href", "colspan", "rowspan", "rel"), (tag, name)
            if name == "href":
                scheme = urlsplit((value or "").strip()).scheme.lower()
                assert scheme in ("http", "https", "mailto", ""), value


async def _login(browser: Browser, site: Site) -> Page:
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(site.url + "/login")
    await page.get_by_label("Användarnamn").fill("anna")
    await page.get_by_label("Lösenord").fill(PASSWORDS["anna"])
    await page.get_by_role("button", name="Logga in").click()
    await page.wait_for_url(site.url + "/")
    return page


async def test_hostile_mail_runs_nothing_on_any_page(site: Site, browser: Browser):
    page = await _login(browser, site)
    dialogs: list[str] = []
    requested: list[str] = []
    page.on("dialog", lambda d: dialogs.append(d.message))
    page.on("request", lambda r: requested.append(r.url))
    origin = urlsplit(site.url).netloc
    for path in mail_pages(site):
        response = await page.goto(site.url + path)
        assert response is not None
        assert response.status == 200, path
        assert_strict_csp(path, response.headers.get("content-security-policy"))
        assert response.headers.get("x-content-type-options") == "nosniff"
        await page.wait_for_timeout(300)  # let a refresh, a load handler or a fetch happen
        assert page.url == site.url + path, f"{path}: navigated away to {page.url}"
        assert await page.evaluate("window.__pwned") is None, path
        found = await page.evaluate(
            """() => ({
                scripts: document.scripts.length,
                handlers: [...document.querySelectorAll('*')].flatMap(e =>
                    [...e.attributes].map(a => a.name).filter(n => n.startsWith('on'))),
                // An <img> from a data: image is inert (an image cannot run script): the
                // overview draws the report's charts so. Any other data: URL is a finding.
                links: [...document.querySelectorAll('[href],[src],[action]')]
                    .filter(e => !(e.tagName === 'IMG'
                                   && /^data:image\\//.test(e.getAttribute('src') || '')))
                    .map(e =>
                    e.getAttribute('href') || e.getAttribute('src') || e.getAttribute('action'))
                    .filter(u => /^\\s*(javascript|data|vbscript):/i.test(u)),
                bases: document.querySelectorAll('base, meta[http-equiv]').length,
            })"""
        )
        assert found == {"scripts": 0, "handlers": [], "links": [], "bases": 0}, (path, found)
        frames = page.locator("iframe")
        for n in range(await frames.count()):
            frame = frames.nth(n)
            assert await frame.get_attribute("sandbox") == "", path  # may run nothing
            assert_clean_fragment(await frame.get_attribute("srcdoc") or "")
    assert dialogs == []
    foreign = [u for u in requested if urlsplit(u).scheme in ("http", "https")
               and urlsplit(u).netloc != origin]  # fmt: skip
    assert foreign == []
    assert site.canary.hits == 0
    await page.context.close()


async def test_header_fields_are_shown_as_text(site: Site, browser: Browser):
    page = await _login(browser, site)
    await page.goto(f"{site.url}/probe/{site.matched_probe}")
    assert await page.get_by_role("heading", name=SUBJECT_HTML).count() == 1
    assert "<img src=x onerror=alert(2)> <kommun@ostersund.example.se>" in await page.inner_text(
        "main"
    )
    await page.goto(site.url + "/review")
    text = await page.inner_text("main")
    assert "<iframe src=javascript:alert(5)></iframe> Fråga" in text  # RFC 2047, decoded
    assert '"><a href=javascript:alert(7)>länk</a>' in text
    assert await page.locator("main iframe, main svg, main img").count() == 0
    await page.context.close()


async def test_every_html_page_has_the_strict_policy(site: Site):
    admin = await site.login("admin")
    pages = [p for m, p in routes(site.app) if m == "GET" and "{" not in p and p != "/login"]
    pages += [*mail_pages(site), "/login"]
    for path in sorted(set(pages)):
        reply = await admin.get(path)
        assert reply.status == 200, path
        assert reply.headers.get("X-Content-Type-Options") == "nosniff", path
        if reply.headers["Content-Type"].startswith("text/html"):
            assert_strict_csp(path, reply.headers.get("Content-Security-Policy"))
        else:
            assert "attachment" in reply.headers.get("Content-Disposition", ""), path


async def test_the_csv_log_carries_no_markup_or_formula(site: Site):
    admin = await site.login("admin")
    reply = await admin.get("/email.csv")
    assert reply.headers["Content-Type"].startswith("text/csv")
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    rows = list(csv.reader(io.StringIO(reply.text)))
    assert len(rows) > 1
    for row in rows:
        for cell in row:
            assert "<" not in cell, cell
            assert not cell.startswith(("=", "+", "@", "\t", "\r")), cell
