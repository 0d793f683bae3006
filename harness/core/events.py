"""What the running campaign did, one event at a time, for the operator to read.

The runner, the mail store, the mailbox watcher and the call follow-up report each thing they do
as a :class:`RunEvent`: a kind, the probe and municipality it concerns, and for failures and
pauses a code with parameters (:mod:`harness.core.labels`). They carry no prose: ``kkik run``
words them in the operator's language, so the same events could feed a log file or the
dashboard.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

EventKind = Literal[
    "sent",  # a question sent or a call placed
    "failed",  # our side failed: a harness fault, replaced
    "rejected",  # the municipality's address or number was refused for good
    "flagged",  # maybe sent: waits for a person (kkik resolve)
    "refused",  # a safety rule stopped it (placeholder target, no address)
    "moved",  # its slot had passed: moved to the next free slot
    "no_slot",  # its slot had passed and none is left in the period
    "resolved",  # a send cut short by a crash was found in the Sent folder
    "paused",  # the runner paused the campaign by itself
    "reply",  # a mail was stored and judged
    "call_ended",  # a call's outcome is known
    "mailbox_down",  # a watched folder's connection was lost (retried with backoff)
    "mailbox_login_refused",  # the mailbox refused our login
    "folder_missing",  # a watched folder does not exist (looked for again now and then)
    "mailbox_back",  # a folder's connection works again
]


@dataclass(frozen=True)
class RunEvent:
    kind: EventKind
    probe_id: int | None = None
    target: str | None = None  # "2380 Östersund"
    channel: str | None = None
    code: str | None = None  # a fault or pause code, or a mail's kind or a call's outcome
    params: dict[str, Any] = field(default_factory=dict)
    at: datetime | None = None  # the new time of a moved probe


OnEvent = Callable[[RunEvent], None]
