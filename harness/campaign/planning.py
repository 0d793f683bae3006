"""From a scenario file to a plan: the glue between scenario, question bank and planner."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from harness.core.config import ConfigError, Problem, Settings
from harness.core.questionbank import Question, load_bank
from harness.core.scenario import WEEKDAYS, Scenario, load_scenario
from harness.rules.calendars import work_calendar
from results.planner import PlannedProbe, PlanQuestion, PlanRules, PlanTarget, make_plan


@dataclass(frozen=True)
class CampaignPlan:
    scenario: Scenario
    bank: list[Question]
    probes: list[PlannedProbe]


def plan_rules(scenario: Scenario, settings: Settings) -> PlanRules:
    spec = scenario.campaign
    return PlanRules(
        period_start=spec.period_start,
        period_end=spec.period_end,
        weekdays=frozenset(WEEKDAYS.index(d) for d in spec.weekdays),
        send_window=(spec.send_window.start, spec.send_window.end),
        call_window=(spec.call_window.start, spec.call_window.end),
        emails_per_target=spec.emails_per_target,
        calls_per_target=spec.calls_per_target,
        min_spacing=scenario.min_spacing,
        max_calls_per_target_per_day=spec.max_calls_per_target_per_day,
        max_emails_per_target_per_day=spec.max_emails_per_target_per_day,
        calendar=work_calendar(settings, frozenset(spec.extra_closed_days)),
    )


def check_against_calendar(scenario: Scenario, rules: PlanRules, file: str) -> list[Problem]:
    """Windows inside office hours; enough working days for the requested counts."""
    calendar = rules.calendar
    problems = []
    for name, window in (("send_window", rules.send_window), ("call_window", rules.call_window)):
        if window[0] < calendar.office_start or window[1] > calendar.office_end:
            problems.append(
                Problem(
                    file,
                    ("campaign", name),
                    "window_outside_office",
                    {
                        "start": calendar.office_start.strftime("%H:%M"),
                        "end": calendar.office_end.strftime("%H:%M"),
                    },
                    f"{window[0]:%H:%M}–{window[1]:%H:%M}",
                    True,
                )
            )
    days = eligible_days(rules)
    spec = scenario.campaign
    for count, per_day, what in (
        (spec.emails_per_target, spec.max_emails_per_target_per_day, "emails"),
        (spec.calls_per_target, spec.max_calls_per_target_per_day, "calls"),
    ):
        needed = -(-count // per_day)
        if needed > days:
            problems.append(
                Problem(
                    file,
                    ("campaign", "period_end"),
                    f"too_few_days_{what}",
                    {"count": count, "per_day": per_day, "needed": needed, "days": days},
                )
            )
    return problems


def eligible_days(rules: PlanRules) -> int:
    """Working days in the period on the campaign's weekdays."""
    day, count = rules.period_start, 0
    while day <= rules.period_end:
        if day.weekday() in rules.weekdays and rules.calendar.is_working_day(day):
            count += 1
        day += timedelta(days=1)
    return count


def plan_scenario(path: Path, settings: Settings, seed: int | None = None) -> CampaignPlan:
    """Read the scenario and its question bank and make the plan (raises ConfigError/PlanError)."""
    scenario = load_scenario(path)
    rules = plan_rules(scenario, settings)
    problems = check_against_calendar(scenario, rules, str(path))
    if problems:
        raise ConfigError(problems)
    bank = [
        q
        for q in load_bank(path.parent / scenario.campaign.question_bank)
        if q.area in scenario.campaign.areas
    ]
    targets = [
        PlanTarget(key=t.kommunkod, email=t.email is not None, phone=t.switchboard is not None)
        for t in scenario.targets
    ]
    questions = [PlanQuestion(code=q.code, area=q.area) for q in bank]
    probes = make_plan(
        targets,
        questions,
        len(scenario.personas),
        rules,
        scenario.campaign.seed if seed is None else seed,
    )
    return CampaignPlan(scenario, bank, probes)
