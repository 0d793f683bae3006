"""Whether a campaign may start: the checks ``kkik plan --save`` and ``kkik run`` make first.

Saving the unedited template and starting the runner used to mark every probe failed within
a minute: the targets were placeholders, and the period had already passed. A campaign that
cannot be run as saved is refused before anything is written or sent, with what to change:

- a placeholder target (``placeholder = true``, the template's stand-in addresses);
- a period that is already over (nothing could be sent inside it).

``kkik run`` also says when the period is over but questions still wait for answers: then it
only collects replies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from harness.core.config import Problem
from harness.core.scenario import Scenario
from harness.store.models import Campaign, Probe, ProbeState, Target


def scenario_problems(scenario: Scenario, file: str, today: date) -> list[Problem]:
    """What stops this scenario from being saved to run: placeholders, a period in the past.

    Reported like the scenario's own validation (file, field, problem), so a person finds the
    line to change."""
    problems = [
        Problem(
            file,
            ("targets", i),
            "placeholder_target",
            {"target": f"{t.kommunkod} {t.official_name}"},
            root=Scenario,
        )
        for i, t in enumerate(scenario.targets)
        if t.placeholder
    ]
    spec = scenario.campaign
    if spec.period_end < today:
        problems.append(
            Problem(
                file,
                ("campaign", "period_end"),
                "period_over",
                {"today": today.isoformat()},
                value=spec.period_end.isoformat(),
                has_value=True,
                root=Scenario,
            )
        )
    return problems


@dataclass(frozen=True)
class CampaignState:
    """What ``kkik run`` needs to know before it starts on a saved campaign."""

    name: str
    period_start: date
    period_end: date
    placeholders: tuple[str, ...]  # "2309 Krokom" for each placeholder target with work left
    planned: int  # probes still to be sent
    awaiting: int  # sent, waiting for their evidence (a reply, a call's end)

    def period_over(self, today: date) -> bool:
        return self.period_end < today


def campaign_states(engine: Engine) -> list[CampaignState]:
    """Every saved campaign that is not cancelled, newest first."""
    states = []
    with Session(engine) as session:
        campaigns = session.exec(
            select(Campaign).where(Campaign.status != "cancelled").order_by(col(Campaign.id).desc())
        ).all()
        for campaign in campaigns:
            counts = dict(
                session.exec(
                    select(Probe.state, func.count())
                    .where(Probe.campaign_id == campaign.id)
                    .group_by(Probe.state)
                ).all()
            )
            placeholders = session.exec(
                select(Target.kommunkod, Target.name)
                .where(Target.campaign_id == campaign.id, col(Target.placeholder).is_(True))
                .where(
                    col(Target.id).in_(
                        select(Probe.target_id).where(
                            Probe.campaign_id == campaign.id, Probe.state == ProbeState.PLANNED
                        )
                    )
                )
            ).all()
            states.append(
                CampaignState(
                    name=campaign.name,
                    period_start=campaign.period_start,
                    period_end=campaign.period_end,
                    placeholders=tuple(f"{code} {name}" for code, name in placeholders),
                    planned=counts.get(ProbeState.PLANNED, 0),
                    awaiting=counts.get(ProbeState.SENT, 0) + counts.get(ProbeState.SENDING, 0),
                )
            )
    return states
