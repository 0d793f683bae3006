"""What the Twilio simulator plays and keeps: scripts, callback faults, calls and recordings.

Plain data and pure helpers shared by the simulator's modules (:mod:`.twilio_callbacks`,
:mod:`.twilio_player`, :mod:`.twilio_rest`, :mod:`.twilio_sim`) and imported by the tests and the
demo to script a world: :class:`SwitchboardScript` (how one number behaves when called),
:class:`CallbackFaults` (Twilio's delivery freedoms), :class:`SimCall` (one leg as the simulator
keeps it), and a recording's REST record and audio.
"""

from __future__ import annotations

import io
import itertools
import math
import secrets
import wave
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from typing import Any, Literal

API = "/2010-04-01/Accounts/{account}"
TWILIO_API = "https://api.twilio.com"  # what Twilio puts in the URLs it sends
FINAL = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})
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
            said.append((at, say_seconds(text), text))
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

    def webhook_params(self, direction: str) -> dict[str, str]:
        """The parameters Twilio sends about this call with every webhook, status callback and
        TwiML request alike."""
        return {
            "AccountSid": self.account_sid,
            "ApiVersion": "2010-04-01",
            "CallSid": self.sid,
            "CallStatus": self.status,
            "Called": self.to,
            "Caller": self.from_,
            "Direction": direction,
            "From": self.from_,
            "To": self.to,
        }

    def duration(self) -> int | None:
        if self.answered_at is None or self.end_time is None:
            return None
        return int((self.end_time - self.answered_at).total_seconds())


def new_recording(call: SimCall, started: datetime) -> dict[str, Any]:
    """A recording of ``call`` begun at ``started``, as the REST API lists it while it runs."""
    return {
        "sid": "RE" + secrets.token_hex(16),
        "account_sid": call.account_sid,
        "call_sid": call.sid,
        "status": "in-progress",
        "start_time": rfc2822(started),
        "duration": None,
        "channels": 1,
        "source": "OutboundAPI",
        "uri": f"/2010-04-01/Accounts/{call.account_sid}/Recordings/x.json",
    }


RECORDING_RATE = 8000
# One period of a square-ish tone, so a recording is built by repeating bytes, not per sample:
# the recorded voice menu hums at 400 Hz, a person at 800 Hz; silence between.
_TONES = {
    "prompt": (b"\x00\x10" * 10 + b"\x00\xf0" * 10),
    "person": (b"\x00\x18" * 5 + b"\x00\xe8" * 5),
}


def recording_wav(call: SimCall, rec: dict[str, Any]) -> bytes:
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


def say_seconds(text: str) -> float:
    """How long Twilio (or a recorded voice) takes to say ``text``."""
    return max(1.0, len(text.split()) * SAY_SECONDS_PER_WORD)


def rfc2822(value: datetime | None) -> str | None:
    return None if value is None else format_datetime(value, usegmt=True)
