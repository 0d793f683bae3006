"""A campaign's days and the free slots in them: the one rule the planner and the runner share.

Pure. A *campaign day* is a day of the campaign's period, on one of its weekdays, that its calendar
counts as a working day (Swedish holidays, the de facto days off, and the configuration's and the
campaign's own closed days all excluded). A *free slot* is a time on the slot grid inside a
channel's window that keeps the minimum spacing to every other probe of the same municipality that
day. The planner (results.planner) lays the plan out with these rules; the runner
(harness.campaign.runner) uses the same ones when it moves a probe whose slot passed, so a moved
probe lands exactly where the planner could have put it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from results.calendar import WorkCalendar

__all__ = ["CampaignDays", "grid", "nearest_free"]


@dataclass(frozen=True)
class CampaignDays:
    period_start: date
    period_end: date  # inclusive
    weekdays: frozenset[int]  # 0 = Monday .. 4 = Friday
    calendar: WorkCalendar  # the campaign's: its own closed days included

    def is_campaign_day(self, day: date) -> bool:
        return (
            self.period_start <= day <= self.period_end
            and day.weekday() in self.weekdays
            and self.calendar.is_working_day(day)
        )

    def days(self, start: date | None = None) -> tuple[date, ...]:
        """Every campaign day from ``start`` (default: the period's first) to the period's end."""
        day = max(start or self.period_start, self.period_start)
        found = []
        while day <= self.period_end:
            if self.is_campaign_day(day):
                found.append(day)
            day += timedelta(days=1)
        return tuple(found)

    def window(self, day: date, window: tuple[time, time]) -> tuple[datetime, datetime]:
        """A local window on ``day`` as aware instants in the calendar's zone."""
        tz = self.calendar.tz
        return datetime.combine(day, window[0], tz), datetime.combine(day, window[1], tz)


def grid(window: tuple[time, time], step: int) -> tuple[int, ...]:
    """Minutes after local midnight on the ``step``-minute grid inside [start, end)."""
    start, end = ((t.hour * 60 + t.minute) * 60 + t.second + t.microsecond / 1e6 for t in window)
    first = math.ceil(start / (step * 60)) * step
    return tuple(m for m in range(first, 24 * 60, step) if m * 60 < end)


def nearest_free(
    slots: Sequence[int], want: int, taken: Iterable[float], spacing_s: float
) -> int | None:
    """The slot nearest to index ``want`` (then alternately earlier and later) that is at least
    ``spacing_s`` seconds from every minute in ``taken``; None when no slot is free."""
    busy = list(taken)
    for k in range(len(slots)):
        for i in (want - k, want + k) if k else (want,):
            if 0 <= i < len(slots) and all(abs(slots[i] - m) * 60 >= spacing_s for m in busy):
                return slots[i]
    return None
