"""Operator commands: ``kkik run``, ``status``, ``pause``, ``resume``, ``cancel``."""

from __future__ import annotations

from datetime import date, datetime, timedelta
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
    import asyncio

    from sqlalchemy import Engine

    from harness.assembly import Assembly
    from harness.campaign.runner import Runner, TickResult
    from harness.cli.run_output import RunPrinter
    from harness.store.runlock import RunLock
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
    "standby": Text(
        "Väntar i reserv: en annan kkik run arbetar mot {db}; tar över när den slutar.",
        "Standing by: another kkik run is working on {db}; taking over when it stops.",
    ),
    "took_over": Text(
        "Den andra kkik run har slutat; tar över mot {db}.",
        "The other kkik run has stopped; taking over on {db}.",
    ),
    "lost_lock": Text(
        "Förlorade låset mot {db} (databasanslutningen bröts eller låsfilen togs bort); "
        "avslutar så att två kkik run aldrig arbetar samtidigt.",
        "Lost the lock on {db} (the database connection broke or the lock file was removed); "
        "stopping so that two kkik run never work at once.",
    ),
    "standby_help": Text(
        "Om en annan kkik run redan arbetar: vänta i reserv och ta över inom några sekunder "
        "när den slutar (i stället för att avsluta).",
        "If another kkik run is already working: stand by and take over within seconds when "
        "it stops (instead of exiting).",
    ),
    "started": Text(
        "Kör mot {db}. Nästa fråga: {next}. Ctrl-C avslutar.",
        "Running against {db}. Next question: {next}. Ctrl-C stops.",
    ),
    "stopped": Text("Avslutat.", "Stopped."),
    "quiet": Text(
        "Visa bara det som kräver en person (fel, pauser, brevlådan nere).",
        "Show only what needs a person (faults, pauses, the mailbox down).",
    ),
    "verbose": Text(
        "Visa även programbibliotekens loggrader (-vv: allt).",
        "Also show the libraries' log lines (-vv: everything).",
    ),
    "held": Text("Skickas inte nu ({n}):", "Not sent now ({n}):"),
    "run_placeholders": Text(
        "Kampanjen ”{name}”: {targets} är platshållare. Skriv in kommunernas riktiga adresser "
        "och nummer i scenariot, ta bort placeholder = true och spara planen igen "
        "(`kkik plan SCENARIO --save`).",
        "The campaign “{name}”: {targets} are placeholders. Put the municipalities' real "
        "addresses and numbers in the scenario, remove placeholder = true and save the plan "
        "again (`kkik plan SCENARIO --save`).",
    ),
    "run_period_over": Text(
        "Kampanjen ”{name}”: perioden {start} – {end} är redan slut (i dag {today}); dess {n} "
        "planerade frågor kan inte skickas. Välj en ny period i scenariot och spara planen "
        "igen.",
        "The campaign “{name}”: the period {start} – {end} is already over (today {today}); its "
        "{n} planned questions cannot be sent. Choose a new period in the scenario and save the "
        "plan again.",
    ),
    "run_collecting": Text(
        "Kampanjen ”{name}”: perioden slutade {end}; inga fler frågor skickas, men svar på de "
        "{n} som väntar samlas in.",
        "The campaign “{name}”: the period ended {end}; no more questions are sent, but answers "
        "to the {n} waiting are collected.",
    ),
    "run_refused": Text("Inget startat, inget skickat.", "Nothing started, nothing sent."),
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
    "no_campaign": Text(
        "Ingen kampanj i databasen; spara en plan med `kkik plan SCENARIO --save`.",
        "No campaign in the database; store a plan with `kkik plan SCENARIO --save`.",
    ),
    "paused": Text("Pausad: {what}.", "Paused: {what}."),
    "resumed": Text("Återupptagen: {what}.", "Resumed: {what}."),
    "cancelled": Text("Fråga {id} struken.", "Probe {id} withdrawn."),
}


# Why a due probe is not sent now (runner.Preview.verdict; refusals are fault codes).
HELD = {
    "campaign_paused": Text("kampanjen är pausad", "the campaign is paused"),
    "target_paused": Text("kommunen är pausad", "the municipality is paused"),
    "no_channel": Text(
        "kanalen är inte inställd i konfigurationen",
        "the channel is not set up in the configuration",
    ),
    "day_limit": Text(
        "kommunen har fått dagens samtal; flyttas till en senare dag",
        "the municipality has had today's calls; moved to a later day",
    ),
}
CHANNEL_NAMES = {"email": Text("e-post", "e-mail"), "phone": Text("samtal", "call")}


