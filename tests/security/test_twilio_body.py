"""Large and unsigned bodies on Twilio's webhooks, over raw sockets (issue 15, M2).

The handler used to read the whole body before looking at the signature: an unsigned 100 MB POST
grew the server by 450 MB. Now a request without ``X-Twilio-Signature`` is refused before its
body is read, a body over 64 KB is refused as soon as that is known (declared or counted while
it streams), and the server's memory stays flat. Raw sockets, because the point is what the
server does while the client is still sending (an HTTP library would send the whole body first).

The server runs in this process, so its memory is this process's: sampled while the upload runs.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from sqlmodel import Session, func, select
from twilio.request_validator import RequestValidator

from harness.store.models import CallEvent
from harness.web.twilio_hooks import MAX_BODY
from tests.security.site import TWILIO_SECRET, Site

HUNDRED_MB = 100 * 1024 * 1024
CHUNK = b"x" * 65_536
PROMPT = 3.0  # seconds: an answer that does not wait for the body comes at once
# A refusal may come only after what the kernel's socket buffers took on loopback; far less
# than the body either way.
MOST_SENT = 16 * 1024 * 1024
MOST_GROWTH = 40 * 1024 * 1024  # bytes of resident memory; reading the body took 450 MB


def _rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


class Upload:
    """One POST written by hand: the head, then (maybe) a body, while watching for the answer."""

    def __init__(self, site: Site, path: str, headers: dict[str, str]) -> None:
        self.url = urlsplit(site.url)
        self.path = path
        self.headers = {"Host": self.url.netloc,
                        "Content-Type": "application/x-www-form-urlencoded", **headers}  # fmt: skip
        self.sent = 0
        self.peak_growth = 0

    async def send(self, body_bytes: int, *, chunked: bool, chunk: bytes = CHUNK) -> int | None:
        """The answer's status (None: the connection was closed without one)."""
        reader, writer = await asyncio.open_connection(self.url.hostname, self.url.port)
        head = f"POST {self.path} HTTP/1.1\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in self.headers.items()
        )
        writer.write((head + "\r\n").encode())
        answer = asyncio.ensure_future(reader.readline())
        baseline = _rss()
        try:
            while self.sent < body_bytes and not answer.done():
                piece = chunk[: body_bytes - self.sent]
                writer.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n" if chunked else piece)
                self.sent += len(piece)
                await asyncio.wait_for(writer.drain(), PROMPT)
                self.peak_growth = max(self.peak_growth, _rss() - baseline)
            if chunked and not answer.done():
                writer.write(b"0\r\n\r\n")
            line = await asyncio.wait_for(answer, PROMPT)
        except (ConnectionError, TimeoutError):
            line = answer.result() if answer.done() and not answer.exception() else b""
        finally:
            answer.cancel()
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
        self.peak_growth = max(self.peak_growth, _rss() - baseline)
        return int(line.split()[1]) if line.startswith(b"HTTP/1.1 ") else None


def _events(site: Site) -> int:
    with Session(site.engine) as session:
        return session.exec(select(func.count()).select_from(CallEvent)).one()


def _path(site: Site) -> str:
    return "/twilio/status?" + urlencode({"probe": site.phone_probe, "leg": "municipal"})


async def test_an_unsigned_request_is_refused_before_its_body_is_read(site: Site):
    before = _events(site)
    # Only the head: an answer that waited for the declared 100 MB would never come.
    upload = Upload(site, _path(site), {"Content-Length": str(HUNDRED_MB)})
    assert await upload.send(0, chunked=False) == 403
    # Sending the 100 MB: refused at once, the upload cut short, memory flat.
    upload = Upload(site, _path(site), {"Content-Length": str(HUNDRED_MB)})
    assert await upload.send(HUNDRED_MB, chunked=False) in (403, None)
    assert upload.sent < MOST_SENT
    assert upload.peak_growth < MOST_GROWTH, upload.peak_growth
    assert _events(site) == before


async def test_a_declared_body_over_the_limit_is_refused_unread(site: Site):
    signed = {"X-Twilio-Signature": "c2lnbmVkLWJ1dC1ub3QtcmVhZA=="}
    for declared in (MAX_BODY + 1, HUNDRED_MB):
        upload = Upload(site, _path(site), {**signed, "Content-Length": str(declared)})
        assert await upload.send(0, chunked=False) == 413, declared


async def test_a_chunked_body_is_counted_while_it_streams(site: Site):
    before = _events(site)
    signed = {"X-Twilio-Signature": "c2lnbmVkLWJ1dC1ub3QtcmVhZA==", "Transfer-Encoding": "chunked"}
    # Complete but over the limit: 413, not a signature check of a body read in full.
    upload = Upload(site, _path(site), signed)
    assert await upload.send(MAX_BODY + 4_096, chunked=True) == 413
    # 100 MB streamed: cut off once past the limit; memory flat.
    upload = Upload(site, _path(site), signed)
    assert await upload.send(HUNDRED_MB, chunked=True) in (413, None)
    assert upload.sent < MOST_SENT
    assert upload.peak_growth < MOST_GROWTH, upload.peak_growth
    assert _events(site) == before


async def test_a_genuine_callback_sent_in_chunks_is_still_taken(site: Site):
    """The limit refuses nothing Twilio sends: a genuine callback, chunked, is stored."""
    path = _path(site)
    params = {"CallSid": "CA" + "b0d1" * 8, "CallStatus": "ringing", "SequenceNumber": "3",
              "Timestamp": "Wed, 07 Oct 2026 08:00:03 +0000"}  # fmt: skip
    body = urlencode(params).encode()
    signature = RequestValidator(TWILIO_SECRET).compute_signature(
        site.settings.web.public_url + path, params
    )
    before = _events(site)
    upload = Upload(site, path, {"X-Twilio-Signature": signature, "Transfer-Encoding": "chunked"})
    assert await upload.send(len(body), chunked=True, chunk=body) == 200
    assert _events(site) == before + 1
