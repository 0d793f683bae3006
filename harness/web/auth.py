"""Who may use the dashboard: passwords, sessions, CSRF tokens, roles and login rate limits.

Users live in the database (:class:`harness.store.models.User`, managed with ``kkik user``); only an
argon2id hash of each password is stored. Roles are ordered by power, ``viewer < staff <
admin``: viewers read; staff also place and assess calls, and review and reclassify messages;
admins also manage users, purge personal data and download raw mail. A route states the least
role it needs with ``Depends(require_role("staff"))`` and, when it changes anything,
``Depends(require_csrf)``.

The session is a signed cookie (Starlette's ``SessionMiddleware``): ``HttpOnly``,
``SameSite=Lax``, ``Secure`` when served over TLS, eight hours at most. It holds the user's id,
never the role: every request re-reads the user, so a disabled or removed user, or one whose
password was changed, is logged out at once. Logging in starts a new session (no fixation);
logging out revokes it on the server too, so a copy of the old cookie no longer works, on every
web worker: the revocation is stored in the database (:mod:`harness.store.logins`) until the
session would have expired anyway.

Every form carries the session's CSRF token; POSTs without it, or with another, get 403 and
change nothing, and so do POSTs whose ``Origin`` (or ``Referer``) is not this site. Failed
logins are counted per user name and per client address (:class:`LoginLimiter`, in the
database too, so a name locked through one worker is locked on all); a blocked attempt is
answered 429 without even checking the password.

Flash messages need no shared state: they travel in the signed session cookie itself (bounded,
see :func:`flash`), so the page after a redirect shows them whichever worker renders it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from fastapi import FastAPI, HTTPException, Request
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.middleware.sessions import SessionMiddleware

from harness.core.accounts import (
    ROLES,
    user_key,
)
from harness.core.clock import Clock
from harness.core.config import SESSION_SECRET_MIN_LENGTH
from harness.core.i18n import Lang
from harness.store import logins
from harness.store.models import User
from harness.web.lang import page_lang

log = logging.getLogger(__name__)

SESSION_COOKIE = "kkik_session"
SESSION_LIFETIME = timedelta(hours=8)
# Per user name the limit is the brief one; per address it is higher, because colleagues behind
# one office NAT share an address and their typos should not lock each other out.
NAME_MAX_FAILURES = 5
ADDRESS_MAX_FAILURES = 20
LIMIT_WINDOW = timedelta(minutes=15)
# Flash messages wait in the session cookie: bounded, so the cookie is (see flash()).
MAX_FLASH_CHARS = 300
MAX_FLASH_BYTES = 1500
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Session keys. Only "lang" survives logging in and out.
_UID, _SID, _AUTH_AT, _PW, _CSRF, _FLASHES, _LANG = (
    "uid", "sid", "auth_at", "pw", "csrf", "flashes", "lang",
)  # fmt: skip
_USER_CACHE = "kkik_user"  # request.state attribute: the user, looked up once per request
_MISSING = object()


def _fingerprint(password_hash: str) -> str:
    """Ties a session to the password it was opened with: changing the password ends it."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:32]


# --- users and roles ---------------------------------------------------------------------------


@dataclass(frozen=True)
class UserView:
    """The logged-in user as pages see it."""

    id: int
    name: str
    role: str


def has_role(user: UserView | None, role: str) -> bool:
    """Whether ``user`` has ``role`` or a more powerful one (for templates: show a button?)."""
    return user is not None and user.role in ROLES and ROLES.index(user.role) >= ROLES.index(role)


def current_user(request: Request) -> UserView | None:
    """The user of this request's session, re-read from the database (once per request).

    A session that is too old, revoked, of a disabled or removed user, or opened with a
    password that has since changed is ended here, and None returned.
    """
    cached = getattr(request.state, _USER_CACHE, _MISSING)
    if cached is not _MISSING:
        assert cached is None or isinstance(cached, UserView)
        return cached
    user = _session_user(request)
    if user is None and _UID in request.session:
        _end_login(request)
    setattr(request.state, _USER_CACHE, user)
    return user


def _session_user(request: Request) -> UserView | None:
    session = request.session
    uid, auth_at = session.get(_UID), session.get(_AUTH_AT)
    if not isinstance(uid, int) or not isinstance(auth_at, int | float):
        return None
    if _clock(request).now().timestamp() - auth_at > SESSION_LIFETIME.total_seconds():
        return None
    sid = session.get(_SID)
    if not isinstance(sid, str) or not sid:
        return None
    with Session(_engine(request)) as db:
        if logins.is_revoked(db, sid):
            return None
        user = db.get(User, uid)
    if user is None or user.id is None or user.disabled or user.role not in ROLES:
        return None
    if session.get(_PW) != _fingerprint(user.password_hash):
        return None
    return UserView(user.id, user.name, user.role)


