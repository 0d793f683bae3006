"""A campaign's progress per municipality and channel (``kkik status``).

Nothing new is decided here: the counts come from the evidence as scoring reads it
(:func:`harness.campaign.evidence.campaign_evidence`). An e-mail is answered when scoring
counts its answer; a call reached a person when its timeline's verdict is "person"
(``results.phone_timeline``); a call waits for assessment when it was bridged, reached a person
and has no direct-answer verdict in the Assessment table yet, as ``kkik call list`` and the
scores' ``awaiting_assessment`` have it. What is planned, failed on our side or in doubt comes
from the probes' states.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select

from harness.campaign.evidence import NoCampaign, campaign_evidence
from harness.rules.measurement import timeline_rules
from harness.services.base import Context, ServiceError
from harness.services.sends import SEND_UNKNOWN
from harness.store.models import Channel, Probe, ProbeState, Target

__all__ = [
    "CampaignProgress",
    "EmailProgress",
    "PhoneProgress",
    "TargetProgress",
    "campaign_progress",
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


def campaign_progress(ctx: Context, name: str | None = None) -> CampaignProgress:
    """The progress of the campaign called ``name`` (the newest when None).

    ``no_campaign`` when there is none by that name, ``no_campaign_saved`` when there is none.
    """
    settings = ctx.settings
    try:
        evidence, campaign = campaign_evidence(
            ctx.engine, name, settings.email.count_holding_replies, timeline_rules(settings)
        )
    except NoCampaign:
        raise ServiceError("no_campaign" if name else "no_campaign_saved", name=name) from None
    with Session(ctx.engine) as session:
        targets = session.exec(
            select(Target).where(Target.campaign_id == campaign.id).order_by(col(Target.id))
        ).all()
        probes = session.exec(select(Probe).where(Probe.campaign_id == campaign.id)).all()
    by_id = {t.id: TargetProgress(t.kommunkod, t.name, t.paused) for t in targets}
    by_code = {t.kommunkod: t for t in by_id.values()}
    state_of: dict[str, str] = {}
    faults: dict[str, set[str]] = defaultdict(set)  # channel -> probe ids failed on our side
    channels: set[str] = set()
    in_doubt = done = planned = 0
    for probe in probes:
        state_of[str(probe.id)] = probe.state
        if probe.state == ProbeState.CANCELLED:
            continue
        channels.add(probe.channel)
        planned += 1
        done += probe.state in (ProbeState.SENT, ProbeState.COMPLETED)
        in_doubt += probe.state == ProbeState.SENDING and probe.outcome == SEND_UNKNOWN
        if probe.state == ProbeState.FAILED:
            faults[probe.channel].add(str(probe.id))
        if probe.state == ProbeState.PLANNED:
            target = by_id[probe.target_id]
            side = target.email if probe.channel == Channel.EMAIL else target.phone
            side.planned += 1
            if side.next_due is None or probe.planned_at < side.next_due:
                side.next_due = probe.planned_at
    for row in evidence:
        target = by_code[row.kommunkod]
        if row.harness_fault:
            faults[row.channel].add(row.probe_id)
        elif row.channel == "email":
            target.email.sent += 1
            target.email.answered += row.answered_at is not None
            target.email.waiting += (
                row.answered_at is None and state_of.get(row.probe_id) == ProbeState.SENT
            )
        else:
            target.phone.placed += 1
            reached = row.outcome == "person"
            target.phone.person += reached
            target.phone.to_assess += (
                reached and row.mode == "bridged" and row.direct_answer is None
            )
    owner = {str(p.id): by_id[p.target_id] for p in probes}
    for channel, ids in faults.items():
        for probe_id in ids:
            target = owner[probe_id]
            (target.email if channel == Channel.EMAIL else target.phone).faults += 1
    return CampaignProgress(
        name=campaign.name,
        paused=campaign.status == "paused",
        targets=list(by_id.values()),
        channels=frozenset(channels),
        planned=planned,
        done=done,
        in_doubt=in_doubt,
    )
