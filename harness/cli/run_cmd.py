"""Operator commands: ``kkik run``, ``pause``, ``resume``, ``cancel`` (``status`` is in
``status_cmd``)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import click

from harness.cli.common import (
    EXIT_FAILURE,
    EXIT_USAGE,
    NO_SECRET,
    CliContext,
    InstantType,
    assembly,
    fail,
    fail_service,
    in_zone,
    service_context,
    state,
)
from harness.core.i18n import Lang, Text

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from harness.assembly import Assembly
    from harness.campaign.runner import Runner, TickResult
    from probes.email_watch import MailWatcher

# The runner, the scheduler, the web server and the mail clients are imported by the functions
# that use them: `kkik pause` should not load FastAPI and APScheduler (issue 16, item 8).

T = {
    "run": Text(
        "Kör kampanjen: skicka frågorna när de ska ut och bevaka brevlådan. Ctrl-C avslutar.",
        "Run the campaign: send the questions when due and watch the mailbox. Ctrl-C stops.",
    ),
    "dry": Text(
        "Kontakta ingen; visa vad som skulle hända nu och härnäst.",
        "Contact nobody; show what would happen now and next.",
    ),
    "busy": Text(
        "En annan kkik run arbetar redan mot {db}; bara en åt gången.",
        "Another kkik run is already working on {db}; only one at a time.",
    ),
    "started": Text(
        "Kör mot {db}. Nästa fråga: {next}. Ctrl-C avslutar.",
        "Running against {db}. Next question: {next}. Ctrl-C stops.",
    ),
    "tick": Text(
        "{at}: {sent} skickade, {failed} fel hos oss, {rejected} avvisade, "
        "{rescheduled} flyttade, {flagged} att kontrollera",
        "{at}: {sent} sent, {failed} harness faults, {rejected} rejected, "
        "{rescheduled} moved, {flagged} to check",
    ),
    "stopped": Text("Avslutat.", "Stopped."),
    "would": Text("Skulle skicka {at}: {n}", "Would send at {at}: {n}"),
    "would_move": Text(
        "Skulle flytta (missad tid, fönstret stängt): {n}",
        "Would move (slot missed, window closed): {n}",
    ),
    "at": Text(
        "Med --dry-run: visa läget vid denna tidpunkt (ISO 8601).",
        "With --dry-run: show the situation at this time (ISO 8601).",
    ),
    "at_needs_dry": Text("--at går bara med --dry-run", "--at works only with --dry-run"),
    "upcoming": Text("Närmast på tur:", "Coming up:"),
    "none": Text("(inget planerat)", "(nothing planned)"),
    "pause": Text(
        "Pausa kampanjen (eller en kommun med --target).",
        "Pause the campaign (or one municipality with --target).",
    ),
    "resume": Text(
        "Återuppta kampanjen (eller en kommun med --target).",
        "Resume the campaign (or one municipality with --target).",
    ),
    "cancel": Text(
        "Stryk en planerad fråga (PROBE är frågans nummer).",
        "Withdraw a planned question (PROBE is its number).",
    ),
    "target": Text("Bara denna kommun (kommunkod).", "Only this municipality (kommunkod)."),
    "reason": Text("Varför (sparas i ändringsloggen).", "Why (kept in the audit log)."),
    "paused": Text("Pausad: {what}.", "Paused: {what}."),
    "resumed": Text("Återupptagen: {what}.", "Resumed: {what}."),
    "cancelled": Text("Fråga {id} struken.", "Probe {id} withdrawn."),
}


def build(lang: Lang) -> list[click.Command]:
    @click.command("run", help=T["run"](lang))
    @click.option("--dry-run", is_flag=True, help=T["dry"](lang))
    @click.option("--at", "at", type=InstantType(lang), help=T["at"](lang))
    @click.option("-v", "--verbose", count=True)
    @click.pass_context
    def run_cmd(ctx: click.Context, dry_run: bool, at: datetime | None, verbose: int) -> None:
        import asyncio

        from harness.core.config import SecretUnavailable
        from harness.store.runlock import RunLock, RunnerBusy

        cli = state(ctx)
        logging.basicConfig(level=logging.WARNING - 10 * min(verbose, 2))
        process = assembly(cli, required=True)
        settings, engine = process.settings, process.engine
        shown = engine.url.render_as_string(hide_password=True)
        try:
            runner = process.runner()
        except SecretUnavailable as exc:
            fail(cli.t(NO_SECRET, source=exc.source, detail=exc.detail), EXIT_FAILURE)
        zone = ZoneInfo(settings.timezone)
        if at is not None and not dry_run:
            fail(cli.t(T["at_needs_dry"]), EXIT_USAGE)
        if dry_run:
            when = in_zone(at, settings.timezone) if at is not None else cli.clock.now()
            _dry_run(cli, engine, runner, when, zone)
            return
        try:
            lock = RunLock(engine).acquire()
        except RunnerBusy:
            fail(cli.t(T["busy"], db=shown), EXIT_FAILURE)
        try:
            click.echo(cli.t(T["started"], db=shown, next=_local(runner.next_due(), zone)))
            asyncio.run(_serve(cli, process, runner, zone))
        finally:
            lock.release()
        click.echo(cli.t(T["stopped"]))

    @click.command("pause", help=T["pause"](lang))
    @click.option("--target", "kommunkod", metavar="KOMMUNKOD", help=T["target"](lang))
    @click.option("--reason", help=T["reason"](lang))
    @click.pass_context
    def pause_cmd(ctx: click.Context, kommunkod: str | None, reason: str | None) -> None:
        _set_paused(state(ctx), kommunkod, True, reason)

    @click.command("resume", help=T["resume"](lang))
    @click.option("--target", "kommunkod", metavar="KOMMUNKOD", help=T["target"](lang))
    @click.option("--reason", help=T["reason"](lang))
    @click.pass_context
    def resume_cmd(ctx: click.Context, kommunkod: str | None, reason: str | None) -> None:
        _set_paused(state(ctx), kommunkod, False, reason)

    @click.command("cancel", help=T["cancel"](lang))
    @click.argument("probe_id", metavar="PROBE", type=int)
    @click.option("--reason", help=T["reason"](lang))
    @click.pass_context
    def cancel_cmd(ctx: click.Context, probe_id: int, reason: str | None) -> None:
        from harness.services.base import ServiceError
        from harness.services.campaign_ops import cancel_probe

        cli = state(ctx)
        try:
            cancel_probe(service_context(cli), probe_id, reason)
        except ServiceError as exc:
            fail_service(cli, exc)
        click.echo(cli.t(T["cancelled"], id=probe_id))

    return [run_cmd, pause_cmd, resume_cmd, cancel_cmd]


async def _serve(cli: CliContext, process: Assembly, runner: Runner, zone: ZoneInfo) -> None:
    import asyncio
    import contextlib
    import signal

    from harness.campaign.scheduler import RunnerService
    from harness.cli.mail_cmd import campaign_start
    from harness.web.app import WebServer

    settings, engine = process.settings, process.engine
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    def report(result: TickResult) -> None:
        click.echo(
            cli.t(
                T["tick"],
                at=_local(cli.clock.now(), zone),
                sent=result.sent,
                failed=result.failed,
                rejected=result.rejected,
                rescheduled=result.rescheduled,
                flagged=result.flagged,
            )
        )

    service = RunnerService(runner, on_tick=report)
    tasks = [asyncio.create_task(service.run(stop))]
    watcher = process.watcher(campaign_start(engine, cli))
    if watcher is not None:
        tasks.append(asyncio.create_task(watcher.run()))
    if settings.mail is not None and settings.alerts.email_to:
        tasks.append(asyncio.create_task(_alert_loop(cli, process, watcher)))
    web: WebServer | None = None
    if settings.phone is not None:
        # Twilio's callbacks and TwiML requests are answered while the campaign runs.
        app = process.web_app()
        app.state.twilio.on_final = service.wake  # a call ended: settle it now, not at the sweep
        web = WebServer(app, settings.web.host, settings.web.port)
        await web.start()
    await stop.wait()
    if web is not None:
        await web.stop()
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _alert_loop(cli: CliContext, process: Assembly, watcher: MailWatcher | None) -> None:
    """Every minute, mail the operator about anything that needs a person."""
    from harness.campaign.alerts import Alerter, check_and_send
    from harness.channels.email.adapters import smtp_sender

    settings, engine = process.settings, process.engine
    assert settings.mail is not None
    alerter = Alerter(
        smtp_sender(settings.mail.smtp, process.base_dir, process.environ),
        settings.mail.smtp.username or "kkik@localhost",
        settings.alerts.email_to,
        cli.clock,
        cli.lang,
        repeat=timedelta(minutes=settings.alerts.repeat_minutes),
    )
    alerter.probe_alerts(engine)  # what failed before this start was already told
    down_for = timedelta(minutes=settings.alerts.watcher_down_minutes)
    while True:
        stats = watcher.stats if watcher is not None else {}
        await check_and_send(alerter, engine, stats, down_for)
        await cli.clock.sleep(60)


def _dry_run(
    cli: CliContext, engine: Engine, runner: Runner, now: datetime, zone: ZoneInfo
) -> None:
    """Read-only: what a tick at ``now`` would do, and what comes next."""
    from sqlmodel import Session, col, select

    from harness.store.models import Probe, ProbeState

    send, move = runner.preview(now)
    names = _target_names(engine)
    click.echo(cli.t(T["would"], n=len(send), at=_local(now, zone)))
    for probe in send:
        click.echo(f"  #{probe.id} {names[probe.target_id]} {probe.channel}")
    click.echo(cli.t(T["would_move"], n=len(move)))
    with Session(engine) as session:
        upcoming = session.exec(
            select(Probe)
            .where(Probe.state == ProbeState.PLANNED, col(Probe.planned_at) > now)
            .order_by(col(Probe.planned_at))
            .limit(10)
        ).all()
    click.echo(cli.t(T["upcoming"]))
    if not upcoming:
        click.echo(cli.t(T["none"]))
    for probe in upcoming:
        click.echo(
            f"  {_local(probe.planned_at, zone)}  {names[probe.target_id]:<20} "
            f"{probe.channel:<6} #{probe.id}"
        )


def _target_names(engine: Engine) -> dict[int, str]:
    from sqlmodel import Session, select

    from harness.store.models import Target

    with Session(engine) as session:
        return {t.id or 0: f"{t.kommunkod} {t.name}" for t in session.exec(select(Target)).all()}


def _set_paused(cli: CliContext, kommunkod: str | None, paused: bool, reason: str | None) -> None:
    from harness.services.base import ServiceError
    from harness.services.campaign_ops import set_paused

    try:
        done = set_paused(service_context(cli), paused, kommunkod, reason)
    except ServiceError as exc:
        fail_service(cli, exc)
    click.echo(cli.t(T["paused" if paused else "resumed"], what=done.what))


def _local(at: datetime | None, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M") if at else "–"
