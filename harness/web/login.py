"""The login and logout routes, and the pages for 401, 403 and CSRF failures.

Sessions, CSRF tokens, roles and the login limits are :mod:`harness.web.auth`; this module only
answers the requests that use them, with the pages :mod:`harness.web.render` draws.
"""

from __future__ import annotations

import logging
import math
import secrets
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from sqlalchemy import Engine
from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from harness.core.accounts import (
    MAX_PASSWORD_LENGTH,
    ROLES,
    hash_password,
    password_needs_rehash,
    user_key,
    valid_user_name,
    verify_password,
)
from harness.core.clock import Clock
from harness.store.models import User
from harness.web.auth import (
    _AUTH_AT,
    _CSRF,
    _PW,
    _SID,
    _UID,
    _USER_CACHE,
    SESSION_LIFETIME,
    AuthState,
    CsrfFailed,
    LoginRequired,
    RoleTooLow,
    UserView,
    _auth_state,
    _clock,
    _end_login,
    _engine,
    _fingerprint,
    _lang,
    address_key,
    client_address,
    flash,
    install_sessions,
    name_key,
    require_csrf,
)
from harness.web.render import render
from harness.web.texts import t

log = logging.getLogger(__name__)


# --- the login routes --------------------------------------------------------------------------


def safe_next(value: str | None) -> str:
    """Where to go after logging in: a local path only (``/x``), never ``//host`` or a URL."""
    if (
        not value
        or not value.startswith("/")
        or value.startswith("//")
        or "\\" in value  # browsers read "/\host" as "//host"
        or any(not c.isprintable() or c.isspace() for c in value)
        or len(value) > 2000
    ):
        return "/"
    return value


def install_auth(app: FastAPI, engine: Engine, clock: Clock, *, secret: str, https: bool) -> None:
    """Sessions, the login and logout routes, and the answers for 401/403 and CSRF failures."""
    if getattr(app.state, "engine", None) is None:
        app.state.engine = engine
    if getattr(app.state, "clock", None) is None:
        app.state.clock = clock
    app.state.auth = AuthState(app.state.engine, app.state.clock)
    _dummy_hash()  # made now, so the first login with an unknown name takes no longer
    install_sessions(app, secret, https=https)
    router = APIRouter()
    router.add_api_route("/login", _login_page, methods=["GET"])
    router.add_api_route(
        "/login", _login_submit, methods=["POST"], dependencies=[Depends(require_csrf)]
    )
    router.add_api_route("/logout", _logout, methods=["POST"], dependencies=[Depends(require_csrf)])
    app.include_router(router)
    app.add_exception_handler(LoginRequired, _on_login_required)
    app.add_exception_handler(RoleTooLow, _on_role_too_low)
    app.add_exception_handler(CsrfFailed, _on_csrf_failed)


def _login_response(
    request: Request, *, error: str | None = None, name: str = "", target: str = "/", status: int
) -> Response:
    response = render(
        request, "login.html", {"error": error, "name": name, "next": target}, status=status
    )
    response.headers["Cache-Control"] = "no-store"
    return response


async def _login_page(request: Request) -> Response:
    return _login_response(request, target=safe_next(request.query_params.get("next")), status=200)


async def _login_submit(request: Request) -> Response:
    lang = _lang(request)
    form = await request.form()
    name, password = _field(form, "name").strip(), _field(form, "password")
    target = safe_next(_field(form, "next"))
    state = _auth_state(request)
    address = client_address(request)
    keys = (name_key(name), address_key(address))
    waits = [wait for wait in await run_in_threadpool(_waits, state, keys) if wait is not None]
    if waits:
        seconds = max(1, math.ceil(max(waits).total_seconds()))
        log.warning("login blocked for %r from %s (%d s)", name[:100], address, seconds)
        response = _login_response(
            request,
            error=t("login_limited", lang, minutes=math.ceil(seconds / 60)),
            name=name,
            target=target,
            status=429,
        )
        response.headers["Retry-After"] = str(seconds)
        return response

    now = _clock(request).now()
    user = await run_in_threadpool(_check_login, _engine(request), name, password, now)
    if user is None:
        await run_in_threadpool(_failed, state, keys)
        log.info("login failed for %r from %s", name[:100], address)
        return _login_response(
            request, error=t("login_failed", lang), name=name, target=target, status=400
        )
    await run_in_threadpool(state.by_name.succeeded, keys[0])
    view, password_hash = user
    _end_login(request)  # a new session: whatever was known before logging in is dropped
    request.session.update(
        {
            _UID: view.id,
            _SID: secrets.token_urlsafe(16),
            _AUTH_AT: now.timestamp(),
            _PW: _fingerprint(password_hash),
            _CSRF: secrets.token_urlsafe(32),
        }
    )
    setattr(request.state, _USER_CACHE, view)
    log.info("login: %s (%s) from %s", view.name, view.role, address)
    return RedirectResponse(target, status_code=303)


