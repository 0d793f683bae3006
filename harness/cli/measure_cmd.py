"""``kkik measure``: the other accessibility measures, entered by hand and listed.

KKiK's preschool and elderly-housing figures come from the municipality's own records, not from
probes (kkik-method.md Part B §7), so a person types them in with ``kkik measure set``; every
change is in the audit log with the value before and after. ``kkik measure list`` shows them
next to the opening hours outside weekday 08–17 computed from the campaign's scenario.
"""

from __future__ import annotations

import getpass
import json
import math
from datetime import datetime
from typing import Any

import click
from sqlalchemy import Engine
from sqlmodel import Session, select

from harness.cli.common import EXIT_USAGE, CliContext, fail, open_database, state
from harness.core.i18n import Lang, Text
from harness.core.scenario import municipalities
from harness.store.models import AuditEntry, Campaign, MeasureValue, Target
from harness.store.othermeasures import find_campaign, other_measure_values
from results.measures import MANUAL_MEASURES, OTHER_MEASURES, OtherMeasure
from results.other_measures import OtherValue, check_value

UNITS = {
    "percent": Text("%", "%"),
    "days": Text("dagar", "days"),
    "hours_per_week": Text("tim/vecka", "h/week"),
}
SOURCES = {"scenario": Text("scenario", "scenario"), "manual": Text("inmatat", "entered")}
T = {
    "group": Text(
        "Övriga tillgänglighetsmått: öppettider, förskoleplats, väntetid till särskilt boende.",
        "Other accessibility measures: opening hours, preschool place, elderly housing waits.",
    ),
    "set": Text(
        "Ange ett värde som kommunen själv redovisar: "
        + ", ".join(MANUAL_MEASURES)
        + ". Andel i procent (0–100), väntetid i dagar (minst 0).",
        "Enter a figure the municipality reports itself: "
        + ", ".join(MANUAL_MEASURES)
        + ". Share in percent (0-100), waiting time in days (at least 0).",
    ),
    "unset": Text("Ta bort ett inmatat värde.", "Remove an entered figure."),
    "list": Text(
        "Visa inmatade värden och öppettider utöver 08–17 vardagar ur scenariot.",
        "Show entered figures and the opening hours outside weekdays 08-17 from the scenario.",
    ),
    "campaign": Text(
        "Kampanjens namn (standard: den senaste).", "Campaign name (default: latest)."
    ),
    "note": Text("Kommentar, t.ex. källan.", "Note, e.g. the source."),
    "reason": Text("Varför värdet ändras (sparas i loggen).", "Why it changes (logged)."),
    "json": Text("Skriv JSON.", "Write JSON."),
    "no_campaign": Text(
        "Ingen kampanj {name}; spara en plan med `kkik plan SCENARIO --save`.",
        "No campaign {name}; store a plan with `kkik plan SCENARIO --save`.",
    ),
    "bad_code": Text(
        'Okänd kommunkod {code}; skriv de fyra siffrorna, t.ex. "0180".',
        'Unknown kommunkod {code}; write the four digits, e.g. "0180".',
    ),
    "not_target": Text(
        "{code} ({name}) ingår inte i kampanjen {campaign}.",
        "{code} ({name}) is not part of the campaign {campaign}.",
    ),
    "not_number": Text(
        "{value!r} är inget tal; skriv t.ex. 45 eller 45,5.",
        "{value!r} is not a number; write e.g. 45 or 45.5.",
    ),
    "range_percent": Text(
        "En andel måste vara mellan 0 och 100 procent (fick {value}).",
        "A share must be between 0 and 100 percent (got {value}).",
    ),
    "range_days": Text(
        "Antalet dagar får inte vara negativt (fick {value}).",
        "The number of days must not be negative (got {value}).",
    ),
    "saved": Text(
        "{code} {name}: {title} = {value} {unit} ({campaign}).",
        "{code} {name}: {title} = {value} {unit} ({campaign}).",
    ),
    "unchanged": Text(
        "{code} {name}: {title} är redan {value} {unit}; inget ändrat.",
        "{code} {name}: {title} is already {value} {unit}; nothing changed.",
    ),
    "removed": Text(
        "{code} {name}: {title} borttaget ({campaign}).",
        "{code} {name}: {title} removed ({campaign}).",
    ),
    "nothing": Text(
        "{code} {name}: inget inmatat värde för {title}.",
        "{code} {name}: no entered figure for {title}.",
    ),
    "none": Text(
        "Inga värden för {campaign}: ange med `kkik measure set` eller öppettider i scenariot.",
        "No figures for {campaign}: enter them with `kkik measure set` or opening hours in the "
        "scenario.",
    ),
    "columns": Text("kommun|mått|värde|enhet|källa", "municipality|measure|value|unit|source"),
}
TITLE_WIDTH = 60


