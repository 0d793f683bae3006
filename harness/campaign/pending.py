"""Replies still waiting for a person's decision, per campaign (issue 18: review before publishing).

A reply the harness was unsure of (``Message.needs_review``: a weak match, several candidate
questions, a malformed message) is not counted until an administrator decides; until then the
scores are provisional. This says how many such replies may touch a campaign and which
municipalities: the one of the probe it was matched to, or of every candidate probe. Flagged
mail matched to nothing and naming no candidate may be anyone's: it is counted as unassigned for
a campaign when it arrived on or after the campaign's first day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time

from sqlalchemy import Engine, select

from harness.store.models import Campaign, Message, Probe, Target


@dataclass(frozen=True)
class PendingReview:
    replies: int = 0  # messages awaiting a decision that may belong to the campaign
    by_municipality: dict[str, int] = field(default_factory=dict)  # kommunkod -> replies
    unassigned: int = 0  # of ``replies``: matched to nothing, no candidate
    names: dict[str, str] = field(default_factory=dict)  # kommunkod -> name, of those above

    def __bool__(self) -> bool:
        return self.replies > 0

    def count(self, kommunkod: str) -> int:
        return self.by_municipality.get(kommunkod, 0)

    def named(self) -> list[str]:
        """The municipalities concerned as "0180 Stockholm", in code order."""
        return [
            f"{code} {self.names.get(code, '')}".strip() for code in sorted(self.by_municipality)
        ]


def pending_review(engine: Engine, campaign: Campaign) -> PendingReview:
    """What waits for review and may change ``campaign``'s scores."""
    message, probe, target = (
        Message.__table__,  # type: ignore[attr-defined]
        Probe.__table__,  # type: ignore[attr-defined]
        Target.__table__,  # type: ignore[attr-defined]
    )
    with engine.connect() as connection:
        flagged = connection.execute(
            select(message.c.id, message.c.probe_id, message.c.candidates, message.c.arrived_at)
            .where(message.c.needs_review.is_(True))
        ).all()  # fmt: skip
        if not flagged:
            return PendingReview()
        # Only the probes the flagged replies name (not the campaign's 10,000 nationally).
        named = sorted({p for row in flagged for p in _probes_of(row.probe_id, row.candidates)})
        ours = {
            row.id: (row.kommunkod, row.name)
            for row in connection.execute(
                select(probe.c.id, target.c.kommunkod, target.c.name)
                .join(target, target.c.id == probe.c.target_id)
                .where(probe.c.campaign_id == campaign.id, probe.c.id.in_(named))
            )
        }
    start = datetime.combine(campaign.period_start, time(0), UTC)
    replies = unassigned = 0
    by_municipality: dict[str, int] = {}
    names: dict[str, str] = {}
    for row in flagged:
        probes = _probes_of(row.probe_id, row.candidates)
        concerned = {ours[p] for p in probes if p in ours}
        if concerned:
            replies += 1
            for code, name in concerned:
                by_municipality[code] = by_municipality.get(code, 0) + 1
                names[code] = name
        elif not probes and row.arrived_at is not None and _utc(row.arrived_at) >= start:
            replies += 1
            unassigned += 1
    return PendingReview(replies, by_municipality, unassigned, names)


def _probes_of(probe_id: int | None, candidates: list[int] | None) -> list[int]:
    """The probes a flagged reply concerns: its own, or else the candidates it may be for."""
    return [probe_id] if probe_id is not None else list(candidates or ())


def _utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes for the UTC stored; PostgreSQL aware ones.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
