"""An administrator's corrections to stored mail: reclassify, assign to a probe, with audit.

The raw message and the automatic analysis stay as they were recorded (``classification_reason``
keeps the rule's code); a correction overwrites the classification and match with a person's,
marks them ``manual`` and writes an :class:`~harness.store.models.AuditEntry` with the values before
and after, who and why. The probes concerned are settled again at once, so the probe's outcome,
the log and the scores agree: a manual assignment has confidence 1.0, so the reply is no longer
held back for review.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from harness.channels.email.settle import settle_probe
from harness.rules.measurement import timing_rules
from harness.services.base import Context, ServiceError
from harness.store.models import Channel, Message, Probe

KINDS = ("human_reply", "holding_reply", "auto_reply", "bounce", "unrelated")
MAX_REASON = 2000  # characters of a reason kept in the audit log; longer is refused


class ReviewError(ServiceError):
    """The correction cannot be made: ``code`` is ``no_reason``, ``no_message``, ``bad_kind``
    or ``no_email_probe``."""


@dataclass(frozen=True)
class Correction:
    message_id: int
    reason: str
    kind: str | None = None  # one of KINDS; None keeps the classification
    probe_id: int | None = None  # assign to this e-mail probe; None keeps the match


def _state(m: Message) -> dict[str, Any]:
    return {
        "probe_id": m.probe_id,
        "classification": m.classification,
        "holding_reply": m.holding_reply,
        "match_method": m.match_method,
        "match_confidence": m.match_confidence,
        "needs_review": m.needs_review,
    }


def correct(ctx: Context, request: Correction) -> dict[str, Any]:
    """Reclassify and/or assign one message; return its state after the change.

    The probes it leaves and joins are settled again (harness.channels.email.settle.settle_probe),
    so the
    probe's outcome, the e-mail log and the scores all follow the correction at once.
    """
    reason = request.reason.strip()
    if not reason:
        raise ReviewError("no_reason")
    if len(reason) > MAX_REASON:
        raise ReviewError("reason_too_long", limit=MAX_REASON)
    if request.kind is not None and request.kind not in KINDS:
        raise ReviewError("bad_kind", kind=request.kind)
    rules = timing_rules(ctx.settings)
    with Session(ctx.engine) as session:
        message = session.get(Message, request.message_id)
        if message is None:
            raise ReviewError("no_message", message=request.message_id)
        before = _state(message)
        if request.probe_id is not None:
            probe = session.get(Probe, request.probe_id)
            if probe is None or probe.channel != Channel.EMAIL:
                raise ReviewError("no_email_probe", probe=request.probe_id)
            message.probe_id = request.probe_id
            message.match_method = "manual"
            message.match_confidence = 1.0
        if request.kind is not None:
            kind = request.kind
            message.classification = "human_reply" if kind == "holding_reply" else kind
            message.holding_reply = kind == "holding_reply"
            message.classified_by = "manual"
        message.needs_review = False
        message.review_note = reason[:300]  # the person's own words, shown as they wrote them
        message.review_codes = None
        after = _state(message)
        session.add(message)
        session.add(ctx.audit("review", "message", request.message_id, before, after, reason))
        session.flush()
        for probe_id in {before["probe_id"], message.probe_id} - {None}:
            settle_probe(
                session,
                int(probe_id),
                count_holding=rules.count_holding_replies,
                review_below=rules.review_below,
            )
        session.commit()
    return after
