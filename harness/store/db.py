"""Database engine and the one datetime column type.

SQLite is the default (one file, WAL journal, foreign keys enforced); PostgreSQL is used by URL.
The schema is owned by Alembic migrations (``kkik db upgrade``), never by ``create_all`` in
production code, so an existing campaign database can always be brought forward.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import DateTime, Engine, create_engine, event, inspect
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.types import TypeDecorator

from harness.core.config import DatabaseSettings, resolve_secret
from harness.core.i18n import Lang, Text


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always an aware UTC datetime in Python, whatever the database.

    SQLite has no time zone type and SQLAlchemy drops the offset on write, so ``12:00+01:00``
    would come back as a naive ``12:00``: an hour wrong and silently. This type refuses naive
    values, converts to UTC before writing and re-attaches UTC when reading.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime refused: {value.isoformat()} has no time zone")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            # Stored as text without offset; the column's contract is that it is UTC.
            return value.replace(tzinfo=None)
        return value

    def process_result_value(
        self,
        value: datetime | None,
        dialect: Dialect,  # noqa: ARG002 (SQLAlchemy signature)
    ) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def replace_nul(row: Any) -> None:
    """Replace NUL characters in a row's text columns with U+FFFD, in place.

    PostgreSQL's text type cannot hold NUL (SQLite can), and mail is input from anyone: a
    malformed message with a NUL in its body or headers must be stored on both backends, the
    same way. The raw message keeps the original bytes.
    """
    for column in row.__table__.columns:
        value = getattr(row, column.name, None)
        if isinstance(value, str) and "\x00" in value:
            setattr(row, column.name, value.replace("\x00", "\ufffd"))


def database_url(settings: DatabaseSettings, base_dir: Path | None = None) -> str:
    """Return the URL to connect to, with the password from the environment if one is named.

    A relative SQLite path is taken relative to ``base_dir`` (the config file's folder), so a
    campaign's database does not move when the command is run from another directory.
    """
    url = make_url(settings.url)
    if url.get_backend_name() == "sqlite":
        if url.drivername == "sqlite" and url.database and url.database != ":memory:":
            path = Path(url.database)
            if not path.is_absolute() and base_dir is not None:
                return url.set(database=str(base_dir / path)).render_as_string()
        return settings.url
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    if settings.password_env:
        url = url.set(password=resolve_secret(env=settings.password_env))
    return url.render_as_string(hide_password=False)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; on SQLite turn on WAL, foreign keys and a busy timeout."""
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys = ON")
        # WAL lets the web app read while the runner writes; the busy timeout makes a briefly
        # locked database wait instead of failing a probe.
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA busy_timeout = 10000")
        cursor.execute("PRAGMA synchronous = NORMAL")
    finally:
        cursor.close()


Unavailable = Literal[
    "no_folder", "not_a_folder", "is_folder", "no_permission", "not_database", "sqlite", "server"
]


class DatabaseUnavailable(Exception):
    """The configured database cannot be opened (issue 15, L2: one line, not a traceback).

    ``reason`` says why, for a message in the user's language; ``where`` is the file, folder or
    server URL (without password) it concerns and ``detail`` the driver's own first line.
    """

    def __init__(self, reason: Unavailable, where: str, detail: str) -> None:
        super().__init__(f"{where}: {detail}")
        self.reason: Unavailable = reason
        self.where = where
        self.detail = detail


CANNOT_OPEN = Text("kan inte öppna databasen: {reason}", "cannot open the database: {reason}")
WHY_UNAVAILABLE: dict[Unavailable, Text] = {
    "no_folder": Text("mappen {where} finns inte", "the folder {where} does not exist"),
    "not_a_folder": Text("{where} är ingen mapp", "{where} is not a folder"),
    "is_folder": Text(
        "{where} är en mapp, inte en databasfil", "{where} is a folder, not a database file"
    ),
    "no_permission": Text("behörighet saknas till {where}", "permission denied for {where}"),
    "not_database": Text("{where} är ingen SQLite-databas", "{where} is not an SQLite database"),
    # The driver's own words, quoted as they came.
    "sqlite": Text("{where}: {detail}", "{where}: {detail}"),
    "server": Text("{where}: {detail}", "{where}: {detail}"),
}


def describe_unavailable(problem: DatabaseUnavailable, lang: Lang) -> str:
    """``cannot open the database: <why>`` in ``lang`` (the CLI and ``kkik doctor``)."""
    why = WHY_UNAVAILABLE[problem.reason](lang, where=problem.where, detail=problem.detail)
    return CANNOT_OPEN(lang, reason=why)


def unavailable(url: str, exc: SQLAlchemyError) -> DatabaseUnavailable:
    """Why connecting to ``url`` failed with ``exc``, as exactly as the file system tells.

    SQLite says "unable to open database file" whether the folder is missing, the path is a
    folder or permission is lacking, so a file database is looked at to name the cause.
    """
    parsed = make_url(url)
    error = getattr(exc, "orig", None) or exc
    lines = str(error).strip().splitlines() or [type(error).__name__]
    # psycopg prefixes every connection error; "FATAL:  ..." keeps its double space.
    detail = " ".join(lines[0].split()).removeprefix("connection failed: ")
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return DatabaseUnavailable("server", parsed.render_as_string(hide_password=True), detail)
    path = Path(str(parsed.database))
    folder = path.parent
    if getattr(error, "sqlite_errorname", "") == "SQLITE_NOTADB":
        return DatabaseUnavailable("not_database", str(path), detail)
    if path.is_dir():
        return DatabaseUnavailable("is_folder", str(path), detail)
    if not folder.exists():
        return DatabaseUnavailable("no_folder", str(folder), detail)
    if not folder.is_dir():
        return DatabaseUnavailable("not_a_folder", str(folder), detail)
    if path.exists():
        allowed = os.access(path, os.R_OK | os.W_OK)
    else:
        allowed = os.access(folder, os.W_OK | os.X_OK)
    if not allowed:
        return DatabaseUnavailable("no_permission", str(path if path.exists() else folder), detail)
    return DatabaseUnavailable("sqlite", str(path), detail)


class DatabaseNotEmpty(Exception):
    """The database already holds tables; ``where`` is its URL without password.

    The demo (and anything else that wants a fresh database) refuses it rather than wipe what
    might be a real campaign.
    """

    def __init__(self, where: str, tables: list[str]) -> None:
        super().__init__(f"{where}: {len(tables)} tables")
        self.where = where
        self.tables = tables


NOT_EMPTY = Text(
    "Databasen {where} är inte tom ({n} tabeller); använd en ny, tom databas. Inget ändrat.",
    "The database {where} is not empty ({n} tables); use a new, empty database. Nothing changed.",
)


def require_empty(url: str) -> None:
    """Raise DatabaseNotEmpty if ``url``'s database has any table, DatabaseUnavailable if it
    cannot be reached. A missing SQLite file counts as empty (and is not created here)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database
        if not path or path == ":memory:" or not Path(path).exists():
            return
    engine = make_engine(url)
    try:
        tables = inspect(engine).get_table_names()
    except SQLAlchemyError as exc:
        raise unavailable(url, exc) from None
    finally:
        engine.dispose()
    if tables:
        raise DatabaseNotEmpty(parsed.render_as_string(hide_password=True), sorted(tables))
