"""The call console in headless Chromium: a bridged call started, followed, marked, ended and
assessed from the browser; the recording of an automated call with its "person answered here"
marker. The real web app, the real Twilio SDK and the simulator, on one fake clock that the test
moves between browser steps, so every timestamp is the simulator's script.
"""

from __future__ import annotations

import io
import wave
from datetime import timedelta
from pathlib import Path

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page, expect
from sqlmodel import Session, col, select

from harness.campaign.evidence import call_rows, campaign_evidence
from harness.campaign.runner import PlaceNow
from harness.rules.measurement import timeline_rules
from harness.sandbox.twilio_calls import SwitchboardScript
from harness.store import users
from harness.store.models import Assessment, AuditEntry, Probe, ProbeState
from harness.web.console import byte_range
from tests.browser import needs_chromium
from tests.phone_rig import CALLER, START, PhoneRig, make_rig, stop_rig, week_later

SECRET = "a-session-secret-of-at-least-32-characters"
PASSWORDS = {"anna": "anna-losen-1234", "sara": "sara-losen-1234", "vera": "vera-losen-1234"}
SWITCHBOARD = "+4684711000"
TEN_O_CLOCK = START + timedelta(hours=3)  # Monday 10:00 in Stockholm, inside the call window

pytestmark = needs_chromium


def _add_users(rig: PhoneRig) -> None:
    for name, role in (("anna", "admin"), ("sara", "staff"), ("vera", "viewer")):
        users.add_user(rig.engine, name, role, PASSWORDS[name], rig.clock.now(), "test")


async def _login(browser: Browser, rig: PhoneRig, name: str) -> Page:
    page = await (await browser.new_context(viewport={"width": 1200, "height": 900})).new_page()
    await page.goto(rig.web.url + "/login?lang=sv")
    await page.get_by_label("Användarnamn").fill(name)
    await page.get_by_label("Lösenord").fill(PASSWORDS[name])
    await page.get_by_role("button", name="Logga in").click()
    await page.wait_for_url(rig.web.url + "/")
    return page


def _probe(rig: PhoneRig, probe_id: int) -> Probe:
    with Session(rig.engine) as session:
        probe = session.get(Probe, probe_id)
        assert probe is not None
        return probe


def _audit(rig: PhoneRig, action: str) -> list[AuditEntry]:
    with Session(rig.engine) as session:
        return list(session.exec(select(AuditEntry).where(AuditEntry.action == action)).all())


async def _settle(rig: PhoneRig, seconds: float) -> None:
    """Let the simulated call run on for ``seconds`` (callbacks reach the app as they fall due)."""
    await rig.sim.run_until(rig.clock.now() + timedelta(seconds=seconds))