def _waits(state: AuthState, keys: tuple[str, str]) -> tuple[timedelta | None, ...]:
    """How long the name and the address must each wait (None: not at all)."""
    return state.by_name.allow(keys[0]), state.by_address.allow(keys[1])


def _failed(state: AuthState, keys: tuple[str, str]) -> None:
    state.by_name.failed(keys[0])
    state.by_address.failed(keys[1])


def _check_login(
    engine: Engine, name: str, password: str, now: datetime
) -> tuple[UserView, str] | None:
    """The user and their password hash when ``name`` and ``password`` match an enabled user.

    The hash is verified even for unknown names, so the answer takes as long either way.
    """
    user = _find_user(engine, name) if valid_user_name(name) else None
    stored = user.password_hash if user is not None else _dummy_hash()
    ok = len(password) <= MAX_PASSWORD_LENGTH and verify_password(stored, password)
    if user is None or user.id is None or not ok or user.disabled or user.role not in ROLES:
        return None
    with Session(engine) as db:
        row = db.get(User, user.id)
        if row is None:
            return None
        if password_needs_rehash(row.password_hash):
            row.password_hash = hash_password(password)
        row.last_login_at = now
        db.add(row)
        db.commit()
        return UserView(user.id, row.name, row.role), row.password_hash


def _find_user(engine: Engine, name: str) -> User | None:
    """By exact name, else the one whose :func:`user_key` is the same (names are few)."""
    with Session(engine) as db:
        exact = db.exec(select(User).where(User.name == name)).first()
        if exact is not None:
            return exact
        key = user_key(name)
        same = [u for u in db.exec(select(User)).all() if user_key(u.name) == key]
    return same[0] if len(same) == 1 else None


_DUMMY: list[str] = []


def _dummy_hash() -> str:
    if not _DUMMY:
        _DUMMY.append(hash_password(secrets.token_urlsafe(16)))
    return _DUMMY[0]


async def _logout(request: Request) -> Response:
    lang = _lang(request)
    auth_at = request.session.get(_AUTH_AT)
    if isinstance(auth_at, int | float):
        until = datetime.fromtimestamp(auth_at, UTC) + SESSION_LIFETIME
        await run_in_threadpool(_auth_state(request).revoke, request.session.get(_SID), until)
    _end_login(request)
    flash(request, t("logged_out", lang))
    return RedirectResponse("/login", status_code=303)


async def _on_login_required(request: Request, exc: Exception) -> Response:
    del exc
    if request.method in ("GET", "HEAD"):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse("/login?" + urlencode({"next": target}), status_code=303)
    return PlainTextResponse(t("login_required", _lang(request)), status_code=401)


async def _on_role_too_low(request: Request, exc: Exception) -> Response:
    if isinstance(exc, RoleTooLow):
        log.info("refused %s %s: %s", request.method, request.url.path, exc)
    return _message_page(request, t("forbidden", _lang(request)))


async def _on_csrf_failed(request: Request, exc: Exception) -> Response:
    cross_site = isinstance(exc, CsrfFailed) and exc.cross_site
    message = t("csrf_cross_site" if cross_site else "csrf_failed", _lang(request))
    if request.url.path == "/login":
        return _login_response(request, error=message, status=403)
    return _message_page(request, message)


def _message_page(request: Request, message: str) -> Response:
    context = {"error": message, "show_form": False, "heading": message}
    return render(request, "login.html", context, status=403)


def _field(form: FormData, key: str) -> str:
    value = form.get(key)
    return value if isinstance(value, str) else ""
