"""An SMTP server (aiosmtpd) that runs inside the caller's event loop and records every message.

Example::

    async with SmtpSandbox([Account("a@kommun.test", "pw", xoauth2_token="tok")]) as smtp:
        ...  # connect to smtp.host:smtp.port with smtp.ca.client_context() for STARTTLS
        async with asyncio.timeout(5):
            messages = await smtp.wait_for_messages(1)

The server is created with ``loop.create_server(..., port=0)`` in the running loop rather than
with ``aiosmtpd.controller.Controller``: the Controller's readiness probe connects to the port it
was *given*, which fails for port 0, and its thread would be a second event loop.

Authentication: AUTH PLAIN and AUTH LOGIN check ``Account.password``; AUTH XOAUTH2 checks
``Account.xoauth2_token``. AUTH needs STARTTLS first (aiosmtpd's ``auth_require_tls``) unless
``auth_require_tls=False``. Failures get ``535`` immediately.
"""

from __future__ import annotations

import asyncio
import binascii
import json
import ssl
import weakref
from base64 import b64decode, b64encode
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from harness.core.clock import Clock, SystemClock
from harness.sandbox.accounts import Account, check_accounts
from harness.sandbox.certs import SandboxCA
from harness.sandbox.ports import LOOPBACK
from harness.sandbox.service import AsyncService

__all__ = ["AuthIdentity", "ReceivedMessage", "RecordingHandler", "SmtpSandbox"]


@dataclass(frozen=True, slots=True)
class AuthIdentity:
    """Who authenticated on an SMTP session, and how."""

    username: str
    mechanism: str  # "PLAIN", "LOGIN" or "XOAUTH2"


@dataclass(frozen=True, slots=True)
class ReceivedMessage:
    """One accepted message (one DATA transaction)."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    content: bytes  # exactly as received after dot-unstuffing, CRLF line endings
    tls: bool  # the transaction ran over TLS (STARTTLS)
    auth: AuthIdentity | None  # None: the client did not authenticate
    helo: str | None  # the EHLO/HELO name the client gave
    peer: tuple[str, int]  # client address and port
    received_at: datetime  # server-side acceptance time, from the sandbox's Clock


class RecordingHandler:
    """aiosmtpd handler that accepts every transaction and keeps it in :attr:`messages`."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.messages: list[ReceivedMessage] = []
        # Every message accepted since the start (or the last clear), including those a long
        # run has taken (take()) so the sandbox need not keep them.
        self.received = 0
        self._changed = asyncio.Condition()
        # Scripted refusals, to play a server that defers or rejects: a reply per recipient
        # (lowercased address -> "550 5.1.1 ..."), and replies for the next DATA commands.
        self.rcpt_replies: dict[str, str] = {}
        self.data_replies: list[str] = []

    async def handle_RCPT(
        self,
        _server: SMTP,
        _session: Session,
        envelope: Envelope,
        address: str,
        _rcpt_options: list[str],
    ) -> str:
        reply = self.rcpt_replies.get(address.lower())
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.data_replies:
            return self.data_replies.pop(0)
        content = envelope.content
        if isinstance(content, str):  # only with decode_data=True, which the sandbox never sets
            content = content.encode("utf-8", "surrogateescape")
        auth = session.auth_data if isinstance(session.auth_data, AuthIdentity) else None
        peer: Any = session.peer
        message = ReceivedMessage(
            mail_from=envelope.mail_from or "",
            rcpt_tos=tuple(envelope.rcpt_tos),
            content=bytes(content or b""),
            # STARTTLS sets session.ssl; an implicit-TLS listener only shows in the transport.
            tls=session.ssl is not None
            or (server.transport is not None and server.transport.get_extra_info("ssl_object")),
            auth=auth,
            helo=session.host_name,
            peer=(str(peer[0]), int(peer[1])),
            received_at=self._clock.now(),
        )
        async with self._changed:
            self.messages.append(message)
            self.received += 1
            self._changed.notify_all()
        return "250 2.0.0 OK: queued"

    async def wait_for_messages(self, count: int) -> list[ReceivedMessage]:
        """Wait until at least ``count`` messages are recorded; return all of them.

        Bound the wait yourself: ``async with asyncio.timeout(5): await ...``.
        """
        async with self._changed:
            await self._changed.wait_for(lambda: len(self.messages) >= count)
            return list(self.messages)

    def take(self) -> list[ReceivedMessage]:
        """The messages recorded since the last take, forgotten here (``received`` still
        counts them): a long run reads each once instead of keeping every question."""
        taken = self.messages
        self.messages = []
        return taken

    def clear(self) -> None:
        self.messages.clear()
        self.received = 0


