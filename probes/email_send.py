"""Sending the question: build a resident's e-mail and hand it to our submission server.

The question time KKiK counts from is the moment our server accepted the message: the 250 reply
after DATA. That instant and the server's reply are the evidence returned in :class:`Dispatched`.

Retries cover only getting our own message out (4xx, refused or dropped connections, time-outs),
with exponential backoff until the end of the send window. A recipient refused permanently
(5.1.x) means the municipality's address is broken: :class:`TargetRejected`. A login or relay
refusal is ours: :class:`HarnessFault`, the probe is replaced and never counted.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import ssl
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import ClassVar
from zoneinfo import ZoneInfo

import aiosmtplib

from harness.core.config import ImapSettings, SmtpSettings, resolve_secret
from probes.base import (
    Dispatched,
    DispatchJob,
    HarnessFault,
    ProbeContext,
    SendUnknown,
    TargetRejected,
    TransientFailure,
)
from probes.email_headers import header_safe

TokenProvider = Callable[[], Awaitable[str]]
# Puts a copy of a sent question in the mailbox's Sent folder: (raw message, accepted at).
SaveCopy = Callable[[bytes, datetime], Awaitable[None]]

# Backoff between send attempts: 2 s doubling to 5 min, always inside the send window.
FIRST_BACKOFF = timedelta(seconds=2)
MAX_BACKOFF = timedelta(minutes=5)

# Never in a header we write (issue 15, L4): CR and LF end a header line and could add headers
# or recipients; the other control characters (C0, DEL, C1 such as NEL) and the Unicode line and
# paragraph separators are taken for line breaks by some mail software along the way.


def new_message_id(domain: str, now: datetime) -> str:
    """A Message-ID that looks like a mail client's and reveals nothing about a measurement."""
    return f"<{now:%Y%m%d%H%M%S}.{secrets.token_hex(8)}@{domain}>"


def new_reply_token() -> str:
    """Eight lowercase letters and digits: short enough to pass as a plus-address tag."""
    alphabet = "abcdefghijkmnpqrstuvwxyz23456789"  # no l/1/o/0, so it survives being read aloud
    return "".join(secrets.choice(alphabet) for _ in range(8))


def plus_address(address: str, token: str) -> str:
    local, _, domain = address.rpartition("@")
    return f"{local}+{token}@{domain}"


def build_question(job: DispatchJob, *, date: datetime, zone: str = "Europe/Stockholm") -> bytes:
    """Return the question as the bytes of an ordinary resident's plain-text e-mail.

    ``date`` goes into the Date: header in Swedish local time, as a mail client would write it.
    With a reply token the Reply-To carries it as a plus address, so the answer finds its probe
    even when the municipality's system breaks the threading headers. A header value with a
    line break or another control character raises :class:`HarnessFault`: nothing is sent.
    """
    if job.message_id is None:
        raise ValueError("the Message-ID must be chosen (and stored) before the question is built")
    # Checked when the scenario was read; checked again here because the values come from the
    # database (a plan saved before that check) and a header with a line break is never sent.
    headers = {
        "From name": job.persona.name,
        "From address": job.persona.address,
        "To": job.recipient,
        "Subject": job.subject,
        "Message-ID": job.message_id,
        "reply token": job.reply_token or "",
    }
    for header, value in headers.items():
        if not header_safe(value):
            raise HarnessFault(
                f"Not sent: {header} holds a line break or control character ({value!r})"[:300],
                code="header_unsafe",
                header=header,
            )
    msg = EmailMessage()
    local, _, domain = job.persona.address.rpartition("@")
    msg["From"] = Address(job.persona.name, local, domain)
    msg["To"] = job.recipient
    if job.reply_token:
        reply_local, _, reply_domain = plus_address(
            job.persona.address, job.reply_token
        ).rpartition("@")
        msg["Reply-To"] = Address(job.persona.name, reply_local, reply_domain)
    msg["Subject"] = job.subject
    msg["Date"] = format_datetime(date.astimezone(ZoneInfo(zone)))
    msg["Message-ID"] = job.message_id
    msg.set_content(job.body, charset="utf-8", cte="quoted-printable")
    return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))


def _enhanced_status(message: str) -> str | None:
    match = re.match(r"\s*([245]\.\d{1,3}\.\d{1,3})\b", message)
    return match.group(1) if match else None


def _describe(code: int, message: str) -> str:
    return f"{code} {' '.join(message.split())}"[:300]


