"""Phone evidence in the database: raw Twilio events in, timelines and outcomes out.

Every callback is stored as it arrived (:class:`~harness.store.models.CallEvent`), once: the dedupe
key is (CallSid, SequenceNumber) for status callbacks, the recording SID for recordings, and a
digest of what the signature covers for TwiML requests (:func:`dedupe_key`), so Twilio's retries,
duplicates and replays are idempotent. Nothing is derived at storage time; the timeline is computed
from the events whenever it is needed (:func:`results.phone_timeline.call_timeline`), so a late or
out-of-order callback simply changes the next computation.

Which leg an event belongs to is read from the event itself: a callback with ``ParentCallSid``
is the second leg that ``<Dial>`` opened to the switchboard (bridged mode); without one it is the
call we created, which is the tester's phone in bridged mode and the switchboard in automated
mode. That reading is :mod:`harness.channels.phone.facts`, which needs no session.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from harness.channels.phone.facts import (
    DIAL_ENDED,
    FINAL_STATUSES,
    MARK_EVENTS,
    MARK_PERSON,
    MARK_TRANSFER,
    RECONCILE,
    RECORDING,
    SPEECH_PERSON,
    STATUS,
    VOICE,
    call_line,
)
from harness.core.clock import ensure_utc
from harness.store.models import CallEvent, Channel, Probe
from results.phone_timeline import CallTimeline, TimelineRules

# The event names are defined with the reading of the events (facts.py, which loads no model
# class); the webhooks, the console and the finisher name them through this module.
__all__ = [
    "DIAL_ENDED",
    "FINAL_STATUSES",
    "MARK_PERSON",
    "MARK_TRANSFER",
    "RECONCILE",
    "RECORDING",
    "SPEECH_PERSON",
    "STATUS",
    "VOICE",
    "add_mark",
    "add_reconcile",
    "dedupe_key",
    "event_row",
    "events_for",
    "find_probe",
    "store_event",
    "timeline",
    "twilio_time",
]

log = logging.getLogger(__name__)


def twilio_time(value: str | None) -> datetime | None:
    """Twilio's ``Timestamp`` (RFC 2822, e.g. "Mon, 05 Oct 2026 08:00:01 +0000") in UTC."""
    if not value:
        return None
    try:
        return ensure_utc(parsedate_to_datetime(value))
    except (TypeError, ValueError):
        return None


def find_probe(session: Session, probe_id: int | None, params: Mapping[str, str]) -> Probe | None:
    """The phone probe a callback belongs to, or None for an unknown call.

    The probe id in the (signed) callback URL is trusted only if the call agrees with it: the
    probe has no call SID yet (the callback beat the REST answer), or the SID is the call's own
    or its parent's.
    """
    sids = {params.get("CallSid"), params.get("ParentCallSid")} - {None, ""}
    if probe_id is not None:
        probe = session.get(Probe, probe_id)
        known = probe is not None and probe.channel == Channel.PHONE
        if known and probe is not None and (probe.call_sid is None or probe.call_sid in sids):
            return probe
    if sids:
        return session.exec(select(Probe).where(col(Probe.call_sid).in_(sids))).first()
    return None


def dedupe_key(event: str, params: Mapping[str, str], path: str = "") -> str:
    """What makes a Twilio request the same event again: a retry, a duplicate or a replay.

    Only what Twilio sets counts, never the arrival: a status callback is its call's event
    number (the webhook requires ``SequenceNumber`` and checks the SID's and number's shape, so
    a replay with regrouped parameters cannot change them, :mod:`harness.web.twilio_params`); a
    recording is its SID and status. A TwiML request has no number: it is keyed on the URL and
    the text Twilio's signature covers (names and values, sorted, joined without separators),
    which regrouping the parameters leaves unchanged, whichever event the request turned into.
    """
    sid = params.get("CallSid", "")
    if event == STATUS:
        seq = params.get("SequenceNumber")
        if seq is not None:
            return f"status:{sid}:{seq}"
        return f"status:{sid}:{params.get('CallStatus')}:{params.get('Timestamp')}"
    if event == RECORDING:
        return f"recording:{params.get('RecordingSid')}:{params.get('RecordingStatus')}"
    signed = "".join(name + params[name] for name in sorted(params))
    digest = hashlib.sha256((path + "\n" + signed).encode()).hexdigest()[:32]
    return f"twiml:{sid}:{digest}"


