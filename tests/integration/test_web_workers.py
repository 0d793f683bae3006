"""Several web workers behave as one, alone and behind nginx (issue 17, items 2 and 4).

Two real ``kkik serve`` processes on one database, SQLite and PostgreSQL: A (one process) and B
(``--workers 2``: two more processes sharing B's port). A session logged in through one and
out through the other is refused by both; a login lock-out reached through one holds on the
other; the same Twilio callbacks sent to both at once are stored once. Then nginx, running the
repository's own site file (docs/deploy/nginx/kkik.conf) with TLS from the test CA, in front of
A and B: the dashboard works through it in Chromium, Twilio's signatures verify against
``web.public_url`` (the nginx address), and forged ``X-Forwarded-*`` headers, from a peer
that is not a trusted proxy or through nginx, change nothing the signature is checked against.

The servers talk plain HTTP behind nginx, while their session cookie is ``Secure`` (the public
address is https): the direct requests here carry the cookie by hand, as nginx's clients'
browsers would over TLS.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import pytest
from playwright.async_api import Browser
from sqlalchemy import func, select
from sqlmodel import Session, col
from twilio.request_validator import RequestValidator

from harness.core.clock import SystemClock
from harness.sandbox.certs import SandboxCA
from harness.sandbox.nginx import NginxSandbox
from harness.sandbox.ports import LOOPBACK, free_ports
from harness.store import migrate, users
from harness.store.db import make_engine
from harness.store.models import CallEvent
from harness.web.auth import NAME_MAX_FAILURES, SESSION_COOKIE
from tests.browser import needs_chromium
from tests.integration.conftest import StartNginx

ROOT = Path(__file__).resolve().parents[2]
SECRET = "en-hemlighet-for-inloggningen-med-mer-an-32-tecken"
TWILIO_TOKEN = "twilio-token-for-the-workers-test"
PASSWORDS = {"anna": "anna-lösenord-123", "sara": "sara-lösenord-456"}
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
CALL_SIDS = [f"CA{n:032x}" for n in range(0xC0FFEE00, 0xC0FFEE00 + 8)]
UNTRUSTED = "127.0.0.3"  # a loopback address that is not in web.trusted_proxies


@dataclass
class Server:
    """One ``kkik serve`` (with its workers), stopped by SIGINT like Ctrl-C."""

    process: subprocess.Popen[str]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=30)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()


@dataclass
class Pair:
    """Server A (one process) and B (two workers) on one database, and nginx in front."""

    database_url: str
    public_url: str
    https_port: int
    a: Server
    b: Server
    nginx: NginxSandbox | None = None
    tmp: Path = field(default_factory=Path)

    def events(self, sids: list[str]) -> int:
        engine = make_engine(self.database_url)
        try:
            with Session(engine) as session:
                query = select(func.count()).where(col(CallEvent.call_sid).in_(sids))
                return int(session.execute(query).scalar_one())
        finally:
            engine.dispose()


def _start(config: Path, port: int, *options: str) -> Server:
    """``kkik serve`` on ``port``, its output (warnings of refused requests) to a file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KKIK_")}
    env |= {"KKIK_SESSION_SECRET": SECRET, "KKIK_TEST_TWILIO_TOKEN": TWILIO_TOKEN}
    command = [sys.executable, "-m", "harness", "--config", str(config), "serve",
               "--port", str(port), *options]  # fmt: skip
    log = config.parent / f"serve-{port}.log"
    with log.open("w") as output:  # the child keeps its own copy
        process = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, text=True, cwd=ROOT, env=env
        )
    return Server(process, port, log)