def classify_smtp_error(exc: BaseException, *, phase_recipient: bool = False) -> Exception:
    """Map an aiosmtplib error to our tree: retry, target broken, or our fault."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
        return classify_smtp_error(exc.recipients[0], phase_recipient=True)
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        reply = _describe(exc.code, exc.message)
        return HarnessFault(f"SMTP login refused ({reply})", code="smtp_login_refused", reply=reply)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        text = _describe(exc.code, exc.message)
        if 400 <= exc.code < 500:
            return TransientFailure(
                f"SMTP server deferred ({text})", code="smtp_deferred", reply=text
            )
        status = _enhanced_status(exc.message) or ""
        if isinstance(exc, aiosmtplib.SMTPRecipientRefused) or phase_recipient:
            # 5.1.x is about the mailbox itself (unknown user, bad domain); 550/553 without an
            # enhanced code is how older servers say the same. Anything else (5.7.1 relay
            # denied) is our submission server refusing us.
            if status.startswith("5.1.") or (not status and exc.code in (550, 551, 553)):
                return TargetRejected(
                    f"SMTP server refused recipient ({text})",
                    code="smtp_recipient_refused",
                    reply=text,
                )
            return HarnessFault(
                f"SMTP server refused to relay ({text})", code="smtp_relay_refused", reply=text
            )
        return HarnessFault(
            f"SMTP server refused the message ({text})", code="smtp_message_refused", reply=text
        )
    if isinstance(exc, aiosmtplib.SMTPException | OSError | TimeoutError):
        error = f"{type(exc).__name__}: {exc}"[:300]
        return TransientFailure(
            f"SMTP server unreachable ({error})", code="smtp_unreachable", error=error
        )
    error = f"{type(exc).__name__}: {exc}"[:300]
    return HarnessFault(f"SMTP send failed ({error})", code="smtp_failed", error=error)


async def command_token(argv: tuple[str, ...], limit_seconds: float = 30.0) -> str:
    """Run the configured command and return the access token it prints (like a mail client)."""
    process = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), limit_seconds)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise HarnessFault(
            f"OAuth token command timed out after {limit_seconds:g} s",
            code="oauth_timeout",
            seconds=f"{limit_seconds:g}",
        ) from None
    token = out.decode("utf-8", "replace").strip()
    if process.returncode != 0 or not token:
        # The command's stderr may hold details but never the token; keep only its first line.
        detail = err.decode("utf-8", "replace").strip().splitlines()[:1]
        raise HarnessFault(
            f"OAuth token command failed (exit {process.returncode}{': ' if detail else ''}"
            f"{detail[0] if detail else ''})",
            code="oauth_command_failed",
            exit=str(process.returncode),
            detail=f": {detail[0]}" if detail else "",
        )
    return token


def token_provider(
    settings: SmtpSettings | ImapSettings, environ: Mapping[str, str] | None = None
) -> TokenProvider | None:
    """Where a fresh XOAUTH2 token comes from, read anew for every connection."""
    if settings.auth != "xoauth2":
        return None
    command = settings.oauth_token_command
    if command:
        return lambda: command_token(command)

    async def from_secret() -> str:
        token = resolve_secret(
            env=settings.oauth_token_env, file=settings.oauth_token_file, environ=environ
        )
        if not token:
            raise HarnessFault("OAuth token is empty", code="oauth_empty")
        return token

    return from_secret


class SmtpSender:
    """Submits messages to the configured server, with retries inside the send window."""

    def __init__(
        self,
        settings: SmtpSettings,
        *,
        tls_context: ssl.SSLContext | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self.tls_context = tls_context
        self.environ = environ
        self._tokens = token_provider(settings, environ)

    def _client(self) -> aiosmtplib.SMTP:
        s = self.settings
        return aiosmtplib.SMTP(
            hostname=s.host,
            port=s.port,
            timeout=s.timeout_seconds,
            use_tls=s.security == "tls",
            start_tls=s.security == "starttls",
            tls_context=self.tls_context if s.security != "none" else None,
        )

    async def _login(self, smtp: aiosmtplib.SMTP) -> None:
        s = self.settings
        if s.auth == "none" or s.username is None:
            return
        if self._tokens is not None:
            await smtp.auth_xoauth2(s.username, await self._tokens())
            return
        password = resolve_secret(env=s.password_env, file=s.password_file, environ=self.environ)
        await smtp.login(s.username, password or "")

    async def check(self) -> None:
        """Connect, secure and log in, then quit: nothing is sent (``kkik doctor``)."""
        smtp = self._client()
        try:
            await smtp.connect()
            await self._login(smtp)
            await smtp.quit()
        finally:
            if smtp.is_connected:
                smtp.close()

    async def submit_once(self, message: bytes, *, mail_from: str, rcpt_to: str) -> tuple[str, int]:
        """One connection, one transaction; return the server's reply to DATA."""
        smtp = self._client()
        try:
            await smtp.connect()
            await self._login(smtp)
            await smtp.mail(mail_from)
            await smtp.rcpt(rcpt_to)
            try:
                response = await smtp.data(message)
            except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError, OSError) as exc:
                # The message may have reached the server whole, with its 250 lost on the way
                # back (RFC 1047): sending again could deliver the question twice. (aiosmtplib
                # does not tell a loss before 354 from one after the final dot; that window is
                # one round trip, and treating it as unknown too errs on the safe side.)
                error = f"{type(exc).__name__}: {exc}"[:300]
                raise SendUnknown(
                    f"Connection lost during DATA; the server may have accepted the question "
                    f"({error})",
                    code="connection_lost_in_data",
                    error=error,
                ) from exc
            return response.message, response.code
        finally:
            if smtp.is_connected:
                try:
                    await smtp.quit()
                except (aiosmtplib.SMTPException, OSError):
                    smtp.close()

    async def send(
        self, ctx: ProbeContext, message: bytes, *, mail_from: str, rcpt_to: str, send_by: datetime
    ) -> Dispatched:
        """Submit ``message``; retry transient failures with backoff until ``send_by``."""
        backoff = FIRST_BACKOFF
        attempts = 0
        while True:
            attempts += 1
            try:
                reply, code = await self.submit_once(message, mail_from=mail_from, rcpt_to=rcpt_to)
            except (HarnessFault, SendUnknown) as exc:
                ctx.transcript.add(f"attempt {attempts}: {exc}")
                raise
            except Exception as exc:  # every other failure is sorted by classify_smtp_error
                error = classify_smtp_error(exc)
                ctx.transcript.add(f"attempt {attempts}: {error}")
                if not isinstance(error, TransientFailure):
                    raise error from exc
                wake = ctx.clock.now() + backoff
                if wake > send_by:
                    # The cause's code and details travel along, so the reason reads whole
                    # and repeated faults of one cause are recognised as the same.
                    raise HarnessFault(
                        f"Send window ended after {attempts} attempts; last: {error}",
                        code="send_window_ended",
                        attempts=attempts,
                        cause=getattr(error, "code", "retries_escaped"),
                        **getattr(error, "params", {}),
                    ) from exc
                await ctx.clock.sleep(backoff.total_seconds())
                backoff = min(backoff * 2, MAX_BACKOFF)
                continue
            # The evidence: this instant is when our server took responsibility for the message.
            accepted_at = ctx.clock.now()
            response = f"{code} {' '.join(reply.split())}"[:500]
            ctx.transcript.add(f"attempt {attempts}: accepted: {response}")
            return Dispatched(accepted_at=accepted_at, response=response, attempts=attempts)


