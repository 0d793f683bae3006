"""APScheduler 3 wiring: wake the runner at the next due time and sweep every minute.

The scheduler decides nothing; it only calls :meth:`harness.runner.Runner.tick`. Jobs live in
memory (no shared job store): the database is the state, so after a restart the next due time
is simply read again. Missed wake-ups are coalesced and always run (``misfire_grace_time=None``),
because the tick itself decides what is still inside its window.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from harness.runner import Runner, TickResult

log = logging.getLogger(__name__)
SWEEP_SECONDS = 60


class RunnerService:
    def __init__(self, runner: Runner, on_tick: Callable[[TickResult], None] | None = None) -> None:
        self.runner = runner
        self.on_tick = on_tick
        self._lock = asyncio.Lock()
        self.scheduler: AsyncIOScheduler | None = None
        self.ticks = 0

    async def tick_once(self) -> TickResult:
        async with self._lock:  # never two ticks at once, whatever woke them
            result = await self.runner.tick()
            self.ticks += 1
        for note in result.notes:  # refusals and waiting channels, shown with `kkik run -v`
            log.info(note)
        if self.on_tick is not None and result.work:
            self.on_tick(result)
        self._arm()
        return result

    def _arm(self) -> None:
        if self.scheduler is None:
            return
        due = self.runner.next_due()
        if due is None:
            return
        # A due time in the past (just missed) fires at once.
        when = max(due, self.runner.clock.now() + timedelta(milliseconds=10))
        self.scheduler.add_job(
            self.tick_once,
            "date",
            run_date=when,
            id="tick",
            replace_existing=True,
            misfire_grace_time=None,
            coalesce=True,
        )

    async def run(self, stop: asyncio.Event) -> None:
        scheduler = AsyncIOScheduler(timezone=UTC)
        self.scheduler = scheduler
        scheduler.add_job(
            self.tick_once,
            "interval",
            seconds=SWEEP_SECONDS,
            id="sweep",
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
            next_run_time=self.runner.clock.now(),
        )
        scheduler.start()
        try:
            await stop.wait()
        finally:
            scheduler.shutdown(wait=False)
            self.scheduler = None
