"""A campaign's evidence read from the database: for scoring, the e-mail log and the calls.

One place reads what the probes, replies, call events and assessments say, so ``kkik score``,
``kkik export``, ``kkik report``, the dashboard and the demo cannot disagree.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, Row, Select, func, select
from sqlmodel import Session, col

from harness.channels.email.replies import replies_from
from harness.channels.phone.facts import call_line
from harness.rules.calendars import scenario_closed_days
from harness.store.models import (
    Assessment,
    CallEvent,
    Campaign,
    CaseNumber,
    Channel,
    Message,
    Probe,
    ProbeState,
    Question,
    ReferenceValue,
    Target,
)
from harness.store.othermeasures import find_campaign
from results.answer_rule import REVIEW_BELOW
from results.email_log import ProbeEvidence, ReplyEvidence, answer
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
    their timelines (recomputed from the stored events) and assessments.

    Read as columns (SQLAlchemy Core), never as ORM objects: nationally that is 66,000 call
    events, whose loading as objects took most of a dashboard's first view. A call's timeline
    is taken from the engine's memo when its events are the same as last time
    (:func:`_timelines`)."""
    campaign = find_campaign(engine, name)
    if campaign is None:
        raise NoCampaign(name or "")
    with engine.connect() as connection:
        evidence = target_evidence(engine, connection, campaign.id, count_holding, call_rules)
    return evidence, campaign


def target_evidence(
    engine: Engine,
    connection: Connection,
    campaign_id: int | None,
    count_holding: bool,
    call_rules: TimelineRules | None = None,
    targets: Sequence[int] | None = None,
) -> list[Evidence]:
    """:func:`campaign_evidence`'s scoring rows, of the campaign's probes of these ``targets``
    only when given (the dashboard's pieces per municipality, :mod:`harness.campaign.by_target`);
    e-mails first, then calls, each by probe id."""
    rules = call_rules or TimelineRules()

    def mine(query: Select[*tuple[Any, ...]]) -> Select[*tuple[Any, ...]]:
        return query if targets is None else query.where(col(Probe.target_id).in_(targets))

    rows = connection.execute(
        mine(_probe_columns())
        .where(col(Probe.campaign_id) == campaign_id, col(Probe.channel) == Channel.EMAIL)
        .where(col(Probe.sent_at).is_not(None) | (col(Probe.state) == ProbeState.FAILED))
        .order_by(col(Probe.id))
    ).all()
    replies = _replies(
        connection,
        mine(_campaign_probes(campaign_id, Channel.EMAIL)),
        REVIEW_BELOW,
        partial=targets is not None,
    )
    calls = connection.execute(
        mine(_probe_columns())
        .where(col(Probe.campaign_id) == campaign_id, col(Probe.channel) == Channel.PHONE)
        .where(col(Probe.claimed_at).is_not(None))
        .order_by(col(Probe.id))
    ).all()
    placed = mine(_campaign_probes(campaign_id, Channel.PHONE))
    lines = _timelines(engine, connection, calls, placed, rules)
    assessments = _assessments(connection, placed)
    evidence = []
    for probe in rows:
        never_sent = probe.sent_at is None and probe.state != ProbeState.FAILED
        if probe.outcome == "refused" or never_sent:
            continue
        found = answer(replies.get(probe.id, []), count_holding_replies=count_holding)
        evidence.append(
            Evidence(
                kommunkod=probe.kommunkod,
                channel="email",
                probe_id=str(probe.id),
                sent_at=probe.sent_at or probe.planned_at,
                answered_at=found.arrived_at if found else None,
                harness_fault=probe.state == ProbeState.FAILED,
            )
        )
    for probe in calls:
        line = lines[probe.id]
        # A call that never got going (the API refused it, or refused the scenario's number as
        # invalid) says nothing about the municipality's phone service: a harness fault.
        never_placed = probe.outcome in ("harness_fault", "rejected") and line.outcome is None
        fault = never_placed or line.outcome == "failed"
        assessment = assessments.get(probe.id)
        evidence.append(
            Evidence(
                kommunkod=probe.kommunkod,
                channel="phone",
                probe_id=str(probe.id),
                sent_at=line.dial_at or probe.sent_at or probe.claimed_at or probe.planned_at,
                harness_fault=fault,
                mode=line.mode,
                outcome=line.outcome,
                person_at=line.person_at,
                direct_answer=assessment.direct_answer if assessment else None,
                bemotande=assessment.bemotande if assessment else None,
                case_officer=_case_officer(line, assessment),
                bemotande_2011=assessment.bemotande_2011 if assessment else None,
            )
        )
    return evidence


