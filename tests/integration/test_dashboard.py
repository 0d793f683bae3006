"""The dashboard in headless Chromium, on a campaign made by the demo (a small world).

Login and logout, roles, CSRF, hostile mail HTML shown without anything executing, an
assessment entered in the call console reaching the scores, and axe-core's accessibility
check; screenshots of the main pages are kept in ``test-artifacts/``.
"""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page
from sqlmodel import Session, col, select

from harness.assembly import Assembly
from harness.channels.email.store import MailStore
from harness.cli import run as run_cli
from harness.core.clock import SystemClock
from harness.core.config import load_config
from harness.demo.run import Demo
from harness.rules.measurement import timing_rules
from harness.store.db import make_engine
from harness.store.models import Assessment, AuditEntry, Channel, Message, Probe, ProbeState
from harness.web.app import WebServer
from probes.imap_wire import FetchedMessage
from tests.browser import needs_chromium

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "tests" / "data" / "demo" / "world-small.toml"
ARTIFACTS = ROOT / "test-artifacts"
PASSWORDS = {"anna": "anna-losen-1234", "sara": "sara-losen-1234", "vera": "vera-losen-1234"}
SECRET = "a-session-secret-of-at-least-32-characters"

pytestmark = needs_chromium

XSS_HTML = (
    "<p>Hej! Svar nedan.</p>"
    "<script>window.top.pwned = 'script'</script>"
    '<img src="x" onerror="window.top.pwned = \'onerror\'">'
    "<a href=\"javascript:window.top.pwned='link'\">klicka</a>"
    '<svg onload="window.top.pwned = \'svg\'"><circle r="5"/></svg>'
    '<div style="background:url(javascript:alert(1))">stil</div>'
    '<iframe src="javascript:alert(1)"></iframe>'
    "<style>body{background:red}</style>"
)


@dataclass
class Site:
    url: str
    config: Path
    engine: Any
    xss_probe: int


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def site(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Site]:
    tmp = tmp_path_factory.mktemp("dashboard")
    demo = Demo(tmp / "demo", seed=5, world_path=SMALL)
    await demo.run()
    config = demo.config
    for name, role in (("anna", "admin"), ("sara", "staff"), ("vera", "viewer")):
        stdin = io.StringIO(PASSWORDS[name] + "\n")
        _cli(config, stdin, "user", "add", name, "--role", role, "--password-stdin")
    settings = load_config(config)
    engine = make_engine(settings.database.url)
    xss_probe = _store_hostile_reply(engine, settings)
    assembly = Assembly(settings, engine, SystemClock(), config_path=config)
    app = assembly.web_app(dashboard_secret=SECRET, auth_token="demo-twilio-token")
    async with WebServer(app) as web:
        yield Site(web.url, config, engine, xss_probe)
    engine.dispose()


def _cli(config: Path, stdin: io.StringIO, *args: str) -> None:
    import sys

    saved = sys.stdin
    sys.stdin = stdin
    try:
        assert run_cli(["--config", str(config), *args]) == 0
    finally:
        sys.stdin = saved


def _store_hostile_reply(engine: Any, settings: Any) -> int:
    """A reply with script in every form a mail can carry it, matched to a real probe."""
    with Session(engine) as session:
        probe = session.exec(
            select(Probe).where(Probe.channel == Channel.EMAIL, Probe.state != ProbeState.PLANNED)
        ).first()
        assert probe is not None
    raw = (
        "From: Hacker <kommun@ostersund.example.se>\r\n"
        f"To: anna.lindqvist+{probe.reply_token}@fraga.example.se\r\n"
        "Subject: <script>alert('subject')</script> Svar\r\n"
        "Date: Tue, 06 Oct 2026 10:00:00 +0200\r\n"
        "Message-ID: <xss.1@ostersund.example.se>\r\n"
        f"In-Reply-To: {probe.message_id}\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/alternative; boundary="b1"\r\n\r\n'
        "--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        "<script>alert('text')</script> Hej!\r\n"
        "--b1\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        f"{XSS_HTML}\r\n--b1--\r\n"
    ).encode()
    store = MailStore(engine, SystemClock(), timing_rules(settings))
    from datetime import UTC, datetime

    arrived = datetime(2026, 10, 6, 8, 5, tzinfo=UTC)
    assert store.ingest("INBOX", 1, FetchedMessage(9_999, arrived, None, raw))
    assert probe.id is not None
    return probe.id


