"""``kkik reference fetch`` against a local stand-in for the Kolada API v3 (127.0.0.1 only).

The stand-in answers the documented data call ``/v3/data/kpi/{ids}/municipality/{ids}/year/
{years}`` in the v3 shape: ``{"count", "values": [...], "next_url", "previous_url"}``, with
``next_url`` the full URL of the next page and ``null`` on the last one. It runs on its own event
loop in a thread, because the CLI runs its own loop (``asyncio.run``) in the test's thread.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import Engine
from sqlmodel import Session, select

from harness.cli import run
from harness.core.clock import FakeClock, SystemClock
from harness.store.kolada_client import KoladaApiError, fetch_values
from harness.store.models import ReferenceValue

NOW = datetime(2026, 10, 5, 7, 0, tzinfo=UTC)


def _record(kpi: str, municipality: str, period: int, *values: dict[str, Any]) -> dict[str, Any]:
    return {"kpi": kpi, "municipality": municipality, "period": period, "values": list(values)}


def _v(gender: str, value: float | None, **extra: Any) -> dict[str, Any]:
    return {"gender": gender, "count": 1, "status": "", "value": value, **extra}


RECORDS = [
    _record("U00412", "0000", 2016, _v("K", 84.0), _v("M", 83.0), _v("T", 85.0, count=247)),
    _record("U00412", "0000", 2017, _v("T", 86.0, count=258, isdeleted=False)),
    _record("U00413", "0000", 2016, _v("T", 53.0)),
    # Deleted in Kolada: must not be stored.
    _record("U00413", "0000", 2017, _v("T", 51.0, isdeleted=True)),
    # No value published.
    _record("U00414", "0000", 2016, _v("T", None)),
    _record("U00414", "0000", 2017, _v("K", 80.0), _v("T", 81.0)),
    _record("U00412", "2380", 2017, _v("T", 91.0)),
]


class KoladaStub:
    """Kolada API v3's data call on 127.0.0.1, port chosen by the OS, in its own thread."""

    def __init__(self, records: list[dict[str, Any]], page_size: int = 5000) -> None:
        self.records = records
        self.page_size = page_size
        self.mode = "ok"  # ok | error500 | badjson | slow | foreign_next
        self.requests: list[str] = []
        self.base_url = ""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        app = web.Application()
        app.router.add_get(
            "/v3/data/kpi/{kpis}/municipality/{municipalities}/year/{years}", self._data
        )
        self._runner = web.AppRunner(app, shutdown_timeout=1)

    def start(self) -> KoladaStub:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)
        return self

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _start(self) -> None:
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}/v3"

    async def _data(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(request.path_qs)
        if self.mode == "error500":
            return web.Response(status=500, text="Internal Server Error")
        if self.mode == "badjson":
            return web.Response(text='{"values": [', content_type="application/json")
        if self.mode == "slow":
            await SystemClock().sleep(1.0)  # longer than the client waits
        kpis = request.match_info["kpis"].split(",")
        municipalities = request.match_info["municipalities"].split(",")
        years = request.match_info["years"].split(",")
        matching = [
            r
            for r in self.records
            if r["kpi"] in kpis
            and r["municipality"] in municipalities
            and str(r["period"]) in years
        ]
        per_page = min(int(request.query.get("per_page", "5000")), 5000, self.page_size)
        page = int(request.query.get("page", "1"))
        chunk = matching[(page - 1) * per_page : page * per_page]
        more = page * per_page < len(matching)
        next_url = str(request.url.update_query(page=page + 1)) if more else None
        if self.mode == "foreign_next":
            next_url = "https://elsewhere.example/v3/data/kpi/U00412/year/2017?page=2"
        previous = str(request.url.update_query(page=page - 1)) if page > 1 else None
        body = {
            "count": len(chunk),
            "values": chunk,
            "next_url": next_url,
            "previous_url": previous,
        }
        return web.json_response(body)


@pytest.fixture
def kolada() -> Iterator[KoladaStub]:
    stub = KoladaStub(RECORDS, page_size=3).start()
    yield stub
    stub.stop()


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def kkik_at(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Callable[..., Result]:
    """The real CLI in-process, on a fake clock, from a directory without a config.toml."""
    monkeypatch.delenv("KKIK_LANG", raising=False)
    monkeypatch.delenv("KKIK_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)

    def invoke(*args: str) -> Result:
        capsys.readouterr()
        code = run(list(args), clock=FakeClock(NOW))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke


@pytest.fixture
def config(tmp_path: Path, sqlite_engine: Engine) -> str:
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "sqlite:///{sqlite_engine.url.database}"\n')
    return str(path)


def _rows(engine: Engine) -> list[tuple[str, str, int, float, int | None, str]]:
    with Session(engine) as session:
        rows = session.exec(select(ReferenceValue)).all()
    return sorted((r.kpi, r.municipality, r.period, r.value, r.count, r.source) for r in rows)


def test_it_stores_the_totals_over_two_pages_and_updates_them_when_fetched_again(
    kkik_at: Callable[..., Result], kolada: KoladaStub, config: str, sqlite_engine: Engine
):
    args = ("--lang", "en", "--config", config, "reference", "fetch", "--year", "2016,2017")
    first = kkik_at(*args, "--base-url", kolada.base_url)
    source = f"Kolada API {kolada.base_url}/data, fetched 2026-10-05"
    assert (first.code, first.err) == (0, "")
    assert first.out == (
        "U00412 0000 2016: 85 (new)\n"
        "U00412 0000 2017: 86 (new)\n"
        "U00413 0000 2016: 53 (new)\n"
        "U00414 0000 2017: 81 (new)\n"
        f"Stored 4 new and 0 updated values from {source} (2 answers).\n"
    )
    # The default KPIs and the whole country, one request followed by its next_url.
    kpis = "U00412,U00413,U00414,U09403,U09404,U11401,U11402,U23401,U23402"
    query = f"/v3/data/kpi/{kpis}/municipality/0000/year/2016,2017"
    assert kolada.requests == [f"{query}?page=1&per_page=5000", f"{query}?page=2&per_page=5000"]
    assert _rows(sqlite_engine) == [
        ("U00412", "0000", 2016, 85.0, 247, source),
        ("U00412", "0000", 2017, 86.0, 258, source),
        ("U00413", "0000", 2016, 53.0, 1, source),
        ("U00414", "0000", 2017, 81.0, 1, source),
    ]

    again = kkik_at(*args, "--base-url", kolada.base_url + "/")
    assert again.code == 0
    assert again.out.splitlines()[0] == "U00412 0000 2016: 85 (updated)"
    assert again.out.splitlines()[-1] == (
        f"Stored 0 new and 4 updated values from {source} (2 answers)."
    )
    assert len(_rows(sqlite_engine)) == 4


def test_a_dry_run_speaks_swedish_by_default_and_stores_nothing(
    kkik_at: Callable[..., Result], kolada: KoladaStub, sqlite_engine: Engine, config: str
):
    result = kkik_at(
        "--config", config, "reference", "fetch", "--kpi", "u00412", "--kpi", "U00412",
        "--municipality", "2380", "--year", "2017", "--base-url", kolada.base_url, "--dry-run",
    )  # fmt: skip
    assert (result.code, result.err) == (0, "")
    assert result.out == (
        f"U00412 2380 2017: 91\nTorrkörning: 1 värden från {kolada.base_url} (1 svar), "
        "inget sparat.\n"
    )
    assert kolada.requests == [
        "/v3/data/kpi/U00412/municipality/2380/year/2017?page=1&per_page=5000"
    ]
    assert _rows(sqlite_engine) == []


def test_long_lists_are_asked_for_in_pieces_of_at_most_25(
    kkik_at: Callable[..., Result], kolada: KoladaStub
):
    municipalities = [f"{n:04d}" for n in range(1, 31)]
    result = kkik_at(
        "--lang", "en", "reference", "fetch", "--kpi", "U00412",
        "--municipality", ",".join(municipalities), "--year", "2014-2016",
        "--base-url", kolada.base_url, "--dry-run",
    )  # fmt: skip
    assert result.code == 0
    assert result.out.startswith("Kolada has no values for U00412 in 0001,0002,")
    assert [r.split("/")[6] for r in kolada.requests] == [
        ",".join(municipalities[:25]),
        ",".join(municipalities[25:]),
    ]
    assert all("/year/2014,2015,2016?" in r for r in kolada.requests)


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("error500", "Kolada answered HTTP 500 Internal Server Error to {url}\n"),
        ("badjson", "Kolada did not answer with JSON ({url}): Expecting value (line 1)\n"),
        (
            "foreign_next",
            "Unexpected answer from Kolada ({url}): next_url leaves 127.0.0.1:{port}: "
            "https://elsewhere.example/v3/data/kpi/U00412/year/2017?page=2\n",
        ),
    ],
)
def test_api_failures_exit_1_naming_the_request_and_store_nothing(
    kkik_at: Callable[..., Result],
    kolada: KoladaStub,
    config: str,
    sqlite_engine: Engine,
    mode: str,
    message: str,
):
    kolada.mode = mode
    result = kkik_at(
        "--lang", "en", "--config", config, "reference", "fetch", "--kpi", "U00412",
        "--year", "2017", "--base-url", kolada.base_url,
    )  # fmt: skip
    url = f"{kolada.base_url}/data/kpi/U00412/municipality/0000/year/2017?page=1&per_page=5000"
    port = kolada.base_url.split(":")[2].split("/")[0]
    assert (result.code, result.out) == (1, "")
    assert result.err == message.format(url=url, port=port)
    assert _rows(sqlite_engine) == []


def test_an_unreachable_api_exits_1(kkik_at: Callable[..., Result], config: str):
    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = kkik_at(
        "--lang", "en", "--config", config, "reference", "fetch", "--year", "2017",
        "--base-url", f"http://127.0.0.1:{port}/v3",
    )  # fmt: skip
    assert (result.code, result.out) == (1, "")
    assert result.err.startswith(f"Cannot reach Kolada (http://127.0.0.1:{port}/v3/data/kpi/")


def test_a_slow_api_times_out(kolada: KoladaStub):
    kolada.mode = "slow"
    with pytest.raises(KoladaApiError) as info:
        asyncio.run(
            fetch_values(
                ["U00412"], ["0000"], [2017], base_url=kolada.base_url, request_timeout=0.2
            )
        )
    assert (info.value.kind, info.value.detail) == ("timeout", "0.2 s")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--year", "2017", "--kpi", "X1"], "Invalid value for '--kpi': 'X1' is not a Kolada id"),
        (["--year", "2017", "--kpi", ","], "Invalid value for '--kpi': nothing given"),
        (
            ["--year", "2017", "--municipality", "0000,180"],
            "Invalid value for '--municipality': '180' is not a municipality code",
        ),
        (["--year", "17"], "Invalid value for '--year': '17' is not a year"),
        (["--year", "2019-2017"], "Invalid value for '--year': '2019-2017' is not a year"),
        ([], "Missing option '--year'"),
        (
            ["--year", "2017", "--base-url", "http://example.org/v3"],
            "Invalid value for '--base-url': 'http://example.org/v3': plain http only to",
        ),
        (
            ["--year", "2017", "--base-url", "ftp://127.0.0.1/v3"],
            "Invalid value for '--base-url': 'ftp://127.0.0.1/v3' is not an http(s) address",
        ),
    ],
)
def test_bad_input_exits_2_naming_the_option_before_any_request(
    kkik_at: Callable[..., Result], kolada: KoladaStub, args: list[str], message: str
):
    result = kkik_at("--lang", "en", "reference", "fetch", "--dry-run", *args)
    assert result.code == 2
    assert message in result.err
    assert kolada.requests == []


