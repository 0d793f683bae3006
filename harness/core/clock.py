"""The one place that reads time.

Every component gets a :class:`Clock` passed in; nothing else may call ``datetime.now()``,
``time.time()`` or ``asyncio.sleep()`` (a ruff banned-api rule enforces it). That is what makes
measurements reproducible: a campaign run on a :class:`FakeClock` produces exactly the timestamps
the test asked for, and the demo can run six weeks of campaign in seconds.

Example::

    clock = FakeClock(datetime(2026, 10, 5, 7, 0, tzinfo=UTC))
    clock.advance(hours=49)
    assert clock.now() == datetime(2026, 10, 7, 8, 0, tzinfo=UTC)
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    """Source of the current instant, of durations and of waiting."""

    def now(self) -> datetime:
        """Return the current instant, timezone-aware, in UTC."""
        ...

    def monotonic(self) -> float:
        """Return seconds on a clock that never goes backwards; for durations only."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait for ``seconds`` of this clock's time."""
        ...


class SystemClock:
    """The real wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        # Imported here: a running event loop has loaded asyncio already, and every CLI command
        # makes a clock while few of them run a loop (asyncio costs ~30 ms of `kkik --version`).
        import asyncio

        await asyncio.sleep(seconds)


class OffsetClock(SystemClock):
    """The real clock moved by a fixed offset: time passes at its real pace from another
    instant. Lets the offline demo and the real-time tests run "on a Monday at 10:00" whatever
    the machine's date; durations and waiting are real."""

    def __init__(self, start: datetime) -> None:
        self._offset = ensure_utc(start) - datetime.now(UTC)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset


class WaitingClock(SystemClock):
    """Reads the instant from another clock, but waits and measures durations in real time.

    For components that talk to real servers while a campaign runs on virtual time (the demo's
    mailbox watcher): what they stamp follows the virtual clock, while their timeouts, IDLE
    renewals and back-offs wait on the real one, so they never push virtual time forward.
    """

    def __init__(self, source: Clock) -> None:
        self.source = source

    def now(self) -> datetime:
        return self.source.now()


class FakeClock:
    """A clock that moves only when told to; ``sleep`` advances it instantly."""

    def __init__(self, start: datetime) -> None:
        self._now = ensure_utc(start)
        self._mono = 0.0

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def set(self, instant: datetime) -> None:
        """Jump to ``instant``; refuses to go backwards, like real time."""
        instant = ensure_utc(instant)
        if instant < self._now:
            raise ValueError(f"FakeClock cannot go backwards ({instant} < {self._now})")
        self._mono += (instant - self._now).total_seconds()
        self._now = instant

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        """Move forward by ``delta`` or by ``timedelta(**kwargs)``; return the new instant."""
        step = delta if delta is not None else timedelta(**kwargs)
        if step < timedelta(0):
            raise ValueError("FakeClock cannot go backwards")
        self.set(self._now + step)
        return self._now

    async def sleep(self, seconds: float) -> None:
        self.advance(seconds=max(0.0, seconds))
        import asyncio  # as in SystemClock.sleep: loaded already by the running loop

        # Yield to the loop so that other tasks see time pass, as they would with a real sleep.
        await asyncio.sleep(0)


def ensure_utc(value: datetime) -> datetime:
    """Return ``value`` converted to UTC; naive datetimes are refused, never guessed."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime refused: {value.isoformat()} has no time zone")
    return value.astimezone(UTC)
