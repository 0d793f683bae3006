"""The mailbox watcher: every reply that reaches the measurement mailbox is stored, once.

Per folder (INBOX and the junk folder, where replies often land) one connection:

1. on every connect, a UID sync: fetch what is above the highest UID already stored; on the
   first sync (or when the server changed UIDVALIDITY, i.e. renumbered the folder) fetch
   everything since the campaign start, and let the sink drop what it already has by
   Message-ID and content;
2. then IMAP IDLE for push, renewed before servers drop it; on any push, or at renewal, sync
   again; servers without IDLE are polled;
3. on any connection error, reconnect with exponential backoff and start again at 1.

State lives in the sink (the database): the highest UID is saved only after the messages below
it are stored, so a crash re-fetches at worst a batch that is then recognised as duplicates.
Nothing here decides what a message *means*; the sink analyses and stores it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

import aioimaplib

from harness.core.clock import Clock
from harness.core.events import EventKind, OnEvent, RunEvent
from probes.imap_client import ImapMailbox
from probes.imap_wire import FetchedMessage, FolderMissing, ImapError, ImapLoginRefused

log = logging.getLogger(__name__)

FETCH_BATCH = 200


@dataclass(frozen=True)
class FolderMark:
    uidvalidity: int
    highest_uid: int


class MailSink(Protocol):
    """Where fetched mail goes; the database implementation is
    harness.channels.email.store.MailStore."""

    def folder_mark(self, folder: str) -> FolderMark | None: ...

    def prepare(self) -> None:
        """Called before each sync: reload what may have changed (questions sent since), and
        match stored replies whose question has been recorded as sent since they came."""
        ...

    def save_folder_mark(self, folder: str, mark: FolderMark) -> None: ...

    def ingest_batch(
        self, folder: str, uidvalidity: int, messages: Sequence[FetchedMessage]
    ) -> list[FetchedMessage]:
        """Store messages (idempotent); return those that were not stored before."""
        ...


@dataclass(frozen=True)
class WatchTiming:
    idle_renew_seconds: float = 25 * 60
    poll_seconds: float = 60.0
    first_backoff: float = 1.0
    max_backoff: float = 300.0


@dataclass
class WatchStats:
    connects: int = 0
    syncs: int = 0
    fetched: int = 0
    stored: int = 0
    errors: int = 0
    last_error: str | None = None
    # Since when the folder has had no working connection (None while connected).
    down_since: datetime | None = None


class MailWatcher:
    """Keeps a sink up to date with the mailbox's folders until cancelled."""

    def __init__(
        self,
        connect: Callable[[], ImapMailbox],
        sink: MailSink,
        clock: Clock,
        *,
        folders: Sequence[str],
        since: date,
        timing: WatchTiming = WatchTiming(),
        on_stored: Callable[[str, int], None] | None = None,
    ) -> None:
        self.connect = connect
        self.sink = sink
        self.clock = clock
        self.folders = tuple(folders)
        self.since = since
        self.timing = timing
        self.on_stored = on_stored
        # Told when a folder's connection is lost or back, so `kkik run` can say so in words.
        self.on_event: OnEvent | None = None
        self.stats: dict[str, WatchStats] = {f: WatchStats() for f in self.folders}
        # Set after each completed sync; tests and the demo wait on it instead of sleeping.
        self.synced = asyncio.Condition()

    async def sync(self, mailbox: ImapMailbox, folder: str) -> int:
        """Fetch and store what is new in ``folder``; return how many messages were stored."""
        status = await mailbox.select(folder)
        mark = self.sink.folder_mark(folder)
        if mark is None or mark.uidvalidity != status.uidvalidity:
            if mark is not None:
                log.warning(
                    "%s: UIDVALIDITY changed %s -> %s; resyncing since %s",
                    folder,
                    mark.uidvalidity,
                    status.uidvalidity,
                    self.since,
                )
            # IMAP SINCE compares dates in the server's zone; a day earlier loses nothing.
            uids = await mailbox.search_since(self.since.fromordinal(self.since.toordinal() - 1))
            highest = 0
        else:
            uids = await mailbox.uids_after(mark.highest_uid)
            highest = mark.highest_uid
        stats = self.stats.setdefault(folder, WatchStats())
        # Always, not only when there is new mail: a question recorded as sent since the last
        # sync may adopt a reply that arrived before that (MailSink.prepare).
        self.sink.prepare()
        stored = 0
        for start in range(0, len(uids), FETCH_BATCH):
            batch = uids[start : start + FETCH_BATCH]
            fetched = await mailbox.fetch(batch)
            stats.fetched += len(fetched)
            stored += len(self.sink.ingest_batch(folder, status.uidvalidity, fetched))
            highest = max(highest, *batch)
            self.sink.save_folder_mark(folder, FolderMark(status.uidvalidity, highest))
        if not uids:
            self.sink.save_folder_mark(folder, FolderMark(status.uidvalidity, highest))
        stats.syncs += 1
        stats.stored += stored
        if stored and self.on_stored is not None:
            self.on_stored(folder, stored)
        async with self.synced:
            self.synced.notify_all()
        return stored

    async def watch_folder(self, folder: str) -> None:
        """Sync, then wait for pushes (or poll), forever; reconnect with backoff on errors."""
        backoff = self.timing.first_backoff
        stats = self.stats[folder]
        while True:
            mailbox = self.connect()
            try:
                await mailbox.connect()
                stats.connects += 1
                real = await mailbox.resolve_folder(folder)
                await self.sync(mailbox, real)
                if stats.down_since is not None:
                    self._tell("mailbox_back", folder)
                stats.down_since = None
                backoff = self.timing.first_backoff
                while True:
                    if mailbox.has_idle:
                        await mailbox.wait_for_push(self.timing.idle_renew_seconds)
                    else:
                        await self.clock.sleep(self.timing.poll_seconds)
                    await self.sync(mailbox, real)
            except asyncio.CancelledError:
                raise
            except FolderMissing as exc:
                # Not a connection problem: look again now and then, without hammering.
                if stats.last_error != str(exc):
                    log.warning("%s: %s; will look again", folder, exc)
                    self._tell("folder_missing", folder)
                stats.last_error = str(exc)
                backoff = max(self.timing.poll_seconds, backoff)
            except ImapLoginRefused as exc:
                # Our credentials are wrong: keep trying, slowly, and say so loudly.
                stats.errors += 1
                if stats.down_since is None:
                    self._tell("mailbox_login_refused", folder, error=str(exc))
                stats.last_error = str(exc)
                log.error("%s: %s", folder, exc)
                backoff = self.timing.max_backoff
            except (ImapError, aioimaplib.AioImapException, OSError, TimeoutError) as exc:
                stats.errors += 1
                stats.last_error = f"{type(exc).__name__}: {exc}"[:300]
                log.warning("%s: connection lost (%s); retrying in %.0f s", folder, exc, backoff)
                if stats.down_since is None:
                    self._tell("mailbox_down", folder, error=stats.last_error)
            finally:
                await mailbox.close()
            if stats.down_since is None:
                stats.down_since = self.clock.now()
            await self.clock.sleep(backoff)
            backoff = min(backoff * 2, self.timing.max_backoff)

    def _tell(self, kind: EventKind, folder: str, **params: object) -> None:
        if self.on_event is not None:
            self.on_event(RunEvent(kind, params={"folder": folder, **params}))

    async def sync_all(self) -> int:
        """One pass over every folder on a fresh connection each (``kkik mail watch --once``)."""
        stored = 0
        for folder in self.folders:
            mailbox = self.connect()
            try:
                await mailbox.connect()
                self.stats.setdefault(folder, WatchStats()).connects += 1
                try:
                    real = await mailbox.resolve_folder(folder)
                except FolderMissing as exc:
                    log.warning("%s: %s", folder, exc)
                    continue
                stored += await self.sync(mailbox, real)
            finally:
                await mailbox.close()
        return stored

    async def run(self) -> None:
        """Watch every folder concurrently until cancelled."""
        async with asyncio.TaskGroup() as group:
            for folder in self.folders:
                group.create_task(self.watch_folder(folder), name=f"watch {folder}")

    async def wait_synced(self, predicate: Callable[[], bool]) -> None:
        """Wait until ``predicate()`` holds after some sync (bound it with asyncio.timeout)."""
        async with self.synced:
            await self.synced.wait_for(predicate)
