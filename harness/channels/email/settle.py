"""What counts as an e-mail probe's answer, decided in one place.

A probe's outcome follows from its stored mail by :mod:`results.answer_rule` (the rule the
e-mail log and the scores apply too): the reply that counts completes it at that reply's arrival;
without one, a final bounce completes it as bounced. The mail store settles a probe when mail
arrives; the review service settles it again when a person corrects a classification or an
assignment, so the probe, the log and the scores move together.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from harness.channels.email.replies import replies_from
from harness.store.models import Channel, Classification, Message, Probe, ProbeState
from results.email_log import ReplyEvidence, answer


def settle_probe(
    session: Session,
    probe_id: int,
    *,
    count_holding: bool,
    review_below: float,
    arrived: Message | None = None,
) -> bool:
    """Set an e-mail probe's outcome from its stored mail; True when it is bounced.

    The one place a probe's answer is decided: the reply that counts by results.answer_rule
    (the same one the log and the scores use) completes it at that reply's arrival; without one,
    a final bounce completes it as bounced. Called when a person corrects a classification or an
    assignment (then every message of the probe is weighed again, so the probe, the log and the
    scores move together: a correction that takes the answer away makes the probe wait again,
    and the runner gives up on it at its deadline, unless a final bounce says more), and when
    mail is stored, with ``arrived``: then only the new message is weighed against the outcome
    already settled, as the earlier ones were when they came (a probe in a mail loop gets
    thousands of messages; reading them all again for each one would be quadratic).
    """
    probe = session.get(Probe, probe_id)
    if probe is None:
        return False
    return settle(
        session, probe, count_holding=count_holding, review_below=review_below, arrived=arrived
    )


def settle(
    session: Session,
    probe: Probe,
    *,
    count_holding: bool,
    review_below: float,
    arrived: Message | None = None,
) -> bool:
    if probe.channel != Channel.EMAIL or probe.state not in (ProbeState.SENT, ProbeState.COMPLETED):
        return False
    probe_id = probe.id or 0
    if arrived is not None:
        _settle_with(probe, arrived, count_holding=count_holding, review_below=review_below)
        session.add(probe)
        return probe.outcome == "bounced"
    replies = replies_by_probe(session, [probe_id], review_below).get(probe_id, [])
    found = answer(replies, count_holding_replies=count_holding)
    bounce = session.exec(
        select(Message.arrived_at)
        .where(Message.probe_id == probe_id, Message.classification == Classification.BOUNCE)
        .where(col(Message.bounce_final).is_(True))
        .order_by(col(Message.arrived_at))
    ).first()
    if found is not None and found.arrived_at is not None:
        probe.state, probe.outcome, probe.completed_at = (
            ProbeState.COMPLETED,
            "answered",
            found.arrived_at,
        )
    elif probe.outcome in (None, "answered", "bounced") and bounce is not None:
        probe.state, probe.outcome, probe.completed_at = ProbeState.COMPLETED, "bounced", bounce
    elif probe.outcome in ("answered", "bounced"):  # its answer or bounce was corrected away
        probe.state, probe.outcome, probe.completed_at = ProbeState.SENT, None, None
    session.add(probe)
    return probe.outcome == "bounced"


def _settle_with(probe: Probe, row: Message, *, count_holding: bool, review_below: float) -> None:
    """One new message against the settled outcome, by the same rule as the full settling."""
    at = row.arrived_at
    if at is None:
        return
    evidence = replies_from([row], review_below)[0]
    if answer([evidence], count_holding_replies=count_holding) is not None:
        if probe.outcome != "answered" or probe.completed_at is None or at < probe.completed_at:
            probe.state, probe.outcome, probe.completed_at = ProbeState.COMPLETED, "answered", at
    elif row.classification == Classification.BOUNCE and row.bounce_final and probe.outcome is None:
        probe.state, probe.outcome, probe.completed_at = ProbeState.COMPLETED, "bounced", at


def replies_by_probe(
    session: Session, probe_ids: Sequence[int | None], review_below: float
) -> dict[int, list[ReplyEvidence]]:
    """The stored messages of these probes as reply evidence for the log and for scoring
    (read by :func:`harness.channels.email.replies.replies_from`)."""
    ids = [i for i in probe_ids if i is not None]
    replies: dict[int, list[ReplyEvidence]] = {}
    rows = session.exec(select(Message).where(col(Message.probe_id).in_(ids))).all()
    for m, evidence in zip(rows, replies_from(rows, review_below), strict=True):
        replies.setdefault(m.probe_id or 0, []).append(evidence)
    return replies
