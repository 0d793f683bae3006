"""What a dispatch leaves in the database: the evidence of sending, or why it failed.

Kept apart from the channels so that every channel records its outcome the same way:

- sent: the probe becomes ``sent`` with the server's acceptance time and reply as evidence;
- :class:`~probes.base.TargetRejected`: the municipality's address or number was refused for
  good. The probe is completed as ``rejected`` (it counts as not answered) and the target is
  marked broken, with the server's words, so staff can find the right address;
- :class:`~probes.base.SendUnknown`: the connection broke after the server may have taken the
  message; the probe stays ``sending`` with ``outcome = send_unknown`` for a person to decide;
- :class:`~probes.base.HarnessFault`: our side failed. The probe is ``failed``, excluded from
  scoring, with the reason shown; the planner replaces it.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from harness.store.models import Probe, ProbeState, Target
from probes.base import Dispatched, ProbeError, SendUnknown, TargetRejected


def record_sent(session: Session, probe_id: int, done: Dispatched) -> Probe:
    probe = _probe(session, probe_id)
    probe.state = ProbeState.SENT
    probe.sent_at = done.accepted_at
    probe.send_response = done.response
    probe.attempts = done.attempts
    if done.reference and probe.channel == "phone":
        probe.call_sid = done.reference
    session.add(probe)
    return probe


def record_failure(session: Session, probe_id: int, error: ProbeError, at: datetime) -> Probe:
    """Store why a dispatch failed; a harness fault never counts against the municipality."""
    probe = _probe(session, probe_id)
    reason = str(error)[:500]
    if isinstance(error, TargetRejected):
        probe.state = ProbeState.COMPLETED
        probe.outcome = "rejected"
        probe.completed_at = at
        # Not our fault, so no fault_reason; the reason's code stays, for the alert's words.
        set_fault(probe, None)
        probe.fault_code, probe.fault_params = error.code, dict(error.params) or None
        target = session.get(Target, probe.target_id)
        if target is not None:
            if probe.channel == "email":
                target.email_broken_reason = reason
            session.add(target)
    elif isinstance(error, SendUnknown):
        # Maybe delivered: neither sent (no evidence) nor a fault to replace (a replacement
        # would ask the same question again). Flagged for a person, like a crash mid-send.
        probe.outcome = "send_unknown"
        set_fault(probe, error)
    else:
        # A harness fault; a transient failure that escaped its channel's retries is ours too.
        probe.state = ProbeState.FAILED
        probe.outcome = "harness_fault"
        probe.completed_at = at
        set_fault(probe, error)
    session.add(probe)
    return probe


def set_fault(probe: Probe, error: ProbeError | None) -> None:
    """The reason on the probe: its code and details for readers, an English line for logs."""
    if error is None:
        probe.fault_reason = probe.fault_code = probe.fault_params = None
        return
    probe.fault_reason = str(error)[:500]
    probe.fault_code = error.code
    probe.fault_params = dict(error.params) or None


def _probe(session: Session, probe_id: int) -> Probe:
    probe = session.get(Probe, probe_id)
    if probe is None:
        raise LookupError(f"no probe {probe_id}")
    return probe
