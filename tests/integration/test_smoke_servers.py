"""Smoke tests: each sandbox server answers a real client over a real loopback socket."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage

import aioimaplib
import aiosmtplib
import psycopg
import pytest
import sqlalchemy as sa

from harness.sandbox.accounts import Account
from harness.sandbox.certs import SandboxCA
from harness.sandbox.dovecot import DovecotSandbox
from harness.sandbox.postgres import PostgresSandbox
from harness.sandbox.pymap import PymapSandbox
from harness.sandbox.smtp import AuthIdentity, SmtpSandbox

CET = timezone(timedelta(hours=1))
WAIT = 5.0  # upper bound for anything that should take milliseconds


def make_message(subject: str, sender: str, rcpt: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = rcpt
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{abs(hash(subject))}@kkik.test>"
    msg.set_content("Hej! Hur lång är handläggningstiden för bygglov?\n")
    return msg


def raw_message(subject: str) -> bytes:
    return (
        f"From: invanare@example.test\r\nTo: registrator@kommun.test\r\n"
        f"Subject: {subject}\r\nMessage-ID: <{subject}@example.test>\r\n\r\n"
        "Hej kommunen!\r\n"
    ).encode()


@asynccontextmanager
async def smtp_client(server: SmtpSandbox, ca: SandboxCA) -> AsyncIterator[aiosmtplib.SMTP]:
    """Connected, STARTTLS done (trusting the sandbox CA) and EHLO sent again over TLS."""
    client = aiosmtplib.SMTP(
        hostname=server.host,
        port=server.port,
        start_tls=True,
        tls_context=ca.client_context(),
        timeout=WAIT,
    )
    async with client:
        # STARTTLS resets the SMTP session; auth_plain() does not re-send EHLO by itself.
        await client.ehlo()
        yield client


@asynccontextmanager
async def imap_session(
    host: str,
    port: int,
    account: Account | None = None,
    *,
    ssl_context: ssl.SSLContext | None = None,
) -> AsyncIterator[aioimaplib.IMAP4]:
    """A connected client, logged in with LOGIN when ``account`` is given; logs out after."""
    if ssl_context is not None:
        client = aioimaplib.IMAP4_SSL(host=host, port=port, timeout=WAIT, ssl_context=ssl_context)
    else:
        client = aioimaplib.IMAP4(host=host, port=port, timeout=WAIT)
    await client.wait_hello_from_server()
    try:
        if account is not None:
            response = await client.login(account.username, account.password)
            assert response.result == "OK", response
        yield client
    finally:
        await client.logout()


def fetched_literal(response: aioimaplib.Response) -> bytes:
    """The message literal (BODY[] / RFC822) from a single-message FETCH response."""
    literals = [bytes(line) for line in response.lines if isinstance(line, bytearray)]
    assert len(literals) == 1, response.lines
    return literals[0]


def internaldate(response: aioimaplib.Response) -> datetime:
    text = b" ".join(bytes(line) for line in response.lines).decode(errors="replace")
    match = re.search(r'INTERNALDATE "([^"]+)"', text)
    assert match, text
    return datetime.strptime(match.group(1), "%d-%b-%Y %H:%M:%S %z")


def search_uids(response: aioimaplib.Response) -> list[str]:
    assert response.result == "OK", response
    return bytes(response.lines[0]).decode().split()


async def idle_until_exists(idler: aioimaplib.IMAP4) -> list[bytes]:
    """Collect IDLE pushes until an EXISTS line arrives (each wait is bounded)."""
    pushed: list[bytes] = []
    while not any(line.endswith(b"EXISTS") for line in pushed):
        pushed += [bytes(line) for line in await idler.wait_server_push(timeout=WAIT)]
    return pushed


# -- SMTP (aiosmtpd in the test loop) ---------------------------------------------------------


async def test_it_records_a_message_sent_with_starttls_and_auth_plain(
    smtp_server: SmtpSandbox, tls_ca: SandboxCA, smtp_account: Account, unique: str
) -> None:
    subject = f"Fråga om bygglov {unique}"
    rcpt = f"registrator-{unique}@kommun.test"
    before = len(smtp_server.messages)
    async with smtp_client(smtp_server, tls_ca) as client:
        await client.auth_plain(smtp_account.username, smtp_account.password)
        await client.send_message(make_message(subject, smtp_account.username, rcpt))

    async with asyncio.timeout(WAIT):
        messages = await smtp_server.wait_for_messages(before + 1)
    [received] = [m for m in messages if rcpt in m.rcpt_tos]
    assert received.mail_from == smtp_account.username
    assert received.rcpt_tos == (rcpt,)
    assert received.tls is True
    assert received.auth == AuthIdentity(smtp_account.username, "PLAIN")
    assert received.peer[0] == "127.0.0.1"
    assert received.received_at.tzinfo is not None
    parsed = email.message_from_bytes(received.content, policy=email.policy.default)
    assert parsed["Subject"] == subject
    assert "handläggningstiden" in parsed.get_content()
    assert b"\r\n" in received.content


async def test_it_rejects_a_wrong_smtp_password_with_535_at_once(
    smtp_server: SmtpSandbox, tls_ca: SandboxCA, smtp_account: Account
) -> None:
    async with smtp_client(smtp_server, tls_ca) as client:
        with pytest.raises(aiosmtplib.SMTPAuthenticationError) as failure:
            async with asyncio.timeout(1.0):  # a missing reply would hang until WAIT
                await client.auth_plain(smtp_account.username, "fel-losen")
        assert failure.value.code == 535
        # the session stays usable: the right password still works
        response = await client.auth_plain(smtp_account.username, smtp_account.password)
        assert response.code == 235


async def test_it_accepts_xoauth2_with_the_configured_token(
    smtp_server: SmtpSandbox, tls_ca: SandboxCA, smtp_account: Account, unique: str
) -> None:
    assert smtp_account.xoauth2_token is not None
    rcpt = f"oauth-{unique}@kommun.test"
    before = len(smtp_server.messages)
    async with smtp_client(smtp_server, tls_ca) as client:
        assert client.supports_extension("auth")
        assert "xoauth2" in client.server_auth_methods
        response = await client.auth_xoauth2(smtp_account.username, smtp_account.xoauth2_token)
        assert response.code == 235
        await client.send_message(make_message(f"OAuth {unique}", smtp_account.username, rcpt))

    async with asyncio.timeout(WAIT):
        messages = await smtp_server.wait_for_messages(before + 1)
    [received] = [m for m in messages if rcpt in m.rcpt_tos]
    assert received.auth == AuthIdentity(smtp_account.username, "XOAUTH2")
    assert received.tls is True


async def test_it_rejects_a_wrong_xoauth2_token_with_535(
    smtp_server: SmtpSandbox, tls_ca: SandboxCA, smtp_account: Account
) -> None:
    async with smtp_client(smtp_server, tls_ca) as client:
        with pytest.raises(aiosmtplib.SMTPAuthenticationError) as failure:
            async with asyncio.timeout(1.0):
                await client.auth_xoauth2(smtp_account.username, "utgangen-token")
        assert failure.value.code == 535


# -- IMAP: pymap (in the test loop) -----------------------------------------------------------


async def test_it_returns_an_appended_message_with_its_internaldate_from_pymap(
    pymap_server: PymapSandbox, imap_account: Account, unique: str
) -> None:
    raw = raw_message(f"Append {unique}")
    sent_at = datetime(2026, 3, 1, 9, 31, 5, tzinfo=CET)
    async with imap_session(pymap_server.host, pymap_server.port, imap_account) as client:
        appended = await client.append(raw, mailbox="INBOX", flags=r"(\Seen)", date=sent_at)
        assert appended.result == "OK", appended
        uid = re.search(rb"APPENDUID \d+ (\d+)", b" ".join(appended.lines))
        assert uid is not None, appended.lines
        assert (await client.select("INBOX")).result == "OK"

        fetched = await client.uid("fetch", uid.group(1).decode(), "(UID INTERNALDATE BODY.PEEK[])")
        assert fetched.result == "OK", fetched
        assert fetched_literal(fetched) == raw
        assert internaldate(fetched) == sent_at  # same instant; pymap keeps the +0100 offset


async def test_it_delivers_into_a_pymap_mailbox_with_a_chosen_internaldate(
    pymap_server: PymapSandbox, imap_account: Account, unique: str
) -> None:
    raw = raw_message(f"Leverans {unique}")
    received_at = datetime(2026, 10, 5, 7, 0, tzinfo=UTC)
    uid = await pymap_server.deliver(imap_account.username, raw, when=received_at)
    async with imap_session(pymap_server.host, pymap_server.port, imap_account) as client:
        await client.select("INBOX")
        found = search_uids(await client.uid_search(f'HEADER Subject "{unique}"', charset=None))
        assert found == [str(uid)]
        fetched = await client.uid("fetch", str(uid), "(INTERNALDATE BODY.PEEK[])")
        assert fetched_literal(fetched) == raw
        assert internaldate(fetched) == received_at


async def test_it_pushes_exists_to_an_idling_pymap_client_when_another_appends(
    pymap_server: PymapSandbox, imap_account: Account, unique: str
) -> None:
    host, port = pymap_server.host, pymap_server.port
    async with imap_session(host, port, imap_account) as idler:
        assert (await idler.select("INBOX")).result == "OK"
        idle = await idler.idle_start(timeout=WAIT * 2)
        async with imap_session(host, port, imap_account) as other:
            appended = await other.append(raw_message(f"IDLE {unique}"), mailbox="INBOX")
            assert appended.result == "OK"
        pushed = await idle_until_exists(idler)
        idler.idle_done()
        async with asyncio.timeout(WAIT):
            assert (await idle).result == "OK"
    assert any(line.endswith(b"EXISTS") for line in pushed), pushed


# -- IMAP: Dovecot (subprocess) ---------------------------------------------------------------


async def test_it_logs_in_to_dovecot_over_plaintext_imap(
    dovecot: DovecotSandbox, imap_account: Account
) -> None:
    async with imap_session(dovecot.host, dovecot.imap_port, imap_account) as client:
        assert client.get_state() == "AUTH"
        assert (await client.select("INBOX")).result == "OK"


async def test_it_logs_in_to_dovecot_over_implicit_tls(
    dovecot: DovecotSandbox, tls_ca: SandboxCA, imap_account: Account
) -> None:
    ctx = tls_ca.client_context()
    async with imap_session(
        dovecot.host, dovecot.imaps_port, imap_account, ssl_context=ctx
    ) as client:
        assert client.get_state() == "AUTH"
        transport = client.protocol.transport
        assert transport.get_extra_info("ssl_object") is not None
        assert transport.get_extra_info("peercert")["subjectAltName"]


async def test_it_refuses_dovecot_imaps_without_trusting_the_sandbox_ca(
    dovecot: DovecotSandbox,
) -> None:
    untrusting = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # no CA loaded at all
    client = aioimaplib.IMAP4_SSL(
        host=dovecot.host, port=dovecot.imaps_port, timeout=WAIT, ssl_context=untrusting
    )
    with pytest.raises(ssl.SSLCertVerificationError):
        await client.wait_hello_from_server()


async def test_it_logs_in_to_dovecot_with_xoauth2(
    dovecot: DovecotSandbox, imap_account: Account
) -> None:
    assert imap_account.xoauth2_token is not None
    async with imap_session(dovecot.host, dovecot.imap_port) as client:
        response = await client.xoauth2(imap_account.username, imap_account.xoauth2_token)
        assert response.result == "OK", response
        assert client.get_state() == "AUTH"


async def test_it_rejects_a_wrong_dovecot_password_without_a_growing_delay(
    dovecot: DovecotSandbox, imap_account: Account
) -> None:
    # Dovecot 2.3.19 answers a failure after up to 0.5 s; the anvil penalty (2-15 s per
    # further attempt) is disabled by the sandbox, so repeated failures stay fast.
    for _ in range(2):
        async with imap_session(dovecot.host, dovecot.imap_port) as client:
            async with asyncio.timeout(1.5):
                response = await client.login(imap_account.username, "fel-losen")
            assert response.result == "NO"


async def test_it_finds_a_message_delivered_to_dovecot_over_lmtp(
    dovecot: DovecotSandbox, imap_account: Account, unique: str
) -> None:
    raw = raw_message(f"LMTP {unique}")
    await asyncio.to_thread(
        dovecot.lmtp_deliver, imap_account.username, "invanare@example.test", raw
    )
    async with imap_session(dovecot.host, dovecot.imap_port, imap_account) as client:
        assert (await client.select("INBOX")).result == "OK"
        uids = search_uids(await client.uid_search(f'HEADER Subject "{unique}"', charset=None))
        assert len(uids) == 1
        fetched = await client.uid("fetch", uids[0], "(INTERNALDATE BODY.PEEK[])")
        assert fetched.result == "OK", fetched
        stored = fetched_literal(fetched)
        assert stored.endswith(raw)  # Dovecot prepends Return-Path, Delivered-To, Received
        assert b"Delivered-To: " + imap_account.username.encode() in stored
        assert internaldate(fetched).utcoffset() == timedelta(0)  # Dovecot reports UTC


async def test_it_pushes_exists_to_an_idling_dovecot_client_after_lmtp_delivery(
    dovecot: DovecotSandbox, imap_account: Account, unique: str
) -> None:
    async with imap_session(dovecot.host, dovecot.imap_port, imap_account) as idler:
        assert (await idler.select("INBOX")).result == "OK"
        idle = await idler.idle_start(timeout=WAIT * 2)
        await asyncio.to_thread(
            dovecot.lmtp_deliver,
            imap_account.username,
            "invanare@example.test",
            raw_message(f"IDLE {unique}"),
        )
        # Dovecot waits a hard-coded 0.5 s (NOTIFY_DELAY_MSECS) before notifying.
        pushed = await idle_until_exists(idler)
        idler.idle_done()
        async with asyncio.timeout(WAIT):
            assert (await idle).result == "OK"
    assert any(line.endswith(b"EXISTS") for line in pushed), pushed


# -- PostgreSQL (subprocess cluster) ----------------------------------------------------------


def test_it_round_trips_a_timezone_aware_timestamp_through_postgres(
    pg_database_url: str,
) -> None:
    sent_at = datetime(2026, 3, 1, 9, 31, 5, 123456, tzinfo=CET)
    engine = sa.create_engine(pg_database_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text("CREATE TABLE svar (id serial PRIMARY KEY, mottaget timestamptz NOT NULL)")
            )
            conn.execute(sa.text("INSERT INTO svar (mottaget) VALUES (:t)"), {"t": sent_at})
        with engine.connect() as conn:
            stored = conn.execute(sa.text("SELECT mottaget FROM svar")).scalar_one()
    finally:
        engine.dispose()
    assert stored == sent_at
    assert stored.utcoffset() == timedelta(0)  # the sandbox cluster runs with timezone=UTC


def test_it_gives_each_test_a_fresh_empty_database(
    pg_database_url: str, postgres_server: PostgresSandbox
) -> None:
    database = pg_database_url.rsplit("/", 1)[1]
    with psycopg.connect(postgres_server.conninfo(database)) as conn:
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()
    assert tables == (0,)


def test_it_serves_the_session_database_over_tcp(postgres_url: str) -> None:
    assert postgres_url.startswith("postgresql+psycopg://postgres@127.0.0.1:")
    engine = sa.create_engine(postgres_url)
    try:
        with engine.connect() as conn:
            row = conn.execute(sa.text("SELECT current_database(), inet_server_addr()::text")).one()
    finally:
        engine.dispose()
    assert row[0] == postgres_url.rsplit("/", 1)[1]
    assert row[1].startswith("127.0.0.1")