def _case_officer(line: CallTimeline, assessment: Row[*tuple[Any, ...]] | None) -> bool | None:
    """Edition 2011's "kontakt med handläggare": what the assessment says, else the tester's
    mark during the call. Only a tester can tell, so an automated call says nothing (None)."""
    if line.mode != "bridged":
        return None
    if assessment is not None and assessment.case_officer is not None:
        return bool(assessment.case_officer)
    return line.case_officer_at is not None


def imported_national(engine: Engine) -> tuple[Reference, ...]:
    """Country-wide values imported with ``kkik reference import``; they win over the bundled."""
    with Session(engine) as session:
        rows = session.scalars(
            select(ReferenceValue).where(col(ReferenceValue.municipality) == "0000")
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
    """Every sent e-mail's evidence for the e-mail log (of one municipality, sent since a day,
    when given), in the order sent."""
    return [p for _, p in target_email_evidence(engine, kommunkod, since, zone, review_below)]


def target_email_evidence(
    engine: Engine,
    kommunkod: str | None,
    since: date | None,
    zone: str,
    review_below: float,
    targets: Sequence[int] | None = None,
) -> list[tuple[int, ProbeEvidence]]:
    """:func:`email_evidence` with each probe's target id; of these ``targets`` only when given
    (the e-mail log's pieces, :mod:`harness.campaign.by_target`)."""
    query = (
        select(
            col(Probe.id),
            col(Probe.target_id),
            col(Probe.campaign_id),
            col(Probe.sent_at),
            col(Probe.outcome),
            col(Target.kommunkod),
            col(Target.name),
            col(Question.area),
        )
        .join(Target, col(Probe.target_id) == col(Target.id))
        .outerjoin(Question, col(Probe.question_id) == col(Question.id))
        .where(col(Probe.channel) == Channel.EMAIL)
        .where(col(Probe.sent_at).is_not(None))
        .order_by(col(Probe.sent_at))
    )
    if kommunkod:
        query = query.where(col(Target.kommunkod) == kommunkod)
    if targets is not None:
        query = query.where(col(Probe.target_id).in_(targets))
    if since:
        start = datetime(since.year, since.month, since.day, tzinfo=ZoneInfo(zone))
        query = query.where(col(Probe.sent_at) >= start)
    with engine.connect() as connection:
        found = connection.execute(query).all()
        ids = [p.id for p in found]
        replies = _replies(connection, ids, review_below, partial=targets is not None)
        # The log may span campaigns: each probe carries its own campaign's closed days, read
        # once per campaign rather than once per probe.
        campaign_ids = {p.campaign_id for p in found}
        closed = {
            campaign_id: scenario_closed_days(scenario or {})
            for campaign_id, scenario in connection.execute(
                select(col(Campaign.id), col(Campaign.scenario)).where(
                    col(Campaign.id).in_(campaign_ids)
                )
            ).all()
        }
        numbers: dict[int, list[str]] = {}
        for probe_id, number in connection.execute(
            select(col(CaseNumber.probe_id), col(CaseNumber.number))
            .where(col(CaseNumber.probe_id).in_(ids))
            .order_by(col(CaseNumber.id))
        ).all():
            numbers.setdefault(probe_id, []).append(number)
    return [
        (
            p.target_id,
            ProbeEvidence(
                probe_id=p.id,
                kommunkod=p.kommunkod,
                target=p.name,
                area=p.area,
                sent_at=p.sent_at,
                outcome=p.outcome,
                replies=tuple(replies.get(p.id, ())),
                closed_days=closed.get(p.campaign_id, frozenset()),
                case_numbers=tuple(numbers.get(p.id, ())),
            ),
        )
        for p in found
    ]


def call_rows(
    engine: Engine, rules: TimelineRules, probe_id: int | None = None
) -> list[dict[str, Any]]:
    """Every placed call with its timeline and assessment, as plain data (CLI, JSON, web), in
    the order placed."""
    return [row for _, _, row in target_call_rows(engine, rules, probe_id)]


def target_call_rows(
    engine: Engine,
    rules: TimelineRules,
    probe_id: int | None = None,
    targets: Sequence[int] | None = None,
) -> list[tuple[int, tuple[datetime, int], dict[str, Any]]]:
    """:func:`call_rows` with each call's target id and its place in the order (when claimed,
    the probe's id); of these ``targets`` only when given (the calls page's pieces,
    :mod:`harness.campaign.by_target`)."""
    query = (
        _probe_columns()
        .add_columns(col(Probe.target_id))
        .where(col(Probe.channel) == Channel.PHONE, col(Probe.claimed_at).is_not(None))
        .order_by(col(Probe.claimed_at), col(Probe.id))
    )
    placed = select(col(Probe.id)).where(col(Probe.channel) == Channel.PHONE)
    if probe_id is not None:
        query = query.where(col(Probe.id) == probe_id)
        placed = placed.where(col(Probe.id) == probe_id)
    if targets is not None:
        query = query.where(col(Probe.target_id).in_(targets))
        placed = placed.where(col(Probe.target_id).in_(targets))
    with engine.connect() as connection:
        found = connection.execute(query).all()
        lines = _timelines(engine, connection, found, placed, rules)
        assessments = _assessments(connection, placed)
    with _MEMO_LOCK:
        memo = _ROWS.setdefault(engine, {})
    rows = []
    for probe in found:
        place = (probe.claimed_at, probe.id)
        line = lines[probe.id]
        assessment = assessments.get(probe.id)
        # The row of the same probe columns, the same timeline object (the memo's, so one made
        # from the same events) and the same assessment, made before: reused (as a copy).
        key = (tuple(probe), tuple(assessment) if assessment else None)
        known = memo.get(probe.id)
        if known is not None and known[0] == key and known[1] is line:
            rows.append((probe.target_id, place, dict(known[2], notes=list(known[2]["notes"]))))
            continue
        bridged = probe.mode != "automated"
        row = {
            "probe": probe.id,
            "kommunkod": probe.kommunkod,
            "name": probe.name,
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
        memo[probe.id] = (key, line, row)
        rows.append((probe.target_id, place, dict(row)))
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


def _probe_columns() -> Select[*tuple[Any, ...]]:
    """A probe's columns the evidence is read from, with its municipality."""
    return select(
        col(Probe.id),
        col(Probe.sent_at),
        col(Probe.planned_at),
        col(Probe.claimed_at),
        col(Probe.state),
        col(Probe.outcome),
        col(Probe.mode),
        col(Probe.call_sid),
        col(Target.kommunkod),
        col(Target.name),
    ).join(Target, col(Probe.target_id) == col(Target.id))


def _campaign_probes(campaign_id: int | None, channel: Channel) -> Select[*tuple[Any, ...]]:
    return select(col(Probe.id)).where(
        col(Probe.campaign_id) == campaign_id, col(Probe.channel) == channel
    )


ProbeIds = Select[*tuple[Any, ...]] | list[int]


def _replies(
    connection: Connection, probes: ProbeIds, review_below: float, partial: bool = False
) -> dict[int, list[ReplyEvidence]]:
    """The stored replies of these probes (ids, or a query of them) as reply evidence, read as
    the columns the answer rule needs (:func:`harness.channels.email.replies.replies_from`).

    ``partial``: these are some municipalities' probes (a piece, :mod:`by_target`), so the
    memo keeps the others' replies too; a whole read replaces it (dropping replies since
    changed)."""
    rows = connection.execute(
        select(
            col(Message.id),
            col(Message.probe_id),
            col(Message.arrived_at),
            col(Message.classification),
            col(Message.holding_reply),
            col(Message.match_method),
            col(Message.match_confidence),
        )
        .where(col(Message.probe_id).in_(probes))
        .order_by(col(Message.id))
    ).all()
    # A reply's evidence is a pure function of these columns and the review threshold: the
    # objects made last time are reused for the rows that are the same (nationally 7,000 of
    # them, most of the time all but one).
    with _MEMO_LOCK:
        known = _READ.get(review_below, {})
    keys = [tuple(m) for m in rows]
    new = [m for m, key in zip(rows, keys, strict=True) if key not in known]
    made = dict(zip((tuple(m) for m in new), replies_from(new, review_below), strict=True))
    replies: dict[int, list[ReplyEvidence]] = {}
    seen: dict[tuple[Any, ...], ReplyEvidence] = {}
    for m, key in zip(rows, keys, strict=True):
        evidence = known[key] if key in known else made[key]
        seen[key] = evidence
        replies.setdefault(m.probe_id, []).append(evidence)
    with _MEMO_LOCK:
        if partial and review_below in _READ and len(_READ[review_below]) < _REPLIES_KEPT:
            _READ[review_below].update(seen)
        else:
            _READ.clear()  # only the newest threshold's: the configuration has one
            _READ[review_below] = seen
    return replies


def _assessments(connection: Connection, probes: ProbeIds) -> dict[int, Row[*tuple[Any, ...]]]:
    return {
        a.probe_id: a
        for a in connection.execute(
            select(
                col(Assessment.probe_id),
                col(Assessment.direct_answer),
                col(Assessment.bemotande),
                col(Assessment.bemotande_2011),
                col(Assessment.case_officer),
            ).where(col(Assessment.probe_id).in_(probes))
        )
    }


# A call's timeline is a pure function of its mode, the rules and its events. Call events are
# only ever added, never deleted or moved to another probe, and never changed in what a
# timeline reads (the retention purge removes recording details from recording events, which
# timelines ignore): so a probe's events are known by their count, highest and summed ids, and
# a timeline computed once is reused, per engine, while those are the same.
_EventKey = tuple[str | None, TimelineRules, tuple[int, int, int]]
_MEMO: weakref.WeakKeyDictionary[Engine, dict[int, tuple[_EventKey, CallTimeline]]] = (
    weakref.WeakKeyDictionary()
)
_MEMO_LOCK = threading.Lock()
# Per review threshold: each stored reply's evidence by the columns it was read from (_replies);
# keyed by content, so databases cannot be mixed up.
_READ: dict[float, dict[tuple[Any, ...], ReplyEvidence]] = {}
# Per engine and probe: the call row last made, with what it was made from (call_rows).
_ROWS: weakref.WeakKeyDictionary[Engine, dict[int, tuple[Any, CallTimeline, dict[str, Any]]]] = (
    weakref.WeakKeyDictionary()
)


def _timelines(
    engine: Engine,
    connection: Connection,
    probes: Sequence[Row[*tuple[Any, ...]]],
    placed: ProbeIds,
    rules: TimelineRules,
) -> dict[int, CallTimeline]:
    """The timeline of each of these phone probes (``placed`` selects their ids, or more).

    For all calls only a count of their events is read (one row per call, aggregated by the
    database); the events themselves only for calls whose events differ from those the memo's
    timeline was made from (a new callback, a mark, a call not seen yet), so a callback during a
    national campaign recomputes one call, not 7,000."""
    with _MEMO_LOCK:
        memo = _MEMO.setdefault(engine, {})
    counted = {
        probe_id: (count, highest, total)
        for probe_id, count, highest, total in connection.execute(
            select(
                col(CallEvent.probe_id),
                func.count(),
                func.max(CallEvent.id),
                func.sum(CallEvent.id),
            )
            .where(col(CallEvent.probe_id).in_(placed))
            .group_by(col(CallEvent.probe_id))
        )
    }
    lines: dict[int, CallTimeline] = {}
    missing = []
    for probe in probes:
        known = memo.get(probe.id)
        key = (probe.mode, rules, counted.get(probe.id, _NO_EVENTS))
        if known is not None and known[0] == key:
            lines[probe.id] = known[1]
        else:
            missing.append(probe)
    if not missing:
        return lines
    events: dict[int, list[Row[*tuple[Any, ...]]]] = {p.id: [] for p in missing}
    wanted = [p.id for p in missing]
    for chunk in range(0, len(wanted), _CHUNK):
        for row in connection.execute(
            select(
                col(CallEvent.id),
                col(CallEvent.probe_id),
                col(CallEvent.event),
                col(CallEvent.status),
                col(CallEvent.parent_call_sid),
                col(CallEvent.sequence_number),
                col(CallEvent.occurred_at),
                col(CallEvent.payload),
            )
            .where(col(CallEvent.probe_id).in_(wanted[chunk : chunk + _CHUNK]))
            .order_by(col(CallEvent.id))
        ).all():
            events[row.probe_id].append(row)
    for probe in missing:
        rows = events[probe.id]
        line = call_line(probe.mode, rows, rules)
        lines[probe.id] = line
        # Keyed by the events actually read (one may have arrived since they were counted).
        ids = [r.id for r in rows]
        read = (len(ids), max(ids), sum(ids)) if ids else _NO_EVENTS
        memo[probe.id] = ((probe.mode, rules, read), line)
    return lines


_NO_EVENTS = (0, 0, 0)
# Replies kept in the memo at most when pieces add theirs to it (a changed reply leaves its old
# columns behind): beyond, a piece's read starts it afresh.
_REPLIES_KEPT = 200_000
_CHUNK = 5000  # ids per IN list (SQLite allows 32,766 bound parameters)
