"""A new user's first visit after ``kkik demo --serve``, in headless Chromium, all in Swedish.

The issue's acceptance walk: log in with the printed password, find a late reply in the e-mail
log, open it, reclassify a receipt, assess a call, download the export. Every page must say
``lang="sv"`` and show the Swedish menu.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page
from sqlmodel import Session, col, select

from harness.store.db import make_engine
from harness.store.models import Assessment, AuditEntry, Channel, Message, Probe, Target
from tests.browser import needs_chromium
from tests.demo_process import serving_demo

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "tests" / "data" / "demo" / "world-small.toml"
SWEDISH_MENU = ("Översikt", "E-postlogg", "Granska", "Samtal", "Rapport och export")

pytestmark = needs_chromium


@dataclass
class Served:
    url: str
    user: str
    password: str
    directory: Path


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    directory = tmp_path_factory.mktemp("first-visit") / "demo"
    login = r"på (http://127\.0\.0\.1:\d+)/: logga in som (\S+) med lösenordet (\S+) "
    with serving_demo(directory, login) as found:
        yield Served(found.group(1), found.group(2), found.group(3), directory)


def _json(path: Path) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = json.loads(path.read_text(encoding="utf-8"))
    return rows


async def _in_swedish(page: Page) -> None:
    assert await page.get_attribute("html", "lang") == "sv"
    menu = await page.get_by_role("navigation", name="Huvudmeny").inner_text()
    for item in SWEDISH_MENU:
        assert item in menu


async def test_a_new_user_walks_through_the_demo_in_swedish(served: Served, browser: Browser):
    engine = make_engine(f"sqlite:///{served.directory / 'kkik.db'}")
    context = await browser.new_context(
        viewport={"width": 1200, "height": 900}, accept_downloads=True
    )
    page = await context.new_page()

    # Log in with what the demo printed.
    await page.goto(served.url + "/")
    await page.get_by_label("Användarnamn").fill(served.user)
    await page.get_by_label("Lösenord").fill(served.password)
    await page.get_by_role("button", name="Logga in").click()
    await page.wait_for_url(served.url + "/")
    await _in_swedish(page)
    assert "Måtten hittills" in await page.content()

    # Find a late reply in the e-mail log: filter on "not within one working day".
    await page.get_by_role("link", name="E-postlogg").click()
    await page.get_by_label("Inom en arbetsdag").select_option("no")
    await page.get_by_role("button", name="Filtrera").click()
    await _in_swedish(page)
    rows = page.locator("tbody tr")
    assert await rows.count() > 0
    for text in await rows.all_inner_texts():
        assert "\tnej\t" in text  # every row shown is late
    late = rows.first.locator("a").first
    late_probe = int(await late.inner_text())
    await late.click()
    await page.wait_for_url(f"{served.url}/probe/{late_probe}")
    await _in_swedish(page)
    assert "Meddelanden" in await page.content()

    # Reclassify a receipt: a case-system receipt that in fact answered the question.
    with Session(engine) as session:
        receipt = session.exec(
            select(Message)
            .where(Message.classification == "auto_reply", col(Message.probe_id).is_not(None))
            .order_by(col(Message.id))
        ).first()
        assert receipt is not None
    await page.goto(f"{served.url}/probe/{receipt.probe_id}")
    section = page.locator("section", has=page.locator(f"#m{receipt.id}"))
    await section.get_by_label("Typ").select_option("human_reply")
    await section.get_by_label("Skäl (sparas i loggen)").fill("Kvittot innehöll svaret")
    await section.get_by_role("button", name="Spara").click()
    await page.wait_for_url(f"{served.url}/probe/{receipt.probe_id}")
    assert "Sparat." in await page.locator(".flash").inner_text()
    with Session(engine) as session:
        changed = session.get(Message, receipt.id)
        assert changed is not None
        assert changed.classification == "human_reply"
        entry = session.exec(
            select(AuditEntry).where(
                AuditEntry.entity == "message", AuditEntry.entity_id == str(receipt.id)
            )
        ).one()
    assert entry.actor == f"web:{served.user}"
    assert entry.reason == "Kvittot innehöll svaret"
    await page.get_by_role("link", name="Granska").click()
    await _in_swedish(page)
    assert "Kvittot innehöll svaret" in await page.content()  # the audit trail shows it

    # Assess a call in its console.
    with Session(engine) as session:
        # A call the demo's tester rated above 1, so the new rating (1) must change the export.
        call = session.exec(
            select(Probe)
            .join(Assessment, col(Assessment.probe_id) == col(Probe.id))
            .where(Probe.channel == Channel.PHONE, Probe.outcome == "person")
            .where(col(Assessment.bemotande) > 1)
            .order_by(col(Probe.id))
        ).first()
        assert call is not None
        before = session.exec(select(Assessment).where(Assessment.probe_id == call.id)).one()
        target = session.get(Target, call.target_id)
        assert target is not None
    await page.get_by_role("link", name="Samtal", exact=True).click()
    await _in_swedish(page)
    await page.locator(f'a[href="/calls/{call.id}"]').first.click()
    await page.wait_for_url(f"{served.url}/calls/{call.id}")
    await _in_swedish(page)
    await page.get_by_label("nej").check()
    await page.get_by_label("1 – medelgod", exact=False).check()
    await page.get_by_role("button", name="Spara").click()
    await page.wait_for_url(f"{served.url}/calls/{call.id}")
    with Session(engine) as session:
        assessment = session.exec(select(Assessment).where(Assessment.probe_id == call.id)).one()
    assert (assessment.direct_answer, assessment.bemotande) == (False, 1)
    assert assessment.assessor == f"web:{served.user}"

    # Download the export: it carries the changes just made.
    await page.get_by_role("link", name="Rapport och export").click()
    await _in_swedish(page)
    async with page.expect_download() as waiting:
        await page.get_by_role("link", name="export.json").click()
    download = await waiting.value
    path = await download.path()
    exported = _json(Path(path))
    await context.close()
    engine.dispose()
    # The demo's own export was written before the changes: the bemötande points of this
    # municipality dropped by exactly what the new assessment took away.
    original = _json(served.directory / "export.json")

    def points(rows: list[dict[str, object]]) -> object:
        [row] = [
            r
            for r in rows
            if r["kommunkod"] == target.kommunkod and r["measure"] == "phone_bemotande"
        ]
        return row["numerator"]

    assert before.bemotande is not None
    assert points(exported) == points(original) - (before.bemotande - 1)  # type: ignore[operator]
