"""Logging in to the dashboard over real HTTP: sessions, CSRF, roles, rate limits, logout.

A real uvicorn server on 127.0.0.1 runs the app with :func:`install_auth` and one protected
test route (GET needs staff; POST needs staff and the CSRF token); aiohttp plays the browser,
with a cookie jar that accepts cookies for an IP address.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

import aiohttp
from fastapi import Depends, FastAPI, Request
from fastapi.responses import PlainTextResponse
from sqlalchemy import Engine
from sqlmodel import Session, select
from yarl import URL

from harness.core.accounts import hash_password
from harness.core.clock import FakeClock
from harness.core.config import Settings
from harness.store.models import User
from harness.web.app import WebServer, create_app
from harness.web.auth import SESSION_COOKIE, UserView, require_csrf, require_role
from harness.web.login import install_auth

SECRET = "a-test-session-secret-of-more-than-32-characters"
PASSWORDS = {
    "anna": "anna-lösenord-123",
    "bertil": "bertil-lösenord-456",
    "cilla": "cilla-lösen-789",
}
ROLES = {"anna": "staff", "bertil": "viewer", "cilla": "admin"}
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
NEXT = re.compile(r'name="next" value="([^"]*)"')
# Module level: FastAPI resolves the string annotations below against the module's names.
STAFF = require_role("staff")


def _add_users(engine: Engine, clock: FakeClock) -> None:
    with Session(engine) as session:
        for name, password in PASSWORDS.items():
            session.add(
                User(name=name, role=ROLES[name], password_hash=hash_password(password),
                     created_at=clock.now())
            )  # fmt: skip
        session.commit()


def _user(engine: Engine, name: str) -> User:
    with Session(engine) as session:
        return session.exec(select(User).where(User.name == name)).one()


def _update(engine: Engine, name: str, **values: Any) -> None:
    with Session(engine) as session:
        row = session.exec(select(User).where(User.name == name)).one()
        for key, value in values.items():
            setattr(row, key, value)
        session.add(row)
        session.commit()


def _app(engine: Engine, clock: FakeClock, *, https: bool) -> FastAPI:
    app = create_app(Settings(), engine, clock)
    install_auth(app, engine, clock, secret=SECRET, https=https)
    app.state.changes = []

    @app.get("/protected")
    async def page(user: Annotated[UserView, Depends(STAFF)]) -> PlainTextResponse:
        return PlainTextResponse(f"hej {user.name} ({user.role})")

    @app.post("/protected", dependencies=[Depends(STAFF), Depends(require_csrf)])
    async def change(
        request: Request, user: Annotated[UserView, Depends(STAFF)]
    ) -> PlainTextResponse:
        form = await request.form()
        app.state.changes.append((user.name, form.get("value")))
        return PlainTextResponse("ändrat")

    return app


@dataclass
class Browser:
    http: aiohttp.ClientSession
    url: str

    async def get(self, path: str) -> tuple[int, str, aiohttp.ClientResponse]:
        async with self.http.get(self.url + path, allow_redirects=False) as resp:
            return resp.status, await resp.text(), resp

    async def post(
        self, path: str, data: dict[str, str], headers: dict[str, str] | None = None
    ) -> tuple[int, str, aiohttp.ClientResponse]:
        sent = {"Origin": self.url, **(headers or {})}  # as a browser sends with every POST
        async with self.http.post(
            self.url + path, data=data, headers=sent, allow_redirects=False
        ) as resp:
            return resp.status, await resp.text(), resp

    async def token(self, path: str = "/login") -> str:
        status, body, _ = await self.get(path)
        assert status == 200, body
        found = TOKEN.search(body)
        assert found, body
        return found.group(1)

    async def login(
        self, name: str, password: str | None = None, next_path: str = "/protected"
    ) -> tuple[int, str, aiohttp.ClientResponse]:
        data = {
            "csrf_token": await self.token(),
            "name": name,
            "password": PASSWORDS.get(name, "") if password is None else password,
            "next": next_path,
        }
        return await self.post("/login", data)

    def cookie(self) -> str | None:
        found = self.http.cookie_jar.filter_cookies(URL(self.url)).get(SESSION_COOKIE)
        return found.value if found is not None else None


@dataclass
class Site:
    url: str
    app: FastAPI
    http: list[aiohttp.ClientSession]

    async def browser(self) -> Browser:
        http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.http.append(http)
        return Browser(http, self.url)


@asynccontextmanager
async def running(engine: Engine, clock: FakeClock, *, https: bool = False) -> AsyncIterator[Site]:
    _add_users(engine, clock)
    app = _app(engine, clock, https=https)
    async with WebServer(app) as server:
        site = Site(server.url, app, [])
        try:
            yield site
        finally:
            for http in site.http:
                await http.close()


def _set_cookies(resp: aiohttp.ClientResponse) -> list[str]:
    return [c for c in resp.headers.getall("Set-Cookie", []) if c.startswith(SESSION_COOKIE)]


async def test_logging_in_starts_a_new_httponly_lax_session(sqlite_engine, clock):
    async with running(sqlite_engine, clock) as site:
        browser = await site.browser()
        status, body, resp = await browser.get("/login")
        assert status == 200
        assert resp.headers["Cache-Control"] == "no-store"
        assert '<label for="login-name">Användarnamn</label>' in body
        assert '<label for="login-password">Lösenord</label>' in body
        assert 'autocomplete="current-password"' in body
        anonymous = browser.cookie()
        assert anonymous is not None  # the form's CSRF token lives in a session already
        old_token = TOKEN.search(body).group(1)  # type: ignore[union-attr]

        clock.advance(minutes=3)
        status, _, resp = await browser.login("anna")
        assert status == 303
        assert resp.headers["Location"] == "/protected"
        [cookie] = _set_cookies(resp)
        flags = [part.strip().lower() for part in cookie.split(";")]
        assert "httponly" in flags
        assert "samesite=lax" in flags
        assert "secure" not in flags
        assert "path=/" in flags
        assert "max-age=28800" in flags  # eight hours
        assert browser.cookie() not in (None, anonymous)
        assert _user(sqlite_engine, "anna").last_login_at == clock.now()

        status, body, _ = await browser.get("/protected")
        assert (status, body) == (200, "hej anna (staff)")

        # The session was regenerated: the token from before logging in is worth nothing.
        status, _, _ = await browser.post("/protected", {"csrf_token": old_token, "value": "1"})
        assert status == 403
        token = await browser.token()
        assert token != old_token
        status, body, _ = await browser.post("/protected", {"csrf_token": token, "value": "2"})
        assert (status, body) == (200, "ändrat")
        assert site.app.state.changes == [("anna", "2")]


async def test_the_cookie_is_secure_behind_tls(sqlite_engine, clock):
    async with running(sqlite_engine, clock, https=True) as site:
        browser = await site.browser()
        _, _, resp = await browser.get("/login")
        [cookie] = _set_cookies(resp)
        flags = [part.strip().lower() for part in cookie.split(";")]
        assert {"secure", "httponly", "samesite=lax"} <= set(flags)


async def test_a_wrong_password_or_unknown_name_is_refused_alike(sqlite_engine, clock):
    async with running(sqlite_engine, clock) as site:
        browser = await site.browser()
        status, body, _ = await browser.login("anna", "fel-lösenord-000")
        assert status == 400
        assert "Fel användarnamn eller lösenord." in body
        assert 'value="anna"' in body  # the name is kept, the password not
        assert "fel-lösenord-000" not in body
        assert NEXT.search(body).group(1) == "/protected"  # type: ignore[union-attr]
        assert (await browser.get("/protected"))[0] == 303

        status, body, _ = await browser.login("nobody", "whatever-password")
        assert status == 400
        assert "Fel användarnamn eller lösenord." in body

        await browser.get("/login?lang=en")
        status, body, _ = await browser.login("anna", "")
        assert status == 400
        assert "Wrong user name or password." in body
        assert _user(sqlite_engine, "anna").last_login_at is None

        # The name is matched without regard to case.
        status, _, _ = await browser.login("ANNA", PASSWORDS["anna"])
        assert status == 303


async def test_the_sixth_attempt_is_refused_even_with_the_right_password(sqlite_engine, clock):
    async with running(sqlite_engine, clock) as site:
        browser = await site.browser()
        for i in range(5):
            status, _, _ = await browser.login("Anna" if i % 2 else "anna", f"fel-{i}")
            assert status == 400
        status, body, resp = await browser.login("anna")
        assert status == 429
        assert resp.headers["Retry-After"] == "900"
        assert "För många misslyckade försök. Försök igen om 15 minuter." in body
        assert _user(sqlite_engine, "anna").last_login_at is None
        assert (await browser.get("/protected"))[0] == 303

        # Another user from the same address is not affected (the address limit is higher).
        other = await site.browser()
        assert (await other.login("bertil"))[0] == 303

        clock.advance(minutes=14, seconds=30)
        status, body, resp = await browser.login("anna")
        assert (status, resp.headers["Retry-After"]) == (429, "30")
        assert "Försök igen om 1 minuter." in body
        clock.advance(seconds=30)
        status, _, _ = await browser.login("anna")
        assert status == 303


async def test_failures_are_also_counted_per_address(sqlite_engine, clock):
    async with running(sqlite_engine, clock) as site:
        browser = await site.browser()
        for i in range(20):  # four names, five failures each: never five for one name
            status, _, _ = await browser.login(f"user{i % 4}", "fel-lösenord")
            assert status == 400
        status, _, resp = await browser.login("cilla")
        assert status == 429
        assert resp.headers["Retry-After"] == "900"


async def test_a_post_without_the_csrf_token_changes_nothing(sqlite_engine, clock):
    async with running(sqlite_engine, clock) as site:
        browser = await site.browser()
        assert (await browser.login("anna"))[0] == 303
        token = await browser.token()

        status, body, _ = await browser.post("/protected", {"value": "utan"})
        assert status == 403
        assert "Formuläret hade gått ut eller saknade sin kontrollkod." in body
        status, _, _ = await browser.post("/protected", {"csrf_token": "x" + token, "value": "fel"})
        assert status == 403
        status, _, _ = await browser.post("/protected", {"csrf_token": "", "value": "tom"})
        assert status == 403
        status, _, _ = await browser.post(
            "/protected", {"value": "rubrik"}, headers={"X-CSRF-Token": "fel"}
        )
        assert status == 403
        assert site.app.state.changes == []

        status, _, _ = await browser.post(
            "/protected", {"value": "rubrik"}, headers={"X-CSRF-Token": token}
        )
        assert status == 200
        assert site.app.state.changes == [("anna", "rubrik")]

        # Logging in needs the token too (no login CSRF); the form comes back with a new one.
        stranger = await site.browser()
        status, body, _ = await stranger.post(
            "/login", {"name": "anna", "password": PASSWORDS["anna"], "next": "/protected"}
        )
        assert status == 403
        assert TOKEN.search(body)
        assert (await stranger.get("/protected"))[0] == 303


async def test_a_viewer_is_refused_the_staff_route(sqlite_engine, clock):
    async with running(sqlite_engine, clock) as site:
        browser = await site.browser()
        assert (await browser.login("bertil"))[0] == 303
        status, body, _ = await browser.get("/protected")
        assert status == 403
        assert "Din roll får inte göra det här." in body
        assert "bertil (läsare)" in body  # the page still says who is logged in
        token = await browser.token()
        status, _, _ = await browser.post("/protected", {"csrf_token": token, "value": "v"})
        assert status == 403
        assert site.app.state.changes == []

        admin = await site.browser()
        assert (await admin.login("cilla"))[0] == 303
        status, body, _ = await admin.get("/protected")
        assert (status, body) == (200, "hej cilla (admin)")


async def test_nobody_logged_in_is_sent_to_the_login_page(sqlite_engine, clock):
    async with running(sqlite_engine, clock) as site:
        browser = await site.browser()
        status, _, resp = await browser.get("/protected?vy=2&lang=en")
        assert status == 303
        assert resp.headers["Location"] == "/login?next=%2Fprotected%3Fvy%3D2%26lang%3Den"
        status, body, _ = await browser.get(resp.headers["Location"])
        assert NEXT.search(body).group(1) == "/protected?vy=2&amp;lang=en"  # type: ignore[union-attr]
        status, body, _ = await browser.post("/protected", {"value": "x"})
        assert (status, body) == (401, "Logga in först.")
        await browser.get("/login?lang=en")
        status, body, _ = await browser.post("/protected", {"value": "x"})
        assert (status, body) == (401, "Log in first.")

        status, _, resp = await browser.login("anna", next_path="/protected?vy=2")
        assert (status, resp.headers["Location"]) == (303, "/protected?vy=2")


async def test_logging_out_ends_the_session_even_for_a_copied_cookie(sqlite_engine, clock):
    async with running(sqlite_engine, clock) as site:
        browser = await site.browser()
        assert (await browser.login("anna"))[0] == 303
        copied = browser.cookie()
        token = await browser.token()

        status, _, _ = await browser.post("/logout", {})
        assert status == 403  # logging out needs the token too
        assert (await browser.get("/protected"))[0] == 200

        status, _, resp = await browser.post("/logout", {"csrf_token": token})
        assert (status, resp.headers["Location"]) == (303, "/login")
        status, body, _ = await browser.get("/login")
        assert "Du är utloggad." in body
        assert (await browser.get("/protected"))[0] == 303

        thief = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())
        site.http.append(thief)
        cookie = {"Cookie": f"{SESSION_COOKIE}={copied}"}
        async with thief.get(site.url + "/protected", headers=cookie, allow_redirects=False) as r:
            assert r.status == 303


async def test_a_disabled_user_is_logged_out_at_once(sqlite_engine, clock):
    async with running(sqlite_engine, clock) as site:
        browser = await site.browser()
        assert (await browser.login("anna"))[0] == 303
        assert (await browser.get("/protected"))[0] == 200
        _update(sqlite_engine, "anna", disabled=True)
        assert (await browser.get("/protected"))[0] == 303
        status, body, _ = await browser.login("anna")
        assert status == 400
        assert "Fel användarnamn eller lösenord." in body

        _update(sqlite_engine, "anna", disabled=False)
        assert (await browser.get("/protected"))[0] == 303  # that session stays ended
        assert (await browser.login("anna"))[0] == 303


async def test_a_changed_password_or_role_takes_effect_at_once(sqlite_engine, clock):
    async with running(sqlite_engine, clock) as site:
        browser = await site.browser()
        assert (await browser.login("anna"))[0] == 303
        _update(sqlite_engine, "anna", role="viewer")
        assert (await browser.get("/protected"))[0] == 403
        _update(sqlite_engine, "anna", role="staff")
        assert (await browser.get("/protected"))[0] == 200
        _update(sqlite_engine, "anna", password_hash=hash_password("ett-nytt-lösenord"))
        assert (await browser.get("/protected"))[0] == 303


async def test_a_session_lasts_eight_hours_on_the_harness_clock(sqlite_engine, clock):
    async with running(sqlite_engine, clock) as site:
        browser = await site.browser()
        assert (await browser.login("anna"))[0] == 303
        clock.advance(timedelta(hours=8))
        assert (await browser.get("/protected"))[0] == 200
        clock.advance(seconds=1)
        assert (await browser.get("/protected"))[0] == 303


async def test_next_never_leads_off_the_site(sqlite_engine, clock):
    async with running(sqlite_engine, clock) as site:
        browser = await site.browser()
        status, body, _ = await browser.get("/login?next=//evil.example")
        assert NEXT.search(body).group(1) == "/"  # type: ignore[union-attr]
        for target in ("//evil.example", "https://evil.example/", "/\\evil.example"):
            status, _, resp = await browser.login("anna", next_path=target)
            assert (status, resp.headers["Location"]) == (303, "/"), target
