"""What Twilio sends to each of our webhooks: the parameter names, the required ones, their shapes.

Twilio's signature is an HMAC of the URL followed by every parameter's name and value, sorted by
name and joined *without separators*. So ``A=bc&D=e`` and ``A=b&cD=e`` sign the same, and a
captured genuine callback can be replayed with its parameters regrouped: a value swallowing the
next parameter, or lending it its last characters. Such a replay verifies. What stops it:

* only the names Twilio sends for the webhook are accepted (a regrouped name such as ``cD`` is
  refused), each at most once;
* the parameters an event is known by (``CallSid``, ``SequenceNumber``, ``CallStatus``,
  ``Timestamp``, ``RecordingSid``, …) must be present where Twilio always sends them and must
  have Twilio's shape (a SID is two letters and 32 hex digits, a sequence number digits, …), so
  no regrouping can change one of them without being refused;
* events are deduplicated on those (:func:`harness.channels.phone.store.dedupe_key`), and a
  TwiML request, which has no sequence number, on the very string the signature covers, which
  regrouping leaves unchanged. A regrouped replay is therefore refused or stored once.

The lists follow Twilio's voice webhook documentation (call parameters, status callback,
``<Gather>``, ``<Dial action>``, recording status callback) and what our simulator sends. A name
Twilio adds later is refused and logged by name until it is added here.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence

# Sent with every request about a call (Twilio's "request parameters" for voice).
_CALL = frozenset({
    "AccountSid", "AnsweredBy", "ApiVersion", "CallSid", "CallStatus", "CallToken", "Called",
    "CalledCity", "CalledCountry", "CalledState", "CalledZip", "Caller", "CallerCity",
    "CallerCountry", "CallerName", "CallerState", "CallerZip", "Direction", "ForwardedFrom",
    "From", "FromCity", "FromCountry", "FromState", "FromZip", "MachineDetectionDuration",
    "ParentCallSid", "StirPassportToken", "StirStatus", "StirVerstat", "To", "ToCity",
    "ToCountry", "ToState", "ToZip",
})  # fmt: skip
STATUS = "status"
VOICE = "voice"
RECORDING = "recording"
ALLOWED: dict[str, frozenset[str]] = {
    STATUS: _CALL | {"CallbackSource", "CallDuration", "Duration", "QueueTime",
                     "RecordingDuration", "RecordingSid", "RecordingUrl", "SequenceNumber",
                     "SipResponseCode", "Timestamp"},
    # TwiML requests: the call, plus what <Gather>, <Dial action> and <Record> add.
    VOICE: _CALL | {"Confidence", "DialBridged", "DialCallDuration", "DialCallSid",
                    "DialCallStatus", "DialSipResponseCode", "Digits", "FinishedOnKey",
                    "QueueResult", "QueueSid", "QueueTime", "RecordingDuration", "RecordingSid",
                    "RecordingUrl", "SpeechResult", "msg"},
    # CallStatus is not in Twilio's list for recordings; it is harmless and our tests send it.
    RECORDING: frozenset({"AccountSid", "CallSid", "CallStatus", "ConferenceSid", "ErrorCode",
                          "RecordingChannels", "RecordingDuration", "RecordingSid",
                          "RecordingSource", "RecordingStartTime", "RecordingStatus",
                          "RecordingTrack", "RecordingUrl"}),
}  # fmt: skip
# What an event is known by; Twilio always sends these to the webhook.
REQUIRED: dict[str, tuple[str, ...]] = {
    STATUS: ("CallSid", "CallStatus", "SequenceNumber"),
    VOICE: ("CallSid",),
    RECORDING: ("CallSid", "RecordingSid", "RecordingStatus"),
}

_SID = r"[0-9a-fA-F]{32}"
_NUMBER = re.compile(r"-?[0-9]{1,12}")
_TIME = re.compile(
    r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
    r" [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} ([+-][0-9]{4}|GMT|UTC)"
)
_CALL_STATUSES = "queued|initiated|ringing|in-progress|completed|busy|no-answer|failed|canceled"
_DIRECTIONS = "inbound|outbound-api|outbound-dial|trunking-originating|trunking-terminating"
_AMD = "human|machine_start|machine_end_beep|machine_end_silence|machine_end_other|fax|unknown"
_NUMBERS = ("CallDuration", "Duration", "MachineDetectionDuration", "DialCallDuration",
            "RecordingDuration", "RecordingChannels", "SipResponseCode", "DialSipResponseCode",
            "QueueTime", "ErrorCode")  # fmt: skip
SHAPES: dict[str, re.Pattern[str]] = {
    "AccountSid": re.compile(f"AC{_SID}"),
    "CallSid": re.compile(f"CA{_SID}"),
    "ParentCallSid": re.compile(f"CA{_SID}"),
    "DialCallSid": re.compile(f"CA{_SID}"),
    "RecordingSid": re.compile(f"RE{_SID}"),
    "ConferenceSid": re.compile(f"CF{_SID}"),
    "QueueSid": re.compile(f"QU{_SID}"),
    "CallStatus": re.compile(_CALL_STATUSES),
    "DialCallStatus": re.compile(_CALL_STATUSES + "|answered"),
    "RecordingStatus": re.compile("in-progress|completed|absent|failed"),
    "AnsweredBy": re.compile(_AMD),
    "Direction": re.compile(_DIRECTIONS),
    "ApiVersion": re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}"),
    "SequenceNumber": re.compile("[0-9]{1,9}"),
    "Timestamp": _TIME,
    "CallbackSource": re.compile("[a-z-]{1,40}"),
    "Confidence": re.compile(r"[0-9]{1,3}(\.[0-9]{1,12})?"),
    "Digits": re.compile(r"[0-9*#wW]{0,100}|hangup"),
    **dict.fromkeys(_NUMBERS, _NUMBER),
}


def problems(kind: str, pairs: Sequence[tuple[str, str]]) -> list[str]:
    """Why these parameters are not what Twilio sends to the ``kind`` webhook (empty: they are).

    Only names are reported, never values: those are phone numbers and speech.
    """
    counts = Counter(name for name, _ in pairs)
    found: list[str] = []
    unknown = sorted(n for n in counts if n not in ALLOWED[kind])
    if unknown:
        found.append("unknown " + ", ".join(repr(n[:40]) for n in unknown[:5]))
    repeated = sorted(n for n, count in counts.items() if count > 1)
    if repeated:
        found.append("repeated " + ", ".join(repeated[:5]))
    values: Mapping[str, str] = dict(pairs)
    missing = [n for n in REQUIRED[kind] if not values.get(n)]
    if missing:
        found.append("missing " + ", ".join(missing))
    misshapen = sorted(
        n for n, v in values.items() if n in SHAPES and v and not SHAPES[n].fullmatch(v)
    )
    if misshapen:
        found.append("malformed " + ", ".join(misshapen))
    return found
