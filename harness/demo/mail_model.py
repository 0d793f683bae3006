"""What the demo world's e-mail side is made of: the question it reads, the mails it sends
back and the truth the harness must find (pure).

:class:`QuestionSent` describes the question (``from_job`` for a dispatch job, ``from_raw`` for
the bytes our SMTP server received); :class:`WorldMail` is one mail the municipality sends, of a
:class:`MailKind`; :class:`EmailResponse` is everything it does with one question
(:func:`harness.demo.world_mail.email_responses` makes it). :func:`answered_within` is the
truth's "answered within N working days".
"""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from enum import StrEnum
from typing import Literal

from probes.base import DispatchJob
from probes.email_send import plus_address
from results.calendar import DeadlineRule, WorkCalendar

__all__ = [
    "EmailResponse",
    "Folder",
    "MailKind",
    "QuestionSent",
    "WorldMail",
    "answered_within",
]

Folder = Literal["INBOX", "Junk"]


@dataclass(frozen=True)
class QuestionSent:
    """One question that left our server, as the world sees it.

    ``persona_address`` is the plus-address the question's Reply-To carried
    (``anna.lindqvist+TOKEN@domain``); ``accepted_at`` is when our server accepted it (aware).
    ``area`` (question bank area, e.g. "bygglov") only flavours the answer's text and title.
    """

    probe_id: int
    message_id: str
    reply_token: str
    persona_name: str
    persona_address: str
    subject: str
    body: str
    target_address: str
    accepted_at: datetime
    area: str | None = None

    def __post_init__(self) -> None:
        if self.accepted_at.tzinfo is None or self.accepted_at.utcoffset() is None:
            raise ValueError("accepted_at must be time-zone aware")
        if not (self.message_id.startswith("<") and self.message_id.endswith(">")):
            raise ValueError(f"message_id must be written with <>: {self.message_id!r}")
        local = self.persona_address.partition("@")[0]
        if local.partition("+")[2] != self.reply_token:
            raise ValueError(
                f"persona_address {self.persona_address!r} must be the plus-address "
                f"carrying the reply token {self.reply_token!r}"
            )

    @classmethod
    def from_job(
        cls, job: DispatchJob, accepted_at: datetime, *, area: str | None = None
    ) -> QuestionSent:
        """The question a :class:`~probes.base.DispatchJob` became once our server took it."""
        if job.message_id is None or job.reply_token is None:
            raise ValueError("the job needs its Message-ID and reply token")
        return cls(
            probe_id=job.probe_id,
            message_id=job.message_id,
            reply_token=job.reply_token,
            persona_name=job.persona.name,
            persona_address=plus_address(job.persona.address, job.reply_token),
            subject=job.subject,
            body=job.body,
            target_address=job.recipient,
            accepted_at=accepted_at,
            area=area,
        )

    @classmethod
    def from_raw(
        cls,
        *,
        probe_id: int,
        raw: bytes,
        accepted_at: datetime,
        reply_token: str | None = None,
        area: str | None = None,
    ) -> QuestionSent:
        """The question as it left our server (the bytes ``build_question`` wrote).

        The reply token is read from the Reply-To plus-address when not given.
        """
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        sender = msg["From"].addresses[0] if msg["From"] else None
        reply_to = msg["Reply-To"].addresses[0].addr_spec if msg["Reply-To"] else None
        if sender is None or reply_to is None:
            raise ValueError("the question needs a From and a Reply-To (plus-address) header")
        token = reply_token or reply_to.partition("@")[0].partition("+")[2]
        body = msg.get_body(("plain",))
        return cls(
            probe_id=probe_id,
            message_id=str(msg["Message-ID"] or "").strip(),
            reply_token=token,
            persona_name=sender.display_name,
            persona_address=reply_to,
            subject=str(msg["Subject"] or ""),
            body=body.get_content() if isinstance(body, EmailMessage) else "",
            target_address=msg["To"].addresses[0].addr_spec if msg["To"] else "",
            accepted_at=accepted_at,
            area=area,
        )

    @property
    def bare_address(self) -> str:
        """The persona's address without the token."""
        local, _, domain = self.persona_address.rpartition("@")
        return f"{local.partition('+')[0]}@{domain}"

    @property
    def first_name(self) -> str:
        return self.persona_name.split()[0] if self.persona_name.split() else ""


class MailKind(StrEnum):
    RECEIPT = "receipt"  # automatic: case-system receipt or contact centre auto-reply
    HOLDING = "holding"  # a person defers ("vi återkommer"): not an answer by default
    ANSWER = "answer"  # a person answers: the one that counts


@dataclass(frozen=True)
class WorldMail:
    """One mail the municipality sends us, and where and when it lands."""

    kind: MailKind
    arrive_at: datetime  # UTC, whole seconds: our server's Received stamp
    folder: Folder
    raw: bytes
    message_id: str
    sender: str
    to: str
    threaded: bool  # carries In-Reply-To/References with our Message-ID
    variant: str  # which template wrote it (for humans reading a demo log)


@dataclass(frozen=True)
class EmailResponse:
    """Everything the world does with one question, and the truth the harness must find."""

    probe_id: int
    accepted_at: datetime
    mails: tuple[WorldMail, ...]  # in arrival order
    answered_at: datetime | None  # arrival of the first counting answer (holding never counts)
    delay: timedelta | None  # the sampled business delay of the answer

    @property
    def answer(self) -> WorldMail | None:
        return next((m for m in self.mails if m.kind is MailKind.ANSWER), None)

    @property
    def first_human_reply_at(self) -> datetime | None:
        """The truth when holding replies count (``email.count_holding_replies = true``)."""
        human = [m.arrive_at for m in self.mails if m.kind is not MailKind.RECEIPT]
        return min(human, default=None)


def answered_within(
    response: EmailResponse,
    calendar: WorkCalendar,
    days: int = 1,
    rule: DeadlineRule = DeadlineRule.OFFICE_HOURS,
) -> bool:
    """The world's truth for "answered within ``days`` working days" (False when unanswered).

    Computed from the world's own instants (acceptance and the answer's arrival) with
    ``WorkCalendar.within``; nothing the harness stored is read.
    """
    if response.answered_at is None:
        return False
    return calendar.within(response.accepted_at, response.answered_at, days, rule)
