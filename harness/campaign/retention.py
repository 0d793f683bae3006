"""Personal data removed when its retention ends; the evidence the scores rest on stays.

Personal data here is what municipal staff and our testers wrote or who they are, by kind, each
with its own retention (``retention.<kind>_days``, else ``retention.personal_data_days``):

``mail``
    The raw mail and its text (names, signatures, direct numbers), the sender's name and
    address (reduced to its domain, ``*@ostersund.se``, which the matching evidence needs), the
    subject and recipients; and what a person copied out of a reply: an answer's sender details
    (name, title, phone, address) and the signature's proposal.
``notes``
    A person's notes on a call's or an answer's assessment.
``call_details``
    What Twilio's callbacks and our reconciliation say of the people on a call: phone numbers
    (the tester's own included), caller names and places, and speech transcripts.
``recordings``
    Recordings of calls: deleted at Twilio through its API, then their links here. A link
    stays until Twilio confirms (or says the recording is already gone), so a failed deletion
    is retried by the next purge rather than forgotten.
``audit``
    The values before and after in the audit trail that hold any of the above (notes, sender
    details), redacted in place; who did what and when stays.

What stays: every timestamp and verdict (arrival and its source, classification, match, the
call events' statuses and times, direct answer, bemötande, complete sender details yes or no,
the answer-quality rubric), the raw mail's SHA-256 and size, so scores and reports are the same
after a purge. Each purge writes one audit entry with its counts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from harness.channels.email.store import compress
from harness.core.config import Settings
from harness.store.models import Assessment, AuditEntry, CallEvent, MailAssessment, Message

EMPTY = compress(b"")
RECORDING_KEYS = ("RecordingUrl", "RecordingSid")
# Callback and REST keys that name a person or a number on a call (Twilio's voice request
# parameters and the REST call resource), and what was heard said.
CALL_PERSONAL_KEYS = frozenset(
    {"To", "From", "Called", "Caller", "CallerName", "ForwardedFrom", "StirPassportToken"}
    | {f"{who}{part}" for who in ("To", "From", "Called", "Caller")
       for part in ("City", "Country", "State", "Zip")}
    | {"to", "from", "to_formatted", "from_formatted", "forwarded_from", "caller_name"}
    | {"SpeechResult", "UnstableSpeechResult", "Digits", "note"}
)  # fmt: skip
# Audit values that are personal data (the services' before/after records).
AUDIT_PERSONAL_KEYS = frozenset(
    {"notes", "note", "sender_name", "sender_title", "sender_phone", "sender_address"}
    | {"from_address", "from_name", "subject"}
)
REDACTED = "[rensat]"
KINDS = ("mail", "notes", "call_details", "recordings", "audit")

#: Deletes one recording at Twilio by its SID: True when it is gone (deleted now or before).
DeleteRecording = Callable[[str], Awaitable[bool]]


@dataclass(frozen=True)
class Cutoffs:
    """What was received or written before these instants is purged, by kind."""

    mail: datetime
    notes: datetime
    call_details: datetime
    recordings: datetime
    audit: datetime

    @staticmethod
    def every(before: datetime) -> Cutoffs:
        return Cutoffs(before, before, before, before, before)

    @property
    def earliest(self) -> datetime:
        return min(self.mail, self.notes, self.call_details, self.recordings, self.audit)


def cutoffs(settings: Settings, now: datetime) -> Cutoffs:
    """Each kind's cutoff from its retention setting (or the general one)."""
    kept = settings.retention

    def days(kind: str) -> timedelta:
        value = getattr(kept, f"{kind}_days", None)
        return timedelta(days=value if value is not None else kept.personal_data_days)

    return Cutoffs(*(now - days(kind) for kind in KINDS))


