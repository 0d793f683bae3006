"""Settings become working parts with the values the user configured."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from harness.channels.email.adapters import watch_timing
from harness.core.config import Settings, parse_config
from harness.rules.calendars import (
    campaign_calendar,
    campaign_closed_days,
    scenario_closed_days,
    work_calendar,
)
from harness.rules.measurement import timing_rules
from harness.store.models import Campaign
from results.calendar import DeadlineRule

CALENDAR: dict[str, object] = {
    "office_hours_start": "07:30",
    "office_hours_end": "16:30",
    "include_de_facto_holidays": False,
    "extra_closed_days": [date(2026, 5, 15)],
}
CONFIG = {
    "timezone": "Europe/Stockholm",
    "calendar": CALENDAR,
    "email": {
        "deadline_rule": "next_working_day_same_time",
        "count_holding_replies": True,
        "date_skew_flag_minutes": 30,
    },
    "mail": {
        "receiving_hosts": ["mx.fraga.example.se"],
        "smtp": {"host": "127.0.0.1", "security": "none", "auth": "none"},
        "imap": {
            "host": "127.0.0.1",
            "security": "none",
            "auth": "none",
            "idle_renew_minutes": 20,
            "poll_interval_seconds": 90,
        },
    },
}


def test_it_builds_the_calendar_and_rules_from_the_settings():
    settings = parse_config(CONFIG)
    calendar = work_calendar(settings, frozenset({date(2026, 5, 29)}))
    assert (calendar.office_start, calendar.office_end) == (time(7, 30), time(16, 30))
    assert not calendar.include_de_facto
    assert calendar.extra_closed_days == {date(2026, 5, 15), date(2026, 5, 29)}
    rules = timing_rules(settings)
    assert rules.deadline_rule is DeadlineRule.NEXT_WORKING_DAY_SAME_TIME
    assert rules.count_holding_replies is True
    assert rules.date_skew == timedelta(minutes=30)
    assert rules.receiving_hosts == ("mx.fraga.example.se",)
    assert rules.calendar == work_calendar(settings)


def test_it_takes_the_idle_and_poll_periods_from_the_settings():
    settings = parse_config(CONFIG)
    assert settings.mail is not None
    timing = watch_timing(settings.mail.imap)
    assert (timing.idle_renew_seconds, timing.poll_seconds) == (1200.0, 90.0)


def _campaign(scenario: dict[str, Any]) -> Campaign:
    return Campaign(
        name="KKiK hösten 2026",
        year=2026,
        period_start=date(2026, 10, 5),
        period_end=date(2026, 11, 13),
        scenario=scenario,
        created_at=datetime(2026, 9, 1, tzinfo=UTC),
    )


STAFF_DAY = date(2026, 10, 21)


@pytest.mark.parametrize(
    ("scenario", "closed"),
    [
        # As saved by planstore (Scenario.model_dump(mode="json")): ISO strings.
        ({"campaign": {"name": "x", "extra_closed_days": ["2026-10-21", "2026-10-30"]}},
         {STAFF_DAY, date(2026, 10, 30)}),
        ({"campaign": {"name": "x", "extra_closed_days": []}}, set()),
        # Rows saved before the key existed, or with no scenario at all.
        ({"campaign": {"name": "x"}}, set()),
        ({}, set()),
        # A scenario handed over as Python values rather than JSON.
        ({"campaign": {"extra_closed_days": (STAFF_DAY,)}}, {STAFF_DAY}),
    ],
)  # fmt: skip
def test_it_reads_a_saved_campaigns_own_closed_days(
    scenario: dict[str, Any], closed: set[date]
) -> None:
    assert scenario_closed_days(scenario) == closed
    assert campaign_closed_days(_campaign(scenario)) == closed


@pytest.mark.parametrize(
    "value",
    ["2026-10-21", ["21/10/2026"], [20261021], [datetime(2026, 10, 21, tzinfo=UTC)], {"a": 1}],
)
def test_a_closed_day_that_is_not_a_date_is_an_error_not_an_open_day(value: object) -> None:
    with pytest.raises(ValueError, match="extra_closed_days"):
        scenario_closed_days({"campaign": {"extra_closed_days": value}})


@pytest.mark.parametrize(
    ("config_days", "campaign_days", "closed"),
    [
        ([], [], set()),
        ([date(2026, 5, 15)], [], {date(2026, 5, 15)}),
        ([], ["2026-10-21"], {STAFF_DAY}),
        ([date(2026, 5, 15)], ["2026-10-21"], {date(2026, 5, 15), STAFF_DAY}),
        ([STAFF_DAY], ["2026-10-21"], {STAFF_DAY}),
    ],
)
def test_a_campaigns_calendar_closes_the_configured_days_and_its_own(
    config_days: list[date], campaign_days: list[str], closed: set[date]
) -> None:
    calendar_table = {**CALENDAR, "extra_closed_days": config_days}
    settings = parse_config({**CONFIG, "calendar": calendar_table})
    campaign = _campaign({"campaign": {"extra_closed_days": campaign_days}})
    calendar = campaign_calendar(settings, campaign)
    assert calendar.extra_closed_days == closed
    # The rest comes from the configuration, as for work_calendar.
    assert (calendar.office_start, calendar.office_end) == (time(7, 30), time(16, 30))
    assert calendar.include_de_facto is False
    assert calendar.is_working_day(STAFF_DAY) is (STAFF_DAY not in closed)


def test_another_campaign_in_the_same_database_keeps_its_own_days() -> None:
    settings = Settings()
    staff_day = campaign_calendar(
        settings, _campaign({"campaign": {"extra_closed_days": ["2026-10-21"]}})
    )
    other = campaign_calendar(settings, _campaign({"campaign": {}}))
    assert not staff_day.is_working_day(STAFF_DAY)
    assert other.is_working_day(STAFF_DAY)
    assert other == work_calendar(settings)