async def _login(browser: Browser, site: Site, name: str) -> Page:
    context = await browser.new_context(viewport={"width": 1200, "height": 900})
    page = await context.new_page()
    await page.goto(site.url + "/")
    assert "/login" in page.url  # not logged in: sent to the login page
    await page.get_by_label("Användarnamn").fill(name)
    await page.get_by_label("Lösenord").fill(PASSWORDS[name])
    await page.get_by_role("button", name="Logga in").click()
    await page.wait_for_url(site.url + "/")
    return page


async def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


async def test_login_pages_in_swedish_and_logout(site: Site, browser: Browser):
    page = await _login(browser, site, "anna")
    assert await page.locator("html").get_attribute("lang") == "sv"
    assert await page.get_by_role("heading", name="Översikt").is_visible()
    await _shot(page, "oversikt")
    for path, heading, shot in (("/email", "E-postlogg", "e-postlogg"),
                                ("/review", "Granskning", "granskning"),
                                ("/calls", "Samtal", "samtal")):  # fmt: skip
        await page.goto(site.url + path)
        assert await page.get_by_role("heading", name=heading, exact=True).is_visible()
        await _shot(page, shot)
    await page.goto(site.url + "/email?lang=en")
    assert await page.get_by_role("heading", name="E-mail log").is_visible()
    await page.goto(site.url + "/email?lang=sv")
    await page.get_by_role("button", name="Logga ut").click()
    await page.goto(site.url + "/email")
    assert "/login" in page.url
    await page.context.close()


async def test_hostile_mail_is_shown_without_anything_running(site: Site, browser: Browser):
    page = await _login(browser, site, "anna")
    dialogs: list[str] = []
    page.on("dialog", lambda d: dialogs.append(d.message))
    await page.goto(f"{site.url}/probe/{site.xss_probe}")
    await page.wait_for_timeout(500)
    await _shot(page, "matning-med-skadlig-html")
    assert dialogs == []
    assert await page.evaluate("window.pwned") is None
    body = await page.content()
    assert "<script>alert('subject')</script>" not in body  # escaped, shown as text
    assert "&lt;script&gt;alert('subject')&lt;/script&gt;" in body
    frame = page.locator("iframe.mail")
    assert await frame.get_attribute("sandbox") == ""
    srcdoc = await frame.get_attribute("srcdoc") or ""
    for bad in ("<script", "onerror", "onload", "javascript:", "<svg", "<style", "<iframe"):
        assert bad not in srcdoc.lower(), bad
    assert "Hej! Svar nedan." in srcdoc
    # The page forbids script outright.
    response = await page.request.get(f"{site.url}/probe/{site.xss_probe}")
    assert "script-src" not in response.headers["content-security-policy"]
    assert "default-src 'none'" in response.headers["content-security-policy"]
    await page.context.close()


async def test_roles_and_csrf(site: Site, browser: Browser):
    viewer = await _login(browser, site, "vera")
    token = await viewer.locator("input[name=csrf_token]").first.get_attribute("value")
    with Session(site.engine) as session:
        message = session.exec(select(Message)).first()
        assert message is not None
        before = message.classification
    denied = await viewer.request.post(
        f"{site.url}/review/{message.id}",
        form={"csrf_token": token or "", "kind": "unrelated", "reason": "test"},
        headers={"Origin": site.url},  # from the site, so only the role can refuse it
    )
    assert denied.status == 403  # a viewer reads, never changes
    await viewer.context.close()

    staff = await _login(browser, site, "sara")
    no_token = await staff.request.post(
        f"{site.url}/review/{message.id}",
        form={"kind": "unrelated", "reason": "test"},
        headers={"Origin": site.url},
    )
    assert no_token.status == 403  # no CSRF token: refused
    with Session(site.engine) as session:
        again = session.get(Message, message.id)
        assert again is not None
        assert again.classification == before  # nothing changed
    await staff.context.close()