def build(lang: Lang) -> click.Group:
    @click.group("measure", help=T["group"](lang))
    def measure() -> None:
        pass

    @measure.command("set", help=T["set"](lang))
    @click.argument("kommunkod", metavar="KOMMUNKOD")
    @click.argument("measure_id", metavar="MEASURE", type=click.Choice(list(MANUAL_MEASURES)))
    @click.argument("raw_value", metavar="VALUE")
    @click.option("--campaign", "campaign_name", metavar="NAME", help=T["campaign"](lang))
    @click.option("--note", default=None, help=T["note"](lang))
    @click.option("--reason", default=None, help=T["reason"](lang))
    @click.pass_context
    def set_cmd(
        ctx: click.Context,
        kommunkod: str,
        measure_id: str,
        raw_value: str,
        campaign_name: str | None,
        note: str | None,
        reason: str | None,
    ) -> None:
        cli = state(ctx)
        spec = MANUAL_MEASURES[measure_id]
        value = _parse_value(cli, spec, raw_value)
        settings, base_dir = cli.settings(required=False)
        engine, _ = open_database(cli, settings, base_dir)
        campaign, name = _campaign_and_target(cli, engine, campaign_name, kommunkod)
        assert campaign.id is not None
        now = cli.clock.now()
        title = _title(cli, spec)
        shown = _number(value, cli.lang)
        with Session(engine) as session:
            row = _entered(session, campaign.id, kommunkod, measure_id)
            before = _row_dict(row) if row else None
            if row is not None and row.value == value and (note is None or note == row.note):
                click.echo(
                    cli.t(
                        T["unchanged"],
                        code=kommunkod,
                        name=name,
                        title=title,
                        value=shown,
                        unit=cli.t(UNITS[spec.unit]),
                    )
                )
                return
            row = row or MeasureValue(
                campaign_id=campaign.id,
                kommunkod=kommunkod,
                measure=measure_id,
                value=value,
                unit=spec.unit,
                period=campaign.year,
                entered_by=_actor(),
                entered_at=now,
            )
            row.value = value
            row.unit = spec.unit
            row.note = note if note is not None else row.note
            row.entered_by = _actor()
            row.entered_at = now
            session.add(row)
            action = "measure_set" if before is None else "measure_change"
            session.add(
                _audit(now, action, campaign.id, kommunkod, measure_id, before, row, reason)
            )
            session.commit()
        click.echo(
            cli.t(
                T["saved"],
                code=kommunkod,
                name=name,
                title=title,
                value=shown,
                unit=cli.t(UNITS[spec.unit]),
                campaign=campaign.name,
            )
        )

    @measure.command("unset", help=T["unset"](lang))
    @click.argument("kommunkod", metavar="KOMMUNKOD")
    @click.argument("measure_id", metavar="MEASURE", type=click.Choice(list(MANUAL_MEASURES)))
    @click.option("--campaign", "campaign_name", metavar="NAME", help=T["campaign"](lang))
    @click.option("--reason", default=None, help=T["reason"](lang))
    @click.pass_context
    def unset_cmd(
        ctx: click.Context,
        kommunkod: str,
        measure_id: str,
        campaign_name: str | None,
        reason: str | None,
    ) -> None:
        cli = state(ctx)
        settings, base_dir = cli.settings(required=False)
        engine, _ = open_database(cli, settings, base_dir)
        campaign, name = _campaign_and_target(cli, engine, campaign_name, kommunkod)
        assert campaign.id is not None
        title = _title(cli, MANUAL_MEASURES[measure_id])
        now = cli.clock.now()
        with Session(engine) as session:
            row = _entered(session, campaign.id, kommunkod, measure_id)
            if row is None:
                click.echo(cli.t(T["nothing"], code=kommunkod, name=name, title=title))
                return
            before = _row_dict(row)
            session.delete(row)
            session.add(
                _audit(
                    now, "measure_unset", campaign.id, kommunkod, measure_id, before, None, reason
                )
            )
            session.commit()
        click.echo(
            cli.t(T["removed"], code=kommunkod, name=name, title=title, campaign=campaign.name)
        )

    @measure.command("list", help=T["list"](lang))
    @click.option("--campaign", "campaign_name", metavar="NAME", help=T["campaign"](lang))
    @click.option("--json", "as_json", is_flag=True, help=T["json"](lang))
    @click.pass_context
    def list_cmd(ctx: click.Context, campaign_name: str | None, as_json: bool) -> None:
        cli = state(ctx)
        settings, base_dir = cli.settings(required=False)
        engine, _ = open_database(cli, settings, base_dir)
        campaign = _campaign(cli, engine, campaign_name)
        assert campaign.id is not None
        names = _target_names(engine, campaign.id)
        rows = value_rows(other_measure_values(engine, campaign.id), names, cli.lang)
        if as_json:
            click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
            return
        if not rows:
            click.echo(cli.t(T["none"], campaign=campaign.name))
            return
        where, what, value, unit, source = cli.t(T["columns"]).split("|")
        click.echo(f"{where:<20}  {what:<{TITLE_WIDTH}} {value:>7}  {unit:<9}  {source}")
        for r in rows:
            unit = cli.t(UNITS[r["unit"]])
            source = cli.t(SOURCES[r["source"]])
            title = r["title"]
            if len(title) > TITLE_WIDTH:
                title = title[: TITLE_WIDTH - 1] + "…"
            line = (
                f"{r['kommunkod']} {r['kommun'][:15]:<15}  {title:<{TITLE_WIDTH}} "
                f"{_number(r['value'], cli.lang):>7}  {unit:<9}  {source}"
            )
            if r["note"]:
                line += f"  ({r['note']})"
            click.echo(line)

    return measure


