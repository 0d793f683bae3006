"""`kkik report`: a real campaign's evidence in, one self-contained HTML file out, opened in
headless Chromium to check that every chart is drawn and that axe-core finds nothing, and printed
to an A4 PDF.

The campaign is real: calls placed through the Twilio simulator and assessed with `kkik call
assess`, e-mails with replies stored by the mail store, and an earlier campaign for the trend.
"""

from __future__ import annotations

import re
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser
from sqlmodel import Session, select

from harness.channels.email.store import MailStore
from harness.core.clock import SystemClock
from harness.sandbox.twilio_calls import SwitchboardScript
from harness.store.models import Campaign
from probes.email_analysis import TimingRules
from probes.imap_wire import FetchedMessage
from tests.browser import needs_chromium
from tests.factories import reply_to, seed_sent_probe
from tests.phone_rig import PhoneRig, make_rig, stop_rig, week_later

TUESDAY_10 = datetime(2026, 10, 6, 8, 0, tzinfo=UTC)  # 10:00 in Stockholm
TARGETS = [("2380", "063-14 30 00", "Östersund"), ("2309", "0640-161 00", "Krokom"),
           ("0180", "08-508 290 00", "Stockholm")]  # fmt: skip


async def _campaign(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PhoneRig:
    rig = await make_rig(
        tmp_path,
        monkeypatch,
        calls=2,
        targets=[(code, number) for code, number, _ in TARGETS],
        scripts={
            "+4663143000": SwitchboardScript(ring_seconds=5, person_after=40),
            "+4664016100": SwitchboardScript(outcome="busy"),
            "+46850829000": SwitchboardScript(ring_seconds=8, person_after=0),
        },
    )
    await rig.drive(week_later())
    for k, call in enumerate(c for c in rig.calls() if c.outcome == "person"):
        answer = "yes" if k % 2 == 0 else "no"
        assert rig.cli("call", "assess", str(call.id), "--direct-answer", answer,
                       "--bemotande", str(3 - k % 3)) == 0  # fmt: skip
    store = MailStore(rig.engine, SystemClock(), TimingRules())
    uid = 0
    for code, _, name in TARGETS:
        for k, answered_after in enumerate([timedelta(hours=3), timedelta(days=2), None]):
            probe = seed_sent_probe(
                rig.engine,
                sent_at=TUESDAY_10 + timedelta(minutes=k),
                token=f"t{code}x{k}",
                kommunkod=code,
                name=name,
                address=f"kommun@{code}.example.se",
                campaign_name="Telefontest",
            )
            if answered_after is not None:
                uid += 1
                arrived = probe.sent_at + answered_after
                raw = reply_to(probe, written_at=arrived)
                assert store.ingest("INBOX", 1, FetchedMessage(uid, arrived, None, raw))
    # An earlier campaign, for the trend: one e-mail, answered at once.
    earlier = seed_sent_probe(rig.engine, sent_at=TUESDAY_10 - timedelta(days=365),
                              token="earlier1", campaign_name="KKiK hösten 2025")  # fmt: skip
    with Session(rig.engine) as session:
        old = session.exec(select(Campaign).where(Campaign.name == "KKiK hösten 2025")).one()
        old.year = 2025
        session.add(old)
        session.commit()
    raw = reply_to(earlier, written_at=earlier.sent_at + timedelta(hours=1))
    assert store.ingest("INBOX", 1, FetchedMessage(uid + 1, earlier.sent_at, None, raw))
    # Issue 18: every municipality's published bemötande for two years (the country beside
    # each value, and Östersund's development), an answer assessed (our own e-mail measures)
    # and a reply that names no question of two to Krokom (waiting for review).
    import random

    from harness.core.scenario import municipalities

    rng = random.Random(18)
    lines = ["kpi,municipality,period,value,count"]
    for year in (2019, 2021):
        lines += [f"U00414,{code},{year},{rng.randint(30, 95)},12" for code in municipalities()]
    kolada = rig.tmp / "kolada.csv"
    kolada.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert rig.cli("reference", "import", str(kolada)) == 0
    answered = next(p for p in rig.probes() if p.channel == "email" and p.outcome == "answered")
    assert rig.cli("mail", "assess", str(answered.id), "--answered", "ja", "--correct", "ja",
                   "--extra-help", "nej", "--phone", "063-14 30 00") == 0  # fmt: skip
    twins = [
        seed_sent_probe(rig.engine, sent_at=TUESDAY_10, token=f"twin{k}abc", kommunkod="2309",
                        name="Krokom", address="kommun@2309.example.se",
                        campaign_name="Telefontest")
        for k in range(2)
    ]  # fmt: skip
    vague = reply_to(twins[0], written_at=TUESDAY_10 + timedelta(hours=2), threaded=False,
                     sender="handlaggare@2309.example.se")  # fmt: skip
    vague = vague.replace(b"+twin0abc@", b"@").replace(b" (twin0abc)", b"")
    assert store.ingest("INBOX", 1, FetchedMessage(uid + 2, TUESDAY_10, None, vague))
    return rig


def _charts(page_html: str) -> list[str]:
    return re.findall(r'<svg data-chart="([^"]+)"', page_html)


A4 = (595.28, 841.89)  # points


def pdf_pages(pdf: bytes) -> list[tuple[float, float]]:
    """Each page's size in points, from the page objects' /MediaBox (Chromium writes them
    uncompressed; compressed streams are inflated and searched too)."""
    text = pdf
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            text += zlib.decompress(stream)
        except zlib.error:
            continue
    pages = len(re.findall(rb"/Type\s*/Page\b(?!s)", text))
    boxes = re.findall(rb"/MediaBox\s*\[\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)", text)
    counts = [int(n) for n in re.findall(rb"/Type\s*/Pages\b.*?/Count\s+(\d+)", text, re.S)]
    assert len(boxes) == pages == max(counts, default=0), (len(boxes), pages, counts)
    return [(float(x1) - float(x0), float(y1) - float(y0)) for x0, y0, x1, y1 in boxes]


async def axe_violations(browser: Browser, url: str) -> list[str]:
    """Every axe-core violation on the page at ``url``, whatever its impact."""
    page = await browser.new_page(viewport={"width": 1100, "height": 900})
    try:
        await page.goto(url)
        results = await Axe().run(page)
    finally:
        await page.close()
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
    ]


