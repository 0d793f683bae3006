"""Reply detection latency of the mailbox watcher against real IMAP servers.

For each of N replies: deliver it (pymap: APPEND on an open IMAP connection; Dovecot: LMTP),
then wait until the running ``MailWatcher`` has stored it. Latency runs from the start of the
delivery transaction to the moment ``MailStore.ingest`` returned True for that Message-ID, so
it includes the delivery transaction itself (reported separately as ``delivery_call_ms``).
Separately, a bare aioimaplib client idling on the same folder measures the server's own push
delay (delivery start -> ``* n EXISTS``): Dovecot holds IDLE notifications ~0.5 s by design.
Only 127.0.0.1 is contacted. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import platform
import re
import shutil
import statistics
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aioimaplib
from sqlalchemy import Engine

from harness.channels.email.store import MailStore
from harness.core.clock import SystemClock
from harness.core.config import ImapSettings
from harness.sandbox.accounts import Account
from harness.sandbox.certs import SandboxCA
from harness.sandbox.dovecot import DovecotSandbox, dovecot_unavailable_reason
from harness.sandbox.pymap import PymapSandbox
from harness.store import migrate
from harness.store.db import make_engine
from probes.email_analysis import TimingRules
from probes.email_watch import MailWatcher, WatchTiming
from probes.imap_client import ImapMailbox
from probes.imap_wire import FetchedMessage
from tests.factories import SentProbe, loopback_imap, reply_to, seed_sent_probe

SENT = datetime(2026, 10, 6, 7, 15, tzinfo=UTC)
USER = Account("fraga@fraga.example.se", "imap-pw")
ENV = {"IMAP_PW": USER.password}
SENDER = "karin.berg@ostersund.example.se"
TIMING = WatchTiming()  # production defaults: IDLE renewed every 25 min, 60 s poll fallback
WAIT_SECONDS = 30.0
MESSAGE_ID = re.compile(rb"^Message-ID:\s*(<[^>\r\n]+>)", re.IGNORECASE | re.MULTILINE)
CLOCK = SystemClock()

Deliver = Callable[[bytes], Awaitable[None]]


class TimedStore(MailStore):
    """MailStore that notes when each Message-ID was stored (ingest returned True)."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine, SystemClock(), TimingRules())
        self.waiting: dict[str, tuple[asyncio.Event, list[float]]] = {}

    def expect(self, message_id: str) -> tuple[asyncio.Event, list[float]]:
        slot: tuple[asyncio.Event, list[float]] = (asyncio.Event(), [])
        self.waiting[message_id] = slot
        return slot

    def ingest_batch(
        self, folder: str, uidvalidity: int, messages: Sequence[FetchedMessage]
    ) -> list[FetchedMessage]:
        stored = super().ingest_batch(folder, uidvalidity, messages)
        at = CLOCK.monotonic()
        for message in stored:
            match = MESSAGE_ID.search(message.raw)
            slot = self.waiting.pop(match.group(1).decode(), None) if match else None
            if slot is not None:
                slot[1].append(at)
                slot[0].set()
        return stored


def _imap(port: int) -> ImapSettings:
    return loopback_imap(port, USER.username, timeout_seconds=10)


def _ms(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, round(p * len(ordered)) - 1))]

    return {
        "samples": len(ordered),
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(pct(0.95) * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 1),
    }


def _reply(probe: SentProbe, tag: str, i: int) -> tuple[str, bytes]:
    message_id = f"<lat-{tag}-{i}@ostersund.example.se>"
    raw = reply_to(
        probe, written_at=SENT + timedelta(minutes=i), message_id=message_id, threaded=i % 2 == 0
    )
    return message_id, raw


@contextlib.asynccontextmanager
async def _appender(server: PymapSandbox) -> AsyncIterator[Deliver]:
    """One open IMAP connection that APPENDs to INBOX, as a delivery agent would."""
    client = aioimaplib.IMAP4(host=server.host, port=server.port, timeout=30)
    await client.wait_hello_from_server()
    await client.login(USER.username, USER.password)
    counter = 0

    async def deliver(raw: bytes) -> None:
        nonlocal counter
        counter += 1
        when = SENT + timedelta(hours=1, seconds=counter)
        response = await client.append(raw, mailbox="INBOX", date=when)
        if response.result != "OK":
            raise RuntimeError(f"APPEND refused: {response.lines!r}")

    try:
        yield deliver
    finally:
        with contextlib.suppress(Exception):
            await client.logout()


def _lmtp(server: DovecotSandbox) -> Deliver:
    async def deliver(raw: bytes) -> None:
        await asyncio.to_thread(server.lmtp_deliver, USER.username, SENDER, raw)

    return deliver


