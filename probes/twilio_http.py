"""The HTTP client the Twilio SDK uses: the real API, or a loopback simulator and nothing else.

With ``api_base_url = "https://api.twilio.com"`` requests go out unchanged. With a loopback base
(the simulator of :mod:`harness.sandbox.twilio_sim`) only the API host is rewritten, and a
request for any other host is refused before it is made, so a test or the demo can never reach
the real Twilio or anything else on the internet by accident.
"""

from __future__ import annotations

import base64
from typing import Any, cast

import aiohttp
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response

TWILIO_API = "https://api.twilio.com"


class RefusedHost(RuntimeError):
    """The SDK asked for a host that this client may not contact."""


def rewrite(url: str, base: str) -> str:
    """``url`` with the Twilio API host replaced by ``base``; any other host is refused."""
    if url != TWILIO_API and not url.startswith(TWILIO_API + "/"):
        raise RefusedHost(f"refusing to contact {url!r}: only {TWILIO_API} is allowed")
    return base.rstrip("/") + url[len(TWILIO_API) :]


def encode_basic_auth(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


class ApiHttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]
    """aiohttp underneath, one session per request, closed even when the request fails.

    The SDK's own client leaves a per-request session open when the connection fails, and
    builds aiohttp's deprecated ``BasicAuth``; this one does the same request without either.
    """

    def __init__(self, base: str = TWILIO_API, timeout: float = 15.0) -> None:
        super().__init__(pool_connections=False, timeout=timeout)
        self.base = base

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - the SDK's own signature, passed on
        allow_redirects: bool = False,
    ) -> Response:
        headers = dict(headers or {})
        if auth is not None:
            headers["Authorization"] = encode_basic_auth(auth[0], auth[1])
        limit = aiohttp.ClientTimeout(total=timeout if timeout is not None else self.timeout)
        async with (
            aiohttp.ClientSession(timeout=limit) as session,
            session.request(
                method.upper(),
                rewrite(url, self.base),
                params=cast(Any, params),
                data=data,
                headers=headers,
                allow_redirects=allow_redirects,
            ) as response,
        ):
            return Response(response.status, await response.text(), response.headers)
