"""A faithful local stand-in for Twilio Voice: REST calls, TwiML, signed status callbacks.

Twilio cannot be reached offline, and none of the public fakes replays a call-progress timeline
(peers.md §4), so the tests and the demo use this one. It serves the REST calls our adapter makes
through the real ``twilio`` SDK (create, fetch, list, hang up, recordings; the account and its
numbers for ``kkik doctor``) and plays every call out
from a scripted switchboard per number: post-dial delay, ring time, busy, no answer, an IVR or
queue with spoken prompts, a person picking up, either side hanging up. When a call is answered it
fetches our TwiML exactly as Twilio does and runs it (``Say``, ``Pause``, ``Gather`` with speech,
``Record``, ``Dial``/``Number`` as a second leg with its own callbacks, ``Hangup``), and it sends
status callbacks signed with the account's auth token, carrying ``Timestamp``,
``SequenceNumber``, ``CallDuration``, ``AnsweredBy`` and ``ParentCallSid`` like the real ones.

Time is discrete and follows the injected clock. Everything that will happen is an *action* on a
queue with the instant it is due: with a :class:`~harness.core.clock.FakeClock`, :meth:`run_until`
sets the clock to each action's instant and performs it, so six weeks of calls take seconds and
every timestamp is exactly the script's; with the system clock, :meth:`start` runs a pump that
performs actions as they fall due.

Callback faults, as Twilio permits them (it does not promise order or exactly-once): each
callback may be duplicated, or delayed by up to ``max_delay`` seconds, which reorders it with
later ones. The payload's ``Timestamp`` is always the moment of the event, never of delivery.

The simulator is split by what each part holds: :mod:`.twilio_calls` (the scripts, callback
faults, calls and recordings, which the tests and the demo import to script a world),
:mod:`.twilio_account` (each account's credentials, state and numbers),
:mod:`.twilio_callbacks` (the action queue and the signed callbacks), :mod:`.twilio_player`
(each leg's progress and the TwiML runner) and :mod:`.twilio_rest` (the REST handlers); this
module composes them into :class:`TwilioSimulator` and holds :class:`SimulatorThread`.

    sim = TwilioSimulator(clock)
    sim.add_account(ACCOUNT_SID, AUTH_TOKEN)
    sim.add_number(ACCOUNT_SID, "+46101380000")  # the from-number, bought on the account
    sim.script("+4663143000", SwitchboardScript(ring_seconds=8, person_after=40))
    async with sim:
        ...  # point the SDK at sim.base_url through harness.twilio_http
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import random
import threading
from collections import deque
from datetime import datetime, timedelta

from aiohttp import ClientSession, ClientTimeout, web

from harness.core.clock import Clock, FakeClock
from harness.sandbox.service import AsyncService
from harness.sandbox.twilio_account import AccountStatus, SimAccount, SimNumber
from harness.sandbox.twilio_calls import CallbackFaults, SwitchboardScript
from harness.sandbox.twilio_rest import RestApi

log = logging.getLogger(__name__)


class TwilioSimulator(RestApi, AsyncService):
    """The REST API on loopback plus the call player; see the module docstring."""

    def __init__(
        self,
        clock: Clock,
        *,
        faults: CallbackFaults | None = None,
        host: str = "127.0.0.1",
        pump_interval: float = 0.02,
        forget_after: timedelta | None = None,
    ) -> None:
        self.clock = clock
        self.faults = faults or CallbackFaults()
        self.host = host
        self.port = 0
        self.pump_interval = pump_interval
        self.accounts = {}
        self.scripts = {}
        self.calls = {}
        self.deliveries = deque()  # every callback sent, for tests (see forget_after)
        # A long run (the national benchmark: ten thousand calls) forgets a leg this long after
        # it ended, with the callbacks sent by then: its callbacks have long been delivered
        # (max_delay is seconds) and the harness fetched it when it settled the call. The REST
        # API then answers 404 for it. None (the default): every call is kept, for tests.
        self.deleted_recordings = []
        self.forget_after = forget_after
        self.ended_count = 0
        self._ended = deque()
        self.on_person = None
        # Called for every new leg with its number and parent call SID: a script for this one
        # call (a world whose switchboards vary from call to call); None falls back to the
        # number's fixed script.
        self.script_for = None
        self._queue = []
        self._seq = itertools.count()
        self._rng = random.Random(self.faults.seed)
        self._runner: web.AppRunner | None = None
        self._http = None
        self._pump: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    # --- setup --------------------------------------------------------------------------------

    def add_account(
        self,
        sid: str,
        token: str,
        *,
        name: str = "kkik-harness",
        status: AccountStatus = "active",
        trial: bool = False,
    ) -> None:
        self.accounts[sid] = SimAccount(
            sid, token, self.clock.now(), friendly_name=name, status=status, trial=trial
        )

    def add_number(
        self, account: str, number: str, *, verified: bool = False, voice: bool = True
    ) -> None:
        """A number bought on ``account``, or with ``verified`` one verified as a caller ID."""
        self.accounts[account].numbers.append(SimNumber(number, verified=verified, voice=voice))

    def script(self, number: str, script: SwitchboardScript) -> None:
        self.scripts[number] = script

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self, *, realtime: bool = False) -> None:
        self._runner = web.AppRunner(self._rest_app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        self._http = ClientSession(timeout=ClientTimeout(total=30))
        if realtime:
            self._pump = asyncio.create_task(self._pump_forever())

    async def stop(self) -> None:
        if self._pump is not None:
            self._pump.cancel()
            await asyncio.gather(self._pump, return_exceptions=True)
        if self._http is not None:
            await self._http.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # --- time -----------------------------------------------------------------------------------

    def next_due(self) -> datetime | None:
        return self._queue[0][0] if self._queue else None

    async def run_until(self, until: datetime) -> int:
        """Perform every action due up to ``until``, moving the fake clock to each; return count."""
        if not isinstance(self.clock, FakeClock):
            raise TypeError("run_until needs a FakeClock; use start(realtime=True) otherwise")
        done = 0
        async with self._lock:
            # Before the clock moves: the calls that ended in the last run (which may end days
            # later, over a weekend) are the harness's to settle first.
            self._forget()
            while self._queue and self._queue[0][0] <= until:
                due, _, action = heapq.heappop(self._queue)
                if due > self.clock.now():
                    self.clock.set(due)
                await action()
                done += 1
            if until > self.clock.now():
                self.clock.set(until)
        return done

    def _forget(self) -> None:
        """Drop the legs that ended ``forget_after`` ago, and the callbacks sent before then:
        the work is the number of legs forgotten, never the number kept."""
        if self.forget_after is None:
            return
        before = self.clock.now() - self.forget_after
        while self._ended and self._ended[0][0] <= before:
            _, sid = self._ended.popleft()
            self.calls.pop(sid, None)
        while self.deliveries and self.deliveries[0]["at"] <= before:
            self.deliveries.popleft()

    async def run_all(self, limit: timedelta = timedelta(hours=6)) -> int:
        """Play out everything scheduled (no call lasts longer than ``limit``)."""
        return await self.run_until(self.clock.now() + limit)

    async def _pump_forever(self) -> None:
        while True:
            async with self._lock:
                while self._queue and self._queue[0][0] <= self.clock.now():
                    _, _, action = heapq.heappop(self._queue)
                    try:
                        await action()
                    except Exception:  # a broken step must not stop every other call
                        log.exception("simulated call step failed")
                self._forget()
            await self.clock.sleep(self.pump_interval)


class SimulatorThread:
    """The simulator on its own event loop in a daemon thread, in real time.

    For callers whose own thread is busy (``kkik run`` in the foreground, a synchronous test).
    """

    def __init__(self, simulator: TwilioSimulator) -> None:
        self.simulator = simulator
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def start(self) -> TwilioSimulator:
        self._thread.start()
        started = asyncio.run_coroutine_threadsafe(self.simulator.start(realtime=True), self.loop)
        started.result(timeout=10)
        return self.simulator

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.simulator.stop(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()

    def __enter__(self) -> TwilioSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