def _until_serving(server: Server, timeout: float = 120) -> None:
    """Until the login page answers (with ``--workers``, the workers start after the line that
    says where the parent listens)."""
    clock = SystemClock()
    deadline = clock.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(server.url + "/login", timeout=10) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        assert clock.monotonic() < deadline, "kkik serve did not answer in time"
        try:
            server.process.wait(timeout=0.2)  # between tries: the process ending stops waiting
        except subprocess.TimeoutExpired:
            continue
        output = server.log.read_text(errors="replace")
        raise AssertionError(f"kkik serve exited {server.process.returncode}: {output}")


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def pair(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Pair]:
    tmp = tmp_path_factory.mktemp(f"workers-{request.param}")
    name = f"kkik_workers_{os.getpid()}"
    if request.param == "sqlite":
        url = f"sqlite:///{tmp / 'kkik.db'}"
    else:
        url = request.getfixturevalue("postgres_server").create_database(name)
    engine = make_engine(url)
    migrate.upgrade(engine)
    now = SystemClock().now()
    for name, password in PASSWORDS.items():
        users.add_user(engine, name, "admin", password, now, "test")
    engine.dispose()
    https_port, port_a, port_b = free_ports(3)
    public_url = f"https://localhost:{https_port}"
    config = tmp / "config.toml"
    config.write_text(
        f'[database]\nurl = "{url}"\n\n'
        f'[web]\npublic_url = "{public_url}"\ntrusted_proxies = ["127.0.0.1"]\n\n'
        f'[phone]\naccount_sid = "AC{"0" * 32}"\nauth_token_env = "KKIK_TEST_TWILIO_TOKEN"\n'
        'from_number = "+46101234567"\ncaller_number = "+46701234567"\n'
        'api_base_url = "http://127.0.0.1:9"\n'
    )
    a = _start(config, port_a)
    b = _start(config, port_b, "--workers", "2")
    made = Pair(url, public_url, https_port, a, b, tmp=tmp)
    try:
        _until_serving(a)
        _until_serving(b)
        yield made
    finally:
        if made.nginx is not None:
            made.nginx.stop()
        codes = (a.stop(), b.stop())
        if request.param == "postgres":
            request.getfixturevalue("postgres_server").drop_database(name)
    assert codes == (0, 0), "Ctrl-C must stop kkik serve and its workers cleanly"


@pytest.fixture(scope="module")
def proxied(pair: Pair, nginx: StartNginx) -> Pair:
    if pair.nginx is None:
        pair.nginx = nginx([(LOOPBACK, pair.a.port), (LOOPBACK, pair.b.port)], pair.https_port)
    return pair


class Client:
    """A browser's requests with the session cookie carried by hand (it is ``Secure``)."""

    def __init__(self, http: aiohttp.ClientSession) -> None:
        self.http = http
        self.cookie: str | None = None

    async def request(
        self,
        method: str,
        url: str,
        *,
        data: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, str, dict[str, str]]:
        sent = dict(headers or {})
        if self.cookie is not None:
            sent["Cookie"] = f"{SESSION_COOKIE}={self.cookie}"
        async with self.http.request(
            method, url, data=data, headers=sent, allow_redirects=False
        ) as response:
            for value in response.headers.getall("Set-Cookie", []):
                name, _, rest = value.partition("=")
                if name == SESSION_COOKIE:
                    self.cookie = rest.split(";", 1)[0]
            return response.status, await response.text(), dict(response.headers)

    async def login(self, base: str, name: str, password: str) -> int:
        status, page, _ = await self.request("GET", base + "/login")
        assert status == 200, page
        token = TOKEN.search(page)
        assert token is not None
        form = {"csrf_token": token.group(1), "name": name, "password": password, "next": "/"}
        status, _, _ = await self.request("POST", base + "/login", data=form,
                                          headers={"Origin": base})  # fmt: skip
        return status

    async def logged_in(self, base: str) -> bool:
        status, _, headers = await self.request("GET", base + "/settings")
        assert status == 200 or headers.get("Location", "").startswith("/login"), status
        return status == 200

    async def logout(self, base: str) -> tuple[int, str]:
        status, page, _ = await self.request("GET", base + "/settings")
        assert status == 200, page
        token = TOKEN.search(page)
        assert token is not None
        status, _, headers = await self.request(
            "POST", base + "/logout", data={"csrf_token": token.group(1)}, headers={"Origin": base}
        )
        return status, headers.get("Location", "")


async def test_logged_out_through_one_worker_means_out_on_every_one(pair: Pair):
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        client = Client(http)
        assert await client.login(pair.a.url, "anna", PASSWORDS["anna"]) == 303
        old = client.cookie
        assert await client.logged_in(pair.b.url)  # the session is good on the other worker
        assert await client.logout(pair.b.url) == (303, "/login")
        # The flash rides in the new cookie: the other worker shows it.
        status, page, _ = await client.request("GET", pair.a.url + "/login")
        assert status == 200
        assert "Du är utloggad." in page
        # A copy of the old cookie is refused by both, on every worker behind B's port.
        stolen = Client(http)
        for url in (pair.a.url, pair.b.url, pair.b.url, pair.a.url):
            stolen.cookie = old
            assert not await stolen.logged_in(url)


