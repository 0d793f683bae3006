"""Mailbox sync cost of the watcher on a large pymap mailbox, and what a restart costs.

A pymap INBOX gets M messages (replies to one probe). M-K are delivered and stored by one
``MailWatcher.sync()`` ("first_sync"); then K more arrive and a fresh watcher over the same
database (as after a restart) syncs only those ("restart_sync"); then 100 more
("restart_sync_100"). The naive alternative, re-fetching the whole mailbox on every restart, is
timed too (``ImapMailbox.fetch`` in batches of 200, nothing stored). The pymap server runs in
a child process, so the peak RSS reported is the watcher's own (this process), not the
server's copy of the mailbox. Messages are delivered by IMAP APPEND over one connection.
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
import sys
import tempfile
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func
from sqlmodel import Session, select

from harness.channels.email.store import MailStore
from harness.core.clock import SystemClock
from harness.core.config import ImapSettings
from harness.sandbox.accounts import Account
from harness.sandbox.pymap import append_many
from harness.store import migrate
from harness.store.db import make_engine
from harness.store.models import Message
from probes.email_analysis import TimingRules
from probes.email_watch import FETCH_BATCH, MailWatcher
from probes.imap_client import ImapMailbox
from tests.factories import SentProbe, loopback_imap, reply_to, seed_sent_probe

SENT = datetime(2026, 10, 6, 7, 15, tzinfo=UTC)
SINCE = date(2026, 10, 5)
USER = Account("fraga@fraga.example.se", "imap-pw")
ENV = {"IMAP_PW": USER.password}
CLOCK = SystemClock()


def _imap(port: int) -> ImapSettings:
    return loopback_imap(port, USER.username, timeout_seconds=120)


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


class Deliverer:
    """Delivers messages i..j to the child-process server over one IMAP connection each call."""

    def __init__(self, port: int, probe: SentProbe) -> None:
        self.port = port
        self.probe = probe
        self.next = 0
        self.seconds = 0.0
        self.count = 0

    async def deliver(self, count: int) -> None:
        if count <= 0:
            return
        began = CLOCK.monotonic()
        batch = [_message(self.probe, i) for i in range(self.next, self.next + count)]
        await append_many("127.0.0.1", self.port, USER, batch)
        self.next += count
        self.count += count
        self.seconds += CLOCK.monotonic() - began


@contextlib.asynccontextmanager
async def _server() -> AsyncIterator[int]:
    """A pymap sandbox in a child process; yields its port."""
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "harness.sandbox.pymap", USER.username, USER.password,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert child.stdout is not None
        yield int((await child.stdout.readline()).decode().strip())
    finally:
        if child.stdin is not None:
            child.stdin.close()
        try:
            await asyncio.wait_for(child.wait(), 10)
        except TimeoutError:
            child.kill()
            await child.wait()


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


async def run(messages: int, new: int, restart_new: int) -> dict[str, Any]:
    if not 0 <= new < messages:
        raise SystemExit("--new must be below --messages")
    known = messages - new
    workdir = Path(tempfile.mkdtemp(prefix="kkik-bench-sync-"))
    engine = make_engine(f"sqlite:///{workdir / 'kkik.db'}")
    result: dict[str, Any] = {}
    try:
        migrate.upgrade(engine)
        probe = seed_sent_probe(engine, sent_at=SENT)
        async with _server() as port:
            deliverer = Deliverer(port, probe)
            await deliverer.deliver(known)
            rss_before = _rss_mb()
            result["first_sync"] = await _timed_sync(engine, port, known)
            await deliverer.deliver(new)
            result["restart_sync"] = await _timed_sync(engine, port, new)
            await deliverer.deliver(restart_new)
            result[f"restart_sync_{restart_new}"] = await _timed_sync(engine, port, restart_new)
            total = messages + restart_new
            result["naive_full_refetch_on_restart"] = await _naive_refetch(port, total)
            stored_rows = _count(engine)
            if stored_rows != total:
                raise RuntimeError(f"database holds {stored_rows} messages, expected {total}")
        delivery = {
            "method": "IMAP APPEND on one connection, server in a child process",
            "messages": deliverer.count,
            "seconds": round(deliverer.seconds, 1),
            "messages_per_second": round(deliverer.count / deliverer.seconds, 1),
            "peak_rss_mb_before_first_sync": rss_before,
        }
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
        "server": "pymap dict backend, child process",
        "database": "SQLite (WAL), migrated, temp dir",
        "mailbox_messages": messages,
        "new_messages": new,
        "known_messages": known,
        "delivery": delivery,
        "results": result,
        "restart_sync_vs_naive_refetch": round(naive / restart, 1) if restart else None,
        "database_mb": db_mb,
        "peak_rss_mb": _rss_mb(),
        "rss_note": "ru_maxrss of this process: watcher, analysis and SQLite; not the server",
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
    args = parser.parse_args()
    output = asyncio.run(run(args.messages, args.new, args.restart_new))
    if args.scaled_from is not None:
        output["scaled_from"] = args.scaled_from
    print(json.dumps(output))


if __name__ == "__main__":
    main()
