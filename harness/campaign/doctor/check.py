"""One finding of ``kkik doctor``, and the words the checks share.

A :class:`Check` is one line: what was checked (an area code with a label), how it went (ok,
warning, error) and the finding, already worded in the reader's language with what to do. A
warning does not fail the command; an error does. The network's failures are named by what
happened (refused, timed out, no such host, certificate), never by the library's English.
"""

from __future__ import annotations

import errno
import socket
import ssl
import sys
from dataclasses import dataclass
from typing import Literal

import aiosmtplib

from harness.core.i18n import Lang, Text
from probes.imap_wire import ImapConnectionLost

Area = Literal["secret", "database", "smtp", "imap", "mx", "phone", "web", "campaign"]
Level = Literal["ok", "warning", "error"]

AREAS: dict[Area, Text] = {
    "secret": Text("hemlighet", "secret"),
    "database": Text("databas", "database"),
    "smtp": Text("smtp", "smtp"),
    "imap": Text("imap", "imap"),
    "mx": Text("mx", "mx"),
    "phone": Text("telefon", "phone"),
    "web": Text("webb", "web"),
    "campaign": Text("kampanj", "campaign"),
}
LEVELS: dict[Level, Text] = {
    "ok": Text("OK", "OK"),
    "warning": Text("OBS", "WARN"),
    "error": Text("FEL", "ERR"),
}


@dataclass(frozen=True)
class Check:
    area: Area
    level: Level
    detail: str  # in the reader's language, with what to do when it is not ok

    def line(self, lang: Lang) -> str:
        """``OK   imap     ...``: the columns as wide as the longest label in ``lang``."""
        mark = max(len(t(lang)) for t in LEVELS.values())
        area = max(len(t(lang)) for t in AREAS.values())
        return f"{LEVELS[self.level](lang):<{mark}} {AREAS[self.area](lang):<{area}} {self.detail}"


Network = Literal[
    "refused", "timeout", "no_host", "unreachable", "certificate", "tls", "lost", "other"
]
NETWORK: dict[Network, Text] = {
    "refused": Text(
        "anslutningen nekades (ingen lyssnar på porten)",
        "connection refused (nothing listens on the port)",
    ),
    "timeout": Text("inget svar inom tidsgränsen", "no answer within the time limit"),
    "no_host": Text("värdnamnet finns inte i DNS", "the host name is not in DNS"),
    "unreachable": Text("nätet eller datorn går inte att nå", "the network or host is unreachable"),
    "certificate": Text(
        "serverns certifikat kunde inte verifieras",
        "the server's certificate could not be verified",
    ),
    "tls": Text("TLS-förhandlingen misslyckades", "the TLS handshake failed"),
    "lost": Text("servern stängde anslutningen", "the server closed the connection"),
    "other": Text("nätverksfel", "network error"),
}


# The far end went away. Not ConnectionError as a whole: libraries wrap a refused connection
# in their own ConnectionError subclasses (aiosmtplib's SMTPConnectError), named below by cause.
LOST = (
    ConnectionResetError,
    ConnectionAbortedError,
    BrokenPipeError,
    EOFError,
    aiosmtplib.SMTPServerDisconnected,
    ImapConnectionLost,
)


def network_reason(exc: BaseException) -> Text:
    """What happened on the network, from the root cause up (libraries wrap the OS's error)."""
    chain: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and seen not in chain:
        chain.append(seen)
        hidden = seen.__suppress_context__  # raised "from None": the context is not a cause
        seen = seen.__cause__ or (None if hidden else seen.__context__)
    for error in reversed(chain):
        code = _network_code(error)
        if code is not None:
            return NETWORK[code]
    return NETWORK["other"]


def _network_code(error: BaseException) -> Network | None:
    if isinstance(error, ssl.SSLCertVerificationError):
        return "certificate"
    if isinstance(error, ssl.SSLError):
        return "tls"
    if isinstance(error, socket.gaierror):
        return "no_host"
    if isinstance(error, ConnectionRefusedError):
        return "refused"
    if isinstance(error, TimeoutError):
        return "timeout"
    # aiohttp (the Twilio API, the public URL) only when it is loaded: an error cannot be one
    # of its own otherwise, and the mail checks need not import it.
    aiohttp = sys.modules.get("aiohttp")
    lost = LOST if aiohttp is None else (*LOST, aiohttp.ServerDisconnectedError)
    if isinstance(error, lost):
        return "lost"
    if isinstance(error, OSError) and error.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return "unreachable"
    return None
