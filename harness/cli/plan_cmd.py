"""``kkik plan SCENARIO``: show the campaign plan, and store it with ``--save``."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from sqlmodel import Session

from harness.campaign.planning import CampaignPlan, plan_scenario
from harness.campaign.readiness import scenario_problems
from harness.cli.common import EXIT_USAGE, CliContext, fail, open_database, state
from harness.core.config import ConfigError
from harness.core.config_messages import format_problem
from harness.core.i18n import Lang, Text
from harness.store.planstore import plan_key, save_plan
from results.planner import PlanError

T = {
    "help": Text(
        "Visa kampanjens plan: när varje fråga skickas och varje samtal rings. "
        "--save sparar den (igen utan dubbletter; redan skickade frågor rörs inte).",
        "Show the campaign plan: when each question is sent and each call placed. "
        "--save stores it (again without duplicates; questions already sent are untouched).",
    ),
    "seed": Text("Slumpfrö (standard: kampanjens seed).", "Random seed (default: the campaign's)."),
    "json": Text("Skriv JSON.", "Print JSON."),
    "save": Text("Spara planen i databasen.", "Store the plan in the database."),
    "infeasible": Text("Planen går inte att lägga: {error}", "The plan cannot be made: {error}"),
    "summary": Text(
        "{name}: {targets} kommuner, {emails} e-postfrågor och {calls} samtal, "
        "{start} – {end} (seed {seed})",
        "{name}: {targets} municipalities, {emails} e-mail questions and {calls} calls, "
        "{start} – {end} (seed {seed})",
    ),
    "head": Text(
        "kommun                 e-post  samtal  första            sista             områden",
        "municipality           e-mail  calls   first             last              areas",
    ),
    "table": Text(
        "tid               dag  kommun            kanal   fråga               person",
        "time              day  municipality      channel question            persona",
    ),
    "placeholder": Text(
        "OBS: {names} är platshållare; byt till riktiga adresser och nummer före körning.",
        "NOTE: {names} are placeholders; put in real addresses and numbers before running.",
    ),
    "saved": Text(
        "Sparat i {url}: {created} nya, {updated} uppdaterade, {replanned} planerade på nytt "
        "efter fel hos oss, {untouched} redan igång (orörda), {cancelled} strukna.",
        "Saved to {url}: {created} new, {updated} updated, {replanned} planned again after a "
        "fault on our side, {untouched} already under way (untouched), {cancelled} withdrawn.",
    ),
    "not_saved": Text(
        "Inget sparat. Rätta scenariot och spara igen.",
        "Nothing saved. Correct the scenario and save again.",
    ),
}
DAYS = {
    "sv": ["mån", "tis", "ons", "tor", "fre", "lör", "sön"],
    "en": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
}
CHANNEL = {"sv": {"email": "e-post", "phone": "samtal"}, "en": {"email": "e-mail", "phone": "call"}}


def build(lang: Lang) -> click.Command:
    @click.command("plan", help=T["help"](lang))
    @click.argument("scenario", metavar="SCENARIO")
    @click.option("--seed", type=int, help=T["seed"](lang))
    @click.option("--json", "as_json", is_flag=True, help=T["json"](lang))
    @click.option("--save", is_flag=True, help=T["save"](lang))
    @click.pass_context
    def plan_cmd(
        ctx: click.Context, scenario: str, seed: int | None, as_json: bool, save: bool
    ) -> None:
        cli = state(ctx)
        settings, base_dir = cli.settings(required=save)
        try:
            made = plan_scenario(Path(scenario), settings, seed)
        except ConfigError as exc:
            for problem in exc.problems:
                click.echo(format_problem(problem, cli.lang), err=True)
            raise SystemExit(EXIT_USAGE) from None
        except PlanError as exc:
            fail(cli.t(T["infeasible"], error=exc), EXIT_USAGE)
        zone = ZoneInfo(settings.timezone)
        if save:
            # A campaign that cannot run as saved is refused before anything is written: the
            # unedited template used to burn every probe within a minute of `kkik run`.
            today = cli.clock.now().astimezone(zone).date()
            problems = scenario_problems(made.scenario, scenario, today)
            if problems:
                for problem in problems:
                    click.echo(format_problem(problem, cli.lang), err=True)
                click.echo(cli.t(T["not_saved"]), err=True)
                raise SystemExit(EXIT_USAGE)
        if as_json:
            click.echo(json.dumps(_as_json(made, zone), ensure_ascii=False, indent=2))
        else:
            _print(cli, made, zone, seed)
        if save:
            engine, shown = open_database(cli, settings, base_dir)
            with Session(engine) as session:
                result = save_plan(session, made.scenario, made.bank, made.probes, cli.clock.now())
            click.echo(
                cli.t(
                    T["saved"],
                    url=shown,
                    created=result.created,
                    updated=result.updated,
                    replanned=result.replanned,
                    untouched=result.untouched,
                    cancelled=result.cancelled,
                ),
                err=as_json,
            )

    return plan_cmd


def _as_json(made: CampaignPlan, zone: ZoneInfo) -> dict[str, object]:
    areas = {q.code: q.area for q in made.bank}
    return {
        "campaign": made.scenario.campaign.name,
        "probes": [
            {
                "key": plan_key(p),
                "target": p.target,
                "channel": p.channel,
                "at": p.at.astimezone(zone).isoformat(),
                "question": p.question,
                "area": areas[p.question],
                "persona": made.scenario.personas[p.persona].name,
            }
            for p in made.probes
        ],
    }


def _print(cli: CliContext, made: CampaignPlan, zone: ZoneInfo, seed: int | None) -> None:
    lang = cli.lang
    spec = made.scenario.campaign
    names = {t.kommunkod: t.official_name for t in made.scenario.targets}
    areas = {q.code: q.area for q in made.bank}
    count = Counter(p.channel for p in made.probes)
    click.echo(
        cli.t(
            T["summary"],
            name=spec.name,
            targets=len(names),
            emails=count["email"],
            calls=count["phone"],
            start=spec.period_start,
            end=spec.period_end,
            seed=spec.seed if seed is None else seed,
        )
    )
    click.echo("")
    click.echo(cli.t(T["head"]))
    for code, name in names.items():
        own = [p for p in made.probes if p.target == code]
        per = Counter(p.channel for p in own)
        first = min((p.at for p in own), default=None)
        last = max((p.at for p in own), default=None)
        area_count = len({areas[p.question] for p in own})
        click.echo(
            f"{code} {name[:16]:<16}  {per['email']:>6}  {per['phone']:>6}  "
            f"{_when(first, zone):<16}  {_when(last, zone):<16}  {area_count}"
        )
    click.echo("")
    click.echo(cli.t(T["table"]))
    personas = made.scenario.personas
    for p in sorted(made.probes, key=lambda p: (p.at, p.target)):
        local = p.at.astimezone(zone)
        click.echo(
            f"{local:%Y-%m-%d %H:%M}  {DAYS[lang][local.weekday()]:<4} {p.target} "
            f"{names[p.target][:12]:<12} {CHANNEL[lang][p.channel]:<7} {p.question:<19} "
            f"{personas[p.persona].name}"
        )
    placeholders = [t.official_name for t in made.scenario.targets if t.placeholder]
    if placeholders:
        click.echo("")
        click.echo(cli.t(T["placeholder"], names=", ".join(placeholders)))


def _when(at: datetime | None, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M") if at else "–"