def test_all_fetches_the_whole_country_for_the_national_comparison(
    kkik_at: Callable[..., Result], config: str, sqlite_engine: Engine
):
    """Issue 18: ``--municipality alla`` asks for the country and all 290 municipalities (in
    pieces of 25) and says what it stored per KPI and year, not a line per value."""
    from harness.core.scenario import municipalities

    codes = sorted(municipalities())
    records = [_record("U00412", "0000", 2021, _v("T", 61.0))] + [
        _record("U00412", code, 2021, _v("T", float(n % 101))) for n, code in enumerate(codes)
    ]
    stub = KoladaStub(records, page_size=100).start()
    try:
        result = kkik_at(
            "--config", config, "reference", "fetch", "--kpi", "U00412",
            "--municipality", "alla", "--year", "2021", "--base-url", stub.base_url,
        )  # fmt: skip
    finally:
        stub.stop()
    assert (result.code, result.err) == (0, "")
    lines = result.out.splitlines()
    assert lines[0] == "U00412 2021: 291 värden (291 nya, 0 uppdaterade)"
    assert len(lines) == 2
    asked = [r.split("/")[6] for r in stub.requests if "page=1&" in r]
    assert [len(a.split(",")) for a in asked] == [25] * 11 + [16]
    stored = {(r[1], r[3]) for r in _rows(sqlite_engine)}
    assert len(stored) == 291
    assert ("0000", 61.0) in stored
    assert {code for code, _ in stored} == {"0000", *codes}
