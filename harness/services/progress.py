"""A campaign's progress per municipality and channel (``kkik status``).

Nothing new is decided here: every probe sent or placed is judged as the evidence reader judges
it for scoring (:func:`harness.campaign.evidence.campaign_evidence`). An e-mail is answered when
the answer rule counts one of its replies (:func:`results.email_log.answer` over the replies
read by :func:`harness.channels.email.replies.replies_from`); a call reached a person when its
timeline's verdict is "person" (:func:`harness.channels.phone.facts.call_line`,
``results.phone_timeline``); a call waits for assessment when it was bridged, reached a person
and has no direct-answer verdict in the Assessment table yet, as ``kkik call list`` and the
scores' ``awaiting_assessment`` have it. What is planned, failed on our side or in doubt comes
from the probes' states.

The rows are read with SQLAlchemy Core over :mod:`harness.store.core_tables`, a handful of
queries, without the model classes or the evidence reader's modules: a cold ``kkik status``
must answer within half a second (issue 16, item 8). tests/integration/test_status_counts.py
holds every probe's verdict here to the evidence reader's, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, select

from harness.channels.email.replies import replies_from
from harness.channels.phone.facts import call_line
from harness.rules.measurement import timeline_rules
from harness.services.base import Context, ServiceError
from harness.store import core_tables as t
from results.answer_rule import REVIEW_BELOW
from results.email_log import answer
from results.phone_timeline import TimelineRules

if TYPE_CHECKING:
    from sqlalchemy import Row

    AnyRow = Row[*tuple[Any, ...]]  # a row of any columns, read by name

__all__ = [
    "CampaignProgress",
    "EmailProgress",
    "PhoneProgress",
    "ProbeVerdict",
    "StoredProgress",
    "TargetProgress",
    "campaign_progress",
    "read_progress",
    "tally",
]


@dataclass
class EmailProgress:
    planned: int = 0  # not sent yet
    sent: int = 0  # accepted by the municipality's mail system (our faults excluded)
    answered: int = 0  # with an answer that counts (a person's reply, linked to the question)
    waiting: int = 0  # sent, no answer yet, not given up
    faults: int = 0  # failed on our side: excluded from the scores and replaced
    next_due: datetime | None = None  # the earliest planned question


@dataclass
class PhoneProgress:
    planned: int = 0  # not placed yet
    placed: int = 0  # dialled (our faults excluded)
    person: int = 0  # reached a person, by the call's timeline
    to_assess: int = 0  # bridged, reached a person, no direct-answer verdict yet
    faults: int = 0
    next_due: datetime | None = None  # the earliest planned call


@dataclass
class TargetProgress:
    kommunkod: str
    name: str
    paused: bool
    email: EmailProgress = field(default_factory=EmailProgress)
    phone: PhoneProgress = field(default_factory=PhoneProgress)


@dataclass(frozen=True)
class CampaignProgress:
    name: str
    paused: bool
    targets: list[TargetProgress]
    channels: frozenset[str]  # the channels the plan has probes on (withdrawn ones aside)
    planned: int  # every probe not withdrawn
    done: int  # sent or completed
    in_doubt: int  # sends a person must decide on (``kkik resolve``)

    @property
    def next_due(self) -> datetime | None:
        """The earliest planned question or call of the campaign."""
        due = [s.next_due for t in self.targets for s in (t.email, t.phone) if s.next_due]
        return min(due, default=None)


@dataclass(frozen=True, order=True)
class ProbeVerdict:
    """What scoring's evidence says of one question sent or call placed, as status counts it."""

    probe_id: int
    channel: str
    fault: bool  # failed on our side: not counted as sent or placed
    answered: bool = False  # e-mail: a reply counts as its answer
    person: bool = False  # phone: the timeline's outcome is "person"
    to_assess: bool = False  # phone: bridged, a person reached, no direct-answer verdict


@dataclass(frozen=True)
class StoredProgress:
    """A campaign's rows as status reads them: the plan's probes and the evidence's verdicts."""

    name: str
    status: str
    targets: Sequence[AnyRow]  # id, kommunkod, name, paused; in the order they were added
    probes: Sequence[AnyRow]  # id, target_id, channel, mode, state, outcome, planned_at, ...
    verdicts: list[ProbeVerdict]


def campaign_progress(ctx: Context, name: str | None = None) -> CampaignProgress:
    """The progress of the campaign called ``name`` (the newest when None).

    ``no_campaign`` when there is none by that name, ``no_campaign_saved`` when there is none.
    """
    settings = ctx.settings
    stored = read_progress(
        ctx.engine, name, settings.email.count_holding_replies, timeline_rules(settings)
    )
    if stored is None:
        raise ServiceError("no_campaign" if name else "no_campaign_saved", name=name)
    return tally(stored)


