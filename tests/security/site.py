"""The security suite's site and helpers: a browser over aiohttp, routes, snapshots, hostile mail.

:class:`Client` plays a browser over aiohttp (cookie jar, CSRF token from the page);
:func:`api_routes` lists the app's routes as (method, full path, route); :func:`database_snapshot`
reads every table, so a refused request can be shown to have changed nothing; :func:`leaks`
finds a secret in output, plain or simply encoded.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import aiohttp
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import Engine
from sqlmodel import Session, SQLModel, col, select
from starlette.routing import Mount
from yarl import URL

from harness.channels.email.store import MailStore
from harness.core.accounts import hash_password
from harness.core.clock import FakeClock
from harness.core.config import Settings
from harness.rules.measurement import timing_rules
from harness.store.models import Channel, Message, Probe, ProbeState, User
from harness.web.auth import SESSION_COOKIE
from probes.imap_wire import FetchedMessage

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "tests" / "data" / "demo" / "world-small.toml"
HERE = Path(__file__).resolve().parent

# Distinctive values: any of them (or a simple encoding of one) found in output is a leak.
IMAP_SECRET = "imap-Hemlis-Q7v2Xk9Lm4"
TWILIO_SECRET = "twilio-Hemlis-Zr8Pw3Nc6Td"
SESSION_SECRET = "session-Hemlis-Bq5Yh2Vj8Ks4Fd7Gm1Lx6Wc3"
SMTP_SECRET = "smtp-Hemlis-Ju4Ne9Ra2Ox"
DATABASE_SECRET = "databas-Hemlis-Hy6Tb1Mq8Ze"
SECRETS = (IMAP_SECRET, TWILIO_SECRET, SESSION_SECRET, SMTP_SECRET, DATABASE_SECRET)

PASSWORDS = {"anna": "anna-losen-1234", "sara": "sara-losen-1234", "vera": "vera-losen-1234"}
ROLE_USERS = {"admin": "anna", "staff": "sara", "viewer": "vera"}
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def leaks(text: str | bytes, secrets: tuple[str, ...] = SECRETS) -> list[str]:
    """Which secrets appear in ``text`` as they are or base64-, URL- or hex-encoded."""
    blob = text if isinstance(text, bytes) else text.encode("utf-8", "replace")
    found = []
    for secret in secrets:
        raw = secret.encode()
        forms = {
            raw,
            base64.b64encode(raw).rstrip(b"="),
            base64.urlsafe_b64encode(raw).rstrip(b"="),
            quote(secret, safe="").encode(),
            quote_plus(secret).encode(),
            raw.hex().encode(),
        }
        # base64 of the secret inside a longer base64 text starts at one of three offsets.
        forms |= {base64.b64encode(b"xx"[:n] + raw)[4:-4] for n in (1, 2)}
        if any(form in blob for form in forms):
            found.append(secret)
    return found


class LogKeeper(logging.Handler):
    """Keeps every record it sees, formatted with its traceback (secrets hide in both)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@dataclass
class Site:
    url: str
    app: FastAPI
    engine: Engine
    settings: Settings
    config: Path
    out: Path
    clock: FakeClock
    logs: LogKeeper
    canary: Canary
    matched_probe: int  # an e-mail probe with hostile replies
    hostile_messages: list[int]
    phone_probe: int
    clients: list[aiohttp.ClientSession] = field(default_factory=list)

    async def client(self) -> Client:
        http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.clients.append(http)
        return Client(http, self.url)

    async def login(self, role: str) -> Client:
        client = await self.client()
        name = ROLE_USERS[role]
        status, _, _ = await client.post(
            "/login", {"name": name, "password": PASSWORDS[name], "next": "/"}, token=True
        )
        assert status == 303, f"{name} could not log in"
        return client


@dataclass
class Reply:
    status: int
    body: bytes
    headers: dict[str, str]

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