async def watcher_latency(
    port: int, deliver: Deliver, tag: str, n: int, gap: float
) -> dict[str, Any]:
    """Deliver n replies one at a time to a running watcher; time each until stored."""
    workdir = Path(tempfile.mkdtemp(prefix="kkik-bench-latency-"))
    engine = make_engine(f"sqlite:///{workdir / 'kkik.db'}")
    try:
        migrate.upgrade(engine)
        probe = seed_sent_probe(engine, sent_at=SENT)
        store = TimedStore(engine)
        watcher = MailWatcher(
            lambda: ImapMailbox(_imap(port), environ=ENV),
            store,
            CLOCK,
            folders=("INBOX",),
            since=date(2026, 10, 5),
            timing=TIMING,
        )
        latencies: list[float] = []
        calls: list[float] = []
        task = asyncio.create_task(watcher.run())
        try:
            async with asyncio.timeout(WAIT_SECONDS):
                await watcher.wait_synced(lambda: watcher.stats["INBOX"].syncs >= 1)
            # Let the watcher enter IDLE before the first delivery.
            await CLOCK.sleep(0.2)
            for i in range(n):
                message_id, raw = _reply(probe, tag, i)
                event, stamp = store.expect(message_id)
                began = CLOCK.monotonic()
                await deliver(raw)
                calls.append(CLOCK.monotonic() - began)
                async with asyncio.timeout(WAIT_SECONDS):
                    await event.wait()
                latencies.append(stamp[0] - began)
                await CLOCK.sleep(gap)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        stats = watcher.stats["INBOX"]
        return {
            "detect_latency": _ms(latencies),
            "delivery_call_ms": _ms(calls),
            "watcher": {
                "connects": stats.connects,
                "syncs": stats.syncs,
                "stored": stats.stored,
                "errors": stats.errors,
            },
        }
    finally:
        engine.dispose()
        shutil.rmtree(workdir, ignore_errors=True)


async def push_delay(port: int, deliver: Deliver, tag: str, n: int) -> dict[str, float]:
    """A bare aioimaplib client in IDLE: delivery start -> the server's EXISTS push."""
    workdir = Path(tempfile.mkdtemp(prefix="kkik-bench-push-"))
    engine = make_engine(f"sqlite:///{workdir / 'kkik.db'}")  # only to build realistic replies
    client = aioimaplib.IMAP4(host="127.0.0.1", port=port, timeout=30)
    try:
        migrate.upgrade(engine)
        probe = seed_sent_probe(engine, sent_at=SENT)
        await client.wait_hello_from_server()
        await client.login(USER.username, USER.password)
        await client.select("INBOX")
        delays: list[float] = []
        for i in range(n):
            idle = await client.idle_start(timeout=WAIT_SECONDS)
            _, raw = _reply(probe, f"push-{tag}", i)
            began = CLOCK.monotonic()
            await deliver(raw)
            pushed_at = None
            while pushed_at is None:
                lines = await client.wait_server_push(timeout=WAIT_SECONDS)
                if not isinstance(lines, list | tuple):
                    raise RuntimeError(f"IDLE ended without a push: {lines!r}")
                text = b" ".join(bytes(x) for x in lines if isinstance(x, bytes | bytearray))
                if b"EXISTS" in text:
                    pushed_at = CLOCK.monotonic()
            delays.append(pushed_at - began)
            client.idle_done()
            await asyncio.wait_for(idle, WAIT_SECONDS)
        return _ms(delays)
    finally:
        with contextlib.suppress(Exception):
            await client.logout()
        engine.dispose()
        shutil.rmtree(workdir, ignore_errors=True)


def polling_model(interval: float = 60.0) -> dict[str, Any]:
    """Arrival uniform within a poll interval T: latency ~ U(0, T); mean T/2, p95 0.95 T."""
    return {
        "model": "uniform arrival within the poll interval, zero processing time",
        "poll_seconds": interval,
        "mean_s": interval / 2,
        "p50_s": interval / 2,
        "p95_s": round(0.95 * interval, 1),
        "max_s": interval,
    }


async def run_pymap(n: int, gap: float) -> dict[str, Any]:
    async with PymapSandbox([USER]) as server, _appender(server) as deliver:
        watched = await watcher_latency(server.port, deliver, "pymap", n, gap)
        watched["server_push"] = await push_delay(server.port, deliver, "pymap", n)
    watched["delivery"] = "IMAP APPEND on one open connection"
    return watched


def _traversable_tempdir() -> Path:
    # Dovecot's unprivileged processes must traverse every parent folder of its workdir.
    workdir = Path(tempfile.mkdtemp(prefix="kkik-bench-dovecot-"))
    workdir.chmod(0o755)
    return workdir


async def run_dovecot(n: int, gap: float) -> dict[str, Any]:
    reason = dovecot_unavailable_reason()
    if reason is not None:
        return {"skipped": reason}
    workdir = _traversable_tempdir()
    server = DovecotSandbox([USER], ca=SandboxCA(), workdir=workdir)
    try:
        await asyncio.to_thread(server.start)
        deliver = _lmtp(server)
        watched = await watcher_latency(server.imap_port, deliver, "dovecot", n, gap)
        watched["server_push"] = await push_delay(server.imap_port, deliver, "dovecot", n)
    finally:
        await asyncio.to_thread(server.stop)
        shutil.rmtree(workdir, ignore_errors=True)
    watched["delivery"] = "LMTP, one connection per message"
    return watched


async def amain(n: int, gap: float) -> dict[str, Any]:
    return {
        "benchmark": "mail_reply_detection_latency",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "n": n,
        "gap_between_messages_s": gap,
        "watch_timing": {
            "idle_renew_seconds": TIMING.idle_renew_seconds,
            "poll_seconds": TIMING.poll_seconds,
        },
        "latency_definition": "delivery start -> MailStore.ingest returned True",
        "pymap": await run_pymap(n, gap),
        "dovecot": await run_dovecot(n, gap),
        "naive_polling_60s": polling_model(60.0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=200, help="replies per server (default 200)")
    parser.add_argument(
        "--gap", type=float, default=0.05, help="pause between replies, seconds (default 0.05)"
    )
    args = parser.parse_args()
    print(json.dumps(asyncio.run(amain(args.n, args.gap))))


if __name__ == "__main__":
    main()
