"""The injected clock, and the rule that nothing else reads time."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from harness.core.clock import Clock, FakeClock, OffsetClock, SystemClock, ensure_utc

ROOT = Path(__file__).resolve().parents[2]


def test_it_advances_only_when_told(clock: FakeClock):
    start = clock.now()
    assert clock.now() == start
    assert clock.advance(hours=49) == start + timedelta(hours=49)
    assert clock.monotonic() == 49 * 3600


async def test_it_sleeps_instantly_by_advancing(clock: FakeClock):
    start = clock.now()
    await clock.sleep(90)
    assert clock.now() - start == timedelta(seconds=90)


def test_it_refuses_to_go_backwards(clock: FakeClock):
    with pytest.raises(ValueError, match="backwards"):
        clock.set(clock.now() - timedelta(seconds=1))
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(seconds=-1)


def test_it_always_returns_aware_utc():
    cet = timezone(timedelta(hours=1))
    fake = FakeClock(datetime(2026, 3, 29, 3, 0, tzinfo=cet))
    assert fake.now() == datetime(2026, 3, 29, 2, 0, tzinfo=UTC)
    assert fake.now().tzinfo is UTC
    system = SystemClock().now()
    assert system.tzinfo is UTC
    assert isinstance(SystemClock(), Clock)
    assert isinstance(fake, Clock)


def test_it_refuses_naive_datetimes():
    with pytest.raises(ValueError, match="naive datetime refused"):
        ensure_utc(datetime(2026, 1, 1, 12, 0))  # noqa: DTZ001
    with pytest.raises(ValueError, match="naive datetime refused"):
        FakeClock(datetime(2026, 1, 1, 12, 0))  # noqa: DTZ001


@pytest.mark.parametrize(
    "snippet",
    [
        "from datetime import datetime\nx = datetime.now()\n",
        "import datetime\nx = datetime.datetime.utcnow()\n",
        "import time\nx = time.time()\n",
        "import time\ntime.sleep(1)\n",
        "import asyncio\nasync def f():\n    await asyncio.sleep(1)\n",
        "from datetime import date\nx = date.today()\n",
    ],
)
def test_it_bans_reading_time_outside_the_clock_module(tmp_path: Path, snippet: str):
    # Written inside the project so ruff applies the project's banned-api settings to it.
    probe = ROOT / "harness" / f"_banned_api_probe_{tmp_path.name}.py"
    probe.write_text(snippet)
    try:
        result = subprocess.run(
            [sys.executable, "-m", "ruff", "check", "--no-cache", "--select", "TID251", str(probe)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        probe.unlink()
    assert result.returncode == 1, result.stdout
    assert "TID251" in result.stdout


def test_offset_clock_runs_at_real_pace_from_another_instant():
    start = datetime(2026, 10, 5, 8, 0, tzinfo=UTC)
    clock = OffsetClock(start)
    first = clock.now()
    assert start <= first < start + timedelta(seconds=5)
    real = SystemClock()
    before = real.monotonic()
    while real.monotonic() - before < 0.01:
        pass
    assert clock.now() - first >= timedelta(seconds=0.01)
    assert first.tzinfo == UTC
