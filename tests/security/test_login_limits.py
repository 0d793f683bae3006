"""Password guessing over real HTTP: the limiter per name and per address, and its window.

Each test serves its own app (own FakeClock) on the site's database. The failure counts live in
that database (shared by every web worker), so they are cleared before and after each test: the
lock-outs here never lock the rest of the suite out, nor do the suite's failures count here.
Addresses other than 127.0.0.1 come from ``X-Forwarded-For``, believed because these apps list
127.0.0.1 in ``web.trusted_proxies``, as a deployment lists its reverse proxy; with the default
(no trusted proxy) it is ignored.
"""

from __future__ import annotations

import unicodedata
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from sqlalchemy import delete
from sqlmodel import Session, select

from harness.assembly import Assembly
from harness.core.clock import FakeClock
from harness.store import users
from harness.store.models import LoginFailure, User
from harness.web.app import WebServer
from harness.web.auth import ADDRESS_MAX_FAILURES, LIMIT_WINDOW, NAME_MAX_FAILURES
from tests.security.site import PASSWORDS, SESSION_SECRET, Client, Site


@asynccontextmanager
async def own_app(
    site: Site, trusted_proxies: tuple[str, ...] = ("127.0.0.1",)
) -> AsyncIterator[tuple[Site, FakeClock]]:
    clock = FakeClock(site.clock.now())
    proxies = site.settings.web.model_copy(update={"trusted_proxies": trusted_proxies})
    settings = site.settings.model_copy(update={"web": proxies})
    assembly = Assembly(settings, site.engine, clock, config_path=site.config)
    app = assembly.web_app(webhooks=False, dashboard_secret=SESSION_SECRET)
    _forget_failures(site)
    async with WebServer(app) as web:
        fresh = Site(web.url, app, site.engine, site.settings, site.config, site.out, clock,
                     site.logs, site.canary, site.matched_probe, site.hostile_messages,
                     site.phone_probe)  # fmt: skip
        try:
            yield fresh, clock
        finally:
            for http in fresh.clients:
                await http.close()
            _forget_failures(site)


def _forget_failures(site: Site) -> None:
    with Session(site.engine) as session:
        session.execute(delete(LoginFailure))
        session.commit()


async def _try(client: Client, name: str, password: str, address: str) -> int:
    form = {"name": name, "password": password, "next": "/"}
    status, _, headers = await client.post(
        "/login", form, token=True, headers={"X-Forwarded-For": address}
    )
    if status == 429:
        assert int(headers["Retry-After"]) > 0
    return status


async def _logged_in(client: Client) -> bool:
    return (await client.get("/settings")).status == 200


async def test_guessing_one_name_is_stopped_and_the_right_password_refused(site: Site):
    async with own_app(site) as (fresh, clock):
        client = await fresh.client()
        # The name is counted however it is written, and from whichever address it comes.
        spellings = ["sara", "SARA", " Sara ", "sAra", "sara\t"]
        for n in range(NAME_MAX_FAILURES):
            name = spellings[n % len(spellings)]
            assert await _try(client, name, f"gissning-{n}", f"10.1.0.{n}") == 400
        assert await _try(client, "sara", PASSWORDS["sara"], "10.1.0.99") == 429
        assert not await _logged_in(client)
        # Another user from the same address is not locked out by it.
        other = await fresh.client()
        assert await _try(other, "vera", PASSWORDS["vera"], "10.1.0.1") == 303
        # The limit lifts when the window has passed on the harness clock, not before.
        clock.advance(seconds=LIMIT_WINDOW.total_seconds() - 1)
        assert await _try(client, "sara", PASSWORDS["sara"], "10.1.0.99") == 429
        clock.advance(seconds=1)
        assert await _try(client, "sara", PASSWORDS["sara"], "10.1.0.99") == 303
        assert await _logged_in(client)


async def test_guessing_from_one_address_is_stopped_for_every_name(site: Site):
    async with own_app(site) as (fresh, clock):
        client = await fresh.client()
        for n in range(ADDRESS_MAX_FAILURES):
            # A new name every time: only the address ties the attempts together.
            assert await _try(client, f"gissare{n}", "fel-lösenord-123", "10.2.0.7") == 400
        assert await _try(client, "anna", PASSWORDS["anna"], "10.2.0.7") == 429
        assert not await _logged_in(client)
        assert await _try(client, "anna", PASSWORDS["anna"], "10.2.0.8") == 303
        clock.advance(seconds=(LIMIT_WINDOW + timedelta(seconds=1)).total_seconds())
        again = await fresh.client()
        assert await _try(again, "vera", PASSWORDS["vera"], "10.2.0.7") == 303


