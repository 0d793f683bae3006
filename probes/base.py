"""The one small interface every channel implements, and the errors it may raise.

A probe puts one question to one municipality. Answers come later and by other routes (a reply in
the mailbox, a Twilio callback), so a channel only has to *dispatch*; collecting evidence is the
job of the mailbox watcher and the webhooks, which store it against the probe.

Example::

    class EmailProbe:
        channel = "email"
        async def dispatch(self, ctx: ProbeContext, job: DispatchJob) -> Dispatched: ...

Errors, drawn as a tree::

    ProbeError                 something stopped this probe
    ├── HarnessFault           our side failed for good (relay down all window, login refused):
    │                          the probe is invalid, excluded from scoring and replaced
    ├── TargetRejected         the municipality's side refused permanently (550 5.1.1 user
    │                          unknown): the probe counts as not answered; the address is broken
    └── TransientFailure       worth another try inside the send window (4xx, timeout, refused
                               connection); a channel retries these itself and raises
                               HarnessFault when the window runs out

There are no hidden retries of the measured act: a call that rings out is a result, not an error.
Only getting our own question out may be retried, because until our server accepts it nothing is
being measured.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar, Protocol

from harness.core.clock import Clock


class ProbeError(Exception):
    """Base of the probe errors.

    ``code`` names what happened (its words, Swedish and English, are in
    :mod:`harness.core.labels`) and ``params`` carry the details, among them what came from
    outside (a server's reply) to be shown quoted; the harness stores both, so a reader sees the
    reason in their own language. ``str(error)`` is an English line for the logs.
    """

    default_code = "probe_error"

    def __init__(self, message: str, *, code: str | None = None, **params: str | int) -> None:
        super().__init__(message)
        self.code: str = code or self.default_code
        self.params: dict[str, str | int] = params


class HarnessFault(ProbeError):
    """Our own side failed; the probe must not count against the municipality."""


class TargetRejected(ProbeError):
    """The municipality's address or number was refused permanently."""


class TransientFailure(ProbeError):
    """A failure that may pass; retried inside the send window."""

    default_code = "retries_escaped"


class SendUnknown(ProbeError):
    """The connection was lost after the server may have taken the question (after the end of
    DATA, before its reply). Never retried, or the municipality could get it twice: the probe
    is flagged for a person, as after a crash while sending."""


@dataclass(frozen=True)
class Transcript:
    """Timestamped lines kept with a dispatch, shown to administrators (like a debug log)."""

    clock: Clock
    lines: list[str] = field(default_factory=list)

    def add(self, line: str) -> None:
        self.lines.append(f"{self.clock.now().isoformat(timespec='milliseconds')} {line}")


@dataclass(frozen=True)
class ProbeContext:
    clock: Clock
    transcript: Transcript


@dataclass(frozen=True)
class Persona:
    """The resident the question seems to come from."""

    name: str
    address: str


@dataclass(frozen=True)
class DispatchJob:
    """Everything a channel needs to put one question; identifiers are chosen and stored first.

    ``message_id`` and ``reply_token`` are generated and saved by the runner *before* dispatch,
    so that after a crash the probe can be recognised in the mailbox instead of sent again.
    """

    probe_id: int
    persona: Persona
    recipient: str  # e-mail address or E.164 number
    subject: str
    body: str
    send_by: datetime  # end of the send window: give up (harness fault) after this
    message_id: str | None = None
    reply_token: str | None = None


@dataclass(frozen=True)
class Dispatched:
    """Evidence that the question left: when our server accepted it, and what it said."""

    accepted_at: datetime
    response: str
    attempts: int
    reference: str | None = None  # Message-ID or call SID


class Probe(Protocol):
    channel: ClassVar[str]

    async def dispatch(self, ctx: ProbeContext, job: DispatchJob) -> Dispatched: ...
