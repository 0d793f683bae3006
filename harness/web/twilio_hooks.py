"""Twilio's webhooks: status callbacks, TwiML for each step of a call, recording callbacks.

Every request must carry a valid ``X-Twilio-Signature``, computed by Twilio over the public URL it
called (``web.public_url`` plus path and query) and the POST parameters, keyed with the account's
auth token. A missing or wrong signature gets 403 and nothing is stored: a forged callback must not
leave a trace. A genuine request replayed is harmless, because events are deduplicated
(:mod:`harness.channels.phone.store`); a signature replayed with other parameters or onto another
URL does not verify.

The body is read only after the signature header is seen, and only up to :data:`MAX_BODY`
(Twilio's requests are a few kilobytes): a request without the header gets 403 before a byte of
its body is read, one declaring or streaming more than the limit gets 413 as soon as that is
known, and the connection is then closed rather than drained. An unsigned 100 MB POST once grew
the server by 450 MB.

Handlers do little: verify, store the raw event, answer. Callbacks are stored by one writer
with group commit (:mod:`harness.web.event_writer`) and answered once committed. Outcomes are
derived later by the runner from the stored events, and an unknown call (no probe claims it)
is answered with success, logged and kept unattached.

TwiML (what Twilio should do next) depends on the probe's mode and the step in the URL:

* bridged, ``answer``: the tester picked up; say where they are being connected, then
  ``<Dial>`` the switchboard with its own status callbacks (the municipal leg);
  ``dial-done``: the switchboard's leg ended while the tester was on the line; hang up.
* automated, ``answer``: AMD says ``human`` → say the test-call message and hang up; anything
  else (an IVR or queue message) → listen with speech recognition; ``listen``: an utterance
  that sounds like a person (:func:`probes.phone_speech.is_person`) is stored as the moment a
  person was reached, then the message and hang-up; otherwise listen again until the hold limit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import APIRouter, Path, Query, Request, Response
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

from harness.channels.phone import store as phonestore
from harness.core.clock import Clock, ensure_utc
from harness.core.config import PhoneSettings, Settings
from harness.store.models import CallEvent, Probe, Target
from harness.web import twilio_params
from harness.web.event_writer import EventWriter
from probes.phone_call import STATUS_EVENTS, WebhookUrls
from probes.phone_speech import is_person

log = logging.getLogger(__name__)

TWIML = "application/xml"
LANGUAGE = "sv-SE"
TEST_CALL_MESSAGE = (
    "Hej! Det här är ett automatiskt testsamtal från en mätning av kommunens "
    "telefontillgänglighet. Du behöver inte göra något. Tack för att du svarade, och hej då!"
)
LISTEN_SECONDS = 30
MAX_BODY = 64 * 1024


class Forbidden(Exception):
    pass


class TwilioHooks:
    def __init__(self, settings: Settings, engine: Engine, clock: Clock, auth_token: str) -> None:
        assert settings.phone is not None
        self.phone: PhoneSettings = settings.phone
        self.public_url = settings.web.public_url
        self.engine = engine
        self.clock = clock
        self.validator = RequestValidator(auth_token)
        self.writer = EventWriter(engine)
        # Called when a call reached a final status, so the runner can settle it at once.
        self.on_final: Callable[[], None] | None = None
        self.stats = {
            "stored": 0,
            "duplicates": 0,
            "unknown": 0,
            "forbidden": 0,
            "too_large": 0,
            "refused": 0,
        }
        router = APIRouter(prefix="/twilio")
        router.add_api_route("/status", self.status, methods=["POST"])
        router.add_api_route("/voice/{probe_id}", self.voice, methods=["POST"])
        router.add_api_route("/recording", self.recording, methods=["POST"])
        self.router = router

    async def _verified(self, request: Request, kind: str) -> dict[str, str] | Response:
        """The POST parameters if the signature is valid and they are what Twilio sends to the
        ``kind`` webhook (:mod:`harness.web.twilio_params`), else the refusal to send."""
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature:
            self.stats["forbidden"] += 1
            log.warning("refused a Twilio request without a signature: %s", request.url.path)
            return _refused(403)
        body = await _body(request, MAX_BODY)
        if body is None:
            self.stats["too_large"] += 1
            log.warning("refused a Twilio request over %d bytes: %s", MAX_BODY, request.url.path)
            return _refused(413)
        pairs = parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True)
        params = dict(pairs)
        url = self.public_url + request.url.path
        if request.url.query:
            url += "?" + request.url.query
        if not self.validator.validate(url, params, signature):
            self.stats["forbidden"] += 1
            log.warning("refused a Twilio request with a bad signature: %s", request.url.path)
            return Response(status_code=403)
        wrong = twilio_params.problems(kind, pairs)
        if wrong:
            # Signed, so Twilio's (a new parameter?) or a genuine request replayed regrouped.
            self.stats["refused"] += 1
            log.warning(
                "refused a signed Twilio request to %s: %s (if Twilio added a parameter, add it "
                "to harness/web/twilio_params.py)",
                request.url.path,
                "; ".join(wrong),
            )
            return Response(status_code=400)
        return params

    # --- status and recording callbacks ---------------------------------------------------------

    async def status(
        self, request: Request, probe: Annotated[int | None, Query()] = None
    ) -> Response:
        params = await self._verified(request, twilio_params.STATUS)
        if isinstance(params, Response):
            return params
        await self._store(probe, phonestore.STATUS, params, request.url.path)
        return Response(status_code=200)

    async def recording(
        self, request: Request, probe: Annotated[int | None, Query()] = None
    ) -> Response:
        params = await self._verified(request, twilio_params.RECORDING)
        if isinstance(params, Response):
            return params
        await self._store(probe, phonestore.RECORDING, params, request.url.path)
        return Response(status_code=200)

    async def _store(
        self, probe_id: int | None, event: str, params: dict[str, str], path: str
    ) -> None:
        stored, known = await self.writer.store(probe_id, event, params, self.clock.now(), path)
        if not known:
            self.stats["unknown"] += 1
            log.warning(
                "Twilio %s callback for unknown call %s (probe %s): kept unattached",
                event,
                params.get("CallSid"),
                probe_id,
            )
        self.stats["stored" if stored else "duplicates"] += 1
        final = params.get("CallStatus") in phonestore.FINAL_STATUSES
        if stored and known and final and self.on_final is not None:
            self.on_final()

    # --- TwiML -----------------------------------------------------------------------------------

    async def voice(
        self,
        request: Request,
        probe_id: Annotated[int, Path()],
        step: Annotated[str, Query()] = "answer",
    ) -> Response:
        params = await self._verified(request, twilio_params.VOICE)
        if isinstance(params, Response):
            return params
        twiml = await run_in_threadpool(self._voice, probe_id, step, params, request.url.path)
        return Response(content=twiml, media_type=TWIML)

    def _voice(self, probe_id: int, step: str, params: dict[str, str], path: str) -> str:
        now = self.clock.now()
        response = VoiceResponse()
        with Session(self.engine) as session:
            probe = phonestore.find_probe(session, probe_id, params)
            target = session.get(Target, probe.target_id) if probe is not None else None
            if probe is None or target is None:
                log.warning(
                    "TwiML asked for unknown call %s (probe %s)", params.get("CallSid"), probe_id
                )
                response.hangup()
                return str(response)
            event = phonestore.VOICE
            if step == "dial-done":
                event = phonestore.DIAL_ENDED
            elif step == "listen" and is_person(params.get("SpeechResult", "")):
                event = phonestore.SPEECH_PERSON
            phonestore.store_event(
                session,
                probe=probe,
                event=event,
                params=params,
                received_at=now,
                path=f"{path}?step={step}",
                occurred_at=now,
            )
            urls = WebhookUrls(self.public_url, probe_id)
            if probe.mode == "automated":
                answered = self._answered_at(session, probe)
                self._automated(response, urls, step, event, params, answered, now)
            else:
                self._bridged(response, urls, step, target)
        return str(response)

    def _bridged(
        self, response: VoiceResponse, urls: WebhookUrls, step: str, target: Target
    ) -> None:
        if step != "answer":
            response.say("Samtalet är avslutat. Tack.", language=LANGUAGE)
            response.hangup()
            return
        if not target.switchboard_number:
            response.say("Kommunen saknar telefonnummer. Samtalet avslutas.", language=LANGUAGE)
            response.hangup()
            return
        response.say(f"Du kopplas nu till {target.name}.", language=LANGUAGE)
        phone = self.phone
        recording = (
            {"record": "record-from-answer-dual", "recording_status_callback": urls.recording()}
            if phone.record_calls
            else {}
        )
        dial = Dial(
            timeout=phone.ring_timeout_seconds,
            time_limit=phone.call_time_limit_seconds,
            caller_id=phone.from_number,
            action=urls.voice("dial-done"),
            method="POST",
            **recording,
        )
        dial.number(
            target.switchboard_number,
            status_callback=urls.status("municipal"),
            status_callback_event=" ".join(STATUS_EVENTS),
            status_callback_method="POST",
        )
        response.append(dial)

    def _automated(
        self,
        response: VoiceResponse,
        urls: WebhookUrls,
        step: str,
        event: str,
        params: dict[str, str],
        answered: datetime | None,
        now: datetime,
    ) -> None:
        person = event == phonestore.SPEECH_PERSON or (
            step == "answer" and params.get("AnsweredBy") == "human"
        )
        if person:
            response.say(TEST_CALL_MESSAGE, language=LANGUAGE)
            response.hangup()
            return
        hold = timedelta(seconds=self.phone.hold_limit_seconds)
        if answered is not None and now - answered > hold:
            response.hangup()  # nobody within the hold limit: stop listening, free the line
            return
        gather = Gather(
            input="speech",
            language=LANGUAGE,
            speech_timeout="auto",
            timeout=LISTEN_SECONDS,
            action=urls.voice("listen"),
            method="POST",
            action_on_empty_result=True,
        )
        response.append(gather)

    @staticmethod
    def _answered_at(session: Session, probe: Probe) -> datetime | None:
        row = session.exec(
            select(CallEvent.occurred_at)
            .where(
                CallEvent.probe_id == probe.id,
                CallEvent.event == phonestore.STATUS,
                CallEvent.status == "in-progress",
            )
            .order_by(col(CallEvent.occurred_at))
        ).first()
        return None if row is None else ensure_utc(row)


async def _body(request: Request, limit: int) -> bytes | None:
    """The request body if it is at most ``limit`` bytes, else None, reading no more than that.

    A declared Content-Length over the limit is refused unread; a chunked body is counted as it
    streams in and dropped once it passes the limit."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        return None
    received = bytearray()
    try:
        async for chunk in request.stream():
            received += chunk
            if len(received) > limit:
                return None
    except ClientDisconnect:
        return None
    return bytes(received)


def _refused(status: int) -> Response:
    """A refusal sent before the body was read: close the connection instead of draining it."""
    return Response(status_code=status, headers={"Connection": "close"})