@needs_chromium
async def test_the_report_is_self_contained_and_every_chart_is_drawn(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    browser: Browser,
    capsys: pytest.CaptureFixture[str],
):
    rig = await _campaign(tmp_path, monkeypatch)
    try:
        out = tmp_path / "rapport.html"
        assert rig.cli("report", "--campaign", "Telefontest", "--out", str(out), "--lang", "sv",
                       "--pdf") == 0  # fmt: skip
        html = out.read_text(encoding="utf-8")
        # Without --out: named after the campaign and the day, in the current folder.
        here = tmp_path / "here"
        here.mkdir()
        monkeypatch.chdir(here)
        capsys.readouterr()
        assert rig.cli("report", "--campaign", "Telefontest") == 0
        day = rig.clock.now().astimezone(ZoneInfo("Europe/Stockholm")).date().isoformat()
        english = here / f"kkik-report-telefontest-{day}.html"
        assert capsys.readouterr().out == f"The report was written to {english}.\n"
        assert [p.name for p in here.iterdir()] == [english.name]
    finally:
        await stop_rig(rig)

    # Self-contained: nothing to fetch, nothing to run.
    assert "<script" not in html
    assert "<link" not in html
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert "<h1>KKiK-mätning: Telefontest</h1>" in html
    for heading in ("Sammanfattning per kommun", "Resultat per mått", "E-post: arbetstid till svar",
                    "Telefon: tid tills en person svarar", "Utfall", "Resultat per frågeområde",
                    "Utveckling över kampanjer", "Metod och inställningar",
                    "Bilaga: alla mätningar"):  # fmt: skip
        assert f"<h2>{heading}" in html, heading
    assert html.index("<h2>Sammanfattning per kommun") < html.index("<h2>Resultat per mått")
    # Issue 18: the reply awaiting review first, then the country, the years and our own.
    # (The replies from another municipality's domain above wait for review too.)
    note = re.search(r'<p class="pending" role="note">Obs: (\d+) svar väntar på granskning', html)
    assert note is not None
    assert int(note.group(1)) >= 1
    assert note.start() < html.index("<h2>Sammanfattning")
    for heading in ("Jämfört med riket", "Utveckling över åren", "Egna e-postmått"):
        assert f"<h2>{heading}</h2>" in html, heading
    country = html.split("<h2>Jämfört med riket</h2>", 1)[1].split("<h2>", 1)[0]
    assert "(2021, 290)" in country  # the latest year stored, every municipality
    assert re.search(r"\d+ av 290", country)
    development = html.split("<h2>Utveckling över åren</h2>", 1)[1].split("<h2>", 1)[0]
    assert "2019" in development
    assert "2021" in development
    assert "development-2380" in development  # a chart per municipality, named by its caption
    own = html.split("<h2>Egna e-postmått</h2>", 1)[1].split("<h2>", 1)[0]
    assert "Andel svar med fullständiga avsändaruppgifter" in own
    assert ('<span class="code">email.deadline_rule</span></th>'
            "<td>9 timmars kontorstid efter frågan (office_hours)") in html  # fmt: skip
    assert '<span class="code">phone.hold_limit_seconds</span></th><td>300' in html
    charts = _charts(html)
    assert set(charts) >= {
        "interval-email_within_1_working_day", "interval-phone_direct_answer",
        "interval-phone_bemotande", "interval-phone_person_within_60s", "email-hours",
        "phone-seconds", "outcomes", "areas-email", "trend",
    }  # fmt: skip
    # The numbers are the scoring's: 2380 answered 1 of 3 e-mails within a working day.
    assert re.search(r"2380 Östersund</th><td class=\"num\">33</td><td class=\"num\">1/3", html)
    # The summary: one row per municipality by name, the same value and count, its bemötande as
    # points of the maximum with the number of calls.
    summary = html.split('<table class="summary">', 1)[1].split("</table>", 1)[0]
    assert re.findall(r'<tr><th scope="row">([^<]+)</th>', summary) == [
        "2309 Krokom", "0180 Stockholm", "2380 Östersund", "Nätverkets medel", "Riket"]  # fmt: skip
    row = summary.split("2380 Östersund</th>", 1)[1].split("</tr>", 1)[0]
    assert '33\u00a0% <span class="tag">' in row
    assert '<span class="sub">1/3</span>' in row
    assert re.search(r"\d+\u00a0av\u00a0\d+\u00a0poäng, \d+\u00a0samtal", row)
    assert "<h1>KKiK measurement: Telefontest</h1>" in english.read_text(encoding="utf-8")

    page = await browser.new_page(viewport={"width": 1100, "height": 900})
    await page.goto(out.resolve().as_uri())
    drawn: list[dict[str, Any]] = await page.eval_on_selector_all(
        "svg[data-chart]",
        """svgs => svgs.map(svg => {
            const box = svg.getBoundingClientRect();
            const marks = svg.querySelectorAll('path, use, rect, circle').length;
            const texts = Array.from(svg.querySelectorAll('text')).map(t => t.textContent);
            const inner = svg.getBBox();
            return {name: svg.dataset.chart, width: box.width, height: box.height, marks,
                    texts, inner: inner.width * inner.height};
        })""",
    )
    assert [d["name"] for d in drawn] == charts
    for chart in drawn:
        assert chart["width"] > 300, chart["name"]
        assert chart["height"] > 80, chart["name"]
        assert chart["marks"] > 10, chart["name"]
        assert chart["inner"] > 10_000, chart["name"]
    interval = next(d for d in drawn if d["name"] == "interval-email_within_1_working_day")
    assert {"2380 Östersund", "2309 Krokom", "0180 Stockholm"} <= set(interval["texts"])
    # Every chart is named by its caption (WCAG 1.1.1).
    names = await page.eval_on_selector_all(
        "svg[data-chart]",
        "svgs => svgs.map(s => document.getElementById(s.getAttribute('aria-labelledby'))"
        "?.textContent || '')",
    )
    assert all(len(name) > 40 for name in names), names
    await page.close()

    # axe-core finds nothing, whatever the impact, in either language.
    assert await axe_violations(browser, out.resolve().as_uri()) == []
    assert await axe_violations(browser, english.resolve().as_uri()) == []

    pdf = out.with_suffix(".pdf")
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert pdf.stat().st_size > 20_000
    # A4 (the page count is checked on the demo's bigger report, test_report_print.py).
    sizes = pdf_pages(pdf.read_bytes())
    assert sizes, "no pages found"
    assert all(abs(w - A4[0]) < 2 and abs(h - A4[1]) < 2 for w, h in sizes), sizes


async def test_bad_report_arguments_write_nothing(tmp_path: Path, kkik):
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "kkik.db"}"\n')
    assert kkik("--config", str(config), "db", "upgrade").code == 0
    missing_dir = tmp_path / "nope" / "r.html"
    result = kkik("--lang", "en", "--config", str(config), "report", "--out", str(missing_dir))
    assert result.code == 2
    assert "does not exist" in result.err
    result = kkik("--lang", "en", "--config", str(config), "report", "--out",
                  str(tmp_path / "r.html"), "--campaign", "Finns inte")  # fmt: skip
    assert result.code == 2
    assert not (tmp_path / "r.html").exists()
