"""The e-mail side of ``kkik doctor``: the submission server, the mailbox and the targets' MX.

The submission server is connected to, secured and logged in to (nothing is sent); the
measurement mailbox is logged in to and every folder to watch selected (the Sent folder too when
copies are saved); each target's mail domain must have an MX record. A server's own reply is
quoted as it came; everything else is worded here in the reader's language.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import aiosmtplib
import dns.asyncresolver
import dns.exception
import dns.resolver

from harness.campaign.doctor.check import Check, network_reason
from harness.channels.email.adapters import imap_factory, smtp_sender
from harness.core.config import SecretUnavailable, Settings
from harness.core.i18n import Lang, Text
from harness.core.labels import fault_text
from probes.base import ProbeError
from probes.imap_wire import FolderMissing, ImapConnectionLost, ImapError, ImapLoginRefused

T = {
    "smtp_ok": Text(
        "{host}:{port}: anslutning, {security} och inloggning fungerar",
        "{host}:{port}: connection, {security} and login work",
    ),
    "imap_ok": Text(
        "{host}:{port}: inloggningen fungerar; bevakar {folders}",
        "{host}:{port}: login works; watching {folders}",
    ),
    "failed": Text("{host}:{port}: {error}", "{host}:{port}: {error}"),
    # A server's own words are quoted as they came (”…” in Swedish).
    "smtp_login": Text(
        "{refusal}: kontrollera mail.smtp.username och lösenordet",
        "{refusal}: check mail.smtp.username and the password",
    ),
    "smtp_answer": Text("SMTP-servern svarade ”{reply}”", 'the SMTP server answered "{reply}"'),
    "smtp_unsupported": Text(
        "servern erbjuder inte {security} eller den inloggning som valts (mail.smtp.security, "
        "mail.smtp.auth)",
        "the server does not offer {security} or the chosen login (mail.smtp.security, "
        "mail.smtp.auth)",
    ),
    "imap_login": Text(
        "IMAP-servern nekade inloggningen{reply}: kontrollera mail.imap.username och lösenordet",
        "IMAP login refused{reply}: check mail.imap.username and the password",
    ),
    "imap_reply": Text(" (svar: ”{reply}”)", " ({reply})"),
    "imap_refused": Text("IMAP-servern avvisade ett kommando", "the IMAP server refused a command"),
    "folder_missing": Text(
        "mappen {folder} finns inte i brevlådan",
        "the folder {folder} does not exist in the mailbox",
    ),
    "connect": Text("kan inte ansluta: {reason}", "cannot connect: {reason}"),
    "secret": Text("hemligheten saknas: {source}: {reason}", "secret missing: {source}: {reason}"),
    "mx_ok": Text("{domain}: MX {hosts}", "{domain}: MX {hosts}"),
    "mx_none": Text(
        "{domain}: ingen MX-post; e-post till {address} kan inte levereras",
        "{domain}: no MX record; mail to {address} cannot be delivered",
    ),
    "mx_fail": Text(
        "{domain}: DNS-frågan misslyckades ({error})", "{domain}: the DNS lookup failed ({error})"
    ),
    "dns_timeout": Text("inget svar från DNS-servern", "no answer from the DNS server"),
    "dns_no_servers": Text(
        "ingen DNS-server gav ett användbart svar", "no DNS server gave a usable answer"
    ),
    "dns_other": Text("DNS-fel", "DNS error"),
}
SECURITY = {
    "starttls": Text("STARTTLS", "STARTTLS"),
    "tls": Text("TLS", "TLS"),
    "none": Text("okrypterad anslutning", "unencrypted connection"),
}


async def smtp(settings: Settings, base_dir: Path | None, lang: Lang) -> Check:
    assert settings.mail is not None
    server = settings.mail.smtp
    security = SECURITY[server.security]
    try:
        await smtp_sender(server, base_dir).check()
    except aiosmtplib.SMTPAuthenticationError as exc:
        # In the runner's own words for it (harness.core.labels), with what to do.
        refusal = fault_text("smtp_login_refused", {"reply": _reply(exc)}, lang)
        error = T["smtp_login"](lang, refusal=refusal)
    except aiosmtplib.SMTPNotSupported:
        error = T["smtp_unsupported"](lang, security=security)
    except aiosmtplib.SMTPResponseException as exc:
        error = T["smtp_answer"](lang, reply=_reply(exc))
    except (aiosmtplib.SMTPException, OSError) as exc:
        error = T["connect"](lang, reason=network_reason(exc))
    except (SecretUnavailable, ProbeError) as exc:
        error = _credential(exc, lang)
    else:
        return Check(
            "smtp", "ok", T["smtp_ok"](lang, host=server.host, port=server.port, security=security)
        )
    return Check(
        "smtp", "error", T["failed"](lang, host=server.host, port=server.port, error=error)
    )


async def imap(settings: Settings, base_dir: Path | None, lang: Lang) -> Check:
    assert settings.mail is not None
    server = settings.mail.imap
    mailbox = imap_factory(server, base_dir)()
    wanted = list(server.folders) + (["\\Sent"] if settings.mail.save_to_sent else [])
    found: list[str] = []
    try:
        await mailbox.connect()
        for folder in wanted:
            real = await mailbox.resolve_folder(folder)
            await mailbox.select(real)
            found.append(real)
    except FolderMissing:
        error = T["folder_missing"](lang, folder=wanted[len(found)])
    except ImapLoginRefused as exc:
        reply = T["imap_reply"](lang, reply=exc.reply) if exc.reply else ""
        error = T["imap_login"](lang, reply=reply)
    except (ImapError, OSError, TimeoutError) as exc:
        # A refusal of a command, or a connection that failed (the OS's error as its cause).
        connection = (
            isinstance(exc, ImapConnectionLost)
            or exc.__cause__ is not None
            or not isinstance(exc, ImapError)
        )
        error = (
            T["connect"](lang, reason=network_reason(exc))
            if connection
            else T["imap_refused"](lang)
        )
    except (SecretUnavailable, ProbeError) as exc:
        error = _credential(exc, lang)
    else:
        folders = ", ".join(found)
        return Check(
            "imap", "ok", T["imap_ok"](lang, host=server.host, port=server.port, folders=folders)
        )
    finally:
        await mailbox.close()
    return Check(
        "imap", "error", T["failed"](lang, host=server.host, port=server.port, error=error)
    )


def _reply(exc: aiosmtplib.SMTPResponseException) -> str:
    """The server's reply as it came, on one line."""
    return f"{exc.code} {' '.join(exc.message.split())}"[:300]