def _xoauth2_error(status: str) -> bytes:
    """The Gmail-style failure challenge: base64 of a small JSON document."""
    doc = {"status": status, "schemes": "Bearer", "scope": "https://mail.google.com/"}
    return b64encode(json.dumps(doc).encode("ascii"))


def _parse_xoauth2(blob: bytes) -> tuple[str, str] | None:
    """Parse ``user=U\\x01auth=Bearer T\\x01\\x01`` into ``(U, T)``."""
    try:
        text = blob.decode("utf-8")
    except UnicodeDecodeError:
        return None
    user: str | None = None
    token: str | None = None
    for part in text.split("\x01"):
        if part.startswith("user="):
            user = part[len("user=") :]
        elif part.startswith("auth="):
            scheme, _, value = part[len("auth=") :].partition(" ")
            if scheme.lower() == "bearer":
                token = value
    if user is None or token is None:
        return None
    return user, token


class SandboxSMTP(SMTP):
    """aiosmtpd's SMTP protocol plus ``AUTH XOAUTH2`` (every ``auth_<MECH>`` is advertised)."""

    async def auth_XOAUTH2(self, _: SMTP, args: list[str]) -> AuthResult:
        if len(args) == 1:  # no initial response: ask for it with an empty challenge
            response = await self.challenge_auth("", encode_to_b64=False)
            if not isinstance(response, bytes):  # MISSING: "*" or bad base64, already answered
                return AuthResult(success=False, handled=True)
            blob = response
        else:
            try:
                blob = b64decode(args[1], validate=True)
            except (binascii.Error, ValueError):
                await self.push("501 5.5.2 Can't decode base64")
                return AuthResult(success=False, handled=True)
        parsed = _parse_xoauth2(blob)
        if parsed is None:
            await self.push("501 5.5.2 Malformed XOAUTH2 initial response")
            return AuthResult(success=False, handled=True)
        result: AuthResult = self._authenticate("XOAUTH2", parsed)
        if result.success:
            return result
        # Like Gmail: an error challenge, the client answers with an empty line, then 535.
        answer = await self.challenge_auth(_xoauth2_error("401"), encode_to_b64=False)
        # MISSING ("*" or garbage) has been answered with 501 already.
        return AuthResult(success=False, handled=not isinstance(answer, bytes))


