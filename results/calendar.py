"""Working-day arithmetic for the e-mail measure: when is an answer "within one working day"?

KKiK counted an e-mail as answered in time when the reply came within one working day (edition
2011–2017 also within two). The harness makes that precise on an office-hours clock: only the time
between ``office_start`` and ``office_end`` (08:00–17:00 by default) on working days counts, in
Swedish local time (Europe/Stockholm). A working day is Monday to Friday except Swedish public
holidays, the three de facto days off (midsommarafton, julafton, nyårsafton) and any extra days a
campaign closes (klämdagar). The holiday set comes from the pinned ``holidays`` package so a new
release cannot move a campaign's scores silently.

Two deadline rules are offered, named by :class:`DeadlineRule`:

``office_hours`` (the default)
    Within *n* working days ⇔ elapsed business time ≤ *n* × the office day (9 h by default). A
    question sent outside office hours starts counting at the next opening. This is the reading of
    KKiK's "inom en arbetsdag" the harness defaults to: the municipality gets one full office day of
    staffed time, however the question's arrival falls in the week.

``next_working_day_same_time``
    The deadline is the same local clock time on the *n*-th next working day; a question that
    arrives outside office hours, or on a closed day, is treated as arriving at the next opening.
    It is kept as a named setting because it is how people usually read "within one working day"
    and a campaign may prefer it.

For questions sent strictly inside office hours the two rules give the same deadline, which is
why the planner only sends inside office hours. Boundaries are inclusive everywhere: a reply at
exactly 9.00 business hours, or exactly at the deadline, is within.

The module is pure: it never reads the clock and does no I/O. Every instant is passed in as a
time-zone-aware ``datetime`` in any zone; naive ones are rejected because guessing their zone is
exactly the kind of silent error that would shift a reply across a deadline. All arithmetic on
instants is done in UTC, because Python subtracts and compares two datetimes that share a tzinfo
by wall time, which is wrong across a DST switch.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["EXTRA_CLOSED_DAY_NAME", "DeadlineRule", "WorkCalendar"]

#: Name used for a campaign's own closed days (klämdagar) in reports.
EXTRA_CLOSED_DAY_NAME = "Extra stängd dag"

_ONE_DAY = timedelta(days=1)


class DeadlineRule(StrEnum):
    """How "within *n* working days" is turned into a deadline (setting ``email.deadline_rule``)."""

    OFFICE_HOURS = "office_hours"
    NEXT_WORKING_DAY_SAME_TIME = "next_working_day_same_time"


@functools.lru_cache(maxsize=64)
def _holiday_names(year: int, include_de_facto: bool) -> Mapping[date, str]:
    """Swedish names of the closed days of one year, keyed by date.

    Building a ``holidays`` object is slow (it computes Easter and every rule each time), and the
    calendar asks about the same few years over and over, so each year is built once. The result
    is read-only because it is shared by every caller through the cache.
    """
    # Imported on first use: many importers of this module (`kkik status`, the e-mail log's
    # types) never ask about a date, and the package costs ~50 ms to import (issue 16, item 8).
    import holidays

    categories = (holidays.PUBLIC, holidays.DE_FACTO) if include_de_facto else (holidays.PUBLIC,)
    table = _sweden()(years=year, categories=categories, language="sv")
    # get_list() rather than the dict value: when two holidays share a date (1 May 2008 was both
    # Första maj and Kristi himmelsfärdsdag) the package joins them with "; ", and we want our
    # own separator.
    return MappingProxyType({d: ", ".join(table.get_list(d)) for d in sorted(table)})


_SWEDEN = "holidays.countries.sweden"
_loading = threading.Lock()


def _sweden() -> Callable[..., Any]:
    """The ``holidays`` package's Sweden, loaded without the package's list of countries.

    ``holidays.country_holidays("SE")`` imports ``holidays.countries``, whose ``__init__``
    imports every one of the package's 250 countries: about 0.1 s, a third of `kkik calendar
    check` (issue 16, item 8). Sweden's module needs only the package's shared parts, so it is
    loaded alone under its own name, and an import of the whole package later finds it loaded.
    Should a release of the (pinned) package move the file, its own way is taken. The class and
    its rules are the package's: tests/unit/test_calendar.py compares a century of tables.
    """
    import holidays

    with _loading:
        module = sys.modules.get(_SWEDEN)
        if module is None:
            path = Path(holidays.__file__).with_name("countries") / "sweden.py"
            spec = importlib.util.spec_from_file_location(_SWEDEN, path)
            if not path.is_file() or spec is None or spec.loader is None:
                return functools.partial(holidays.country_holidays, "SE")
            module = importlib.util.module_from_spec(spec)
            sys.modules[_SWEDEN] = module
            try:
                spec.loader.exec_module(module)
            except BaseException:
                del sys.modules[_SWEDEN]
                raise
    sweden: Callable[..., Any] = module.Sweden
    return sweden


def _require_date(d: date) -> date:
    # A datetime is a date subclass but never equal to one, so it would silently miss every
    # holiday lookup; reject it instead of answering wrongly.
    if isinstance(d, datetime) or not isinstance(d, date):
        raise TypeError(f"expected a datetime.date, got {type(d).__name__}: {d!r}")
    return d


def _require_aware(name: str, instant: datetime) -> datetime:
    if not isinstance(instant, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(instant).__name__}")
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(
            f"{name} must be time-zone aware (got naive {instant.isoformat()}); "
            "pass an explicit tzinfo, e.g. ZoneInfo('Europe/Stockholm') or UTC"
        )
    return instant.astimezone(UTC)


@dataclass(frozen=True)
class WorkCalendar:
    """Swedish working days and office hours, with the two deadline rules.

    ``extra_closed_days`` holds a campaign's own closed days (klämdagar such as the Friday after
    Kristi himmelsfärdsdag), which are not public holidays and so stay working days unless listed.
    ``include_de_facto`` adds midsommarafton, julafton and nyårsafton, which are not public
    holidays by law but on which municipal offices are closed (Semesterlag 1977:480 §7 treats them
    like Sundays).
    """

    timezone: str = "Europe/Stockholm"
    office_start: time = time(8, 0)
    office_end: time = time(17, 0)
    extra_closed_days: frozenset[date] = field(default_factory=frozenset)
    include_de_facto: bool = True

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
            raise ValueError(
                f"unknown time zone {self.timezone!r} (expected an IANA name)"
            ) from exc
        for name in ("office_start", "office_end"):
            value = getattr(self, name)
            if not isinstance(value, time):
                raise ValueError(f"{name} must be a datetime.time, got {value!r}")
            # Office hours are local wall-clock times; a fixed offset would be wrong half the year.
            if value.tzinfo is not None:
                raise ValueError(f"{name} must be a naive wall-clock time, got {value!r}")
        if not self.office_start < self.office_end:
            raise ValueError(
                f"office_start ({self.office_start.isoformat()}) must be before "
                f"office_end ({self.office_end.isoformat()})"
            )
        # Accept any iterable of dates from a config loader, but store a frozenset so the
        # calendar stays hashable and immutable.
        closed = frozenset(self.extra_closed_days)
        for d in closed:
            if isinstance(d, datetime) or not isinstance(d, date):
                raise ValueError(f"extra_closed_days must contain dates only, got {d!r}")
        object.__setattr__(self, "extra_closed_days", closed)

    def with_closed_days(self, days: Iterable[date]) -> WorkCalendar:
        """This calendar with ``days`` closed as well (a campaign's own closed days).

        The configuration's closed days apply to every campaign, a campaign's own only to its
        probes, so callers start from the configured calendar and add each campaign's days.
        Nothing new to add gives back this very calendar: callers that build one per campaign
        (or per probe's campaign) then share the same object in the common case.
        """
        added = frozenset(days)
        if added <= self.extra_closed_days:
            return self
        # replace() runs __post_init__ again, so the new days are validated like any others.
        return dataclasses.replace(self, extra_closed_days=self.extra_closed_days | added)

    @property
    def tz(self) -> ZoneInfo:
        """The calendar's zone (ZoneInfo caches instances, so this is cheap)."""
        return ZoneInfo(self.timezone)

    @property
    def office_day(self) -> timedelta:
        """Nominal length of one office day on the wall clock (9 h by default)."""
        anchor = date(2000, 1, 3)
        return datetime.combine(anchor, self.office_end) - datetime.combine(
            anchor, self.office_start
        )

    # --- days -------------------------------------------------------------------------------

    def _holiday_name(self, d: date) -> str | None:
        return _holiday_names(d.year, self.include_de_facto).get(d)

    def is_working_day(self, d: date) -> bool:
        """Monday–Friday that is neither a holiday/de facto day off nor an extra closed day."""
        d = _require_date(d)
        return d.weekday() < 5 and d not in self.extra_closed_days and self._holiday_name(d) is None

    def closed_day_name(self, d: date) -> str | None:
        """Swedish name of the holiday on ``d``, "Extra stängd dag" for a campaign's closed day.

        Ordinary weekends give None: they need no explanation in a report. A holiday that is
        also listed as an extra closed day keeps its real name.
        """
        d = _require_date(d)
        name = self._holiday_name(d)
        if name is not None:
            return name
        if d in self.extra_closed_days:
            return EXTRA_CLOSED_DAY_NAME
        return None

    def next_working_day(self, d: date) -> date:
        """The first working day strictly after ``d``."""
        d = _require_date(d) + _ONE_DAY
        while not self.is_working_day(d):
            d += _ONE_DAY
        return d

    def non_working_weekdays(self, year: int) -> list[tuple[date, str]]:
        """Every Monday–Friday of ``year`` that is closed, with its Swedish name, in date order."""
        result: list[tuple[date, str]] = []
        d = date(year, 1, 1)
        while d.year == year:
            if d.weekday() < 5 and not self.is_working_day(d):
                name = self.closed_day_name(d)
                assert name is not None  # a closed weekday is a holiday or an extra day
                result.append((d, name))
            d += _ONE_DAY
        return result

    # --- office hours -----------------------------------------------------------------------

    def _local_instant(self, d: date, t: time) -> datetime:
        # Build from the wall clock so the offset is the one valid on that day (CET or CEST).
        # The UTC round trip normalises a wall time that falls in a DST gap to a real instant;
        # it cannot happen with 08–17 in Sweden but keeps odd configurations honest.
        tz = self.tz
        return datetime.combine(d, t, tzinfo=tz).astimezone(UTC).astimezone(tz)

    def office_interval(self, d: date) -> tuple[datetime, datetime]:
        """Opening and closing of ``d`` as aware datetimes in the calendar's zone.

        Defined for any date; whether the office is open that day is :meth:`is_working_day`.
        """
        d = _require_date(d)
        return self._local_instant(d, self.office_start), self._local_instant(d, self.office_end)

    def _utc_interval(self, d: date) -> tuple[datetime, datetime]:
        opening, closing = self.office_interval(d)
        return opening.astimezone(UTC), closing.astimezone(UTC)

    def _local_date(self, instant_utc: datetime) -> date:
        return instant_utc.astimezone(self.tz).date()

    def _business_time(self, start_utc: datetime, end_utc: datetime) -> timedelta:
        # Summed as timedelta (integer microseconds) so the comparison with the budget in
        # within() is exact; a float sum could put a reply at exactly 9 h a hair over.
        total = timedelta(0)
        if end_utc <= start_utc:
            return total
        d = self._local_date(start_utc)
        last = self._local_date(end_utc)
        while d <= last:
            if self.is_working_day(d):
                opening, closing = self._utc_interval(d)
                lo = max(opening, start_utc)
                hi = min(closing, end_utc)
                if hi > lo:
                    total += hi - lo
            d += _ONE_DAY
        return total

    def business_seconds(self, start: datetime, end: datetime) -> float:
        """Seconds inside office hours on working days between two instants (0 if end <= start)."""
        return self._business_time(
            _require_aware("start", start), _require_aware("end", end)
        ).total_seconds()

    # --- deadlines --------------------------------------------------------------------------

    def deadline(
        self,
        sent: datetime,
        days: int = 1,
        rule: DeadlineRule = DeadlineRule.OFFICE_HOURS,
    ) -> datetime:
        """The last moment a reply to a question sent at ``sent`` counts as within ``days``.

        OFFICE_HOURS: the earliest instant at which business time since ``sent`` reaches
        ``days`` office days; if that happens exactly at closing time, the deadline is the closing
        time, not the next opening. NEXT_WORKING_DAY_SAME_TIME: the same local wall-clock time on
        the ``days``-th next working day, counting from the next opening when ``sent`` is outside
        office hours. The result is in the calendar's zone.
        """
        sent_utc = _require_aware("sent", sent)
        rule = DeadlineRule(rule)
        if isinstance(days, bool) or not isinstance(days, int) or days < 1:
            raise ValueError(f"days must be a positive whole number of working days, got {days!r}")
        if rule is DeadlineRule.OFFICE_HOURS:
            return self._office_hours_deadline(sent_utc, days)
        return self._same_time_deadline(sent_utc, days)

    def _office_hours_deadline(self, sent_utc: datetime, days: int) -> datetime:
        remaining = self.office_day * days
        d = self._local_date(sent_utc)
        while True:
            if self.is_working_day(d):
                opening, closing = self._utc_interval(d)
                start = max(opening, sent_utc)
                if start < closing:
                    available = closing - start
                    # "<=" so a budget that runs out exactly at closing ends there (17:00)
                    # rather than jumping to the next morning.
                    if remaining <= available:
                        return (start + remaining).astimezone(self.tz)
                    remaining -= available
            d += _ONE_DAY

    def _same_time_deadline(self, sent_utc: datetime, days: int) -> datetime:
        local = sent_utc.astimezone(self.tz)
        day = local.date()
        clock = local.time()  # naive wall time, so a DST switch in between does not shift it
        if not self.is_working_day(day):
            day, clock = self.next_working_day(day), self.office_start
        elif clock < self.office_start:
            clock = self.office_start
        elif clock > self.office_end:
            # Exactly at closing stays as is: then both rules give closing time n days later.
            day, clock = self.next_working_day(day), self.office_start
        for _ in range(days):
            day = self.next_working_day(day)
        return self._local_instant(day, clock)

    def within(
        self,
        sent: datetime,
        answered: datetime,
        days: int = 1,
        rule: DeadlineRule = DeadlineRule.OFFICE_HOURS,
    ) -> bool:
        """Whether a reply at ``answered`` is within ``days`` working days of ``sent`` (inclusive).

        OFFICE_HOURS is decided on elapsed business time (≤ ``days`` office days), which is the
        method's definition. It equals ``answered <= deadline(...)`` except after a deadline that
        falls exactly at closing time: a reply that evening adds no business time and is still
        within, although it is later than the deadline instant. NEXT_WORKING_DAY_SAME_TIME is
        ``answered <= deadline(...)``.
        """
        sent_utc = _require_aware("sent", sent)
        answered_utc = _require_aware("answered", answered)
        rule = DeadlineRule(rule)
        limit = self.deadline(sent_utc, days, rule)  # also validates days
        if rule is DeadlineRule.OFFICE_HOURS:
            return self._business_time(sent_utc, answered_utc) <= self.office_day * days
        return answered_utc <= limit
