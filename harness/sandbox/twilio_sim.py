"""A faithful local stand-in for Twilio Voice: REST calls, TwiML, signed status callbacks.

Twilio cannot be reached offline, and none of the public fakes replays a call-progress timeline
(peers.md §4), so the tests and the demo use this one. It serves the REST calls our adapter makes
through the real ``twilio`` SDK (create, fetch, list, hang up, recordings) and plays every call out
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

    sim = TwilioSimulator(clock)
    sim.add_account(ACCOUNT_SID, AUTH_TOKEN)
    sim.script("+4663143000", SwitchboardScript(ring_seconds=8, person_after=40))
    async with sim:
        ...  # point the SDK at sim.base_url through harness.twilio_http
"""

from __future__ import annotations

import asyncio
import base64
import heapq
import io
import itertools
import logging
import math
import random
import re
import secrets
import threading
import wave
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import format_datetime
from typing import Any, Literal
from urllib.parse import parse_qsl

from aiohttp import ClientSession, ClientTimeout, web
from twilio.request_validator import RequestValidator

from harness.core.clock import Clock, FakeClock
from harness.sandbox.service import AsyncService

log = logging.getLogger(__name__)

API = "/2010-04-01/Accounts/{account}"
TWILIO_API = "https://api.twilio.com"  # what Twilio puts in the URLs it sends
FINAL = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})
E164 = re.compile(r"\+[1-9][0-9]{6,14}")
SAY_SECONDS_PER_WORD = 0.4


@dataclass(frozen=True)
class SwitchboardScript:
    """How one number behaves when called (the municipality's switchboard, or a tester's phone).

    All durations are seconds. ``person_after`` counts from the moment the line picks up: 0 is a
    person answering at once; more is an IVR or queue first, saying ``prompts`` in turn every
    ``prompt_every`` seconds; None is a queue nobody ever answers. ``hangup_after`` (from pick-up)
    is the far end dropping the call, ``talk_seconds`` how long the person talks before hanging
    up once they are on the line.

    A tester's phone in bridged mode is ``SwitchboardScript(person_after=None, prompts=())``: it
    picks up and stays until the municipality's side ends the call, or, with ``hangup_after``,
    the tester gives up early.
    """

    outcome: Literal["answer", "busy", "no_answer", "failed"] = "answer"
    dial_delay: float = 1.0
    ring_seconds: float = 6.0
    person_after: float | None = 0.0
    hangup_after: float | None = None
    talk_seconds: float = 60.0
    greeting: str = "Kommunens kontaktcenter, du pratar med Anna."
    greeting_seconds: float = 2.0
    prompts: tuple[str, ...] = (
        "Välkommen till kommunen. Ditt samtal är placerat i kö.",
        "Alla våra handläggare är upptagna. Var god dröj.",
    )
    prompt_every: float = 20.0

    def answered_by(self) -> str:
        """What answering-machine detection reports: a greeting person, or a recorded voice."""
        return "human" if self.person_after == 0 else "machine_start"

    def far_end_hangup(self) -> float | None:
        """Seconds after pick-up at which this side hangs up, if it ever does on its own."""
        ends = []
        if self.hangup_after is not None:
            ends.append(self.hangup_after)
        if self.person_after is not None:
            ends.append(self.person_after + self.talk_seconds)
        return min(ends) if ends else None

    def utterances(self, until: float) -> list[tuple[float, float, str]]:
        """(start, length, text) of what this side says after pick-up, up to ``until``."""
        said: list[tuple[float, float, str]] = []
        person = self.person_after if self.person_after is not None else math.inf
        at = 0.0
        for k in itertools.count():
            if at >= min(person, until) or not self.prompts:
                break
            text = self.prompts[k % len(self.prompts)]
            said.append((at, _say_seconds(text), text))
            at += self.prompt_every
        if person <= until:
            said.append((person, self.greeting_seconds, self.greeting))
        return said


@dataclass(frozen=True)
class CallbackFaults:
    """Twilio's delivery freedoms: duplicates and delays (which reorder), seeded."""

    duplicate: float = 0.0
    max_delay: float = 0.0
    seed: int = 0


