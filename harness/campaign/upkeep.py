"""The runner's upkeep after the due probes: give up on unanswered questions, replace harness
faults.

- **Give up.** An e-mail probe unanswered after the campaign's give-up limit (working days,
  the campaign's own closed days included) is completed as ``not_answered`` at the deadline.
- **Replace.** A harness fault (failed on our side, not refused by a safety rule) gets one
  replacement probe at the next free slot at least an hour later, so the sample size holds.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from harness.campaign.slots import Slots
from harness.channels.registry import CHANNELS
from harness.core.scenario import CampaignSpec
from harness.store.models import Campaign, Probe, ProbeState
from results.calendar import WorkCalendar

# The channels whose probes wait for a reply and are given up on after the limit.
WAITING = [spec.name for spec in CHANNELS.values() if spec.waits_for_reply]


def give_up(engine: Engine, calendar: WorkCalendar, now: datetime) -> int:
    """Complete every waiting probe past its give-up deadline; how many there were."""
    given_up = 0
    with Session(engine) as session:
        # One campaign's settings per campaign, not per waiting probe: decoding the stored
        # scenario for each of ten thousand waiting probes made every tick of a national
        # campaign take seconds (bench/bench_national.py found it).
        waiting_in = (
            select(Probe.campaign_id)
            .where(Probe.state == ProbeState.SENT, col(Probe.channel).in_(WAITING))
            .distinct()
        )
        campaigns = session.exec(
            select(Campaign.id, Campaign.scenario).where(col(Campaign.id).in_(waiting_in))
        ).all()
        for campaign_id, scenario in campaigns:
            spec = CampaignSpec.model_validate(scenario["campaign"])
            # The campaign's own closed days (a staff day) extend its deadlines like a
            # holiday does; built once per campaign, as the spec is.
            own = calendar.with_closed_days(spec.extra_closed_days)
            # N office days (9 business hours each) end no sooner than N - 1 calendar days
            # after the question: younger ones cannot be due, so they are not even read.
            oldest = now - timedelta(days=spec.give_up_working_days - 1)
            waiting = session.exec(
                select(Probe).where(
                    Probe.campaign_id == campaign_id,
                    Probe.state == ProbeState.SENT,
                    col(Probe.channel).in_(WAITING),
                    col(Probe.sent_at) <= oldest,
                )
            ).all()
            for probe in waiting:
                assert probe.sent_at is not None
                deadline = own.deadline(probe.sent_at, spec.give_up_working_days)
                if now > deadline:
                    probe.state = ProbeState.COMPLETED
                    probe.outcome = "not_answered"
                    probe.completed_at = deadline
                    session.add(probe)
                    given_up += 1
        session.commit()
    return given_up


def replace_faults(engine: Engine, slots: Slots, now: datetime) -> int:
    """Plan a replacement for every harness fault not yet replaced; how many were planned."""
    planned = 0
    with Session(engine) as session:
        replaced = {
            p.replaces_probe_id
            for p in session.exec(
                select(Probe).where(col(Probe.replaces_probe_id).is_not(None))
            ).all()
        }
        failed = session.exec(
            select(Probe, Campaign)
            .join(Campaign, col(Probe.campaign_id) == col(Campaign.id))
            .where(Probe.state == ProbeState.FAILED)
        ).all()
        for probe, campaign in failed:
            if probe.id in replaced or probe.outcome == "refused":
                continue
            spec = CampaignSpec.model_validate(campaign.scenario["campaign"])
            # Not at once: whatever failed on our side is unlikely to be fixed a second later.
            later = now + timedelta(minutes=max(spec.min_spacing_minutes, 60))
            slot = slots.next_free(session, probe, spec, later)
            if slot is None:
                continue  # the period is over: the fault stays visible, unreplaced
            generation = (probe.plan_key or f"probe{probe.id}").count("/r") + 1
            session.add(
                Probe(
                    campaign_id=probe.campaign_id,
                    target_id=probe.target_id,
                    question_id=probe.question_id,
                    channel=probe.channel,
                    mode=probe.mode,
                    planned_at=slot,
                    persona_name=probe.persona_name,
                    persona_address=probe.persona_address,
                    persona_index=probe.persona_index,
                    replaces_probe_id=probe.id,
                    plan_key=f"{probe.plan_key}/r{generation}" if probe.plan_key else None,
                )
            )
            planned += 1
        session.commit()
    return planned
