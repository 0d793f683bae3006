"""Kolada API v3 client: data values for KPIs × municipalities × years (an I/O edge).

The call, as the v3 API documents it (interactive docs at ``https://api.kolada.se/v3/docs``,
OpenAPI at ``/v3/openapi.json``) and as rKolada's v3 release builds and tests it:

- ``GET {base}/data/kpi/{ids}/municipality/{ids}/year/{years}?page=1&per_page=5000``, each list
  comma-separated. A list may hold at most 25 ids, so longer lists are split and every
  combination of the pieces is asked for.
- The answer is ``{"count": n, "values": [...], "next_url": "...", "previous_url": "..."}``:
  ``count`` counts this page only, ``next_url`` is the full URL of the next page and absent,
  ``null`` or empty on the last one. ``per_page`` is at most 5000.
- A record is ``{"kpi", "municipality", "period", "values": [{"gender", "count", "status",
  "value", "isdeleted"}]}``; gender is T (total), K or M; ``value`` may be ``null``.

Only the total is kept, and deleted or ``null`` values are skipped: that part is the pure parser
in :mod:`results.kolada`, the same one ``kkik reference import`` uses.

Why a small client here and not koladapy (xemarap, 1.0.1, the maintained Python wrapper of v3):
it is synchronous on ``requests`` and pulls in pandas, tqdm and backoff, four new dependencies
for one GET loop while aiohttp is already ours; its data call is query style
(``data/?kpi_id=…&municipality_id=…``), not the documented path above; and a batch that fails
is logged and skipped, so a fetch could silently store only part of the values, where we must
report the failure.

Paging follows ``next_url`` (the v2 name ``next_page`` is read as a fallback), but only on the
base URL's own host: the scheme and port of the base are kept, so an ``http://`` link in an
answer from an ``https://`` base is not followed in plain text. Plain ``http://`` bases are
allowed only on a loopback host (local test servers).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from itertools import product
from typing import Any, Literal
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

from aiohttp import ClientError, ClientSession, ClientTimeout

from harness.core.config import is_loopback_host
from results.kolada import KoladaFormatError, KoladaValue, parse_kolada_records

__all__ = [
    "DEFAULT_BASE_URL",
    "BaseUrlError",
    "FetchResult",
    "KoladaApiError",
    "check_base_url",
    "data_urls",
    "fetch_values",
]

DEFAULT_BASE_URL = "https://api.kolada.se/v3"
MAX_IDS = 25  # per list in one request
PER_PAGE = 5000  # the API's maximum
MAX_PAGES = 1000  # per request; a guard against paging that never ends
DEFAULT_TIMEOUT = 30.0  # seconds, per request

ErrorKind = Literal["http", "network", "timeout", "json", "shape"]
BaseUrlProblem = Literal["scheme", "plaintext", "extra", "credentials"]


class KoladaApiError(Exception):
    """A fetch that failed: ``kind`` says how, ``url`` which request, ``detail`` the facts."""

    def __init__(self, kind: ErrorKind, url: str, detail: str, status: int | None = None) -> None:
        super().__init__(f"{url}: {detail}")
        self.kind = kind
        self.url = url
        self.detail = detail
        self.status = status


class BaseUrlError(ValueError):
    """A base URL we will not use; ``problem`` names the rule it breaks."""

    def __init__(self, problem: BaseUrlProblem, url: str) -> None:
        super().__init__(f"{problem}: {url}")
        self.problem = problem
        self.url = url


@dataclass(frozen=True)
class FetchResult:
    values: list[KoladaValue]  # totals only, one per (kpi, municipality, period)
    pages: int  # answers read, over all requests


def check_base_url(url: str) -> str:
    """``url`` without a trailing slash, if it is https, or http to a loopback host."""
    parts = urlsplit(url.strip())
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise BaseUrlError("scheme", url) from None
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise BaseUrlError("scheme", url)
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise BaseUrlError("plaintext", url)
    if parts.username is not None or parts.password is not None:
        raise BaseUrlError("credentials", url)
    if parts.query or parts.fragment:
        raise BaseUrlError("extra", url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def data_urls(
    base_url: str, kpis: Sequence[str], municipalities: Sequence[str], years: Sequence[int]
) -> list[str]:
    """The first-page URLs covering every KPI × municipality × year, ≤ 25 ids per list."""
    base = check_base_url(base_url)
    if not kpis or not municipalities or not years:
        raise ValueError("kpis, municipalities and years must each name at least one")
    return [
        f"{base}/data/kpi/{_join(k)}/municipality/{_join(m)}/year/{_join(y)}"
        f"?page=1&per_page={PER_PAGE}"
        for k, m, y in product(
            _chunks(list(kpis)), _chunks(list(municipalities)), _chunks([str(y) for y in years])
        )
    ]


async def fetch_values(
    kpis: Sequence[str],
    municipalities: Sequence[str],
    years: Sequence[int],
    *,
    base_url: str = DEFAULT_BASE_URL,
    request_timeout: float = DEFAULT_TIMEOUT,
) -> FetchResult:
    """Every total value Kolada has for the combinations; raises :class:`KoladaApiError`."""
    base = check_base_url(base_url)
    urls = data_urls(base, kpis, municipalities, years)
    found: dict[tuple[str, str, int], KoladaValue] = {}
    pages = 0
    async with ClientSession(
        timeout=ClientTimeout(total=request_timeout), headers={"Accept": "application/json"}
    ) as http:
        for url in urls:
            async for values in _pages(http, base, url, request_timeout):
                pages += 1
                for value in values:
                    found[(value.kpi, value.municipality, value.period)] = value
    return FetchResult(list(found.values()), pages)


async def _pages(
    http: ClientSession, base: str, first: str, request_timeout: float
) -> AsyncIterator[list[KoladaValue]]:
    url: str | None = first
    seen: set[str] = set()
    while url is not None:
        if url in seen or len(seen) >= MAX_PAGES:
            raise KoladaApiError("shape", url, f"paging does not end after {len(seen)} pages")
        seen.add(url)
        data = await _get_json(http, url, request_timeout)
        items = data.get("values")
        if not isinstance(items, list):
            raise KoladaApiError("shape", url, 'expected {"values": [...]}')
        try:
            values = parse_kolada_records(items)
        except KoladaFormatError as exc:
            raise KoladaApiError("shape", url, "; ".join(exc.problems)) from None
        next_url = _next_url(base, url, data)
        yield values
        url = next_url


async def _get_json(http: ClientSession, url: str, request_timeout: float) -> dict[str, Any]:
    try:
        async with http.get(url, allow_redirects=False) as response:
            status = response.status
            location = response.headers.get("Location", "")
            body = await response.read()
    except TimeoutError:
        raise KoladaApiError("timeout", url, f"{request_timeout:g} s") from None
    except (ClientError, OSError) as exc:
        raise KoladaApiError("network", url, str(exc) or type(exc).__name__) from None
    if not 200 <= status < 300:
        said = f"-> {location}" if location else _snippet(body)
        raise KoladaApiError("http", url, f"HTTP {status}" + (f" {said}" if said else ""), status)
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise KoladaApiError("json", url, f"not UTF-8: {exc.reason}") from None
    except json.JSONDecodeError as exc:
        raise KoladaApiError("json", url, f"{exc.msg} (line {exc.lineno})") from None
    if not isinstance(data, dict):
        raise KoladaApiError("shape", url, 'expected {"values": [...]}')
    return data


def _next_url(base: str, current: str, data: dict[str, Any]) -> str | None:
    raw = data.get("next_url", data.get("next_page"))
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str):
        raise KoladaApiError("shape", current, f"next_url is not a URL: {raw!r}")
    home, target = urlsplit(base), urlsplit(urljoin(current, raw))
    try:
        same_port = target.port is None or target.port == _port(home.scheme, home.port)
    except ValueError:
        same_port = False
    if target.hostname != home.hostname or not same_port:
        raise KoladaApiError("shape", current, f"next_url leaves {home.netloc}: {raw}")
    return urlunsplit((home.scheme, home.netloc, target.path, target.query, ""))


def _port(scheme: str, port: int | None) -> int:
    return port if port is not None else (443 if scheme == "https" else 80)


def _chunks(ids: list[str]) -> list[list[str]]:
    return [ids[i : i + MAX_IDS] for i in range(0, len(ids), MAX_IDS)]


def _join(ids: list[str]) -> str:
    return ",".join(quote(i, safe="") for i in ids)


def _snippet(body: bytes, limit: int = 200) -> str:
    text = " ".join(body.decode("utf-8", errors="replace").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
