"""The working-day calendars: the configuration's, and each campaign's (configuration plus its
own closed days). The one place that builds them, so scoring, the runner's give-up deadline,
the mailbox watcher's timing, the e-mail log, the report, the exports, the dashboard and the
demo judge a campaign's probes by the same days.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from harness.core.config import Settings
from results.calendar import WorkCalendar

if TYPE_CHECKING:  # the model class loads SQLModel, which `kkik calendar` does not need
    from harness.store.models import Campaign


def work_calendar(settings: Settings, extra_closed: frozenset[date] = frozenset()) -> WorkCalendar:
    """The configuration's calendar (``[calendar]``), plus ``extra_closed`` days if given.

    This is the calendar shared by every campaign. Anything that judges one campaign's probes
    wants :func:`campaign_calendar` instead, which adds that campaign's own closed days.
    """
    cal = settings.calendar
    return WorkCalendar(
        timezone=settings.timezone,
        office_start=cal.office_hours_start,
        office_end=cal.office_hours_end,
        extra_closed_days=frozenset(cal.extra_closed_days) | extra_closed,
        include_de_facto=cal.include_de_facto_holidays,
    )


def scenario_closed_days(scenario: Mapping[str, Any]) -> frozenset[date]:
    """A saved scenario's own closed days (``campaign.extra_closed_days``).

    ``scenario`` is :attr:`Campaign.scenario`, the scenario as dumped to JSON when the campaign
    was saved, so the days are ISO strings. Rows saved before the key existed (or without a
    scenario at all, as some tests and early databases have) simply have none. A value that is
    there but is not a date is an error, not an empty set: silently dropping a closed day would
    turn answers around it late.
    """
    spec = scenario.get("campaign")
    raw = spec.get("extra_closed_days") if isinstance(spec, Mapping) else None
    if raw is None:
        return frozenset()
    if isinstance(raw, str) or not isinstance(raw, list | tuple):
        raise ValueError(f"campaign.extra_closed_days must be a list of dates, got {raw!r}")
    days = set()
    for item in raw:
        if isinstance(item, date) and not isinstance(item, datetime):
            days.add(item)
            continue
        try:
            days.add(date.fromisoformat(item))
        except (TypeError, ValueError):
            raise ValueError(f"campaign.extra_closed_days: not a date: {item!r}") from None
    return frozenset(days)


def campaign_closed_days(campaign: Campaign) -> frozenset[date]:
    """The campaign's own closed days, as saved with it (see :func:`scenario_closed_days`)."""
    return scenario_closed_days(campaign.scenario or {})


def campaign_calendar(settings: Settings, campaign: Campaign) -> WorkCalendar:
    """The calendar one campaign's probes are planned, run and judged by.

    The configuration's closed days (``[calendar] extra_closed_days``) plus the campaign's own
    (its scenario's ``extra_closed_days``, saved with the campaign). Scoring, the give-up
    deadline, the e-mail log, the report, the exports and the demo all build it here, so a
    question sent the day before a declared staff day is judged the same way everywhere.
    """
    return work_calendar(settings).with_closed_days(campaign_closed_days(campaign))
