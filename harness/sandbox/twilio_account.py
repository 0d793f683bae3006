"""The Twilio simulator's accounts: each account's credentials and state, and its numbers.

Twilio answers ``GET /2010-04-01/Accounts/{sid}.json`` with the account (its name, ``status``
active, suspended or closed, ``type`` Trial or Full, and, to its own credentials, its auth
token); ``IncomingPhoneNumbers.json`` with the numbers bought on the account, where the
``PhoneNumber`` filter matches part of a number and ``*`` stands for any digit; and
``OutgoingCallerIds.json`` with the numbers verified to be shown as the caller, filtered on the
whole number. The REST handlers in :mod:`.twilio_rest` serve these from the records below;
``kkik doctor`` asks them through the real SDK.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from harness.sandbox.twilio_calls import rfc2822

AccountStatus = Literal["active", "suspended", "closed"]


@dataclass(frozen=True)
class SimNumber:
    """A number on an account: bought on it (``verified`` False) or a verified caller ID."""

    number: str  # E.164
    verified: bool = False
    voice: bool = True  # a bought number's voice capability
    sid: str = field(default_factory=lambda: "PN" + secrets.token_hex(16))


@dataclass
class SimAccount:
    sid: str
    token: str
    created_at: datetime
    friendly_name: str = "kkik-harness"
    status: AccountStatus = "active"
    trial: bool = False
    numbers: list[SimNumber] = field(default_factory=list)

    def json(self, now: datetime) -> dict[str, Any]:
        uri = f"/2010-04-01/Accounts/{self.sid}.json"
        subresources = ("Calls", "IncomingPhoneNumbers", "OutgoingCallerIds", "Recordings")
        return {
            "auth_token": self.token,
            "date_created": rfc2822(self.created_at),
            "date_updated": rfc2822(now),
            "friendly_name": self.friendly_name,
            "owner_account_sid": self.sid,
            "sid": self.sid,
            "status": self.status,
            "type": "Trial" if self.trial else "Full",
            "uri": uri,
            "subresource_uris": {
                name.lower(): uri.replace(".json", f"/{name}.json") for name in subresources
            },
        }

    def incoming(self, pattern: str | None) -> list[SimNumber]:
        return [n for n in self.numbers if not n.verified and _part_of(n.number, pattern)]

    def caller_ids(self, number: str | None) -> list[SimNumber]:
        return [n for n in self.numbers if n.verified and (not number or n.number == number)]

    def number_json(self, number: SimNumber, now: datetime) -> dict[str, Any]:
        """An IncomingPhoneNumber or OutgoingCallerId record, as Twilio lists them."""
        kind = "OutgoingCallerIds" if number.verified else "IncomingPhoneNumbers"
        record: dict[str, Any] = {
            "account_sid": self.sid,
            "date_created": rfc2822(self.created_at),
            "date_updated": rfc2822(now),
            "friendly_name": number.number,
            "phone_number": number.number,
            "sid": number.sid,
            "uri": f"/2010-04-01/Accounts/{self.sid}/{kind}/{number.sid}.json",
        }
        if not number.verified:
            record |= {
                "api_version": "2010-04-01",
                "beta": False,
                "capabilities": {"voice": number.voice, "sms": False, "mms": False, "fax": False},
                "origin": "twilio",
                "status": "in-use",
                "voice_method": "POST",
                "voice_url": None,
            }
        return record


def _part_of(number: str, pattern: str | None) -> bool:
    """Twilio's ``PhoneNumber`` filter on bought numbers: any part of the number's digits."""
    digits = re.sub(r"[^0-9*]", "", pattern or "")
    if not digits:
        return True
    return re.search(digits.replace("*", "[0-9]"), number.lstrip("+")) is not None
