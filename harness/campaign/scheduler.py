"""APScheduler 3 wiring: wake the runner at the next due time and sweep every minute.

The scheduler decides nothing; it only calls :meth:`harness.campaign.runner.Runner.tick`. Jobs live
in memory (no shared job store): the database is the state, so after a restart the next due time is
simply read again. Missed wake-ups are coalesced and always run (``misfire_grace_time=None``),
because the tick itself decides what is still inside its window.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from harness.campaign.runner import Runner, TickResult
from harness.core.clock import SystemClock

log = logging.getLogger(__name__)
SWEEP_SECONDS = 60
_REAL = SystemClock()


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

    def wake(self) -> None:
        """Tick as soon as possible (new evidence arrived, e.g. a call ended); coalesced."""
        if self.scheduler is None:
            return
        self.scheduler.add_job(
            self.tick_once,
            "date",
            run_date=_REAL.now() + timedelta(milliseconds=10),
            id="wake",
            replace_existing=True,
            misfire_grace_time=None,
            coalesce=True,
            max_instances=2,  # may be added while a tick runs; the lock serialises them
        )

    def _arm(self) -> None:
        if self.scheduler is None:
            return
        due = self.runner.next_due()
        if due is None:
            return
        # APScheduler waits on the real clock, the runner reads the injected one (the same in
        # production, shifted in the demo): schedule the wake-up after the remaining delay. A
        # due time in the past (just missed) fires at once.
        delay = max(due - self.runner.clock.now(), timedelta(milliseconds=10))
        self.scheduler.add_job(
            self.tick_once,
            "date",
            run_date=_REAL.now() + delay,
            id="tick",
            replace_existing=True,
            misfire_grace_time=None,
            coalesce=True,
            max_instances=2,  # re-armed from inside the running tick; the lock serialises them
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
            next_run_time=_REAL.now(),
        )
        scheduler.start()
        try:
            await stop.wait()
        finally:
            scheduler.shutdown(wait=False)
            self.scheduler = None
