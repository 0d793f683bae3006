"""``kkik doctor``: check configuration, credentials, servers and targets' mail domains."""

from __future__ import annotations

import asyncio

import click

from harness.campaign.doctor import run_checks
from harness.cli.common import EXIT_FAILURE, EXIT_USAGE, fail, state
from harness.core.i18n import Lang, Text

T = {
    "help": Text(
        "Kontrollera att allt finns på plats: hemligheter, databas, e-postservrar (inget skickas) "
        "och att varje kommuns e-postdomän har en MX-post.",
        "Check that everything is in place: secrets, database, mail servers (nothing is sent) "
        "and that each municipality's mail domain has an MX record.",
    ),
    "dns": Text(
        "Fråga denna DNS-server (HOST[:PORT]) i stället för systemets.",
        "Ask this DNS server (HOST[:PORT]) instead of the system's.",
    ),
    "bad_dns": Text("ogiltig DNS-server {value!r}", "invalid DNS server {value!r}"),
    "ok": Text("OK ", "OK "),
    "fail": Text("FEL", "ERR"),
    "summary_ok": Text("Allt ser bra ut.", "Everything looks fine."),
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
        checks = asyncio.run(run_checks(settings, base_dir, cli.lang, nameservers=nameservers))
        for check in checks:
            mark = cli.t(T["ok"] if check.ok else T["fail"])
            click.echo(f"{mark}  {check.area:<8} {check.detail}")
        problems = sum(not c.ok for c in checks)
        if problems:
            fail(cli.t(T["summary_fail"], n=problems), EXIT_FAILURE)
        click.echo(cli.t(T["summary_ok"]))

    return doctor_cmd
