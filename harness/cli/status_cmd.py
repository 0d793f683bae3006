"""``kkik status``: the campaign's progress per municipality, one table per channel.

E-mail: planned, sent, answered, waiting for an answer; phone: planned, placed, a person
reached, waiting for assessment; both with our own faults and the next slot. The counts come
from :func:`harness.services.progress.campaign_progress`, which reads the evidence as scoring
does. Without a configuration file the command says so and writes nothing: it used to create an
empty database in the current folder.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import click

from harness.cli.common import CliContext, actor, assembly, fail_service, no_collection, state
from harness.core.i18n import Lang, Text

if TYPE_CHECKING:
    from harness.services.progress import CampaignProgress, TargetProgress

T = {
    "help": Text(
        "Visa kampanjens framsteg per kommun och kanal: e-post (skickade, besvarade, väntar på "
        "svar) och telefon (ringda, nådde en person, väntar på bedömning).",
        "Show the campaign's progress per municipality and channel: e-mail (sent, answered, "
        "waiting for an answer) and phone (placed, reached a person, waiting for assessment).",
    ),
    "paused": Text(" [pausad]", " [paused]"),
    "target_paused": Text(" (paus)", " (paused)"),
    "email": Text("E-post", "E-mail"),
    "phone": Text("Telefon", "Phone"),
    "no_targets": Text("Kampanjen har inga kommuner.", "The campaign has no municipalities."),
    "no_email": Text(
        "E-post: inga frågor i planen (kampanjen har inga e-postfrågor).",
        "E-mail: no questions in the plan (the campaign has no e-mail questions).",
    ),
    "no_phone": Text(
        "Telefon: inga samtal i planen (kampanjen har inga telefonsamtal).",
        "Phone: no calls in the plan (the campaign has no phone calls).",
    ),
    "all_withdrawn": Text(
        "Alla frågor och samtal är strukna; inget återstår att skicka.",
        "Every question and call has been withdrawn; nothing is left to send.",
    ),
    "not_started": Text(
        "Inget skickat ännu: första utskicket är planerat till {at}.",
        "Nothing sent yet: the first is planned for {at}.",
    ),
    "not_started_paused": Text(
        "Inget skickat ännu, och kampanjen är pausad: `kkik resume` återupptar den.",
        "Nothing sent yet, and the campaign is paused: `kkik resume` resumes it.",
    ),
    "to_assess": Text(
        "{n} samtal väntar på bedömning: se `kkik call list`.",
        "{n} calls wait for assessment: see `kkik call list`.",
    ),
    "to_assess_one": Text(
        "1 samtal väntar på bedömning: se `kkik call list`.",
        "1 call waits for assessment: see `kkik call list`.",
    ),
    "in_doubt": Text(
        "{n} utskick i ovisshet väntar på ditt beslut: se `kkik resolve`.",
        "{n} sends in doubt wait for your decision: see `kkik resolve`.",
    ),
}
EMAIL_COLUMNS = (
    Text("planerade", "planned"),
    Text("skickade", "sent"),
    Text("besvarade", "answered"),
    Text("väntar", "waiting"),
    Text("fel", "faults"),
)
PHONE_COLUMNS = (
    Text("planerade", "planned"),
    Text("ringda", "placed"),
    Text("nådde person", "person reached"),
    Text("att bedöma", "to assess"),
    Text("fel", "faults"),
)
NEXT = Text("nästa", "next")
BAR = 30  # characters of the progress bar


def build(lang: Lang) -> click.Command:
    @click.command("status", help=T["help"](lang))
    @click.pass_context
    def status_cmd(ctx: click.Context) -> None:
        cli = state(ctx)
        with no_collection(cli):
            _status(cli)

    return status_cmd


def _status(cli: CliContext) -> None:
    from harness.services.base import ServiceError
    from harness.services.progress import campaign_progress

    # required: without a configuration file, one line saying how to make one (exit 2),
    # never an empty kkik.db in whatever folder the command was run from.
    process = assembly(cli, required=True)
    try:
        progress = campaign_progress(process.context(actor()))
    except ServiceError as exc:
        fail_service(cli, exc, process.settings.timezone)
    show(cli, progress, ZoneInfo(process.settings.timezone))


def show(cli: CliContext, progress: CampaignProgress, zone: ZoneInfo) -> None:
    paused = cli.t(T["paused"]) if progress.paused else ""
    filled = round(BAR * progress.done / progress.planned) if progress.planned else 0
    click.echo(f"{progress.name}{paused}")
    click.echo(f"[{'#' * filled}{'.' * (BAR - filled)}] {progress.done}/{progress.planned}")
    if not progress.targets:
        click.echo(cli.t(T["no_targets"]))
        return
    names = {t.kommunkod: _name(cli, t) for t in progress.targets}
    width = max(len(name) for name in names.values())
    for channel in ("email", "phone"):
        click.echo("")
        if channel not in progress.channels:
            click.echo(cli.t(T[f"no_{channel}"]))
            continue
        columns = EMAIL_COLUMNS if channel == "email" else PHONE_COLUMNS
        labels = [cli.t(c) for c in columns]
        click.echo(
            f"{cli.t(T[channel]):<{width}} "
            + " ".join(f"{label:>{max(len(label), 3)}}" for label in labels)
            + f"  {cli.t(NEXT)}"
        )
        for target in progress.targets:
            counts, due = _counts(target, channel)
            cells = " ".join(
                f"{n:>{max(len(label), 3)}}" for n, label in zip(counts, labels, strict=True)
            )
            click.echo(f"{names[target.kommunkod]:<{width}} {cells}  {_local(due, zone)}")
    notes = _notes(cli, progress, zone)
    if notes:
        click.echo("")
        for note in notes:
            click.echo(note)


def _name(cli: CliContext, target: TargetProgress) -> str:
    mark = cli.t(T["target_paused"]) if target.paused else ""
    return f"{target.kommunkod} {target.name[:14]}{mark}"


def _counts(target: TargetProgress, channel: str) -> tuple[list[int], datetime | None]:
    if channel == "email":
        e = target.email
        return [e.planned, e.sent, e.answered, e.waiting, e.faults], e.next_due
    p = target.phone
    return [p.planned, p.placed, p.person, p.to_assess, p.faults], p.next_due


def _notes(cli: CliContext, progress: CampaignProgress, zone: ZoneInfo) -> list[str]:
    """Why a table is empty, and what waits for a person."""
    notes = []
    if progress.planned == 0:
        notes.append(cli.t(T["all_withdrawn"]))
    elif progress.done == 0 and progress.in_doubt == 0:
        if progress.paused:
            notes.append(cli.t(T["not_started_paused"]))
        elif progress.next_due is not None:
            notes.append(cli.t(T["not_started"], at=_local(progress.next_due, zone)))
    to_assess = sum(t.phone.to_assess for t in progress.targets)
    if to_assess:
        notes.append(cli.t(T["to_assess_one"] if to_assess == 1 else T["to_assess"], n=to_assess))
    if progress.in_doubt:
        notes.append(cli.t(T["in_doubt"], n=progress.in_doubt))
    return notes


def _local(at: datetime | None, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M") if at else "–"
