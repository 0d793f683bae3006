"""``kkik doctor``: is everything in place to run a campaign? Each check says what is wrong.

Checks the configuration's secrets, the database, the submission server (connect, TLS, login;
nothing is sent), the measurement mailbox (login, the folders to watch, the Sent folder when
copies are saved), and that each target's mail domain has an MX record. Every check returns a
short result in the user's language; none of them changes anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import aiosmtplib
import dns.asyncresolver
import dns.exception
import dns.resolver
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, select

from harness.channels.email.adapters import imap_factory, smtp_sender
from harness.core.config import SecretUnavailable, Settings, resolve_secret, secret_sources
from harness.core.i18n import Lang, Text
from harness.store import migrate
from harness.store.db import database_url, make_engine
from harness.store.models import Target
from probes.email_send import classify_smtp_error
from probes.imap_client import FolderMissing, ImapError

T = {
    "secret_ok": Text("hemligheten finns ({source})", "secret present ({source})"),
    "secret_missing": Text(
        "hemligheten saknas: {source}: {detail}", "secret missing: {source}: {detail}"
    ),
    "db_ok": Text(
        "databasen har senaste schemat ({revision})", "database at newest schema ({revision})"
    ),
    "db_old": Text(
        "databasen har schema {current}, behöver {head}: kör `kkik db upgrade`",
        "database at schema {current}, needs {head}: run `kkik db upgrade`",
    ),
    "db_fail": Text("kan inte öppna databasen: {error}", "cannot open the database: {error}"),
    "smtp_ok": Text(
        "{host}:{port}: anslutning, {security} och inloggning fungerar",
        "{host}:{port}: connection, {security} and login work",
    ),
    "smtp_fail": Text("{host}:{port}: {error}", "{host}:{port}: {error}"),
    "imap_ok": Text(
        "{host}:{port}: inloggning fungerar; bevakar {folders}",
        "{host}:{port}: login works; watching {folders}",
    ),
    "imap_fail": Text("{host}:{port}: {error}", "{host}:{port}: {error}"),
    "folder_missing": Text(
        "mappen {folder} finns inte i brevlådan",
        "the folder {folder} does not exist in the mailbox",
    ),
    "mx_ok": Text("{domain}: MX {hosts}", "{domain}: MX {hosts}"),
    "mx_none": Text(
        "{domain}: ingen MX-post; e-post till {address} kan inte levereras",
        "{domain}: no MX record; mail to {address} cannot be delivered",
    ),
    "mx_fail": Text(
        "{domain}: DNS-frågan misslyckades ({error})", "{domain}: the DNS lookup failed ({error})"
    ),
    "no_targets": Text(
        "inga kommuner i databasen ännu (spara en plan först)",
        "no municipalities in the database yet (save a plan first)",
    ),
}


@dataclass(frozen=True)
class Check:
    area: str  # what was checked: "secret", "database", "smtp", "imap", "mx"
    ok: bool
    detail: str


async def run_checks(
    settings: Settings,
    base_dir: Path | None,
    lang: Lang,
    *,
    nameservers: Sequence[tuple[str, int]] = (),
) -> list[Check]:
    checks = _secrets(settings, lang)
    database_ok, targets = _database(settings, base_dir, lang, checks)
    if settings.mail is not None:
        checks.append(await _smtp(settings, base_dir, lang))
        checks.append(await _imap(settings, base_dir, lang))
    if database_ok:
        checks += await _mx(targets, lang, nameservers)
    return checks


def _secrets(settings: Settings, lang: Lang) -> list[Check]:
    checks = []
    for setting, env, file in secret_sources(settings):
        try:
            resolve_secret(env=env, file=file)
            checks.append(
                Check("secret", True, f"{setting}: " + T["secret_ok"](lang, source=env or file))
            )
        except SecretUnavailable as exc:
            text = T["secret_missing"](lang, source=exc.source, detail=exc.detail)
            checks.append(Check("secret", False, f"{setting}: {text}"))
    return checks


def _database(
    settings: Settings, base_dir: Path | None, lang: Lang, checks: list[Check]
) -> tuple[bool, list[Target]]:
    try:
        engine = make_engine(database_url(settings.database, base_dir))
        current, head = migrate.current_revision(engine), migrate.head_revision()
        if current != head:
            checks.append(
                Check("database", False, T["db_old"](lang, current=current or "–", head=head))
            )
            return False, []
        with Session(engine) as session:
            targets = list(session.exec(select(Target)).all())
        engine.dispose()
    except (SQLAlchemyError, SecretUnavailable) as exc:
        checks.append(Check("database", False, T["db_fail"](lang, error=str(exc).splitlines()[0])))
        return False, []
    checks.append(Check("database", True, T["db_ok"](lang, revision=head)))
    return True, targets


async def _smtp(settings: Settings, base_dir: Path | None, lang: Lang) -> Check:
    assert settings.mail is not None
    smtp = settings.mail.smtp
    try:
        await smtp_sender(smtp, base_dir).check()
    except (aiosmtplib.SMTPException, OSError, SecretUnavailable) as exc:
        error = classify_smtp_error(exc) if not isinstance(exc, SecretUnavailable) else exc
        return Check(
            "smtp", False, T["smtp_fail"](lang, host=smtp.host, port=smtp.port, error=error)
        )
    return Check(
        "smtp", True, T["smtp_ok"](lang, host=smtp.host, port=smtp.port, security=smtp.security)
    )


async def _imap(settings: Settings, base_dir: Path | None, lang: Lang) -> Check:
    assert settings.mail is not None
    imap = settings.mail.imap
    mailbox = imap_factory(imap, base_dir)()
    wanted = list(imap.folders) + (["\\Sent"] if settings.mail.save_to_sent else [])
    try:
        await mailbox.connect()
        found = []
        for folder in wanted:
            real = await mailbox.resolve_folder(folder)
            await mailbox.select(real)
            found.append(real)
    except FolderMissing:
        error = T["folder_missing"](lang, folder=folder)
        return Check(
            "imap", False, T["imap_fail"](lang, host=imap.host, port=imap.port, error=error)
        )
    except (ImapError, OSError, TimeoutError, SecretUnavailable) as exc:
        return Check("imap", False, T["imap_fail"](lang, host=imap.host, port=imap.port, error=exc))
    finally:
        await mailbox.close()
    return Check(
        "imap", True, T["imap_ok"](lang, host=imap.host, port=imap.port, folders=", ".join(found))
    )


async def _mx(
    targets: Sequence[Target], lang: Lang, nameservers: Sequence[tuple[str, int]]
) -> list[Check]:
    addresses = sorted({t.email_address for t in targets if t.email_address})
    if not targets:
        return [Check("mx", True, T["no_targets"](lang))]
    resolver = dns.asyncresolver.Resolver(configure=not nameservers)
    if nameservers:
        resolver.nameservers = [host for host, _ in nameservers]
        resolver.port = nameservers[0][1]
    resolver.lifetime = 5.0
    checks = []
    for address in addresses:
        domain = address.rpartition("@")[2]
        try:
            answer = await resolver.resolve(domain, "MX")
            hosts = ", ".join(sorted(str(r.exchange).rstrip(".") for r in answer))
            checks.append(Check("mx", True, T["mx_ok"](lang, domain=domain, hosts=hosts)))
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            checks.append(Check("mx", False, T["mx_none"](lang, domain=domain, address=address)))
        except dns.exception.DNSException as exc:
            error = type(exc).__name__
            checks.append(Check("mx", False, T["mx_fail"](lang, domain=domain, error=error)))
    return checks