async def test_a_bridged_call_is_placed_followed_ended_and_assessed_in_the_console(
    tmp_path, monkeypatch, browser
):
    # Voice menu for 25 s, then a person who would talk for ten minutes: the tester ends it.
    script = SwitchboardScript(ring_seconds=4, person_after=25, talk_seconds=600)
    rig = await make_rig(
        tmp_path, monkeypatch, targets=[("2380", SWITCHBOARD)], scripts={SWITCHBOARD: script},
        mark_person=False, dashboard_secret=SECRET,
    )  # fmt: skip
    try:
        _add_users(rig)
        rig.clock.set(TEN_O_CLOCK)
        page = await _login(browser, rig, "sara")
        probe_id = rig.probes()[0].id
        assert probe_id is not None

        await page.goto(rig.web.url + "/calls")
        await page.get_by_role("link", name=f"Öppna konsolen för samtal {probe_id}").click()
        await page.wait_for_url(f"{rig.web.url}/calls/{probe_id}")
        assert "Frågan att ställa" in await page.content()
        await page.get_by_role("button", name="Ring upp nu").click()
        await page.wait_for_url(f"{rig.web.url}/calls/{probe_id}")
        assert "Samtalet rings upp" in await page.locator(".flash").inner_text()
        placed = _probe(rig, probe_id)
        assert placed.state == ProbeState.SENT
        assert placed.call_sid
        assert placed.claimed_at == TEN_O_CLOCK
        assert [c.to for c in rig.sim.calls.values()] == [CALLER]  # the tester's phone first

        # The live panel: a running timer, and the legs as Twilio reports them.
        timer = page.locator("#timer")
        first = await timer.inner_text()
        await page.wait_for_timeout(1_300)
        assert await timer.inner_text() != first  # counts on its own, without a reload
        await _settle(rig, 12)  # the tester answers, the switchboard is dialled and answers
        # console.js polls the status every 2 s and updates the legs in place.
        await expect(page.locator("#legs [data-leg=municipal]")).to_contain_text("pågår")
        assert "pågår" in await page.locator("#legs [data-leg=caller]").inner_text()

        await _settle(rig, 25)  # the voice menu ends, a person answers
        person_time = rig.clock.now()
        await page.get_by_role("button", name="Person svarade nu").click()
        await page.wait_for_url(f"{rig.web.url}/calls/{probe_id}")
        await _settle(rig, 40)  # the question is asked and answered
        await page.get_by_role("button", name="Avsluta samtalet").click()
        await page.wait_for_url(f"{rig.web.url}/calls/{probe_id}")
        await _settle(rig, 5)  # Twilio's completed callbacks arrive
        # The page notices the end by itself and shows the assessment form.
        await page.wait_for_selector("#assess-h", timeout=10_000)
        await page.screenshot(path=str(_artifacts() / "samtalskonsol.png"), full_page=True)
        assert await _serious_axe_violations(page) == []
        assert not await page.locator("#live").count()
        assert all(leg.status in ("completed",) for leg in rig.sim.calls.values())

        await page.get_by_label("ja").check()
        await page.get_by_label("3 – mycket god", exact=False).check()
        await page.get_by_label("Kommentar").fill("Vänlig och kunnig")
        await page.get_by_role("button", name="Spara").click()
        await page.wait_for_url(f"{rig.web.url}/calls/{probe_id}")
        with Session(rig.engine) as session:
            assessment = session.exec(
                select(Assessment).where(Assessment.probe_id == probe_id)
            ).one()
        assert (assessment.direct_answer, assessment.bemotande) == (True, 3)
        assert assessment.assessor == "web:sara"
        await page.context.close()

        # The runner's follow-up settles the call; the timeline is the script's, to the second.
        rig.clock.set(rig.clock.now() + timedelta(minutes=1))
        await rig.runner.tick()
        [row] = call_rows(rig.engine, timeline_rules(rig.settings))
        assert row["outcome"] == "person"
        assert row["person_at"] == person_time.isoformat()
        evidence, _ = campaign_evidence(
            rig.engine, "Telefontest", False, timeline_rules(rig.settings)
        )
        [phone] = [e for e in evidence if e.channel == "phone"]
        assert (phone.outcome, phone.direct_answer, phone.bemotande) == ("person", True, 3)
        [start] = _audit(rig, "call_start")
        [hangup] = _audit(rig, "call_hangup")
        assert start.actor == hangup.actor == "web:sara"
        assert start.after == {"result": "placed"}
    finally:
        await stop_rig(rig)


async def test_the_console_keeps_the_runner_s_rules_and_the_roles(tmp_path, monkeypatch, browser):
    script = SwitchboardScript(person_after=0)
    rig = await make_rig(
        tmp_path, monkeypatch, targets=[("2380", SWITCHBOARD)], scripts={SWITCHBOARD: script},
        mark_person=False, dashboard_secret=SECRET,
    )  # fmt: skip
    try:
        _add_users(rig)
        probe_id = rig.probes()[0].id
        rig.clock.set(START + timedelta(hours=12))  # 19:00: outside the call window (09-16)
        page = await _login(browser, rig, "sara")
        await page.goto(f"{rig.web.url}/calls/{probe_id}")
        await page.get_by_role("button", name="Ring upp nu").click()
        await page.wait_for_url(f"{rig.web.url}/calls/{probe_id}")
        assert "Utanför kampanjens ringtider" in await page.locator(".flash").inner_text()
        assert _probe(rig, probe_id or 0).state == ProbeState.PLANNED
        assert rig.sim.calls == {}
        await page.context.close()

        # A viewer sees the console but has no button, and a forged post is refused.
        viewer = await _login(browser, rig, "vera")
        await viewer.goto(f"{rig.web.url}/calls/{probe_id}")
        assert not await viewer.get_by_role("button", name="Ring upp nu").count()
        token = await viewer.locator("input[name=csrf_token]").first.get_attribute("value")
        refused = await viewer.request.post(
            f"{rig.web.url}/calls/{probe_id}/start",
            form={"csrf_token": token or ""},
            headers={"Origin": rig.web.url},  # from the site, so only the role can refuse it
        )
        assert refused.status == 403
        await refused.dispose()
        # Without the token even a staff member's post changes nothing.
        staff = await _login(browser, rig, "sara")
        refused = await staff.request.post(
            f"{rig.web.url}/calls/{probe_id}/start", form={}, headers={"Origin": rig.web.url}
        )
        assert refused.status == 403
        await refused.dispose()
        assert rig.sim.calls == {}
        assert _probe(rig, probe_id or 0).state == ProbeState.PLANNED
        await viewer.context.close()
        await staff.context.close()
    finally:
        await stop_rig(rig)


