"""What the Twilio account says about itself, asked with the real SDK (``kkik doctor``).

Two questions before any call is placed: is the account there and usable with these
credentials (its state, and whether it is a trial account), and is the number we call from the
account's own, bought on it (an IncomingPhoneNumber able to make voice calls) or verified as a
caller ID (an OutgoingCallerId). Twilio refuses a call from any other number.

Errors are the SDK's and the network's, for the caller to word: ``TwilioRestException`` (status
401 for a wrong account SID or auth token), aiohttp's connection errors or a timeout when the
API cannot be reached. The SDK's HTTP client is :class:`~probes.twilio_http.ApiHttpClient`, so
nothing but the Twilio API (or a loopback simulator) is ever contacted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from twilio.rest import Client

from probes.twilio_http import TWILIO_API, ApiHttpClient


@dataclass(frozen=True)
class AccountState:
    name: str
    status: str  # active, suspended or closed
    trial: bool  # a trial account calls only verified numbers, after a message of Twilio's


@dataclass(frozen=True)
class OwnNumber:
    kind: Literal["bought", "verified"]
    voice: bool  # whether it can place voice calls (a verified caller ID always can)


class TwilioAccount:
    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        api_base_url: str = TWILIO_API,
        *,
        timeout: float = 10.0,
    ) -> None:
        client = Client(account_sid, auth_token, http_client=ApiHttpClient(api_base_url, timeout))
        self._account = client.api.v2010.accounts(account_sid)

    async def state(self) -> AccountState:
        account = await self._account.fetch_async()
        return AccountState(
            name=account.friendly_name or "",
            status=str(account.status),
            trial=account.type == "Trial",
        )

    async def own_number(self, number: str) -> OwnNumber | None:
        """How ``number`` (E.164) belongs to the account, or None when it does not."""
        # Twilio matches PhoneNumber against any part of a bought number: only the exact one
        # counts. Verified caller IDs are filtered on the whole number.
        bought = await self._account.incoming_phone_numbers.list_async(
            phone_number=number, limit=50
        )
        for record in bought:
            if record.phone_number == number:
                capabilities = record.capabilities
                voice = isinstance(capabilities, dict) and bool(capabilities.get("voice"))
                return OwnNumber("bought", voice)
        verified = await self._account.outgoing_caller_ids.list_async(phone_number=number, limit=50)
        if any(record.phone_number == number for record in verified):
            return OwnNumber("verified", True)
        return None