def build(lang: Lang) -> list[click.Command]:
    @click.command("run", help=T["run"](lang))
    @click.option("--dry-run", is_flag=True, help=T["dry"](lang))
    @click.option("--at", "at", type=InstantType(lang), help=T["at"](lang))
    @click.option("-q", "--quiet", is_flag=True, help=T["quiet"](lang))
    @click.option("-v", "--verbose", count=True, help=T["verbose"](lang))
    @click.option("--standby", is_flag=True, help=T["standby_help"](lang))
    @click.pass_context
    def run_cmd(
        ctx: click.Context,
        dry_run: bool,
        at: datetime | None,
        quiet: bool,
        verbose: int,
        standby: bool,
    ) -> None:
        import asyncio

        from harness.channels.registry import CHANNELS
        from harness.cli.run_output import RunPrinter, configure_logging
        from harness.core.config import SecretUnavailable
        from harness.store.runlock import RunLock, RunnerBusy

        cli = state(ctx)
        configure_logging(verbose)
        if at is not None and not dry_run:
            fail(cli.t(T["at_needs_dry"]), EXIT_USAGE)
        process = assembly(cli, required=True)
        settings, engine = process.settings, process.engine
        shown = engine.url.render_as_string(hide_password=True)
        zone = ZoneInfo(settings.timezone)
        when = in_zone(at, settings.timezone) if at is not None else cli.clock.now()
        ready = _readiness(cli, engine, when.astimezone(zone).date(), refuse=not dry_run)
        if dry_run:
            # Contacts nobody, so it needs no credentials: no channel is built.
            configured = [n for n, spec in CHANNELS.items() if spec.configured(settings)]
            _dry_run(cli, engine, process.runner(channels={}), configured, when, zone)
            for line in ready:
                click.echo(line)
            return
        try:
            runner = process.runner()
        except SecretUnavailable as exc:
            fail(cli.t(NO_SECRET, source=exc.source, detail=exc.detail), EXIT_FAILURE)
        waited: list[bool] = []

        def standing_by() -> None:
            waited.append(True)
            click.echo(cli.t(T["standby"], db=shown))

        try:
            lock = RunLock(engine).acquire(wait=standby, on_wait=standing_by)
        except RunnerBusy:
            fail(cli.t(T["busy"], db=shown), EXIT_FAILURE)
        except KeyboardInterrupt:  # Ctrl-C while standing by: nothing was started
            click.echo(cli.t(T["stopped"]))
            return
        lost = False
        try:
            if waited:
                click.echo(cli.t(T["took_over"], db=shown))
            click.echo(cli.t(T["started"], db=shown, next=_local(runner.next_due(), zone)))
            for line in ready:
                click.echo(line)
            printer = RunPrinter(cli, engine, zone, quiet=quiet)
            if not quiet:
                printer.summary(force=True)
            lost = asyncio.run(_serve(cli, process, runner, printer, lock))
        finally:
            lock.release()
        if lost:
            fail(cli.t(T["lost_lock"], db=shown), EXIT_FAILURE)
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


async def _serve(
    cli: CliContext, process: Assembly, runner: Runner, printer: RunPrinter, lock: RunLock
) -> bool:
    """Run until Ctrl-C or SIGTERM (False) or until the runner lock is lost (True)."""
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
        for event in result.events:
            printer(event)
        if not printer.quiet:
            printer.summary()

    # Every part that works on its own reports what it does in the same words.
    process.call_finisher().on_event = printer
    service = RunnerService(runner, on_tick=report)
    lost = asyncio.Event()
    tasks = [
        asyncio.create_task(service.run(stop)),
        asyncio.create_task(_keep_lock(lock, stop, lost)),
    ]
    watcher = process.watcher(campaign_start(engine, cli))
    if watcher is not None:
        process.mail_store().on_event = printer
        watcher.on_event = printer
        tasks.append(asyncio.create_task(watcher.run()))
    if settings.mail is not None and settings.alerts.email_to:
        tasks.append(asyncio.create_task(_alert_loop(cli, process, watcher)))
    if settings.retention.purge_every_hours:
        tasks.append(asyncio.create_task(_purge_loop(cli, process, printer.quiet)))
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
    return lost.is_set()