@dataclass
class Client:
    """A browser over aiohttp: keeps cookies; sends the raw path it is given (no normalising)."""

    http: aiohttp.ClientSession
    url: str
    csrf: str = ""

    def _url(self, path: str) -> URL:
        return URL(self.url + path, encoded=True)

    async def get(self, path: str, headers: dict[str, str] | None = None) -> Reply:
        async with self.http.get(self._url(path), allow_redirects=False, headers=headers) as r:
            return Reply(r.status, await r.read(), dict(r.headers))

    async def post(
        self,
        path: str,
        data: dict[str, str] | str | bytes | None = None,
        *,
        token: bool = False,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, str, dict[str, str]]:
        if token:
            assert isinstance(data, dict)
            data = {"csrf_token": await self.token(), **data}
        # As a browser does: every POST says where it comes from (this site, unless told).
        sent = {"Origin": self.url, **(headers or {})}
        async with self.http.post(
            self._url(path), data=data, headers=sent, allow_redirects=False
        ) as r:
            return r.status, await r.text(errors="replace"), dict(r.headers)

    async def token(self) -> str:
        """This session's CSRF token, read from a page's form as a browser would."""
        reply = await self.get("/login")
        found = TOKEN.search(reply.text)
        assert found, reply.text[:300]
        self.csrf = found.group(1)
        return self.csrf

    def session_cookie(self) -> str | None:
        found = self.http.cookie_jar.filter_cookies(URL(self.url)).get(SESSION_COOKIE)
        return None if found is None else found.value


