"""A loopback TCP proxy that misbehaves on a seeded schedule, for the fault-injection suite.

It sits between the harness and a test server (SMTP or IMAP). Every accepted connection draws
its fate from ``random.Random(f"{seed}:{n}")``, where ``n`` counts connections, so a run is
reproducible from its seed and the order in which the harness connects:

- ``pass``: bytes are copied both ways untouched;
- ``delay``: the upstream connection is opened only after a pause (tens to hundreds of ms);
- ``drop``: after K bytes (both directions together) both sides are closed cleanly (FIN);
- ``reset``: after K bytes the client side is aborted with SO_LINGER 0, i.e. a TCP RST;
- ``refuse``: the connection is reset at once, before any byte (a server that is not there);
- ``greet554`` (SMTP only): the proxy answers the greeting itself with ``554 5.3.2`` and hangs
  up, as a relay that refuses service does: a harness fault, which must be replaced.

Only 127.0.0.1 is ever contacted. ``enabled = False`` turns every fate into ``pass`` (the settle
phase at the end of a run). ``upstream`` may be changed while running (a restarted server on a
new port); connections already open keep their old upstream.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import struct
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from harness.core.clock import SystemClock
from harness.sandbox.ports import LOOPBACK

CHUNK = 16 * 1024


class Fault(StrEnum):
    PASS = "pass"
    DELAY = "delay"
    DROP = "drop"
    RESET = "reset"
    REFUSE = "refuse"
    GREET554 = "greet554"


@dataclass(frozen=True)
class Schedule:
    """How often each fate is drawn, and the ranges of its parameters."""

    weights: Mapping[Fault, float]
    delay_ms: tuple[int, int] = (20, 400)
    cut_after_bytes: tuple[int, int] = (0, 6000)


class FaultProxy:
    def __init__(self, name: str, upstream_port: int, seed: int, schedule: Schedule) -> None:
        self.name = name
        self.upstream_port = upstream_port
        self.seed = seed
        self.schedule = schedule
        self.enabled = True
        self.counts: Counter[Fault] = Counter()
        self._next = 0
        self._server: asyncio.Server | None = None
        self._port: int | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._clock = SystemClock()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError(f"the {self.name} proxy is not running")
        return self._port

    async def __aenter__(self) -> FaultProxy:
        self._server = await asyncio.start_server(self._handle, LOOPBACK, 0)
        self._port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def __aexit__(self, *_: object) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        self.enabled = False
        for writer in list(self._writers):
            writer.transport.abort()
        # Aborted sockets end every handler within a delay at most; no cancelling (asyncio
        # would log the cancelled handlers as errors).
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await server.wait_closed()

    def _draw(self) -> tuple[Fault, random.Random]:
        rng = random.Random(f"{self.seed}:{self._next}")
        self._next += 1
        if not self.enabled:
            return Fault.PASS, rng
        kinds = list(self.schedule.weights)
        fault = rng.choices(kinds, weights=[self.schedule.weights[k] for k in kinds])[0]
        return fault, rng

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        fault, rng = self._draw()
        self.counts[fault] += 1
        upstream: asyncio.StreamWriter | None = None
        try:
            if fault is Fault.REFUSE:
                _reset(writer)
                return
            if fault is Fault.GREET554:
                writer.write(b"554 5.3.2 Service temporarily unavailable\r\n")
                await writer.drain()
                return
            if fault is Fault.DELAY:
                await self._clock.sleep(rng.randint(*self.schedule.delay_ms) / 1000)
            try:
                up_reader, upstream = await asyncio.open_connection(LOOPBACK, self.upstream_port)
            except OSError:
                _reset(writer)  # the server is down (restarting): the client sees a reset
                return
            self._writers.add(upstream)
            budget: list[int] | None = None
            if fault in (Fault.DROP, Fault.RESET):
                budget = [rng.randint(*self.schedule.cut_after_bytes)]
            await _pump_both(reader, writer, up_reader, upstream, budget)
            if budget is not None and budget[0] <= 0 and fault is Fault.RESET:
                _reset(writer)
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            for w in (writer, upstream):
                if w is None:
                    continue
                self._writers.discard(w)
                if not w.transport.is_closing():
                    w.close()
                with contextlib.suppress(OSError):
                    await w.wait_closed()
            self._tasks.discard(task)


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with SO_LINGER 0, so the kernel sends RST instead of FIN."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def _pump_both(
    client_reader: asyncio.StreamReader,
    client: asyncio.StreamWriter,
    server_reader: asyncio.StreamReader,
    server: asyncio.StreamWriter,
    budget: list[int] | None,
) -> None:
    """Copy both ways until either side closes or the byte budget (shared) runs out."""

    async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        while True:
            data = await src.read(CHUNK)
            if not data:
                return
            if budget is not None:
                if len(data) >= budget[0]:
                    # Pass on what fits, then cut: the peer may have got half a command.
                    dst.write(data[: budget[0]])
                    budget[0] = 0
                    await dst.drain()
                    return
                budget[0] -= len(data)
            dst.write(data)
            await dst.drain()

    pumps = [
        asyncio.create_task(pump(client_reader, server)),
        asyncio.create_task(pump(server_reader, client)),
    ]
    try:
        # When one direction ends (EOF or the cut), the connection is over both ways.
        await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for p in pumps:
            p.cancel()
        results = await asyncio.gather(*pumps, return_exceptions=True)
    for result in results:
        if isinstance(result, Exception) and not isinstance(result, OSError):
            raise result