@dataclass(frozen=True)
class PurgeCounts:
    messages: int = 0
    assessments: int = 0  # call assessment notes
    call_events: int = 0  # recording links (removed once the recording is gone at Twilio)
    mail_assessments: int = 0  # answers' sender details and notes
    call_details: int = 0  # call events with numbers, names or transcripts
    audit_entries: int = 0
    recordings_deleted: int = 0  # at Twilio
    recordings_kept: int = 0  # Twilio could not be asked or refused: tried again next time

    @property
    def total(self) -> int:
        return (
            self.messages + self.assessments + self.call_events + self.mail_assessments
            + self.call_details + self.audit_entries
        )  # fmt: skip


def _personal_payload(payload: Mapping[str, Any]) -> bool:
    return any(k in CALL_PERSONAL_KEYS for k in payload)


def _redacted(values: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if values is None:
        return None
    return {k: (REDACTED if k in AUDIT_PERSONAL_KEYS and v is not None else v)
            for k, v in values.items()}  # fmt: skip


def _audit_personal(entry: AuditEntry) -> bool:
    return any(
        k in AUDIT_PERSONAL_KEYS and v is not None and v != REDACTED
        for values in (entry.before or {}, entry.after or {})
        for k, v in values.items()
    )


def purge_stored(engine: Engine, cuts: Cutoffs, *, dry_run: bool = False) -> PurgeCounts:
    """Redact every kind but the recordings at Twilio (:func:`delete_recordings`)."""
    with Session(engine) as session:
        messages = session.exec(
            select(Message).where(
                col(Message.fetched_at) < cuts.mail, col(Message.raw_compressed) != EMPTY
            )
        ).all() if not dry_run else []  # fmt: skip
        message_count = len(messages) if not dry_run else _count_messages(session, cuts.mail)
        notes = session.exec(
            select(Assessment).where(
                col(Assessment.assessed_at) < cuts.notes, col(Assessment.notes).is_not(None)
            )
        ).all()
        answers = [
            a
            for a in session.exec(
                select(MailAssessment).where(col(MailAssessment.assessed_at) < cuts.mail)
            ).all()
            if _mail_assessment_personal(a)
        ]
        details = [
            e
            for e in session.exec(
                select(CallEvent).where(col(CallEvent.received_at) < cuts.call_details)
            ).all()
            if _personal_payload(e.payload)
        ]
        trail = [
            a
            for a in session.exec(
                select(AuditEntry).where(
                    col(AuditEntry.at) < cuts.audit, col(AuditEntry.action) != "purge"
                )
            ).all()
            if _audit_personal(a)
        ]
        counts = PurgeCounts(
            messages=message_count,
            assessments=len(notes),
            call_events=_recording_links(session, cuts.recordings),
            mail_assessments=len(answers),
            call_details=len(details),
            audit_entries=len(trail),
        )
        if dry_run:
            return counts
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
        for a in notes:
            a.notes = None
            session.add(a)
        for answer in answers:
            answer.sender_name = answer.sender_title = None
            answer.sender_phone = answer.sender_address = None
            answer.proposed = None
            answer.notes = None  # sender_complete and the rubric stay: they are the measures
            session.add(answer)
        for e in details:
            e.payload = {k: v for k, v in e.payload.items() if k not in CALL_PERSONAL_KEYS}
            session.add(e)
        for entry in trail:
            entry.before = _redacted(entry.before)
            entry.after = _redacted(entry.after)
            session.add(entry)
        session.commit()
    return counts


def _mail_assessment_personal(a: MailAssessment) -> bool:
    return any(
        v is not None
        for v in (a.sender_name, a.sender_title, a.sender_phone, a.sender_address, a.proposed,
                  a.notes)
    )  # fmt: skip


def _count_messages(session: Session, before: datetime) -> int:
    return int(
        session.exec(
            select(func.count()).where(
                col(Message.fetched_at) < before, col(Message.raw_compressed) != EMPTY
            )
        ).one()
    )


def _recording_events(session: Session, before: datetime) -> list[CallEvent]:
    return [
        e
        for e in session.exec(
            select(CallEvent).where(
                col(CallEvent.received_at) < before, CallEvent.event == "recording"
            )
        ).all()
        if any(k in e.payload for k in RECORDING_KEYS)
    ]


def _recording_links(session: Session, before: datetime) -> int:
    return len(_recording_events(session, before))


async def delete_recordings(
    engine: Engine, before: datetime, delete: DeleteRecording | None
) -> tuple[int, int, int]:
    """Delete the recordings made before ``before`` at Twilio, then their links here.

    Returns (recordings deleted at Twilio, links removed, recordings kept). Without a way to ask
    Twilio (no phone channel) nothing is removed: a link is only forgotten once its recording
    is gone, or the recording would stay at Twilio with nothing here to find it by.
    """
    with Session(engine) as session:
        events = _recording_events(session, before)
    sids: dict[str, list[int]] = {}
    for e in events:
        sid = e.payload.get("RecordingSid")
        if isinstance(sid, str):
            sids.setdefault(sid, []).append(e.id or 0)
    orphans = [e.id or 0 for e in events if not isinstance(e.payload.get("RecordingSid"), str)]
    gone: list[int] = list(orphans)  # a URL without a SID cannot be deleted there: drop it
    deleted = kept = 0
    for sid, ids in sids.items():
        if delete is not None and await delete(sid):
            deleted += 1
            gone += ids
        else:
            kept += 1
    if gone:
        with Session(engine) as session:
            for row in session.exec(select(CallEvent).where(col(CallEvent.id).in_(gone))).all():
                row.payload = {k: v for k, v in row.payload.items() if k not in RECORDING_KEYS}
                session.add(row)
            session.commit()
    return deleted, len(gone), kept


async def purge_all(
    engine: Engine,
    cuts: Cutoffs,
    delete: DeleteRecording | None,
    *,
    actor: str,
    at: datetime,
    dry_run: bool = False,
    reason: str = "retention",
) -> PurgeCounts:
    """Every kind, the recordings at Twilio included, and one audit entry with the counts."""
    stored = purge_stored(engine, cuts, dry_run=dry_run)
    if dry_run:
        return stored
    deleted, links, kept = await delete_recordings(engine, cuts.recordings, delete)
    counts = PurgeCounts(
        messages=stored.messages,
        assessments=stored.assessments,
        call_events=links,
        mail_assessments=stored.mail_assessments,
        call_details=stored.call_details,
        audit_entries=stored.audit_entries,
        recordings_deleted=deleted,
        recordings_kept=kept,
    )
    with Session(engine) as session:
        session.add(
            AuditEntry(
                at=at,
                actor=actor,
                action="purge",
                entity="personal_data",
                entity_id=cuts.earliest.isoformat(),
                before=None,
                after={f.name: getattr(counts, f.name) for f in fields(counts)},
                reason=reason,
            )
        )
        session.commit()
    return counts


def last_purge(engine: Engine) -> datetime | None:
    with Session(engine) as session:
        found = session.exec(
            select(func.max(AuditEntry.at)).where(AuditEntry.action == "purge")
        ).one()
    return found


async def purge_if_due(
    engine: Engine,
    settings: Settings,
    now: datetime,
    delete: DeleteRecording | None,
    *,
    actor: str = "runner",
) -> PurgeCounts | None:
    """The scheduled purge (``kkik run``): once every ``retention.purge_every_hours`` since the
    last purge of any kind (the audit trail says when), by the retention settings."""
    every = settings.retention.purge_every_hours
    if every == 0:
        return None
    last = last_purge(engine)
    if last is not None and now - _aware(last, now) < timedelta(hours=every):
        return None
    return await purge_all(
        engine, cutoffs(settings, now), delete, actor=actor, at=now, reason="schedule"
    )


def _aware(at: datetime, like: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=like.tzinfo)


__all__ = [
    "KINDS",
    "Cutoffs",
    "DeleteRecording",
    "PurgeCounts",
    "cutoffs",
    "delete_recordings",
    "purge_all",
    "purge_if_due",
    "purge_stored",
]
