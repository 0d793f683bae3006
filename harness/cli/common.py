"""What every command shares: the chosen language, the clock, and loading the config file."""

from __future__ import annotations

import gc
import getpass
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn
from zoneinfo import ZoneInfo

import click

from harness.core.clock import Clock, SystemClock
from harness.core.i18n import Lang, Text

if TYPE_CHECKING:
    # Only for the annotations. Importing them here would load pydantic, SQLAlchemy, Alembic
    # and the channels for every command, `kkik --version` included (issue 16, item 8): each
    # function below imports what it uses when it runs.
    from sqlalchemy import Engine

    from harness.assembly import Assembly
    from harness.core.config import Settings
    from harness.services.base import Context, ServiceError
    from harness.store.db import DatabaseUnavailable

CONFIG_ENV = "KKIK_CONFIG"
DEFAULT_CONFIG = "config.toml"

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


@dataclass
class CliContext:
    lang: Lang
    config_path: str | None = None  # as given by --config or KKIK_CONFIG; None means default
    clock: Clock = field(default_factory=SystemClock)
    assembled: Assembly | None = None  # made by assembly() on first use
    exiting: bool = False  # the process ends with this command (the kkik script, not a test)
    # Every engine the command opened (open_database), disposed when it ends (cli.run).
    engines: list[Engine] = field(default_factory=list)

    def t(self, text: Text, **fields: object) -> str:
        return text(self.lang, **fields)

    def settings(self, *, required: bool) -> tuple[Settings, Path | None]:
        """Load the configuration, or exit 2 listing every problem.

        With ``required=False`` a missing *default* file means built-in defaults; with
        ``required=True`` it is one line saying how to make one (issue 16: ``kkik status``
        created an empty database in the current folder instead). A file the user named
        explicitly must always exist.
        """
        from harness.core.config import ConfigError, Settings, load_config

        path = self.config_path or DEFAULT_CONFIG
        if self.config_path is None and not Path(path).exists():
            if not required:
                return Settings(), None
            fail(self.t(NO_CONFIG, file=path, folder=Path.cwd()), EXIT_USAGE)
        try:
            settings = load_config(path)
        except ConfigError as exc:
            from harness.core.config_messages import format_problem

            for problem in exc.problems:
                click.echo(format_problem(problem, self.lang), err=True)
            raise SystemExit(EXIT_USAGE) from None
        return settings, Path(path).resolve().parent


def state(ctx: click.Context) -> CliContext:
    obj = ctx.find_root().obj
    assert isinstance(obj, CliContext)
    return obj


def actor() -> str:
    """Who runs this command, for the audit log: the terminal's user."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def fail(message: str, code: int = EXIT_FAILURE) -> NoReturn:
    click.echo(message, err=True)
    raise SystemExit(code)


def assembly(cli: CliContext, *, required: bool = False) -> Assembly:
    """This command's process, assembled once (harness.assembly): the configuration read and
    checked, the database opened at the newest schema, on the command's clock."""
    if cli.assembled is None:
        from harness.assembly import Assembly

        settings, base_dir = cli.settings(required=required)
        engine, _ = open_database(cli, settings, base_dir)
        path = Path(cli.config_path or DEFAULT_CONFIG)
        cli.assembled = Assembly(
            settings,
            engine,
            cli.clock,
            base_dir=base_dir,
            config_path=path.resolve() if path.exists() else None,
        )
    return cli.assembled


