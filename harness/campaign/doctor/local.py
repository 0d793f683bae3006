"""What ``kkik doctor`` finds on this machine: the secrets and the database.

Every secret the configuration points at must be where it says and not empty; the dashboard's
session secret must also be long enough to sign cookies safely (the limit ``kkik serve`` and the
web app hold it to). The database must open and be at the newest schema.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from harness.campaign.doctor.check import Check
from harness.core.config import (
    SESSION_SECRET_MIN_LENGTH,
    SecretUnavailable,
    Settings,
    resolve_secret,
    secret_sources,
)
from harness.core.i18n import Lang, Text
from harness.store import migrate
from harness.store.db import database_url, describe_unavailable, make_engine, unavailable

SESSION_SETTING = "web.session_secret_env"

T = {
    "secret_ok": Text("hemligheten finns ({source})", "secret present ({source})"),
    "secret_missing": Text(
        "hemligheten saknas: {source}: {reason}", "secret missing: {source}: {reason}"
    ),
    "secret_empty": Text(
        "hemligheten saknas: {source} är tom", "secret missing: {source} is empty"
    ),
    "session_short": Text(
        "hemligheten i {source} har {length} tecken; inloggningen till webbpanelen kräver minst "
        "{least}: skapa en ny, t.ex. med `openssl rand -base64 32`",
        "the secret in {source} has {length} characters; the dashboard's login needs at least "
        "{least}: make a new one, e.g. with `openssl rand -base64 32`",
    ),
    "db_ok": Text(
        "databasen har senaste schemat ({revision})", "database at newest schema ({revision})"
    ),
    "db_old": Text(
        "databasen har schema {current}, behöver {head}: kör `kkik db upgrade`",
        "database at schema {current}, needs {head}: run `kkik db upgrade`",
    ),
    "db_secret": Text(
        "kan inte öppna databasen: hemligheten saknas: {source}: {reason}",
        "cannot open the database: secret missing: {source}: {reason}",
    ),
}


def secrets(settings: Settings, lang: Lang) -> list[Check]:
    checks = []
    for setting, env, file in secret_sources(settings):
        source = env or str(file)
        try:
            value = resolve_secret(env=env, file=file)
        except SecretUnavailable as exc:
            text = T["secret_missing"](lang, source=exc.source, reason=exc.detail)
            checks.append(Check("secret", "error", f"{setting}: {text}"))
            continue
        if not value:
            text = T["secret_empty"](lang, source=source)
            checks.append(Check("secret", "error", f"{setting}: {text}"))
        elif setting == SESSION_SETTING and len(value) < SESSION_SECRET_MIN_LENGTH:
            text = T["session_short"](
                lang, source=source, length=len(value), least=SESSION_SECRET_MIN_LENGTH
            )
            checks.append(Check("secret", "error", f"{setting}: {text}"))
        else:
            checks.append(
                Check("secret", "ok", f"{setting}: " + T["secret_ok"](lang, source=source))
            )
    return checks


def database(settings: Settings, base_dir: Path | None, lang: Lang) -> tuple[Check, Engine | None]:
    """The database's check, and the engine when it is usable (the caller disposes of it)."""
    try:
        url = database_url(settings.database, base_dir)
    except SecretUnavailable as exc:
        text = T["db_secret"](lang, source=exc.source, reason=exc.detail)
        return Check("database", "error", text), None
    engine = make_engine(url)
    try:
        current, head = migrate.current_revision(engine), migrate.head_revision()
    except SQLAlchemyError as exc:
        engine.dispose()
        return Check("database", "error", describe_unavailable(unavailable(url, exc), lang)), None
    if current != head:
        engine.dispose()
        text = T["db_old"](lang, current=current or "–", head=head)
        return Check("database", "error", text), None
    return Check("database", "ok", T["db_ok"](lang, revision=head)), engine
