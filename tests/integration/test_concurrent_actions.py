"""Many people acting at once in the dashboard: each gets their own result, nothing is printed.

The dashboard once ran ``kkik`` commands inside the web server and read what they printed, with
a process-wide stdout redirect: two staff marking calls at the same moment saw each other's
confirmations. Now every action is a service call (``harness.services``); this test has eight
users act at the same moment over real HTTP against the real app under uvicorn.
"""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from harness.assembly import Assembly
from harness.core.accounts import hash_password
from harness.core.clock import FakeClock
from harness.core.config import load_config
from harness.demo.run import Demo
from harness.store.db import make_engine
from harness.store.models import AuditEntry, Channel, Message, Probe, ProbeState, User
from harness.web.app import WebServer
from tests.security.site import SMALL, Client

USERS = [f"kvalitet{n}" for n in range(1, 9)]
PASSWORD = "samtidigt-losen-1234"
FLASH = re.compile(r'<p class="flash" role="status">([^<]*)</p>')


@dataclass
class Site:
    url: str
    engine: Engine


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def site(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Site]:
    demo = Demo(tmp_path_factory.mktemp("concurrent") / "demo", seed=7, world_path=SMALL)
    await demo.run()
    settings = load_config(demo.config)
    engine = make_engine(settings.database.url)
    clock = FakeClock(demo.clock.now())
    with Session(engine) as session:
        for name in USERS:
            session.add(User(name=name, role="staff", password_hash=hash_password(PASSWORD),
                             created_at=clock.now()))  # fmt: skip
        session.commit()
    app = Assembly(settings, engine, clock, config_path=demo.config).web_app(
        auth_token="token", dashboard_secret="concurrent-session-secret-0123456789"
    )
    try:
        async with WebServer(app) as web:
            yield Site(web.url, engine)
    finally:
        engine.dispose()


async def _login(site: Site, name: str) -> Client:
    import aiohttp

    http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    client = Client(http, site.url)
    status, _, _ = await client.post(
        "/login", {"name": name, "password": PASSWORD, "next": "/"}, token=True
    )
    assert status == 303, name
    return client


def _placed_calls(engine: Engine, n: int) -> list[int]:
    with Session(engine) as session:
        ids = session.exec(
            select(Probe.id)
            .where(Probe.channel == Channel.PHONE, Probe.state == ProbeState.COMPLETED)
            .order_by(col(Probe.id))
        ).all()
    assert len(ids) >= n
    return [i for i in ids if i is not None][:n]


def _messages(engine: Engine, n: int) -> list[int]:
    with Session(engine) as session:
        ids = session.exec(select(Message.id).order_by(col(Message.id))).all()
    assert len(ids) >= n
    return [i for i in ids if i is not None][:n]


async def _act(client: Client, name: str, call: int, message: int) -> list[str]:
    """Mark a call, correct a message, download an export; the flashes seen after each.

    One person's steps follow each other (a browser session's cookie carries its flashes);
    the eight people run at the same time, so every step meets seven others in the server.
    """
    token = await client.token()
    seen: list[str] = []
    status, _, _ = await client.post(
        f"/calls/{call}/mark", {"csrf_token": token, "what": "person", "back": "/calls"}
    )
    assert status == 303
    seen += FLASH.findall((await client.get("/calls")).text)
    status, _, _ = await client.post(
        f"/review/{message}",
        {"csrf_token": token, "kind": "", "probe_id": "", "reason": f"granskad av {name}",
         "back": "/review"},
    )  # fmt: skip
    assert status == 303
    seen += FLASH.findall((await client.get("/review")).text)
    exported = await client.get("/export.json")
    assert exported.status == 200
    assert exported.body.startswith(b"[")
    return [html.unescape(m) for m in seen]


async def test_eight_people_acting_at_once_each_get_their_own_result(
    site: Site, capfd: pytest.CaptureFixture[str]
) -> None:
    clients = [await _login(site, name) for name in USERS]
    calls = _placed_calls(site.engine, len(USERS))
    messages = _messages(site.engine, len(USERS))
    capfd.readouterr()
    try:
        results = await asyncio.gather(
            *(
                _act(client, name, call, message)
                for client, name, call, message in zip(clients, USERS, calls, messages, strict=True)
            )
        )
    finally:
        for client in clients:
            await client.http.close()
    printed = capfd.readouterr()
    assert printed.out == ""  # no action prints anything to the server's stdout
    for flashes, call in zip(results, calls, strict=True):
        marked = [f for f in flashes if "markerat för samtal" in f]
        # Exactly this person's own confirmation: their call, nobody else's.
        assert len(marked) == 1, flashes
        assert f"samtal {call} " in marked[0], (call, flashes)
        assert all(f"samtal {other} " not in " ".join(flashes) for other in calls if other != call)
        assert flashes.count("Sparat.") == 1  # the review correction's own confirmation
    with Session(site.engine) as session:
        entries = session.exec(select(AuditEntry).where(col(AuditEntry.actor).like("web:%"))).all()
    by_actor: dict[str, list[AuditEntry]] = {}
    for entry in entries:
        by_actor.setdefault(entry.actor, []).append(entry)
    for name, call, message in zip(USERS, calls, messages, strict=True):
        own = by_actor[f"web:{name}"]
        assert sorted((e.action, e.entity_id) for e in own) == sorted(
            [("mark_person", str(call)), ("review", str(message))]
        )
        [review] = [e for e in own if e.action == "review"]
        assert review.reason == f"granskad av {name}"


def test_the_dashboard_never_imports_the_cli() -> None:
    # The faces are separate: the web calls the services, never the CLI's code.
    web = Path(__file__).resolve().parents[2] / "harness" / "web"
    for path in web.rglob("*.py"):
        assert "harness.cli" not in path.read_text(encoding="utf-8"), path
