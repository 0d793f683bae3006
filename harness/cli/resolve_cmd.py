"""``kkik resolve``: list the probes whose sending is in doubt, and record a person's decision.

See :mod:`harness.services.sends`: a flagged probe is never sent again on its own; after
checking with the municipality (or our mail server's log) a person says it was sent (when) or
was not.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import click
from sqlalchemy import Engine

from harness.cli.common import (
    EXIT_USAGE,
    CliContext,
    InstantType,
    fail,
    fail_service,
    in_zone,
    open_database,
    service_context,
    state,
)
from harness.core.i18n import Lang, Text
from harness.core.labels import fault_text
from harness.services.base import ServiceError
from harness.services.sends import confirm_not_sent, confirm_sent, flagged_probes

T = {
    "help": Text(
        "Utskick i ovisshet: utan argument listas de; med PROBE och --sent-at eller --not-sent "
        "sparas ditt beslut (med --reason). Ett sådant utskick skickas aldrig om av sig självt.",
        "Sends in doubt: without arguments they are listed; with PROBE and --sent-at or "
        "--not-sent your decision is recorded (with --reason). Such a probe is never sent again "
        "on its own.",
    ),
    "sent_at": Text(
        "Frågan gick iväg vid denna tidpunkt (enligt beviset du hittat; lokal tid utan offset).",
        "The question left at this instant (as the evidence you found says; local time without "
        "an offset).",
    ),
    "not_sent": Text(
        "Frågan kom aldrig fram: räknas som mätfel och ersätts.",
        "The question never arrived: counted as a harness fault and replaced.",
    ),
    "reason": Text("Hur du vet (sparas i loggen).", "How you know (kept in the log)."),
    "none": Text("Inga utskick i ovisshet.", "No sends in doubt."),
    "head": Text(
        "mätning  kommun               överlämnad         orsak",
        "probe    municipality         handed over        why",
    ),
    "need_one": Text(
        "Ange antingen --sent-at TID eller --not-sent, och --reason.",
        "Give either --sent-at TIME or --not-sent, and --reason.",
    ),
    "need_probe": Text("Ange vilken mätning (PROBE).", "Say which probe (PROBE)."),
    "sent": Text(
        "Mätning {probe} räknas som skickad {at}; ett svar som redan kommit kopplas vid nästa "
        "synk.",
        "Probe {probe} counts as sent at {at}; a reply already stored is adopted at the next sync.",
    ),
    "not_sent_done": Text(
        "Mätning {probe} är ett mätfel och ersätts vid nästa körning.",
        "Probe {probe} is a harness fault and is replaced at the next run.",
    ),
}


def build(lang: Lang) -> click.Command:
    @click.command("resolve", help=T["help"](lang))
    @click.argument("probe_id", metavar="PROBE", type=int, required=False)
    @click.option("--sent-at", type=InstantType(lang), default=None, help=T["sent_at"](lang))
    @click.option("--not-sent", is_flag=True, help=T["not_sent"](lang))
    @click.option("--reason", default=None, help=T["reason"](lang))
    @click.pass_context
    def resolve_cmd(
        ctx: click.Context,
        probe_id: int | None,
        sent_at: datetime | None,
        not_sent: bool,
        reason: str | None,
    ) -> None:
        cli = state(ctx)
        settings, base_dir = cli.settings(required=False)
        zone = ZoneInfo(settings.timezone)
        deciding = sent_at is not None or not_sent
        if probe_id is None:
            if deciding or reason:
                fail(cli.t(T["need_probe"]), EXIT_USAGE)
            engine, _ = open_database(cli, settings, base_dir)
            _list(cli, engine, zone)
            return
        if (sent_at is not None) == not_sent or not (reason or "").strip():
            fail(cli.t(T["need_one"]), EXIT_USAGE)
        assert reason is not None
        service = service_context(cli)
        try:
            if sent_at is not None:
                at = in_zone(sent_at, settings.timezone)
                confirm_sent(service, probe_id, at, reason.strip())
                shown = at.astimezone(zone).isoformat(timespec="seconds")
                click.echo(cli.t(T["sent"], probe=probe_id, at=shown))
            else:
                confirm_not_sent(service, probe_id, reason.strip())
                click.echo(cli.t(T["not_sent_done"], probe=probe_id))
        except ServiceError as exc:
            fail_service(cli, exc, settings.timezone)

    return resolve_cmd


def _shown(value: object, zone: ZoneInfo) -> object:
    return (
        value.astimezone(zone).isoformat(timespec="seconds")
        if isinstance(value, datetime)
        else value
    )


def _list(cli: CliContext, engine: Engine, zone: ZoneInfo) -> None:
    rows = flagged_probes(engine)
    if not rows:
        click.echo(cli.t(T["none"]))
        return
    click.echo(cli.t(T["head"]))
    for probe, target in rows:
        claimed = _shown(probe.claimed_at, zone) if probe.claimed_at else "–"
        why = fault_text(
            probe.fault_code, probe.fault_params, cli.lang, fallback=probe.fault_reason
        )
        click.echo(
            f"{probe.id:<8} {target.kommunkod} {target.name[:15]:<15}  {str(claimed)[:16]:<17}  "
            f"{why}"
        )