async def test_a_blocked_attempt_does_not_extend_the_block(site: Site):
    async with own_app(site) as (fresh, clock):
        client = await fresh.client()
        for n in range(NAME_MAX_FAILURES):
            assert await _try(client, "anna", f"fel-{n}", "10.3.0.1") == 400
        for _ in range(30):  # hammering while blocked is refused without being counted
            assert await _try(client, "anna", "fel-igen", "10.3.0.1") == 429
        clock.advance(seconds=LIMIT_WINDOW.total_seconds())
        assert await _try(client, "anna", PASSWORDS["anna"], "10.3.0.1") == 303


# The letters that wrote a fresh lock key while still logging in (issue 15, M3): the long s
# "ſ" (U+017F) and the ligatures "ﬅ" (U+FB05, long s + t) and "ﬆ" (U+FB06, s + t); fullwidth
# letters and capitals for good measure.
STINA = "stina"
SPELLINGS = ["ſtina", "ﬅina", "ﬆina", "STINA", "ｓｔｉｎａ", " Stina "]


def _with_stina(site: Site) -> str:
    password = "stina-losen-1234"
    if users.find_user(site.engine, STINA) is None:
        users.add_user(site.engine, STINA, "viewer", password, site.clock.now(), "test")
    return password


async def test_every_spelling_that_logs_in_counts_against_the_same_lock(site: Site):
    password = _with_stina(site)
    async with own_app(site) as (fresh, _):
        client = await fresh.client()
        # Each spelling is the user stina: the right password logs in with any of them.
        for name in SPELLINGS:
            probe = await fresh.client()
            assert await _try(probe, name, password, "10.4.0.1") == 303, name
        # Five wrong guesses, all in other spellings, lock the name...
        for n, name in enumerate(SPELLINGS[:NAME_MAX_FAILURES]):
            assert await _try(client, name, f"gissning-{n}", f"10.4.1.{n}") == 400
        # ...for every spelling, the plain one included.
        for name in [STINA, *SPELLINGS]:
            assert await _try(client, name, password, "10.4.2.1") == 429, name
        assert not await _logged_in(client)


async def test_a_lock_on_the_plain_name_holds_for_the_other_letters(site: Site):
    password = _with_stina(site)
    async with own_app(site) as (fresh, _):
        client = await fresh.client()
        for n in range(NAME_MAX_FAILURES):
            assert await _try(client, STINA, f"gissning-{n}", f"10.5.0.{n}") == 400
        for name in SPELLINGS:
            assert await _try(client, name, password, "10.5.1.1") == 429, name
        assert not await _logged_in(client)


async def test_no_second_user_with_the_same_name_otherwise_written(site: Site):
    _with_stina(site)
    admin = await site.login("admin")
    for name in SPELLINGS:
        form = {"name": name, "role": "admin", "password": "ett-annat-losen-99"}
        status, _, _ = await admin.post("/users", form, token=True)
        assert status == 303
        page = (await admin.get("/users")).text
        assert "Det finns redan en användare som heter stina" in page, name
    with Session(site.engine) as session:
        names = [u.name for u in session.exec(select(User)).all()]
    same = [n for n in names if unicodedata.normalize("NFKC", n.strip()).casefold() == STINA]
    assert same == [STINA]


async def test_x_forwarded_for_is_ignored_unless_the_proxy_is_trusted(site: Site):
    """Issue 15, L6: X-Forwarded-For was believed from any local client, so every guess could
    claim a new address and the per-address limit never struck."""
    for trusted in ((), ("10.0.0.0/8", "192.0.2.1")):  # the default; proxies elsewhere
        async with own_app(site, trusted_proxies=trusted) as (fresh, _):
            client = await fresh.client()
            for n in range(ADDRESS_MAX_FAILURES):
                name, claimed = f"gissare{n}", f"10.6.{n}.1"
                assert await _try(client, name, "fel-lösenord-123", claimed) == 400
            # Every attempt came from 127.0.0.1, whatever the header said: it is locked.
            assert await _try(client, "anna", PASSWORDS["anna"], "10.6.99.1") == 429, trusted
