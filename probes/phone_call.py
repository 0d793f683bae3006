"""The phone channel: place a test call through Twilio with the real SDK.

Two modes (kkik-method.md Part A, "Phone"):

* **bridged** (the KKiK measurement): Twilio first calls the tester's own phone; when they pick
  up, our TwiML dials the municipality's switchboard as a second leg with its own status
  callbacks, so every moment of the municipal leg is timed by Twilio, not by us.
* **automated** (accessibility timing only): Twilio calls the switchboard directly with
  answering-machine detection; our TwiML listens for a person and, once one is there, says in
  Swedish that this is a test call and hangs up.

Dispatch only creates the call. What happens on it arrives as signed callbacks at the web app
(:mod:`harness.web.twilio_hooks`), and the runner reconciles the finished call with a REST fetch.
Callback URLs carry the probe id, so a callback that beats the REST answer (Twilio sends
``initiated`` at once) still finds its probe.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ClassVar, Literal
from urllib.parse import urlencode

import aiohttp
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from probes.base import (
    Dispatched,
    DispatchJob,
    HarnessFault,
    ProbeContext,
    ProbeError,
    TargetRejected,
    TransientFailure,
)
from probes.twilio_http import TWILIO_API, ApiHttpClient, encode_basic_auth, rewrite

log = logging.getLogger(__name__)

Mode = Literal["bridged", "automated"]
STATUS_EVENTS = ["initiated", "ringing", "answered", "completed"]
# Twilio error codes that mean the dialled number itself is wrong (not our account or network).
BAD_NUMBER_CODES = frozenset({21211, 21214, 21215, 21217, 13223, 13224})
RECORDING_SID = re.compile(r"RE[0-9a-f]{32}")
# A recording is a few minutes of 8 kHz audio; anything far larger is not one of ours.
MAX_RECORDING_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class PhoneConfig:
    mode: Mode
    account_sid: str
    auth_token: str
    from_number: str
    caller_number: str | None
    public_url: str
    api_base_url: str = "https://api.twilio.com"
    ring_timeout_seconds: int = 60
    call_time_limit_seconds: int = 900
    hold_limit_seconds: int = 300
    record_calls: bool = False


@dataclass(frozen=True)
class WebhookUrls:
    """The public addresses Twilio calls back on; signatures are computed over exactly these."""

    public_url: str
    probe_id: int

    def status(self, leg: Literal["caller", "municipal"]) -> str:
        return f"{self.public_url}/twilio/status?{urlencode({'probe': self.probe_id, 'leg': leg})}"

    def voice(self, step: str = "answer") -> str:
        return f"{self.public_url}/twilio/voice/{self.probe_id}?{urlencode({'step': step})}"

    def recording(self) -> str:
        return f"{self.public_url}/twilio/recording?{urlencode({'probe': self.probe_id})}"


class PhoneProbe:
    channel: ClassVar[str] = "phone"

    def __init__(self, config: PhoneConfig, *, client: Client | None = None) -> None:
        self.config = config
        self.mode: Mode = config.mode
        self.client = client or Client(
            config.account_sid,
            config.auth_token,
            http_client=ApiHttpClient(config.api_base_url),
        )

    def create_params(self, job: DispatchJob) -> dict[str, Any]:
        """The ``calls.create`` arguments for one probe (kept apart so tests can read them)."""
        c = self.config
        urls = WebhookUrls(c.public_url, job.probe_id)
        params: dict[str, Any] = {
            "from_": c.from_number,
            "url": urls.voice("answer"),
            "method": "POST",
            "status_callback_event": STATUS_EVENTS,
            "status_callback_method": "POST",
            "time_limit": c.call_time_limit_seconds,
        }
        if self.mode == "bridged":
            if not c.caller_number:
                raise HarnessFault(
                    "Bridged mode needs phone.caller_number (the tester's phone)",
                    code="no_caller_number",
                )
            # The tester's phone rings first; the ring timeout for the switchboard is on <Dial>.
            params |= {
                "to": c.caller_number,
                "status_callback": urls.status("caller"),
                "timeout": 60,
            }
        else:
            params |= {
                "to": job.recipient,
                "status_callback": urls.status("municipal"),
                "timeout": c.ring_timeout_seconds,
                "machine_detection": "Enable",
            }
            if c.record_calls:
                params |= {
                    "record": True,
                    "recording_status_callback": urls.recording(),
                    "recording_status_callback_event": ["completed"],
                }
        return params

    async def dispatch(self, ctx: ProbeContext, job: DispatchJob) -> Dispatched:
        params = self.create_params(job)
        attempts = 0
        delay = 2.0
        while True:
            attempts += 1
            ctx.transcript.add(f"create call to {params['to']} ({self.mode})")
            try:
                call = await self.client.calls.create_async(**params)
                break
            except TwilioRestException as exc:
                ctx.transcript.add(f"Twilio {exc.status} code {exc.code}: {exc.msg}")
                if exc.code in BAD_NUMBER_CODES and self.mode == "automated":
                    raise TargetRejected(
                        f"Twilio refused the number: {exc.msg}",
                        code="twilio_number_refused",
                        reply=str(exc.msg),
                    ) from exc
                if exc.status >= 500 or exc.status == 429:
                    failure: ProbeError = TransientFailure(
                        f"Twilio {exc.status}: {exc.msg}",
                        code="twilio_error",
                        status=str(exc.status),
                        reply=str(exc.msg),
                    )
                else:
                    raise HarnessFault(
                        f"Twilio refused the call ({exc.code}): {exc.msg}",
                        code="twilio_call_refused",
                        twilio_code=str(exc.code),
                        reply=str(exc.msg),
                    ) from exc
            except aiohttp.ClientConnectorError as exc:
                # Nothing reached Twilio, so nothing was placed: safe to try again.
                ctx.transcript.add(f"cannot connect to the Twilio API: {exc}")
                failure = TransientFailure(
                    f"cannot connect to the Twilio API: {exc}",
                    code="twilio_unreachable",
                    error=str(exc)[:300],
                )
            if ctx.clock.now() + timedelta(seconds=delay) >= job.send_by:
                raise HarnessFault(
                    f"{failure}; gave up at the end of the call window",
                    code="call_window_ended",
                    cause=failure.code,
                    **failure.params,
                ) from None
            await ctx.clock.sleep(delay)
            delay = min(delay * 2, 60.0)
        ctx.transcript.add(f"call {call.sid} {call.status}")
        return Dispatched(
            accepted_at=ctx.clock.now(),
            response=f"Twilio {call.status} {call.sid}",
            attempts=attempts,
            reference=call.sid,
        )

    async def fetch(self, call_sid: str) -> dict[str, Any]:
        """The call as Twilio has it now (start, end, duration, price, answered_by)."""
        call = await self.client.calls(call_sid).fetch_async()
        return _call_facts(call)

    async def legs(self, call_sid: str) -> list[dict[str, Any]]:
        """The second legs a bridged call created (the municipal leg of ``<Dial>``)."""
        children = await self.client.calls.list_async(parent_call_sid=call_sid, limit=20)
        return [_call_facts(c) for c in children]

    async def hang_up(self, call_sid: str) -> None:
        await self.client.calls(call_sid).update_async(status="completed")

    async def delete_recording(self, recording_sid: str) -> bool:
        """Delete a recording at Twilio (retention): True when it is gone, now or before (404);
        False when Twilio could not be asked or refused, so the caller keeps its link and
        tries again later."""
        if not RECORDING_SID.fullmatch(recording_sid):
            raise ValueError(f"not a recording SID: {recording_sid!r}")
        try:
            await self.client.recordings(recording_sid).delete_async()
        except TwilioRestException as exc:
            if exc.status == 404:
                return True
            log.warning("Twilio refused to delete recording %s: %s", recording_sid, exc.msg)
            return False
        except (OSError, TimeoutError, aiohttp.ClientError) as exc:
            log.warning("Twilio could not be asked to delete recording %s: %s", recording_sid, exc)
            return False
        return True

    async def recording_audio(self, recording_sid: str) -> bytes:
        """The recording's audio as WAV, fetched from the account's API with its credentials.

        The URL is built from the recording SID (as stored from a signed callback), never taken
        from a callback's ``RecordingUrl``, so nothing but the Twilio API is ever asked.
        """
        if not RECORDING_SID.fullmatch(recording_sid):
            raise ValueError(f"not a recording SID: {recording_sid!r}")
        c = self.config
        url = f"{TWILIO_API}/2010-04-01/Accounts/{c.account_sid}/Recordings/{recording_sid}.wav"
        headers = {"Authorization": encode_basic_auth(c.account_sid, c.auth_token)}
        # Twilio may redirect the media to its storage; a sandbox (any other base) may not send
        # us anywhere, so only loopback is ever contacted there.
        follow = c.api_base_url.rstrip("/") == TWILIO_API
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session,
            session.get(
                rewrite(url, c.api_base_url), headers=headers, allow_redirects=follow
            ) as response,
        ):
            if response.status != 200:
                raise LookupError(f"Twilio answered {response.status} for {recording_sid}")
            body = bytearray()
            async for chunk in response.content.iter_chunked(65536):
                body += chunk
                if len(body) > MAX_RECORDING_BYTES:
                    raise LookupError(f"the recording {recording_sid} is larger than expected")
            return bytes(body)

    async def find_placed(self, probe_number: str, after: Any) -> list[dict[str, Any]]:
        """Calls to ``probe_number`` started at or after ``after`` (crash recovery)."""
        calls = await self.client.calls.list_async(to=probe_number, start_time_after=after)
        return [_call_facts(c) for c in calls]


def _call_facts(call: Any) -> dict[str, Any]:
    def iso(value: Any) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "sid": call.sid,
        "parent_call_sid": call.parent_call_sid,
        "to": call.to,
        "status": str(call.status) if call.status is not None else None,
        "start_time": iso(call.start_time),
        "end_time": iso(call.end_time),
        "duration": int(call.duration) if call.duration not in (None, "") else None,
        "price": call.price,
        "price_unit": call.price_unit,
        "answered_by": call.answered_by,
    }
