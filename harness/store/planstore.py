"""Saving a plan: campaign, targets, questions and planned probes, idempotently.

Every planned probe carries a plan key (``2380/email/03``: target, channel, sequence). Saving
the same plan again finds each key and updates the probe only while it is still ``planned``;
a probe that was claimed, sent or completed is never touched, and nothing is duplicated. A
planned probe whose key is no longer in the plan (fewer probes requested) is cancelled. A probe
that failed on our side without reaching anyone (refused by a safety rule, or a harness fault
not replaced) is planned again, so a corrected scenario brings it back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from harness.core.questionbank import Question as BankQuestion
from harness.core.scenario import Scenario
from harness.store.models import Campaign, Channel, Probe, ProbeState, Question, Target
from results.planner import PlannedProbe


@dataclass(frozen=True)
class SaveResult:
    campaign_id: int
    created: int
    updated: int
    untouched: int  # already claimed, sent or completed
    cancelled: int
    replanned: int = 0  # failed on our side, never sent and not replaced: planned again


def plan_key(probe: PlannedProbe) -> str:
    return f"{probe.target}/{probe.channel}/{probe.sequence:02d}"


def save_plan(
    session: Session,
    scenario: Scenario,
    bank: Sequence[BankQuestion],
    plan: Sequence[PlannedProbe],
    now: datetime,
) -> SaveResult:
    campaign = _campaign(session, scenario, now)
    assert campaign.id is not None
    targets = _targets(session, scenario, campaign.id)
    questions = _questions(session, bank)
    existing = {
        p.plan_key: p
        for p in session.exec(select(Probe).where(Probe.campaign_id == campaign.id)).all()
        if p.plan_key
    }
    created = updated = untouched = replanned = 0
    wanted: set[str] = set()
    replaced = set(
        session.exec(
            select(Probe.replaces_probe_id).where(
                Probe.campaign_id == campaign.id, col(Probe.replaces_probe_id).is_not(None)
            )
        ).all()
    )
    for item in plan:
        key = plan_key(item)
        wanted.add(key)
        persona = scenario.personas[item.persona % len(scenario.personas)]
        probe = existing.get(key)
        if probe is None:
            probe = Probe(
                campaign_id=campaign.id,
                target_id=targets[item.target],
                channel=item.channel,
                planned_at=item.at,
                plan_key=key,
            )
            created += 1
        elif _failed_on_our_side(probe, replaced):
            # Refused by a safety rule (a placeholder, a missing address) or failed on our side
            # with no replacement: nothing reached the municipality, so it may be asked again.
            _reopen(probe)
            replanned += 1
        elif probe.state == ProbeState.PLANNED:
            updated += 1
        else:
            untouched += 1
            continue
        probe.planned_at = item.at
        probe.question_id = questions[item.question]
        probe.persona_index = item.persona
        probe.persona_name = persona.name
        probe.persona_address = persona.address
        probe.mode = "bridged" if item.channel == Channel.PHONE else None
        session.add(probe)
    cancelled = 0
    for key, probe in existing.items():
        # A replacement's key is its original's plus "/r1": it stays while the original does.
        if key.split("/r")[0] not in wanted and probe.state == ProbeState.PLANNED:
            probe.state = ProbeState.CANCELLED
            session.add(probe)
            cancelled += 1
    session.commit()
    return SaveResult(campaign.id, created, updated, untouched, cancelled, replanned)


def _failed_on_our_side(probe: Probe, replaced: set[int | None]) -> bool:
    return (
        probe.state == ProbeState.FAILED
        and probe.outcome in ("refused", "harness_fault")
        and probe.sent_at is None
        and probe.id not in replaced
    )


def _reopen(probe: Probe) -> None:
    """Back to planned, as if never claimed: fresh identifiers are minted when it is sent."""
    probe.state = ProbeState.PLANNED
    probe.outcome = probe.completed_at = probe.claimed_at = None
    probe.fault_reason = probe.fault_code = probe.fault_params = None
    probe.message_id = probe.reply_token = probe.call_sid = None
    probe.send_response = None


def _campaign(session: Session, scenario: Scenario, now: datetime) -> Campaign:
    spec = scenario.campaign
    campaign = session.exec(select(Campaign).where(Campaign.name == spec.name)).first()
    if campaign is None:
        campaign = Campaign(
            name=spec.name,
            year=spec.year,
            period_start=spec.period_start,
            period_end=spec.period_end,
            created_at=now,
        )
    campaign.edition = spec.edition
    campaign.period_start = spec.period_start
    campaign.period_end = spec.period_end
    campaign.status = campaign.status if campaign.status != "draft" else "planned"
    campaign.scenario = scenario.model_dump(mode="json")
    session.add(campaign)
    session.flush()
    return campaign


def _targets(session: Session, scenario: Scenario, campaign_id: int) -> dict[str, int]:
    ids: dict[str, int] = {}
    for spec in scenario.targets:
        target = session.exec(
            select(Target).where(
                Target.campaign_id == campaign_id, Target.kommunkod == spec.kommunkod
            )
        ).first()
        if target is None:
            target = Target(campaign_id=campaign_id, kommunkod=spec.kommunkod, name="")
        target.name = spec.official_name
        target.email_address = spec.email
        target.extra_reply_domains = list(spec.extra_reply_domains)
        target.switchboard_number = spec.switchboard
        target.placeholder = spec.placeholder
        session.add(target)
        session.flush()
        assert target.id is not None
        ids[spec.kommunkod] = target.id
    return ids


def _questions(session: Session, bank: Sequence[BankQuestion]) -> dict[str, int]:
    ids: dict[str, int] = {}
    for item in bank:
        row = session.exec(select(Question).where(Question.code == item.code)).first()
        if row is None:
            row = Question(code=item.code, area=item.area, subject="", body="")
        row.area = item.area
        row.subject = item.subject
        row.body = item.body
        row.spoken = item.spoken
        row.answered_by = item.answered_by
        row.assessor_notes = item.assessor_notes
        session.add(row)
        session.flush()
        assert row.id is not None
        ids[item.code] = row.id
    return ids
