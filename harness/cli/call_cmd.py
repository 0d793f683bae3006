"""``kkik call``: list calls, show a call's timeline, mark a person reached, record an assessment.

The mark is timed by the harness clock at the moment the command runs (the tester types it while
the call is going on); the assessment is a person's judgement and is kept apart from the
automatic evidence, with every change in the audit log.
"""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import click
from sqlalchemy import Engine
from sqlmodel import Session

from harness import messages
from harness.campaign.evidence import call_rows
from harness.cli.common import (
    YES_NO_WORDS,
    CliContext,
    fail_service,
    open_database,
    service_context,
    state,
)
from harness.core.i18n import Lang, Text
from harness.core.labels import ANSWERED_BY, CALL_MODES, call_note_text, fault_text, label
from harness.messages import OUTCOMES
from harness.rules.measurement import timeline_rules
from harness.services.base import ServiceError
from harness.services.calls import AssessCall, Mark, MarkCall, assess_call, mark_call
from harness.store.models import Channel, Probe

T = {
    "group": Text("Samtal: lista, visa, markera och bedöm.", "Calls: list, show, mark and assess."),
    "list": Text(
        "Lista samtal; utan --all bara de som väntar på bedömning.",
        "List calls; without --all only those awaiting assessment.",
    ),
    "all": Text("Visa alla samtal.", "Show every call."),
    "json": Text("Skriv JSON.", "Write JSON."),
    "show": Text(
        "Visa ett samtals tidslinje och bedömning.", "Show a call's timeline and assessment."
    ),
    "mark": Text(
        "Markera nu att en person svarat (person), att du kopplats vidare (transfer) eller att "
        "du nått en handläggare (case_officer).",
        "Mark now that a person answered (person), that you were transferred (transfer) or that "
        "you reached a case officer (case_officer).",
    ),
    "assess": Text(
        "Bedöm ett samtal: fick du svar direkt, och bemötandet: 3 mycket god, 2 god, "
        "1 medelgod, 0 dålig.",
        "Assess a call: did you get a direct answer, and the treatment: 3 very good, 2 good, "
        "1 fair, 0 poor.",
    ),
    "direct": Text("Fick frågan svar i samtalet (yes/no)?", "Was the question answered (yes/no)?"),
    "bemotande": Text(
        "Bemötande: 3 mycket god, 2 god, 1 medelgod, 0 dålig.",
        "Treatment: 3 very good, 2 good, 1 fair, 0 poor.",
    ),
    "direct_prompt": Text("Fick du svar på frågan i samtalet", "Was the question answered"),
    "bemotande_prompt": Text(
        "Bemötande (3 mycket god, 2 god, 1 medelgod, 0 dålig)",
        "Treatment (3 mycket god/very good, 2 god/good, 1 medelgod/fair, 0 dålig/poor)",
    ),
    "note": Text("Kommentar.", "Note."),
    "bemotande_2011": Text(
        "Bemötandet på 2011 års skala, för en kampanj av den utgåvan: god, medelgod eller dålig.",
        "Treatment on the 2011 scale, for a campaign of that edition: good, fair or poor "
        "(god, medelgod, dålig).",
    ),
    "case_officer": Text(
        "Nådde du en handläggare (inte bara växeln)? ja/nej; utan valet avgör markeringen under "
        "samtalet.",
        "Did you reach a case officer (not only the switchboard)? yes/no; without it, the mark "
        "during the call decides.",
    ),
    "reason": Text("Varför bedömningen ändras (sparas i loggen).", "Why it changes (logged)."),
    "yes": Text("ja", "yes"),
    "no": Text("nej", "no"),
    "none": Text("Inga samtal väntar på bedömning.", "No calls await assessment."),
    "header": Text(
        "id    kommun            uppringt          läge        utfall                        "
        "svar   person  bedömning",
        "id    municipality      dialled           mode        outcome                       "
        "answer person  assessment",
    ),
    "waiting": Text("väntar", "waiting"),
}
DIRECT = YES_NO_WORDS  # the direct answer and the case officer: yes or no
#: Edition 2011's three levels as typed, in Swedish or English.
LEVEL_WORDS_2011 = {"god": 2, "good": 2, "medelgod": 1, "fair": 1, "dålig": 0, "dalig": 0,
                    "poor": 0}  # fmt: skip