def value_rows(
    values: list[OtherValue], names: dict[str, str], lang: Lang = "sv"
) -> list[dict[str, Any]]:
    """Other-measure values as plain data (CLI, JSON)."""
    rows = []
    for v in values:
        spec = OTHER_MEASURES[v.measure_id]
        rows.append(
            {
                "kommunkod": v.kommunkod,
                "kommun": names.get(v.kommunkod, ""),
                "measure": v.measure_id,
                "kpi_id": spec.kolada_id or spec.id,
                "kpi_id_is_own": spec.kolada_id is None,
                "title": spec.title_sv if lang == "sv" else spec.title_en,
                "value": v.value,
                "unit": spec.unit,
                "source": v.source,
                "period": v.period,
                "note": v.note,
                "entered_by": v.entered_by,
                "entered_at": v.entered_at.isoformat() if v.entered_at else None,
            }
        )
    return rows


def _parse_value(cli: CliContext, spec: OtherMeasure, raw: str) -> float:
    try:
        value = float(raw.strip().replace(",", ".").replace("\u2212", "-"))
    except ValueError:
        fail(cli.t(T["not_number"], value=raw), EXIT_USAGE)
    if not math.isfinite(value):
        fail(cli.t(T["not_number"], value=raw), EXIT_USAGE)
    if not check_value(spec, value):
        key = "range_percent" if spec.unit == "percent" else "range_days"
        fail(cli.t(T[key], value=raw), EXIT_USAGE)
    return value


def _campaign(cli: CliContext, engine: Engine, name: str | None) -> Campaign:
    campaign = find_campaign(engine, name)
    if campaign is None:
        fail(cli.t(T["no_campaign"], name=name or ""), EXIT_USAGE)
    return campaign


def _campaign_and_target(
    cli: CliContext, engine: Engine, name: str | None, kommunkod: str
) -> tuple[Campaign, str]:
    """The campaign and the municipality's name; exits when the code is not one of its targets."""
    known = municipalities().get(kommunkod)
    if known is None:
        fail(cli.t(T["bad_code"], code=kommunkod), EXIT_USAGE)
    campaign = _campaign(cli, engine, name)
    assert campaign.id is not None
    names = _target_names(engine, campaign.id)
    if kommunkod not in names:
        fail(
            cli.t(T["not_target"], code=kommunkod, name=known.name, campaign=campaign.name),
            EXIT_USAGE,
        )
    return campaign, names[kommunkod] or known.name


def _target_names(engine: Engine, campaign_id: int) -> dict[str, str]:
    with Session(engine) as session:
        targets = session.exec(select(Target).where(Target.campaign_id == campaign_id)).all()
    official = municipalities()
    return {
        t.kommunkod: t.name or (official[t.kommunkod].name if t.kommunkod in official else "")
        for t in targets
    }


def _entered(
    session: Session, campaign_id: int, kommunkod: str, measure_id: str
) -> MeasureValue | None:
    return session.exec(
        select(MeasureValue).where(
            MeasureValue.campaign_id == campaign_id,
            MeasureValue.kommunkod == kommunkod,
            MeasureValue.measure == measure_id,
        )
    ).first()


def _row_dict(row: MeasureValue) -> dict[str, Any]:
    return {
        "value": row.value,
        "unit": row.unit,
        "period": row.period,
        "note": row.note,
        "entered_by": row.entered_by,
    }


def _audit(
    at: datetime,
    action: str,
    campaign_id: int,
    kommunkod: str,
    measure_id: str,
    before: dict[str, Any] | None,
    after: MeasureValue | None,
    reason: str | None,
) -> AuditEntry:
    return AuditEntry(
        at=at,
        actor=_actor(),
        action=action,
        entity="measure_value",
        entity_id=f"{campaign_id}/{kommunkod}/{measure_id}",
        before=before,
        after=_row_dict(after) if after is not None else None,
        reason=reason,
    )


def _title(cli: CliContext, spec: OtherMeasure) -> str:
    return spec.title_sv if cli.lang == "sv" else spec.title_en


def _number(value: float, lang: Lang) -> str:
    """45.0 → "45", 45.5 → "45,5" in Swedish, "45.5" in English."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text.replace(".", ",") if lang == "sv" else text


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"
