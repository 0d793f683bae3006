"""Remove personal data older than the retention period; keep the evidence the scores rest on.

Personal data here is what the municipalities' staff wrote or who they are: the raw mail and
its text (names, signatures, direct numbers), the sender's name and address, the subject, the
notes of an assessment, and links to call recordings. What stays: every timestamp and verdict
(arrival and its source, classification, match, holding flag, the call events' statuses and
times, direct answer and bemötande), the raw mail's SHA-256 (proof of what was received) and its
size before the purge, so scores and reports are unchanged after a purge. The sender's address
is reduced to its domain (``*@ostersund.se``), which the report's matching evidence needs.

Setting: ``retention.personal_data_days`` (default 365). Each purge writes one audit entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from harness.channels.email.store import compress
from harness.services.base import Context, ServiceError
from harness.store.models import Assessment, AuditEntry, CallEvent, Message

EMPTY = compress(b"")
RECORDING_KEYS = ("RecordingUrl", "RecordingSid")


@dataclass(frozen=True)
class PurgeCounts:
    messages: int
    assessments: int
    call_events: int

    @property
    def total(self) -> int:
        return self.messages + self.assessments + self.call_events


def purge(
    engine: Engine, before: datetime, *, actor: str, at: datetime, dry_run: bool = False
) -> PurgeCounts:
    """Purge what was received or written before ``before``; return how many rows changed."""
    if dry_run:
        return _count(engine, before)
    with Session(engine) as session:
        messages = session.exec(
            select(Message).where(
                col(Message.fetched_at) < before, col(Message.raw_compressed) != EMPTY
            )
        ).all()
        assessments = session.exec(
            select(Assessment).where(
                col(Assessment.assessed_at) < before, col(Assessment.notes).is_not(None)
            )
        ).all()
        events = [
            e
            for e in session.exec(
                select(CallEvent).where(
                    col(CallEvent.received_at) < before, CallEvent.event == "recording"
                )
            ).all()
            if any(k in e.payload for k in RECORDING_KEYS)
        ]
        counts = PurgeCounts(len(messages), len(assessments), len(events))
        for m in messages:
            m.raw_compressed = EMPTY  # raw_size and raw_sha256 stay: what was received
            m.text_body = None
            m.html_body = None
            m.html_clean = None  # the cleaned copy is the same personal data
            m.html_refused = None
            m.from_name = None
            m.subject = None
            m.to_addresses = None
            if m.from_address:
                m.from_address = "*@" + m.from_address.rpartition("@")[2]
            session.add(m)
        for a in assessments:
            a.notes = None
            session.add(a)
        for e in events:
            e.payload = {k: v for k, v in e.payload.items() if k not in RECORDING_KEYS}
            session.add(e)
        session.add(
            AuditEntry(
                at=at,
                actor=actor,
                action="purge",
                entity="personal_data",
                entity_id=before.isoformat(),
                before=None,
                after={
                    "messages": counts.messages,
                    "assessments": counts.assessments,
                    "call_events": counts.call_events,
                },
                reason="retention.personal_data_days",
            )
        )
        session.commit()
    return counts


def _count(engine: Engine, before: datetime) -> PurgeCounts:
    """What :func:`purge` would change, counted by the database: the dashboard's confirmation
    page asks for it, and loading a year of raw mail only to count it would take seconds."""
    with Session(engine) as session:
        messages = session.exec(
            select(func.count()).where(
                col(Message.fetched_at) < before, col(Message.raw_compressed) != EMPTY
            )
        ).one()
        assessments = session.exec(
            select(func.count()).where(
                col(Assessment.assessed_at) < before, col(Assessment.notes).is_not(None)
            )
        ).one()
        payloads = session.exec(
            select(CallEvent.payload).where(
                col(CallEvent.received_at) < before, CallEvent.event == "recording"
            )
        ).all()
    events = sum(1 for payload in payloads if any(k in payload for k in RECORDING_KEYS))
    return PurgeCounts(messages, assessments, events)


@dataclass(frozen=True)
class Purged:
    counts: PurgeCounts
    before: datetime  # what came before this was purged (or would be, in a dry run)
    dry_run: bool


def purge_personal_data(
    ctx: Context, before: datetime | None = None, *, dry_run: bool = False
) -> Purged:
    """Purge personal data older than ``retention.personal_data_days`` (or ``before``)."""
    now = ctx.now()
    cutoff = before or now - timedelta(days=ctx.settings.retention.personal_data_days)
    if cutoff > now:
        raise ServiceError("purge_future", before=cutoff.isoformat(timespec="minutes"))
    counts = purge(ctx.engine, cutoff, actor=ctx.actor, at=now, dry_run=dry_run)
    return Purged(counts, cutoff, dry_run)