class _Authenticator:
    def __init__(self, accounts: tuple[Account, ...]) -> None:
        self._passwords = {a.username: a.password for a in accounts}
        self._tokens = {a.username: a.xoauth2_token for a in accounts if a.xoauth2_token}

    def __call__(
        self, _server: SMTP, _session: Session, _envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        # handled=False on failure: with aiosmtpd's default (handled=True) the server sends
        # no reply at all and the client hangs until its own timeout.
        failure = AuthResult(success=False, handled=False)
        if mechanism == "XOAUTH2":
            user, token = data
            ok = self._tokens.get(user) == token
        elif isinstance(data, LoginPassword):
            try:
                user = data.login.decode("utf-8")
                password = data.password.decode("utf-8")
            except UnicodeDecodeError:
                return failure
            ok = self._passwords.get(user) == password
        else:
            return failure
        if not ok:
            return failure
        return AuthResult(success=True, auth_data=AuthIdentity(user, mechanism))


class SmtpSandbox(AsyncService):
    """An in-loop SMTP server on ``host``, port chosen by the kernel.

    Args:
        accounts: logins accepted by AUTH; empty means AUTH is not advertised.
        ca: issues the STARTTLS certificate; a fresh :class:`SandboxCA` when omitted.
        starttls: offer STARTTLS at all.
        require_starttls: refuse everything but EHLO/STARTTLS/QUIT before TLS.
        auth_required: refuse MAIL before AUTH (a submission server); off for an MX.
        auth_require_tls: refuse AUTH before STARTTLS (aiosmtpd's default, code 538).
        hostname: the name in the greeting and EHLO reply.
        clock: source of :attr:`ReceivedMessage.received_at`.
        implicit_tls: listen with TLS from the first byte (port 465 style) instead of STARTTLS.
    """

    def __init__(
        self,
        accounts: Iterable[Account] = (),
        *,
        ca: SandboxCA | None = None,
        starttls: bool = True,
        require_starttls: bool = False,
        auth_required: bool = False,
        auth_require_tls: bool = True,
        hostname: str = "mx.sandbox.test",
        host: str = LOOPBACK,
        clock: Clock | None = None,
        implicit_tls: bool = False,
    ) -> None:
        self.accounts = check_accounts(accounts)
        self.implicit_tls = implicit_tls
        if implicit_tls:
            starttls, auth_require_tls = False, False
            ca = ca if ca is not None else SandboxCA()
        self.ca = ca if ca is not None else (SandboxCA() if starttls else None)
        self.host = host
        self.hostname = hostname
        self.handler = RecordingHandler(clock or SystemClock())
        self._tls_context: ssl.SSLContext | None = (
            self.ca.server_context() if starttls and self.ca is not None else None
        )
        self._require_starttls = require_starttls
        self._auth_required = auth_required
        self._auth_require_tls = auth_require_tls
        self._server: asyncio.Server | None = None
        self._connections: weakref.WeakSet[SandboxSMTP] = weakref.WeakSet()
        self._port: int | None = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the SMTP sandbox is not running")
        return self._port

    @property
    def messages(self) -> list[ReceivedMessage]:
        """Every accepted message so far, oldest first (a live list)."""
        return self.handler.messages

    async def wait_for_messages(self, count: int) -> list[ReceivedMessage]:
        """Wait until at least ``count`` messages have been accepted in total (no timeout)."""
        return await self.handler.wait_for_messages(count)

    @property
    def received(self) -> int:
        """How many messages were accepted in all, taken ones included."""
        return self.handler.received

    def take(self) -> list[ReceivedMessage]:
        """The messages accepted since the last take, forgotten by the sandbox."""
        return self.handler.take()

    def clear(self) -> None:
        """Forget the recorded messages (e.g. between tests sharing one server)."""
        self.handler.clear()

    def _protocol(self) -> SandboxSMTP:
        exclude = [] if self.accounts else ["PLAIN", "LOGIN", "XOAUTH2"]
        proto = SandboxSMTP(
            self.handler,
            hostname=self.hostname,
            tls_context=self._tls_context,
            require_starttls=self._require_starttls,
            auth_required=self._auth_required,
            auth_require_tls=self._auth_require_tls,
            authenticator=_Authenticator(self.accounts),
            auth_exclude_mechanism=exclude,
            timeout=60,
            loop=asyncio.get_running_loop(),
        )
        self._connections.add(proto)
        return proto

    async def start(self) -> None:
        if self._server is not None:
            raise RuntimeError("already started")
        loop = asyncio.get_running_loop()
        tls = self.ca.server_context() if self.implicit_tls and self.ca is not None else None
        self._server = await loop.create_server(self._protocol, self.host, 0, ssl=tls)
        self._port = int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        # Python 3.11's wait_closed() does not wait for (or close) accepted connections.
        for proto in list(self._connections):
            if proto.transport is not None:
                proto.transport.close()
        self._connections.clear()
        await server.wait_closed()
        self._port = None
