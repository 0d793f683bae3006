"""An answered e-mail question judged by a person: who answered (sender details) and how well.

The sender details are proposed from the counting reply's signature
(:func:`probes.email_signature.sender_details`); the person confirms or corrects them and
rates the answer on the rubric (answered, correct, extra help). Every save writes an audit entry
with the values before and after; changing an earlier judgement needs a reason, as for calls.
The dashboard's probe page and ``kkik mail assess`` both come here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlmodel import Session, select

from harness.channels.email.settle import replies_by_probe
from harness.rules.measurement import timing_rules
from harness.services.base import Context, ServiceError
from harness.store.models import Channel, MailAssessment, Message, Probe
from probes.email_signature import SenderDetails, sender_details
from results.email_log import answer

__all__ = ["AssessMail", "MailAssessed", "MailProposal", "assess_mail", "mail_proposal"]

MAX_FIELD = {"name": 200, "title": 200, "phone": 60, "address": 300}


@dataclass(frozen=True)
class MailProposal:
    """What the reply's signature says, and the judgement saved so far (None: none yet)."""

    probe_id: int
    message_id: int
    proposed: SenderDetails
    saved: dict[str, Any] | None


@dataclass(frozen=True)
class AssessMail:
    probe_id: int
    name: str | None
    title: str | None
    phone: str | None
    address: str | None
    answered: bool | None
    correct: bool | None
    extra_help: bool | None
    note: str | None = None  # None keeps the earlier note
    reason: str | None = None  # why an earlier judgement changes (required then)


@dataclass(frozen=True)
class MailAssessed:
    probe_id: int
    sender_complete: bool
    quality_points: int | None  # 0-3; None while the rubric is not complete
    changed: bool


def _counting_reply(ctx: Context, session: Session, probe_id: int) -> Message:
    """The reply that answers ``probe_id``; ServiceError when there is none to judge."""
    probe = session.get(Probe, probe_id)
    if probe is None:
        raise ServiceError("no_probe", probe=probe_id)
    if probe.channel != Channel.EMAIL:
        raise ServiceError("no_email_probe", probe=probe_id)
    rules = timing_rules(ctx.settings)
    replies = replies_by_probe(session, [probe_id], rules.review_below).get(probe_id, [])
    counting = answer(replies, count_holding_replies=rules.count_holding_replies)
    if counting is None or counting.message_id is None:
        raise ServiceError("not_answered", probe=probe_id)
    message = session.get(Message, counting.message_id)
    assert message is not None  # read from the same table a moment ago
    return message


def mail_proposal(ctx: Context, probe_id: int) -> MailProposal:
    """The signature's proposal for the reply that answers ``probe_id``, beside what is saved."""
    with Session(ctx.engine) as session:
        message = _counting_reply(ctx, session, probe_id)
        saved = session.exec(
            select(MailAssessment).where(MailAssessment.probe_id == probe_id)
        ).first()
        return MailProposal(
            probe_id,
            message.id or 0,
            sender_details(message.text_body or ""),
            _public(saved) if saved else None,
        )


def _clean(value: str | None, field: str) -> str | None:
    text = " ".join((value or "").split())
    if len(text) > MAX_FIELD[field]:
        raise ServiceError("field_too_long", field=field, limit=MAX_FIELD[field])
    return text or None


def assess_mail(ctx: Context, request: AssessMail) -> MailAssessed:
    """Save (or change) the judgement of one answered question; audited."""
    fields = {f: _clean(getattr(request, f), f) for f in MAX_FIELD}
    now = ctx.now()
    with Session(ctx.engine) as session:
        message = _counting_reply(ctx, session, request.probe_id)
        found = session.exec(
            select(MailAssessment).where(MailAssessment.probe_id == request.probe_id)
        ).first()
        reason = (request.reason or "").strip() or None
        if found is not None and reason is None:
            raise ServiceError("no_reason")
        before = _public(found) if found else None
        row = found or MailAssessment(
            probe_id=request.probe_id, assessor=ctx.actor, assessed_at=now
        )
        row.message_id = message.id
        row.sender_name = fields["name"]
        row.sender_title = fields["title"]
        row.sender_phone = fields["phone"]
        row.sender_address = fields["address"]
        row.sender_complete = bool(row.sender_name and row.sender_title and row.sender_phone)
        row.proposed = asdict(sender_details(message.text_body or ""))
        row.answered, row.correct, row.extra_help = (
            request.answered, request.correct, request.extra_help
        )  # fmt: skip
        row.notes = request.note.strip() or None if request.note is not None else row.notes
        row.assessor = ctx.actor
        row.assessed_at = now
        session.add(row)
        after = _public(row)
        action = "mail_assess" if before is None else "mail_reassess"
        session.add(ctx.audit(action, "probe", request.probe_id, before, after, reason, at=now))
        session.commit()
    parts = (request.answered, request.correct, request.extra_help)
    points = None if any(p is None for p in parts) else sum(1 for p in parts if p)
    return MailAssessed(
        request.probe_id, bool(after["sender_complete"]), points, before is not None
    )


def _public(a: MailAssessment) -> dict[str, Any]:
    return {
        "sender_name": a.sender_name,
        "sender_title": a.sender_title,
        "sender_phone": a.sender_phone,
        "sender_address": a.sender_address,
        "sender_complete": a.sender_complete,
        "answered": a.answered,
        "correct": a.correct,
        "extra_help": a.extra_help,
        "notes": a.notes,
        "assessor": a.assessor,
    }
