"""Fixtures shared by every test: a controllable clock, a migrated SQLite database, the CLI,
and a headless Chromium for the browser tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser
from sqlalchemy import Engine

from harness.cli import run
from harness.core.clock import Clock, FakeClock
from harness.store import migrate
from harness.store.db import make_engine
from tests.browser import chromium

DATA = Path(__file__).parent / "data"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 10, 5, 7, 0, tzinfo=UTC))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'kkik.db'}"


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Iterator[Engine]:
    engine = make_engine(sqlite_url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def kkik(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    """Run the real ``kkik`` entry point in-process and capture what it prints."""
    monkeypatch.delenv("KKIK_LANG", raising=False)
    monkeypatch.delenv("KKIK_CONFIG", raising=False)

    def invoke(*args: str, clock: Clock | None = None) -> CliResult:
        capsys.readouterr()
        code = run(list(args), clock=clock)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return invoke


@pytest_asyncio.fixture(loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    """Debian's Chromium, headless (mark the test module with ``tests.browser.needs_chromium``)."""
    async with chromium() as launched:
        yield launched
