"""A connection reset under the IMAP client is noticed at once, not when its timeout fires.

aioimaplib keeps waiting for the greeting or a command's reply after the socket has been reset
under it, until its timeout (production: ``imap.timeout_seconds``, 30 s by default). The
adapter races every call against the protocol's connection_lost. These tests put a small proxy
between the client and an in-process pymap server that can hold the server's bytes (so a reply
never comes) and reset every connection (TCP RST), with a client timeout of 30 s: each loss must
surface, or the watcher reconnect, within about a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from harness.channels.email.store import MailStore
from harness.core.clock import SystemClock
from harness.sandbox.accounts import Account
from harness.sandbox.ports import LOOPBACK
from harness.sandbox.pymap import PymapSandbox
from harness.store.models import Message
from probes.email_analysis import TimingRules
from probes.email_watch import MailWatcher, WatchTiming
from probes.imap_client import ImapMailbox
from probes.imap_wire import ImapConnectionLost, ImapError
from tests.factories import loopback_imap, reply_to, seed_sent_probe

USER = Account("fraga@fraga.example.se", "imap-pw")
ENV = {"IMAP_PW": USER.password}
SLOW_TIMEOUT = 30  # what aioimaplib would wait without the fix
PROMPT = 1.5  # seconds: "at once", with room for a loaded machine
SENT = datetime(2026, 10, 6, 7, 15, tzinfo=UTC)


class ResettingProxy:
    """Copies bytes to and from a server; ``hold`` swallows the server's; ``reset_all`` RSTs."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.hold = False
        # Server chunks to pass on before holding (1: the greeting gets through, nothing else).
        self.hold_after: int | None = None
        self.accepted = 0
        self._server: asyncio.Server | None = None
        self._clients: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    async def __aenter__(self) -> ResettingProxy:
        self._server = await asyncio.start_server(self._handle, LOOPBACK, 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._server is not None
        self._server.close()
        self.reset_all()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    def reset_all(self) -> None:
        for writer in list(self._clients):
            sock = writer.get_extra_info("socket")
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._clients.add(writer)
        self.accepted += 1
        up_reader, up_writer = await asyncio.open_connection(LOOPBACK, self.upstream_port)

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter, held: bool) -> None:
            passed = 0
            while data := await src.read(16384):
                if held and self.hold_after is not None and passed >= self.hold_after:
                    continue
                if not (held and self.hold):
                    dst.write(data)
                    await dst.drain()
                    passed += 1

        pumps = [
            asyncio.create_task(pump(reader, up_writer, False)),
            asyncio.create_task(pump(up_reader, writer, True)),
        ]
        try:
            await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for p in pumps:
                p.cancel()
            await asyncio.gather(*pumps, return_exceptions=True)
            for w in (writer, up_writer):
                if not w.transport.is_closing():
                    w.close()
                with contextlib.suppress(OSError):
                    await w.wait_closed()
            self._clients.discard(writer)
            self._tasks.discard(task)


@pytest.fixture
async def proxied() -> AsyncIterator[tuple[PymapSandbox, ResettingProxy]]:
    async with PymapSandbox([USER]) as server, ResettingProxy(server.port) as proxy:
        yield server, proxy


def _mailbox(proxy: ResettingProxy) -> ImapMailbox:
    settings = loopback_imap(proxy.port, USER.username, timeout_seconds=SLOW_TIMEOUT)
    return ImapMailbox(settings, environ=ENV)


async def _reset_soon(proxy: ResettingProxy) -> None:
    await SystemClock().sleep(0.2)
    proxy.reset_all()


@pytest.mark.parametrize("when", ["before the greeting", "after the greeting"])
async def test_a_reset_during_connect_fails_it_at_once(
    proxied: tuple[PymapSandbox, ResettingProxy], when: str
):
    _, proxy = proxied
    if when == "before the greeting":
        proxy.hold = True  # the greeting never arrives
    else:
        # aioimaplib asks CAPABILITY right after the greeting, holding its state lock, with no
        # timeout: a connection that dies then used to hang connect() for good, uncancellably.
        proxy.hold_after = 1
    mailbox = _mailbox(proxy)
    clock = SystemClock()
    started = clock.monotonic()
    reset = asyncio.create_task(_reset_soon(proxy))
    try:
        with pytest.raises(ImapError):
            await mailbox.connect()
    finally:
        await reset
        await mailbox.close()
    assert clock.monotonic() - started < PROMPT


