"""``kkik serve``: the dashboard and Twilio's webhooks, or the webhooks alone.

``--webhooks-only`` serves just ``/twilio/…``, so only the signed webhooks face the internet
while the dashboard stays on an internal address (a second ``kkik serve`` there). The session
secret that signs login cookies comes from the environment (``web.session_secret_env``).

``--workers N`` (or ``web.workers``) runs N processes on the one port: uvicorn binds the socket
once and hands it to N children, each of which builds the app through :func:`worker_app` (an
app factory named by import string, as uvicorn needs for separate processes) from the same
configuration. The workers share nothing but the database, and need nothing else: logouts and
login limits are stored there (:mod:`harness.store.logins`), flash messages travel in the
signed session cookie, and Twilio's callbacks are deduplicated by the database's unique key.
This process checks the configuration, the secret and the database first, so a mistake is one
line here rather than a worker dying N times.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
from typing import TYPE_CHECKING

import click

from harness.cli.common import EXIT_USAGE, CliContext, assembly, fail, state
from harness.core.config import SESSION_SECRET_MIN_LENGTH, SecretUnavailable, resolve_secret
from harness.core.i18n import Lang, Text, parse_lang
from harness.web.app import WebServer, server_options

if TYPE_CHECKING:
    from fastapi import FastAPI

# How this process tells its workers what to serve (they are spawned, not forked).
WORKER_ENV = "KKIK_SERVE_WORKER"
WORKER_APP = "harness.cli.serve_cmd:worker_app"

T = {
    "help": Text(
        "Kör webbpanelen och Twilios webhooks (Ctrl-C avslutar).",
        "Serve the dashboard and Twilio's webhooks (Ctrl-C stops).",
    ),
    "webhooks_only": Text(
        "Bara Twilios webhooks (för en server som nås från internet).",
        "Only Twilio's webhooks (for a server that faces the internet).",
    ),
    "host": Text("Adress att lyssna på (standard: web.host).", "Address (default: web.host)."),
    "port": Text("Port (standard: web.port).", "Port (default: web.port)."),
    "workers": Text(
        "Antal processer som delar porten (standard: web.workers); de delar inloggningar och "
        "spärrar genom databasen.",
        "Number of processes sharing the port (default: web.workers); they share logins and "
        "lock-outs through the database.",
    ),
    "no_secret": Text(
        "web.session_secret_env: miljövariabeln {env} saknas; den behövs för inloggningen "
        "(minst {least} tecken)",
        "web.session_secret_env: the environment variable {env} is not set; the login needs it "
        "(at least {least} characters)",
    ),
    "short_secret": Text(
        "web.session_secret_env: {env} har bara {length} tecken; inloggningen behöver minst "
        "{least} (gör en ny, t.ex. med `openssl rand -base64 48`)",
        "web.session_secret_env: {env} has only {length} characters; the login needs at least "
        "{least} (make a new one, e.g. with `openssl rand -base64 48`)",
    ),
    "no_phone": Text(
        "--webhooks-only kräver en [phone]-sektion i konfigurationen",
        "--webhooks-only needs a [phone] section in the configuration",
    ),
    "serving": Text("Lyssnar på {url} (Ctrl-C avslutar).", "Listening on {url} (Ctrl-C stops)."),
    "serving_workers": Text(
        "Lyssnar på {url} med {workers} processer (Ctrl-C avslutar).",
        "Listening on {url} with {workers} processes (Ctrl-C stops).",
    ),
}


def build(lang: Lang) -> click.Command:
    @click.command("serve", help=T["help"](lang))
    @click.option("--webhooks-only", is_flag=True, help=T["webhooks_only"](lang))
    @click.option("--host", default=None, help=T["host"](lang))
    @click.option("--port", type=click.IntRange(0, 65535), default=None, help=T["port"](lang))
    @click.option("--workers", type=click.IntRange(1, 64), default=None, help=T["workers"](lang))
    @click.pass_context
    def serve_cmd(
        ctx: click.Context,
        webhooks_only: bool,
        host: str | None,
        port: int | None,
        workers: int | None,
    ) -> None:
        cli = state(ctx)
        settings, _ = cli.settings(required=True)
        app = _app(cli, webhooks_only=webhooks_only)
        host = host or settings.web.host
        port = settings.web.port if port is None else port
        workers = settings.web.workers if workers is None else workers
        if workers == 1:
            asyncio.run(_serve(cli.t(T["serving"], url="{url}"), app, host, port))
            return
        # The workers build their own app and engine; this process only supervises them.
        del app
        if cli.assembled is not None:
            cli.assembled.engine.dispose()
        _serve_workers(cli, webhooks_only, host, port, workers)

    return serve_cmd


def _app(cli: CliContext, *, webhooks_only: bool) -> FastAPI:
    """The app to serve, after checking what it needs; a mistake exits 2 with one line."""
    settings, _ = cli.settings(required=True)
    secret = None
    if webhooks_only:
        if settings.phone is None:
            fail(cli.t(T["no_phone"]), EXIT_USAGE)
    else:
        env = settings.web.session_secret_env
        try:
            secret = resolve_secret(env=env)
        except SecretUnavailable:
            secret = None
        least = SESSION_SECRET_MIN_LENGTH
        if not secret:
            fail(cli.t(T["no_secret"], env=env, least=least), EXIT_USAGE)
        if len(secret) < least:
            fail(cli.t(T["short_secret"], env=env, length=len(secret), least=least),
                 EXIT_USAGE)  # fmt: skip
    # The call console places and ends calls, and plays recordings, through the API.
    return assembly(cli, required=True).web_app(
        dashboard_secret=secret, console=settings.phone is not None and not webhooks_only
    )


def worker_app() -> FastAPI:
    """uvicorn's app factory in each worker process of ``kkik serve --workers N``: the same
    app the command checked, built from the same configuration."""
    from uvicorn.config import STARTUP_FAILURE

    spec = json.loads(os.environ[WORKER_ENV])
    cli = CliContext(lang=parse_lang(spec["lang"]) or "sv", config_path=spec["config"])
    try:
        return _app(cli, webhooks_only=bool(spec["webhooks_only"]))
    except SystemExit:
        # The configuration changed since the command checked it: uvicorn stops every worker
        # on this exit code instead of starting the failing one again and again.
        raise SystemExit(STARTUP_FAILURE) from None


async def _serve(message: str, app: object, host: str, port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with WebServer(app, host, port) as web:  # type: ignore[arg-type]
        click.echo(message.format(url=web.url + "/"))
        await stop.wait()


def _serve_workers(
    cli: CliContext, webhooks_only: bool, host: str, port: int, workers: int
) -> None:
    """``workers`` processes on one socket, supervised by uvicorn until SIGINT or SIGTERM (a
    worker that dies is replaced)."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    settings, _ = cli.settings(required=True)
    os.environ[WORKER_ENV] = json.dumps(
        {"lang": cli.lang, "config": cli.config_path, "webhooks_only": webhooks_only}
    )
    config = uvicorn.Config(
        WORKER_APP, factory=True, host=host, port=port, workers=workers,
        **server_options(settings),
    )  # fmt: skip
    sock = config.bind_socket()
    try:
        bound = sock.getsockname()[1]
        click.echo(cli.t(T["serving_workers"], url=f"http://{host}:{bound}/", workers=workers))
        Multiprocess(config, sockets=[sock]).run()
    finally:
        sock.close()
