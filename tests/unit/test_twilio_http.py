"""The SDK's HTTP client reaches the Twilio API host only, rewritten to a loopback simulator."""

from __future__ import annotations

import pytest

from probes.twilio_http import TWILIO_API, RefusedHost, encode_basic_auth, rewrite


def test_only_the_api_host_is_rewritten():
    url = "https://api.twilio.com/2010-04-01/Accounts/AC1/Calls.json"
    assert rewrite(url, "http://127.0.0.1:5000") == (
        "http://127.0.0.1:5000/2010-04-01/Accounts/AC1/Calls.json"
    )
    assert rewrite(url, TWILIO_API) == url


@pytest.mark.parametrize(
    "url",
    [
        "https://insights.twilio.com/v1/Voice/CA1/Summary",
        "https://api.twilio.com.evil.example/2010-04-01/Accounts",
        "http://api.twilio.com/2010-04-01/Accounts",
        "https://example.com/",
    ],
)
def test_every_other_host_is_refused(url: str):
    with pytest.raises(RefusedHost, match=r"only https://api\.twilio\.com"):
        rewrite(url, "http://127.0.0.1:5000")


def test_basic_auth_header():
    assert encode_basic_auth("AC1", "token") == "Basic QUMxOnRva2Vu"
