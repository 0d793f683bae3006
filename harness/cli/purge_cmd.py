"""``kkik purge``: remove personal data older than ``retention.personal_data_days``."""

from __future__ import annotations

from datetime import datetime

import click

from harness import messages
from harness.cli.common import InstantType, fail_service, in_zone, service_context, state
from harness.core.i18n import Lang, Text
from harness.services.base import ServiceError
from harness.services.retention import purge_personal_data

T = {
    "help": Text(
        "Ta bort personuppgifter (rå e-post, namn, texter, anteckningar, inspelningslänkar) "
        "äldre än retention.personal_data_days; tidpunkter och resultat finns kvar.",
        "Remove personal data (raw mail, names, texts, notes, recording links) older than "
        "retention.personal_data_days; timestamps and results stay.",
    ),
    "before": Text(
        "Rensa det som kom före denna tidpunkt i stället.", "Purge what came before this instead."
    ),
    "dry": Text("Visa bara vad som skulle rensas.", "Only show what would be purged."),
}


def build(lang: Lang) -> click.Command:
    @click.command("purge", help=T["help"](lang))
    @click.option("--before", type=InstantType(lang), default=None, help=T["before"](lang))
    @click.option("--dry-run", is_flag=True, help=T["dry"](lang))
    @click.pass_context
    def purge_cmd(ctx: click.Context, before: datetime | None, dry_run: bool) -> None:
        cli = state(ctx)
        service = service_context(cli)
        cutoff = in_zone(before, service.settings.timezone) if before is not None else None
        try:
            done = purge_personal_data(service, cutoff, dry_run=dry_run)
        except ServiceError as exc:
            fail_service(cli, exc)
        click.echo(messages.purged(cli.lang, done))

    return purge_cmd
