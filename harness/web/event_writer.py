"""One writer for Twilio's callbacks: group commit, answered only once stored.

Twilio can send hundreds of callbacks a second during a busy campaign. Letting every request
open its own transaction makes them queue on the database's write lock (SQLite has one writer),
and the slowest wait decides the tail latency. Instead, requests hand their event to this
writer and wait for it; the writer stores everything that queued up while the previous batch
was being written in one transaction (``INSERT ... ON CONFLICT (dedupe_key) DO NOTHING``), then
answers every waiting request. A request is therefore answered only after its event is
committed: nothing acknowledged can be lost, and a retry or duplicate is stored once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from harness.channels.phone import store as phonestore
from harness.store.models import CallEvent

log = logging.getLogger(__name__)
BATCH = 500


@dataclass
class _Item:
    probe_id: int | None
    event: str
    params: Mapping[str, str]
    received_at: datetime
    path: str
    done: asyncio.Future[tuple[bool, bool]] = field(repr=False)


class EventWriter:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._pending: list[_Item] = []
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None

    async def store(
        self,
        probe_id: int | None,
        event: str,
        params: Mapping[str, str],
        received_at: datetime,
        path: str,
    ) -> tuple[bool, bool]:
        """Queue one event and wait until it is committed: (stored anew, belongs to a probe)."""
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done():
            self._wake = asyncio.Event()
            self._task = loop.create_task(self._run())
        item = _Item(probe_id, event, params, received_at, path, loop.create_future())
        self._pending.append(item)
        assert self._wake is not None
        self._wake.set()
        return await item.done

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                batch, self._pending = self._pending[:BATCH], self._pending[BATCH:]
                try:
                    results = await run_in_threadpool(self._write, batch)
                except Exception as exc:  # the request fails (5xx) and Twilio retries it
                    log.exception("could not store %d Twilio events", len(batch))
                    for item in batch:
                        if not item.done.done():
                            item.done.set_exception(exc)
                    continue
                for item, result in zip(batch, results, strict=True):
                    if not item.done.done():
                        item.done.set_result(result)

    def _write(self, batch: list[_Item]) -> list[tuple[bool, bool]]:
        dialect = self.engine.dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        results: list[tuple[bool, bool]] = []
        with Session(self.engine) as session:
            probes: dict[tuple[Any, ...], Any] = {}
            for item in batch:
                params = item.params
                key = (item.probe_id, params.get("CallSid"), params.get("ParentCallSid"))
                if key not in probes:
                    probes[key] = phonestore.find_probe(session, item.probe_id, params)
                probe = probes[key]
                row = phonestore.event_row(
                    probe=probe,
                    event=item.event,
                    params=params,
                    received_at=item.received_at,
                    path=item.path,
                )
                values = {
                    c.name: getattr(row, c.name)
                    for c in CallEvent.__table__.columns  # type: ignore[attr-defined]
                    if c.name != "id"
                }
                statement = insert(CallEvent).values(**values)
                statement = statement.on_conflict_do_nothing(index_elements=["dedupe_key"])
                outcome = session.execute(statement)
                results.append((outcome.rowcount == 1, probe is not None))  # type: ignore[attr-defined]
            session.commit()
        return results
