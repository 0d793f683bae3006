"""``kkik call``: list calls, show a call's timeline, mark a person reached, record an assessment.

The mark is timed by the harness clock at the moment the command runs (the tester types it while
the call is going on); the assessment is a person's judgement and is kept apart from the
automatic evidence, with every change in the audit log.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import click
from sqlalchemy import Engine
from sqlmodel import Session, select

from harness import phonestore
from harness.cli.common import (
    EXIT_FAILURE,
    EXIT_USAGE,
    CliContext,
    actor,
    audit_entry,
    fail,
    open_database,
    state,
)
from harness.evidence import call_rows
from harness.i18n import Lang, Text
from harness.models import Assessment, Channel, Probe, ProbeState
from harness.wiring import timeline_rules

LEVELS = {3: Text("mycket god", "very good"), 2: Text("god", "good"), 1: Text("medelgod", "fair"),
          0: Text("dålig", "poor")}  # fmt: skip
OUTCOMES = {
    "busy": Text("upptaget", "busy"),
    "no_answer": Text("inget svar", "no answer"),
    "failed": Text("misslyckat (vårt fel)", "failed (our side)"),
    "no_person": Text("ingen person inom spärrtiden", "no person within the hold limit"),
    "person": Text("person nådd", "person reached"),
}
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
        "Markera att en person svarat (person) eller att du kopplats vidare (transfer), nu.",
        "Mark that a person answered (person) or that you were transferred (transfer), now.",
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
    "reason": Text("Varför bedömningen ändras (sparas i loggen).", "Why it changes (logged)."),
    "no_probe": Text("Inget samtal med id {probe}.", "No call with id {probe}."),
    "not_call": Text("Mätning {probe} är inget samtal.", "Probe {probe} is not a call."),
    "not_placed": Text(
        "Samtal {probe} är inte uppringt ({state}).", "Call {probe} has not been placed ({state})."
    ),
    "marked": Text(
        "{what} markerat för samtal {probe} kl. {at}.", "{what} marked for call {probe} at {at}."
    ),
    "person": Text("Person nådd", "Person reached"),
    "transfer": Text("Vidarekoppling", "Transfer"),
    "automated": Text(
        "Samtal {probe} var automatiskt: direkt svar och bemötande bedöms bara i kopplade samtal.",
        "Call {probe} was automated: direct answer and treatment are assessed on bridged calls "
        "only.",
    ),
    "no_person": Text(
        "Samtal {probe} nådde ingen person ({outcome}); det finns inget att bedöma.",
        "Call {probe} reached no person ({outcome}); there is nothing to assess.",
    ),
    "unfinished": Text(
        "Samtal {probe} pågår eller saknar slutstatus; bedöm när det är klart.",
        "Call {probe} is running or has no final status; assess it when it has ended.",
    ),
    "assessed": Text(
        "Samtal {probe}: direkt svar {direct}, bemötande {level} ({points}).",
        "Call {probe}: direct answer {direct}, treatment {level} ({points}).",
    ),
    "yes": Text("ja", "yes"),
    "no": Text("nej", "no"),
    "none": Text("Inga samtal väntar på bedömning.", "No calls await assessment."),
    "header": Text(
        "id    kommun            uppringt          läge       utfall                        "
        "svar   person  bedömning",
        "id    municipality      dialled           mode       outcome                       "
        "answer person  assessment",
    ),
    "waiting": Text("väntar", "waiting"),
}
DIRECT = {"yes": True, "ja": True, "no": False, "nej": False}


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
            click.echo(
                f"{r['probe']:<5} {r['name'][:17]:<17} {_local(r['dial_at'], zone):<17} "
                f"{r['mode']:<10} {outcome[:29]:<29} {_secs(r['time_to_answer']):>6} "
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
        for key in ("dial_at", "ringing_at", "answered_at", "person_at", "transferred_at",
                    "ended_at"):  # fmt: skip
            click.echo(f"{key:<16} {_local(row[key], zone, seconds=True)}")
        for key in ("time_to_answer", "time_to_person", "queue_time"):
            click.echo(f"{key:<16} {_secs(row[key])}")
        outcome = cli.t(OUTCOMES[row["outcome"]]) if row["outcome"] else cli.t(T["waiting"])
        click.echo(f"{'outcome':<16} {outcome}")
        for key in ("fault_reason", "answered_by", "call_sid"):
            if row[key]:
                click.echo(f"{key:<16} {row[key]}")
        for note in row["notes"]:
            click.echo(f"note             {note}")

    @call.command("mark", help=T["mark"](lang))
    @click.argument("probe_id", type=int, metavar="PROBE")
    @click.argument("what", type=click.Choice(["person", "transfer"]))
    @click.pass_context
    def mark_cmd(ctx: click.Context, probe_id: int, what: str) -> None:
        cli = state(ctx)
        settings, base_dir = cli.settings(required=False)
        engine, _ = open_database(cli, settings, base_dir)
        at = cli.clock.now()
        probe = _get_call(cli, engine, probe_id)
        if probe.state not in (ProbeState.SENDING, ProbeState.SENT, ProbeState.COMPLETED):
            fail(cli.t(T["not_placed"], probe=probe_id, state=probe.state), EXIT_FAILURE)
        with Session(engine) as session:
            phonestore.add_mark(session, probe, what, at, actor())
            session.add(
                audit_entry(at, f"mark_{what}", "probe", probe_id, None, {"at": at.isoformat()})
            )
            session.commit()
        zone = ZoneInfo(settings.timezone)
        click.echo(
            cli.t(T["marked"], what=cli.t(T[what]), probe=probe_id, at=_local(at, zone, True))
        )

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
    @click.option(
        "--bemotande",
        required=True,
        prompt=T["bemotande_prompt"](lang),
        type=click.IntRange(0, 3),
        help=T["bemotande"](lang),
    )
    @click.option("--note", default=None, help=T["note"](lang))
    @click.option("--reason", default=None, help=T["reason"](lang))
    @click.pass_context
    def assess_cmd(
        ctx: click.Context,
        probe_id: int,
        direct: str,
        bemotande: int,
        note: str | None,
        reason: str | None,
    ) -> None:
        cli = state(ctx)
        settings, base_dir = cli.settings(required=False)
        engine, _ = open_database(cli, settings, base_dir)
        probe = _get_call(cli, engine, probe_id)
        if probe.mode == "automated":
            fail(cli.t(T["automated"], probe=probe_id), EXIT_USAGE)
        row = next(r for r in call_rows(engine, timeline_rules(settings), probe_id))
        if row["outcome"] is None:
            fail(cli.t(T["unfinished"], probe=probe_id), EXIT_FAILURE)
        if row["outcome"] != "person":
            outcome = cli.t(OUTCOMES[row["outcome"]])
            fail(cli.t(T["no_person"], probe=probe_id, outcome=outcome), EXIT_FAILURE)
        now = cli.clock.now()
        answer = DIRECT[direct.lower()]
        with Session(engine) as session:
            found = session.exec(select(Assessment).where(Assessment.probe_id == probe_id)).first()
            before = _assessment_dict(found) if found else None
            assessment = found or Assessment(
                probe_id=probe_id, assessor=actor(), person_reached=True, assessed_at=now
            )
            assessment.direct_answer = answer
            assessment.bemotande = bemotande
            assessment.person_reached = True
            assessment.transferred = row["transferred_at"] is not None
            assessment.notes = note if note is not None else assessment.notes
            assessment.assessor = actor()
            assessment.assessed_at = now
            session.add(assessment)
            action = "assess" if before is None else "reassess"
            session.add(
                audit_entry(
                    now, action, "probe", probe_id, before, _assessment_dict(assessment), reason
                )
            )
            session.commit()
        click.echo(
            cli.t(
                T["assessed"],
                probe=probe_id,
                direct=cli.t(T["yes" if answer else "no"]),
                level=cli.t(LEVELS[bemotande]),
                points=bemotande,
            )
        )

    return call


def _get_call(cli: CliContext, engine: Engine, probe_id: int) -> Probe:
    with Session(engine) as session:
        probe = session.get(Probe, probe_id)
    if probe is None:
        fail(cli.t(T["no_probe"], probe=probe_id), EXIT_USAGE)
    if probe.channel != Channel.PHONE:
        fail(cli.t(T["not_call"], probe=probe_id), EXIT_USAGE)
    return probe


def _assessment_dict(a: Assessment) -> dict[str, Any]:
    return {
        "direct_answer": a.direct_answer,
        "bemotande": a.bemotande,
        "transferred": a.transferred,
        "notes": a.notes,
        "assessor": a.assessor,
    }


def _local(value: str | datetime | None, zone: ZoneInfo, seconds: bool = False) -> str:
    if value is None:
        return "–"
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def _secs(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f} s"
