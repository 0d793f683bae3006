"""What the call console shows about one call: its legs' live status, timeline and recording.

Read from the stored events only (the same evidence the timeline and the scores use), so the
console shows what Twilio reported, not what the browser thinks happened. No I/O beyond reading
the database; the web routes in :mod:`harness.web.console` render and act on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from harness.channels.phone import store as phonestore
from harness.core.clock import ensure_utc
from harness.store.models import CallEvent, Channel, Probe, ProbeState, Question, Target
from results.phone_timeline import CallTimeline, TimelineRules

FINAL = phonestore.FINAL_STATUSES
UPCOMING = 20


@dataclass(frozen=True)
class Recording:
    """A finished recording of the call, and where in it the person began (seconds)."""

    sid: str
    duration: float
    started_at: datetime | None
    person_offset: float | None


@dataclass(frozen=True)
class CallView:
    probe: Probe
    target: Target
    question: Question | None
    timeline: CallTimeline | None
    legs: dict[str, str]  # "caller"/"municipal" -> the last status Twilio reported
    started_at: datetime | None  # when the call was placed (the claim; the first callback after)
    ended: bool
    recording: Recording | None

    @property
    def mode(self) -> str:
        return "automated" if self.probe.mode == "automated" else "bridged"

    @property
    def planned(self) -> bool:
        return self.probe.state == ProbeState.PLANNED

    @property
    def live(self) -> bool:
        """Placed and not over: the tester is (or is about to be) on the line."""
        return (
            self.probe.state in (ProbeState.SENDING, ProbeState.SENT)
            and self.probe.claimed_at is not None
            and not self.ended
        )

    def elapsed(self, now: datetime) -> float:
        """Seconds since the call was placed (0 before)."""
        if self.started_at is None:
            return 0.0
        return max(0.0, (now - self.started_at).total_seconds())

    def status(self, now: datetime) -> dict[str, Any]:
        """The JSON the console polls: legs, whether it is over, seconds since it was placed."""
        return {
            "probe": self.probe.id,
            "state": self.probe.state,
            "legs": self.legs,
            "ended": self.ended,
            "outcome": self.timeline.outcome if self.timeline else None,
            "elapsed": round(self.elapsed(now), 1),
        }


def load_call(engine: Engine, probe_id: int, rules: TimelineRules) -> CallView | None:
    """The phone probe ``probe_id`` with everything the console shows; None if there is none."""
    with Session(engine) as session:
        probe = session.get(Probe, probe_id)
        if probe is None or probe.channel != Channel.PHONE:
            return None
        target = session.get(Target, probe.target_id)
        assert target is not None
        question = session.get(Question, probe.question_id) if probe.question_id else None
        rows = list(
            session.exec(
                select(CallEvent)
                .where(CallEvent.probe_id == probe_id)
                .order_by(col(CallEvent.occurred_at), col(CallEvent.id))
            )
        )
    line = phonestore.timeline(probe, rows, rules) if probe.claimed_at is not None else None
    legs = _leg_status(probe, rows)
    caller_over = legs.get("caller") in FINAL
    municipal_over = legs.get("municipal") in FINAL
    # A bridged call is over when the tester's leg is (it carries the municipal one); an
    # automated call when its only leg is. A probe the runner has finished is over too.
    over = caller_over if probe.mode != "automated" else municipal_over
    ended = over or probe.state in (ProbeState.COMPLETED, ProbeState.FAILED)
    return CallView(
        probe=probe,
        target=target,
        question=question,
        timeline=line,
        legs=legs,
        started_at=ensure_utc(probe.claimed_at) if probe.claimed_at else None,
        ended=ended,
        recording=_recording(rows, line),
    )


def _leg_status(probe: Probe, rows: list[CallEvent]) -> dict[str, str]:
    """The latest status per leg, by Twilio's sequence number (callbacks may come out of order)."""
    latest: dict[str, tuple[int, int, str]] = {}
    for row in rows:
        if row.source not in ("twilio", "reconcile") or not row.status:
            continue
        if row.event not in (phonestore.STATUS, phonestore.RECONCILE):
            continue
        leg = "municipal" if probe.mode == "automated" or row.parent_call_sid else "caller"
        # A final status outranks anything; then the higher sequence number.
        rank = (1 if row.status in FINAL else 0, row.sequence_number or 0, row.status)
        if leg not in latest or rank[:2] >= latest[leg][:2]:
            latest[leg] = rank
    return {leg: rank[2] for leg, rank in latest.items()}


def _recording(rows: list[CallEvent], line: CallTimeline | None) -> Recording | None:
    for row in rows:
        if row.event != phonestore.RECORDING or row.status != "completed":
            continue
        sid = row.payload.get("RecordingSid")
        if not sid:
            continue  # purged: the link is gone, the timestamps stay
        started = phonestore.twilio_time(row.payload.get("RecordingStartTime"))
        try:
            duration = float(row.payload.get("RecordingDuration") or 0)
        except ValueError:
            duration = 0.0
        # The recording starts when the call is answered; without its own start time use that.
        start = started or (line.answered_at if line else None)
        offset = None
        if line is not None and line.person_at is not None and start is not None:
            offset = max(0.0, (line.person_at - start).total_seconds())
            if duration and offset > duration:
                offset = None
        return Recording(str(sid), duration, start, offset)
    return None


def upcoming_calls(engine: Engine, limit: int = UPCOMING) -> list[tuple[Probe, Target]]:
    """The next planned calls, soonest first (the console's "start" candidates)."""
    with Session(engine) as session:
        rows = session.exec(
            select(Probe, Target)
            .join(Target, col(Probe.target_id) == col(Target.id))
            .where(Probe.channel == Channel.PHONE, Probe.state == ProbeState.PLANNED)
            .order_by(col(Probe.planned_at), col(Probe.id))
            .limit(limit)
        ).all()
    return [(p, t) for p, t in rows]
