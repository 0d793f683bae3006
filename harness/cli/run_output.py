"""What ``kkik run`` says while it works: one line per event, a summary now and then.

The runner, the mail store, the mailbox watcher and the call follow-up report events
(:class:`harness.core.events.RunEvent`); this face words them in the operator's language, with
the reasons from the text table (:mod:`harness.core.labels`) and what happens next. Library log
lines are not shown: what an operator needs from them is an event here, and ``--verbose``
shows the logs themselves for a developer.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import click
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from harness.cli.common import CliContext
from harness.core.events import RunEvent
from harness.core.i18n import Text
from harness.core.labels import CALL_OUTCOMES, CHANNELS, MAIL_KINDS, fault_text, pause_text
from harness.store.models import Campaign, Probe, ProbeState

T = {
    "sent_email": Text("Fråga #{id} skickad till {target}.", "Question #{id} sent to {target}."),
    "sent_phone": Text("Samtal #{id} till {target} uppringt.", "Call #{id} to {target} placed."),
    "failed": Text(
        "#{id} till {target} ({channel}) gick inte iväg: {why}. Det räknas inte mot kommunen; "
        "en ny tid planeras.",
        "#{id} to {target} ({channel}) did not go out: {why}. It does not count against the "
        "municipality; a new time is planned.",
    ),
    "rejected": Text(
        "#{id}: {target} tog inte emot frågan: {why}. Räknas som obesvarad; kontrollera "
        "kommunens adress.",
        "#{id}: {target} did not take the question: {why}. Counts as unanswered; check the "
        "municipality's address.",
    ),
    "flagged": Text(
        "#{id} till {target}: {why}. Avgör med `kkik resolve` om den gick iväg.",
        "#{id} to {target}: {why}. Decide with `kkik resolve` whether it went out.",
    ),
    "refused": Text(
        "#{id} till {target} stoppades: {why}. Rätta scenariot och spara planen igen.",
        "#{id} to {target} was stopped: {why}. Correct the scenario and save the plan again.",
    ),
    "moved": Text(
        "#{id} till {target} missade sin tid; flyttad till {at}.",
        "#{id} to {target} missed its time; moved to {at}.",
    ),
    "no_slot": Text(
        "#{id} till {target} missade sin tid och ingen ledig tid finns kvar i perioden; "
        "räknas inte mot kommunen.",
        "#{id} to {target} missed its time and no free slot is left in the period; it does not "
        "count against the municipality.",
    ),
    "resolved": Text(
        "#{id} till {target} hittades i Skickat efter omstarten: räknas som skickad.",
        "#{id} to {target} was found in the Sent folder after the restart: counts as sent.",
    ),
    "paused": Text("Kampanjen {target} är pausad: {why}", "The campaign {target} is paused: {why}"),
    "reply": Text(
        "Post om #{id} från {target}: {kind}. {verdict}",
        "Mail about #{id} from {target}: {kind}. {verdict}",
    ),
    "counted": Text("Räknas som svaret.", "Counts as the answer."),
    "review": Text(
        "Osäker koppling: väntar i granskningskön.", "Uncertain match: waits in the review queue."
    ),
    "holding": Text(
        "Ett väntesvar: räknas inte som svar.", "A holding reply: not counted as the answer."
    ),
    "not_counted": Text("Räknas inte som svar.", "Not counted as an answer."),
    "bounce_final": Text(
        "Frågan kom inte fram; kontrollera adressen.",
        "The question did not arrive; check the address.",
    ),
    "call_ended": Text(
        "Samtal #{id} till {target} avslutat: {outcome}.",
        "Call #{id} to {target} ended: {outcome}.",
    ),
    "call_assess": Text(
        " Bedöm det med `kkik call assess {id}`.", " Assess it with `kkik call assess {id}`."
    ),
    "mailbox_down": Text(
        "Brevlådan ({folder}): förbindelsen bröts ({error}); försöker igen. Svar som kommer "
        "under tiden hämtas sedan med rätt ankomsttid.",
        "The mailbox ({folder}): the connection was lost ({error}); trying again. Replies "
        "arriving meanwhile are fetched later with their true arrival time.",
    ),
    "mailbox_login_refused": Text(
        "Brevlådan ({folder}) nekade inloggningen; kontrollera användarnamn och lösenord "
        "(`kkik doctor`). Försöker igen om en stund.",
        "The mailbox ({folder}) refused the login; check the user name and password "
        "(`kkik doctor`). Trying again in a while.",
    ),
    "folder_missing": Text(
        "Mappen {folder} finns inte i brevlådan; letar igen om en stund.",
        "The folder {folder} does not exist in the mailbox; looking again in a while.",
    ),
    "mailbox_back": Text(
        "Brevlådan ({folder}) är nåbar igen.", "The mailbox ({folder}) is reachable again."
    ),
    "summary": Text(
        "Läget: {sent} skickade, {answered} klara, {waiting} väntar på svar eller bedömning, "
        "{planned} kvar att skicka, {faults} fel hos oss. Nästa: {next}.",
        "Status: {sent} sent, {answered} done, {waiting} waiting for an answer or assessment, "
        "{planned} left to send, {faults} faults on our side. Next: {next}.",
    ),
}
# Shown with --quiet too: what needs a person.
LOUD = frozenset(
    {"failed", "rejected", "flagged", "refused", "no_slot", "paused", "mailbox_down",
     "mailbox_login_refused", "folder_missing"}
)  # fmt: skip
SUMMARY_EVERY = timedelta(hours=1)


class RunPrinter:
    """Prints the events of a running campaign, and a summary at most once an hour."""

    def __init__(self, cli: CliContext, engine: Engine, zone: ZoneInfo, *, quiet: bool) -> None:
        self.cli = cli
        self.engine = engine
        self.zone = zone
        self.quiet = quiet
        self.last_summary: datetime | None = None

    def __call__(self, event: RunEvent) -> None:
        if self.quiet and event.kind not in LOUD:
            return
        now = self.cli.clock.now().astimezone(self.zone)
        click.echo(f"{now:%Y-%m-%d %H:%M} {self.line(event)}")

    def line(self, event: RunEvent) -> str:
        t, lang = self.cli.t, self.cli.lang
        kind, params = event.kind, event.params
        fields = {"id": event.probe_id, "target": event.target or "–"}
        why = fault_text(event.code, params, lang)
        channel = CHANNELS[event.channel](lang) if event.channel in CHANNELS else "–"
        if kind == "sent":
            return t(T["sent_phone" if event.channel == "phone" else "sent_email"], **fields)
        if kind in ("failed", "rejected", "flagged", "refused"):
            return t(T[kind], why=why, channel=channel, **fields)
        if kind == "moved":
            at = event.at.astimezone(self.zone).strftime("%Y-%m-%d %H:%M") if event.at else "–"
            return t(T["moved"], at=at, **fields)
        if kind in ("no_slot", "resolved"):
            return t(T[kind], **fields)
        if kind == "paused":
            return t(T["paused"], why=pause_text(event.code, params, lang), **fields)
        if kind == "reply":
            label = MAIL_KINDS.get(event.code or "")
            return t(
                T["reply"], kind=label(lang) if label else "–", verdict=t(T[_verdict(params)]),
                **fields,
            )  # fmt: skip
        if kind == "call_ended":
            label = CALL_OUTCOMES.get(event.code or "")
            line = t(T["call_ended"], outcome=label(lang) if label else "–", **fields)
            if event.code in ("person", "no_person"):
                line += t(T["call_assess"], **fields)
            elif params.get("fault"):
                line += " " + fault_text(str(params["fault"]), params, lang) + "."
            return line
        return t(T[kind], folder=params.get("folder", "–"), error=params.get("error", "–"))

    def summary(self, force: bool = False) -> None:
        """The campaign's state in one line, at most once an hour (or now, with ``force``)."""
        now = self.cli.clock.now()
        if not force and self.last_summary and now - self.last_summary < SUMMARY_EVERY:
            return
        self.last_summary = now
        with Session(self.engine) as session:
            active = select(Campaign.id).where(Campaign.status != "cancelled")
            counts: Counter[str] = Counter(
                dict(
                    session.exec(
                        select(Probe.state, func.count())
                        .where(col(Probe.campaign_id).in_(active))
                        .group_by(Probe.state)
                    ).all()
                )
            )
            sent = session.exec(
                select(func.count()).where(
                    col(Probe.campaign_id).in_(active), col(Probe.sent_at).is_not(None)
                )
            ).one()
            next_due = session.exec(
                select(func.min(Probe.planned_at)).where(Probe.state == ProbeState.PLANNED)
            ).one()
        shown = next_due.astimezone(self.zone).strftime("%Y-%m-%d %H:%M") if next_due else "–"
        click.echo(
            self.cli.t(
                T["summary"],
                sent=sent,
                answered=counts[ProbeState.COMPLETED],
                waiting=counts[ProbeState.SENT] + counts[ProbeState.SENDING],
                planned=counts[ProbeState.PLANNED],
                faults=counts[ProbeState.FAILED],
                next=shown,
            )
        )


def _verdict(params: dict[str, object]) -> str:
    if params.get("counted"):
        return "counted"
    if params.get("review"):
        return "review"
    if params.get("holding"):
        return "holding"
    if params.get("bounce_final"):
        return "bounce_final"
    return "not_counted"


def configure_logging(verbose: int) -> None:
    """Library log lines only for a developer (``-v``: info, ``-vv``: debug); an operator reads
    the events instead, never a raw traceback."""
    if verbose <= 0:
        logging.basicConfig(level=logging.CRITICAL + 1, force=True)
        return
    logging.basicConfig(
        level=logging.INFO if verbose == 1 else logging.DEBUG,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
