"""APScheduler only wakes the runner: at start, at the next due time, and every minute."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from harness.campaign.runner import TickResult
from harness.campaign.scheduler import RunnerService
from harness.core.clock import SystemClock


class _Runner:
    """Stands in for Runner: records ticks; the next probe is due shortly after the first."""

    def __init__(self) -> None:
        self.clock = SystemClock()
        self.ticks: list[datetime] = []
        self.due: datetime | None = None
        self.running = 0
        self.overlapped = False

    async def tick(self) -> TickResult:
        self.running += 1
        self.overlapped |= self.running > 1
        self.ticks.append(self.clock.now())
        await self.clock.sleep(0.01)
        self.running -= 1
        if len(self.ticks) == 1:
            self.due = self.clock.now() + timedelta(milliseconds=300)
        elif self.due is not None and self.clock.now() >= self.due:
            self.due = None
        return TickResult(sent=1)

    def next_due(self) -> datetime | None:
        return self.due


async def test_it_ticks_at_start_and_again_when_the_next_probe_is_due():
    runner = _Runner()
    reported: list[TickResult] = []
    service = RunnerService(runner, on_tick=reported.append)  # type: ignore[arg-type]
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))
    try:
        async with asyncio.timeout(5):
            while len(runner.ticks) < 2:
                await SystemClock().sleep(0.02)
    finally:
        stop.set()
        await task
    first, second = runner.ticks[:2]
    assert timedelta(milliseconds=250) <= second - first <= timedelta(seconds=2)
    assert len(reported) >= 2
    assert not runner.overlapped
    assert service.scheduler is None  # shut down