def _end_login(request: Request) -> None:
    """Forget who is logged in: a new, empty session that keeps only the page language."""
    lang = request.session.get(_LANG)
    request.session.clear()
    if lang is not None:
        request.session[_LANG] = lang
    setattr(request.state, _USER_CACHE, None)


class LoginRequired(Exception):
    """Raised by :func:`require_role` when nobody is logged in."""


class RoleTooLow(Exception):
    """Raised by :func:`require_role` when the user's role is not enough."""

    def __init__(self, user: UserView, needed: str) -> None:
        super().__init__(f"{user.name} is {user.role}, needs {needed}")
        self.user = user
        self.needed = needed


class RoleRequirement:
    """A dependency giving the logged-in user who has at least :attr:`role`.

    A class rather than a closure so the role a route demands can be read back from the app's
    routes (the security suite checks every route against it).
    """

    def __init__(self, role: str) -> None:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
        self.role = role

    def __call__(self, request: Request) -> UserView:
        user = current_user(request)
        if user is None:
            raise LoginRequired
        if not has_role(user, self.role):
            raise RoleTooLow(user, self.role)
        return user


def require_role(role: str) -> RoleRequirement:
    """A dependency giving the logged-in user who has at least ``role``.

    Nobody logged in: a GET is sent to the login page (303, ``next`` = where they were going),
    anything else gets 401. Logged in with a lower role: 403.
    """
    return RoleRequirement(role)


# --- sessions, CSRF and flash messages ---------------------------------------------------------


def install_sessions(app: FastAPI, secret: str, *, https: bool) -> None:
    """Signed session cookies: HttpOnly, SameSite=Lax, Secure when ``https``, 8 hours."""
    if len(secret) < SESSION_SECRET_MIN_LENGTH:
        raise ValueError(
            f"the session secret must have at least {SESSION_SECRET_MIN_LENGTH} characters"
        )
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret,
        session_cookie=SESSION_COOKIE,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        same_site="lax",
        https_only=https,
    )


def csrf_token(request: Request) -> str:
    """This session's CSRF token, made on first use; every form posts it back."""
    token = request.session.get(_CSRF)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session[_CSRF] = token
    return token


class CsrfFailed(HTTPException):
    """403: the POST came from another site, or lacked this session's CSRF token."""

    def __init__(self, cross_site: bool = False) -> None:
        super().__init__(status_code=403, detail="CSRF token missing or wrong")
        self.cross_site = cross_site


async def require_csrf(request: Request) -> None:
    """A dependency refusing (403) an unsafe request from another site or without this
    session's CSRF token.

    The request must come from this site: its ``Origin`` (or, without one, its ``Referer``) is
    the origin of ``web.public_url`` or of the request's own host; with neither header it is
    refused (browsers send ``Origin`` with every POST). The token is a second, independent check
    (a token leaked through a page or a log is not enough): it comes from the form field
    ``csrf_token`` or the ``X-CSRF-Token`` header.
    """
    if request.method in SAFE_METHODS:
        return
    if not same_origin(request):
        log.warning(
            "refused a cross-site %s %s (Origin %r, Referer %r)",
            request.method,
            request.url.path,
            (request.headers.get("origin") or "")[:100],
            (request.headers.get("referer") or "")[:100],
        )
        raise CsrfFailed(cross_site=True)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind in ("application/x-www-form-urlencoded", "multipart/form-data"):
            value = (await request.form()).get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
    expected = request.session.get(_CSRF)
    if not isinstance(expected, str) or not expected or not sent:
        raise CsrfFailed
    if not secrets.compare_digest(expected.encode(), sent.encode()):
        raise CsrfFailed


def same_origin(request: Request) -> bool:
    """Whether ``request`` says it comes from this site (see :func:`require_csrf`)."""
    sent = request.headers.get("origin")
    if not sent:
        sent = request.headers.get("referer")
    if not sent:
        return False
    origin = web_origin(sent)
    return origin is not None and origin in _own_origins(request)


