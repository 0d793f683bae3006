"""A call's stored events read as timeline facts (pure: no database session, no model classes).

What :mod:`harness.channels.phone.store` stores, this module reads: the event names, which leg an
event belongs to and the facts :func:`results.phone_timeline.call_timeline` derives the timeline
from. It takes any row with the event table's columns, a ``CallEvent`` or a row read with
SQLAlchemy Core, so ``kkik status`` judges calls the way the evidence reader does without
loading the ORM (issue 16, item 8).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Protocol

from harness.core.clock import ensure_utc
from results.phone_timeline import CallFact, CallTimeline, Leg, TimelineRules, call_timeline
from results.scoring import Mode

__all__ = [
    "DIAL_ENDED",
    "FINAL_STATUSES",
    "MARK_CASE_OFFICER",
    "MARK_PERSON",
    "MARK_TRANSFER",
    "RECONCILE",
    "RECORDING",
    "SPEECH_PERSON",
    "STATUS",
    "VOICE",
    "StoredEvent",
    "call_line",
    "facts",
]

# Event names stored in CallEvent.event
STATUS = "status"
VOICE = "voice"  # a TwiML request (answer, AMD result, speech result, dial ended)
RECORDING = "recording"
MARK_PERSON = "mark_person"
MARK_TRANSFER = "mark_transfer"
MARK_CASE_OFFICER = "mark_case_officer"
#: A tester's mark by what it says ("person", "transfer", "case_officer") and its stored event.
MARK_EVENTS = {"person": MARK_PERSON, "transfer": MARK_TRANSFER, "case_officer": MARK_CASE_OFFICER}
RECONCILE = "reconcile"
SPEECH_PERSON = "speech_person"
DIAL_ENDED = "dial_ended"
FINAL_STATUSES = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})


class StoredEvent(Protocol):
    """The columns of a stored call event that its facts are read from."""

    @property
    def event(self) -> str: ...
    @property
    def status(self) -> str | None: ...
    @property
    def sequence_number(self) -> int | None: ...
    @property
    def occurred_at(self) -> datetime: ...
    @property
    def parent_call_sid(self) -> str | None: ...
    @property
    def payload(self) -> dict[str, Any]: ...


def _leg(mode: Mode, row: StoredEvent) -> Leg:
    if mode == "automated" or row.parent_call_sid:
        return "municipal"
    return "caller"


def facts(mode: Mode, rows: Iterable[StoredEvent]) -> list[CallFact]:
    """The stored events of one probe as timeline facts (TwiML requests give AMD and speech)."""
    out: list[CallFact] = []
    for row in rows:
        at = ensure_utc(row.occurred_at)
        if row.event == STATUS and row.status:
            out.append(
                CallFact(
                    _leg(mode, row),
                    "status",
                    at,
                    status=row.status,
                    sequence_number=row.sequence_number,
                    answered_by=row.payload.get("AnsweredBy"),
                    call_duration=_int(row.payload.get("CallDuration")),
                )
            )
            if row.payload.get("AnsweredBy") and _leg(mode, row) == "municipal":
                out.append(CallFact("municipal", "amd", at, answered_by=row.payload["AnsweredBy"]))
        elif row.event == VOICE and row.payload.get("AnsweredBy"):
            out.append(CallFact("municipal", "amd", at, answered_by=row.payload["AnsweredBy"]))
        elif row.event == SPEECH_PERSON:
            out.append(CallFact("municipal", "speech_person", at))
        elif row.event == DIAL_ENDED:
            out.append(CallFact("caller", "dial_ended", at))
        elif row.event == MARK_PERSON:
            out.append(CallFact("municipal", "mark_person", at))
        elif row.event == MARK_TRANSFER:
            out.append(CallFact("municipal", "mark_transfer", at))
        elif row.event == MARK_CASE_OFFICER:
            out.append(CallFact("municipal", "mark_case_officer", at))
        elif row.event == RECONCILE and row.status:
            leg: Leg = "municipal" if mode == "automated" or row.parent_call_sid else "caller"
            out.append(CallFact(leg, "reconcile", at, status=row.status))
    return out


def call_line(
    probe_mode: str | None, rows: Iterable[StoredEvent], rules: TimelineRules
) -> CallTimeline:
    """The timeline of a call placed in ``probe_mode`` (the probe's ``mode``) from its events."""
    mode: Mode = "automated" if probe_mode == "automated" else "bridged"
    return call_timeline(mode, facts(mode, rows), rules)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
