"""The campaign-day and free-slot rule the planner and the runner share (pure)."""

from __future__ import annotations

from datetime import date, time

import pytest

from results.calendar import WorkCalendar
from results.campaign_days import CampaignDays, grid, nearest_free

DAYS = CampaignDays(
    date(2026, 10, 5),  # Monday, week 41
    date(2026, 11, 13),
    frozenset({0, 1, 2, 3, 4}),
    WorkCalendar(extra_closed_days=frozenset({date(2026, 10, 21)})),  # a staff day
)


@pytest.mark.parametrize(
    ("day", "open_"),
    [
        (date(2026, 10, 5), True),
        (date(2026, 10, 4), False),  # before the period
        (date(2026, 10, 10), False),  # Saturday
        (date(2026, 10, 21), False),  # the campaign's own closed day
        (date(2026, 10, 30), True),  # the Friday before Alla helgons dag is an ordinary day
        (date(2026, 10, 31), False),  # Alla helgons dag (a Saturday anyway)
        (date(2026, 11, 14), False),  # after the period
    ],
)
def test_a_campaign_day(day: date, open_: bool) -> None:
    assert DAYS.is_campaign_day(day) is open_


def test_the_days_skip_weekdays_not_chosen() -> None:
    tuesdays = CampaignDays(DAYS.period_start, DAYS.period_end, frozenset({1}), DAYS.calendar)
    assert tuesdays.days() == tuple(d for d in DAYS.days() if d.weekday() == 1)
    assert len(DAYS.days()) == 29  # 30 weekdays, less the staff day


def test_the_grid_and_the_nearest_free_slot() -> None:
    slots = grid((time(9, 0), time(10, 0)), 15)
    assert slots == (540, 555, 570, 585)
    assert nearest_free(slots, 1, [555], 20 * 60) == 585  # 540 and 570 are too close to 555
    assert nearest_free(slots, 0, [540], 10 * 60) == 555
    assert nearest_free(slots, 2, [540, 585], 30 * 60) is None
