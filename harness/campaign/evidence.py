"""A campaign's evidence read from the database: for scoring, the e-mail log and the calls.

One place reads what the probes, replies, call events and assessments say, so ``kkik score``,
``kkik export``, ``kkik report``, the dashboard and the demo cannot disagree.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from harness.channels.email.settle import replies_by_probe
from harness.channels.phone import store as phonestore
from harness.rules.calendars import scenario_closed_days
from harness.store.models import (
    Assessment,
    CallEvent,
    Campaign,
    CaseNumber,
    Channel,
    Probe,
    ProbeState,
    Question,
    ReferenceValue,
    Target,
)
from harness.store.othermeasures import find_campaign
from results.answer_rule import REVIEW_BELOW
from results.email_log import ProbeEvidence, answer
from results.measures import MEASURES
from results.phone_timeline import CallTimeline, TimelineRules
from results.reference import Reference
from results.scoring import Evidence


class NoCampaign(LookupError):
    """No campaign by that name (or none at all) in the database."""


def campaign_evidence(
    engine: Engine,
    name: str | None,
    count_holding: bool,
    call_rules: TimelineRules | None = None,
) -> tuple[list[Evidence], Campaign]:
    """A campaign's stored evidence as scoring rows: e-mails with their replies, calls with
    their timelines (recomputed from the stored events) and assessments."""
    campaign = find_campaign(engine, name)
    if campaign is None:
        raise NoCampaign(name or "")
    with Session(engine) as session:
        rows = session.exec(
            select(Probe, Target)
            .join(Target, col(Probe.target_id) == col(Target.id))
            .where(Probe.campaign_id == campaign.id, Probe.channel == Channel.EMAIL)
            .where(col(Probe.sent_at).is_not(None) | (Probe.state == ProbeState.FAILED))
        ).all()
        replies = replies_by_probe(session, [p.id for p, _ in rows], REVIEW_BELOW)
        calls = session.exec(
            select(Probe, Target)
            .join(Target, col(Probe.target_id) == col(Target.id))
            .where(Probe.campaign_id == campaign.id, Probe.channel == Channel.PHONE)
            .where(col(Probe.claimed_at).is_not(None))
        ).all()
        events, assessments = _call_records(session, [p.id for p, _ in calls if p.id is not None])
    evidence = []
    for probe, target in rows:
        never_sent = probe.sent_at is None and probe.state != ProbeState.FAILED
        if probe.outcome == "refused" or never_sent:
            continue
        found = answer(replies.get(probe.id or 0, []), count_holding_replies=count_holding)
        evidence.append(
            Evidence(
                kommunkod=target.kommunkod,
                channel="email",
                probe_id=str(probe.id),
                sent_at=probe.sent_at or probe.planned_at,
                answered_at=found.arrived_at if found else None,
                harness_fault=probe.state == ProbeState.FAILED,
            )
        )
    for probe, target in calls:
        assert probe.id is not None
        line = phonestore.timeline(probe, events[probe.id], call_rules or TimelineRules())
        # A call that never got going (the API refused it, or refused the scenario's number as
        # invalid) says nothing about the municipality's phone service: a harness fault.
        never_placed = probe.outcome in ("harness_fault", "rejected") and line.outcome is None
        fault = never_placed or line.outcome == "failed"
        assessment = assessments.get(probe.id)
        evidence.append(
            Evidence(
                kommunkod=target.kommunkod,
                channel="phone",
                probe_id=str(probe.id),
                sent_at=line.dial_at or probe.sent_at or probe.claimed_at or probe.planned_at,
                harness_fault=fault,
                mode=line.mode,
                outcome=line.outcome,
                person_at=line.person_at,
                direct_answer=assessment.direct_answer if assessment else None,
                bemotande=assessment.bemotande if assessment else None,
            )
        )
    return evidence, campaign


def imported_national(engine: Engine) -> tuple[Reference, ...]:
    """Country-wide values imported with ``kkik reference import``; they win over the bundled."""
    with Session(engine) as session:
        rows = session.exec(
            select(ReferenceValue).where(ReferenceValue.municipality == "0000")
        ).all()
    return tuple(
        Reference(m.id, r.period, round(r.value), "participant_mean", "stated", r.source)
        for r in rows
        for m in MEASURES.values()
        if m.kolada_id == r.kpi and m.kolada_defined(r.period)
    )


def email_evidence(
    engine: Engine, kommunkod: str | None, since: date | None, zone: str, review_below: float
) -> list[ProbeEvidence]:
    with Session(engine) as session:
        query = (
            select(Probe, Target, Question)
            .join(Target, Probe.target_id == Target.id)  # type: ignore[arg-type]
            .outerjoin(Question, Probe.question_id == Question.id)  # type: ignore[arg-type]
            .where(Probe.channel == Channel.EMAIL)
            .where(Probe.sent_at.is_not(None))  # type: ignore[union-attr]
            .order_by(Probe.sent_at)  # type: ignore[arg-type]
        )
        if kommunkod:
            query = query.where(Target.kommunkod == kommunkod)
        if since:
            start = datetime(since.year, since.month, since.day, tzinfo=ZoneInfo(zone))
            query = query.where(Probe.sent_at >= start)  # type: ignore[operator]
        found = session.exec(query).all()
        ids = [p.id for p, _, _ in found]
        replies = replies_by_probe(session, ids, review_below)
        # The log may span campaigns: each probe carries its own campaign's closed days, read
        # once per campaign rather than once per probe.
        campaign_ids = {p.campaign_id for p, _, _ in found}
        closed = {
            campaign_id: scenario_closed_days(scenario or {})
            for campaign_id, scenario in session.exec(
                select(Campaign.id, Campaign.scenario).where(col(Campaign.id).in_(campaign_ids))
            ).all()
        }
        numbers: dict[int, list[str]] = {}
        for probe_id, number in session.exec(
            select(CaseNumber.probe_id, CaseNumber.number)
            .where(col(CaseNumber.probe_id).in_(ids))
            .order_by(col(CaseNumber.id))
        ).all():
            numbers.setdefault(probe_id, []).append(number)
        return [
            ProbeEvidence(
                probe_id=p.id or 0,
                kommunkod=t.kommunkod,
                target=t.name,
                area=q.area if q else None,
                sent_at=p.sent_at,
                outcome=p.outcome,
                replies=tuple(replies.get(p.id or 0, ())),
                closed_days=closed.get(p.campaign_id, frozenset()),
                case_numbers=tuple(numbers.get(p.id or 0, ())),
            )
            for p, t, q in found
        ]


def call_rows(
    engine: Engine, rules: TimelineRules, probe_id: int | None = None
) -> list[dict[str, Any]]:
    """Every placed call with its timeline and assessment, as plain data (CLI, JSON, web)."""
    with Session(engine) as session:
        query = (
            select(Probe, Target)
            .join(Target, col(Probe.target_id) == col(Target.id))
            .where(Probe.channel == Channel.PHONE, col(Probe.claimed_at).is_not(None))
            .order_by(col(Probe.claimed_at), col(Probe.id))
        )
        if probe_id is not None:
            query = query.where(Probe.id == probe_id)
        found = session.exec(query).all()
        events, assessments = _call_records(session, [p.id for p, _ in found if p.id is not None])
    rows = []
    for probe, target in found:
        assert probe.id is not None
        line = phonestore.timeline(probe, events[probe.id], rules)
        assessment = assessments.get(probe.id)
        bridged = probe.mode != "automated"
        rows.append(
            {
                "probe": probe.id,
                "kommunkod": target.kommunkod,
                "name": target.name,
                "mode": "automated" if not bridged else "bridged",
                "state": probe.state,
                "call_sid": probe.call_sid,
                **_times(line),
                "outcome": line.outcome,
                "fault_reason": line.fault_reason,
                "fault_code": line.fault_code,
                "fault_params": line.fault_params,
                "answered_by": line.answered_by,
                "notes": list(line.notes),
                "assessed": assessment is not None and assessment.direct_answer is not None,
                "direct_answer": assessment.direct_answer if assessment else None,
                "bemotande": assessment.bemotande if assessment else None,
                "awaiting_assessment": bridged
                and line.outcome == "person"
                and (assessment is None or assessment.direct_answer is None),
            }
        )
    return rows


def _times(line: CallTimeline) -> dict[str, Any]:
    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value is not None else None

    def secs(value: timedelta | None) -> float | None:
        return value.total_seconds() if value is not None else None

    return {
        "dial_at": iso(line.dial_at),
        "ringing_at": iso(line.ringing_at),
        "answered_at": iso(line.answered_at),
        "person_at": iso(line.person_at),
        "transferred_at": iso(line.transferred_at),
        "ended_at": iso(line.ended_at),
        "time_to_answer": secs(line.time_to_answer),
        "time_to_person": secs(line.time_to_person),
        "queue_time": secs(line.queue_time),
    }


def _call_records(
    session: Session, ids: list[int]
) -> tuple[dict[int, list[CallEvent]], dict[int, Assessment]]:
    """The stored events and the assessment of each of these calls."""
    assessments = {
        a.probe_id: a
        for a in session.exec(select(Assessment).where(col(Assessment.probe_id).in_(ids)))
    }
    return phonestore.events_for(session, ids), assessments
