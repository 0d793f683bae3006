"""The e-mail channel's adapters, built from the settings: the SMTP sender, the IMAP mailbox
factory, the Sent-folder copier, the channel's probe and the crash resolver that looks a question
up in the Sent folder. Importing this module loads the mail libraries (aiosmtplib, aioimaplib), so
the registry names these as factories and a process imports them only when it builds its channels.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from pathlib import Path

from harness.core.config import ImapSettings, Settings, SmtpSettings
from harness.store.models import Probe
from probes.email_send import EmailProbe, SaveCopy, SmtpSender, token_provider
from probes.email_watch import WatchTiming
from probes.imap_client import ImapMailbox


def tls_context(
    server: SmtpSettings | ImapSettings, base_dir: Path | None
) -> ssl.SSLContext | None:
    """A context trusting the configured CA file, or None for the system's default trust."""
    if server.ca_file is None:
        return None
    path = (
        server.ca_file
        if server.ca_file.is_absolute() or base_dir is None
        else base_dir / server.ca_file
    )
    return ssl.create_default_context(cafile=str(path))


def smtp_sender(
    settings: SmtpSettings, base_dir: Path | None, environ: Mapping[str, str] | None = None
) -> SmtpSender:
    return SmtpSender(settings, tls_context=tls_context(settings, base_dir), environ=environ)


def imap_factory(
    settings: ImapSettings, base_dir: Path | None, environ: Mapping[str, str] | None = None
) -> Callable[[], ImapMailbox]:
    context = tls_context(settings, base_dir)
    tokens = token_provider(settings, environ)

    def connect() -> ImapMailbox:
        return ImapMailbox(settings, tls_context=context, token_provider=tokens, environ=environ)

    return connect


def sent_copier(
    settings: ImapSettings, base_dir: Path | None, environ: Mapping[str, str] | None = None
) -> SaveCopy:
    """Save a sent question to the Sent folder (``mail.save_to_sent``), marked as read."""
    connect = imap_factory(settings, base_dir, environ)

    async def save(raw: bytes, accepted_at: datetime) -> None:
        mailbox = connect()
        try:
            # aioimaplib can wait forever on a connection broken mid-command (found by the
            # fault tests): bound the whole exchange, or the runner stalls with it.
            async with asyncio.timeout(settings.timeout_seconds * 4):
                await mailbox.connect()
                await mailbox.append(await mailbox.resolve_folder("\\Sent"), raw, accepted_at)
        finally:
            await mailbox.close()

    return save


def email_probe(
    settings: Settings, base_dir: Path | None, environ: Mapping[str, str] | None = None
) -> EmailProbe:
    """The e-mail channel as configured (``[mail]`` must be present)."""
    mail = settings.mail
    if mail is None:
        raise ValueError("the e-mail channel is not configured")
    return EmailProbe(
        smtp_sender(mail.smtp, base_dir, environ),
        zone=settings.timezone,
        save_copy=sent_copier(mail.imap, base_dir, environ) if mail.save_to_sent else None,
    )


def watch_timing(settings: ImapSettings) -> WatchTiming:
    return WatchTiming(
        idle_renew_seconds=settings.idle_renew_minutes * 60.0,
        poll_seconds=float(settings.poll_interval_seconds),
    )


def sent_folder_resolver(
    settings: ImapSettings, base_dir: Path | None, environ: Mapping[str, str] | None = None
) -> Callable[[Probe], Awaitable[datetime | None]]:
    """After a crash: was this question sent? Look for its Message-ID in the Sent folder."""
    connect = imap_factory(settings, base_dir, environ)

    async def resolve(probe: Probe) -> datetime | None:
        if not probe.message_id:
            return None
        mailbox = connect()
        try:
            async with asyncio.timeout(settings.timeout_seconds * 4):  # as in sent_copier
                await mailbox.connect()
                await mailbox.select(await mailbox.resolve_folder("\\Sent"))
                uids = await mailbox.search_message_id(probe.message_id)
                found = await mailbox.fetch(uids[:1])
        finally:
            await mailbox.close()
        return found[0].internal_date if found else None

    return resolve