@contextmanager
def no_collection(cli: CliContext) -> Iterator[None]:
    """The cyclic garbage collector off while a short read-only command runs.

    A cold command's imports make hundreds of thousands of objects (SQLAlchemy's and pydantic's
    classes), and every few hundred allocations the collector walks the young ones again:
    a tenth of a cold ``kkik status`` (issue 16, item 8), with nothing to free in a process
    that reads a bounded number of rows and exits. Turned on again, the collector would walk
    everything allocated meanwhile at once, so it stays off when the process ends with the
    command (:func:`harness.cli.main` freezes what is left); a caller that goes on (the tests
    run the CLI in their own process) gets it back as it was.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled and not cli.exiting:
            gc.enable()


def service_context(cli: CliContext) -> Context:
    """The services' view of this command: the assembled process and the terminal's user."""
    return assembly(cli).context(actor())


def fail_service(cli: CliContext, error: ServiceError, zone: str = "Europe/Stockholm") -> NoReturn:
    """A service's refusal as one line in the user's language: exit 2 for a mistake in what
    was asked, 1 when the state of things refuses it."""
    from harness.messages import USAGE, describe

    fail(describe(error, cli.lang, zone), EXIT_USAGE if error.code in USAGE else EXIT_FAILURE)


#: Yes and no as a person types them in either language (``--direct-answer ja``, ``--answered no``).
YES_NO_WORDS = {"ja": True, "yes": True, "nej": False, "no": False}


def config_path_from_env() -> str | None:
    return os.environ.get(CONFIG_ENV) or None


OLD_DB = Text(
    "Databasen har schemaversion {current}, behöver {head}: kör `kkik db upgrade`.",
    "The database is at schema version {current}, needs {head}: run `kkik db upgrade`.",
)
NO_CONFIG = Text(
    "{file}: ingen konfigurationsfil i {folder}; kopiera config.example.toml till {file} och "
    "fyll i den, eller ange filen med --config FIL eller KKIK_CONFIG",
    "{file}: no configuration file in {folder}; copy config.example.toml to {file} and fill "
    "it in, or name the file with --config FILE or KKIK_CONFIG",
)
NO_SECRET = Text("Hemligheten saknas: {source}: {detail}", "Secret unavailable: {source}: {detail}")


def open_database(cli: CliContext, settings: Settings, base_dir: Path | None) -> tuple[Engine, str]:
    """The configured database, checked to be at the newest schema; and its URL to show."""
    from sqlalchemy.engine import make_url

    from harness.core.config import SecretUnavailable
    from harness.store import migrate
    from harness.store.db import database_url, make_engine

    try:
        url = database_url(settings.database, base_dir)
    except SecretUnavailable as exc:
        fail(cli.t(NO_SECRET, source=exc.source, detail=exc.detail), EXIT_FAILURE)
    engine = make_engine(url)
    cli.engines.append(engine)
    current, head = connected_revision(cli, engine, url, base_dir), migrate.head_revision()
    if current != head:
        fail(cli.t(OLD_DB, current=current or "–", head=head), EXIT_FAILURE)
    return engine, make_url(url).render_as_string(hide_password=True)


def connected_revision(
    cli: CliContext, engine: Engine, url: str, base_dir: Path | None
) -> str | None:
    """Connect and return the schema version; a database that cannot be opened exits 2.

    The first connection is where a wrong path, a file that is no database or an unreachable
    server shows; every command opens the database through here (issue 15, L2).
    """
    from sqlalchemy.exc import SQLAlchemyError

    from harness.store import migrate
    from harness.store.db import unavailable

    try:
        return migrate.current_revision(engine)
    except SQLAlchemyError as exc:
        engine.dispose()
        fail(cannot_open(cli, unavailable(url, exc), base_dir), EXIT_USAGE)


def cannot_open(cli: CliContext, problem: DatabaseUnavailable, base_dir: Path | None) -> str:
    """``config.toml: database.url: cannot open the database: ...`` in the user's language."""
    # base_dir is None when no file was read: the built-in default applies.
    from harness.store.db import describe_unavailable

    source = f"{cli.config_path or DEFAULT_CONFIG}: " if base_dir is not None else ""
    return f"{source}database.url: {describe_unavailable(problem, cli.lang)}"


BAD_TIME = Text(
    "ogiltig tidpunkt {value!r}; skriv t.ex. 2026-04-02T15:00 eller 2026-04-02T13:00Z",
    "invalid time {value!r}; write e.g. 2026-04-02T15:00 or 2026-04-02T13:00Z",
)


class InstantType(click.ParamType[datetime]):
    """An ISO 8601 instant on the command line; see :func:`in_zone` for one without offset."""

    name = "ISO"

    def __init__(self, lang: Lang) -> None:
        self.lang = lang

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            return datetime.fromisoformat(str(value).strip())
        except ValueError:
            self.fail(BAD_TIME(self.lang, value=value), param, ctx)


BAD_DATE = Text(
    "ogiltigt datum {value!r}; skriv t.ex. 2026-05-15",
    "invalid date {value!r}; write e.g. 2026-05-15",
)


class DayType(click.ParamType[date]):
    """A date on the command line (ISO 8601, e.g. 2026-05-15)."""

    name = "DATUM"

    def __init__(self, lang: Lang) -> None:
        self.lang = lang
        self.name = "DATUM" if lang == "sv" else "DATE"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> date:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value).strip())
        except ValueError:
            self.fail(BAD_DATE(self.lang, value=value), param, ctx)


def in_zone(value: datetime, zone: str) -> datetime:
    """A time typed without an offset is what a Swedish user reads off a clock: local time."""
    return value.replace(tzinfo=ZoneInfo(zone)) if value.tzinfo is None else value
