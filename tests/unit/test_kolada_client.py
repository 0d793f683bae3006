"""The pure parts of the Kolada API client: which URLs it asks, which it follows, what it keeps."""

from __future__ import annotations

import pytest

from harness.store.kolada_client import (
    BaseUrlError,
    KoladaApiError,
    _next_url,
    check_base_url,
    data_urls,
)
from results.kolada import parse_kolada_records

BASE = "https://api.kolada.se/v3"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://api.kolada.se/v3/", "https://api.kolada.se/v3"),
        ("http://127.0.0.1:8080/v3", "http://127.0.0.1:8080/v3"),
        ("http://[::1]:8080/v3", "http://[::1]:8080/v3"),
        ("http://localhost/v3", "http://localhost/v3"),
    ],
)
def test_it_accepts_https_and_loopback_http(url: str, expected: str):
    assert check_base_url(url) == expected


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://api.kolada.se/v3", "plaintext"),
        ("ftp://127.0.0.1/v3", "scheme"),
        ("api.kolada.se/v3", "scheme"),
        ("http://127.0.0.1:notaport/v3", "scheme"),
        ("https://api.kolada.se/v3?x=1", "extra"),
        ("https://user:pw@api.kolada.se/v3", "credentials"),
    ],
)
def test_it_refuses_other_base_urls(url: str, problem: str):
    with pytest.raises(BaseUrlError) as info:
        check_base_url(url)
    assert info.value.problem == problem


def test_it_asks_every_combination_of_pieces_of_at_most_25_ids():
    kpis = [f"U{n:05d}" for n in range(1, 27)]  # 26: two pieces
    urls = data_urls(BASE, kpis, ["0000"], [2016, 2017])
    assert urls == [
        f"{BASE}/data/kpi/{','.join(kpis[:25])}/municipality/0000/year/2016,2017"
        "?page=1&per_page=5000",
        f"{BASE}/data/kpi/U00026/municipality/0000/year/2016,2017?page=1&per_page=5000",
    ]


def test_next_url_stays_on_the_base_host_and_scheme():
    current = f"{BASE}/data/kpi/U00412/year/2017?page=1"
    # An http:// link from an https:// API is followed over https, never in plain text.
    plain = "http://api.kolada.se/v3/data/kpi/U00412/year/2017?page=2"
    assert _next_url(BASE, current, {"next_url": plain}) == (
        f"{BASE}/data/kpi/U00412/year/2017?page=2"
    )
    assert _next_url(BASE, current, {"next_url": "?page=3"}) == (
        f"{BASE}/data/kpi/U00412/year/2017?page=3"
    )
    assert _next_url(BASE, current, {"next_url": None, "previous_url": current}) is None
    assert _next_url(BASE, current, {}) is None
    for elsewhere in ("https://evil.example/v3/data", "https://api.kolada.se:8443/v3/data"):
        with pytest.raises(KoladaApiError) as info:
            _next_url(BASE, current, {"next_url": elsewhere})
        assert info.value.kind == "shape"


def test_deleted_values_are_skipped_on_the_value_or_the_record():
    records = [
        {"kpi": "U00412", "municipality": "0000", "period": 2016, "values": [
            {"gender": "T", "value": 85.0, "isdeleted": "true"},
        ]},
        {"kpi": "U00412", "municipality": "0000", "period": 2017, "isdeleted": True, "values": [
            {"gender": "T", "value": 86.0},
        ]},
        {"kpi": "U00412", "municipality": "0000", "period": 2018, "values": [
            {"gender": "T", "value": 87.0, "isdeleted": False, "count": 260},
        ]},
    ]  # fmt: skip
    [kept] = parse_kolada_records(records)
    assert (kept.period, kept.value, kept.count) == (2018, 87.0, 260)
