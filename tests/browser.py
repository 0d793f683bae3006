"""Debian's Chromium for the browser tests (Playwright, no browser download).

CI installs it (scripts/system-deps.sh); elsewhere the browser tests are skipped without it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from playwright.async_api import Browser, async_playwright

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

needs_chromium = pytest.mark.skipif(
    CHROMIUM is None and os.environ.get("CI") != "true",
    reason="Chromium is not installed (scripts/system-deps.sh installs it)",
)


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """A headless Chromium, closed afterwards."""
    assert CHROMIUM is not None, "CI must have Chromium (scripts/system-deps.sh)"
    async with async_playwright() as p:
        launched = await p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--no-first-run",
            ],
        )
        try:
            yield launched
        finally:
            await launched.close()
