"""A phone probe's timeline and outcome, derived from the stored events of one Twilio call.

Source: kkik-method.md Part A "Phone" (timeline dial → ringing → answered → person reached → ended;
outcomes busy, no answer, failed, no person within the hold limit, person). The function is pure:
facts in, a :class:`CallTimeline` out, so the same facts always give the same verdict and a call
can be re-derived at any time, e.g. after a late callback arrives.

Ordering and duplicates
    Twilio does not promise that status callbacks arrive in order, and retries them, so arrival
    order means nothing. Each leg's status facts are ordered by Twilio's ``SequenceNumber`` (its
    own order of events on that leg; timestamps only have one-second resolution), then by time;
    facts without a sequence number go after all facts that have one. Each status is taken from
    its first fact in that order, so repeated callbacks change nothing. Identical facts are also
    collapsed before anything else, so they cannot produce repeated notes.
Municipal leg
    dial = "initiated" (else the first known status of the leg, e.g. "queued" or "ringing"),
    ringing = "ringing", answered = "in-progress" (the line picked up: often an IVR or a queue),
    ended = the first final status (completed, busy, no-answer, failed, canceled). A "reconcile"
    fact (the call fetched over REST afterwards; its time is the end time) supplies the end only
    when no final callback arrived: the callbacks are the primary record, REST is the safety net
    for a lost callback. Unknown statuses are ignored with a note.
Person reached
    Bridged mode: the tester's earliest "mark_person". Automated mode: AMD saying "human" means a
    person greeted us when the line picked up (person = answered); otherwise the earliest
    "speech_person". AMD and speech facts count only on the municipal leg (they describe who
    picked up there); marks count whatever leg they are filed under. Each mode reads only its own
    person signal. Every person or transfer signal (marks and speech alike) must fall inside the
    answered call: one before the answer is moved to the answer (the tester's phone or our server
    may run a second ahead of Twilio), one when the municipal leg was never answered or after it
    ended is ignored with a note, so a stray click cannot turn a busy line into a success.
    "mark_transfer" gives the transfer time under the same rules, and "mark_case_officer" the
    moment the tester reached a case officer (handläggare: someone who handles the matter, not
    the switchboard), which edition 2011's "kontakt med handläggare" counts; neither changes the
    outcome.
Outcome (None until the municipal leg has a final status: no verdict on an unfinished call)
    busy → busy; no-answer → no_answer; failed or canceled → failed (a harness fault);
    completed but never answered → no_answer. Completed and answered: person if a person was
    reached within the hold limit after the answer (inclusive), else no_person, and a person
    reached later is still reported, with a note. The exception is bridged mode: if the call
    ended before the hold limit ran out without a person and our tester's leg completed first (or
    at the same second, which is the most Twilio can tell apart), the tester gave up early. A
    "dial_ended" fact settles a tie: Twilio asks ``<Dial action>`` for the next step only when the
    switchboard's leg ended while the tester was still on the line, so with it the municipality
    hung up first (no_person), whatever the timestamps say. A tester giving up early says nothing
    about the municipality, so it is "failed" (excluded and replaced). If the tester's leg exists
    but has not ended yet, who hung up is not known, so there is no verdict yet;
    with no tester leg on record nothing suggests the tester hung up, so it is no_person.
    In automated mode an early end without a person (the switchboard hung up on us or dropped us
    from the queue) is no_person: that is the municipality's doing.
Bridged mode without a municipal leg
    The tester's leg alone decides: not picked up (busy, no-answer, failed, canceled) → failed,
    "The tester's phone did not answer (…)"; completed → failed, "The call never reached the
    switchboard"; still running → no verdict yet.

Times are reported exactly as given (time-zone aware); nothing here converts zones or reads a
clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from results.scoring import Mode, Outcome

__all__ = [
    "CallFact",
    "CallTimeline",
    "FactKind",
    "Leg",
    "Mode",
    "Outcome",
    "TimelineRules",
    "call_timeline",
]

Leg = Literal["caller", "municipal"]
FactKind = Literal[
    "status",
    "amd",
    "speech_person",
    "mark_person",
    "mark_transfer",
    "mark_case_officer",
    "reconcile",
    "dial_ended",
]

_FINAL = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})
_KNOWN = _FINAL | {"queued", "initiated", "ringing", "in-progress"}
_NOT_PICKED_UP = {
    "busy": "busy",
    "no-answer": "no answer",
    "failed": "failed",
    "canceled": "canceled",
}


@dataclass(frozen=True, slots=True)
class CallFact:
    """One stored event of a call. ``occurred_at`` must be time-zone aware."""

    leg: Leg
    kind: FactKind
    occurred_at: datetime
    status: str | None = None
    sequence_number: int | None = None
    answered_by: str | None = None
    call_duration: int | None = None

    def __post_init__(self) -> None:
        if self.occurred_at.utcoffset() is None:
            raise ValueError(f"occurred_at must be time-zone aware: {self.occurred_at!r}")
        if self.kind in ("status", "reconcile") and not self.status:
            raise ValueError(f"a {self.kind!r} fact needs a status")


@dataclass(frozen=True, slots=True)
class TimelineRules:
    hold_limit: timedelta = timedelta(minutes=5)


# A remark on how the timeline was read: {"code": ..., and its details}, worded by the faces.
Note = dict[str, str]


def _note(code: str, **details: str) -> Note:
    return {"code": code, **details}


@dataclass(frozen=True, slots=True)
class CallTimeline:
    mode: Mode
    dial_at: datetime | None
    ringing_at: datetime | None
    answered_at: datetime | None
    person_at: datetime | None
    transferred_at: datetime | None
    ended_at: datetime | None
    answered_by: str | None
    outcome: Outcome | None
    fault_reason: str | None  # English, for the logs
    # Why a failed call is our fault: a code of harness.core.labels.FAULTS and its details.
    fault_code: str | None
    fault_params: dict[str, str] | None
    notes: tuple[Note, ...]  # codes of harness.core.labels.CALL_NOTES with their details
    # The tester's "case officer reached" mark, inside the answered call (edition 2011).
    case_officer_at: datetime | None = None

    @property
    def time_to_answer(self) -> timedelta | None:
        return _between(self.dial_at, self.answered_at)

    @property
    def time_to_person(self) -> timedelta | None:
        return _between(self.dial_at, self.person_at)

    @property
    def queue_time(self) -> timedelta | None:
        return _between(self.answered_at, self.person_at)

    @property
    def finished(self) -> bool:
        return self.outcome is not None


@dataclass(frozen=True, slots=True)
class _LegView:
    exists: bool
    dial_at: datetime | None = None
    ringing_at: datetime | None = None
    answered_at: datetime | None = None
    final: str | None = None
    ended_at: datetime | None = None


def _between(start: datetime | None, end: datetime | None) -> timedelta | None:
    return None if start is None or end is None else end - start


def _leg_order(fact: CallFact) -> tuple[bool, int, datetime, str]:
    seq = fact.sequence_number
    return (seq is None, seq if seq is not None else 0, fact.occurred_at, fact.status or "")


def _read_leg(facts: list[CallFact], leg: Leg, notes: list[Note]) -> _LegView:
    mine = sorted((f for f in facts if f.leg == leg), key=_leg_order)
    statuses = [f for f in mine if f.kind == "status"]
    reconciles = [f for f in mine if f.kind == "reconcile"]
    if not statuses and not reconciles:
        return _LegView(exists=False)
    first: dict[str, CallFact] = {}
    for fact in statuses:
        status = fact.status or ""
        if status not in _KNOWN:
            notes.append(
                _note("unknown_status", leg=leg, status=status, at=fact.occurred_at.isoformat())
            )
            continue
        first.setdefault(status, fact)
    known = [f for f in statuses if f.status in _KNOWN]
    dial = first.get("initiated", known[0] if known else None)
    final = next((f for f in known if f.status in _FINAL), None)
    if final is None:
        final = next((f for f in reconciles if f.status in _FINAL), None)
    ringing, answered = first.get("ringing"), first.get("in-progress")
    return _LegView(
        exists=True,
        dial_at=None if dial is None else dial.occurred_at,
        ringing_at=None if ringing is None else ringing.occurred_at,
        answered_at=None if answered is None else answered.occurred_at,
        final=None if final is None else final.status,
        ended_at=None if final is None else final.occurred_at,
    )


def _earliest_inside(
    signal: str, times: Iterable[datetime], call: _LegView, notes: list[Note]
) -> datetime | None:
    """The earliest signal time that falls inside the answered call, moved up to the answer."""
    for at in sorted(times):
        stamp = at.isoformat()
        if call.answered_at is None:
            notes.append(_note("signal_no_answer", signal=signal, at=stamp))
        elif call.ended_at is not None and at > call.ended_at:
            notes.append(_note("signal_after_end", signal=signal, at=stamp))
        elif at < call.answered_at:
            notes.append(
                _note("signal_moved", signal=signal, at=stamp, to=call.answered_at.isoformat())
            )
            return call.answered_at
        else:
            return at
    return None


def _person_at(
    mode: Mode, facts: list[CallFact], call: _LegView, notes: list[Note]
) -> datetime | None:
    if mode == "bridged":
        marks = (f.occurred_at for f in facts if f.kind == "mark_person")
        return _earliest_inside("person_mark", marks, call, notes)
    municipal = [f for f in facts if f.leg == "municipal"]
    if any(f.kind == "amd" and f.answered_by == "human" for f in municipal):
        if call.answered_at is not None:
            return call.answered_at
        notes.append(_note("amd_without_answer"))
    speech = (f.occurred_at for f in municipal if f.kind == "speech_person")
    return _earliest_inside("detected_speech", speech, call, notes)


@dataclass(frozen=True, slots=True)
class _Fault:
    code: str
    english: str
    params: dict[str, str] | None = None


def _verdict(
    mode: Mode,
    call: _LegView,
    tester: _LegView,
    person_at: datetime | None,
    rules: TimelineRules,
    notes: list[Note],
    dial_ended: bool = False,
) -> tuple[Outcome | None, _Fault | None]:
    if not call.exists:
        if mode != "bridged" or tester.final is None:
            return None, None
        if tester.final == "completed":
            return "failed", _Fault("call_never_reached", "The call never reached the switchboard")
        return "failed", _Fault(
            "tester_not_answering",
            f"The tester's phone did not answer ({_NOT_PICKED_UP[tester.final]})",
            {"status": tester.final},
        )
    if call.final is None or call.ended_at is None:
        return None, None
    if call.final == "busy":
        return "busy", None
    if call.final == "no-answer":
        return "no_answer", None
    if call.final == "failed":
        return "failed", _Fault("call_failed", "The call to the switchboard failed")
    if call.final == "canceled":
        return "failed", _Fault("call_canceled", "The call to the switchboard was canceled")
    if call.answered_at is None:
        return "no_answer", None
    if person_at is not None:
        if person_at - call.answered_at <= rules.hold_limit:
            return "person", None
        waited = person_at - call.answered_at
        notes.append(_note("person_after_hold_limit", seconds=str(int(waited.total_seconds()))))
    # A person after the hold limit implies the call lasted longer than the limit, so an early end
    # here always means: no person at all.
    early = call.ended_at - call.answered_at < rules.hold_limit
    if mode == "bridged" and early and not dial_ended:
        if tester.exists and tester.final is None:
            notes.append(_note("waiting_for_tester_leg"))
            return None, None
        ended = tester.ended_at
        if tester.final == "completed" and ended is not None and ended <= call.ended_at:
            return "failed", _Fault(
                "tester_hung_up_early", "The tester hung up before a person answered"
            )
    return "no_person", None


def call_timeline(
    mode: Mode, facts: Iterable[CallFact], rules: TimelineRules = TimelineRules()
) -> CallTimeline:
    """Derive the timeline and outcome of one phone probe from its stored call events."""
    unique = list(set(facts))
    notes: list[Note] = []
    call = _read_leg(unique, "municipal", notes)
    tester = _read_leg(unique, "caller", notes)
    person_at = _person_at(mode, unique, call, notes)
    transfers = (f.occurred_at for f in unique if f.kind == "mark_transfer")
    transferred_at = _earliest_inside("transfer_mark", transfers, call, notes)
    officers = (f.occurred_at for f in unique if f.kind == "mark_case_officer")
    case_officer_at = _earliest_inside("case_officer_mark", officers, call, notes)
    amd = sorted(
        (f for f in unique if f.kind == "amd" and f.leg == "municipal"),
        key=lambda f: (f.occurred_at, f.answered_by or ""),
    )
    dial_ended = any(f.kind == "dial_ended" for f in unique)
    outcome, fault = _verdict(mode, call, tester, person_at, rules, notes, dial_ended)
    return CallTimeline(
        mode=mode,
        dial_at=call.dial_at,
        ringing_at=call.ringing_at,
        answered_at=call.answered_at,
        person_at=person_at,
        transferred_at=transferred_at,
        ended_at=call.ended_at,
        answered_by=amd[-1].answered_by if amd else None,
        outcome=outcome,
        fault_reason=fault.english if fault else None,
        fault_code=fault.code if fault else None,
        fault_params=dict(fault.params) if fault and fault.params else None,
        notes=tuple(notes),
        case_officer_at=case_officer_at,
    )
