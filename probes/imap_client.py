"""A thin adapter over aioimaplib: the IMAP commands the mailbox watcher needs, parsed.

aioimaplib returns raw response lines; this module (with :mod:`probes.imap_wire` for the wire
format) turns them into typed values and works around its rough edges (capabilities parsed with junk
from the LOGIN line, ``xoauth2`` never answering a failure challenge, ``n:*`` returning the last
message even when ``n`` is past it).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import ssl
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, TypeVar

import aioimaplib

from harness.core.config import ImapSettings, resolve_secret
from probes.imap_wire import (
    FALLBACK_NAMES,
    FetchedMessage,
    FolderMissing,
    FolderStatus,
    ImapConnectionLost,
    ImapError,
    ImapLoginRefused,
    decode_folder,
    encode_folder,
    imap_date,
    parse_fetch,
    quote_folder,
    search_uids,
    uid_set,
)

TokenProvider = Callable[[], Awaitable[str]]
T = TypeVar("T")


def _unblock(client: aioimaplib.IMAP4) -> None:
    """Cancel aioimaplib's welcome task: it holds the protocol's state lock while it waits,
    with no timeout, for the answer to CAPABILITY; on a connection that died after the greeting
    it never ends, and the hello waiter (which needs that lock to finish, even when cancelled)
    could then never be cancelled either: a hang for good, not a timeout."""
    if client.protocol is not None:
        for task in list(client.protocol.tasks):
            task.cancel()


async def wait_hello(
    client: aioimaplib.IMAP4, seconds: float, lost: asyncio.Event | None = None
) -> None:
    """``client.wait_hello_from_server()``, but ended within ``seconds`` (and at once when
    ``lost`` is set), and cancellable, whatever state the connection died in."""
    hello = asyncio.ensure_future(client.wait_hello_from_server())
    waiters: set[asyncio.Future[Any]] = {hello}
    gone = asyncio.ensure_future(lost.wait()) if lost is not None else None
    if gone is not None:
        waiters.add(gone)
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        if gone is not None:
            gone.cancel()
        if not hello.done():
            _unblock(client)
            hello.cancel()
            # Shielded: if we are being cancelled, still let the waiter finish (it can now).
            await asyncio.shield(asyncio.wait({hello}, timeout=1.0))
    if not hello.done() or hello.cancelled():
        if lost is not None and lost.is_set():
            raise ImapConnectionLost("connection lost before the greeting")
        raise TimeoutError("no greeting from the IMAP server")
    hello.result()


class ImapMailbox:
    """One IMAP connection to the measurement mailbox."""

    def __init__(
        self,
        settings: ImapSettings,
        *,
        tls_context: ssl.SSLContext | None = None,
        token_provider: TokenProvider | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self.tls_context = tls_context
        self.token_provider = token_provider
        self.environ = environ
        self._client: aioimaplib.IMAP4 | None = None
        self.capabilities: frozenset[str] = frozenset()
        self.lost = False
        # Set by the protocol's connection_lost: every command in flight is raced against it,
        # since aioimaplib itself only gives up on a dead connection when its timeout fires.
        self._lost_event = asyncio.Event()
        self._done_sent = False
        # The selected folder's size as the server last told it, and whether it told of growth
        # in a command's response after the SELECT (see wait_for_push).
        self._exists = 0
        self._grew = False

    @property
    def client(self) -> aioimaplib.IMAP4:
        if self._client is None:
            raise ImapError("not connected")
        return self._client

    @property
    def has_idle(self) -> bool:
        return "IDLE" in self.capabilities

    async def connect(self) -> None:
        s = self.settings
        timeout = float(s.timeout_seconds)
        # IMAP4 with an SSL context is implicit TLS; IMAP4_SSL would not take conn_lost_cb.
        context = None
        if s.security == "tls":
            context = self.tls_context or ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
        self.lost = False
        self._lost_event = asyncio.Event()
        client = aioimaplib.IMAP4(
            host=s.host,
            port=s.port,
            timeout=timeout,
            conn_lost_cb=self._connection_lost,
            ssl_context=context,
        )
        self._client = client
        self._watch_untagged(client)
        try:
            await wait_hello(client, timeout, self._lost_event)
        except Exception as exc:
            raise ImapError(f"IMAP server unreachable ({type(exc).__name__}: {exc})") from exc
        await self._login()
        # Ask again after login: the capabilities aioimaplib parsed from the LOGIN reply carry
        # junk tokens, and servers advertise more once authenticated.
        await self._guard(
            asyncio.wait_for(client.protocol.capability(), self.settings.timeout_seconds)
        )
        caps = {str(token).upper() for token in client.protocol.capabilities}
        self.capabilities = frozenset(caps)

    def _watch_untagged(self, client: aioimaplib.IMAP4) -> None:
        """See every untagged response, for the folder's size (see :meth:`wait_for_push`).

        aioimaplib hands an untagged ``* N EXISTS`` that comes during UID SEARCH or UID FETCH to
        no one ("ignored untagged response"): only a pending NOOP, SELECT or IDLE receives it.
        A server tells of new mail once, so the news of a reply that arrived during the sync
        was lost and the reply waited for the IDLE's renewal: 2 s in the demo, where it cost the
        national run more than a quarter of its wall time; 25 minutes in production."""
        protocol = client.protocol
        untagged = protocol._untagged_response

        def seen(line: bytes) -> Any:
            self._note_growth(line)
            return untagged(line)

        protocol._untagged_response = seen

    def _connection_lost(self, _exc: Exception | None) -> None:
        # aioimaplib does not wake an IDLE wait when the connection drops (a server restart):
        # hand the waiter a BYE so it gives up at once instead of after the renewal period.
        self.lost = True
        self._lost_event.set()
        client = self._client
        if client is not None and client.protocol is not None:
            client.protocol.idle_queue.put_nowait([b"BYE connection lost"])
            _unblock(client)

    async def _guard(self, awaitable: Awaitable[T]) -> T:
        """Await an aioimaplib call, or raise ImapConnectionLost as soon as the socket closes.

        aioimaplib keeps waiting for the reply to a command (or for the greeting) after the
        connection has been reset or closed under it, until its timeout fires; with a
        production timeout that is a long stall per lost connection. Racing the call against
        the protocol's connection_lost turns it into an immediate, retryable error.
        """
        if self.lost:
            if asyncio.iscoroutine(awaitable):
                awaitable.close()  # never started; closing it keeps Python from warning
            raise ImapConnectionLost("connection lost")
        task = asyncio.ensure_future(awaitable)
        lost = asyncio.ensure_future(self._lost_event.wait())
        try:
            await asyncio.wait({task, lost}, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            task.cancel()
            raise
        finally:
            lost.cancel()
        if task.done():
            return task.result()
        task.cancel()
        # Never wait for the cancelled call for good (see _unblock): a moment, then move on.
        await asyncio.wait({task}, timeout=1.0)
        if task.done() and not task.cancelled():
            task.exception()  # retrieved: the connection is gone either way
        raise ImapConnectionLost("connection lost")

    async def _login(self) -> None:
        s = self.settings
        client = self.client
        if s.auth == "none" or s.username is None:
            return
        if s.auth == "xoauth2":
            if self.token_provider is None:
                raise ImapLoginRefused("XOAUTH2 configured but no token source")
            token = await self.token_provider()
            try:
                # aioimaplib never answers the server's failure challenge and hangs until its
                # timeout; the timeout is the failure signal.
                response = await self._guard(client.xoauth2(s.username, token))
            except TimeoutError:
                raise ImapLoginRefused("IMAP XOAUTH2 login refused (no answer)") from None
        else:
            password = resolve_secret(
                env=s.password_env, file=s.password_file, environ=self.environ
            )
            response = await self._guard(client.login(s.username, password or ""))
        if response.result != "OK":
            detail = b" ".join(bytes(x) for x in response.lines).decode("utf-8", "replace")
            reply = detail.strip()[:200]
            raise ImapLoginRefused(f"IMAP login refused ({reply})", reply)

    async def list_folders(self) -> list[tuple[str, frozenset[str]]]:
        """Every folder with its attributes (``\\Junk`` and friends from SPECIAL-USE)."""
        response = await self._guard(self.client.list('""', '"*"'))
        found = []
        for line in response.lines[:-1]:
            text = bytes(line).decode("utf-8", "replace")
            match = re.match(r'\(([^)]*)\) (?:"[^"]*"|NIL) (.+)$', text)
            if not match:
                continue
            name = match.group(2).strip()
            if name.startswith('"') and name.endswith('"'):
                name = name[1:-1].replace('\\"', '"').replace("\\\\", "\\")
            attributes = frozenset(a.lower() for a in match.group(1).split())
            found.append((decode_folder(name), attributes))
        return found

    async def resolve_folder(self, folder: str) -> str:
        """Map a configured name to a real folder; ``\\Junk`` finds the junk folder."""
        if not folder.startswith("\\"):
            return folder
        folders = await self.list_folders()
        wanted = folder.lower()
        for name, attributes in folders:
            if wanted in attributes:
                return name
        names = {name.casefold(): name for name, _ in folders}
        for candidate in FALLBACK_NAMES.get(wanted, ()):
            if candidate.casefold() in names:
                return names[candidate.casefold()]
        raise FolderMissing(f"no folder marked {folder} on the server")

    async def select(self, folder: str) -> FolderStatus:
        response = await self._guard(self.client.select(quote_folder(encode_folder(folder))))
        if response.result != "OK":
            detail = b" ".join(bytes(x) for x in response.lines).decode("utf-8", "replace")
            if "NONEXISTENT" in detail.upper() or "doesn't exist" in detail.lower():
                raise FolderMissing(f"folder {folder!r} does not exist")
            raise ImapError(f"cannot select {folder!r}: {detail}"[:300])
        uidvalidity = uidnext = None
        exists = 0
        for line in response.lines:
            text = bytes(line).decode("ascii", "replace")
            if m := re.search(r"\[UIDVALIDITY (\d+)\]", text):
                uidvalidity = int(m.group(1))
            elif m := re.search(r"\[UIDNEXT (\d+)\]", text):
                uidnext = int(m.group(1))
            elif m := re.fullmatch(r"(\d+) EXISTS", text.strip()):
                exists = int(m.group(1))
        if uidvalidity is None:
            raise ImapError(f"server sent no UIDVALIDITY for {folder!r}")
        self._exists, self._grew = exists, False
        return FolderStatus(uidvalidity=uidvalidity, uidnext=uidnext, exists=exists)

    def _note_growth(self, line: bytes) -> None:
        """Remember a ``* N EXISTS`` above the size known: mail arrived since the SELECT."""
        if m := re.fullmatch(rb"(?:\* )?(\d+) EXISTS", line.strip()):
            count = int(m.group(1))
            self._grew = self._grew or count > self._exists
            self._exists = count

    async def search_since(self, day: date) -> list[int]:
        response = await self._guard(
            self.client.uid_search(f"SINCE {imap_date(day)}", charset=None)
        )
        return search_uids(response)

    async def search_message_id(self, message_id: str) -> list[int]:
        """UIDs of messages whose Message-ID header is ``message_id`` (a crash check)."""
        if not re.fullmatch(r"<[^<>\s\"\\]+>", message_id):
            raise ValueError(f"not a Message-ID: {message_id!r}")
        response = await self._guard(
            self.client.uid_search(f'HEADER Message-ID "{message_id}"', charset=None)
        )
        return search_uids(response)

    async def uids_after(self, highest: int) -> list[int]:
        """UIDs above ``highest`` (``n:*`` always returns the last message; filter it)."""
        response = await self._guard(self.client.uid_search(f"UID {highest + 1}:*", charset=None))
        return [uid for uid in search_uids(response) if uid > highest]

    async def fetch(self, uids: Sequence[int]) -> list[FetchedMessage]:
        if not uids:
            return []
        response = await self._guard(
            self.client.uid(
                "fetch", uid_set(uids), "(UID INTERNALDATE RFC822.SIZE FLAGS BODY.PEEK[])"
            )
        )
        if response.result != "OK":
            raise ImapError(f"UID FETCH failed: {response.lines[-1:]!r}"[:300])
        wanted = set(uids)
        return [m for m in parse_fetch(response.lines) if m.uid in wanted]

    async def wait_for_push(self, seconds: float) -> bool:
        """IDLE up to ``seconds``; return True if the server pushed anything (new mail).

        True at once, without IDLE, when a response since the SELECT already told of new mail:
        a server tells of each change once, so one reported during the sync's SEARCH or FETCH
        (mail arriving while the watcher synced) is not reported again when IDLE begins, and
        would wait for the IDLE's renewal (25 minutes in production) to be fetched."""
        client = self.client
        if self.lost:
            raise ImapConnectionLost("connection lost")
        if self._grew:
            self._grew = False
            return True
        idle = await self._guard(client.idle_start(timeout=seconds))
        self._done_sent = False
        pushed = False
        try:
            while True:
                lines = await client.wait_server_push(timeout=seconds)
                if lines == aioimaplib.STOP_WAIT_SERVER_PUSH:
                    break
                if isinstance(lines, list | tuple):
                    text = b" ".join(bytes(x) for x in lines if isinstance(x, bytes | bytearray))
                    if b"EXISTS" in text or b"RECENT" in text:
                        pushed = True
                        break
                    if b"BYE" in text:
                        raise ImapError("server closed the IDLE connection")
                else:
                    break
        except TimeoutError:
            pass
        finally:
            if self.lost:
                idle.cancel()
            elif client.has_pending_idle():
                client.idle_done()
                self._done_sent = True
        if self.lost:
            raise ImapConnectionLost("connection lost during IDLE")
        await self._guard(asyncio.wait_for(idle, self.settings.timeout_seconds))
        return pushed

    async def noop(self) -> None:
        await self._guard(self.client.noop())

    async def append(
        self, folder: str, raw: bytes, when: datetime, flags: str = r"(\Seen)"
    ) -> None:
        response = await self._guard(
            self.client.append(
                raw, mailbox=quote_folder(encode_folder(folder)), flags=flags, date=when
            )
        )
        if response.result != "OK":
            raise ImapError(f"APPEND to {folder!r} failed: {response.lines[-1:]!r}"[:300])

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        # A dead or interrupted connection may never answer LOGOUT: give it a moment, then
        # drop the socket. There is nothing more to do with it either way.
        with contextlib.suppress(Exception):
            if self.lost:
                # Nobody will answer LOGOUT on a closed socket: do not wait for it.
                raise ImapConnectionLost("connection lost")
            # A second DONE (after a cancelled IDLE wait) is a BAD command to the server,
            # which aioimaplib turns into an Abort inside its protocol callback.
            if client.has_pending_idle() and not self._done_sent:
                client.idle_done()
            await asyncio.wait_for(client.protocol.logout(), 1.0)
        transport = client.protocol.transport if client.protocol is not None else None
        if transport is not None and not transport.is_closing():
            transport.close()
        if self.lost:
            # What aioimaplib still waits on (an IDLE never answered, its renewal timer) would
            # only end at its timeout, or be destroyed pending with the loop.
            if client._idle_waiter is not None:
                client._idle_waiter.cancel()
            for task in (*client.tasks, *client.protocol.tasks):
                task.cancel()
