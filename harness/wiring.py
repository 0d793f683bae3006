"""Build the working parts from the settings: calendar, timing rules, mail adapters.

One place turns configuration into objects, so the CLI, the runner and the web app cannot
drift apart in how, say, the working-day calendar is set up. The calendars themselves are built
in :mod:`harness.calendars` (light enough for the mail store to import) and re-exported here.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from harness.call_finisher import CallFinisher
from harness.clock import Clock, ensure_utc
from harness.config import ImapSettings, SecretUnavailable, Settings, SmtpSettings, resolve_secret
from harness.models import CallEvent, Probe
from harness.rules import timeline_rules
from probes.email_send import EmailProbe, SaveCopy, SmtpSender, token_provider
from probes.email_watch import WatchTiming
from probes.imap_client import ImapMailbox
from probes.phone_call import PhoneConfig, PhoneProbe


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


def phone_config(settings: Settings, environ: Mapping[str, str] | None = None) -> PhoneConfig:
    phone = settings.phone
    if phone is None:
        raise ValueError("the phone channel is not configured")
    token = resolve_secret(env=phone.auth_token_env, file=phone.auth_token_file, environ=environ)
    if not token:
        raise SecretUnavailable("phone.auth_token", "empty")
    return PhoneConfig(
        mode=phone.mode,
        account_sid=phone.account_sid,
        auth_token=token,
        from_number=phone.from_number,
        caller_number=phone.caller_number,
        public_url=settings.web.public_url,
        api_base_url=phone.api_base_url,
        ring_timeout_seconds=phone.ring_timeout_seconds,
        call_time_limit_seconds=phone.call_time_limit_seconds,
        hold_limit_seconds=phone.hold_limit_seconds,
        record_calls=phone.record_calls,
    )


def phone_probe(settings: Settings, environ: Mapping[str, str] | None = None) -> PhoneProbe:
    return PhoneProbe(phone_config(settings, environ))


def call_finisher(
    settings: Settings, engine: Engine, clock: Clock, phone: PhoneProbe | None
) -> CallFinisher:
    limits = settings.phone
    longest = timedelta(
        seconds=(limits.ring_timeout_seconds + limits.call_time_limit_seconds) * 2
        if limits
        else 3600
    )
    return CallFinisher(engine, clock, phone, timeline_rules(settings), longest_call=longest)


async def call_placed(engine: Engine, probe: Probe) -> datetime | None:
    """After a crash: was this call placed? Its callbacks (they carry the probe id) tell."""
    with Session(engine) as session:
        first = session.exec(
            select(CallEvent.received_at)
            .where(CallEvent.probe_id == probe.id, CallEvent.source == "twilio")
            .order_by(col(CallEvent.received_at))
        ).first()
    return None if first is None else ensure_utc(first)
