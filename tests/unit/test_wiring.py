"""Settings become working parts with the values the user configured."""

from __future__ import annotations

from datetime import date, time, timedelta

from harness.config import parse_config
from harness.wiring import timing_rules, watch_timing, work_calendar
from results.calendar import DeadlineRule

CONFIG = {
    "timezone": "Europe/Stockholm",
    "calendar": {
        "office_hours_start": "07:30",
        "office_hours_end": "16:30",
        "include_de_facto_holidays": False,
        "extra_closed_days": [date(2026, 5, 15)],
    },
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