def read_progress(
    engine: Engine, name: str | None, count_holding: bool, call_rules: TimelineRules
) -> StoredProgress | None:
    """The campaign called ``name`` (the newest when None) with its verdicts; None if none.

    The probes the evidence reader reads are judged here by the same functions: an e-mail sent
    (or failed) unless the municipality's server refused it, a call once claimed.
    """
    p = t.probe
    with engine.connect() as connection:
        query = select(t.campaign.c.id, t.campaign.c.name, t.campaign.c.status)
        if name:
            query = query.where(t.campaign.c.name == name)
        found = connection.execute(query.order_by(t.campaign.c.id.desc()).limit(1)).first()
        if found is None:
            return None
        ours = p.c.campaign_id == found.id
        targets = connection.execute(
            select(t.target.c.id, t.target.c.kommunkod, t.target.c.name, t.target.c.paused)
            .where(t.target.c.campaign_id == found.id)
            .order_by(t.target.c.id)
        ).all()
        probes = connection.execute(
            select(
                p.c.id,
                p.c.target_id,
                p.c.channel,
                p.c.mode,
                p.c.state,
                p.c.outcome,
                p.c.planned_at,
                p.c.sent_at,
                p.c.claimed_at,
            ).where(ours)
        ).all()
        m = t.message
        messages = connection.execute(
            select(
                m.c.id,
                m.c.probe_id,
                m.c.arrived_at,
                m.c.classification,
                m.c.holding_reply,
                m.c.match_method,
                m.c.match_confidence,
            )
            .select_from(m.join(p, m.c.probe_id == p.c.id))
            .where(ours, p.c.channel == t.EMAIL)
        ).all()
        e = t.call_event
        events = connection.execute(
            select(
                e.c.probe_id,
                e.c.parent_call_sid,
                e.c.event,
                e.c.status,
                e.c.sequence_number,
                e.c.occurred_at,
                e.c.payload,
            )
            .select_from(e.join(p, e.c.probe_id == p.c.id))
            .where(ours, p.c.channel == t.PHONE, p.c.claimed_at.is_not(None))
            .order_by(e.c.id)
        ).all()
        a = t.assessment
        direct = dict(
            connection.execute(
                select(a.c.probe_id, a.c.direct_answer)
                .select_from(a.join(p, a.c.probe_id == p.c.id))
                .where(ours, p.c.channel == t.PHONE)
            ).all()
        )
    replies: dict[int, list[AnyRow]] = defaultdict(list)
    for reply in messages:
        replies[reply.probe_id].append(reply)
    calls: dict[int, list[AnyRow]] = defaultdict(list)
    for event in events:
        calls[event.probe_id].append(event)
    verdicts = []
    for row in probes:
        if row.channel == t.EMAIL:
            failed = row.state == t.FAILED
            # Never sent, or refused by the municipality's server: no evidence to count.
            if (row.sent_at is None and not failed) or row.outcome == "refused":
                continue
            found_answer = answer(
                replies_from(replies[row.id], REVIEW_BELOW), count_holding_replies=count_holding
            )
            verdicts.append(
                ProbeVerdict(row.id, t.EMAIL, failed, answered=found_answer is not None)
            )
        elif row.claimed_at is not None:
            line = call_line(row.mode, calls[row.id], call_rules)
            # A call that never got going (the API refused it, or refused the scenario's number)
            # says nothing about the municipality's phone service: a harness fault.
            never_placed = row.outcome in ("harness_fault", "rejected") and line.outcome is None
            person = line.outcome == "person"
            verdicts.append(
                ProbeVerdict(
                    row.id,
                    t.PHONE,
                    never_placed or line.outcome == "failed",
                    person=person,
                    to_assess=person and line.mode == "bridged" and direct.get(row.id) is None,
                )
            )
    return StoredProgress(found.name, found.status, targets, probes, verdicts)


def tally(stored: StoredProgress) -> CampaignProgress:
    """The counts per municipality and channel of a campaign's probes and verdicts."""
    by_id = {
        row.id: TargetProgress(row.kommunkod, row.name, bool(row.paused)) for row in stored.targets
    }
    state_of: dict[int, str] = {}
    owner: dict[int, TargetProgress] = {}
    faults: dict[str, set[int]] = defaultdict(set)  # channel -> probe ids failed on our side
    channels: set[str] = set()
    in_doubt = done = planned = 0
    for probe in stored.probes:
        state_of[probe.id] = probe.state
        owner[probe.id] = by_id[probe.target_id]
        if probe.state == t.CANCELLED:
            continue
        channels.add(probe.channel)
        planned += 1
        done += probe.state in (t.SENT, t.COMPLETED)
        in_doubt += probe.state == t.SENDING and probe.outcome == t.SEND_UNKNOWN
        if probe.state == t.FAILED:
            faults[probe.channel].add(probe.id)
        if probe.state == t.PLANNED:
            target = by_id[probe.target_id]
            side = target.email if probe.channel == t.EMAIL else target.phone
            side.planned += 1
            if side.next_due is None or probe.planned_at < side.next_due:
                side.next_due = probe.planned_at
    for verdict in stored.verdicts:
        target = owner[verdict.probe_id]
        if verdict.fault:
            faults[verdict.channel].add(verdict.probe_id)
        elif verdict.channel == t.EMAIL:
            target.email.sent += 1
            target.email.answered += verdict.answered
            target.email.waiting += not verdict.answered and state_of[verdict.probe_id] == t.SENT
        else:
            target.phone.placed += 1
            target.phone.person += verdict.person
            target.phone.to_assess += verdict.to_assess
    for channel, ids in faults.items():
        for probe_id in ids:
            target = owner[probe_id]
            (target.email if channel == t.EMAIL else target.phone).faults += 1
    return CampaignProgress(
        name=stored.name,
        paused=stored.status == "paused",
        targets=list(by_id.values()),
        channels=frozenset(channels),
        planned=planned,
        done=done,
        in_doubt=in_doubt,
    )
