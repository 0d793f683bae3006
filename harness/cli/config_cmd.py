"""``kkik config check``: validate a configuration file before anything uses it."""

from __future__ import annotations

import click

from harness.cli.common import DEFAULT_CONFIG, EXIT_FAILURE, EXIT_USAGE, state
from harness.core.config import (
    ConfigError,
    SecretUnavailable,
    load_config,
    resolve_secret,
    secret_sources,
)
from harness.core.config_messages import format_problem
from harness.core.i18n import Lang, Text

GROUP_HELP = Text("Konfigurationen.", "The configuration.")
CHECK_HELP = Text(
    "Kontrollera en konfigurationsfil. Skriver OK, eller en rad per problem (slutkod 2).",
    "Check a configuration file. Prints OK, or one line per problem (exit code 2).",
)
SECRETS_HELP = Text(
    "Kontrollera också att varje hemlighet finns i sin miljövariabel eller fil.",
    "Also check that every secret is present in its environment variable or file.",
)


def build(lang: Lang) -> click.Group:
    @click.group("config", help=GROUP_HELP(lang))
    def group() -> None:
        pass

    @group.command("check", help=CHECK_HELP(lang))
    @click.argument("path", required=False)
    @click.option("--secrets", is_flag=True, help=SECRETS_HELP(lang))
    @click.pass_context
    def check(ctx: click.Context, path: str | None, secrets: bool) -> None:
        cli = state(ctx)
        shown = path or cli.config_path or DEFAULT_CONFIG
        try:
            settings = load_config(shown)
        except ConfigError as exc:
            for problem in exc.problems:
                click.echo(format_problem(problem, cli.lang))
            raise SystemExit(EXIT_USAGE) from None
        if secrets:
            missing = []
            for setting, env, file in secret_sources(settings):
                try:
                    resolve_secret(env=env, file=file)
                except SecretUnavailable as exc:
                    detail = cli.t(exc.detail)
                    missing.append(f"{shown}: {setting}: {exc.source}: {detail}")
            if missing:
                click.echo("\n".join(missing))
                raise SystemExit(EXIT_FAILURE)
        click.echo("OK")

    return group
