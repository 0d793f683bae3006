"""The Twilio simulator's schedule and the signed callbacks it delivers.

:class:`CallbackSender` is the bottom of :class:`~harness.sandbox.twilio_sim.TwilioSimulator`'s
bases: the action queue on the injected clock (every step of a call and every callback is an
action due at an instant) and the status and recording callbacks, signed with the account's auth
token and, as :class:`~harness.sandbox.twilio_calls.CallbackFaults` allows, duplicated or delayed.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
import random
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from aiohttp import ClientOSError, ClientSession, ServerDisconnectedError
from twilio.request_validator import RequestValidator

from harness.core.clock import Clock
from harness.sandbox.twilio_account import SimAccount
from harness.sandbox.twilio_calls import (
    API,
    TWILIO_API,
    CallbackFaults,
    SimCall,
    rfc2822,
)

log = logging.getLogger(__name__)


class CallbackSender:
    """The action queue and the signed callbacks; a base of the simulator.

    The attributes are the simulator's state, set by ``TwilioSimulator.__init__``; they are
    declared here so that every base is type-checked against the same names.
    """

    clock: Clock
    faults: CallbackFaults
    accounts: dict[str, SimAccount]
    deliveries: deque[dict[str, Any]]  # every callback sent, for tests
    _queue: list[tuple[datetime, int, Callable[[], Awaitable[None]]]]
    _seq: itertools.count[int]
    _rng: random.Random
    _http: ClientSession | None

    def _at(self, due: datetime, action: Callable[[], Awaitable[None]]) -> None:
        heapq.heappush(self._queue, (due, next(self._seq), action))

    def _later(self, seconds: float, action: Callable[[], Awaitable[None]]) -> None:
        self._at(self.clock.now() + timedelta(seconds=seconds), action)

    async def _status(self, call: SimCall, event: str) -> None:
        """Send a status callback if the call asked for this event (Twilio always counts it)."""
        call.sequence += 1
        sequence = call.sequence - 1
        if not call.status_callback or event not in call.status_events:
            return
        params = call.webhook_params("outbound-dial" if call.parent_sid else "outbound-api")
        params |= {
            "CallbackSource": "call-progress-events",
            "SequenceNumber": str(sequence),
            "Timestamp": rfc2822(self.clock.now()) or "",
        }
        if call.parent_sid:
            params["ParentCallSid"] = call.parent_sid
        if call.answered_by:
            params["AnsweredBy"] = call.answered_by
        if call.ended:
            duration = call.duration() or 0
            params["CallDuration"] = str(duration)
            params["Duration"] = str(math.ceil(duration / 60))
            if call.status != "completed":
                params["SipResponseCode"] = {"busy": "486", "no-answer": "487"}.get(
                    call.status, "500"
                )
        self._deliver(call, call.status_callback, params)

    def _deliver(self, call: SimCall, url: str, params: dict[str, str]) -> None:
        """Queue a signed callback now, maybe delayed or twice, as Twilio may."""
        delay = self._rng.uniform(0, self.faults.max_delay) if self.faults.max_delay else 0.0

        async def send() -> None:
            await self._post(call, url, params)

        self._later(delay, send)
        if self.faults.duplicate and self._rng.random() < self.faults.duplicate:
            self._later(delay + self._rng.uniform(0, max(1.0, self.faults.max_delay)), send)

    async def _post(self, call: SimCall, url: str, params: dict[str, str]) -> str:
        assert self._http is not None
        token = self.accounts[call.account_sid].token
        signature = RequestValidator(token).compute_signature(url, params)
        headers = {"X-Twilio-Signature": signature, "User-Agent": "TwilioProxy/1.1"}
        self.deliveries.append({"url": url, "params": dict(params), "at": self.clock.now()})
        for attempt in (1, 2):
            try:
                async with self._http.post(url, data=params, headers=headers) as response:
                    text = await response.text()
                    if response.status >= 400:
                        log.warning("callback %s answered %s", url, response.status)
                    return text if response.status < 400 else ""
            except (ServerDisconnectedError, ClientOSError) as exc:
                # A kept-alive connection the web server closed meanwhile (uvicorn closes idle
                # ones after 5 s of real time; on a busy machine a virtual run's next request
                # comes later): the request did not reach the app, so it is sent once more on
                # a new connection, as an HTTP client does. Seen in the national benchmark.
                if attempt == 2:
                    log.warning("callback %s failed: %s", url, exc)
            except OSError as exc:  # our webhook is down: Twilio logs an error and moves on
                log.warning("callback %s failed: %s", url, exc)
                return ""
        return ""

    async def _finish_recording(self, call: SimCall, rec: dict[str, Any]) -> None:
        rec["status"] = "completed"
        started = call.answered_at or self.clock.now()
        rec["duration"] = str(int((self.clock.now() - started).total_seconds()))
        url = call.recording_callback
        if url:
            params = {
                "AccountSid": call.account_sid,
                "CallSid": call.sid,
                "RecordingSid": rec["sid"],
                "RecordingUrl": f"{TWILIO_API}{API.format(account=call.account_sid)}"
                f"/Recordings/{rec['sid']}",
                "RecordingStatus": "completed",
                "RecordingDuration": rec["duration"],
                "RecordingChannels": "1",
                "RecordingSource": "OutboundAPI",
                "RecordingStartTime": rec["start_time"],
            }
            self._deliver(call, url, params)
