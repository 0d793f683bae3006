"""Business time for the demo world: "this instant + N office hours" (pure).

The world's people answer in office time, so an answer's arrival is the question's acceptance
plus a delay counted in business hours. :class:`~results.calendar.WorkCalendar` only goes the
other way (the business time between two instants); :func:`add_business_time` is its inverse.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from results.calendar import WorkCalendar

__all__ = ["add_business_time"]


def add_business_time(start: datetime, delta: timedelta, calendar: WorkCalendar) -> datetime:
    """The earliest instant at which ``delta`` of office time has passed since ``start`` (UTC).

    Office time is the calendar's: ``office_start``–``office_end`` on working days, in its zone.
    A start outside office hours begins counting at the next opening; a budget that runs out
    exactly at closing time ends there, not at the next opening. For any ``delta`` > 0,
    ``calendar.business_seconds(start, result) == delta``.
    """
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValueError(f"start must be time-zone aware (got naive {start.isoformat()})")
    if delta < timedelta(0):
        raise ValueError(f"delta must not be negative (got {delta})")
    start_utc = start.astimezone(UTC)
    if delta == timedelta(0):
        return start_utc
    remaining = delta
    day = start_utc.astimezone(calendar.tz).date()
    for _ in range(3700):  # ten years of days: a calendar with no working day is a bug
        if calendar.is_working_day(day):
            opening, closing = (t.astimezone(UTC) for t in calendar.office_interval(day))
            begin = max(opening, start_utc)
            if begin < closing:
                available = closing - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
        day += timedelta(days=1)
    raise ValueError("the calendar has no working day in ten years")