@dataclass
class SimCall:
    sid: str
    account_sid: str
    to: str
    from_: str
    script: SwitchboardScript
    created_at: datetime
    parent_sid: str | None = None
    url: str | None = None
    method: str = "POST"
    status_callback: str | None = None
    status_events: frozenset[str] = frozenset({"completed"})
    timeout: float = 60.0
    time_limit: float = 14400.0
    machine_detection: str | None = None
    record: bool = False
    recording_callback: str | None = None
    status: str = "queued"
    sequence: int = 0
    start_time: datetime | None = None
    answered_at: datetime | None = None
    end_time: datetime | None = None
    answered_by: str | None = None
    epoch: int = 0  # bumped whenever the running TwiML is replaced: stale steps are dropped
    child: SimCall | None = None
    dial_action: str | None = None
    on_end: Callable[[SimCall], Awaitable[None]] | None = None
    recordings: list[dict[str, Any]] = field(default_factory=list)
    twiml_requests: list[dict[str, str]] = field(default_factory=list)

    @property
    def ended(self) -> bool:
        return self.status in FINAL

    def duration(self) -> int | None:
        if self.answered_at is None or self.end_time is None:
            return None
        return int((self.end_time - self.answered_at).total_seconds())


class TwilioSimulator(AsyncService):
    """The REST API on loopback plus the call player; see the module docstring."""

    def __init__(
        self,
        clock: Clock,
        *,
        faults: CallbackFaults | None = None,
        host: str = "127.0.0.1",
        pump_interval: float = 0.02,
    ) -> None:
        self.clock = clock
        self.faults = faults or CallbackFaults()
        self.host = host
        self.port = 0
        self.pump_interval = pump_interval
        self.tokens: dict[str, str] = {}
        self.scripts: dict[str, SwitchboardScript] = {}
        self.calls: dict[str, SimCall] = {}
        self.deliveries: list[dict[str, Any]] = []  # every callback sent, for tests
        self.on_person: Callable[[SimCall, datetime], Awaitable[None]] | None = None
        # Called for every new leg with its number and parent call SID: a script for this one
        # call (a world whose switchboards vary from call to call); None falls back to the
        # number's fixed script.
        self.script_for: Callable[[str, str | None], SwitchboardScript | None] | None = None
        self._queue: list[tuple[datetime, int, Callable[[], Awaitable[None]]]] = []
        self._seq = itertools.count()
        self._rng = random.Random(self.faults.seed)
        self._runner: web.AppRunner | None = None
        self._http: ClientSession | None = None
        self._pump: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    # --- setup --------------------------------------------------------------------------------

    def add_account(self, sid: str, token: str) -> None:
        self.tokens[sid] = token

    def script(self, number: str, script: SwitchboardScript) -> None:
        self.scripts[number] = script

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _script(self, number: str, parent_sid: str | None = None) -> SwitchboardScript:
        chosen = self.script_for(number, parent_sid) if self.script_for is not None else None
        # A number nobody scripted behaves like an unreachable one.
        return chosen or self.scripts.get(number) or SwitchboardScript(outcome="failed")

    async def start(self, *, realtime: bool = False) -> None:
        app = web.Application()
        app.router.add_post(API + "/Calls.json", self._rest_create)
        app.router.add_get(API + "/Calls.json", self._rest_list)
        app.router.add_get(API + "/Calls/{sid}.json", self._rest_fetch)
        app.router.add_post(API + "/Calls/{sid}.json", self._rest_update)
        app.router.add_get(API + "/Calls/{sid}/Recordings.json", self._rest_recordings)
        app.router.add_get(API + "/Recordings/{sid}.wav", self._rest_recording_audio)
        self._runner = web.AppRunner(app, access_log=None)
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
            while self._queue and self._queue[0][0] <= until:
                due, _, action = heapq.heappop(self._queue)
                if due > self.clock.now():
                    self.clock.set(due)
                await action()
                done += 1
            if until > self.clock.now():
                self.clock.set(until)
        return done

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
            await self.clock.sleep(self.pump_interval)

    def _at(self, due: datetime, action: Callable[[], Awaitable[None]]) -> None:
        heapq.heappush(self._queue, (due, next(self._seq), action))

    def _later(self, seconds: float, action: Callable[[], Awaitable[None]]) -> None:
        self._at(self.clock.now() + timedelta(seconds=seconds), action)

    # --- REST -------------------------------------------------------------------------------------

    def _auth(self, request: web.Request) -> str | None:
        account = request.match_info["account"]
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return None
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return None
        token = self.tokens.get(account)
        ok = token is not None and user == account and secrets.compare_digest(password, token)
        return account if ok else None

    @staticmethod
    def _error(status: int, code: int, message: str) -> web.Response:
        body = {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        }
        return web.json_response(body, status=status)

    async def _rest_create(self, request: web.Request) -> web.Response:
        account = self._auth(request)
        if account is None:
            return self._error(401, 20003, "Authenticate")
        pairs = parse_qsl(await request.text(), keep_blank_values=True)
        form = dict(pairs)
        to, from_ = form.get("To", ""), form.get("From", "")
        if not E164.fullmatch(to):
            return self._error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if not E164.fullmatch(from_):
            return self._error(400, 21212, f"The 'From' number {from_} is not a valid number.")
        if "Url" not in form and "Twiml" not in form:
            return self._error(400, 21205, "Url parameter is required.")
        call = SimCall(
            sid="CA" + secrets.token_hex(16),
            account_sid=account,
            to=to,
            from_=from_,
            script=self._script(to),
            created_at=self.clock.now(),
            url=form.get("Url"),
            method=form.get("Method", "POST"),
            status_callback=form.get("StatusCallback"),
            status_events=frozenset(v for k, v in pairs if k == "StatusCallbackEvent")
            or frozenset({"completed"}),
            timeout=float(form.get("Timeout", 60)),
            time_limit=float(form.get("TimeLimit", 14400)),
            machine_detection=form.get("MachineDetection"),
            record=form.get("Record", "false").lower() == "true",
            recording_callback=form.get("RecordingStatusCallback"),
        )
        self.calls[call.sid] = call
        self._dial(call)
        return web.json_response(self._call_json(call), status=201)

    async def _rest_fetch(self, request: web.Request) -> web.Response:
        if self._auth(request) is None:
            return self._error(401, 20003, "Authenticate")
        call = self.calls.get(request.match_info["sid"])
        if call is None:
            return self._error(404, 20404, "The requested resource was not found")
        return web.json_response(self._call_json(call))

    async def _rest_update(self, request: web.Request) -> web.Response:
        if self._auth(request) is None:
            return self._error(401, 20003, "Authenticate")
        call = self.calls.get(request.match_info["sid"])
        if call is None:
            return self._error(404, 20404, "The requested resource was not found")
        wanted = dict(parse_qsl(await request.text())).get("Status")
        if wanted in {"completed", "canceled"} and not call.ended:
            final = "completed" if call.answered_at is not None else "canceled"
            await self._end(call, final)
        return web.json_response(self._call_json(call))

    async def _rest_list(self, request: web.Request) -> web.Response:
        account = self._auth(request)
        if account is None:
            return self._error(401, 20003, "Authenticate")
        q = request.query
        found = [
            c
            for c in self.calls.values()
            if c.account_sid == account
            and (not q.get("To") or c.to == q["To"])
            and (not q.get("ParentCallSid") or c.parent_sid == q["ParentCallSid"])
            and (not q.get("Status") or c.status == q["Status"])
        ]
        found.sort(key=lambda c: c.created_at, reverse=True)
        return web.json_response(_page("calls", [self._call_json(c) for c in found], request))

    async def _rest_recordings(self, request: web.Request) -> web.Response:
        if self._auth(request) is None:
            return self._error(401, 20003, "Authenticate")
        call = self.calls.get(request.match_info["sid"])
        return web.json_response(_page("recordings", call.recordings if call else [], request))

    async def _rest_recording_audio(self, request: web.Request) -> web.Response:
        account = self._auth(request)
        if account is None:
            return self._error(401, 20003, "Authenticate")
        sid = request.match_info["sid"]
        for call in self.calls.values():
            for rec in call.recordings:
                if rec["sid"] == sid and call.account_sid == account:
                    if rec["status"] != "completed":
                        break
                    return web.Response(body=_recording_wav(call, rec), content_type="audio/x-wav")
        return self._error(404, 20404, "The requested resource was not found")

    def _call_json(self, call: SimCall) -> dict[str, Any]:
        duration = call.duration()
        minutes = math.ceil(duration / 60) if duration else 0
        price = f"-{0.013 * minutes:.5f}" if call.ended and duration is not None else None
        uri = f"/2010-04-01/Accounts/{call.account_sid}/Calls/{call.sid}.json"
        return {
            "sid": call.sid,
            "account_sid": call.account_sid,
            "parent_call_sid": call.parent_sid,
            "to": call.to,
            "to_formatted": call.to,
            "from": call.from_,
            "from_formatted": call.from_,
            "status": call.status,
            "direction": "outbound-dial" if call.parent_sid else "outbound-api",
            "answered_by": call.answered_by,
            "start_time": _rfc2822(call.start_time),
            "end_time": _rfc2822(call.end_time),
            "duration": None if duration is None else str(duration),
            "price": price,
            "price_unit": "USD",
            "date_created": _rfc2822(call.created_at),
            "date_updated": _rfc2822(self.clock.now()),
            "api_version": "2010-04-01",
            "queue_time": "0",
            "caller_name": None,
            "forwarded_from": None,
            "group_sid": None,
            "phone_number_sid": None,
            "trunk_sid": None,
            "annotation": None,
            "uri": uri,
            "subresource_uris": {
                "recordings": uri.replace(".json", "/Recordings.json"),
                "events": uri.replace(".json", "/Events.json"),
            },
        }

    # --- the call player ------------------------------------------------------------------------

    def _dial(self, call: SimCall) -> None:
        """Schedule a new leg's progress from now: initiated, ringing, then the script's outcome."""
        script = call.script
        call.start_time = self.clock.now()

        async def initiated() -> None:
            if call.ended:
                return
            call.status = "initiated"
            await self._status(call, "initiated")
            if script.outcome == "failed":
                await self._end(call, "failed")
            elif script.outcome == "busy":
                self._later(script.dial_delay, lambda: self._end(call, "busy"))
            else:
                self._later(script.dial_delay, ringing)

        async def ringing() -> None:
            if call.ended:
                return
            call.status = "ringing"
            await self._status(call, "ringing")
            if script.outcome == "no_answer" or script.ring_seconds > call.timeout:
                self._later(call.timeout, lambda: self._end(call, "no-answer"))
            else:
                self._later(script.ring_seconds, answered)

        async def answered() -> None:
            if call.ended:
                return
            call.status = "in-progress"
            call.answered_at = self.clock.now()
            await self._status(call, "answered")
            self._later(call.time_limit, lambda: self._end(call, "completed"))
            hangup = script.far_end_hangup()
            if hangup is not None:
                self._later(hangup, lambda: self._end(call, "completed"))
            if script.person_after is not None and call.parent_sid is not None:
                # A bridged second leg: the tester hears the person; tell whoever plays the tester.
                self._later(script.person_after, lambda: self._person(call))
            if call.record:
                call.recordings.append(self._recording(call))
            if call.parent_sid is not None:
                return  # a <Number> leg is bridged to its parent; it runs no TwiML of its own
            if call.machine_detection:
                detection = 2.5 if script.person_after == 0 else 4.0
                self._later(detection, lambda: self._fetch_twiml(call, call.url, amd=detection))
            else:
                await self._fetch_twiml(call, call.url)

        self._later(0, initiated)

    async def _person(self, call: SimCall) -> None:
        if not call.ended and self.on_person is not None:
            await self.on_person(call, self.clock.now())

    async def _end(self, call: SimCall, status: str) -> None:
        if call.ended:
            return
        call.status = status
        call.end_time = self.clock.now()
        call.epoch += 1
        for rec in call.recordings:
            if rec["status"] == "in-progress":
                await self._finish_recording(call, rec)
        await self._status(call, "completed" if status in FINAL else status)
        if call.child is not None and not call.child.ended:
            await self._end(call.child, "completed" if call.child.answered_at else "canceled")
        if call.on_end is not None:
            await call.on_end(call)

    async def _status(self, call: SimCall, event: str) -> None:
        """Send a status callback if the call asked for this event (Twilio always counts it)."""
        call.sequence += 1
        sequence = call.sequence - 1
        if not call.status_callback or event not in call.status_events:
            return
        params = {
            "AccountSid": call.account_sid,
            "ApiVersion": "2010-04-01",
            "CallSid": call.sid,
            "CallStatus": call.status,
            "Called": call.to,
            "Caller": call.from_,
            "CallbackSource": "call-progress-events",
            "Direction": "outbound-dial" if call.parent_sid else "outbound-api",
            "From": call.from_,
            "SequenceNumber": str(sequence),
            "Timestamp": _rfc2822(self.clock.now()) or "",
            "To": call.to,
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
        token = self.tokens[call.account_sid]
        signature = RequestValidator(token).compute_signature(url, params)
        headers = {"X-Twilio-Signature": signature, "User-Agent": "TwilioProxy/1.1"}
        self.deliveries.append({"url": url, "params": dict(params), "at": self.clock.now()})
        try:
            async with self._http.post(url, data=params, headers=headers) as response:
                text = await response.text()
                if response.status >= 400:
                    log.warning("callback %s answered %s", url, response.status)
                return text if response.status < 400 else ""
        except OSError as exc:  # our webhook is down: Twilio logs an error and moves on
            log.warning("callback %s failed: %s", url, exc)
            return ""

    # --- TwiML ------------------------------------------------------------------------------------

    async def _fetch_twiml(
        self,
        call: SimCall,
        url: str | None,
        *,
        amd: float | None = None,
        extra: dict[str, str] | None = None,
    ) -> None:
        if call.ended or url is None:
            return
        params = {
            "AccountSid": call.account_sid,
            "ApiVersion": "2010-04-01",
            "CallSid": call.sid,
            "CallStatus": call.status,
            "Called": call.to,
            "Caller": call.from_,
            "Direction": "outbound-api",
            "From": call.from_,
            "To": call.to,
        }
        if amd is not None:
            call.answered_by = call.script.answered_by()
            params["AnsweredBy"] = call.answered_by
            params["MachineDetectionDuration"] = str(int(amd * 1000))
        params.update(extra or {})
        call.twiml_requests.append(params)
        text = await self._post(call, url, params)
        call.epoch += 1
        try:
            root = ET.fromstring(text) if text else None
        except ET.ParseError:
            root = None
        if root is None or root.tag != "Response":
            # Twilio says "an application error has occurred" and hangs up (error 12100).
            await self._end(call, "completed")
            return
        await self._run(call, list(root), call.epoch)

    async def _run(self, call: SimCall, verbs: list[ET.Element], epoch: int) -> None:
        """Execute verbs from the first; each verb that takes time schedules the rest."""
        if call.ended or call.epoch != epoch:
            return
        if not verbs:
            await self._end(call, "completed")  # the document ran out: Twilio hangs up
            return
        verb, rest = verbs[0], verbs[1:]

        async def go_on() -> None:
            await self._run(call, rest, epoch)

        if verb.tag == "Say":
            self._later(_say_seconds(verb.text or ""), go_on)
        elif verb.tag == "Pause":
            self._later(float(verb.get("length", "1")), go_on)
        elif verb.tag == "Hangup":
            await self._end(call, "completed")
        elif verb.tag == "Gather":
            self._gather(call, verb, rest, epoch)
        elif verb.tag == "Record":
            self._record(call, verb, rest, epoch)
        elif verb.tag == "Dial":
            await self._dial_number(call, verb, rest, epoch)
        else:  # unknown verbs are errors at Twilio too (12200)
            log.warning("simulated Twilio: unsupported verb <%s>", verb.tag)
            await self._end(call, "completed")

    def _heard(self, call: SimCall, since: datetime) -> tuple[datetime, float, str] | None:
        """The first utterance of the far end that starts at or after ``since``."""
        assert call.answered_at is not None
        offset = (since - call.answered_at).total_seconds()
        for start, length, text in call.script.utterances(until=offset + 3600):
            if start >= offset - 1e-9:
                return call.answered_at + timedelta(seconds=start), length, text
        return None

    def _gather(self, call: SimCall, verb: ET.Element, rest: list[ET.Element], epoch: int) -> None:
        timeout = float(verb.get("timeout", "5"))
        action = verb.get("action") or call.url
        heard = self._heard(call, self.clock.now())
        now = self.clock.now()
        if heard is not None and heard[0] <= now + timedelta(seconds=timeout):
            start, length, text = heard
            done_at = start + timedelta(seconds=length + 0.5)  # speechTimeout "auto": a pause

            async def result() -> None:
                if call.ended or call.epoch != epoch:
                    return
                extra = {"SpeechResult": text, "Confidence": "0.91"}
                await self._fetch_twiml(call, action, extra=extra)

            self._at(done_at, result)
            return

        async def empty() -> None:
            if call.ended or call.epoch != epoch:
                return
            if verb.get("actionOnEmptyResult", "false") == "true":
                await self._fetch_twiml(call, action)
            else:
                await self._run(call, rest, epoch)

        self._later(timeout, empty)

    def _recording(self, call: SimCall) -> dict[str, Any]:
        return {
            "sid": "RE" + secrets.token_hex(16),
            "account_sid": call.account_sid,
            "call_sid": call.sid,
            "status": "in-progress",
            "start_time": _rfc2822(self.clock.now()),
            "duration": None,
            "channels": 1,
            "source": "OutboundAPI",
            "uri": f"/2010-04-01/Accounts/{call.account_sid}/Recordings/x.json",
        }

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

    def _record(self, call: SimCall, verb: ET.Element, rest: list[ET.Element], epoch: int) -> None:
        rec = self._recording(call)
        call.recordings.append(rec)
        max_length = float(verb.get("maxLength", "3600"))

        async def done() -> None:
            if call.ended or call.epoch != epoch:
                return
            await self._finish_recording(call, rec)
            await self._run(call, rest, epoch)

        self._later(max_length, done)

    async def _dial_number(
        self, call: SimCall, verb: ET.Element, rest: list[ET.Element], epoch: int
    ) -> None:
        number = verb.find("Number")
        target = ((number.text if number is not None else verb.text) or "").strip()
        attrs = number.attrib if number is not None else {}
        events = frozenset(attrs.get("statusCallbackEvent", "completed").split())
        child = SimCall(
            sid="CA" + secrets.token_hex(16),
            account_sid=call.account_sid,
            to=target,
            from_=verb.get("callerId", call.from_),
            script=self._script(target, call.sid),
            created_at=self.clock.now(),
            parent_sid=call.sid,
            status_callback=attrs.get("statusCallback"),
            status_events=events,
            timeout=float(verb.get("timeout", "30")),
            time_limit=float(verb.get("timeLimit", "14400")),
            record=verb.get("record", "do-not-record").startswith("record"),
            recording_callback=verb.get("recordingStatusCallback"),
        )
        self.calls[child.sid] = child
        call.child = child
        action = verb.get("action")

        async def child_ended(leg: SimCall) -> None:
            if call.ended or call.epoch != epoch:
                return
            status = {"canceled": "no-answer"}.get(leg.status, leg.status)
            extra = {
                "DialCallSid": leg.sid,
                "DialCallStatus": status,
                "DialCallDuration": str(leg.duration() or 0),
            }
            if action:
                await self._fetch_twiml(call, action, extra=extra)
            else:
                await self._run(call, rest, epoch)

        child.on_end = child_ended
        self._dial(child)


def _page(key: str, items: list[dict[str, Any]], request: web.Request) -> dict[str, Any]:
    """A one-page list in Twilio's paging envelope (the SDK reads the one non-meta key)."""
    uri = str(request.rel_url)
    return {
        key: items,
        "first_page_uri": uri,
        "next_page_uri": None,
        "previous_page_uri": None,
        "page": 0,
        "page_size": max(50, len(items)),
        "start": 0,
        "end": max(0, len(items) - 1),
        "uri": uri,
    }


RECORDING_RATE = 8000
# One period of a square-ish tone, so a recording is built by repeating bytes, not per sample:
# the recorded voice menu hums at 400 Hz, a person at 800 Hz; silence between.
_TONES = {
    "prompt": (b"\x00\x10" * 10 + b"\x00\xf0" * 10),
    "person": (b"\x00\x18" * 5 + b"\x00\xe8" * 5),
}


def _recording_wav(call: SimCall, rec: dict[str, Any]) -> bytes:
    """The recording as 8 kHz 16-bit mono WAV: the far end's voice menu and person as tones.

    It starts when the call was answered (``record-from-answer``) and lasts the recording's
    duration, so a listener hears the person begin exactly where the timeline says they did.
    """
    seconds = int(rec.get("duration") or 0)
    frames = bytearray(RECORDING_RATE * 2 * seconds)
    for start, length, text in call.script.utterances(seconds):
        tone = _TONES["person" if text == call.script.greeting else "prompt"]
        if text == call.script.greeting:
            length = max(length, min(call.script.talk_seconds, seconds - start))
        first = int(start * RECORDING_RATE) * 2
        last = min(len(frames), int((start + length) * RECORDING_RATE) * 2)
        if last > first:
            frames[first:last] = (tone * ((last - first) // len(tone) + 1))[: last - first]
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RECORDING_RATE)
        wav.writeframes(bytes(frames))
    return out.getvalue()


def _say_seconds(text: str) -> float:
    return max(1.0, len(text.split()) * SAY_SECONDS_PER_WORD)


def _rfc2822(value: datetime | None) -> str | None:
    return None if value is None else format_datetime(value, usegmt=True)


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