def web_origin(url: str) -> str | None:
    """``scheme://host[:port]`` of ``url`` (lower case, default port left out); None if it has
    none, as for ``Origin: null``."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    default = 443 if parts.scheme == "https" else 80
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{parts.scheme}://{host}" + (f":{port}" if port not in (None, default) else "")


def _own_origins(request: Request) -> set[str | None]:
    origins = {web_origin(str(request.base_url))}
    settings = getattr(request.app.state, "settings", None)
    public_url = getattr(getattr(settings, "web", None), "public_url", None)
    if isinstance(public_url, str):
        origins.add(web_origin(public_url))
    origins.discard(None)
    return origins


def flash(request: Request, message: str) -> None:
    """Show ``message`` once, on the next page rendered for this session.

    The session is a cookie, and a flash often repeats what was typed: unbounded, a few posts
    without a page in between grew it past 8 KB, which browsers drop (logging the user out).
    So a message is cut at :data:`MAX_FLASH_CHARS` and the oldest are dropped while the waiting
    messages take more than :data:`MAX_FLASH_BYTES` as the cookie stores them (JSON, where
    "ä" takes six bytes); the whole cookie stays under 3 KB whatever was typed.
    """
    if len(message) > MAX_FLASH_CHARS:
        message = message[: MAX_FLASH_CHARS - 1] + "…"
    kept = [*request.session.get(_FLASHES, []), message]
    while len(kept) > 1 and _stored_size(kept) > MAX_FLASH_BYTES:
        kept.pop(0)
    while _stored_size(kept) > MAX_FLASH_BYTES:
        kept[0] = kept[0][: len(kept[0]) // 2] + "…"
    request.session[_FLASHES] = kept


def _stored_size(messages: list[str]) -> int:
    return len(json.dumps(messages))  # as SessionMiddleware encodes the session


def pop_flashes(request: Request) -> list[str]:
    """The messages waiting for this session, removed from it."""
    if _FLASHES not in request.session:
        return []  # not touching the session: no new cookie for every page
    return [str(m) for m in request.session.pop(_FLASHES)]


# --- rate limiting -----------------------------------------------------------------------------


class LoginLimiter:
    """Counts failed logins per key in a sliding window, in the database
    (:mod:`harness.store.logins`), so every web worker sees every failure.

    After ``max_failures`` failures within ``window`` the key is blocked until the oldest of
    them leaves the window. Blocked attempts are not counted (they never reach the password).
    The methods query the database: call them from a worker thread, not the event loop.
    """

    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        max_failures: int = NAME_MAX_FAILURES,
        window: timedelta = LIMIT_WINDOW,
    ) -> None:
        if max_failures < 1 or window <= timedelta(0):
            raise ValueError("max_failures must be at least 1 and window positive")
        self.engine = engine
        self.clock = clock
        self.max_failures = max_failures
        self.window = window

    def allow(self, key: str) -> timedelta | None:
        """None when ``key`` may try now; else how long it must wait."""
        return logins.failure_wait(
            self.engine, key, self.clock.now(), max_failures=self.max_failures, window=self.window
        )

    def failed(self, key: str) -> None:
        logins.record_failure(self.engine, key, self.clock.now(), self.window)

    def succeeded(self, key: str) -> None:
        logins.clear_failures(self.engine, key)


def name_key(name: str) -> str:
    """The limiter's key for a user name: every spelling that logs in as a user shares it."""
    return "name:" + user_key(name)


def address_key(address: str) -> str:
    return "addr:" + address


def client_address(request: Request) -> str:
    """The address that connected; behind one of ``web.trusted_proxies``, the one it forwarded
    for (:class:`harness.web.app.WebServer` has uvicorn believe X-Forwarded-For from those
    alone)."""
    return request.client.host if request.client else "unknown"


@dataclass
class AuthState:
    """The login routes' shared state: failure counts and revoked sessions, both in the
    database, so any number of web workers behave as one."""

    engine: Engine
    clock: Clock
    by_name: LoginLimiter = field(init=False)
    by_address: LoginLimiter = field(init=False)

    def __post_init__(self) -> None:
        self.by_name = LoginLimiter(self.engine, self.clock, NAME_MAX_FAILURES, LIMIT_WINDOW)
        self.by_address = LoginLimiter(self.engine, self.clock, ADDRESS_MAX_FAILURES, LIMIT_WINDOW)

    def revoke(self, sid: object, until: datetime) -> None:
        """Refuse this session on every worker from now on (it was logged out)."""
        if isinstance(sid, str) and sid:
            logins.revoke_session(self.engine, sid, until, self.clock.now())


# --- helpers -----------------------------------------------------------------------------------


def _lang(request: Request) -> Lang:
    return page_lang(request)


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def _clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


def _auth_state(request: Request) -> AuthState:
    state: AuthState = request.app.state.auth
    return state
