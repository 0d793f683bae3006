"""The e-mail channel as the registry knows it: a question mailed in the send window, answered
by a reply that the mailbox watcher collects (:mod:`harness.channels.email.store`), timed in
working time and given up after the configured working days."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from harness.channels.spec import ChannelSpec, Resolver
from harness.core.config import Settings
from harness.store.models import Channel

if TYPE_CHECKING:
    from probes.base import Probe as ChannelProbe


def _email_probe(
    settings: Settings, base: Path | None, environ: Mapping[str, str] | None
) -> ChannelProbe:
    from harness.channels.email.adapters import email_probe

    return email_probe(settings, base, environ)


def _email_resolver(
    settings: Settings, base: Path | None, engine: Engine, environ: Mapping[str, str] | None
) -> Resolver | None:
    del engine  # the Sent folder is the evidence, not the database
    mail = settings.mail
    if mail is None or not mail.save_to_sent:
        return None
    from harness.channels.email.adapters import sent_folder_resolver

    return sent_folder_resolver(mail.imap, base, environ)


CHANNEL = ChannelSpec(
    name=Channel.EMAIL,
    window=lambda spec: (spec.send_window.start, spec.send_window.end),
    per_day=lambda spec: spec.max_emails_per_target_per_day,
    limit_by_placed=False,
    address=lambda target: target.email_address,
    address_name="e-mail address",
    no_address_code="refused_no_email",
    question_text=lambda question: question.body,
    mints_message_id=True,
    records_mode=False,
    waits_for_reply=True,
    configured=lambda settings: settings.mail is not None,
    build=_email_probe,
    resolver=_email_resolver,
    evidence="harness.channels.email.store (Message, CaseNumber)",
)
