"""``kkik calendar``: the working-time arithmetic behind "answered within N working days"."""

from __future__ import annotations

import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

import click

from harness.cli.common import CliContext, DayType, InstantType, in_zone, state
from harness.core.i18n import Lang, Text
from harness.rules.calendars import work_calendar
from results.calendar import DeadlineRule, WorkCalendar

GROUP_HELP = Text(
    "Arbetsdagar och kontorstid (Europe/Stockholm).",
    "Working days and office hours (Europe/Stockholm).",
)
CHECK_HELP = Text(
    "Räkna arbetstid mellan fråga och svar och om svaret kom inom N arbetsdagar. "
    "Tider utan tidszon tolkas som svensk tid.",
    "Compute working time between question and answer and whether the answer came within "
    "N working days. Times without a zone are read as Swedish local time.",
)
DAYS_HELP = Text(
    "Lista årets vardagar som inte är arbetsdagar, med namn.",
    "List the year's weekdays that are not working days, with their names.",
)
SENT_HELP = Text("När frågan togs emot (ISO 8601).", "When the question was accepted (ISO 8601).")
ANSWERED_HELP = Text("När svaret kom fram (ISO 8601).", "When the answer arrived (ISO 8601).")
N_HELP = Text("Antal arbetsdagar (standard 1).", "Number of working days (default 1).")
RULE_HELP = Text(
    "office-hours: N × 9 timmar kontorstid; next-working-day: samma klockslag N arbetsdagar "
    "senare (standard: email.deadline_rule i konfigurationen, annars office-hours).",
    "office-hours: N × 9 office hours; next-working-day: the same clock time N working days "
    "later (default: email.deadline_rule from the config, else office-hours).",
)
JSON_HELP = Text("Skriv JSON.", "Print JSON.")
CLOSED_HELP = Text(
    "Extra stängd dag (klämdag), kan upprepas.", "Extra closed day (bridge day), repeatable."
)
LABELS = {
    "sent": Text("Fråga", "Question"),
    "answered": Text("Svar", "Answer"),
    "business": Text("Arbetstid", "Working time"),
    "deadline": Text("Senast", "Deadline"),
    "within": Text("Inom tiden", "Within"),
}
HOURS = Text("{hours} timmar", "{hours} hours")
RULE_NAMES = {
    DeadlineRule.OFFICE_HOURS: Text(
        "{days} × {day_hours} h kontorstid", "{days} × {day_hours} h office time"
    ),
    DeadlineRule.NEXT_WORKING_DAY_SAME_TIME: Text(
        "samma klockslag {days} arbetsdag(ar) senare", "same clock time {days} working day(s) later"
    ),
}
YES_NO = {True: Text("ja", "yes"), False: Text("nej", "no")}
WEEKDAYS = {
    "sv": ["måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag"],
    "en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
}
RULE_CHOICES = {
    "office-hours": DeadlineRule.OFFICE_HOURS,
    "next-working-day": DeadlineRule.NEXT_WORKING_DAY_SAME_TIME,
}


def _calendar(cli: CliContext, closed: tuple[date, ...]) -> tuple[WorkCalendar, DeadlineRule]:
    settings, _ = cli.settings(required=False)
    return work_calendar(settings, frozenset(closed)), DeadlineRule(settings.email.deadline_rule)


def build(lang: Lang) -> click.Group:
    @click.group("calendar", help=GROUP_HELP(lang))
    def group() -> None:
        pass

    @group.command("check", help=CHECK_HELP(lang))
    @click.option("--sent", required=True, type=InstantType(lang), help=SENT_HELP(lang))
    @click.option("--answered", required=True, type=InstantType(lang), help=ANSWERED_HELP(lang))
    @click.option("--days", default=1, type=click.IntRange(1, 60), help=N_HELP(lang))
    @click.option("--rule", type=click.Choice(list(RULE_CHOICES)), help=RULE_HELP(lang))
    @click.option("--closed", multiple=True, type=DayType(lang), help=CLOSED_HELP(lang))
    @click.option("--json", "as_json", is_flag=True, help=JSON_HELP(lang))
    @click.pass_context
    def check(
        ctx: click.Context,
        sent: datetime,
        answered: datetime,
        days: int,
        rule: str | None,
        closed: tuple[date, ...],
        as_json: bool,
    ) -> None:
        cli = state(ctx)
        calendar, configured_rule = _calendar(cli, closed)
        chosen = RULE_CHOICES[rule] if rule else configured_rule
        sent, answered = in_zone(sent, calendar.timezone), in_zone(answered, calendar.timezone)
        hours = round(calendar.business_seconds(sent, answered) / 3600, 2)
        deadline = calendar.deadline(sent, days, chosen)
        within = calendar.within(sent, answered, days, chosen)
        if as_json:
            out = {"within": within, "business_hours": hours, "deadline": deadline.isoformat()}
            click.echo(json.dumps(out))
            return
        zone = ZoneInfo(calendar.timezone)
        opening = datetime.combine(date.min, calendar.office_start)
        day_hours = (datetime.combine(date.min, calendar.office_end) - opening).seconds / 3600

        def show(instant: datetime) -> str:
            local = instant.astimezone(zone)
            return f"{local:%Y-%m-%d %H:%M} {WEEKDAYS[lang][local.weekday()]} ({local:%z})"

        number = f"{hours:.2f}".replace(".", ",") if lang == "sv" else f"{hours:.2f}"
        rule_text = RULE_NAMES[chosen](lang, days=days, day_hours=f"{day_hours:g}")
        rows = [
            (LABELS["sent"], show(sent)),
            (LABELS["answered"], show(answered)),
            (LABELS["business"], HOURS(lang, hours=number)),
            (LABELS["deadline"], f"{show(deadline)}  [{rule_text}]"),
            (LABELS["within"], YES_NO[within](lang)),
        ]
        width = max(len(label(lang)) for label, _ in rows) + 1
        for label, value in rows:
            click.echo(f"{label(lang) + ':':<{width}} {value}")

    @group.command("days", help=DAYS_HELP(lang))
    @click.argument("year", type=click.IntRange(1900, 2200))
    @click.option("--closed", multiple=True, type=DayType(lang), help=CLOSED_HELP(lang))
    @click.option("--json", "as_json", is_flag=True, help=JSON_HELP(lang))
    @click.pass_context
    def days_cmd(ctx: click.Context, year: int, closed: tuple[date, ...], as_json: bool) -> None:
        calendar, _ = _calendar(state(ctx), closed)
        rows = calendar.non_working_weekdays(year)
        if as_json:
            out = [
                {"date": d.isoformat(), "weekday": WEEKDAYS[lang][d.weekday()], "name": name}
                for d, name in rows
            ]
            click.echo(json.dumps(out, ensure_ascii=False, indent=2))
            return
        for d, name in rows:
            click.echo(f"{d.isoformat()}  {WEEKDAYS[lang][d.weekday()]:<8}  {name}")

    return group