async def test_a_lock_out_through_one_worker_holds_on_the_other(pair: Pair):
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        for n in range(NAME_MAX_FAILURES):
            assert await Client(http).login(pair.a.url, "sara", f"gissning-{n}") == 400
        for url in (pair.b.url, pair.b.url, pair.a.url):
            assert await Client(http).login(url, "sara", PASSWORDS["sara"]) == 429
        # Another user is not locked out by it.
        assert await Client(http).login(pair.b.url, "anna", PASSWORDS["anna"]) == 303


def _callback(sid: str, sequence: int) -> dict[str, str]:
    return {"CallSid": sid, "CallStatus": "ringing", "SequenceNumber": str(sequence),
            "Timestamp": "Mon, 05 Oct 2026 08:00:00 +0000"}  # fmt: skip


def _signed(url: str, params: dict[str, str]) -> dict[str, str]:
    return {"X-Twilio-Signature": RequestValidator(TWILIO_TOKEN).compute_signature(url, params)}


async def test_callbacks_spread_over_the_workers_are_stored_once(pair: Pair):
    sids = CALL_SIDS[:4]
    path = "/twilio/status?" + urlencode({"leg": "municipal"})
    sends = []
    async with aiohttp.ClientSession() as http:

        async def send(base: str, params: dict[str, str]) -> int:
            headers = _signed(pair.public_url + path, params)
            async with http.post(base + path, data=params, headers=headers) as response:
                return response.status

        for sid in sids:
            for sequence in range(3):
                params = _callback(sid, sequence)
                # Twilio's retry of one callback, arriving at every worker at once.
                sends += [send(base, params) for base in (pair.a.url, pair.b.url, pair.b.url)]
        assert set(await asyncio.gather(*sends)) == {200}
    assert pair.events(sids) == len(sids) * 3


def _tls(ca: SandboxCA) -> aiohttp.TCPConnector:
    return aiohttp.TCPConnector(ssl=ca.client_context())


async def test_nginx_serves_the_workers_over_tls_and_twilio_signs_its_address(
    proxied: Pair, tls_ca: SandboxCA
):
    assert proxied.nginx is not None
    base = proxied.nginx.url
    assert base == proxied.public_url
    path = "/twilio/status"
    params = _callback(CALL_SIDS[4], 1)
    async with aiohttp.ClientSession(connector=_tls(tls_ca)) as http:
        for _ in range(4):
            async with http.get(base + "/login") as response:
                assert response.status == 200
                assert "max-age" in response.headers["Strict-Transport-Security"]
                assert "Användarnamn" in await response.text()
        async with http.post(
            base + path, data=params, headers=_signed(proxied.public_url + path, params)
        ) as response:
            assert response.status == 200
        # Plain HTTP is sent to HTTPS.
        plain = f"http://{LOOPBACK}:{proxied.nginx.http_port}/login"
        async with http.get(plain, allow_redirects=False) as response:
            assert response.status == 301
            assert response.headers["Location"].startswith("https://")
    assert proxied.events([CALL_SIDS[4]]) == 1
    # nginx spread the requests over both servers.
    used = set(proxied.nginx.upstreams_used())
    assert {f"{LOOPBACK}:{proxied.a.port}", f"{LOOPBACK}:{proxied.b.port}"} <= used


async def test_forged_forwarded_headers_do_not_move_the_signed_address(
    proxied: Pair, tls_ca: SandboxCA
):
    """The signature is checked against web.public_url, never against what a request says
    about itself: forged X-Forwarded-Proto/-Host/-For (or Host) from a peer that is not a
    trusted proxy, or sent through nginx, neither make a signature over another address
    verify nor stop a genuine one from verifying."""
    assert proxied.nginx is not None
    path = "/twilio/status"
    forged = {"Host": "evil.example", "X-Forwarded-Proto": "http",
              "X-Forwarded-Host": "evil.example", "X-Forwarded-For": "203.0.113.9"}  # fmt: skip
    evil = _callback(CALL_SIDS[5], 1)
    good = _callback(CALL_SIDS[6], 1)
    untrusted = aiohttp.TCPConnector(local_addr=(UNTRUSTED, 0))
    async with (
        aiohttp.ClientSession(connector=untrusted) as direct,
        aiohttp.ClientSession(connector=_tls(tls_ca)) as through,
    ):
        for http, base in ((direct, proxied.a.url), (direct, proxied.b.url),
                           (through, proxied.nginx.url)):  # fmt: skip
            # Signed for another address: the forged one, or the server's own behind nginx.
            for url in ("http://evil.example" + path, "https://evil.example" + path,
                        proxied.a.url + path, proxied.b.url + path):  # fmt: skip
                headers = forged | _signed(url, evil)
                if http is through:
                    del headers["Host"]  # nginx routes by it; it sets its own upstream
                async with http.post(base + path, data=evil, headers=headers) as response:
                    assert response.status == 403, (base, url)
            headers = forged | _signed(proxied.public_url + path, good)
            if http is through:
                del headers["Host"]
            async with http.post(base + path, data=good, headers=headers) as response:
                assert response.status == 200, base
    assert proxied.events([CALL_SIDS[5]]) == 0
    assert proxied.events([CALL_SIDS[6]]) == 1


