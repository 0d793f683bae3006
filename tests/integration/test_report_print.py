"""The report of the default demo campaign (seven municipalities, 252 probes), written by
`kkik report --pdf`: printed on A4 in fewer pages than the 22 US Letter pages it took before
issue 16, and without a single axe-core violation."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Browser

from harness.cli import run as run_cli
from harness.demo.run import Demo
from tests.browser import needs_chromium
from tests.integration.test_report import A4, axe_violations, pdf_pages

# `kkik demo` (seed 2026) then `kkik report --pdf`, before this change: US Letter, 22 pages.
LETTER_PAGES = 22

pytestmark = needs_chromium


async def test_the_demo_report_prints_on_a4_in_fewer_pages(tmp_path: Path, browser: Browser):
    demo = Demo(tmp_path / "demo", seed=2026)
    result = await demo.run()
    assert result.mismatches == []
    out = tmp_path / "rapport.html"
    code = run_cli(["--config", str(demo.config), "report", "--out", str(out), "--pdf"])
    assert code == 0
    sizes = pdf_pages(out.with_suffix(".pdf").read_bytes())
    assert all(abs(w - A4[0]) < 2 and abs(h - A4[1]) < 2 for w, h in sizes), sizes
    assert len(sizes) <= LETTER_PAGES * 3 // 4, len(sizes)  # at least a quarter fewer
    assert await axe_violations(browser, out.resolve().as_uri()) == []
