"""The rules a campaign's evidence is judged by, built from the settings in one place.

The e-mail timing rules (calendar, deadline rule, holding replies, Date: skew, our receiving
hosts), the call timeline rules (hold limit) and the scoring rules (edition, the campaign's
calendar, deadline rule). The CLI, the dashboard, the runner, the report and the demo take them
from here, so they cannot judge the same evidence by different rules.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from harness.core.config import Settings
from harness.rules.calendars import campaign_calendar, work_calendar
from results.calendar import DeadlineRule
from results.phone_timeline import TimelineRules
from results.scoring import ScoringRules

if TYPE_CHECKING:
    # The model class loads SQLModel, which `kkik mail classify` does not need; the mail
    # analysis (behind TimingRules) is imported by timing_rules() only: `kkik status` and the
    # scores read timelines and scoring rules, not mail (issue 16, item 8).
    from harness.store.models import Campaign
    from probes.email_analysis import TimingRules


def timing_rules(settings: Settings) -> TimingRules:
    from probes.email_analysis import TimingRules

    rules = settings.email
    return TimingRules(
        calendar=work_calendar(settings),
        deadline_rule=DeadlineRule(rules.deadline_rule),
        count_holding_replies=rules.count_holding_replies,
        date_skew=timedelta(minutes=rules.date_skew_flag_minutes),
        receiving_hosts=settings.mail.receiving_hosts if settings.mail else (),
    )


def timeline_rules(settings: Settings) -> TimelineRules:
    hold = settings.phone.hold_limit_seconds if settings.phone else 300
    return TimelineRules(hold_limit=timedelta(seconds=hold))


def scoring_rules(
    settings: Settings, campaign: Campaign, edition: str | None = None
) -> ScoringRules:
    """How one campaign is scored: its edition (or ``edition``), its calendar, the deadline rule."""
    return ScoringRules(
        edition=edition or campaign.edition,
        calendar=campaign_calendar(settings, campaign),
        deadline_rule=DeadlineRule(settings.email.deadline_rule),
    )
