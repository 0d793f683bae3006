"""``kkik export``: scores (or the evidence behind them) as CSV, CSV for Swedish Excel, XLSX, JSON
or Kolada JSON; the formats and their columns are in ``docs/exports.md``."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import click

from harness.cli.common import (
    EXIT_USAGE,
    CliContext,
    fail,
    fail_service,
    service_context,
    state,
)
from harness.core.i18n import Lang, Text
from harness.services.base import ServiceError
from harness.services.outputs import MEDIA, Exported, ExportRequest, Format, export_campaign
from results.measures import EDITIONS

T = {
    "help": Text(
        "Exportera resultaten per kommun och mått (CSV, CSV för Excel, XLSX, JSON eller "
        "Kolada-JSON).",
        "Export the results per municipality and measure (CSV, CSV for Excel, XLSX, JSON or "
        "Kolada JSON).",
    ),
    "format": Text(
        "Filformat: csv och json för program, csv-excel (semikolon, decimalkomma) och xlsx för "
        "svenska Excel.",
        "File format: csv and json for programs, csv-excel (semicolons, decimal commas) and xlsx "
        "for Swedish Excel.",
    ),
    "out": Text(
        "Fil att skriva (standard: kkik-export.csv och så vidare i aktuell mapp).",
        "File to write (default: kkik-export.csv and so on in the current folder).",
    ),
    "kolada": Text("Kolada-formad JSON (bara mått med Kolada-id).", "Kolada-shaped JSON."),
    "evidence": Text("En rad per fråga i stället för per mått.", "One row per probe instead."),
    "personal": Text(
        "Ta med personuppgifter (avsändare av svar).", "Include personal data (reply senders)."
    ),
    "campaign": Text(
        "Kampanjens namn (standard: den senaste).", "Campaign name (default: latest)."
    ),
    "edition": Text("KKiK-utgåva.", "KKiK edition."),
    "allow_pending": Text(
        "Skriv resultaten fast svar väntar på granskning (raderna visar hur många per kommun).",
        "Write the results although replies await review (the rows say how many per municipality).",
    ),
    "written": Text("Skrev {rows} rader till {path}.", "Wrote {rows} rows to {path}."),
    "written_sheets": Text(
        "Skrev {rows} rader per kommun och mått och {probes} rader per mätning till {path}.",
        "Wrote {rows} rows by municipality and measure and {probes} rows by probe to {path}.",
    ),
    "cannot_write": Text(
        "{path}: kan inte skrivas ({error})", "{path}: cannot be written ({error})"
    ),
}


def build(lang: Lang) -> click.Command:
    @click.command("export", help=T["help"](lang))
    @click.option("--format", "fmt", type=click.Choice(list(MEDIA)), required=True,
                  help=T["format"](lang))  # fmt: skip
    @click.option("--out", metavar="FILE", help=T["out"](lang))
    @click.option("--kolada", is_flag=True, help=T["kolada"](lang))
    @click.option("--evidence", is_flag=True, help=T["evidence"](lang))
    @click.option("--include-personal-data", "personal", is_flag=True, help=T["personal"](lang))
    @click.option("--campaign", "campaign_name", metavar="NAME", help=T["campaign"](lang))
    @click.option("--edition", type=click.Choice(list(EDITIONS)), help=T["edition"](lang))
    @click.option("--allow-pending", is_flag=True, help=T["allow_pending"](lang))
    @click.pass_context
    def export_cmd(
        ctx: click.Context,
        fmt: str,
        out: str | None,
        kolada: bool,
        evidence: bool,
        personal: bool,
        campaign_name: str | None,
        edition: str | None,
        allow_pending: bool,
    ) -> None:
        cli = state(ctx)
        request = ExportRequest(
            format=cast(Format, fmt),  # click.Choice above: one of MEDIA's keys
            kolada=kolada,
            evidence=evidence,
            include_personal_data=personal,
            campaign=campaign_name,
            edition=edition,
            lang=cli.lang,
            allow_pending=allow_pending,
        )
        if kolada and fmt != "json":  # before the database is opened: a mistake in the call
            fail_service(cli, ServiceError("kolada_format"))
        try:
            exported = export_campaign(service_context(cli), request)
        except ServiceError as exc:
            fail_service(cli, exc)
        path = out or exported.filename
        try:
            Path(path).write_bytes(exported.data)
        except OSError as exc:  # a missing folder or no permission: one line, not a traceback
            fail(cli.t(T["cannot_write"], path=path, error=exc.strerror or exc), EXIT_USAGE)
        click.echo(written(cli, exported, path))
        if exported.pending and not evidence:
            from harness.messages import pending_note

            click.echo(pending_note(exported.pending, cli.lang))
        if exported.empty is not None:
            click.echo(exported.empty.text(cli.lang, exported.campaign))

    return export_cmd


def written(cli: CliContext, exported: Exported, path: object) -> str:
    """What was written where: the rows, and for a workbook the rows of each sheet."""
    if exported.probe_rows:
        return cli.t(T["written_sheets"], rows=exported.rows, probes=exported.probe_rows, path=path)
    return cli.t(T["written"], rows=exported.rows, path=path)
