"""``kkik doctor``'s phone side: the real Twilio SDK against the simulator, the real web app at
the public URL, in Swedish as a user sees it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp import web

from harness.core.clock import FakeClock
from harness.core.config import load_config
from harness.sandbox.ports import free_port
from harness.sandbox.twilio_sim import TwilioSimulator
from harness.store import migrate
from harness.store.db import make_engine
from harness.web.app import WebServer, create_app

ACCOUNT = "AC" + "e" * 32
TOKEN = "doktor-token"
FROM = "+46101380000"
NOW = datetime(2026, 10, 5, 8, tzinfo=UTC)


@pytest_asyncio.fixture
async def sim() -> AsyncIterator[TwilioSimulator]:
    simulator = TwilioSimulator(FakeClock(NOW))
    simulator.add_account(ACCOUNT, TOKEN, name="Kvalitet")
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture(autouse=True)
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KKIK_DOC_TWILIO", TOKEN)
    monkeypatch.setenv("KKIK_DOC_SESSION", "k" * 40)


def _config(tmp_path: Path, sim: TwilioSimulator, public_port: int) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[database]
url = "sqlite:///kkik.db"

[phone]
mode = "automated"
account_sid = "{ACCOUNT}"
auth_token_env = "KKIK_DOC_TWILIO"
from_number = "010-138 00 00"
api_base_url = "{sim.base_url}"

[web]
public_url = "http://127.0.0.1:{public_port}"
session_secret_env = "KKIK_DOC_SESSION"
""",
        encoding="utf-8",
    )
    engine = make_engine(f"sqlite:///{tmp_path / 'kkik.db'}")
    migrate.upgrade(engine)
    engine.dispose()
    return path


async def _doctor(kkik, config: Path, lang: str = "sv"):
    return await asyncio.to_thread(kkik, "--lang", lang, "--config", str(config), "doctor")


async def test_good_credentials_and_an_answering_public_url_pass(
    kkik, sim: TwilioSimulator, tmp_path: Path
):
    sim.add_number(ACCOUNT, FROM)
    port = free_port()
    config = _config(tmp_path, sim, port)
    settings = load_config(config)
    engine = make_engine(f"sqlite:///{tmp_path / 'kkik.db'}")
    # The real web app, webhooks only, as `kkik serve --webhooks-only` serves it.
    app = create_app(settings, engine, FakeClock(NOW), auth_token=TOKEN)
    async with WebServer(app, "127.0.0.1", port):
        result = await _doctor(kkik, config)
    engine.dispose()
    lines = result.out.splitlines()
    assert f"OK  telefon   Twilio-kontot Kvalitet ({ACCOUNT}) är aktivt" in lines
    assert f"OK  telefon   phone.from_number {FROM} är kontots eget nummer" in lines
    assert (
        f"OK  webb      web.public_url http://127.0.0.1:{port} svarar härifrån (HTTP 404); "
        "Twilio måste också nå den från internet"
    ) in lines
    assert "OK  hemlighet phone.auth_token: hemligheten finns (KKIK_DOC_TWILIO)" in lines
    # No campaign saved yet is the one warning; warnings leave the exit code alone.
    assert result.code == 0, result.out + result.err
    assert (
        "OBS kampanj   ingen kampanj sparad ännu: spara en plan med "
        "`kkik plan SCENARIO --save`" in lines
    )
    assert lines[-1] == "Inga fel, men en varning att läsa."