async def _keep_lock(lock: RunLock, stop: asyncio.Event, lost: asyncio.Event) -> None:
    """Stop the run as soon as the runner lock is no longer ours (its connection broke): a
    standby may hold it by now, and two runners must not work at once."""
    import asyncio

    from harness.store.runlock import CHECK_SECONDS

    while not stop.is_set():
        await asyncio.sleep(CHECK_SECONDS)  # noqa: TID251 - real time: about this process
        if not await asyncio.to_thread(lock.held):
            lost.set()
            stop.set()
            return


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


async def _purge_loop(cli: CliContext, process: Assembly, quiet: bool) -> None:
    """Personal data older than its retention is purged on schedule (``retention.
    purge_every_hours``; the audit trail says when the last purge ran, so a restart does not
    purge again early). Checked every hour; the recordings at Twilio go too."""
    from harness import messages
    from harness.campaign.retention import cutoffs, purge_if_due
    from harness.services.retention import Purged

    phone = process.phone()
    deleter = phone.delete_recording if phone is not None else None
    while True:
        now = cli.clock.now()
        done = await purge_if_due(process.engine, process.settings, now, deleter)
        if done is not None and (done.total or done.recordings_kept) and not quiet:
            before = cutoffs(process.settings, now).earliest
            click.echo(messages.purged(cli.lang, Purged(done, before, dry_run=False)))
        await cli.clock.sleep(3600)


def _dry_run(
    cli: CliContext,
    engine: Engine,
    runner: Runner,
    configured: list[str],
    now: datetime,
    zone: ZoneInfo,
) -> None:
    """Read-only: what a tick at ``now`` would do with each due probe and why, and what comes
    next."""
    from sqlmodel import Session, col, select

    from harness.core.labels import fault_text
    from harness.store.models import Probe, ProbeState

    previews = runner.preview(now, configured)
    send = [p for p in previews if p.verdict == "send"]
    move = [p for p in previews if p.verdict == "move"]
    held = [p for p in previews if p.verdict not in ("send", "move")]
    click.echo(cli.t(T["would"], n=len(send), at=_local(now, zone)))
    for item in send:
        click.echo(f"  #{item.probe.id} {item.target} {_channel(cli, item.probe.channel)}")
    click.echo(cli.t(T["would_move"], n=len(move)))
    if held:
        click.echo(cli.t(T["held"], n=len(held)))
        for item in held:
            if item.verdict in HELD:
                why = cli.t(HELD[item.verdict])
            else:  # a safety rule's refusal
                why = fault_text(item.verdict, {"target": item.target}, cli.lang)
            channel = _channel(cli, item.probe.channel)
            click.echo(f"  #{item.probe.id} {item.target} {channel}: {why}")
    names = _target_names(engine)
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
            f"{_channel(cli, probe.channel):<8} #{probe.id}"
        )


def _channel(cli: CliContext, name: str) -> str:
    return cli.t(CHANNEL_NAMES[name]) if name in CHANNEL_NAMES else name


def _readiness(cli: CliContext, engine: Engine, today: date, *, refuse: bool) -> list[str]:
    """Whether the saved campaigns can run (exit 2 when not, and ``refuse``); notices to show.

    A campaign with placeholder targets, or whose period is over with questions never sent, is
    refused before anything is sent: the unedited template used to burn its whole plan."""
    from harness.campaign.readiness import campaign_states

    states = campaign_states(engine)
    if not states:
        fail(cli.t(T["no_campaign"]), EXIT_USAGE)
    problems, notices = [], []
    for s in states:
        if s.placeholders:
            problems.append(cli.t(T["run_placeholders"], name=s.name,
                                  targets=", ".join(s.placeholders)))  # fmt: skip
        if s.period_over(today) and s.planned and not s.awaiting:
            problems.append(cli.t(T["run_period_over"], name=s.name, start=s.period_start,
                                  end=s.period_end, today=today, n=s.planned))  # fmt: skip
        elif s.period_over(today) and s.awaiting:
            notices.append(cli.t(T["run_collecting"], name=s.name, end=s.period_end,
                                 n=s.awaiting))  # fmt: skip
    if problems and refuse:
        for line in problems:
            click.echo(line, err=True)
        fail(cli.t(T["run_refused"]), EXIT_USAGE)
    return problems + notices if not refuse else notices


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
