"""A person's purge of personal data older than its retention (``kkik purge``, the dashboard's
*Rensa personuppgifter*): what is removed and what stays is
:mod:`harness.campaign.retention`'s; this checks the request and names who asked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from harness.campaign.retention import (
    Cutoffs,
    DeleteRecording,
    PurgeCounts,
    cutoffs,
    purge_all,
)
from harness.services.base import Context, ServiceError

__all__ = ["PurgeCounts", "Purged", "purge_personal_data"]


@dataclass(frozen=True)
class Purged:
    counts: PurgeCounts
    before: datetime  # the earliest cutoff: what came before this was purged (or would be)
    dry_run: bool
    as_of: datetime | None = None  # the instant the retention periods were counted back from


async def purge_personal_data(
    ctx: Context,
    before: datetime | None = None,
    *,
    as_of: datetime | None = None,
    dry_run: bool = False,
    delete_recording: DeleteRecording | None = None,
) -> Purged:
    """Purge personal data older than its retention (or everything before ``before``), the
    recordings at Twilio through ``delete_recording`` included.

    ``as_of`` counts each kind's retention back from an earlier instant than now (the
    dashboard's confirmation page: the purge removes what the page listed, not what has aged
    since)."""
    now = ctx.now()
    if before is not None and before > now:
        raise ServiceError("purge_future", before=before.isoformat(timespec="minutes"))
    instant = min(as_of, now) if as_of is not None else now
    cuts = Cutoffs.every(before) if before is not None else cutoffs(ctx.settings, instant)
    counts = await purge_all(
        ctx.engine, cuts, delete_recording, actor=ctx.actor, at=now, dry_run=dry_run,
        reason="retention" if before is None else "before",
    )  # fmt: skip
    return Purged(counts, cuts.earliest, dry_run, instant)