class Canary:
    """A loopback listener that hostile mail points at; any connection to it is a hit."""

    def __init__(self) -> None:
        self.hits = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._hit, "127.0.0.1", 0)

    @property
    def origin(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def _hit(self, _reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.hits += 1
        writer.close()
        await writer.wait_closed()

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


def api_routes(app: FastAPI) -> list[tuple[str, str, APIRoute | None]]:
    """Every (method, full path template, route) the app answers; a mount as ``/mount/{path}``.

    FastAPI keeps included routers as they are (with their include prefix), so walk into them.
    """
    found: list[tuple[str, str, APIRoute | None]] = []

    def walk(items: list[Any], prefix: str) -> None:
        for route in items:
            if isinstance(route, APIRoute):
                found.extend((m, prefix + route.path, route) for m in sorted(route.methods or ()))
            elif isinstance(route, Mount):
                found.append(("GET", prefix + route.path + "/{path}", None))
            elif hasattr(route, "original_router"):  # fastapi.routing._IncludedRouter
                walk(route.original_router.routes, prefix + route.include_context.prefix)
            else:
                raise AssertionError(f"a route of unknown kind: {route!r}")

    walk(list(app.routes), "")
    return found


def routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, path template) the app answers."""
    return [(method, path) for method, path, _ in api_routes(app)]


def database_snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (the test databases are small), to compare before and after."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            rows[table.name] = [tuple(r) for r in conn.execute(table.select()).all()]
    return rows


# --- hostile mail ----------------------------------------------------------------------------


def hostile_html(canary: str) -> str:
    """Script in every form an HTML mail can carry it; each sets window.__pwned or calls home."""
    pwn = "window.top.__pwned=1"
    return (
        "<p>Hej! Svar nedan.</p>"
        f"<script>{pwn}</script>"
        f'<script src="{canary}/script.js"></script>'
        f'<img src="x" onerror="{pwn}"><img src="{canary}/img.png">'
        f'<body onload="{pwn}"><div onmouseover="{pwn}">hovra</div>'
        f'<a href="javascript:{pwn}">klicka</a>'
        f'<a href="JaVaScRiPt:{pwn}">versaler</a>'
        f'<a href="&#106;avascript:{pwn}">entitet</a>'
        f'<a href="jav&#x09;ascript:{pwn}">tabb</a>'
        f'<a href=" javascript:{pwn}">mellanslag</a>'
        f'<a href="data:text/html,<script>{pwn}</script>">data</a>'
        f'<svg onload="{pwn}"><script>{pwn}</script><circle r="5"/></svg>'
        f'<svg><a xlink:href="javascript:{pwn}"><text>svg-länk</text></a></svg>'
        f"<img src=\"data:image/svg+xml,<svg onload='{pwn}'/>\">"
        f'<div style="background:url(javascript:{pwn})">stil</div>'
        f'<div style="background:url({canary}/css.png);width:expression({pwn})">css</div>'
        f"<style>@import '{canary}/import.css'; body{{background:url({canary}/bg.png)}}</style>"
        f'<link rel="stylesheet" href="{canary}/link.css">'
        f'<meta http-equiv="refresh" content="0;url={canary}/refresh">'
        f'<base href="{canary}/">'
        f'<iframe src="javascript:{pwn}"></iframe><iframe src="{canary}/frame"></iframe>'
        f'<object data="{canary}/object"></object><embed src="{canary}/embed">'
        f'<form action="{canary}/form"><button>skicka</button></form>'
        f'<math><mtext><table><mglyph><style><img src=x onerror="{pwn}">'
        f"<scr<script>ipt>{pwn}</scr</script>ipt>"
        f'<noscript><p title="</noscript><img src=x onerror={pwn}>"></noscript>'
        f"<!--<img src=x onerror={pwn}>-->"
    )


SUBJECT_HTML = "<script>window.top.__pwned=1</script> Svar <img src=x onerror=alert(1)>"
FROM_NAME_HTML = '"<img src=x onerror=alert(2)>"'


def _encoded(text: str) -> str:
    return "=?utf-8?b?" + base64.b64encode(text.encode()).decode() + "?="


def hostile_mails(probe: Probe, canary: str) -> list[bytes]:
    """A matched reply (probe page) and unmatched ones (review queue), HTML in every field."""
    html = hostile_html(canary)
    matched = (
        f"From: {FROM_NAME_HTML} <kommun@ostersund.example.se>\r\n"
        f"To: anna.lindqvist+{probe.reply_token}@fraga.example.se\r\n"
        f"Subject: {SUBJECT_HTML}\r\n"
        "Date: Tue, 06 Oct 2026 10:00:00 +0200\r\n"
        "Message-ID: <hostile.1@ostersund.example.se>\r\n"
        f"In-Reply-To: {probe.message_id}\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/alternative; boundary="b1"\r\n\r\n'
        "--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        "<script>window.top.__pwned=1</script> Hej! <b onmouseover=alert(3)>x</b>\r\n"
        "--b1\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        f"{html}\r\n--b1--\r\n"
    )
    encoded = (
        f"From: {_encoded('<svg onload=alert(4)>')} <okand@angripare.example>\r\n"
        "To: fraga@fraga.example.se\r\n"
        f"Subject: {_encoded('<iframe src=javascript:alert(5)></iframe> Fråga')}\r\n"
        "Date: Tue, 06 Oct 2026 11:00:00 +0200\r\n"
        "Message-ID: <hostile.2@angripare.example>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/html; charset=utf-8\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(html.encode()).decode().replace("\n", "\r\n")
    )
    plain = (
        'From: "</td></tr></table><script>alert(6)</script>" <x@angripare.example>\r\n'
        "To: fraga@fraga.example.se\r\n"
        'Subject: "><a href=javascript:alert(7)>länk</a>\r\n'
        "Date: Tue, 06 Oct 2026 12:00:00 +0200\r\n"
        "Message-ID: <hostile.3@angripare.example>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        f"{html}\r\n"
    )
    return [matched.encode(), encoded.encode(), plain.encode()]


def store_hostile(engine: Engine, settings: Settings, canary: str) -> tuple[int, list[int]]:
    with Session(engine) as session:
        probe = session.exec(
            select(Probe)
            .where(Probe.channel == Channel.EMAIL, Probe.state != ProbeState.PLANNED)
            .order_by(col(Probe.id))
        ).first()  # fmt: skip
        assert probe is not None
        assert probe.id is not None
        before = {m for m in session.exec(select(Message.id)).all() if m is not None}
    store = MailStore(engine, FakeClock(datetime(2026, 10, 6, 10, 0, tzinfo=UTC)),
                      timing_rules(settings))  # fmt: skip
    arrived = datetime(2026, 10, 6, 8, 5, tzinfo=UTC)
    for uid, raw in enumerate(hostile_mails(probe, canary), start=90_001):
        assert store.ingest("INBOX", 1, FetchedMessage(uid, arrived, None, raw))
    with Session(engine) as session:
        added = sorted(
            m for m in session.exec(select(Message.id)).all() if m is not None and m not in before
        )
    assert len(added) == 3
    return probe.id, added


def first_phone_probe(engine: Engine) -> int:
    with Session(engine) as session:
        probe = session.exec(
            select(Probe).where(Probe.channel == Channel.PHONE).order_by(col(Probe.id))
        ).first()  # fmt: skip
        assert probe is not None
        assert probe.id is not None
        return probe.id


def add_users(engine: Engine, clock: FakeClock) -> None:
    with Session(engine) as session:
        for role, name in ROLE_USERS.items():
            session.add(User(name=name, role=role, password_hash=hash_password(PASSWORDS[name]),
                             created_at=clock.now()))  # fmt: skip
        session.commit()