@needs_chromium
async def test_the_dashboard_works_through_nginx_in_chromium(proxied: Pair, browser: Browser):
    assert proxied.nginx is not None
    base = proxied.nginx.url
    # Chromium has its own trust store; the test CA's certificate was checked above.
    context = await browser.new_context(ignore_https_errors=True)
    try:
        page = await context.new_page()
        await page.goto(base + "/")
        assert "/login" in page.url
        await page.get_by_label("Användarnamn").fill("anna")
        await page.get_by_label("Lösenord").fill(PASSWORDS["anna"])
        await page.get_by_role("button", name="Logga in").click()
        await page.wait_for_url(base + "/")
        assert await page.get_by_role("heading", name="Översikt").is_visible()
        cookie = next(c for c in await context.cookies() if c["name"] == SESSION_COOKIE)
        assert cookie["secure"]
        assert cookie["httpOnly"]
        await page.get_by_role("button", name="Logga ut").click()
        await page.wait_for_url(base + "/login")
        assert await page.get_by_text("Du är utloggad.").is_visible()
        await page.goto(base + "/settings")
        assert "/login" in page.url
    finally:
        await context.close()


async def test_forwarded_proto_is_believed_from_the_trusted_proxy_only(
    proxied: Pair, tls_ca: SandboxCA
):
    """A POST must come from this site: its Origin must be web.public_url's or the request's own
    (scheme from X-Forwarded-Proto when a trusted proxy sent it). nginx sends ``https`` and
    Host without the port, so ``Origin: https://localhost`` is this site through nginx, and
    through a trusted peer saying the same; a peer that is no trusted proxy is not believed."""
    assert proxied.nginx is not None
    origin = "https://localhost"
    claims = {"Host": "localhost", "X-Forwarded-Proto": "https", "Origin": origin}

    async def attempt(http: aiohttp.ClientSession, base: str, headers: dict[str, str]) -> int:
        client = Client(http)
        status, page, _ = await client.request("GET", base + "/login", headers=headers)
        assert status == 200, page
        token = TOKEN.search(page)
        assert token is not None
        form = {"csrf_token": token.group(1), "name": "ingen-sadan", "password": "fel-123456"}
        status, _, _ = await client.request("POST", base + "/login", data=form, headers=headers)
        return status

    untrusted = aiohttp.TCPConnector(local_addr=(UNTRUSTED, 0))
    async with (
        aiohttp.ClientSession(connector=_tls(tls_ca), cookie_jar=aiohttp.DummyCookieJar()) as tls,
        aiohttp.ClientSession(connector=untrusted, cookie_jar=aiohttp.DummyCookieJar()) as other,
        aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as local,
    ):
        # Through nginx and from the trusted address: the site's own origin, a wrong password.
        assert await attempt(tls, proxied.nginx.url, {"Origin": origin}) == 400
        assert await attempt(local, proxied.a.url, claims) == 400
        # The same claims from an untrusted peer: plain http, so another site's origin.
        assert await attempt(other, proxied.a.url, claims) == 403
        assert await attempt(other, proxied.b.url, claims) == 403


async def test_the_site_stays_up_while_one_server_is_stopped(proxied: Pair, tls_ca: SandboxCA):
    """An upgrade restarts the servers one at a time (docs/deploy/nginx/kkik.conf): with A
    stopped, nginx sends every request, a signed callback too, to B. Runs last in the module."""
    assert proxied.nginx is not None
    assert proxied.a.stop() == 0
    path = "/twilio/status"
    sids = CALL_SIDS[7:8]
    async with aiohttp.ClientSession(connector=_tls(tls_ca)) as http:
        for _ in range(4):
            async with http.get(proxied.nginx.url + "/login") as response:
                assert response.status == 200
        params = _callback(sids[0], 1)
        headers = _signed(proxied.public_url + path, params)
        for _ in range(2):
            async with http.post(proxied.nginx.url + path, data=params, headers=headers) as r:
                assert r.status == 200
    assert proxied.events(sids) == 1
