"""The evidence reader as it was before it read columns and reused call timelines (commit
8143cb7): objects per probe, message, call event and assessment, and the current campaign read
twice by the report. Kept here only as the reference the new reader must agree with exactly
(tests/integration/test_evidence_reader.py); nothing else may use it."""

# ruff: noqa
# mypy: ignore-errors

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from harness.campaign.evidence import NoCampaign, _times, imported_national
from harness.campaign.reportdata import _settings
from harness.channels.email.settle import replies_by_probe
from harness.channels.phone import store as phonestore
from harness.core.config import Settings
from harness.core.scenario import CampaignSpec
from harness.rules.calendars import scenario_closed_days
from harness.rules.measurement import scoring_rules, timeline_rules
from harness.store.models import (
    Assessment,
    CallEvent,
    Campaign,
    CaseNumber,
    Channel,
    Probe,
    ProbeState,
    Question,
    Target,
)
from harness.store.othermeasures import find_campaign, other_measure_values
from results.answer_rule import REVIEW_BELOW
from results.email_log import ProbeEvidence, answer
from results.phone_timeline import CallTimeline, TimelineRules
from results.reference import Reference, bundled
from results.report_model import EvidenceLine, OtherLine, ReportData
from results.scoring import Evidence, compare, score


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
                # Edition 2011's evidence (issue 18), read the same plain way: the assessment's
                # answer, else the tester's mark; nothing for an automated call.
                case_officer=(
                    None
                    if line.mode != "bridged"
                    else assessment.case_officer
                    if assessment is not None and assessment.case_officer is not None
                    else line.case_officer_at is not None
                ),
                bemotande_2011=assessment.bemotande_2011 if assessment else None,
            )
        )
    return evidence, campaign


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


def _call_records(
    session: Session, ids: list[int]
) -> tuple[dict[int, list[CallEvent]], dict[int, Assessment]]:
    """The stored events and the assessment of each of these calls."""
    assessments = {
        a.probe_id: a
        for a in session.exec(select(Assessment).where(col(Assessment.probe_id).in_(ids)))
    }
    return phonestore.events_for(session, ids), assessments


def _category(e: Evidence, within: bool | None) -> str:
    if e.channel == "email":
        if e.harness_fault:
            return "fault"
        if e.answered_at is None:
            return "none"
        return "within" if within else "later"
    if e.harness_fault or e.outcome == "failed":
        return "failed"
    return e.outcome or "pending"


def report_data(
    engine: Engine,
    settings: Settings,
    campaign_name: str | None,
    now: datetime,
) -> ReportData:
    holding = settings.email.count_holding_replies
    calls = timeline_rules(settings)
    evidence, found = campaign_evidence(engine, campaign_name, holding, calls)
    rules = scoring_rules(settings, found)
    edition, calendar, rule = rules.edition, rules.calendar, rules.deadline_rule
    scores = score(evidence, rules)
    with Session(engine) as session:
        query = select(Campaign)
        query = (
            query.where(Campaign.name == campaign_name)
            if campaign_name
            else query.order_by(col(Campaign.id).desc())
        )
        campaign = session.exec(query).first()
        assert campaign is not None  # evidence_from_database exits otherwise
        targets = {
            t.kommunkod: t.name
            for t in session.exec(select(Target).where(Target.campaign_id == campaign.id))
        }
        areas = dict(
            session.exec(
                select(Probe.id, Question.area)
                .join(Question, col(Probe.question_id) == col(Question.id))
                .where(Probe.campaign_id == campaign.id)
            ).all()
        )
        counts = session.exec(
            select(Probe.channel, func.count(), func.count(col(Probe.claimed_at)))
            .where(Probe.campaign_id == campaign.id)
            .group_by(Probe.channel)
        ).all()
        earlier = session.exec(
            select(Campaign.name).where(Campaign.year < campaign.year).order_by(col(Campaign.year))
        ).all()
    lines = []
    for e in evidence:
        within = None
        hours = None
        seconds = None
        if e.channel == "email" and e.answered_at is not None and not e.harness_fault:
            within = calendar.within(e.sent_at, e.answered_at, 1, rule)
            hours = calendar.business_seconds(e.sent_at, e.answered_at) / 3600
        if e.channel == "phone" and e.person_at is not None:
            seconds = (e.person_at - e.sent_at).total_seconds()
        lines.append(
            EvidenceLine(
                probe_id=int(e.probe_id),
                kommunkod=e.kommunkod,
                channel=e.channel,
                area=areas.get(int(e.probe_id)),
                sent_at=e.sent_at,
                answered_at=e.answered_at if e.channel == "email" else e.person_at,
                category=_category(e, within),
                business_hours=hours,
                seconds_to_person=seconds,
                direct_answer=e.direct_answer,
                bemotande=e.bemotande,
            )
        )
    trend: dict[str, list[tuple[int, float]]] = {}
    by_campaign = {}
    for name in [*earlier, campaign.name]:
        past, past_campaign = campaign_evidence(engine, name, holding, calls)
        year = campaign.year if name == campaign.name else _year(engine, name)
        # Each campaign of the trend by its own rules and closed days, as `kkik score` scores it.
        past_rules = scoring_rules(settings, past_campaign)
        by_campaign[(year, name)] = score(past, past_rules)
        for measure_id, c in compare(score(past, past_rules)).items():
            if c.mean is not None:
                trend.setdefault(measure_id, []).append((year, c.mean))
    spec = CampaignSpec.model_validate(campaign.scenario["campaign"])
    other = [
        OtherLine(v.kommunkod, v.measure_id, v.value, v.source)
        for v in other_measure_values(engine, campaign.id or 0)
    ]
    national: tuple[Reference, ...] = imported_national(engine) + bundled()
    return ReportData(
        campaign=campaign.name,
        year=campaign.year,
        edition=edition,
        period_start=campaign.period_start,
        period_end=campaign.period_end,
        generated_at=now,
        timezone=settings.timezone,
        targets=targets,
        scores=scores,
        national=national,
        evidence=lines,
        settings=_settings(settings, spec, edition),
        samples={channel: (planned, placed) for channel, planned, placed in counts},
        trend=trend,
        other=other,
        # Issue 18's wider picture, from the same pure rules as the reader's.
        **_wider(engine, settings, campaign, edition, scores, by_campaign, evidence, targets),
    )


def _wider(engine, settings, campaign, edition, scores, by_campaign, evidence, targets):
    from harness.campaign.mail_assessments import mail_assessments
    from harness.campaign.pending import pending_review
    from harness.store.references import published_values
    from results.development import developments
    from results.mail_quality import mail_quality
    from results.measures import MEASURES
    from results.measures import edition as edition_measures
    from results.national import places

    measures = edition_measures(edition)
    published = published_values(engine, {m.kolada_id for m in measures if m.kolada_id})
    pending = pending_review(engine, campaign)
    calendar = scoring_rules(settings, campaign).calendar
    return {
        "places": places(scores, MEASURES, campaign.year, published),
        "developments": developments(by_campaign, published, measures, targets),
        "own": mail_quality(evidence, mail_assessments(engine, campaign.id or 0), calendar),
        "pending_replies": pending.replies,
        "pending_where": pending.named(),
        "pending_unassigned": pending.unassigned,
    }


def _year(engine: Engine, name: str) -> int:
    with Session(engine) as session:
        year = session.exec(select(Campaign.year).where(Campaign.name == name)).one()
    return int(year)
