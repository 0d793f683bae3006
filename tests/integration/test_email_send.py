"""Sending the question through a real SMTP server (aiosmtpd on 127.0.0.1, STARTTLS, AUTH)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import sys
from datetime import timedelta
from pathlib import Path

import aioimaplib
import pytest

from harness.channels.email.adapters import sent_copier
from harness.core.clock import FakeClock, SystemClock
from harness.core.config import ImapSettings, SmtpSettings
from harness.sandbox.accounts import Account
from harness.sandbox.certs import SandboxCA
from harness.sandbox.pymap import PymapSandbox
from harness.sandbox.smtp import SmtpSandbox
from probes.base import (
    DispatchJob,
    HarnessFault,
    Persona,
    ProbeContext,
    SendUnknown,
    TargetRejected,
    Transcript,
)
from probes.email_send import EmailProbe, SmtpSender, new_message_id, new_reply_token
from probes.imap_client import ImapMailbox

ENV = {"SMTP_PW": "smtp-losen-1", "SMTP_TOKEN": "smtp-token-1"}


def _settings(server: SmtpSandbox, **changes: object) -> SmtpSettings:
    values: dict[str, object] = {
        "host": "127.0.0.1",
        "port": server.port,
        "security": "starttls",
        "username": "matning@kkik.test",
        "password_env": "SMTP_PW",
        "timeout_seconds": 5,
    }
    values.update(changes)
    return SmtpSettings.model_validate(values)


def _job(unique: str, clock: FakeClock | SystemClock, **changes: object) -> DispatchJob:
    now = clock.now()
    values: dict[str, object] = {
        "probe_id": 7,
        "persona": Persona("Anna Lindqvist", "anna.lindqvist@fraga.example.se"),
        "recipient": f"kommun-{unique}@ostersund.example.se",
        "subject": "Behöver jag bygglov för ett uterum?",
        "body": "Hej!\n\nJag undrar om jag behöver bygglov för ett uterum på 12 kvm.\n\nMvh Anna",
        "send_by": now + timedelta(hours=1),
        "message_id": new_message_id("fraga.example.se", now),
        "reply_token": new_reply_token(),
    }
    values.update(changes)
    return DispatchJob(**values)  # type: ignore[arg-type]


def _ctx(clock: FakeClock | SystemClock) -> ProbeContext:
    return ProbeContext(clock=clock, transcript=Transcript(clock))


async def test_it_sends_the_question_over_starttls_and_records_acceptance(
    smtp_server: SmtpSandbox, tls_ca: SandboxCA, unique: str
):
    clock = SystemClock()
    sender = SmtpSender(_settings(smtp_server), tls_context=tls_ca.client_context(), environ=ENV)
    job = _job(unique, clock)
    before = clock.now()
    done = await EmailProbe(sender).dispatch(_ctx(clock), job)
    after = clock.now()

    received = next(m for m in smtp_server.messages if job.recipient in m.rcpt_tos)
    assert received.tls
    assert received.auth is not None
    assert received.auth.username == "matning@kkik.test"
    assert received.mail_from == f"anna.lindqvist+{job.reply_token}@fraga.example.se"
    assert before <= received.received_at <= done.accepted_at <= after
    assert done.response == "250 2.0.0 OK: queued"
    assert done.reference == job.message_id
    assert done.attempts == 1

    mail = email.message_from_bytes(received.content, policy=email.policy.default)
    assert mail["Message-ID"] == job.message_id
    assert mail["From"] == "Anna Lindqvist <anna.lindqvist@fraga.example.se>"
    assert mail["Reply-To"] == f"Anna Lindqvist <anna.lindqvist+{job.reply_token}@fraga.example.se>"
    assert mail["Subject"] == job.subject
    assert mail.get_content().replace("\r\n", "\n").strip() == job.body.strip()
    # Nothing reveals a measurement: no tool name, no tracking headers.
    header_text = " ".join(f"{k}: {v}" for k, v in mail.items()).lower()
    assert "kkik" not in header_text
    assert "x-mailer" not in header_text


async def test_it_sends_over_implicit_tls_free_of_plus_tokens(tls_ca: SandboxCA, unique: str):
    account = Account("matning@kkik.test", "smtp-losen-1")
    async with SmtpSandbox([account], ca=tls_ca, implicit_tls=True) as server:
        sender = SmtpSender(
            _settings(server, security="tls", port=server.port),
            tls_context=tls_ca.client_context(),
            environ=ENV,
        )
        clock = SystemClock()
        job = _job(unique, clock, reply_token=None)
        await EmailProbe(sender).dispatch(_ctx(clock), job)
        [received] = server.messages
    assert received.tls
    assert received.mail_from == "anna.lindqvist@fraga.example.se"
    assert b"Reply-To" not in received.content


async def test_it_authenticates_with_xoauth2_from_a_token_command(
    smtp_server: SmtpSandbox, tls_ca: SandboxCA, unique: str, tmp_path: Path
):
    script = tmp_path / "token.py"
    script.write_text("print('smtp-token-1')\n")
    settings = _settings(
        smtp_server,
        auth="xoauth2",
        password_env=None,
        oauth_token_command=[sys.executable, str(script)],
    )
    sender = SmtpSender(settings, tls_context=tls_ca.client_context(), environ=ENV)
    clock = SystemClock()
    job = _job(unique, clock)
    await EmailProbe(sender).dispatch(_ctx(clock), job)
    received = next(m for m in smtp_server.messages if job.recipient in m.rcpt_tos)
    assert received.auth is not None
    assert (received.auth.username, received.auth.mechanism) == ("matning@kkik.test", "XOAUTH2")


async def test_it_retries_deferrals_with_backoff(
    smtp_server: SmtpSandbox, tls_ca: SandboxCA, unique: str
):
    clock = FakeClock(SystemClock().now())
    smtp_server.handler.data_replies[:] = ["451 4.3.0 Try again later", "421 4.7.0 Busy"]
    sender = SmtpSender(_settings(smtp_server), tls_context=tls_ca.client_context(), environ=ENV)
    ctx = _ctx(clock)
    start = clock.now()
    done = await EmailProbe(sender).dispatch(ctx, _job(unique, clock))
    assert done.attempts == 3
    assert clock.now() - start == timedelta(seconds=2 + 4)  # backoff 2 s, then 4 s
    assert "451 4.3.0 Try again later" in ctx.transcript.lines[0]


async def test_it_marks_a_permanently_refused_recipient_as_target_rejected(
    smtp_server: SmtpSandbox, tls_ca: SandboxCA, unique: str
):
    clock = SystemClock()
    job = _job(unique, clock)
    smtp_server.handler.rcpt_replies[job.recipient] = "550 5.1.1 <x>: Recipient address rejected"
    sender = SmtpSender(_settings(smtp_server), tls_context=tls_ca.client_context(), environ=ENV)
    with pytest.raises(TargetRejected, match=r"SMTP server refused recipient \(550 5.1.1"):
        await EmailProbe(sender).dispatch(_ctx(clock), job)


async def test_it_treats_a_relay_refusal_as_our_fault(
    smtp_server: SmtpSandbox, tls_ca: SandboxCA, unique: str
):
    clock = SystemClock()
    job = _job(unique, clock)
    smtp_server.handler.rcpt_replies[job.recipient] = "554 5.7.1 Relay access denied"
    sender = SmtpSender(_settings(smtp_server), tls_context=tls_ca.client_context(), environ=ENV)
    with pytest.raises(HarnessFault, match=r"refused to relay \(554 5.7.1 Relay access denied\)"):
        await EmailProbe(sender).dispatch(_ctx(clock), job)


async def test_it_treats_a_refused_login_as_our_fault(
    smtp_server: SmtpSandbox, tls_ca: SandboxCA, unique: str
):
    clock = SystemClock()
    sender = SmtpSender(
        _settings(smtp_server), tls_context=tls_ca.client_context(), environ={"SMTP_PW": "fel"}
    )
    with pytest.raises(HarnessFault, match=r"SMTP login refused \(535"):
        await EmailProbe(sender).dispatch(_ctx(clock), _job(unique, clock))


@pytest.mark.parametrize(
    ("field", "header", "value"),
    [
        ("persona", "From name", Persona("Anna\r\nBcc: alla@kommun.example.se", "anna@fraga.se")),
        ("subject", "Subject", "Bygglov?\nBcc: alla@kommun.example.se"),
        ("subject", "Subject", "Bygglov?\x85Bcc: alla@kommun.example.se"),  # NEL
        ("persona", "From name", Persona("Anna\x00Lindqvist", "anna@fraga.se")),
    ],
)
async def test_it_never_sends_a_header_with_a_line_break(
    smtp_server: SmtpSandbox,
    tls_ca: SandboxCA,
    unique: str,
    field: str,
    header: str,
    value: object,
):
    # Scenarios are checked when read; a plan stored before that check must still not go out
    # (issue 15, L4): our fault, so the probe is replaced and never counted.
    clock = SystemClock()
    job = _job(unique, clock, **{field: value})
    sender = SmtpSender(_settings(smtp_server), tls_context=tls_ca.client_context(), environ=ENV)
    with pytest.raises(HarnessFault, match=rf"^Not sent: {header} holds a line break or control"):
        await EmailProbe(sender).dispatch(_ctx(clock), job)
    assert not [m for m in smtp_server.messages if job.recipient in m.rcpt_tos]


async def test_it_gives_up_when_the_server_is_down_all_window(tls_ca: SandboxCA, unique: str):
    async with SmtpSandbox([], ca=tls_ca) as server:
        port = server.port
    clock = FakeClock(SystemClock().now())
    settings = SmtpSettings.model_validate(
        {
            "host": "127.0.0.1",
            "port": port,
            "security": "none",
            "auth": "none",
            "timeout_seconds": 2,
        }
    )
    job = _job(unique, clock, send_by=clock.now() + timedelta(minutes=10))
    ctx = _ctx(clock)
    with pytest.raises(HarnessFault, match=r"Send window ended after 9 attempts"):
        await EmailProbe(SmtpSender(settings)).dispatch(ctx, job)
    # 2+4+8+16+32+64+128+256 s of backoff fit in ten minutes; the ninth wait would not.
    assert clock.now() - job.send_by < timedelta(0)
    assert all("unreachable" in line for line in ctx.transcript.lines)


async def test_it_saves_a_copy_in_the_swedish_sent_folder(
    smtp_server: SmtpSandbox, tls_ca: SandboxCA, unique: str
):
    user = Account("fraga@fraga.example.se", "imap-pw")
    async with PymapSandbox([user]) as imap:
        # An Outlook mailbox in Swedish: the sent folder is "Skickade objekt", not marked.
        client = aioimaplib.IMAP4(host=imap.host, port=imap.port, timeout=5)
        await client.wait_hello_from_server()
        await client.login(user.username, user.password)
        assert (await client.create('"Skickade objekt"')).result == "OK"
        await client.logout()
        imap_settings = ImapSettings.model_validate(
            {
                "host": "127.0.0.1",
                "port": imap.port,
                "security": "none",
                "username": user.username,
                "password_env": "IMAP_PW",
            }
        )
        env = {**ENV, "IMAP_PW": user.password}
        sender = SmtpSender(
            _settings(smtp_server), tls_context=tls_ca.client_context(), environ=ENV
        )
        probe = EmailProbe(sender, save_copy=sent_copier(imap_settings, None, env))
        clock = SystemClock()
        ctx = _ctx(clock)
        job = _job(unique, clock)
        done = await probe.dispatch(ctx, job)

        mailbox = ImapMailbox(imap_settings, environ=env)
        await mailbox.connect()
        try:
            await mailbox.select("Skickade objekt")
            [copy] = await mailbox.fetch(await mailbox.search_since(clock.now().date()))
        finally:
            await mailbox.close()
    sent = next(m for m in smtp_server.messages if job.recipient in m.rcpt_tos)
    assert copy.raw == sent.content
    assert "\\Seen" in copy.flags
    assert copy.internal_date == done.accepted_at.replace(microsecond=0)
    assert ctx.transcript.lines[-1].endswith("copy saved to the Sent folder")


class _LosesTheReply:
    """A plain SMTP server that takes the whole message, then hangs up instead of saying 250
    (the reply lost on the way back); with ``hang_up_at_mail`` it hangs up at MAIL instead."""

    def __init__(self, *, hang_up_at_mail: bool = False) -> None:
        self.hang_up_at_mail = hang_up_at_mail
        self.messages = 0
        self.connections = 0

    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            writer.write(b"220 test ESMTP\r\n")
            while line := await reader.readline():
                verb = line[:4].upper()
                if verb in (b"EHLO", b"HELO"):
                    writer.write(b"250 test\r\n")
                elif verb == b"MAIL" and self.hang_up_at_mail:
                    return
                elif verb in (b"MAIL", b"RCPT"):
                    writer.write(b"250 OK\r\n")
                elif verb == b"DATA":
                    writer.write(b"354 go ahead\r\n")
                    await writer.drain()
                    while await reader.readline() != b".\r\n":
                        pass
                    self.messages += 1
                    return  # the message is in; the 250 never leaves
                else:
                    writer.write(b"250 OK\r\n")
                await writer.drain()
        finally:
            writer.close()
            await writer.wait_closed()


def _plain(port: int) -> SmtpSettings:
    return SmtpSettings.model_validate(
        {
            "host": "127.0.0.1",
            "port": port,
            "security": "none",
            "auth": "none",
            "timeout_seconds": 2,
        }
    )


async def test_a_connection_lost_after_the_data_is_never_retried(unique: str):
    """Found by fault injection (tests/faults): resending after a lost 250 doubled questions."""
    handler = _LosesTheReply()
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = int(server.sockets[0].getsockname()[1])
    clock = FakeClock(SystemClock().now())
    ctx = _ctx(clock)
    try:
        with pytest.raises(SendUnknown, match="may have accepted"):
            await EmailProbe(SmtpSender(_plain(port))).dispatch(ctx, _job(unique, clock))
    finally:
        server.close()
        await server.wait_closed()
    assert (handler.connections, handler.messages) == (1, 1)


async def test_a_connection_lost_before_the_data_is_retried(unique: str):
    handler = _LosesTheReply(hang_up_at_mail=True)
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = int(server.sockets[0].getsockname()[1])
    clock = FakeClock(SystemClock().now())
    job = _job(unique, clock, send_by=clock.now() + timedelta(seconds=10))
    try:
        with pytest.raises(HarnessFault, match="Send window ended after 3 attempts"):
            await EmailProbe(SmtpSender(_plain(port))).dispatch(_ctx(clock), job)
    finally:
        server.close()
        await server.wait_closed()
    assert (handler.connections, handler.messages) == (3, 0)
