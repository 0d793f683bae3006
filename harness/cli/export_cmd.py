"""``kkik export``: scores (or the evidence behind them) as CSV, XLSX, JSON or Kolada JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click
from sqlmodel import Session, col, select

from harness.calendars import campaign_calendar
from harness.cli.common import EXIT_USAGE, fail, open_database, state
from harness.cli.score_cmd import evidence_from_database
from harness.i18n import Lang, Text
from harness.models import Message, Probe, Target
from harness.othermeasures import other_measure_values
from harness.wiring import timeline_rules
from results.calendar import DeadlineRule
from results.exports import kolada_json, score_rows, to_csv, to_json, to_xlsx
from results.measures import EDITIONS
from results.scoring import ScoringRules, score

T = {
    "help": Text(
        "Exportera resultaten per kommun och mått (CSV, XLSX, JSON eller Kolada-JSON).",
        "Export the results per municipality and measure (CSV, XLSX, JSON or Kolada JSON).",
    ),
    "format": Text("Filformat.", "File format."),
    "out": Text("Fil att skriva.", "File to write."),
    "kolada": Text("Kolada-formad JSON (bara mått med Kolada-id).", "Kolada-shaped JSON."),
    "evidence": Text("En rad per fråga i stället för per mått.", "One row per probe instead."),
    "personal": Text(
        "Ta med personuppgifter (avsändare av svar).", "Include personal data (reply senders)."
    ),
    "campaign": Text(
        "Kampanjens namn (standard: den senaste).", "Campaign name (default: latest)."
    ),
    "edition": Text("KKiK-utgåva.", "KKiK edition."),
    "written": Text("Skrev {rows} rader till {path}.", "Wrote {rows} rows to {path}."),
    "kolada_format": Text(
        "--kolada skriver JSON; välj --format json", "--kolada writes JSON; use --format json"
    ),
    "cannot_write": Text(
        "{path}: kan inte skrivas ({error})", "{path}: cannot be written ({error})"
    ),
}
EVIDENCE_COLUMNS = (
    "probe_id", "kommunkod", "kommun", "channel", "planned_at", "sent_at", "answered_at",
    "state", "outcome", "fault_reason", "replies",
)  # fmt: skip
PERSONAL_COLUMNS = ("reply_from_name", "reply_from_address")


def build(lang: Lang) -> click.Command:
    @click.command("export", help=T["help"](lang))
    @click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "json"]), required=True,
                  help=T["format"](lang))  # fmt: skip
    @click.option("--out", required=True, metavar="FILE", help=T["out"](lang))
    @click.option("--kolada", is_flag=True, help=T["kolada"](lang))
    @click.option("--evidence", is_flag=True, help=T["evidence"](lang))
    @click.option("--include-personal-data", "personal", is_flag=True, help=T["personal"](lang))
    @click.option("--campaign", "campaign_name", metavar="NAME", help=T["campaign"](lang))
    @click.option("--edition", type=click.Choice(list(EDITIONS)), help=T["edition"](lang))
    @click.pass_context
    def export_cmd(
        ctx: click.Context,
        fmt: str,
        out: str,
        kolada: bool,
        evidence: bool,
        personal: bool,
        campaign_name: str | None,
        edition: str | None,
    ) -> None:
        cli = state(ctx)
        if kolada and fmt != "json":
            fail(cli.t(T["kolada_format"]), EXIT_USAGE)
        settings, base_dir = cli.settings(required=False)
        engine, _ = open_database(cli, settings, base_dir)
        rows_evidence, campaign = evidence_from_database(
            cli,
            engine,
            campaign_name,
            settings.email.count_holding_replies,
            timeline_rules(settings),
        )
        with Session(engine) as session:
            targets = session.exec(select(Target).where(Target.campaign_id == campaign.id)).all()
        names = {t.kommunkod: t.name for t in targets}
        chosen = edition or campaign.edition
        scores = score(
            rows_evidence,
            ScoringRules(
                edition=chosen,
                calendar=campaign_calendar(settings, campaign),
                deadline_rule=DeadlineRule(settings.email.deadline_rule),
            ),
        )
        # Opening hours from the scenario and hand-entered figures: reported, not scored.
        others = other_measure_values(engine, campaign.id or 0)
        zone = ZoneInfo(settings.timezone)
        if evidence:
            rows = _evidence_rows(engine, campaign.id or 0, names, zone, personal)
            columns = EVIDENCE_COLUMNS + (PERSONAL_COLUMNS if personal else ())
        else:
            rows = score_rows(scores, names, campaign.year, chosen, cli.lang, others)
            columns = None
        if kolada:
            data = kolada_json(scores, campaign.year, others)
        elif fmt == "csv":
            data = to_csv(rows, columns) if columns else to_csv(rows)
        elif fmt == "xlsx":
            data = to_xlsx(rows, columns) if columns else to_xlsx(rows)
        else:
            data = to_json(rows)
        try:
            Path(out).write_bytes(data)
        except OSError as exc:  # a missing folder or no permission: one line, not a traceback
            fail(cli.t(T["cannot_write"], path=out, error=exc.strerror or exc), EXIT_USAGE)
        click.echo(cli.t(T["written"], rows=len(rows), path=out))

    return export_cmd


def _evidence_rows(
    engine: Any, campaign_id: int, names: dict[str, str], zone: ZoneInfo, personal: bool
) -> list[dict[str, Any]]:
    with Session(engine) as session:
        probes = session.exec(
            select(Probe, Target)
            .join(Target, col(Probe.target_id) == col(Target.id))
            .where(Probe.campaign_id == campaign_id)
            .order_by(col(Probe.planned_at))
        ).all()
        messages = session.exec(select(Message).where(col(Message.probe_id).is_not(None))).all()
    by_probe: dict[int, list[Message]] = {}
    for m in messages:
        by_probe.setdefault(m.probe_id or 0, []).append(m)
    rows = []
    for probe, target in probes:
        replies = sorted(
            by_probe.get(probe.id or 0, []), key=lambda m: m.arrived_at or m.fetched_at
        )
        first_human = next((m for m in replies if m.classification == "human_reply"), None)
        row: dict[str, Any] = {
            "probe_id": probe.id,
            "kommunkod": target.kommunkod,
            "kommun": names.get(target.kommunkod, target.name),
            "channel": probe.channel,
            "planned_at": probe.planned_at.astimezone(zone).isoformat(),
            "sent_at": probe.sent_at.astimezone(zone).isoformat() if probe.sent_at else None,
            "answered_at": first_human.arrived_at.astimezone(zone).isoformat()
            if first_human and first_human.arrived_at
            else None,
            "state": probe.state,
            "outcome": probe.outcome,
            "fault_reason": probe.fault_reason,
            "replies": len(replies),
        }
        if personal:
            row["reply_from_name"] = first_human.from_name if first_human else None
            row["reply_from_address"] = first_human.from_address if first_human else None
        rows.append(row)
    return rows
