"""Opening hours outside weekday 08–17, from weekly schedules: pure and table-tested.

Source: kkik-method.md Part B §0 #6 and §7. KKiK asked "how many hours per week are the main
library, the swimming hall and the recycling centre open beyond 08–17 on weekdays?": evenings,
early mornings and whole weekends count, for one normal week (not a holiday week). Up to 2012 the
facilities were reported one by one (Kolada U09403 library, U09404 swimming hall); from 2013 KKiK
showed one summed figure.

A schedule is, per day (``"monday"`` … ``"sunday"``), a list of opening spans in minutes since
midnight, ``(start, end)`` with ``0 <= start < end <= 1440`` (24:00 closes the day; a span across
midnight is two spans, one on each day). A day not in the schedule is closed. Overlapping spans
are merged, so no minute counts twice. Office time is Monday to Friday 08:00–17:00, fixed by the
measure's definition (not the campaign calendar's office hours, and public holidays play no part:
it is a normal week).

Decided here: the summed figure exists only when all three facilities have a schedule; a
municipality without a swimming hall says so with an empty schedule (open 0 hours), so a figure
that was merely not entered never reads as zero. Hours are rounded to two decimals after summing
whole minutes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from results.measures import (
    FACILITIES,
    HOURS_BY_FACILITY,
    OPENING_HOURS_TOTAL,
    OTHER_MEASURES,
    Facility,
    OtherMeasure,
    OtherSource,
)

__all__ = [
    "DAYS",
    "OFFICE_END",
    "OFFICE_START",
    "WEEKDAYS",
    "OtherValue",
    "Span",
    "WeekSchedule",
    "check_value",
    "hours_outside_office",
    "minutes_outside_office",
    "opening_hours_values",
    "sort_values",
]

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WEEKDAYS = DAYS[:5]
#: Office time of the measure, minutes since midnight on weekdays: 08:00–17:00.
OFFICE_START = 8 * 60
OFFICE_END = 17 * 60
_DAY_END = 24 * 60

#: An opening span in minutes since midnight: (start, end), 0 <= start < end <= 1440.
Span = tuple[int, int]
#: Opening spans per day name; missing days are closed.
WeekSchedule = Mapping[str, Sequence[Span]]


@dataclass(frozen=True)
class OtherValue:
    """One municipality's value of one of :data:`results.measures.OTHER_MEASURES`."""

    kommunkod: str
    measure_id: str
    value: float
    source: OtherSource
    period: int | None = None
    note: str | None = None
    entered_by: str | None = None
    entered_at: datetime | None = None


def _merged(spans: Iterable[Span]) -> list[Span]:
    out: list[Span] = []
    for start, end in sorted(spans):
        if not 0 <= start < end <= _DAY_END:
            raise ValueError(
                f"opening span must satisfy 0 <= start < end <= 1440, got {start, end}"
            )
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def minutes_outside_office(
    week: WeekSchedule, office_start: int = OFFICE_START, office_end: int = OFFICE_END
) -> int:
    """Minutes open per week outside weekday ``office_start``–``office_end`` (default 08–17)."""
    unknown = set(week) - set(DAYS)
    if unknown:
        raise ValueError(f"unknown day(s): {', '.join(sorted(unknown))}")
    total = 0
    for day in DAYS:
        for start, end in _merged(week.get(day, ())):
            total += end - start
            if day in WEEKDAYS:
                total -= max(0, min(end, office_end) - max(start, office_start))
    return total


def hours_outside_office(week: WeekSchedule) -> float:
    """Hours open per week outside weekday 08–17, to two decimals."""
    return _hours(minutes_outside_office(week))


def _hours(minutes: int) -> float:
    return round(minutes / 60, 2)


def opening_hours_values(
    kommunkod: str, schedules: Mapping[Facility, WeekSchedule], period: int | None = None
) -> list[OtherValue]:
    """Each facility's hours outside weekday 08–17, then the sum when all three are known."""
    out = []
    minutes: dict[Facility, int] = {}
    for facility in FACILITIES:
        week = schedules.get(facility)
        if week is None:
            continue
        minutes[facility] = minutes_outside_office(week)
        measure = HOURS_BY_FACILITY[facility]
        out.append(OtherValue(kommunkod, measure.id, _hours(minutes[facility]), "scenario", period))
    if len(minutes) == len(FACILITIES):
        total = _hours(sum(minutes.values()))
        out.append(OtherValue(kommunkod, OPENING_HOURS_TOTAL.id, total, "scenario", period))
    return out


def check_value(measure: OtherMeasure, value: float) -> bool:
    """True when ``value`` is a finite number within the measure's allowed range."""
    if not math.isfinite(value):
        return False
    return measure.low <= value and (measure.high is None or value <= measure.high)


def sort_values(values: Iterable[OtherValue]) -> list[OtherValue]:
    """By kommunkod, then in the report order of :data:`~results.measures.OTHER_MEASURES`."""
    order = {measure_id: n for n, measure_id in enumerate(OTHER_MEASURES)}
    return sorted(values, key=lambda v: (v.kommunkod, order.get(v.measure_id, len(order))))
