"""``kkik doctor``: check configuration, credentials, servers, Twilio and the campaigns' targets."""

from __future__ import annotations

import asyncio

import click

from harness.campaign.doctor import run_checks
from harness.cli.common import EXIT_FAILURE, EXIT_USAGE, fail, state
from harness.core.i18n import Lang, Text

T = {
    "help": Text(
        "Kontrollera att allt finns på plats: hemligheter, databas, e-postservrar (inget "
        "skickas), Twilio-kontot, numret och den publika adressen (inget samtal rings), att "
        "kampanjernas kommuner är riktiga och att varje kommuns e-postdomän har en MX-post. "
        "Slutkod 1 vid fel; varningar ändrar den inte.",
        "Check that everything is in place: secrets, database, mail servers (nothing is sent), "
        "the Twilio account, the number and the public address (no call is placed), that the "
        "campaigns' municipalities are real and that each one's mail domain has an MX record. "
        "Exit code 1 on errors; warnings do not change it.",
    ),
    "dns": Text(
        "Fråga denna DNS-server (HOST[:PORT]) i stället för systemets.",
        "Ask this DNS server (HOST[:PORT]) instead of the system's.",
    ),
    "bad_dns": Text("ogiltig DNS-server {value!r}", "invalid DNS server {value!r}"),
    "summary_ok": Text("Allt ser bra ut.", "Everything looks fine."),
    "summary_warning": Text(
        "Inga fel, men en varning att läsa.", "No errors, but a warning to read."
    ),
    "summary_warnings": Text(
        "Inga fel, men {n} varningar att läsa.", "No errors, but {n} warnings to read."
    ),
    "summary_fail": Text("{n} problem att åtgärda.", "{n} problem(s) to fix."),
}


def build(lang: Lang) -> click.Command:
    @click.command("doctor", help=T["help"](lang))
    @click.option("--dns-server", metavar="HOST[:PORT]", help=T["dns"](lang))
    @click.pass_context
    def doctor_cmd(ctx: click.Context, dns_server: str | None) -> None:
        cli = state(ctx)
        settings, base_dir = cli.settings(required=True)
        nameservers: list[tuple[str, int]] = []
        if dns_server:
            host, _, port = (
                dns_server.rpartition(":") if ":" in dns_server else (dns_server, "", "53")
            )
            if not host or not port.isdigit():
                fail(cli.t(T["bad_dns"], value=dns_server), EXIT_USAGE)
            nameservers.append((host, int(port)))
        checks = asyncio.run(
            run_checks(settings, base_dir, cli.lang, cli.clock, nameservers=nameservers)
        )
        for check in checks:
            click.echo(check.line(cli.lang))
        problems = sum(c.level == "error" for c in checks)
        warnings = sum(c.level == "warning" for c in checks)
        if problems:
            fail(cli.t(T["summary_fail"], n=problems), EXIT_FAILURE)
        if warnings:
            click.echo(
                cli.t(T["summary_warning" if warnings == 1 else "summary_warnings"], n=warnings)
            )
        else:
            click.echo(cli.t(T["summary_ok"]))

    return doctor_cmd
