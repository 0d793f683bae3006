"""IMAP's wire format, pure: folder names in modified UTF-7, the special-use fallbacks, FETCH
and SEARCH responses parsed into typed values, UID sets, and the errors the mailbox raises.

No connection here (:mod:`probes.imap_client` talks to the server), so these are table-tested
on their own.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from harness.core.clock import ensure_utc

_FETCH_HEAD = re.compile(rb"^\d+ FETCH \((?P<items>.*)$", re.DOTALL)
_UID = re.compile(rb"UID (\d+)")
_INTERNALDATE = re.compile(rb'INTERNALDATE "([^"]+)"')
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")
_FLAGS = re.compile(rb"FLAGS \(([^)]*)\)")
_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


class ImapError(Exception):
    """The server refused a command or the connection failed."""


class ImapLoginRefused(ImapError):
    """Our credentials were refused: a harness fault, not something to retry quickly.

    ``reply`` is the server's own answer, if it gave one, to be shown as it came.
    """

    def __init__(self, message: str, reply: str = "") -> None:
        super().__init__(message)
        self.reply = reply


class ImapConnectionLost(ImapError):
    """The connection closed or was reset under a command: reconnect."""


class FolderMissing(ImapError):
    """The folder to watch does not exist (yet): wait for it rather than reconnect at once."""


# Names the junk and sent folders go by when the server does not mark them with the
# RFC 6154 special-use attributes (Swedish Outlook and Gmail names included).
JUNK_NAMES = (
    "Junk",
    "Junk E-mail",
    "Skräppost",
    "Spam",
    "[Gmail]/Spam",
    "INBOX.Junk",
    "INBOX/Junk",
)
SENT_NAMES = (
    "Sent",
    "Sent Items",
    "Sent Messages",
    "Skickat",
    "Skickade objekt",
    "[Gmail]/Sent Mail",
    "[Gmail]/Skickat",
    "INBOX.Sent",
    "INBOX/Sent",
)
FALLBACK_NAMES = {"\\junk": JUNK_NAMES, "\\sent": SENT_NAMES}


def encode_folder(name: str) -> str:
    """Encode a folder name in IMAP's modified UTF-7 (RFC 3501 5.1.3).

    Skräppost -> Skr&AOQ-ppost
    """
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            utf16 = "".join(pending).encode("utf-16-be")
            out.append(
                "&" + base64.b64encode(utf16).decode("ascii").rstrip("=").replace("/", ",") + "-"
            )
            pending.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return "".join(out)


def decode_folder(name: str) -> str:
    """Decode modified UTF-7 back to text (for LIST results)."""

    def repl(match: re.Match[str]) -> str:
        chunk = match.group(1)
        if not chunk:
            return "&"
        data = chunk.replace(",", "/")
        data += "=" * (-len(data) % 4)
        return base64.b64decode(data).decode("utf-16-be", "replace")

    return re.sub(r"&([A-Za-z0-9+,]*)-", repl, name)


@dataclass(frozen=True)
class FolderStatus:
    uidvalidity: int
    uidnext: int | None
    exists: int


@dataclass(frozen=True)
class FetchedMessage:
    uid: int
    internal_date: datetime | None
    size: int | None
    raw: bytes
    flags: tuple[str, ...] = ()


def parse_internaldate(text: str) -> datetime | None:
    """Parse IMAP's ``06-Oct-2026 09:00:00 +0200`` into an aware UTC datetime."""
    match = re.fullmatch(r"\s*(\d{1,2})-(\w{3})-(\d{4}) (\d{2}:\d{2}:\d{2}) ([+-]\d{4})\s*", text)
    if not match or match.group(2) not in _MONTHS:
        return None
    day, month, year, clock, zone = match.groups()
    try:
        return ensure_utc(parsedate_to_datetime(f"{day} {month} {year} {clock} {zone}"))
    except (TypeError, ValueError):
        return None


def imap_date(day: date) -> str:
    """Format a date for SEARCH SINCE (``05-Oct-2026``), independent of the locale."""
    return f"{day.day:02d}-{_MONTHS[day.month - 1]}-{day.year}"


def parse_fetch(lines: Sequence[Any]) -> list[FetchedMessage]:
    """Collect messages from a UID FETCH response (metadata line, literal, closing paren)."""
    messages: list[FetchedMessage] = []
    pending: bytes | None = None
    for line in lines:
        if isinstance(line, bytearray):
            if pending is not None:
                messages.append(_message(pending, bytes(line)))
                pending = None
            continue
        head = _FETCH_HEAD.match(line)
        if head is None:
            continue
        if line.rstrip().endswith(b"}"):
            pending = head.group("items")
        else:
            # A FETCH without a literal (message deleted meanwhile, or a UID-only fetch).
            item = _message(head.group("items"), b"")
            if item.uid:
                messages.append(item)
    return messages


def _message(items: bytes, raw: bytes) -> FetchedMessage:
    uid = _UID.search(items)
    when = _INTERNALDATE.search(items)
    size = _SIZE.search(items)
    flags = _FLAGS.search(items)
    return FetchedMessage(
        uid=int(uid.group(1)) if uid else 0,
        internal_date=parse_internaldate(when.group(1).decode("ascii", "replace"))
        if when
        else None,
        size=int(size.group(1)) if size else None,
        raw=raw,
        flags=tuple(flags.group(1).decode("ascii", "replace").split()) if flags else (),
    )


def quote_folder(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def search_uids(response: Any) -> list[int]:
    if response.result != "OK":
        raise ImapError(f"UID SEARCH failed: {response.lines[-1:]!r}"[:300])
    uids: list[int] = []
    for line in response.lines[:-1]:
        text = bytes(line).decode("ascii", "replace").strip()
        if text.upper().startswith("SEARCH"):
            text = text[6:]
        uids.extend(int(tok) for tok in text.split() if tok.isdigit())
    return sorted(uids)


def uid_set(uids: Sequence[int]) -> str:
    """Compress sorted UIDs into ranges: 1,2,3,7 -> 1:3,7."""
    ordered = sorted(set(uids))
    parts: list[str] = []
    start = prev = ordered[0]
    for uid in ordered[1:]:
        if uid == prev + 1:
            prev = uid
            continue
        parts.append(f"{start}:{prev}" if start != prev else str(start))
        start = prev = uid
    parts.append(f"{start}:{prev}" if start != prev else str(start))
    return ",".join(parts)