async def test_a_wrong_token_fails_in_plain_swedish(
    kkik, sim: TwilioSimulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    sim.add_number(ACCOUNT, FROM)
    monkeypatch.setenv("KKIK_DOC_TWILIO", "fel-token")
    result = await _doctor(kkik, _config(tmp_path, sim, free_port()))
    assert result.code == 1
    assert (
        "FEL telefon   Twilio avvisade kontots SID eller autentiseringstoken (HTTP 401): "
        f"kontrollera phone.account_sid ({ACCOUNT}) och token i KKIK_DOC_TWILIO"
    ) in result.out.splitlines()
    assert "phone.from_number" not in result.out  # not asked with credentials Twilio refused
    assert result.err == "1 problem att åtgärda.\n"


async def test_a_from_number_not_on_the_account_fails(kkik, sim: TwilioSimulator, tmp_path: Path):
    sim.add_number(ACCOUNT, FROM + "1")  # a longer number that contains ours: not ours
    config = _config(tmp_path, sim, free_port())
    first = await _doctor(kkik, config)
    sim.add_number(ACCOUNT, FROM, verified=True)
    second = await _doctor(kkik, config, "en")
    assert first.code == 1
    assert (
        f"FEL telefon   phone.from_number {FROM} hör inte till Twilio-kontot, och Twilio "
        "vägrar samtal från det: köp numret på kontot eller verifiera det som "
        "nummerpresentation i Twilio-konsolen"
    ) in first.out.splitlines()
    assert second.code == 0
    assert (
        f"OK   phone    phone.from_number {FROM} is verified as a caller ID on the account"
        in second.out.splitlines()
    )


async def test_a_trial_account_and_a_silent_public_url_warn(
    kkik, sim: TwilioSimulator, tmp_path: Path
):
    sim.add_account(ACCOUNT, TOKEN, name="Prov", trial=True)
    sim.add_number(ACCOUNT, FROM)
    port = free_port()  # nothing listens there: kkik run is not running
    result = await _doctor(kkik, _config(tmp_path, sim, port))
    lines = result.out.splitlines()
    assert result.code == 0
    assert (
        f"OBS telefon   Twilio-kontot Prov ({ACCOUNT}) är ett provkonto: det ringer bara "
        "verifierade nummer och spelar först upp Twilios meddelande om provkonto; uppgradera "
        "kontot före mätningen"
    ) in lines
    assert (
        f"OBS webb      web.public_url http://127.0.0.1:{port} svarar inte: anslutningen nekades "
        "(ingen lyssnar på porten); Twilio måste nå den från internet medan kkik run körs: "
        "starta kkik run (eller kkik serve --webhooks-only) och kör kkik doctor igen"
    ) in lines
    assert lines[-1] == "Inga fel, men 3 varningar att läsa."


async def test_a_proxy_without_kkik_behind_it_warns(kkik, sim: TwilioSimulator, tmp_path: Path):
    sim.add_number(ACCOUNT, FROM)

    async def bad_gateway(request: web.Request) -> web.Response:
        return web.Response(status=502, text="502 Bad Gateway")

    proxy = web.Application()
    proxy.router.add_get("/", bad_gateway)
    runner = web.AppRunner(proxy)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        result = await _doctor(kkik, _config(tmp_path, sim, port))
    finally:
        await runner.cleanup()
    assert (
        f"OBS webb      web.public_url http://127.0.0.1:{port} svarar med serverfel (HTTP 502): "
        "det som svarar når inte kkik; starta kkik run (eller kkik serve --webhooks-only) bakom "
        "adressen och kör kkik doctor igen"
    ) in result.out.splitlines()


async def test_the_real_twilio_cannot_call_back_to_a_local_address(kkik, tmp_path: Path):
    config = tmp_path / "config.toml"
    config.write_text(
        f"""
[database]
url = "sqlite:///kkik.db"

[phone]
mode = "automated"
account_sid = "{ACCOUNT}"
auth_token_file = "{tmp_path / "missing-token"}"
from_number = "{FROM}"

[web]
public_url = "http://192.168.1.20:8080"
session_secret_env = "KKIK_DOC_SESSION"
""",
        encoding="utf-8",
    )
    result = await _doctor(kkik, config)
    lines = result.out.splitlines()
    # The token is missing, so the real API is never asked; the address is wrong whatever it is.
    assert (
        f"FEL hemlighet phone.auth_token: hemligheten saknas: {tmp_path / 'missing-token'}: "
        "filen finns inte"
    ) in lines
    assert (
        "OBS telefon   kontot kan inte kontrolleras utan autentiseringstoken (se hemligheten "
        "phone.auth_token ovan)"
    ) in lines
    assert (
        "FEL webb      web.public_url http://192.168.1.20:8080 är en lokal adress som Twilio inte "
        "når från internet: ange den publika HTTPS-adressen som leder till kkik run (se "
        "docs/phone.md)"
    ) in lines


async def test_a_suspended_account_fails(kkik, sim: TwilioSimulator, tmp_path: Path):
    sim.add_account(ACCOUNT, TOKEN, name="Kvalitet", status="suspended")
    sim.add_number(ACCOUNT, FROM)
    result = await _doctor(kkik, _config(tmp_path, sim, free_port()))
    assert result.code == 1
    assert (
        f"FEL telefon   Twilio-kontot Kvalitet ({ACCOUNT}) är avstängt: logga in i "
        "Twilio-konsolen och återaktivera det"
    ) in result.out.splitlines()
    assert "phone.from_number" not in result.out