class EmailProbe:
    """The e-mail channel: build the resident's question and submit it."""

    channel: ClassVar[str] = "email"

    def __init__(
        self,
        sender: SmtpSender,
        *,
        zone: str = "Europe/Stockholm",
        save_copy: SaveCopy | None = None,
    ) -> None:
        self.sender = sender
        self.zone = zone
        self.save_copy = save_copy

    async def dispatch(self, ctx: ProbeContext, job: DispatchJob) -> Dispatched:
        raw = build_question(job, date=ctx.clock.now(), zone=self.zone)
        # The envelope sender carries the token too, so bounces find their probe (VERP).
        mail_from = (
            plus_address(job.persona.address, job.reply_token)
            if job.reply_token
            else job.persona.address
        )
        done = await self.sender.send(
            ctx, raw, mail_from=mail_from, rcpt_to=job.recipient, send_by=job.send_by
        )
        if self.save_copy is not None:
            # The question is out and timed; a missing copy in Sent must not undo that.
            try:
                await self.save_copy(raw, done.accepted_at)
                ctx.transcript.add("copy saved to the Sent folder")
            except Exception as exc:
                ctx.transcript.add(f"copy not saved to the Sent folder: {exc}"[:300])
        return Dispatched(
            accepted_at=done.accepted_at,
            response=done.response,
            attempts=done.attempts,
            reference=job.message_id,
        )
