"""The administrator's response-time log for e-mail probes (pure).

For each probe: when the question was accepted, which reply counts as the answer (the first
human reply by arrival; holding replies only when configured), the business hours between them
and whether that was within one working day. Everything is recomputed from the stored evidence,
so a corrected classification or a changed rule changes the log without touching the evidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from results.answer_rule import counts_as_answer
from results.calendar import DeadlineRule, WorkCalendar

_NEVER = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True)
class ReplyEvidence:
    arrived_at: datetime | None
    kind: str | None  # human_reply, auto_reply, bounce, unrelated (None: not classified)
    holding: bool
    matched_by: str | None
    needs_review: bool
    confidence: float | None = None  # of the match to its probe, 0-1
    message_id: int | None = None  # the stored message it was read from


@dataclass(frozen=True)
class ProbeEvidence:
    probe_id: int
    kommunkod: str
    target: str
    area: str | None
    sent_at: datetime | None
    outcome: str | None
    replies: tuple[ReplyEvidence, ...]
    # The probe's campaign's own closed days (a staff day, a klämdag), added to the calendar
    # log_rows is given: a log can mix campaigns, and each probe is judged by its own.
    closed_days: frozenset[date] = field(default_factory=frozenset)
    # Case numbers the municipality gave the question (from a receipt or a reply).
    case_numbers: tuple[str, ...] = ()


@dataclass(frozen=True)
class LogRow:
    probe_id: int
    kommunkod: str
    target: str
    area: str | None
    sent_at: datetime | None
    answered_at: datetime | None
    business_hours: float | None
    within_one_working_day: bool | None
    reply_kind: str | None  # of the answer, else of the first reply seen
    matched_by: str | None
    replies: int
    confidence: float | None = None  # of that reply's match to the probe
    # The first automatic reply or receipt linked to the question: it shows the question arrived.
    acknowledged_at: datetime | None = None
    case_numbers: tuple[str, ...] = ()


def answer(
    replies: Sequence[ReplyEvidence], *, count_holding_replies: bool
) -> ReplyEvidence | None:
    """The reply that counts: the earliest-arriving reply that counts as an answer by
    results.answer_rule (a human reply linked by a reply signal; holding ones if configured)."""
    counting = [
        r
        for r in replies
        if r.arrived_at is not None
        and counts_as_answer(
            kind=r.kind,
            holding=r.holding,
            matched_by=r.matched_by,
            needs_review=r.needs_review,
            count_holding_replies=count_holding_replies,
        )
    ]
    return min(counting, key=lambda r: r.arrived_at or _NEVER, default=None)


def log_rows(
    probes: Sequence[ProbeEvidence],
    calendar: WorkCalendar,
    rule: DeadlineRule,
    *,
    count_holding_replies: bool = False,
) -> list[LogRow]:
    """One row per probe; ``calendar`` is the configured one, each probe's closed days added."""
    rows = []
    # Probes of one campaign share one set of closed days: one calendar per distinct set.
    calendars: dict[frozenset[date], WorkCalendar] = {}
    for probe in probes:
        found = answer(probe.replies, count_holding_replies=count_holding_replies)
        hours = within = None
        if found is not None and probe.sent_at is not None and found.arrived_at is not None:
            own = calendars.get(probe.closed_days)
            if own is None:
                own = calendars[probe.closed_days] = calendar.with_closed_days(probe.closed_days)
            hours = round(own.business_seconds(probe.sent_at, found.arrived_at) / 3600, 2)
            within = own.within(probe.sent_at, found.arrived_at, 1, rule)
        elif probe.sent_at is not None and probe.outcome in ("bounced", "not_answered"):
            within = False
        first = found or min(
            (r for r in probe.replies if r.arrived_at is not None),
            key=lambda r: r.arrived_at or _NEVER,
            default=None,
        )
        acknowledged = min(
            (
                r.arrived_at
                for r in probe.replies
                if r.kind == "auto_reply" and r.arrived_at is not None and not r.needs_review
            ),
            default=None,
        )
        rows.append(
            LogRow(
                probe_id=probe.probe_id,
                kommunkod=probe.kommunkod,
                target=probe.target,
                area=probe.area,
                sent_at=probe.sent_at,
                answered_at=found.arrived_at if found else None,
                business_hours=hours,
                within_one_working_day=within,
                reply_kind=first.kind if first else None,
                matched_by=first.matched_by if first else None,
                replies=len(probe.replies),
                confidence=first.confidence if first else None,
                acknowledged_at=acknowledged,
                case_numbers=probe.case_numbers,
            )
        )
    return rows
