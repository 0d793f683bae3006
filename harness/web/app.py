"""Build the ASGI app from the settings; serve it with uvicorn on the configured address.

The app holds no state of its own: handlers write to the database and answer. Twilio's
webhooks are mounted only when a phone channel is configured, and every one of them checks the
request's signature first (:mod:`harness.web.twilio_hooks`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import PlainTextResponse
from sqlalchemy import Engine

from harness.campaign.runner import Runner
from harness.core.clock import Clock
from harness.core.config import Settings, resolve_secret
from harness.rules.calendars import work_calendar
from harness.store.models import Channel
from harness.web.twilio_hooks import TwilioHooks
from probes.phone_call import PhoneProbe

log = logging.getLogger(__name__)


def create_app(
    settings: Settings,
    engine: Engine,
    clock: Clock,
    *,
    auth_token: str | None = None,
    webhooks: bool = True,
    dashboard_secret: str | None = None,
    config_path: Path | None = None,
    phone: PhoneProbe | None = None,
    console_runner: Callable[[PhoneProbe], Runner] | None = None,
) -> FastAPI:
    """The web app: Twilio's webhooks (when a phone channel is configured and ``webhooks``),
    and the dashboard when ``dashboard_secret`` (the session-signing secret) is given.

    ``phone`` lets the dashboard's call console place and end calls and play recordings."""
    app = FastAPI(title="kkik-harness", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.engine = engine
    app.state.clock = clock
    app.state.language = settings.language
    app.state.config_path = config_path
    app.state.phone = phone
    # How the call console gets a runner over the phone channel (harness.assembly passes the
    # process's own; without one the console makes the plain runner below).
    app.state.console_runner = console_runner or (
        lambda phone: Runner(engine, clock, {Channel.PHONE: phone}, work_calendar(settings))
    )
    app.add_exception_handler(OverflowError, _id_out_of_range)
    if dashboard_secret is not None:
        _dashboard(app, settings, engine, clock, dashboard_secret)
    phone_settings = settings.phone
    if phone_settings is not None and webhooks:
        token = auth_token or resolve_secret(
            env=phone_settings.auth_token_env, file=phone_settings.auth_token_file
        )
        if not token:
            raise ValueError("phone.auth_token is not available")
        hooks = TwilioHooks(settings, engine, clock, token)
        app.include_router(hooks.router)
        app.state.twilio = hooks
    return app


async def _id_out_of_range(request: Request, exc: Exception) -> Response:
    """404 for an id no row can have: SQLite refuses integers beyond 64 bits with OverflowError.

    Path and query ids are plain ``int`` (unbounded in Python), so ``/probe/1e30`` written out
    would otherwise be a 500. Any other overflow is a bug and stays one.
    """
    if "too large to convert" not in str(exc):
        raise exc
    log.info("no such row: %s %s (%s)", request.method, request.url.path, exc)
    if getattr(request.app.state, "dashboard", False):
        from harness.web.errors import error_page

        return error_page(request, 404)  # the site's own page, like any other unknown address
    return PlainTextResponse("Not Found", status_code=404)


def _dashboard(app: FastAPI, settings: Settings, engine: Engine, clock: Clock, secret: str) -> None:
    from fastapi.staticfiles import StaticFiles

    from harness.campaign.by_target import TargetPieces
    from harness.web import (
        call_pages,
        console,
        log_page,
        mail_pages,
        municipality_page,
        pages,
        user_admin,
    )
    from harness.web.derived import DerivedCache
    from harness.web.errors import install_error_pages
    from harness.web.limits import FormLimits
    from harness.web.login import install_auth
    from harness.web.page_base import CSP

    app.state.dashboard = True
    # Scores, charts and the long lists, made once per data version (harness.web.derived).
    app.state.derived = DerivedCache()
    # Their parts per municipality, so a reply or a callback makes one again, not all 290
    # (harness.campaign.by_target).
    app.state.report_pieces = TargetPieces()
    app.state.log_pieces = TargetPieces()
    app.state.call_pieces = TargetPieces()
    # 404, 405, 422 and 500 as pages of the site, in the visitor's language.
    install_error_pages(app)
    # Added before the sessions (so inside them): a refusal is a page in the user's language.
    app.add_middleware(FormLimits)
    install_auth(
        app, engine, clock, secret=secret, https=settings.web.public_url.startswith("https")
    )
    app.include_router(pages.router)
    app.include_router(municipality_page.router)
    app.include_router(log_page.router)
    app.include_router(mail_pages.router)
    app.include_router(call_pages.router)
    app.include_router(console.router)
    app.include_router(user_admin.router)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        # The report and the call console set their own policy; every other page the strict one.
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if not request.url.path.startswith("/static/"):
            # Pages and downloads hold personal data (mail, names, recordings): no copy may
            # stay in a browser's or a proxy's cache. Only our stylesheet and script may.
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def server_options(settings: Settings | None) -> dict[str, Any]:
    """uvicorn's options for the harness's web app, in one process or in several.

    ``X-Forwarded-For`` and ``X-Forwarded-Proto`` are believed only from ``web.trusted_proxies``:
    uvicorn's default believes any local client, so anyone on the machine could pick the address
    the login limiter counts against. ``X-Forwarded-Host`` is never read (uvicorn does not), and
    nothing forwarded reaches Twilio's signature check, which uses ``web.public_url`` alone."""
    trusted = list(settings.web.trusted_proxies) if settings is not None else []
    return {
        "lifespan": "off",
        "log_level": "warning",
        "access_log": False,
        "proxy_headers": bool(trusted),
        "forwarded_allow_ips": trusted or None,
    }


class WebServer:
    """uvicorn in the current event loop, on loopback port 0 or the configured one, with
    :func:`server_options`."""

    def __init__(self, app: FastAPI, host: str = "127.0.0.1", port: int = 0) -> None:
        settings: Settings | None = getattr(app.state, "settings", None)
        self.config = uvicorn.Config(app, host=host, port=port, **server_options(settings))
        self.server = uvicorn.Server(self.config)
        self._task: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        sockets = self.server.servers[0].sockets
        return int(sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://{self.config.host}:{self.port}"

    async def start(self) -> None:
        self._task = asyncio.create_task(self.server.serve())
        while not self.server.started:
            if self._task.done():
                await self._task  # raises the bind error
                raise RuntimeError("the web server stopped while starting")
            await asyncio.sleep(0.01)  # noqa: TID251 - waiting for a real socket, not for time

    async def stop(self) -> None:
        self.server.should_exit = True
        if self._task is not None:
            await self._task

    async def __aenter__(self) -> WebServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