async def test_an_assessment_in_the_console_reaches_the_scores(site: Site, browser: Browser):
    with Session(site.engine) as session:
        call = session.exec(
            select(Probe).where(Probe.channel == Channel.PHONE, Probe.outcome == "person")
            .order_by(col(Probe.id))
        ).first()  # fmt: skip
        assert call is not None
        call_id = call.id
        old = session.exec(select(Assessment).where(Assessment.probe_id == call_id)).one()
        session.delete(old)  # this call now waits for its assessment
        session.commit()
    page = await _login(browser, site, "sara")
    await page.goto(site.url + "/calls")
    row = page.locator("tr", has=page.locator(f'a[href="/probe/{call_id}"]'))
    assert "väntar" in (await row.inner_text())
    await row.get_by_label("ja").check()
    await row.get_by_label("Bemötande").select_option("3")
    await row.get_by_role("button", name="Spara").click()
    await page.wait_for_url(site.url + "/calls")
    assert "Samtal " in await page.locator(".flash").inner_text()
    with Session(site.engine) as session:
        new = session.exec(select(Assessment).where(Assessment.probe_id == call_id)).one()
    assert (new.direct_answer, new.bemotande) == (True, 3)
    assert new.assessor == "web:sara"
    await page.context.close()


async def test_axe_finds_no_serious_violations(site: Site, browser: Browser):
    page = await _login(browser, site, "anna")
    axe = Axe()
    problems = []
    await page.goto(site.url + "/")
    kommun = await page.locator("ul.kommuner a").first.get_attribute("href")
    assert kommun is not None
    for path in ("/", "/email", "/review", "/calls", "/report", "/settings",
                 f"/probe/{site.xss_probe}", kommun):  # fmt: skip
        await page.goto(site.url + path)
        results = await axe.run(page)
        for violation in results.response["violations"]:
            if violation["impact"] in ("serious", "critical"):
                problems.append(f"{path}: {violation['id']} ({violation['impact']})")
    assert problems == []
    await page.context.close()


async def test_exports_and_report_download(site: Site, browser: Browser):
    page = await _login(browser, site, "sara")
    for fmt in ("csv", "excel.csv", "xlsx", "json"):
        response = await page.request.get(f"{site.url}/export.{fmt}")
        assert response.status == 200, fmt
        assert "attachment" in response.headers["content-disposition"]
    # The CSV for Swedish Excel, from the same service as `kkik export --format csv-excel`.
    excel = await page.request.get(f"{site.url}/export.excel.csv")
    assert 'filename="kkik-export-excel.csv"' in excel.headers["content-disposition"]
    body = await excel.body()
    assert body.startswith(b"\xef\xbb\xbfKommunkod;Kommun;\xc3\x85r;M\xc3\xa5tt;")
    await page.goto(f"{site.url}/report")
    links = await page.locator("main a[href^='/export.']").all_inner_texts()
    assert links == ["export.xlsx", "export.excel.csv", "export.csv", "export.json"]
    csv_text = await (await page.request.get(f"{site.url}/email.csv")).text()
    assert csv_text.startswith("probe_id,kommunkod")
    assert csv_text.splitlines()[0].endswith(
        ",reply_kind,matched_by,match_confidence,acknowledged_at,case_numbers"
    )
    report = await page.request.get(f"{site.url}/report.html")
    assert re.search(r"<h1>KKiK-mätning: KKiK-demo test</h1>", await report.text())
    await page.context.close()


async def test_axe_finds_nothing_on_the_login_page_and_the_report(site: Site, browser: Browser):
    """Any violation fails, whatever its impact (issue 16): the login page as a visitor sees
    it, and the report as the dashboard serves it (under its own content security policy), in
    both languages."""
    axe = Axe()
    context = await browser.new_context(viewport={"width": 1200, "height": 900})
    visitor = await context.new_page()
    await visitor.goto(site.url + "/login")
    found = [f"/login: {v['id']} ({v['impact']})"
             for v in (await axe.run(visitor)).response["violations"]]  # fmt: skip
    await context.close()
    page = await _login(browser, site, "anna")
    for path in ("/report.html", "/report.html?lang=en"):
        response = await page.goto(site.url + path)
        assert response is not None
        assert response.status == 200
        assert "style-src 'unsafe-inline'" in response.headers["content-security-policy"]
        results = (await axe.run(page)).response
        # axe ran on the charts (under the report's policy) and found their names.
        assert "svg-img-alt" in {rule["id"] for rule in results["passes"]}, path
        found += [f"{path}: {v['id']} ({v['impact']})" for v in results["violations"]]
    assert await page.locator("svg[role=img][aria-labelledby]").count() >= 5
    assert found == []
    await page.context.close()


