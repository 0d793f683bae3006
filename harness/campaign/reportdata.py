"""Gather a campaign's report data from the database (the I/O half of ``kkik report``).

Scores come from the same evidence rows as ``kkik score`` (:func:`campaign_evidence`), so
the report cannot disagree with the score command. Earlier campaigns in the same database give
the trend: their network means per measure, by campaign year.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, Engine, func
from sqlmodel import Session, col, select

from harness.campaign.by_target import TargetPieces, everything_else, fingerprints
from harness.campaign.evidence import NoCampaign, imported_national, target_evidence
from harness.campaign.mail_assessments import mail_assessments
from harness.campaign.pending import pending_review
from harness.core.config import Settings
from harness.core.scenario import CampaignSpec
from harness.rules.measurement import scoring_rules, timeline_rules
from harness.store.models import Campaign, Probe, Question, Target
from harness.store.othermeasures import find_campaign, other_measure_values
from harness.store.references import published_values
from results.calendar import DeadlineRule, WorkCalendar
from results.development import Development, developments
from results.kolada import KoladaValue
from results.mail_quality import OwnValue, mail_quality
from results.measures import MEASURES, Measure
from results.measures import edition as edition_measures
from results.national import places
from results.phone_timeline import TimelineRules
from results.reference import Reference, bundled
from results.report_model import EvidenceLine, OtherLine, ReportData
from results.scoring import Evidence, Score, ScoringRules, compare, score

# Per (calendar, deadline rule): each answer's (within the deadline, business hours), by its
# (sent, answered) instants; replaced by each report's own (so it holds only current answers).
_Times = dict[tuple[datetime, datetime], tuple[bool, float]]
_TIMED: dict[tuple[WorkCalendar, DeadlineRule], _Times] = {}
_TIMED_LOCK = threading.Lock()
_CALENDARS = 4  # the newest few calendars (a changed closed day makes a new one)
# Each municipality's developments by everything they are made from (_developments).
_DEVELOPED: dict[Hashable, list[Development]] = {}


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


@dataclass(frozen=True)
class ReportPiece:
    """One municipality's part of a campaign's report data (:mod:`harness.campaign.by_target`):
    its evidence lines, its scores and its own e-mail measures, and the calendar's verdicts on
    its answers."""

    kommunkod: str
    lines: list[EvidenceLine]
    scores: list[Score]
    own: list[OwnValue]
    timed: _Times


@dataclass(frozen=True)
class _Whole:
    """A campaign's pieces put together."""

    lines: list[EvidenceLine]
    scores: list[Score]
    own: list[OwnValue]


def report_data(
    engine: Engine,
    settings: Settings,
    campaign_name: str | None,
    now: datetime,
    pieces: TargetPieces[ReportPiece] | None = None,
) -> ReportData:
    """The campaign's report data. Its evidence, scores and own measures are assembled from
    pieces per municipality: with ``pieces`` (the dashboard's memo), only the municipalities
    whose evidence changed since are made again; without, every one is made."""
    memo: TargetPieces[ReportPiece] = pieces if pieces is not None else TargetPieces()
    holding = settings.email.count_holding_replies
    calls = timeline_rules(settings)
    campaign = find_campaign(engine, campaign_name)
    if campaign is None:
        raise NoCampaign(campaign_name or "")
    rules = scoring_rules(settings, campaign)
    edition = rules.edition
    current = _assembled(engine, campaign, holding, calls, rules, memo)
    scores = current.scores
    with Session(engine) as session:
        targets = {
            t.kommunkod: t.name
            for t in session.exec(select(Target).where(Target.campaign_id == campaign.id))
        }
        counts = session.exec(
            select(Probe.channel, func.count(), func.count(col(Probe.claimed_at)))
            .where(Probe.campaign_id == campaign.id)
            .group_by(Probe.channel)
        ).all()
        earlier = session.exec(
            select(Campaign.name).where(Campaign.year < campaign.year).order_by(col(Campaign.year))
        ).all()
    trend: dict[str, list[tuple[int, float]]] = {}
    by_campaign: dict[tuple[int, str], list[Score]] = {}
    for name in [*earlier, campaign.name]:
        if name == campaign.name:
            # This campaign's scores are the ones above: its evidence is read once.
            year, scored = campaign.year, scores
        else:
            past_campaign = find_campaign(engine, name)
            assert past_campaign is not None  # named by the query above
            year = past_campaign.year
            # Each campaign of the trend by its own rules and closed days, as `kkik score`
            # scores it.
            past_rules = scoring_rules(settings, past_campaign)
            scored = _assembled(engine, past_campaign, holding, calls, past_rules, memo).scores
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
        evidence=current.lines,
        settings=_settings(settings, spec, edition),
        samples={channel: (planned, placed) for channel, planned, placed in counts},
        trend=trend,
        other=other,
        places=places(scores, MEASURES, campaign.year, published),
        developments=_developments(by_campaign, published, measures, targets),
        own=current.own,
        pending_replies=pending.replies,
        pending_where=pending.named(),
        pending_unassigned=pending.unassigned,
    )


