"""Gather a campaign's report data from the database (the I/O half of ``kkik report``).

Scores come from the same evidence rows as ``kkik score`` (:func:`campaign_evidence`), so
the report cannot disagree with the score command. Earlier campaigns in the same database give
the trend: their network means per measure, by campaign year.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from harness.campaign.evidence import campaign_evidence, imported_national
from harness.campaign.mail_assessments import mail_assessments
from harness.campaign.pending import pending_review
from harness.core.config import Settings
from harness.core.scenario import CampaignSpec
from harness.rules.measurement import scoring_rules, timeline_rules
from harness.store.models import Campaign, Probe, Question, Target
from harness.store.othermeasures import other_measure_values
from harness.store.references import published_values
from results.calendar import DeadlineRule, WorkCalendar
from results.development import developments
from results.mail_quality import mail_quality
from results.measures import MEASURES
from results.measures import edition as edition_measures
from results.national import places
from results.reference import Reference, bundled
from results.report_model import EvidenceLine, OtherLine, ReportData
from results.scoring import Evidence, Score, compare, score

# Per (calendar, deadline rule): each answer's (within the deadline, business hours), by its
# (sent, answered) instants; replaced by each report's own (so it holds only current answers).
_Times = dict[tuple[datetime, datetime], tuple[bool, float]]
_TIMED: dict[tuple[WorkCalendar, DeadlineRule], _Times] = {}
_TIMED_LOCK = threading.Lock()
_CALENDARS = 4  # the newest few calendars (a changed closed day makes a new one)


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
    # The calendar's verdicts are pure: those of the last report on this calendar and rule are
    # reused (nationally 4,600 answers, each walked through working days and office hours).
    known = _TIMED.get((calendar, rule), {})
    timed: dict[tuple[datetime, datetime], tuple[bool, float]] = {}
    for e in evidence:
        within = None
        hours = None
        seconds = None
        if e.channel == "email" and e.answered_at is not None and not e.harness_fault:
            pair = (e.sent_at, e.answered_at)
            found_times = known.get(pair)
            if found_times is None:
                found_times = (
                    calendar.within(e.sent_at, e.answered_at, 1, rule),
                    calendar.business_seconds(e.sent_at, e.answered_at) / 3600,
                )
            timed[pair] = found_times
            within, hours = found_times
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
    with _TIMED_LOCK:
        _TIMED.pop((calendar, rule), None)
        _TIMED[(calendar, rule)] = timed
        while len(_TIMED) > _CALENDARS:
            del _TIMED[next(iter(_TIMED))]
    trend: dict[str, list[tuple[int, float]]] = {}
    by_campaign: dict[tuple[int, str], list[Score]] = {}
    for name in [*earlier, campaign.name]:
        if name == campaign.name:
            # This campaign's scores are the ones above: its evidence is read once.
            year, scored = campaign.year, scores
        else:
            past, past_campaign = campaign_evidence(engine, name, holding, calls)
            year = _year(engine, name)
            # Each campaign of the trend by its own rules and closed days, as `kkik score`
            # scores it.
            scored = score(past, scoring_rules(settings, past_campaign))
        by_campaign[(year, name)] = scored
        for measure_id, c in compare(scored).items():
            if c.mean is not None:
                trend.setdefault(measure_id, []).append((year, c.mean))
    spec = CampaignSpec.model_validate(campaign.scenario["campaign"])
    other = [
        OtherLine(v.kommunkod, v.measure_id, v.value, v.source)
        for v in other_measure_values(engine, campaign.id or 0)
    ]
    national: tuple[Reference, ...] = imported_national(engine) + bundled()
    measures = edition_measures(edition)
    published = published_values(engine, {m.kolada_id for m in measures if m.kolada_id})
    pending = pending_review(engine, campaign)
    known_hours = {pair: found[1] for pair, found in timed.items()}
    assessed = mail_assessments(engine, campaign.id or 0)
    own = mail_quality(evidence, assessed, calendar, known_hours)
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
        places=places(scores, MEASURES, campaign.year, published),
        developments=developments(by_campaign, published, measures, targets),
        own=own,
        pending_replies=pending.replies,
        pending_where=pending.named(),
        pending_unassigned=pending.unassigned,
    )


def _year(engine: Engine, name: str) -> int:
    with Session(engine) as session:
        year = session.exec(select(Campaign.year).where(Campaign.name == name)).one()
    return int(year)


def _settings(settings: Settings, spec: CampaignSpec, edition: str) -> list[tuple[str, str]]:
    """Every rule the numbers depend on, as shown in the method section."""
    cal = settings.calendar
    email = settings.email
    phone = settings.phone
    rows = [
        ("edition", edition),
        ("timezone", settings.timezone),
        ("calendar.office_hours", f"{cal.office_hours_start:%H:%M}–{cal.office_hours_end:%H:%M}"),
        ("calendar.include_de_facto_holidays", str(cal.include_de_facto_holidays).lower()),
        ("calendar.extra_closed_days", _days(cal.extra_closed_days)),
        ("campaign.extra_closed_days", _days(spec.extra_closed_days)),
        ("email.deadline_rule", email.deadline_rule),
        ("email.count_holding_replies", str(email.count_holding_replies).lower()),
        ("email.date_skew_flag_minutes", str(email.date_skew_flag_minutes)),
        ("campaign.give_up_working_days", str(spec.give_up_working_days)),
        ("campaign.send_window", f"{spec.send_window.start:%H:%M}–{spec.send_window.end:%H:%M}"),
        ("campaign.call_window", f"{spec.call_window.start:%H:%M}–{spec.call_window.end:%H:%M}"),
        ("campaign.weekdays", ", ".join(spec.weekdays)),
        ("campaign.max_calls_per_target_per_day", str(spec.max_calls_per_target_per_day)),
        ("campaign.min_spacing_minutes", str(spec.min_spacing_minutes)),
        ("campaign.seed", str(spec.seed)),
    ]
    if phone is not None:
        rows += [
            ("phone.mode", phone.mode),
            ("phone.ring_timeout_seconds", str(phone.ring_timeout_seconds)),
            ("phone.hold_limit_seconds", str(phone.hold_limit_seconds)),
            ("phone.call_time_limit_seconds", str(phone.call_time_limit_seconds)),
        ]
    return rows


def _days(days: Sequence[date]) -> str:
    return ", ".join(d.isoformat() for d in days) or "–"
