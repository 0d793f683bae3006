"""The runner's upkeep after the due probes: give up on unanswered questions, replace harness
faults.

- **Give up.** An e-mail probe unanswered after the campaign's give-up limit (working days,
  the campaign's own closed days included) is completed as ``not_answered`` at the deadline.
- **Replace.** A harness fault (failed on our side, not refused by a safety rule) gets one
  replacement probe at the next free slot at least an hour later, so the sample size holds.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, exists, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from harness.campaign.due import campaign_rules
from harness.campaign.slots import Slots
from harness.channels.registry import CHANNELS
from harness.core.clock import ensure_utc
from harness.core.scenario import CampaignSpec
from harness.store.models import Campaign, Probe, ProbeState
from results.calendar import WorkCalendar

# The channels whose probes wait for a reply and are given up on after the limit.
WAITING = [spec.name for spec in CHANNELS.values() if spec.waits_for_reply]


def give_up(engine: Engine, calendar: WorkCalendar, now: datetime, *, recheck: bool = False) -> int:
    """Complete every waiting probe past its give-up deadline; how many there were.

    Each waiting probe's deadline is computed once and stored (``Probe.give_up_at``), so a tick
    reads only the probes whose deadline has passed, through the (state, give_up_at) index: the
    work of a tick follows what is due, not what is open. ``recheck`` computes every waiting
    probe's deadline again, as the runner does on its first tick, so a calendar changed in the
    configuration between two runs moves the deadlines it should.
    """
    set_deadlines(engine, calendar, every=recheck)
    given_up = 0
    with Session(engine) as session:
        due = session.exec(
            select(Probe).where(
                Probe.state == ProbeState.SENT,
                col(Probe.give_up_at) < now,
                col(Probe.channel).in_(WAITING),
            )
        ).all()
        for probe in due:
            assert probe.give_up_at is not None
            probe.state = ProbeState.COMPLETED
            probe.outcome = "not_answered"
            probe.completed_at = probe.give_up_at
            session.add(probe)
            given_up += 1
        session.commit()
    return given_up


def set_deadlines(engine: Engine, calendar: WorkCalendar, *, every: bool = False) -> int:
    """Store the give-up deadline of each waiting probe that has none (``every``: of each
    waiting probe); how many were set or changed. A probe becomes ``sent`` in several places
    (the runner, a resolved crash, a person's correction), so the deadline is filled here,
    once, rather than at each of them."""
    changed = 0
    with Session(engine) as session:
        query = select(Probe).where(
            Probe.state == ProbeState.SENT,
            col(Probe.channel).in_(WAITING),
            col(Probe.sent_at).is_not(None),
        )
        if not every:
            query = query.where(col(Probe.give_up_at).is_(None))
        probes = session.exec(query).all()
        if not probes:
            return 0
        # One campaign's settings per campaign, not per waiting probe: decoding the stored
        # scenario for each of ten thousand waiting probes made every tick of a national
        # campaign take seconds (bench/bench_national.py found it).
        specs: dict[int, tuple[CampaignSpec, WorkCalendar]] = {}
        # Only the scenario's ``campaign`` section is read: the rest holds every target.
        for campaign_id, rules in session.exec(
            select(Campaign.id, col(Campaign.scenario)[("campaign",)]).where(
                col(Campaign.id).in_({p.campaign_id for p in probes})
            )
        ).all():
            assert campaign_id is not None
            spec = CampaignSpec.model_validate(rules)
            # The campaign's own closed days (a staff day) extend its deadlines like a holiday
            # does; built once per campaign, as the spec is.
            specs[campaign_id] = (spec, calendar.with_closed_days(spec.extra_closed_days))
        for probe in probes:
            assert probe.sent_at is not None
            spec, own = specs[probe.campaign_id]
            deadline = own.deadline(probe.sent_at, spec.give_up_working_days)
            if probe.give_up_at is None or ensure_utc(probe.give_up_at) != deadline:
                probe.give_up_at = deadline
                session.add(probe)
                changed += 1
        session.commit()
    return changed


def replace_faults(engine: Engine, slots: Slots, now: datetime) -> int:
    """Plan a replacement for every harness fault not yet replaced; how many were planned."""
    planned = 0
    with Session(engine) as session:
        # Only the faults not yet replaced are read (NOT EXISTS on the indexed
        # replaces_probe_id), not every failed probe and every replacement on every tick.
        replacement = aliased(Probe)
        failed = session.exec(
            select(Probe).where(
                Probe.state == ProbeState.FAILED,
                or_(col(Probe.outcome).is_(None), col(Probe.outcome) != "refused"),
                ~exists().where(col(replacement.replaces_probe_id) == col(Probe.id)),
            )
        ).all()
        for probe in failed:
            rules = campaign_rules(session, probe.campaign_id)
            assert rules is not None
            _, spec = rules
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