def _credential(exc: SecretUnavailable | ProbeError, lang: Lang) -> str:
    """A secret that is not there, or an OAuth token that could not be had (its fault code)."""
    if isinstance(exc, SecretUnavailable):
        return T["secret"](lang, source=exc.source, reason=exc.detail)
    return fault_text(exc.code, exc.params, lang, fallback=str(exc))


async def mx(
    addresses: Sequence[str], lang: Lang, nameservers: Sequence[tuple[str, int]]
) -> list[Check]:
    """Each address's domain has an MX record (asked of ``nameservers``, else the system's)."""
    resolver = dns.asyncresolver.Resolver(configure=not nameservers)
    if nameservers:
        resolver.nameservers = [host for host, _ in nameservers]
        resolver.port = nameservers[0][1]
    resolver.lifetime = 5.0
    checks = []
    for address in sorted(set(addresses)):
        domain = address.rpartition("@")[2]
        try:
            answer = await resolver.resolve(domain, "MX")
            hosts = ", ".join(sorted(str(r.exchange).rstrip(".") for r in answer))
            checks.append(Check("mx", "ok", T["mx_ok"](lang, domain=domain, hosts=hosts)))
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            text = T["mx_none"](lang, domain=domain, address=address)
            checks.append(Check("mx", "error", text))
        except dns.exception.DNSException as exc:
            why = T["dns_other"]
            if isinstance(exc, dns.exception.Timeout):
                why = T["dns_timeout"]
            elif isinstance(exc, dns.resolver.NoNameservers):
                why = T["dns_no_servers"]
            checks.append(Check("mx", "error", T["mx_fail"](lang, domain=domain, error=why)))
    return checks