def _assembled(
    engine: Engine,
    campaign: Campaign,
    holding: bool,
    calls: TimelineRules,
    rules: ScoringRules,
    memo: TargetPieces[ReportPiece],
) -> _Whole:
    """The campaign's report pieces, the changed ones made again, put together in the order a
    computation of the whole campaign gives: lines of e-mails first, then calls, by probe id;
    scores and own measures by kommunkod."""
    with engine.connect() as connection:
        prints = fingerprints(connection, campaign.id)
        # Everything a piece depends on beside its municipality's evidence; the saved scenario's
        # closed days are in the rules' calendar.
        context = (campaign.id, rules, holding, calls, everything_else(connection))

        def make(targets: Sequence[int]) -> dict[int, ReportPiece]:
            return _pieces(engine, connection, campaign, holding, calls, rules, targets)

        got = memo.pieces(("report", campaign.id), context, prints, make)
    ordered = sorted(got.values(), key=lambda p: p.kommunkod)
    timed: _Times = {}
    for piece in ordered:
        timed.update(piece.timed)
    with _TIMED_LOCK:
        key = (rules.calendar, rules.deadline_rule)
        _TIMED.pop(key, None)
        _TIMED[key] = timed
        while len(_TIMED) > _CALENDARS:
            del _TIMED[next(iter(_TIMED))]
    return _Whole(
        lines=sorted(
            (line for p in ordered for line in p.lines),
            key=lambda line: (line.channel != "email", line.probe_id),
        ),
        scores=[s for p in ordered for s in p.scores],
        own=[o for p in ordered for o in p.own],
    )


def _pieces(
    engine: Engine,
    connection: Connection,
    campaign: Campaign,
    holding: bool,
    calls: TimelineRules,
    rules: ScoringRules,
    targets: Sequence[int],
) -> dict[int, ReportPiece]:
    """The report pieces of these targets of ``campaign``, made from their evidence."""
    evidence = target_evidence(engine, connection, campaign.id, holding, calls, targets)
    areas = dict(
        connection.execute(
            select(col(Probe.id), col(Question.area))
            .join(Question, col(Probe.question_id) == col(Question.id))
            .where(col(Probe.campaign_id) == campaign.id, col(Probe.target_id).in_(targets))
        ).all()
    )
    codes = dict(
        connection.execute(
            select(col(Target.id), col(Target.kommunkod)).where(col(Target.id).in_(targets))
        ).all()
    )
    assessed = mail_assessments(connection, campaign.id or 0, targets)
    by_code: dict[str, list[Evidence]] = {}
    for e in evidence:
        by_code.setdefault(e.kommunkod, []).append(e)
    calendar, rule = rules.calendar, rules.deadline_rule
    # The calendar's verdicts are pure: those of the last report on this calendar and rule are
    # reused (nationally 4,600 answers, each walked through working days and office hours).
    with _TIMED_LOCK:
        known = _TIMED.get((calendar, rule), {})
    out = {}
    for target in targets:
        code = codes[target]
        mine = by_code.get(code, [])
        lines, timed = _lines(mine, areas, known, calendar, rule)
        known_hours = {pair: found[1] for pair, found in timed.items()}
        out[target] = ReportPiece(
            kommunkod=code,
            lines=lines,
            scores=score(mine, rules),
            own=mail_quality(mine, assessed, calendar, known_hours),
            timed=timed,
        )
    return out


def _lines(
    evidence: Sequence[Evidence],
    areas: Mapping[int | None, str],
    known: _Times,
    calendar: WorkCalendar,
    rule: DeadlineRule,
) -> tuple[list[EvidenceLine], _Times]:
    """The evidence lines of these scoring rows, and the calendar's verdicts on their answers."""
    lines = []
    timed: _Times = {}
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
    return lines, timed


def _developments(
    by_campaign: Mapping[tuple[int, str], Sequence[Score]],
    published: Sequence[KoladaValue],
    measures: Sequence[Measure],
    targets: Mapping[str, str],
) -> list[Development]:
    """:func:`results.development.developments`, made per municipality and reused while its
    scores of every campaign and its published values are the same (nationally 290 × the
    measures' series of frozen objects: most of a first view's assembly otherwise)."""
    scores_of: dict[str, list[tuple[tuple[int, str], Score]]] = {}
    for campaign, scores in by_campaign.items():
        for s in scores:
            scores_of.setdefault(s.kommunkod, []).append((campaign, s))
    published_of: dict[str, list[KoladaValue]] = {}
    for v in published:
        published_of.setdefault(v.municipality, []).append(v)
    which = tuple(m.id for m in measures)
    with _TIMED_LOCK:
        known = dict(_DEVELOPED)
    made: dict[Hashable, list[Development]] = {}
    out: list[Development] = []
    for kommunkod in sorted(set(targets)):
        mine = tuple(scores_of.get(kommunkod, ()))
        theirs = tuple(published_of.get(kommunkod, ()))
        key = (kommunkod, tuple(by_campaign), mine, theirs, which)
        found = known.get(key)
        if found is None:
            own = {k: [s for c, s in mine if c == k] for k in by_campaign}
            found = developments(own, theirs, measures, [kommunkod])
        made[key] = found
        out.extend(found)
    with _TIMED_LOCK:
        _DEVELOPED.clear()  # only the newest report's
        _DEVELOPED.update(made)
    return out


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