async def test_settings_show_no_secret_and_only_admins_purge(site: Site, browser: Browser):
    staff = await _login(browser, site, "sara")
    await staff.goto(site.url + "/settings")
    text = await staff.content()
    assert "phone.auth_token_env" in text  # where the secret is, never the secret itself
    assert "demo-twilio-token" not in text
    assert "demo-brevlada" not in text
    assert await staff.get_by_role("button", name="Rensa personuppgifter").count() == 0
    token = await staff.locator("input[name=csrf_token]").first.get_attribute("value")
    denied = await staff.request.post(
        f"{site.url}/purge", form={"csrf_token": token or ""}, headers={"Origin": site.url}
    )
    assert denied.status == 403
    await staff.context.close()

    admin = await _login(browser, site, "anna")
    await admin.goto(site.url + "/settings")
    await _shot(admin, "installningar")
    # Nothing is purged at one click: the link leads to a page that says what would go.
    await admin.get_by_role("link", name="Rensa personuppgifter").click()
    await admin.wait_for_url(site.url + "/purge")
    assert await admin.get_by_role("heading", name="Rensa personuppgifter?").is_visible()
    assert "Meddelanden: rå e-post" in await admin.locator("main table").inner_text()
    with Session(site.engine) as session:
        purges = select(AuditEntry).where(AuditEntry.action == "purge")
        assert session.exec(purges).all() == []  # asking wrote nothing
    await admin.get_by_role("button", name="Ja, rensa nu").click()
    await admin.wait_for_url(site.url + "/settings")
    assert "Rensat: 0 meddelanden" in await admin.locator(".flash").inner_text()
    with Session(site.engine) as session:
        assert len(session.exec(purges).all()) == 1
    await admin.context.close()


async def test_the_overview_shows_the_report_s_charts(site: Site, browser: Browser):
    page = await _login(browser, site, "vera")
    charts = page.locator("figure.chart img")
    # The charts are drawn in the background after a change of the evidence: until they are
    # made the page says so (and links to itself), then shows them.
    for _ in range(100):
        if await charts.count():
            break
        drawing = page.get_by_role("status").filter(has_text="Diagrammen ritas")
        assert await drawing.is_visible()
        await page.wait_for_timeout(200)
        await page.get_by_role("link", name="Ladda om sidan").click()
    assert await charts.count() >= 5  # one interval chart per measure, distributions, outcomes
    for i in range(await charts.count()):
        chart = charts.nth(i)
        assert (await chart.get_attribute("alt") or "").startswith("Diagram: ")
        assert (await chart.get_attribute("src") or "").startswith("data:image/svg+xml;base64,")
        assert await chart.evaluate("img => img.complete && img.naturalWidth > 0")  # it drew
    captions = await page.locator("figure.chart figcaption").all_inner_texts()
    assert "Andel som får svar på e-post inom en arbetsdag" in captions
    # Bemötande as points of the maximum with the calls, never points over calls ("18/12").
    cells = await page.locator("td.num").all_inner_texts()
    assert any(re.fullmatch(r"\d+ av \d+ poäng, \d+ samtal", c) for c in cells), cells
    await _shot(page, "oversikt-diagram")
    await page.context.close()


async def test_the_overview_tells_of_sends_in_doubt(site: Site, browser: Browser):
    with Session(site.engine) as session:
        probe = session.exec(
            select(Probe).where(Probe.channel == Channel.EMAIL).order_by(col(Probe.id))
        ).first()
        assert probe is not None
        saved = (probe.state, probe.outcome)
        probe.state, probe.outcome = ProbeState.SENDING, "send_unknown"
        session.add(probe)
        session.commit()
        try:
            page = await _login(browser, site, "vera")
            notice = await page.get_by_role("status").all_inner_texts()
            assert any(text.startswith("1 utskick i ovisshet") for text in notice)
            await page.context.close()
        finally:
            probe.state, probe.outcome = saved
            session.add(probe)
            session.commit()
