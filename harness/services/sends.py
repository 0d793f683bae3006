"""Probes whose sending is in doubt, and a person's decision about each.

A probe is flagged (``state = sending``, ``outcome = send_unknown``) when the runner stopped
while handing the question over, or the connection broke after the end of DATA, and no evidence
shows whether the server took it. It is never sent again on its own: the municipality could get
the question twice. A person checks (the municipality's registry, our mail server's log) and
decides:

* **sent**, with the instant the evidence gives: the probe becomes ``sent`` and is measured
  from then on; a reply already stored for it is adopted by the mailbox watcher's next sync;
* **not sent**: the probe becomes a harness fault, excluded from scoring and replaced by the
  runner at the next free slot.

Both decisions are written to the audit log with the reason.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from harness.core.clock import ensure_utc
from harness.services.base import Context, ServiceError

# The outcome of a crashed send waiting for a decision, kept with the stored values.
from harness.store.core_tables import SEND_UNKNOWN as SEND_UNKNOWN
from harness.store.models import Probe, ProbeState, Target
from harness.store.probestore import set_fault
from probes.base import HarnessFault


class DecisionRefused(ServiceError):
    """The decision cannot be taken: ``code`` says why (unknown_probe, not_flagged,
    before_claim, future), ``fields`` fill the message."""

    @property
    def key(self) -> str:
        return self.code


def flagged_probes(engine: Engine) -> list[tuple[Probe, Target]]:
    """Every probe waiting for a person's decision, oldest claim first."""
    with Session(engine) as session:
        rows = session.exec(
            select(Probe, Target)
            .join(Target, col(Probe.target_id) == col(Target.id))
            .where(Probe.state == ProbeState.SENDING, Probe.outcome == SEND_UNKNOWN)
            .order_by(col(Probe.claimed_at), col(Probe.id))
        ).all()
    return [(p, t) for p, t in rows]


def confirm_sent(ctx: Context, probe_id: int, sent_at: datetime, reason: str) -> Probe:
    """The question did leave, at ``sent_at`` (from the evidence the person found)."""
    sent_at = ensure_utc(sent_at)
    at, actor = ctx.now(), ctx.actor
    with Session(ctx.engine) as session:
        probe = _flagged(session, probe_id)
        if probe.claimed_at is not None and sent_at < ensure_utc(probe.claimed_at):
            # It cannot have left before the runner took it.
            raise DecisionRefused("before_claim", probe=probe_id, claimed=probe.claimed_at)
        if sent_at > at:
            raise DecisionRefused("future", when=sent_at)
        before = _public(probe)
        probe.state = ProbeState.SENT
        probe.outcome = None
        probe.sent_at = sent_at
        probe.send_response = f"Confirmed sent by {actor}: {reason}"[:500]
        session.add(probe)
        session.add(ctx.audit("confirm_sent", "probe", probe.id, before, _public(probe), reason))
        session.commit()
        session.refresh(probe)
        return probe


def confirm_not_sent(ctx: Context, probe_id: int, reason: str) -> Probe:
    """The question never reached the municipality: a harness fault, to be replaced."""
    at, actor = ctx.now(), ctx.actor
    with Session(ctx.engine) as session:
        probe = _flagged(session, probe_id)
        before = _public(probe)
        probe.state = ProbeState.FAILED
        probe.outcome = "harness_fault"
        set_fault(
            probe,
            HarnessFault(
                f"Not sent (checked by {actor}): {reason}"[:500],
                code="not_sent_by_person",
                actor=actor,
                reason=reason[:500],
            ),
        )
        probe.completed_at = at
        session.add(probe)
        session.add(
            ctx.audit("confirm_not_sent", "probe", probe.id, before, _public(probe), reason)
        )
        session.commit()
        session.refresh(probe)
        return probe


def _flagged(session: Session, probe_id: int) -> Probe:
    probe = session.get(Probe, probe_id)
    if probe is None:
        raise DecisionRefused("unknown_probe", probe=probe_id)
    if probe.state != ProbeState.SENDING or probe.outcome != SEND_UNKNOWN:
        raise DecisionRefused("not_flagged", probe=probe_id, state=probe.state)
    return probe


def _public(probe: Probe) -> dict[str, object]:
    return {
        "state": probe.state,
        "outcome": probe.outcome,
        "sent_at": probe.sent_at.isoformat() if probe.sent_at else None,
    }
