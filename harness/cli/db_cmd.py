"""``kkik db``: create or bring forward the database schema."""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from harness.cli.common import EXIT_FAILURE, connected_revision, fail, state
from harness.core.config import SecretUnavailable
from harness.core.i18n import Lang, Text
from harness.store import migrate
from harness.store.db import database_url, make_engine

GROUP_HELP = Text("Databasen.", "The database.")
UPGRADE_HELP = Text(
    "Skapa databasen eller uppdatera den till senaste schemaversionen.",
    "Create the database or bring it to the newest schema version.",
)
CURRENT_HELP = Text("Visa databasens schemaversion.", "Show the database's schema version.")
UPGRADED = Text(
    "Databasen {url} har schemaversion {revision}.",
    "Database {url} is at schema version {revision}.",
)
CURRENT = Text(
    "Databasen {url}: version {current} (senaste: {head}).",
    "Database {url}: version {current} (newest: {head}).",
)
NONE = Text("ingen", "none")
UPGRADE_FAILED = Text(
    "Databasen {url} kunde inte uppgraderas: {error}",
    "Could not upgrade database {url}: {error}",
)
SECRET = Text("Hemligheten saknas: {source}: {detail}", "Secret unavailable: {source}: {detail}")


def build(lang: Lang) -> click.Group:
    @click.group("db", help=GROUP_HELP(lang))
    def group() -> None:
        pass

    @group.command("upgrade", help=UPGRADE_HELP(lang))
    @click.pass_context
    def upgrade(ctx: click.Context) -> None:
        cli = state(ctx)
        url, shown, base_dir = _url(ctx)
        engine = make_engine(url)
        connected_revision(cli, engine, url, base_dir)  # cannot be opened: one line, exit 2
        try:
            migrate.upgrade(engine)
            revision = migrate.current_revision(engine)
        except SQLAlchemyError as exc:  # opened, but a migration failed: the database's state
            fail(cli.t(UPGRADE_FAILED, url=shown, error=_first_line(exc)), EXIT_FAILURE)
        finally:
            engine.dispose()
        click.echo(cli.t(UPGRADED, url=shown, revision=revision))

    @group.command("current", help=CURRENT_HELP(lang))
    @click.pass_context
    def current(ctx: click.Context) -> None:
        cli = state(ctx)
        url, shown, base_dir = _url(ctx)
        engine = make_engine(url)
        revision = connected_revision(cli, engine, url, base_dir)
        engine.dispose()
        click.echo(
            cli.t(
                CURRENT,
                url=shown,
                current=revision or cli.t(NONE),
                head=migrate.head_revision(),
            )
        )

    return group


def _url(ctx: click.Context) -> tuple[str, str, Path | None]:
    cli = state(ctx)
    settings, base_dir = cli.settings(required=False)
    try:
        url = database_url(settings.database, base_dir)
    except SecretUnavailable as exc:
        fail(cli.t(SECRET, source=exc.source, detail=exc.detail), EXIT_FAILURE)
    return url, make_url(url).render_as_string(hide_password=True), base_dir


def _first_line(exc: Exception) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__
