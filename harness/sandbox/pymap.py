"""An in-memory IMAP server (pymap's ``dict`` backend) inside the caller's event loop.

Fast tier for IMAP: starts in milliseconds, any number of accounts, IDLE pushes within a few
milliseconds. Plaintext only (pymap has no implicit-TLS listener, and aioimaplib has no
STARTTLS); pymap treats loopback clients as secure, so LOGIN works without TLS.

Example::

    async with PymapSandbox([Account("kommun@kommun.test", "pw")]) as imap:
        uid = await imap.deliver("kommun@kommun.test", raw_bytes, when=sent_at)
        client = aioimaplib.IMAP4(host=imap.host, port=imap.port)

Known pymap quirks (stack-notes §3): INTERNALDATE keeps the offset it was given (compare
instants, not strings); unknown users would sleep 0.3 s, which is configured to 0 here; IDLE
reported only changes made after it began (corrected here, :func:`_report_pending_at_idle`).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sys
from argparse import Namespace
from collections.abc import Awaitable, Callable, Iterable
from contextlib import AsyncExitStack
from datetime import datetime
from typing import Any

import aioimaplib
from proxyprotocol.reader import ProxyProtocolReader
from proxyprotocol.sock import SocketInfo
from pymap.backend.dict import Config, DictBackend, Identity
from pymap.backend.dict.mailbox import MailboxData
from pymap.concurrent import Subsystem
from pymap.imap import IMAPServer
from pymap.user import Passwords, UserMetadata
from pysasl.hashing import Cleartext

from harness.core.clock import Clock
from harness.sandbox.accounts import Account, check_accounts
from harness.sandbox.ports import LOOPBACK
from harness.sandbox.service import AsyncService
from probes.imap_client import wait_hello
from probes.imap_wire import encode_folder

__all__ = ["PymapSandbox", "append_many", "serve"]


class PymapSandbox(AsyncService):
    """pymap dict backend listening on ``host``, port chosen by the kernel."""

    def __init__(self, accounts: Iterable[Account] = (), *, host: str = LOOPBACK) -> None:
        self.accounts = check_accounts(accounts)
        self.host = host
        self._stack: AsyncExitStack | None = None
        self._backend: DictBackend | None = None
        self._config: Config | None = None
        self._server: asyncio.Server | None = None
        self._port: int | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._callback: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
        self._callback = _not_started

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the pymap sandbox is not running")
        return self._port

    def _running(self) -> tuple[DictBackend, Config]:
        if self._backend is None or self._config is None:
            raise RuntimeError("the pymap sandbox is not running")
        return self._backend, self._config

    async def start(self) -> None:
        if self._server is not None:
            raise RuntimeError("already started")
        _report_pending_at_idle()
        args = Namespace(
            debug=False,
            host=self.host,
            port=0,
            cert=None,
            key=None,
            tls=False,
            proxy_protocol=None,
            passlib_cfg=None,
            inherited_sockets=None,
            demo_data=False,
            demo_user="_sandbox_placeholder_",
            demo_password="_",
        )
        backend, config = await DictBackend.init(
            args,
            hash_context=Cleartext(),  # default pbkdf2 costs ~120 ms per LOGIN
            invalid_user_sleep=0.0,
            reject_dnsbl=False,  # the default would do DNS blocklist lookups
            # The default runs password checks in a thread pool: a session cancelled while its
            # LOGIN waits for a thread (restart()) leaves that check a coroutine never awaited,
            # a warning (an error under pytest) at some later garbage collection. Cleartext
            # checks cost nothing; run them in the loop.
            cpu_subsystem=Subsystem.for_asyncio(),
        )
        _cache_sasl_mechanisms(config)
        # DictBackend.init always creates the demo user; drop it.
        await backend.login.demo_user_identity.delete()
        config.apply_context()
        stack = AsyncExitStack()
        await backend.start(stack)
        self._stack, self._backend, self._config = stack, backend, config
        for account in self.accounts:
            await self.add_account(account)

        imap = IMAPServer(backend.login, config)

        async def on_connection(
            reader: asyncio.StreamReader, writer: asyncio.StreamWriter, sock_info: SocketInfo
        ) -> None:
            task = asyncio.current_task()
            assert task is not None
            self._connections.add(task)
            self._writers.add(writer)
            try:
                await imap(reader, writer, sock_info)
            finally:
                self._connections.discard(task)
                self._writers.discard(writer)

        self._callback = ProxyProtocolReader(config.proxy_protocol).get_callback(on_connection)
        self._server = await asyncio.start_server(self._callback, self.host, 0)
        self._port = int(self._server.sockets[0].getsockname()[1])

    async def restart(self, clock: Clock, down_seconds: float) -> int:
        """Drop every connection and stop listening for ``down_seconds``, keeping the mail:
        what clients see when a server with persistent storage restarts (the fault tests).

        UIDs and UIDVALIDITY are unchanged. Returns the new port (the kernel picks it).
        """
        server = self._server
        if server is None:
            raise RuntimeError("the pymap sandbox is not running")
        server.close()
        # A cancelled session task leaves its socket open: clients would wait on silence.
        for writer in list(self._writers):
            writer.transport.abort()
        tasks = list(self._connections)
        for task in tasks:
            task.cancel()
        if tasks:
            # A session busy in the backend may take a moment to notice; do not wait on it.
            await asyncio.wait(tasks, timeout=1.0)
        self._port = None
        await clock.sleep(down_seconds)
        self._server = await asyncio.start_server(self._callback, self.host, 0)
        self._port = int(self._server.sockets[0].getsockname()[1])
        return self._port

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        tasks = list(self._connections)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()
        if self._stack is not None:
            await self._stack.aclose()
        self._stack = self._backend = self._config = None
        self._port = None

    async def add_account(self, account: Account) -> None:
        """Create (or replace the password of) a login while the server runs."""
        backend, config = self._running()
        check_accounts([account])
        password = await Passwords(config).hash_password(account.password)
        identity = Identity(account.username, backend.login, None, frozenset())
        await identity.set(UserMetadata(config, account.username, password=password))
        others = tuple(a for a in self.accounts if a.username != account.username)
        self.accounts = (*others, account)

    async def deliver(
        self,
        username: str,
        message: bytes,
        *,
        when: datetime,
        folder: str = "INBOX",
        flags: Iterable[str] = (),
        create_folder: bool = True,
    ) -> int:
        """Store ``message`` in ``username``'s ``folder`` as an IMAP APPEND would; return its UID.

        ``when`` becomes the INTERNALDATE and must be timezone-aware. Clients idling on the
        folder get ``* N EXISTS`` pushed. ``flags`` are IMAP flags such as ``"\\\\Seen"``.
        """
        [uid] = await self.deliver_many(
            username, [(message, when)], folder=folder, flags=flags, create_folder=create_folder
        )
        return uid

    async def deliver_many(
        self,
        username: str,
        messages: Iterable[tuple[bytes, datetime]],
        *,
        folder: str = "INBOX",
        flags: Iterable[str] = (),
        create_folder: bool = True,
    ) -> list[int]:
        """APPEND many (message, INTERNALDATE) pairs over one connection; return their UIDs."""
        account = next((a for a in self.accounts if a.username == username), None)
        if account is None:
            raise KeyError(f"no account {username!r}")
        # A real APPEND over a second connection, as a mail delivery agent would do it: pymap
        # pushes EXISTS to idling clients only for changes made through an IMAP session.
        return await append_many(
            self.host,
            self.port,
            account,
            messages,
            folder=folder,
            flags=flags,
            create_folder=create_folder,
        )

    async def forget(self, username: str, folder: str, uids: Iterable[int]) -> None:
        """Drop messages from ``username``'s ``folder`` without an IMAP session: a long run
        (the national benchmark) forgets the replies the watcher has stored, which pymap keeps
        parsed in memory. Clients see them expunged, as if another client had done it."""
        _backend, config = self._running()
        cached = config.set_cache.get(username)
        if cached is None:
            return  # never logged in: nothing delivered
        mailbox = await cached[0].get_mailbox(folder)
        await mailbox.delete(list(uids))


async def _not_started(_reader: asyncio.StreamReader, _writer: asyncio.StreamWriter) -> None:
    raise RuntimeError("the pymap sandbox is not running")


def _report_pending_at_idle() -> None:
    """Make pymap's IDLE report at once what changed since the session last looked.

    pymap's IDLE waits for the *next* change before it reports anything, so a message appended
    between a client's last command and its IDLE is reported only when another change comes (or
    at the client's next command, when it renews its IDLE). Dovecot, like the protocol's model,
    reports such a message when IDLE begins. The difference cost the demo a missed push, and the
    watcher's IDLE renewal, whenever a reply was delivered while the watcher was between its
    sync and its IDLE: part of the 150–220 slow deliveries of a national run
    (docs/performance.md). Patched once per process, on the backend's class.
    """
    original = MailboxData.update_selected
    if getattr(original, "_reports_pending", False):
        return

    async def update_selected(self: MailboxData, selected: Any, *, wait_on: Any = None) -> Any:
        pending = selected.mod_sequence is not None and (
            selected.mod_sequence != self._mod_sequences.highest
        )
        return await original(self, selected, wait_on=None if pending else wait_on)

    update_selected._reports_pending = True  # type: ignore[attr-defined]
    MailboxData.update_selected = update_selected  # type: ignore[method-assign]


def _cache_sasl_mechanisms(config: Config) -> None:
    """Look pymap's SASL mechanisms up once instead of at every LOGIN.

    ``Config.tls_auth`` builds ``SASLAuth.defaults()`` per login, which scans the installed
    packages' entry points: about 14 ms a LOGIN, the largest single cost of the demo's mail
    deliveries. The mechanisms cannot change while the sandbox runs, so this server's config
    (only this instance: its class is swapped for a subclass) keeps the first answer.
    """
    auth = config.tls_auth
    cached = type(type(config).__name__, (type(config),), {"tls_auth": property(lambda _: auth)})
    config.__class__ = cached


async def append_many(
    host: str,
    port: int,
    account: Account,
    messages: Iterable[tuple[bytes, datetime]],
    *,
    folder: str = "INBOX",
    flags: Iterable[str] = (),
    create_folder: bool = True,
) -> list[int]:
    """APPEND (message, INTERNALDATE) pairs over one IMAP connection; return their UIDs."""
    client = aioimaplib.IMAP4(host=host, port=port, timeout=60)
    uids: list[int] = []
    try:
        await wait_hello(client, 60)
        if (await client.login(account.username, account.password)).result != "OK":
            raise RuntimeError(f"LOGIN refused for {account.username!r}")
        mailbox = '"' + encode_folder(folder) + '"'
        if create_folder:
            await client.create(mailbox)  # NO when it exists: fine
        flag_list = "(" + " ".join(flags) + ")" if flags else None
        for message, when in messages:
            if when.tzinfo is None or when.utcoffset() is None:
                raise ValueError("when must be timezone-aware")
            response = await client.append(message, mailbox=mailbox, flags=flag_list, date=when)
            if response.result != "OK":
                raise RuntimeError(f"APPEND refused: {response.lines!r}")
            text = b" ".join(bytes(x) for x in response.lines).decode("ascii", "replace")
            match = re.search(r"APPENDUID \d+ (\d+)", text)
            if match is None:
                raise RuntimeError(f"APPEND gave no APPENDUID: {text!r}")
            uids.append(int(match.group(1)))
        return uids
    finally:
        # A connection the server dropped (a restart) never answers LOGOUT, and aioimaplib
        # would wait its whole timeout for it, even when the caller has given up and cancelled
        # us (found by the fault tests: a 60 s stall per restart that hit an append).
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.logout(), 1.0)
        transport = client.protocol.transport
        if transport is not None and not transport.is_closing():
            transport.close()


async def serve(username: str, password: str) -> None:
    """Run a sandbox until standard input closes; print the port first (for benchmarks that
    must measure a client's memory without the server's)."""
    async with PymapSandbox([Account(username, password)]) as server:
        sys.stdout.write(f"{server.port}\n")
        sys.stdout.flush()
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.read)


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1], sys.argv[2]))
