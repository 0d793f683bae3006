"""``kkik purge``: remove personal data older than ``retention.personal_data_days``."""

from __future__ import annotations

from datetime import datetime, timedelta

import click

from harness.cli.common import InstantType, actor, in_zone, open_database, state
from harness.i18n import Lang, Text
from harness.purge import purge

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
    "result": Text(
        "{verb}: {messages} meddelanden, {assessments} bedömningsanteckningar, "
        "{events} inspelningslänkar (före {before}).",
        "{verb}: {messages} messages, {assessments} assessment notes, {events} recording "
        "links (before {before}).",
    ),
    "would": Text("Skulle rensas", "Would be purged"),
    "done": Text("Rensat", "Purged"),
}


def build(lang: Lang) -> click.Command:
    @click.command("purge", help=T["help"](lang))
    @click.option("--before", type=InstantType(lang), default=None, help=T["before"](lang))
    @click.option("--dry-run", is_flag=True, help=T["dry"](lang))
    @click.pass_context
    def purge_cmd(ctx: click.Context, before: datetime | None, dry_run: bool) -> None:
        cli = state(ctx)
        settings, base_dir = cli.settings(required=False)
        engine, _ = open_database(cli, settings, base_dir)
        now = cli.clock.now()
        cutoff = (
            in_zone(before, settings.timezone)
            if before is not None
            else now - timedelta(days=settings.retention.personal_data_days)
        )
        counts = purge(engine, cutoff, actor=actor(), at=now, dry_run=dry_run)
        click.echo(
            cli.t(
                T["result"],
                verb=cli.t(T["would" if dry_run else "done"]),
                messages=counts.messages,
                assessments=counts.assessments,
                events=counts.call_events,
                before=cutoff.isoformat(timespec="minutes"),
            )
        )

    return purge_cmd