async def test_starting_a_call_now_keeps_every_rule_of_the_runner(tmp_path, monkeypatch):
    rig = await make_rig(
        tmp_path, monkeypatch, targets=[("2380", SWITCHBOARD)], calls=3,
        scripts={SWITCHBOARD: SwitchboardScript(person_after=0, talk_seconds=30)},
    )  # fmt: skip
    try:
        first, second, third = [p.id or 0 for p in rig.probes()]
        rig.clock.set(TEN_O_CLOCK)
        assert (await rig.runner.place_now(9_999)).reason == "unknown_probe"
        assert rig.cli("pause") == 0
        assert (await rig.runner.place_now(first)).reason == "paused"
        assert rig.cli("resume") == 0
        assert await rig.runner.place_now(first) == PlaceNow(True, "placed")
        assert (await rig.runner.place_now(first)).reason == "not_planned"  # never twice
        await _settle(rig, 120)
        assert (await rig.runner.place_now(second)).placed
        await _settle(rig, 120)
        # Two calls a day to one switchboard is the campaign's limit (counted as placed).
        assert (await rig.runner.place_now(third)).reason == "day_limit"
        assert _probe(rig, third).state == ProbeState.PLANNED
        assert (
            len(rig.sim.calls) == 4
        )  # two calls, each with the tester's leg and the switchboard's
    finally:
        await stop_rig(rig)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=0-99", (0, 99)),
        ("bytes=100-", (100, 999)),
        ("bytes=-10", (990, 999)),
        ("bytes=900-5000", (900, 999)),
        ("bytes=1000-", None),  # past the end: the whole file instead
        ("bytes=5-2", None),
        ("bytes=0-1,5-9", None),  # several ranges: the whole file
        ("bytes=x-y", None),
        ("items=0-5", None),
    ],
)
def test_a_player_may_ask_for_one_byte_range(header, expected):
    assert byte_range(header, 1000) == expected


async def test_the_recording_plays_from_where_the_person_answered(tmp_path, monkeypatch, browser):
    # An automated call: 20 s of voice menu, then a person; the call is recorded from the answer.
    script = SwitchboardScript(ring_seconds=5, person_after=20, talk_seconds=30)
    rig = await make_rig(
        tmp_path, monkeypatch, mode="automated", targets=[("2380", SWITCHBOARD)],
        scripts={SWITCHBOARD: script}, record=True, mark_person=False, dashboard_secret=SECRET,
    )  # fmt: skip
    try:
        _add_users(rig)
        await rig.drive(week_later())
        [call] = rig.calls()
        [row] = call_rows(rig.engine, timeline_rules(rig.settings))
        assert row["outcome"] == "person"
        page = await _login(browser, rig, "sara")
        await page.goto(f"{rig.web.url}/calls/{call.id}")
        marker = page.locator("#person-marker")
        offset = float(await marker.get_attribute("data-offset") or "nan")
        # The person began speaking 20 s after the answer; speech detection may take a moment.
        assert 20.0 <= offset <= 23.0
        await expect(page.locator("#rec")).to_have_js_property("readyState", 4, timeout=10_000)
        duration = await page.evaluate("document.getElementById('rec').duration")
        x = float(await marker.get_attribute("x1") or "nan")
        assert x == pytest.approx(1000 * offset / duration, abs=5)
        await page.get_by_role("button", name="Spela från där personen svarade").click()
        position = await page.evaluate("document.getElementById('rec').currentTime")
        assert position == pytest.approx(offset, abs=0.5)
        await page.screenshot(path=str(_artifacts() / "inspelning.png"), full_page=True)
        assert await _serious_axe_violations(page) == []

        # The audio itself: silence or the voice menu before the marker, the person after it.
        response = await page.request.get(f"{rig.web.url}/calls/{call.id}/recording.wav")
        assert response.status == 200
        assert response.headers["cache-control"] == "private, no-store"
        with wave.open(io.BytesIO(await response.body())) as wav:
            rate = wav.getframerate()
            frames: bytes = wav.readframes(wav.getnframes())
        await response.dispose()
        assert len(frames) / 2 / rate == pytest.approx(duration, abs=1)

        def tone_at(second: float) -> bytes:
            start = int(second * rate) * 2
            return frames[start : start + 40]

        assert tone_at(offset + 1) != tone_at(offset - 3)  # the person's voice differs
        await page.context.close()

        viewer = await _login(browser, rig, "vera")
        await viewer.goto(f"{rig.web.url}/calls/{call.id}")
        assert not await viewer.locator("audio").count()
        denied = await viewer.request.get(f"{rig.web.url}/calls/{call.id}/recording.wav")
        assert denied.status == 403
        await denied.dispose()
        await viewer.context.close()
    finally:
        await stop_rig(rig)


