"""The dashboard's details (issue 16, items 4, 9 and 10), over real HTTP and in Chromium.

On a demo campaign (the small test world) served by the real app under uvicorn: every page in
Swedish without a raw code; the e-mail log and the calls filtered by a municipality's name or
code, with a message when nothing matches; an assessed call showing its assessment and changed
with a reason (audited); a correction showing at once although the pages' derived data is
cached; the site's own pages for unknown addresses and refused methods; and a purge that asks
first and removes what it said it would.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from harness.assembly import Assembly
from harness.channels.email.store import MailStore
from harness.core import labels, mail_labels, setting_labels
from harness.core.clock import FakeClock
from harness.core.config import load_config
from harness.demo.run import Demo
from harness.rules.measurement import timing_rules
from harness.services.base import Context
from harness.services.retention import purge_personal_data
from harness.services.review import Correction, correct
from harness.store.models import (
    Assessment,
    AuditEntry,
    Channel,
    Message,
    Probe,
    ProbeState,
)
from harness.web.app import WebServer
from harness.web.audit_text import FIELDS
from probes.email_classify import Kind
from probes.imap_wire import FetchedMessage
from tests.browser import needs_chromium
from tests.security.site import PASSWORDS, ROLE_USERS, SMALL, Client, add_users

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ROWS = re.compile(r'<tr><td><a href="/probe/(\d+)">\d+</a></td><td>([^<]*)</td>')
FLASH = re.compile(r'<p class="flash" role="status">([^<]*)</p>')


@dataclass
class Site:
    url: str
    app: Any
    engine: Engine
    settings: Any
    clock: FakeClock
    http: list[aiohttp.ClientSession]

    async def login(self, role: str) -> Client:
        session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.http.append(session)
        client = Client(session, self.url)
        name = ROLE_USERS[role]
        status, _, _ = await client.post(
            "/login", {"name": name, "password": PASSWORDS[name], "next": "/"}, token=True
        )
        assert status == 303
        return client


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def site(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Site]:
    demo = Demo(tmp_path_factory.mktemp("details") / "demo", seed=5, world_path=SMALL)
    await demo.run()
    # Personal data is kept 5 days here, and the dashboard runs 10 days after the campaign:
    # the purge has something to remove.
    with demo.config.open("a", encoding="utf-8") as config:
        config.write("\n[retention]\npersonal_data_days = 5\n")
    settings = load_config(demo.config)
    engine = make_engine_for(settings)
    clock = FakeClock(demo.clock.now() + timedelta(days=10))
    add_users(engine, clock)
    _unmatched_mail(engine, settings, demo.clock.now())
    _a_correction(engine, settings, clock)
    app = Assembly(settings, engine, clock, config_path=demo.config).web_app(
        auth_token="token", dashboard_secret="details-session-secret-0123456789-abcdef"
    )
    async with WebServer(app) as web:
        found = Site(web.url, app, engine, settings, clock, [])
        try:
            yield found
        finally:
            for session in found.http:
                await session.close()
    engine.dispose()


def make_engine_for(settings: Any) -> Engine:
    from harness.store.db import make_engine

    return make_engine(settings.database.url)


def _unmatched_mail(engine: Engine, settings: Any, at: datetime) -> None:
    """A mail no question fits: the review queue has something to show."""
    raw = (
        "From: Okänd <info@foreningen.example.se>\r\nTo: fraga@fraga.example.se\r\n"
        "Subject: Medlemsutskick oktober\r\nDate: Tue, 06 Oct 2026 10:00:00 +0200\r\n"
        "Message-ID: <okand.1@foreningen.example.se>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nHej, här kommer nyheterna.\r\n"
    ).encode()
    store = MailStore(engine, FakeClock(at), timing_rules(settings))
    assert store.ingest("INBOX", 1, FetchedMessage(77_001, at, None, raw))


def _a_correction(engine: Engine, settings: Any, clock: FakeClock) -> None:
    """A person's reclassification, so the review page's audit trail has a change to word."""
    with Session(engine) as session:
        receipt = session.exec(
            select(Message)
            .where(Message.classification == Kind.AUTO_REPLY, col(Message.probe_id).is_not(None))
            .order_by(col(Message.id))
        ).first()
        assert receipt is not None
    ctx = Context(engine, clock, settings, "web:anna")
    correct(ctx, Correction(receipt.id or 0, "Kvittot var ett svar", kind="unrelated"))


def _raw_codes() -> set[str]:
    """Every code of the enums and code tables that must never be shown as it is."""
    codes = {state.value for state in ProbeState} | {kind.value for kind in Kind}
    for table in (labels.PROBE_OUTCOMES, labels.CALL_STATUSES, labels.CALL_EVENTS,
                  labels.CALL_MODES, labels.FAULTS, labels.AREAS, labels.WEEKDAYS,
                  mail_labels.CLASSIFICATION_REASONS, mail_labels.MATCH_METHODS,
                  mail_labels.ARRIVAL_SOURCES, setting_labels.SETTINGS, FIELDS):  # fmt: skip
        codes |= set(table)
    codes |= {"holding_reply", "email", "phone", "admin", "staff", "viewer", "INBOX", "\\Junk"}
    # Codes that are also ordinary Swedish words, which the labels themselves use.
    return codes - {"person", "sent", "fri", "given", "status"}


def _found_codes(text: str, codes: set[str]) -> list[str]:
    return sorted(
        code for code in codes if re.search(rf"(?<![\w@.-]){re.escape(code)}(?![\w-])", text)
    )


async def _visible_text(page: Page) -> str:
    """What a reader sees, without the content that came from outside or from the question
    bank (mail texts and subjects, the question), which may hold any word."""
    text = await page.evaluate(
        """() => {
            const copy = document.body.cloneNode(true);
            copy.querySelectorAll('.content, pre.mail, p.question, iframe, datalist, script')
                .forEach((node) => node.remove());
            document.body.after(copy);
            const seen = copy.innerText;
            copy.remove();
            return seen;
        }"""
    )
    assert isinstance(text, str)
    return text


async def _browser_login(browser: Browser, site: Site, role: str) -> Page:
    context = await browser.new_context(viewport={"width": 1200, "height": 900})
    page = await context.new_page()
    await page.goto(site.url + "/login")
    name = ROLE_USERS[role]
    await page.get_by_label("Användarnamn").fill(name)
    await page.get_by_label("Lösenord").fill(PASSWORDS[name])
    await page.get_by_role("button", name="Logga in").click()
    await page.wait_for_url(site.url + "/")
    return page


def _ids(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:

        def first(*where: Any) -> int:
            probe = session.exec(select(Probe).where(*where).order_by(col(Probe.id))).first()
            assert probe is not None
            assert probe.id is not None
            return probe.id

        assessed = session.exec(
            select(Assessment.probe_id).where(col(Assessment.direct_answer).is_not(None))
        ).first()
        assert assessed is not None
        return {
            "answered": first(Probe.channel == Channel.EMAIL, Probe.outcome == "answered"),
            "unanswered": first(Probe.channel == Channel.EMAIL, Probe.outcome != "answered"),
            "assessed": assessed,
            "busy": first(Probe.channel == Channel.PHONE, Probe.outcome != "person"),
        }


@needs_chromium
async def test_every_page_is_in_swedish_without_a_raw_code(site: Site, browser: Browser):
    ids = _ids(site.engine)
    codes = _raw_codes()
    page = await _browser_login(browser, site, "admin")
    pages = ["/", "/email", "/email?kommun=Berg", "/email?kommun=Stockholmx", "/review",
             "/calls", "/calls?kommun=2326", f"/calls/{ids['assessed']}", f"/calls/{ids['busy']}",
             f"/probe/{ids['answered']}", f"/probe/{ids['unanswered']}",
             f"/probe/{ids['assessed']}", "/report", "/settings", "/users", "/purge",
             "/kommun/2380", "/kommun/2326",
             "/no-such-page", f"/calls/{ids['busy']}/assess"]  # fmt: skip
    found: dict[str, list[str]] = {}
    for path in pages:
        response = await page.goto(site.url + path)
        assert response is not None
        assert response.status in (200, 404, 405), (path, response.status)
        assert await page.get_attribute("html", "lang") == "sv", path
        raw = _found_codes(await _visible_text(page), codes)
        if raw:
            found[path] = raw
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "oversikt"
        await page.screenshot(path=str(ARTIFACTS / f"detaljer-{name}.png"), full_page=True)
    assert found == {}
    await page.context.close()


async def test_the_e_mail_log_and_the_calls_filter_by_name_or_code(site: Site):
    client = await site.login("viewer")
    everything = ROWS.findall((await client.get("/email")).text)
    assert {name for _, name in everything} == {"2380 Östersund", "2326 Berg"}
    berg = sorted(pid for pid, name in everything if name == "2326 Berg")
    for query in ("Berg", "berg", "2326", "2326+Berg", "BERG"):
        shown = ROWS.findall((await client.get(f"/email?kommun={query}")).text)
        assert sorted(pid for pid, _ in shown) == berg, query
    csv = (await client.get("/email.csv?kommun=berg")).text.splitlines()[1:]
    assert sorted(line.split(",")[0] for line in csv) == berg
    nothing = (await client.get("/email?kommun=Stockholm")).text
    assert ROWS.findall(nothing) == []
    assert "Ingen kommun i kampanjen matchar ”Stockholm”" in html.unescape(nothing)
    calls = (await client.get("/calls?kommun=Berg")).text
    shown_calls = re.findall(r'<td><a href="/probe/\d+">\d+</a> .*?</td><td>([^<]*)</td>', calls)
    assert shown_calls
    assert set(shown_calls) == {"2326 Berg"}
    assert "Ingen kommun i kampanjen matchar" in (await client.get("/calls?kommun=x1")).text


@needs_chromium
async def test_an_assessed_call_shows_its_assessment_and_it_can_be_changed(
    site: Site, browser: Browser
):
    call = _ids(site.engine)["assessed"]
    with Session(site.engine) as session:
        before = session.exec(select(Assessment).where(Assessment.probe_id == call)).one()
    page = await _browser_login(browser, site, "staff")
    await page.goto(f"{site.url}/calls/{call}")
    shown = await page.locator("table", has=page.get_by_text("Bedömd av")).inner_text()
    assert ("ja" if before.direct_answer else "nej") in shown
    assert f"{before.bemotande} – " in shown
    # The form starts from the assessment, so changing one thing keeps the others.
    checked = page.locator("input[name=bemotande]:checked")
    assert await checked.get_attribute("value") == str(before.bemotande)
    answer = page.locator("input[name=direct_answer]:checked")
    assert await answer.get_attribute("value") == ("yes" if before.direct_answer else "no")
    # Every row header and every form label on the page is different from the others.
    headers = await page.locator("th[scope=row]").all_inner_texts()
    assert len(headers) == len(set(headers)), headers
    names = await page.locator("form label, form legend").all_inner_texts()
    assert len(names) == len(set(names)), names
    new_level = 0 if before.bemotande != 0 else 3
    await page.locator(f"input[name=bemotande][value='{new_level}']").check()
    await page.get_by_label("Skäl till ändringen").fill("Lyssnade igen på inspelningen")
    await page.get_by_role("button", name="Spara").click()
    await page.wait_for_url(f"{site.url}/calls/{call}")
    with Session(site.engine) as session:
        after = session.exec(select(Assessment).where(Assessment.probe_id == call)).one()
        entry = session.exec(
            select(AuditEntry)
            .where(AuditEntry.action == "reassess", AuditEntry.entity_id == str(call))
            .order_by(col(AuditEntry.id).desc())
        ).first()
    assert after.bemotande == new_level
    assert after.direct_answer == before.direct_answer
    assert entry is not None
    assert entry.reason == "Lyssnade igen på inspelningen"
    assert entry.before is not None
    assert entry.after is not None
    assert (entry.before["bemotande"], entry.after["bemotande"]) == (before.bemotande, new_level)
    assert entry.actor == "web:sara"
    shown = await page.locator("table", has=page.get_by_text("Bedömd av")).inner_text()
    assert f"{new_level} – " in shown
    assert "sara (webbpanelen)" in shown
    await page.context.close()


async def test_a_correction_shows_at_once_though_the_pages_are_cached(site: Site):
    client = await site.login("staff")
    cache = site.app.state.derived
    first = (await client.get("/")).text
    made = cache.computed
    assert (await client.get("/")).text == first
    assert cache.computed == made  # the second view was served from the cache
    # A counted answer within one working day, the only reply to its question.
    log = (await client.get("/email?within=yes")).text
    probe = int(ROWS.findall(log)[0][0])
    with Session(site.engine) as session:
        replies = session.exec(
            select(Message).where(
                Message.probe_id == probe, Message.classification == "human_reply"
            )
        ).all()
        assert replies
    row_before = re.search(rf'href="/probe/{probe}">.*?</tr>', log, re.DOTALL)
    assert row_before is not None
    assert "svar från en person" in row_before.group(0)
    for reply in replies:
        status, _, _ = await client.post(
            f"/review/{reply.id}", {"kind": "auto_reply", "reason": "Var ett kvitto"}, token=True
        )
        assert status == 303
    after = (await client.get("/")).text
    assert after != first  # the measures changed at once
    assert cache.computed > made
    row = re.search(rf'href="/probe/{probe}">.*?</tr>', (await client.get("/email")).text,
                    re.DOTALL)  # fmt: skip
    assert row is not None
    assert "svar från en person" not in row.group(0)


async def test_a_page_per_municipality_with_the_country_the_years_and_our_own(site: Site):
    """Issue 18: each municipality's page, linked from the overview; the same tables as the
    report's, the charts as images; an unknown municipality is the site's 404."""
    client = await site.login("viewer")
    overview = (await client.get("/")).text
    assert '<a href="/kommun/2380">2380 Östersund</a>' in overview
    page = await client.get("/kommun/2380")
    assert page.status == 200
    text = html.unescape(page.text)
    assert "<h1>2380 Östersund</h1>" in text
    for heading in ("Jämfört med riket", "Utveckling över åren", "Egna e-postmått"):
        assert f"<h2>{heading}</h2>" in text, heading
    # No Kolada values are loaded in this database: the page says how to load them.
    assert "kkik reference fetch --municipality alla" in text
    assert "Andel svar med fullständiga avsändaruppgifter" in text
    assert "<svg" not in page.text  # charts only as images: the page's policy forbids style
    assert (await client.get("/kommun/9999")).status == 404


async def test_unknown_addresses_and_refused_methods_get_the_site_s_own_page(site: Site):
    visitor = await site.login("viewer")
    for path, status, heading in (
        ("/no-such-page", 404, "Sidan finns inte"),
        ("/probe/999999", 404, "Sidan finns inte"),
        ("/probe/99999999999999999999999999", 404, "Sidan finns inte"),
        ("/export.toml", 404, "Sidan finns inte"),
        ("/logout", 405, "Det går inte att göra så här"),
    ):
        reply = await visitor.get(path)
        assert reply.status == status, path
        assert reply.headers["Content-Type"].startswith("text/html"), path
        assert f"<h1>{heading}</h1>" in reply.text, path
        assert '<html lang="sv">' in reply.text
        assert "detail" not in reply.text
        assert 'href="/email"' in reply.text  # the site's menu: the visitor is logged in
    english = await visitor.get("/no-such-page?lang=en")
    assert "<h1>There is no such page</h1>" in english.text
    await visitor.get("/?lang=sv")
    staff = await site.login("staff")
    call = _ids(site.engine)["busy"]
    status, text, headers = await staff.post(
        f"/calls/{call}/assess", {"direct_answer": "yes", "bemotande": "9"}, token=True
    )
    assert status == 422
    assert headers["Content-Type"].startswith("text/html")
    assert "Formuläret hade ogiltiga värden" in text
    anonymous = aiohttp.ClientSession()
    site.http.append(anonymous)
    async with anonymous.get(site.url + "/nowhere") as answer:
        assert answer.status == 404
        assert "Sidan finns inte" in await answer.text()


@needs_chromium
async def test_an_answered_question_is_assessed_from_the_signature_s_proposal(
    site: Site, browser: Browser
):
    """Issue 18, item 4: sender details proposed from the signature, confirmed or corrected by
    a person, with the answer-quality rubric; audited; counted in the exports as our own."""
    from harness.services.mail_assess import mail_proposal
    from harness.services.outputs import ExportRequest, export_campaign
    from harness.store.models import MailAssessment

    ctx = Context(site.engine, site.clock, site.settings, "web:sara")
    probe = _ids(site.engine)["answered"]
    proposal = mail_proposal(ctx, probe)
    page = await _browser_login(browser, site, "staff")
    await page.goto(f"{site.url}/probe/{probe}")
    for field, attr in (("sender_name", "name"), ("sender_title", "title"),
                        ("sender_phone", "phone"), ("sender_address", "address")):  # fmt: skip
        assert await page.locator(f"input[name={field}]").input_value() == (
            getattr(proposal.proposed, attr) or ""
        )
    await page.get_by_label("Namn", exact=True).fill("Karin Berg")
    await page.get_by_label("Titel", exact=True).fill("Bygglovshandläggare")
    await page.get_by_label("Telefonnummer").fill("063-14 30 00")
    for question, answer in (("Besvarar svaret frågan?", "ja"), ("Är svaret korrekt?", "ja"),
                             ("Ger svaret extra hjälp", "nej")):  # fmt: skip
        group = page.get_by_role("group", name=re.compile(re.escape(question)))
        await group.get_by_label(answer, exact=True).check()
    await page.get_by_role("button", name="Spara").last.click()
    await page.wait_for_url(f"{site.url}/probe/{probe}")
    flash = await page.locator("p.flash").inner_text()
    assert flash == (
        f"Svaret på fråga {probe} är bedömt: avsändaruppgifter fullständiga, svarskvalitet 2/3."
    )
    with Session(site.engine) as session:
        row = session.exec(select(MailAssessment).where(MailAssessment.probe_id == probe)).one()
        entry = session.exec(
            select(AuditEntry).where(
                AuditEntry.action == "mail_assess", AuditEntry.entity_id == str(probe)
            )
        ).one()
    assert (row.sender_name, row.sender_phone, row.sender_complete) == (
        "Karin Berg", "063-14 30 00", True,
    )  # fmt: skip
    assert (row.answered, row.correct, row.extra_help) == (True, True, False)
    assert entry.actor == "web:sara"
    assert entry.after is not None
    assert entry.after["sender_title"] == "Bygglovshandläggare"
    # A change needs a reason: the form asks for one now.
    assert await page.get_by_label("Skäl till ändringen").count() == 1
    await page.context.close()
    # Counted as our own measure in the exports, beside the answers still to assess.
    exported = export_campaign(ctx, ExportRequest(format="json", allow_pending=True))
    rows = [r for r in json.loads(exported.data)
            if r["measure"] == "email_sender_complete" and r["numerator"]]  # fmt: skip
    assert len(rows) == 1
    assert rows[0]["kpi_id_is_own"] is True
    assert rows[0]["source"] == "assessed"
    assert (rows[0]["numerator"], rows[0]["denominator"], rows[0]["value"]) == (1, 1, 100)


async def test_purge_asks_first_and_removes_what_it_said(site: Site):
    """Last in this module: it removes the demo's personal data."""
    staff = await site.login("staff")
    assert (await staff.get("/purge")).status == 403
    admin = await site.login("admin")
    ctx = Context(site.engine, site.clock, site.settings, "test")
    expected = (await purge_personal_data(ctx, dry_run=True)).counts
    assert expected.messages > 0
    page = await admin.get("/purge")
    cells = re.findall(r'<td class="num">(\d+)</td>', page.text)
    assert [int(c) for c in cells] == [
        expected.messages, expected.mail_assessments, expected.assessments,
        expected.call_details, expected.audit_entries, expected.call_events,
    ]  # fmt: skip
    with Session(site.engine) as session:
        kept = session.exec(select(Message.text_body).where(col(Message.text_body).is_not(None)))
        texts = len(kept.all())
        assert session.exec(select(AuditEntry).where(AuditEntry.action == "purge")).all() == []
    assert texts >= expected.messages
    # Without the confirmation page's form: back to it, nothing removed.
    status, _, headers = await admin.post("/purge", {}, token=True)
    assert (status, headers["Location"]) == (303, "/purge")
    # The retention is counted back from the page's instant; a later one sent is held to now.
    as_of = re.search(r'name="as_of" value="([^"]+)"', page.text)
    assert as_of is not None
    assert datetime.fromisoformat(as_of.group(1)) == site.clock.now()
    late = (site.clock.now() + timedelta(days=1)).isoformat()
    status, _, headers = await admin.post("/purge", {"as_of": late}, token=True)
    assert (status, headers["Location"]) == (303, "/settings")
    assert f"Rensat: {expected.messages} meddelanden" in (await admin.get("/settings")).text
    with Session(site.engine) as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "purge")).one()
        retention = timedelta(days=site.settings.retention.personal_data_days)
        assert entry.entity_id == (site.clock.now() - retention).isoformat()
        assert entry.after == {
            "messages": expected.messages, "assessments": expected.assessments,
            "call_events": expected.call_events, "mail_assessments": expected.mail_assessments,
            "call_details": expected.call_details, "audit_entries": expected.audit_entries,
            "recordings_deleted": 0, "recordings_kept": 0,
        }  # fmt: skip
        assert session.exec(select(Probe).where(Probe.state == ProbeState.COMPLETED)).first()
