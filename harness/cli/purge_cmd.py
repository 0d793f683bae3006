"""``kkik purge``: remove personal data older than its retention (``[retention]``), the call
recordings at Twilio included."""

from __future__ import annotations

import asyncio
from datetime import datetime

import click

from harness import messages
from harness.campaign.retention import DeleteRecording
from harness.cli.common import (
    CliContext,
    InstantType,
    fail_service,
    in_zone,
    service_context,
    state,
)
from harness.core.i18n import Lang, Text
from harness.services.base import ServiceError
from harness.services.retention import purge_personal_data

T = {
    "help": Text(
        "Ta bort personuppgifter (rå e-post, namn, avsändaruppgifter, anteckningar, "
        "telefonnummer och tal i samtalen, loggens värden, inspelningar hos Twilio) äldre än "
        "sin gallringstid ([retention]); tidpunkter och resultat finns kvar.",
        "Remove personal data (raw mail, names, sender details, notes, phone numbers and "
        "speech in calls, the audit trail's values, recordings at Twilio) older than its "
        "retention ([retention]); timestamps and results stay.",
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
        deleter = None if dry_run else _recording_deleter(cli)
        try:
            done = asyncio.run(
                purge_personal_data(service, cutoff, dry_run=dry_run, delete_recording=deleter)
            )
        except ServiceError as exc:
            fail_service(cli, exc)
        click.echo(messages.purged(cli.lang, done))

    return purge_cmd


def _recording_deleter(cli: CliContext) -> DeleteRecording | None:
    """Twilio's recording deletion through the phone channel, when it is configured and its
    token is at hand; without it recordings are kept (and said so) until a purge can ask."""
    from harness.cli.common import assembly
    from harness.core.config import SecretUnavailable

    try:
        phone = assembly(cli).phone()
    except SecretUnavailable:
        return None
    return phone.delete_recording if phone is not None else None
