"""The Twilio simulator's call player: each leg's progress from its script, and our TwiML run.

:class:`CallPlayer` schedules a leg from dialling to its end (initiated, ringing, the script's
outcome, the far end hanging up, the time limit), fetches our TwiML when a leg is answered exactly
as Twilio does and runs it (``Say``, ``Pause``, ``Gather`` with speech, ``Record``,
``Dial``/``Number`` as a second leg with its own callbacks, ``Hangup``). Every step is an action
on :class:`~harness.sandbox.twilio_callbacks.CallbackSender`'s queue.
"""

from __future__ import annotations

import logging
import secrets
import xml.etree.ElementTree as ET
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from harness.sandbox.twilio_callbacks import CallbackSender
from harness.sandbox.twilio_calls import (
    FINAL,
    SimCall,
    SwitchboardScript,
    new_recording,
    say_seconds,
)

log = logging.getLogger(__name__)


class CallPlayer(CallbackSender):
    """Plays calls out on the queue; a base of the simulator, which sets the attributes."""

    scripts: dict[str, SwitchboardScript]
    calls: dict[str, SimCall]
    on_person: Callable[[SimCall, datetime], Awaitable[None]] | None
    script_for: Callable[[str, str | None], SwitchboardScript | None] | None
    ended_count: int  # legs that reached a final status, ever (forgotten ones included)
    _ended: deque[tuple[datetime, str]]  # (end time, SID) of ended legs, in the order they ended

    def _script(self, number: str, parent_sid: str | None = None) -> SwitchboardScript:
        chosen = self.script_for(number, parent_sid) if self.script_for is not None else None
        # A number nobody scripted behaves like an unreachable one.
        return chosen or self.scripts.get(number) or SwitchboardScript(outcome="failed")

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
                call.recordings.append(new_recording(call, self.clock.now()))
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
        self.ended_count += 1
        self._ended.append((call.end_time, call.sid))
        for rec in call.recordings:
            if rec["status"] == "in-progress":
                await self._finish_recording(call, rec)
        await self._status(call, "completed" if status in FINAL else status)
        if call.child is not None and not call.child.ended:
            await self._end(call.child, "completed" if call.child.answered_at else "canceled")
        if call.on_end is not None:
            await call.on_end(call)

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
        params = call.webhook_params("outbound-api")
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
            self._later(say_seconds(verb.text or ""), go_on)
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

    def _record(self, call: SimCall, verb: ET.Element, rest: list[ET.Element], epoch: int) -> None:
        rec = new_recording(call, self.clock.now())
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