# The mode in the list's narrow column.
SHORT_MODES = {"bridged": Text("testare", "tester"), "automated": Text("automatiskt", "automated")}
# `kkik call show` in words; --json keeps the field names for machines.
SHOW_FIELDS = {
    "dial_at": Text("uppringning", "dialled"),
    "ringing_at": Text("ringsignal", "ringing"),
    "answered_at": Text("växeln svarade", "answered"),
    "person_at": Text("person nådd", "person reached"),
    "transferred_at": Text("kopplad", "transferred"),
    "ended_at": Text("avslutat", "ended"),
    "time_to_answer": Text("tid till svar (s)", "time to answer (s)"),
    "time_to_person": Text("tid till person (s)", "time to a person (s)"),
    "queue_time": Text("kötid (s)", "queue time (s)"),
    "mode": Text("läge", "mode"),
    "outcome": Text("utfall", "outcome"),
    "fault_reason": Text("fel hos oss", "fault on our side"),
    "answered_by": Text("svarade", "answered by"),
    "call_sid": Text("Twilios samtals-id", "Twilio call id"),
    "note": Text("anmärkning", "note"),
}


def build(lang: Lang) -> click.Group:
    @click.group("call", help=T["group"](lang))
    def call() -> None:
        pass

    @call.command("list", help=T["list"](lang))
    @click.option("--all", "show_all", is_flag=True, help=T["all"](lang))
    @click.option("--json", "as_json", is_flag=True, help=T["json"](lang))
    @click.pass_context
    def list_cmd(ctx: click.Context, show_all: bool, as_json: bool) -> None:
        cli = state(ctx)
        settings, base_dir = cli.settings(required=False)
        engine, _ = open_database(cli, settings, base_dir)
        rows = call_rows(engine, timeline_rules(settings))
        if not show_all:
            rows = [r for r in rows if r["awaiting_assessment"]]
        if as_json:
            click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
            return
        if not rows:
            click.echo(cli.t(T["none"]))
            return
        zone = ZoneInfo(settings.timezone)
        click.echo(cli.t(T["header"]))
        for r in rows:
            outcome = cli.t(OUTCOMES[r["outcome"]]) if r["outcome"] else cli.t(T["waiting"])
            assessed = (
                f"{(r['direct_answer'] and cli.t(T['yes'])) or cli.t(T['no'])}/{r['bemotande']}"
                if r["assessed"]
                else ("–" if not r["awaiting_assessment"] else cli.t(T["waiting"]))
            )
            mode = label(SHORT_MODES, r["mode"], cli.lang)
            click.echo(
                f"{r['probe']:<5} {r['name'][:17]:<17} {_local(r['dial_at'], zone):<17} "
                f"{mode:<11} {outcome[:29]:<29} {_secs(r['time_to_answer']):>6} "
                f"{_secs(r['time_to_person']):>6}  {assessed}"
            )

    @call.command("show", help=T["show"](lang))
    @click.argument("probe_id", type=int, metavar="PROBE")
    @click.option("--json", "as_json", is_flag=True, help=T["json"](lang))
    @click.pass_context
    def show_cmd(ctx: click.Context, probe_id: int, as_json: bool) -> None:
        cli = state(ctx)
        settings, base_dir = cli.settings(required=False)
        engine, _ = open_database(cli, settings, base_dir)
        _get_call(cli, engine, probe_id)
        row = next(r for r in call_rows(engine, timeline_rules(settings), probe_id))
        if as_json:
            click.echo(json.dumps(row, ensure_ascii=False, indent=2))
            return
        zone = ZoneInfo(settings.timezone)
        times = ("dial_at", "ringing_at", "answered_at", "person_at", "transferred_at", "ended_at")
        spans = ("time_to_answer", "time_to_person", "queue_time")
        shown = [(key, _local(row[key], zone, seconds=True)) for key in times]
        shown += [(key, _secs(row[key])) for key in spans]
        shown.append(("mode", label(CALL_MODES, row["mode"], cli.lang)))
        outcome = cli.t(OUTCOMES[row["outcome"]]) if row["outcome"] else cli.t(T["waiting"])
        shown.append(("outcome", outcome))
        if row["fault_code"] or row["fault_reason"]:
            why = fault_text(
                row["fault_code"], row["fault_params"], cli.lang, fallback=row["fault_reason"]
            )
            shown.append(("fault_reason", why))
        if row["answered_by"]:
            shown.append(("answered_by", label(ANSWERED_BY, row["answered_by"], cli.lang)))
        if row["call_sid"]:
            shown.append(("call_sid", row["call_sid"]))
        shown += [("note", call_note_text(note, cli.lang)) for note in row["notes"]]
        names = {key: cli.t(SHOW_FIELDS[key]) for key, _ in shown}
        width = max(len(name) for name in names.values()) + 1
        for key, value in shown:
            click.echo(f"{names[key]:<{width}} {value}")

    @call.command("mark", help=T["mark"](lang))
    @click.argument("probe_id", type=int, metavar="PROBE")
    @click.argument("what", type=click.Choice(["person", "transfer", "case_officer"]))
    @click.pass_context
    def mark_cmd(ctx: click.Context, probe_id: int, what: Mark) -> None:
        cli = state(ctx)
        service = service_context(cli)
        try:
            done = mark_call(service, MarkCall(probe_id, what))
        except ServiceError as exc:
            fail_service(cli, exc)
        zone = ZoneInfo(service.settings.timezone)
        click.echo(messages.marked(cli.lang, probe_id, what, _local(done.at, zone, True)))

    @call.command("assess", help=T["assess"](lang))
    @click.argument("probe_id", type=int, metavar="PROBE")
    @click.option(
        "--direct-answer",
        "direct",
        required=True,
        prompt=T["direct_prompt"](lang),
        type=click.Choice(sorted(DIRECT), case_sensitive=False),
        help=T["direct"](lang),
    )
    @click.option("--bemotande", type=click.IntRange(0, 3), default=None, help=T["bemotande"](lang))
    @click.option(
        "--bemotande-2011",
        "bemotande_2011",
        type=click.Choice(sorted(LEVEL_WORDS_2011), case_sensitive=False),
        default=None,
        help=T["bemotande_2011"](lang),
    )
    @click.option(
        "--case-officer",
        "case_officer",
        type=click.Choice(sorted(DIRECT), case_sensitive=False),
        default=None,
        help=T["case_officer"](lang),
    )
    @click.option("--note", default=None, help=T["note"](lang))
    @click.option("--reason", default=None, help=T["reason"](lang))
    @click.pass_context
    def assess_cmd(
        ctx: click.Context,
        probe_id: int,
        direct: str,
        bemotande: int | None,
        bemotande_2011: str | None,
        case_officer: str | None,
        note: str | None,
        reason: str | None,
    ) -> None:
        cli = state(ctx)
        if bemotande is None and bemotande_2011 is None:  # asked, as the direct answer is
            bemotande = click.prompt(T["bemotande_prompt"](lang), type=click.IntRange(0, 3))
        request = AssessCall(
            probe_id,
            DIRECT[direct.lower()],
            bemotande,
            note,
            reason,
            bemotande_2011=None
            if bemotande_2011 is None
            else LEVEL_WORDS_2011[bemotande_2011.lower()],
            case_officer=None if case_officer is None else DIRECT[case_officer.lower()],
        )
        try:
            done = assess_call(service_context(cli), request)
        except ServiceError as exc:
            fail_service(cli, exc)
        click.echo(
            messages.assessed(
                cli.lang,
                probe_id,
                done.direct_answer,
                done.bemotande,
                done.bemotande_2011,
                done.case_officer,
            )
        )

    return call


def _get_call(cli: CliContext, engine: Engine, probe_id: int) -> Probe:
    with Session(engine) as session:
        probe = session.get(Probe, probe_id)
    if probe is None:
        fail_service(cli, ServiceError("no_call", probe=probe_id))
    if probe.channel != Channel.PHONE:
        fail_service(cli, ServiceError("not_call", probe=probe_id))
    return probe


def _local(value: str | datetime | None, zone: ZoneInfo, seconds: bool = False) -> str:
    if value is None:
        return "–"
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def _secs(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f} s"
