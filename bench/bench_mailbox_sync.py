"""Mailbox sync cost of the watcher on a large pymap mailbox, and what a restart costs.

A pymap INBOX gets M messages (replies to one probe). M-K are delivered and stored by one
``MailWatcher.sync()`` ("first_sync"); then K more arrive and a fresh watcher over the same
database (as after a restart) syncs only those ("restart_sync"); then 100 more
("restart_sync_100"). The naive alternative, re-fetching the whole mailbox on every restart, is
timed too (``ImapMailbox.fetch`` in batches of 200, nothing stored). Peak RSS is the process's
peak so far after each phase; it includes the in-process pymap server holding the mailbox.
Only 127.0.0.1 is contacted. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import platform
import resource
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aioimaplib
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from harness import migrate
from harness.clock import SystemClock
from harness.config import ImapSettings
from harness.db import make_engine
from harness.mailstore import MailStore
from harness.models import Message
from harness.sandbox.accounts import Account
from harness.sandbox.pymap import PymapSandbox
from probes.email_analysis import TimingRules
from probes.email_watch import FETCH_BATCH, MailWatcher
from probes.imap_client import ImapMailbox
from tests.factories import SentProbe, reply_to, seed_sent_probe

SENT = datetime(2026, 10, 6, 7, 15, tzinfo=UTC)
SINCE = date(2026, 10, 5)
USER = Account("fraga@fraga.example.se", "imap-pw")
ENV = {"IMAP_PW": USER.password}
CALIBRATE = 1_000
DELIVERY_BUDGET_SECONDS = 600.0  # switch to bulk APPEND when deliver() would take longer
CLOCK = SystemClock()


def _imap(port: int) -> ImapSettings:
    return ImapSettings.model_validate(
        {
            "host": "127.0.0.1",
            "port": port,
            "security": "none",
            "username": USER.username,
            "password_env": "IMAP_PW",
            "timeout_seconds": 120,
        }
    )


def _rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # Linux: KB


def _message(probe: SentProbe, i: int) -> tuple[bytes, datetime]:
    raw = reply_to(
        probe,
        written_at=SENT + timedelta(minutes=i),
        message_id=f"<sync{i}@ostersund.example.se>",
        threaded=i % 2 == 0,
    )
    return raw, SENT + timedelta(minutes=i + 1)


class BulkAppender:
    """ONE aioimaplib connection that APPENDs repeatedly (deliver() logs in per message)."""

    def __init__(self, server: PymapSandbox) -> None:
        self.server = server
        self.client: aioimaplib.IMAP4 | None = None

    async def __aenter__(self) -> BulkAppender:
        client = aioimaplib.IMAP4(host=self.server.host, port=self.server.port, timeout=60)
        await client.wait_hello_from_server()
        response = await client.login(USER.username, USER.password)
        if response.result != "OK":
            raise RuntimeError(f"LOGIN refused: {response.lines!r}")
        self.client = client
        return self

    async def __aexit__(self, *_exc: object) -> None:
        client, self.client = self.client, None
        if client is not None:
            with contextlib.suppress(Exception):
                await client.logout()

    async def append(self, raw: bytes, when: datetime) -> None:
        assert self.client is not None
        response = await self.client.append(raw, mailbox="INBOX", date=when)
        if response.result != "OK":
            raise RuntimeError(f"APPEND refused: {response.lines!r}")


class Deliverer:
    """Delivers message i..j, per message via deliver() or in bulk over one connection."""

    def __init__(self, server: PymapSandbox, probe: SentProbe) -> None:
        self.server = server
        self.probe = probe
        self.next = 0
        self.seconds = 0.0

    async def _run(self, count: int, one: Callable[[bytes, datetime], Awaitable[Any]]) -> float:
        began = CLOCK.monotonic()
        for _ in range(count):
            raw, when = _message(self.probe, self.next)
            await one(raw, when)
            self.next += 1
        elapsed = CLOCK.monotonic() - began
        self.seconds += elapsed
        return elapsed

    async def each(self, count: int) -> float:
        async def one(raw: bytes, when: datetime) -> None:
            await self.server.deliver(USER.username, raw, when=when, create_folder=False)

        return await self._run(count, one)

    async def bulk(self, count: int) -> float:
        async with BulkAppender(self.server) as appender:
            return await self._run(count, appender.append)


async def _timed_sync(engine: Engine, port: int, expect: int) -> dict[str, Any]:
    """A fresh MailStore + MailWatcher (as after a restart) syncs INBOX once."""
    store = MailStore(engine, SystemClock(), TimingRules())
    watcher = MailWatcher(
        lambda: ImapMailbox(_imap(port), environ=ENV),
        store,
        CLOCK,
        folders=("INBOX",),
        since=SINCE,
    )
    mailbox = ImapMailbox(_imap(port), environ=ENV)
    began = CLOCK.monotonic()
    await mailbox.connect()
    try:
        stored = await watcher.sync(mailbox, "INBOX")
    finally:
        await mailbox.close()
    elapsed = CLOCK.monotonic() - began
    if stored != expect:
        raise RuntimeError(f"sync stored {stored}, expected {expect}")
    return {
        "messages": stored,
        "fetched": watcher.stats["INBOX"].fetched,
        "seconds": round(elapsed, 3),
        "messages_per_second": round(stored / elapsed, 1) if elapsed else None,
        "peak_rss_mb_so_far": _rss_mb(),
    }


async def _naive_refetch(port: int, expect: int) -> dict[str, Any]:
    """Re-fetch every message since the campaign start, in batches of 200; store nothing."""
    mailbox = ImapMailbox(_imap(port), environ=ENV)
    began = CLOCK.monotonic()
    await mailbox.connect()
    fetched = size = 0
    try:
        await mailbox.select("INBOX")
        uids = await mailbox.search_since(SINCE.fromordinal(SINCE.toordinal() - 1))
        for start in range(0, len(uids), FETCH_BATCH):
            for message in await mailbox.fetch(uids[start : start + FETCH_BATCH]):
                fetched += 1
                size += len(message.raw)
    finally:
        await mailbox.close()
    elapsed = CLOCK.monotonic() - began
    if fetched != expect:
        raise RuntimeError(f"refetch got {fetched}, expected {expect}")
    return {
        "messages": fetched,
        "bytes": size,
        "batch": FETCH_BATCH,
        "seconds": round(elapsed, 3),
        "messages_per_second": round(fetched / elapsed, 1) if elapsed else None,
        "stored": False,
        "peak_rss_mb_so_far": _rss_mb(),
    }


def _count(engine: Engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(Message)).one()


async def run(messages: int, new: int, restart_new: int, always_bulk: bool) -> dict[str, Any]:
    if not 0 <= new < messages:
        raise SystemExit("--new must be below --messages")
    known = messages - new
    workdir = Path(tempfile.mkdtemp(prefix="kkik-bench-sync-"))
    engine = make_engine(f"sqlite:///{workdir / 'kkik.db'}")
    result: dict[str, Any] = {}
    try:
        migrate.upgrade(engine)
        probe = seed_sent_probe(engine, sent_at=SENT)
        async with PymapSandbox([USER]) as server:
            deliverer = Deliverer(server, probe)
            # Calibrate: the sandbox's deliver() (new connection + LOGIN + APPEND per message).
            calibrate = min(CALIBRATE, known)
            each_seconds = await deliverer.each(calibrate)
            each_rate = calibrate / each_seconds
            estimate = (messages + restart_new) / each_rate
            delivery: dict[str, Any] = {
                "deliver_call_per_message": {
                    "messages": calibrate,
                    "messages_per_second": round(each_rate, 1),
                    "estimated_seconds_for_all": round(estimate, 1),
                }
            }
            use_bulk = always_bulk or estimate > DELIVERY_BUDGET_SECONDS
            delivery["method"] = (
                "bulk APPEND on one connection" if use_bulk else "PymapSandbox.deliver()"
            )

            async def deliver(count: int) -> None:
                if count <= 0:
                    return
                if use_bulk:
                    elapsed = await deliverer.bulk(count)
                    delivery.setdefault("bulk_append", {"messages": 0, "seconds": 0.0})
                    delivery["bulk_append"]["messages"] += count
                    delivery["bulk_append"]["seconds"] += elapsed
                else:
                    await deliverer.each(count)

            await deliver(known - calibrate)
            # Peak so far: the pymap server holding the mailbox, before the watcher ran.
            delivery["peak_rss_mb_before_first_sync"] = _rss_mb()
            result["first_sync"] = await _timed_sync(engine, server.port, known)
            await deliver(new)
            result["restart_sync"] = await _timed_sync(engine, server.port, new)
            await deliver(restart_new)
            result[f"restart_sync_{restart_new}"] = await _timed_sync(
                engine, server.port, restart_new
            )
            total = messages + restart_new
            result["naive_full_refetch_on_restart"] = await _naive_refetch(server.port, total)
            stored_rows = _count(engine)
            if stored_rows != total:
                raise RuntimeError(f"database holds {stored_rows} messages, expected {total}")
            bulk = delivery.get("bulk_append")
            if bulk:
                bulk["messages_per_second"] = round(bulk["messages"] / bulk["seconds"], 1)
                bulk["seconds"] = round(bulk["seconds"], 1)
            delivery["total_seconds"] = round(deliverer.seconds, 1)
        db_mb = round((workdir / "kkik.db").stat().st_size / 2**20, 1)
    finally:
        engine.dispose()
        shutil.rmtree(workdir, ignore_errors=True)
    restart = result["restart_sync"]["seconds"]
    naive = result["naive_full_refetch_on_restart"]["seconds"]
    return {
        "benchmark": "mailbox_sync",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "server": "pymap dict backend, in-process",
        "database": "SQLite (WAL), migrated, temp dir",
        "mailbox_messages": messages,
        "new_messages": new,
        "known_messages": known,
        "delivery": delivery,
        "results": result,
        "restart_sync_vs_naive_refetch": round(naive / restart, 1) if restart else None,
        "database_mb": db_mb,
        "peak_rss_mb": _rss_mb(),
        "rss_note": "ru_maxrss of the whole process, including the in-process pymap server",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=100_000, help="mailbox size M")
    parser.add_argument("--new", type=int, default=2_000, help="messages new at restart K")
    parser.add_argument("--restart-new", type=int, default=100, help="new in the small restart")
    parser.add_argument(
        "--scaled-from",
        type=int,
        default=None,
        help="record that --messages stands in for this size (a reduced run)",
    )
    parser.add_argument(
        "--bulk",
        action="store_true",
        help="after calibrating, always deliver in bulk (default: only past a 10-minute estimate)",
    )
    args = parser.parse_args()
    output = asyncio.run(run(args.messages, args.new, args.restart_new, args.bulk))
    if args.scaled_from is not None:
        output["scaled_from"] = args.scaled_from
    print(json.dumps(output))


if __name__ == "__main__":
    main()