async def test_admins_manage_users_in_the_browser(tmp_path, monkeypatch, browser):
    rig = await make_rig(
        tmp_path, monkeypatch, targets=[("2380", SWITCHBOARD)],
        scripts={SWITCHBOARD: SwitchboardScript()}, mark_person=False, dashboard_secret=SECRET,
    )  # fmt: skip
    try:
        _add_users(rig)
        page = await _login(browser, rig, "anna")
        await page.get_by_role("link", name="Användare").click()
        await page.wait_for_url(rig.web.url + "/users")
        await page.get_by_label("Användarnamn").fill("olle")
        await page.locator("#new-role").select_option("staff")
        await page.get_by_label("Lösenord", exact=True).fill("olle-losen-1234")
        await page.get_by_role("button", name="Lägg till användare").click()
        await page.wait_for_url(rig.web.url + "/users")
        assert "Användaren olle är tillagd" in await page.locator(".flash").inner_text()

        olle = users.find_user(rig.engine, "olle")
        assert olle is not None
        assert olle.role == "staff"
        await page.get_by_label("Roll för olle").select_option("viewer")
        row = page.locator("tr", has=page.get_by_label("Roll för olle"))
        await row.get_by_role("button", name="Byt roll").click()
        await page.wait_for_url(rig.web.url + "/users")
        await page.get_by_role("button", name="Stäng av olle").click()
        await page.wait_for_url(rig.web.url + "/users")
        olle = users.find_user(rig.engine, "olle")
        assert olle is not None
        assert (olle.role, olle.disabled) == ("viewer", True)

        # The last administrator cannot lock everyone out.
        await page.get_by_role("button", name="Stäng av anna").click()
        await page.wait_for_url(rig.web.url + "/users")
        assert "sista aktiva administratören" in await page.locator(".flash").inner_text()
        # Too short a password is refused with the command's rule.
        await page.get_by_text("Nytt lösenord för sara").click()
        sara_row = page.locator("tr", has=page.get_by_text("Nytt lösenord för sara"))
        await sara_row.get_by_label("Nytt lösenord").fill("kort")
        await sara_row.get_by_label("Nytt lösenord").evaluate("e => e.removeAttribute('minlength')")
        await sara_row.get_by_role("button", name="Spara").click()
        await page.wait_for_url(rig.web.url + "/users")
        assert "minst" in await page.locator(".flash").inner_text()
        await page.screenshot(path=str(_artifacts() / "anvandare.png"), full_page=True)
        assert await _serious_axe_violations(page) == []

        actions = [(e.action, e.actor) for e in _all_audit(rig) if e.entity == "user"]
        assert ("user_add", "web:anna") in actions
        assert ("user_role", "web:anna") in actions
        assert ("user_disable", "web:anna") in actions
        assert ("user_passwd", "web:anna") not in actions  # refused: nothing logged
        await page.context.close()

        staff = await _login(browser, rig, "sara")
        denied = await staff.request.get(rig.web.url + "/users")
        assert denied.status == 403
        await denied.dispose()
        assert not await staff.get_by_role("link", name="Användare").count()
        await staff.context.close()
    finally:
        await stop_rig(rig)


async def _serious_axe_violations(page: Page) -> list[str]:
    results = await Axe().run(page)
    return [
        f"{v['id']} ({v['impact']})"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def _all_audit(rig: PhoneRig) -> list[AuditEntry]:
    with Session(rig.engine) as session:
        return list(session.exec(select(AuditEntry).order_by(col(AuditEntry.id))).all())


def _artifacts() -> Path:
    path = Path(__file__).resolve().parents[2] / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path
