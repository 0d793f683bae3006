"""``kkik serve``: the dashboard and Twilio's webhooks, or the webhooks alone.

``--webhooks-only`` serves just ``/twilio/…``, so only the signed webhooks face the internet
while the dashboard stays on an internal address (a second ``kkik serve`` there). The session
secret that signs login cookies comes from the environment (``web.session_secret_env``).
"""

from __future__ import annotations

import asyncio
import signal

import click

from harness.cli.common import EXIT_USAGE, assembly, fail, state
from harness.core.config import SESSION_SECRET_MIN_LENGTH, SecretUnavailable, resolve_secret
from harness.core.i18n import Lang, Text
from harness.web.app import WebServer

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
}


def build(lang: Lang) -> click.Command:
    @click.command("serve", help=T["help"](lang))
    @click.option("--webhooks-only", is_flag=True, help=T["webhooks_only"](lang))
    @click.option("--host", default=None, help=T["host"](lang))
    @click.option("--port", type=click.IntRange(0, 65535), default=None, help=T["port"](lang))
    @click.pass_context
    def serve_cmd(
        ctx: click.Context, webhooks_only: bool, host: str | None, port: int | None
    ) -> None:
        cli = state(ctx)
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
        app = assembly(cli, required=True).web_app(
            dashboard_secret=secret, console=settings.phone is not None and not webhooks_only
        )
        asyncio.run(_serve(cli.t(T["serving"], url="{url}"), app, host or settings.web.host,
                           settings.web.port if port is None else port))  # fmt: skip

    return serve_cmd


async def _serve(message: str, app: object, host: str, port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with WebServer(app, host, port) as web:  # type: ignore[arg-type]
        click.echo(message.format(url=web.url + "/"))
        await stop.wait()