async def test_a_server_silent_after_the_greeting_fails_the_connect_at_its_timeout(
    proxied: tuple[PymapSandbox, ResettingProxy],
):
    _, proxy = proxied
    proxy.hold_after = 1
    settings = loopback_imap(proxy.port, USER.username, timeout_seconds=1)
    mailbox = ImapMailbox(settings, environ=ENV)
    clock = SystemClock()
    started = clock.monotonic()
    try:
        with pytest.raises(ImapError):
            async with asyncio.timeout(10):  # without the fix: never
                await mailbox.connect()
    finally:
        await mailbox.close()
    assert clock.monotonic() - started < 1 + PROMPT


async def test_a_reset_in_the_middle_of_a_command_fails_it_at_once(
    proxied: tuple[PymapSandbox, ResettingProxy],
):
    _, proxy = proxied
    mailbox = _mailbox(proxy)
    await mailbox.connect()
    clock = SystemClock()
    try:
        proxy.hold = True  # the command goes out; its reply never comes back
        started = clock.monotonic()
        reset = asyncio.create_task(_reset_soon(proxy))
        with pytest.raises(ImapConnectionLost):
            await mailbox.select("INBOX")
        await reset
        assert clock.monotonic() - started < PROMPT
        # Later calls on the dead connection fail at once too, without sending anything.
        with pytest.raises(ImapConnectionLost):
            await mailbox.search_since(date(2026, 10, 5))
    finally:
        await mailbox.close()


async def test_a_reset_during_an_append_fails_it_at_once(
    proxied: tuple[PymapSandbox, ResettingProxy],
):
    # The runner's copy to the Sent folder: bounded by 4 x the timeout in
    # harness/channels/email/adapters.py,
    # but a reset must not cost that.
    _, proxy = proxied
    mailbox = _mailbox(proxy)
    await mailbox.connect()
    clock = SystemClock()
    try:
        proxy.hold = True
        started = clock.monotonic()
        reset = asyncio.create_task(_reset_soon(proxy))
        with pytest.raises(ImapConnectionLost):
            await mailbox.append("INBOX", b"Subject: x\r\n\r\nbody\r\n", SENT)
        await reset
        assert clock.monotonic() - started < PROMPT
    finally:
        await mailbox.close()


def _count(engine: Engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(Message)).one()


@pytest.mark.parametrize("mid_command", [False, True], ids=["idle", "mid-command"])
async def test_the_watcher_reconnects_within_a_second_after_a_reset(
    proxied: tuple[PymapSandbox, ResettingProxy], sqlite_engine: Engine, mid_command: bool
):
    # "idle": the connection is reset while the watcher idles. "mid-command": the server's
    # bytes are swallowed first, so the watcher's IDLE renewal (DONE) never gets its reply and
    # only the reset can end that wait. Either way the reply delivered after the reset must be
    # stored within about a second (a reconnect), not after the 30 s timeout.
    server, proxy = proxied
    probe = seed_sent_probe(sqlite_engine, sent_at=SENT)
    store = MailStore(sqlite_engine, SystemClock(), TimingRules())
    timing = WatchTiming(
        idle_renew_seconds=0.3 if mid_command else 600, poll_seconds=600, first_backoff=0.05
    )
    watcher = MailWatcher(
        lambda: _mailbox(proxy),
        store,
        SystemClock(),
        folders=("INBOX",),
        since=date(2026, 10, 5),
        timing=timing,
    )
    clock = SystemClock()
    task = asyncio.create_task(watcher.run())
    try:
        async with asyncio.timeout(10):
            await watcher.wait_synced(lambda: watcher.stats["INBOX"].syncs >= 1)
        proxy.hold = mid_command
        await clock.sleep(0.8)  # idling; or past the renewal, waiting for DONE's reply
        syncs = watcher.stats["INBOX"].syncs
        started = clock.monotonic()
        proxy.hold = False
        proxy.reset_all()
        arrived = SENT + timedelta(hours=2)
        await server.deliver(USER.username, reply_to(probe, written_at=arrived), when=arrived)
        async with asyncio.timeout(SLOW_TIMEOUT / 2):
            await watcher.wait_synced(lambda: _count(sqlite_engine) == 1)
        assert clock.monotonic() - started < PROMPT
        assert watcher.stats["INBOX"].connects == 2
        assert mid_command is False or watcher.stats["INBOX"].syncs == syncs + 1
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert _count(sqlite_engine) == 1
