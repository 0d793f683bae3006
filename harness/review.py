"""An administrator's corrections to stored mail: reclassify, assign to a probe, with audit.

The raw message and the automatic analysis stay as they were recorded (``classification_reason``
keeps the rule's code); a correction overwrites the classification and match with a person's,
marks them ``manual`` and writes an :class:`~harness.models.AuditEntry` with the values before
and after, who and why. Scoring reads the corrected values the next time it runs: a manual
assignment has confidence 1.0, so the reply is no longer held back for review.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from harness.models import AuditEntry, Channel, Message, Probe

KINDS = ("human_reply", "holding_reply", "auto_reply", "bounce", "unrelated")


class ReviewError(ValueError):
    """The correction cannot be made (unknown message or probe, bad kind, no reason)."""


def _state(m: Message) -> dict[str, Any]:
    return {
        "probe_id": m.probe_id,
        "classification": m.classification,
        "holding_reply": m.holding_reply,
        "match_method": m.match_method,
        "match_confidence": m.match_confidence,
        "needs_review": m.needs_review,
    }


def correct(
    engine: Engine,
    message_id: int,
    *,
    kind: str | None,
    probe_id: int | None,
    reason: str,
    actor: str,
    at: datetime,
) -> dict[str, Any]:
    """Reclassify and/or assign one message; return its state after the change."""
    if not reason.strip():
        raise ReviewError("a reason is required")
    if kind is not None and kind not in KINDS:
        raise ReviewError(f"unknown kind {kind!r}")
    with Session(engine) as session:
        message = session.get(Message, message_id)
        if message is None:
            raise ReviewError(f"no message {message_id}")
        before = _state(message)
        if probe_id is not None:
            probe = session.get(Probe, probe_id)
            if probe is None or probe.channel != Channel.EMAIL:
                raise ReviewError(f"no e-mail probe {probe_id}")
            message.probe_id = probe_id
            message.match_method = "manual"
            message.match_confidence = 1.0
        if kind is not None:
            message.classification = "human_reply" if kind == "holding_reply" else kind
            message.holding_reply = kind == "holding_reply"
            message.classified_by = "manual"
        message.needs_review = False
        message.review_note = reason.strip()[:300]
        after = _state(message)
        session.add(message)
        session.add(
            AuditEntry(
                at=at,
                actor=actor,
                action="review",
                entity="message",
                entity_id=str(message_id),
                before=before,
                after=after,
                reason=reason.strip(),
            )
        )
        session.commit()
    return after