def event_row(
    *,
    probe: Probe | None,
    event: str,
    params: Mapping[str, str],
    received_at: datetime,
    path: str = "",
    occurred_at: datetime | None = None,
) -> CallEvent:
    """The row for one Twilio request, as received (not yet added to a session)."""
    seq = params.get("SequenceNumber")
    return CallEvent(
        probe_id=probe.id if probe is not None else None,
        call_sid=params.get("CallSid", "") or "",
        parent_call_sid=params.get("ParentCallSid") or None,
        source="twilio",
        event=event,
        status=params.get("CallStatus") or params.get("RecordingStatus"),
        sequence_number=int(seq) if seq is not None and seq.isdigit() else None,
        occurred_at=occurred_at or twilio_time(params.get("Timestamp")) or received_at,
        received_at=received_at,
        dedupe_key=dedupe_key(event, params, path),
        payload=dict(params),
    )


def store_event(
    session: Session,
    *,
    probe: Probe | None,
    event: str,
    params: Mapping[str, str],
    received_at: datetime,
    path: str = "",
    occurred_at: datetime | None = None,
) -> bool:
    """Store one event now; False if it was already stored (a retry or a duplicate)."""
    row = event_row(
        probe=probe,
        event=event,
        params=params,
        received_at=received_at,
        path=path,
        occurred_at=occurred_at,
    )
    session.add(row)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return False
    return True


def add_mark(
    session: Session, probe: Probe, kind: str, at: datetime, actor: str, note: str | None = None
) -> CallEvent:
    """A tester's mark ("person reached", "transferred", "case officer reached"), timed by the
    harness clock."""
    event = MARK_EVENTS[kind]
    row = CallEvent(
        probe_id=probe.id,
        call_sid=probe.call_sid or "",
        source="tester",
        event=event,
        occurred_at=at,
        received_at=at,
        dedupe_key=f"{event}:{probe.id}:{at.isoformat()}",
        payload={"actor": actor, "note": note} if note else {"actor": actor},
    )
    session.add(row)
    return row


def add_reconcile(session: Session, probe: Probe, facts: Mapping[str, Any], at: datetime) -> bool:
    """The call as fetched over REST after it ended, kept beside the callbacks."""
    end = facts.get("end_time")
    occurred = ensure_utc(datetime.fromisoformat(end)) if end else at
    key = f"reconcile:{facts['sid']}:{facts.get('status')}"
    row = CallEvent(
        probe_id=probe.id,
        call_sid=facts["sid"],
        parent_call_sid=facts.get("parent_call_sid"),
        source="reconcile",
        event=RECONCILE,
        status=facts.get("status"),
        occurred_at=occurred,
        received_at=at,
        dedupe_key=key,
        payload=dict(facts),
    )
    exists = session.exec(select(CallEvent.id).where(CallEvent.dedupe_key == key)).first()
    if exists is not None:
        return False
    session.add(row)
    return True


def events_for(session: Session, probe_ids: Iterable[int]) -> dict[int, list[CallEvent]]:
    ids = list(probe_ids)
    found: dict[int, list[CallEvent]] = {i: [] for i in ids}
    if not ids:
        return found
    for row in session.exec(
        select(CallEvent).where(col(CallEvent.probe_id).in_(ids)).order_by(col(CallEvent.id))
    ):
        if row.probe_id is not None:
            found[row.probe_id].append(row)
    return found


def timeline(probe: Probe, rows: Iterable[CallEvent], rules: TimelineRules) -> CallTimeline:
    return call_line(probe.mode, rows, rules)
