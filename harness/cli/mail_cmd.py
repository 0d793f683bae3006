"""``kkik mail``: classify a message file, watch the mailbox, send a test, read the log, assess
an answer (sender details and quality)."""

from __future__ import annotations

import contextlib
import json
import re
import sys
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO
from zoneinfo import ZoneInfo

import click

from harness.cli.common import (
    EXIT_FAILURE,
    EXIT_USAGE,
    YES_NO_WORDS,
    CliContext,
    DayType,
    InstantType,
    fail,
    in_zone,
    open_database,
    state,
)
from harness.core.i18n import Lang, Text
from harness.core.labels import AREAS, MAIL_KINDS, label
from harness.core.mail_labels import ARRIVAL_SOURCES, CLASSIFICATION_REASONS, MATCH_METHODS

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from harness.core.config import Settings
    from harness.services.mail_assess import MailProposal

# Each subcommand imports what it uses when it runs: `kkik mail classify` needs the mail
# analysis only, not SQLAlchemy, the IMAP and SMTP clients or the mail store (issue 16, item 8).

T = {
    "group": Text("E-postmätningen.", "The e-mail measurement."),
    "classify": Text(
        "Klassa ett meddelande (.eml, eller - för standard in, högst 50 MB): slag, vilken fråga "
        "det svarar på och om det kom i tid.",
        "Classify a message (.eml, or - for standard input, at most 50 MB): kind, which question "
        "it answers and whether it was in time.",
    ),
    "probes": Text(
        "JSON-lista med skickade frågor att matcha mot.", "JSON list of sent questions to match."
    ),
    "arrival": Text(
        "Ankomsttid (ISO 8601) om filen saknar Received:-rader.",
        "Arrival time (ISO 8601) when the file has no Received: lines.",
    ),
    "json": Text("Skriv JSON.", "Print JSON."),
    "watch": Text(
        "Bevaka brevlådan (IMAP IDLE) och spara varje svar. Avsluta med Ctrl-C.",
        "Watch the mailbox (IMAP IDLE) and store every reply. Stop with Ctrl-C.",
    ),
    "once": Text(
        "Hämta det som är nytt en gång och avsluta (för schemalagd körning).",
        "Fetch what is new once and exit (for scheduled runs).",
    ),
    "imap_failed": Text(
        "Brevlådan gick inte att läsa: {error}", "Cannot read the mailbox: {error}"
    ),
    "verbose": Text(
        "Skriv mer om vad som händer (-vv för allt).", "Log more of what happens (-vv for all)."
    ),
    "since": Text("Hämta post från och med detta datum.", "Fetch mail from this date on."),
    "send_test": Text(
        "Skicka ett testmeddelande till en adress i mail.test_recipients.",
        "Send a test message to an address listed in mail.test_recipients.",
    ),
    "log": Text(
        "Svarstidsloggen: per fråga skickad, besvarad, arbetstid och om svaret kom i tid.",
        "The response-time log: per question sent, answered, working time and whether in time.",
    ),
    "target": Text("Bara denna kommun (kommunkod).", "Only this municipality (kommunkod)."),
    "assess": Text(
        "Bedöm svaret på en e-postfråga: avsändaruppgifter (föreslås ur signaturen) och "
        "svarskvalitet. Utan val visas förslaget och det som är sparat.",
        "Assess the answer to an e-mail question: sender details (proposed from the signature) "
        "and answer quality. Without options, shows the proposal and what is saved.",
    ),
    "a_name": Text(
        "Avsändarens namn (annars förslaget).", "The sender's name (else the proposal)."
    ),
    "a_title": Text("Avsändarens titel.", "The sender's title."),
    "a_phone": Text("Avsändarens telefonnummer.", "The sender's phone number."),
    "a_address": Text("Enhetens adress.", "The unit's address."),
    "a_answered": Text(
        "Besvarar svaret frågan? ja/nej", "Does the reply answer the question? yes/no"
    ),
    "a_correct": Text("Är svaret korrekt? ja/nej", "Is the answer correct? yes/no"),
    "a_extra": Text(
        "Ger svaret extra hjälp (länk, öppettider, kontakt)? ja/nej",
        "Does the answer give extra help (a link, opening hours, a contact)? yes/no",
    ),
    "a_note": Text("Anteckning.", "Note."),
    "a_reason": Text(
        "Varför en tidigare bedömning ändras (krävs då).",
        "Why an earlier assessment changes (required then).",
    ),
    "a_proposed": Text("Förslag ur signaturen:", "Proposed from the signature:"),
    "a_saved": Text("Sparad bedömning:", "Saved assessment:"),
    "a_nothing_saved": Text("Ingen bedömning sparad ännu.", "No assessment saved yet."),
    "a_hint": Text(
        "Spara med t.ex. kkik mail assess {probe} --answered ja --correct ja --extra-help nej "
        "(avsändaruppgifterna tas ur förslaget om du inte anger dem).",
        "Save with e.g. kkik mail assess {probe} --answered yes --correct yes --extra-help no "
        "(the sender details come from the proposal unless you give them).",
    ),
    "no_file": Text("{path}: filen finns inte", "{path}: file not found"),
    "unreadable": Text(
        "{path}: filen går inte att läsa: {reason}", "{path}: the file cannot be read: {reason}"
    ),
    "is_dir": Text("{path}: är en mapp, inte en fil", "{path}: is a folder, not a file"),
    "no_access": Text("{path}: behörighet saknas", "{path}: permission denied"),
    "empty": Text("{path}: filen är tom", "{path}: the file is empty"),
    "binary": Text(
        "{path}: binärdata, inte ett e-postmeddelande",
        "{path}: binary data, not an e-mail message",
    ),
    "no_headers": Text(
        "{path}: inte ett e-postmeddelande: första raden är inget huvudfält (som From: eller "
        "Received:)",
        "{path}: not an e-mail message: the first line is not a header field (such as From: "
        "or Received:)",
    ),
    "too_large": Text(
        "{path}: större än {limit} MB; ett e-postmeddelande läses bara upp till den gränsen",
        "{path}: larger than {limit} MB; a message is read only up to that limit",
    ),
    "bad_probes": Text(
        "{path}: ogiltig frågelista: {error}", "{path}: invalid probe list: {error}"
    ),
    "no_mail": Text(
        "{file}: mail: e-postkanalen är inte konfigurerad ([mail.smtp] och [mail.imap])",
        "{file}: mail: the e-mail channel is not configured ([mail.smtp] and [mail.imap])",
    ),
    "secret": Text(
        "Hemligheten saknas: {source}: {detail}", "Secret unavailable: {source}: {detail}"
    ),
    "watching": Text(
        "Bevakar {folders} på {host} (post från {since}). Avsluta med Ctrl-C.",
        "Watching {folders} on {host} (mail since {since}). Stop with Ctrl-C.",
    ),
    "stored": Text(
        "{folder}: {count} nya meddelanden sparade", "{folder}: {count} new messages stored"
    ),
    "stopped": Text("Bevakningen avslutad.", "Watching stopped."),
    "not_allowed": Text(
        "{address} finns inte i mail.test_recipients; testmeddelanden går bara dit",
        "{address} is not in mail.test_recipients; test messages go only there",
    ),
    "test_subject": Text("Testmeddelande", "Test message"),
    "test_body": Text(
        "Detta är ett testmeddelande för att kontrollera att utskicket fungerar.",
        "This is a test message to check that sending works.",
    ),
    "accepted": Text(
        "Accepterat {at} av servern: {response}\nMessage-ID: {message_id}",
        "Accepted {at} by the server: {response}\nMessage-ID: {message_id}",
    ),
    "send_failed": Text("Skicket misslyckades: {error}", "Sending failed: {error}"),
    "yes": Text("ja", "yes"),
    "no": Text("nej", "no"),
    "header": Text(
        "fråga  kommun              område        skickad           besvarad          "
        "arbetstim  inom 1 dag  svarstyp     matchad via",
        "probe  municipality        area          sent              answered          "
        "work hours  within 1 day  reply kind   matched by",
    ),
    "none": Text("(inga skickade frågor)", "(no questions sent)"),
}
# `kkik mail classify` in words; --json keeps the codes for machines.
CLASSIFY_FIELDS = {
    "kind": Text("typ", "kind"),
    "reason": Text("skäl", "reason"),
    "holding": Text("väntesvar", "holding reply"),
    "probe_id": Text("fråga", "question"),
    "confidence": Text("säkerhet", "confidence"),
    "matched_by": Text("kopplad via", "matched by"),
    "answered_at": Text("besvarad", "answered at"),
    "answered_at_source": Text("tiden från", "time taken from"),
    "business_hours": Text("arbetstimmar", "working hours"),
    "within_one_working_day": Text("inom en arbetsdag", "within one working day"),
    "counts_as_answer": Text("räknas som svar", "counts as an answer"),
    "needs_review": Text("behöver granskas", "needs review"),
    "candidates": Text("möjliga frågor", "candidate questions"),
}
CLASSIFY_VALUES = {
    "kind": MAIL_KINDS,
    "reason": CLASSIFICATION_REASONS,
    "matched_by": MATCH_METHODS,
    "answered_at_source": ARRIVAL_SOURCES,
}


MAX_MESSAGE = 50 * 1024 * 1024  # bytes of one message read; a bigger one is refused
MAX_PROBES_FILE = 50 * 1024 * 1024
SNIFF = 64 * 1024  # bytes looked at first: binary data is refused before reading more
# The first line of a message: a header field ("From:", "Received:") or an mbox "From " line.
_FIRST_LINE = re.compile(rb"^(?:[!-9;-~]{1,76}[ \t]*:|From )")


@contextlib.contextmanager
def _open_input(cli: CliContext, path: str) -> Iterator[BinaryIO]:
    """``path`` (or standard input for "-") opened for reading, or one clear line and exit 2."""
    if path == "-":
        yield sys.stdin.buffer
        return
    try:
        stream = Path(path).open("rb")  # noqa: SIM115 - closed below, after the caller's read
    except FileNotFoundError:
        fail(cli.t(T["no_file"], path=path), EXIT_USAGE)
    except IsADirectoryError:
        fail(cli.t(T["is_dir"], path=path), EXIT_USAGE)
    except PermissionError:
        fail(cli.t(T["no_access"], path=path), EXIT_USAGE)
    except OSError as exc:
        fail(cli.t(T["unreadable"], path=path, reason=exc.strerror or exc), EXIT_USAGE)
    with stream:
        yield stream


def _read_message(cli: CliContext, path: str) -> bytes:
    """One message read from a file or a pipe, up to :data:`MAX_MESSAGE`, checked to be mail.

    A file of zeros or a pipe that never ends must not hang the command: binary data is
    refused from its first 64 KB, and nothing is read beyond the limit.
    """
    with _open_input(cli, path) as stream:
        try:
            head = stream.read(SNIFF)
            if not head.strip():
                fail(cli.t(T["empty"], path=path), EXIT_USAGE)
            if b"\x00" in head:
                fail(cli.t(T["binary"], path=path), EXIT_USAGE)
            if _FIRST_LINE.match(head.lstrip(b"\r\n")) is None:
                fail(cli.t(T["no_headers"], path=path), EXIT_USAGE)
            rest = stream.read(MAX_MESSAGE + 1 - len(head)) if len(head) == SNIFF else b""
        except OSError as exc:
            fail(cli.t(T["unreadable"], path=path, reason=exc.strerror or exc), EXIT_USAGE)
    raw = head + rest
    if len(raw) > MAX_MESSAGE:
        fail(cli.t(T["too_large"], path=path, limit=MAX_MESSAGE >> 20), EXIT_USAGE)
    return raw


def build(lang: Lang) -> click.Group:
    @click.group("mail", help=T["group"](lang))
    def group() -> None:
        pass

    @group.command("classify", help=T["classify"](lang))
    @click.argument("file", metavar="FILE.eml")
    @click.option("--probes", "probes_path", metavar="PROBES.json", help=T["probes"](lang))
    @click.option("--arrival", type=InstantType(lang), help=T["arrival"](lang))
    @click.option("--json", "as_json_flag", is_flag=True, help=T["json"](lang))
    @click.pass_context
    def classify_cmd(
        ctx: click.Context,
        file: str,
        probes_path: str | None,
        arrival: datetime | None,
        as_json_flag: bool,
    ) -> None:
        from harness.rules.measurement import timing_rules
        from probes.email_analysis import analyse, as_json, probe_refs_from_json

        cli = state(ctx)
        settings, _ = cli.settings(required=False)
        raw = _read_message(cli, file)
        refs = []
        if probes_path:
            try:
                with _open_input(cli, probes_path) as stream:
                    data = stream.read(MAX_PROBES_FILE + 1)
                if len(data) > MAX_PROBES_FILE:
                    fail(
                        cli.t(T["too_large"], path=probes_path, limit=MAX_PROBES_FILE >> 20),
                        EXIT_USAGE,
                    )
                items = json.loads(data.decode("utf-8"))
                if not isinstance(items, list):
                    raise ValueError("expected a JSON list")
                refs = probe_refs_from_json(items)
            except (ValueError, KeyError, TypeError, RecursionError) as exc:
                fail(cli.t(T["bad_probes"], path=probes_path, error=exc), EXIT_USAGE)
        arrived = in_zone(arrival, settings.timezone) if arrival else None
        analysis = analyse(raw, refs, timing_rules(settings), arrival=arrived)
        out = as_json(analysis)
        if as_json_flag:
            click.echo(json.dumps(out, ensure_ascii=False))
            return
        names = {key: cli.t(CLASSIFY_FIELDS[key]) if key in CLASSIFY_FIELDS else key for key in out}
        width = max(len(name) for name in names.values()) + 1
        for key, value in out.items():
            shown: object = "–" if value is None or value == [] else value
            if isinstance(value, bool):
                shown = cli.t(T["yes"] if value else T["no"])
            elif key in CLASSIFY_VALUES and isinstance(value, str):
                shown = label(CLASSIFY_VALUES[key], value, cli.lang)
            elif isinstance(value, list) and value:
                shown = ", ".join(str(v) for v in value)
            click.echo(f"{names[key] + ':':<{width}} {shown}")

    @group.command("watch", help=T["watch"](lang))
    @click.option("--since", type=DayType(lang), help=T["since"](lang))
    @click.option("--once", is_flag=True, help=T["once"](lang))
    @click.option("-v", "--verbose", count=True, help=T["verbose"](lang))
    @click.pass_context
    def watch_cmd(ctx: click.Context, since: date | None, once: bool, verbose: int) -> None:
        import asyncio

        from harness.channels.email.adapters import imap_factory, watch_timing
        from harness.channels.email.store import MailStore
        from harness.cli.run_output import RunPrinter, configure_logging
        from harness.rules.measurement import timing_rules
        from probes.email_watch import MailWatcher
        from probes.imap_wire import ImapError

        cli = state(ctx)
        configure_logging(verbose)  # library lines with -v only; the events below are words
        settings, base_dir = _mail_settings(cli)
        assert settings.mail is not None
        engine, _ = open_database(cli, settings, base_dir)
        start = since or campaign_start(engine, cli)
        store = MailStore(engine, cli.clock, timing_rules(settings))
        imap = settings.mail.imap
        watcher = MailWatcher(
            imap_factory(imap, base_dir),
            store,
            cli.clock,
            folders=imap.folders,
            since=start,
            timing=watch_timing(imap),
            on_stored=lambda folder, n: click.echo(cli.t(T["stored"], folder=folder, count=n)),
        )
        printer = RunPrinter(cli, engine, ZoneInfo(settings.timezone), quiet=False)
        watcher.on_event = store.on_event = printer
        click.echo(
            cli.t(T["watching"], folders=", ".join(imap.folders), host=imap.host, since=start)
        )
        try:
            asyncio.run(watcher.sync_all() if once else watcher.run())
        except KeyboardInterrupt:
            click.echo(cli.t(T["stopped"]))
        except ImapError as exc:
            fail(cli.t(T["imap_failed"], error=exc), EXIT_FAILURE)

    @group.command("send-test", help=T["send_test"](lang))
    @click.argument("address")
    @click.pass_context
    def send_test_cmd(ctx: click.Context, address: str) -> None:
        import asyncio

        from harness.channels.email.adapters import email_probe
        from harness.core.config import SecretUnavailable
        from probes.base import DispatchJob, Persona, ProbeContext, ProbeError, Transcript
        from probes.email_send import new_message_id, new_reply_token

        cli = state(ctx)
        settings, base_dir = _mail_settings(cli)
        mail = settings.mail
        assert mail is not None
        if address.lower() not in {a.lower() for a in mail.test_recipients}:
            fail(cli.t(T["not_allowed"], address=address), EXIT_USAGE)
        now = cli.clock.now()
        sender_address = mail.smtp.username or address
        job = DispatchJob(
            probe_id=0,
            persona=Persona("kkik-harness", sender_address),
            recipient=address,
            subject=cli.t(T["test_subject"]),
            body=cli.t(T["test_body"]),
            send_by=now + timedelta(minutes=5),
            message_id=new_message_id(sender_address.rpartition("@")[2] or "localhost", now),
            reply_token=new_reply_token() if mail.reply_token == "plus" else None,
        )
        probe = email_probe(settings, base_dir)
        context = ProbeContext(clock=cli.clock, transcript=Transcript(cli.clock))
        try:
            done = asyncio.run(probe.dispatch(context, job))
        except (ProbeError, SecretUnavailable) as exc:
            fail(cli.t(T["send_failed"], error=exc), EXIT_FAILURE)
        at = done.accepted_at.astimezone(ZoneInfo(settings.timezone)).isoformat(timespec="seconds")
        click.echo(cli.t(T["accepted"], at=at, response=done.response, message_id=job.message_id))

    yes_no = click.Choice(sorted(YES_NO_WORDS), case_sensitive=False)

    @group.command("assess", help=T["assess"](lang))
    @click.argument("probe_id", type=int, metavar="PROBE")
    @click.option("--name", default=None, help=T["a_name"](lang))
    @click.option("--title", default=None, help=T["a_title"](lang))
    @click.option("--phone", default=None, help=T["a_phone"](lang))
    @click.option("--address", default=None, help=T["a_address"](lang))
    @click.option("--answered", type=yes_no, default=None, help=T["a_answered"](lang))
    @click.option("--correct", type=yes_no, default=None, help=T["a_correct"](lang))
    @click.option("--extra-help", "extra", type=yes_no, default=None, help=T["a_extra"](lang))
    @click.option("--note", default=None, help=T["a_note"](lang))
    @click.option("--reason", default=None, help=T["a_reason"](lang))
    @click.pass_context
    def assess_cmd(
        ctx: click.Context,
        probe_id: int,
        name: str | None,
        title: str | None,
        phone: str | None,
        address: str | None,
        answered: str | None,
        correct: str | None,
        extra: str | None,
        note: str | None,
        reason: str | None,
    ) -> None:
        from harness import messages
        from harness.cli.common import fail_service, service_context
        from harness.services.base import ServiceError
        from harness.services.mail_assess import AssessMail, assess_mail, mail_proposal

        cli = state(ctx)
        service = service_context(cli)
        try:
            proposal = mail_proposal(service, probe_id)
        except ServiceError as exc:
            fail_service(cli, exc)
        given = (name, title, phone, address, answered, correct, extra, note)
        if all(v is None for v in given):
            _show_assessment(cli, proposal)
            return
        saved = proposal.saved or {}
        p = proposal.proposed

        def keep(value: str | None, key: str, proposed: str | None) -> str | None:
            # Given > saved > proposed: a re-assessment keeps what a person confirmed before.
            return value if value is not None else saved.get(key, proposed)

        def verdict(value: str | None, key: str) -> bool | None:
            return YES_NO_WORDS[value.lower()] if value is not None else saved.get(key)

        request = AssessMail(
            probe_id,
            keep(name, "sender_name", p.name),
            keep(title, "sender_title", p.title),
            keep(phone, "sender_phone", p.phone),
            keep(address, "sender_address", p.address),
            verdict(answered, "answered"),
            verdict(correct, "correct"),
            verdict(extra, "extra_help"),
            note,
            reason,
        )
        try:
            done = assess_mail(service, request)
        except ServiceError as exc:
            fail_service(cli, exc)
        click.echo(
            messages.mail_assessed(cli.lang, probe_id, done.sender_complete, done.quality_points)
        )

    @group.command("log", help=T["log"](lang))
    @click.option("--target", "kommunkod", metavar="KOMMUNKOD", help=T["target"](lang))
    @click.option("--since", type=DayType(lang), help=T["since"](lang))
    @click.option("--json", "as_json_flag", is_flag=True, help=T["json"](lang))
    @click.pass_context
    def log_cmd(
        ctx: click.Context, kommunkod: str | None, since: date | None, as_json_flag: bool
    ) -> None:
        from harness.campaign.evidence import email_evidence
        from harness.rules.measurement import timing_rules
        from results.calendar import DeadlineRule
        from results.email_log import log_rows

        cli = state(ctx)
        settings, base_dir = cli.settings(required=False)
        engine, _ = open_database(cli, settings, base_dir)
        start = since
        rules = timing_rules(settings)
        # The configured calendar: log_rows adds each probe's own campaign's closed days.
        rows = log_rows(
            email_evidence(engine, kommunkod, start, settings.timezone, rules.review_below),
            rules.calendar,
            DeadlineRule(settings.email.deadline_rule),
            count_holding_replies=settings.email.count_holding_replies,
        )
        zone = ZoneInfo(settings.timezone)

        def local(at: datetime | None) -> str | None:
            return at.astimezone(zone).isoformat(timespec="minutes") if at else None

        if as_json_flag:
            out = [
                {
                    "probe_id": r.probe_id,
                    "kommunkod": r.kommunkod,
                    "target": r.target,
                    "area": r.area,
                    "sent_at": local(r.sent_at),
                    "answered_at": local(r.answered_at),
                    "business_hours": r.business_hours,
                    "within_one_working_day": r.within_one_working_day,
                    "reply_kind": r.reply_kind,
                    "matched_by": r.matched_by,
                    "match_confidence": r.confidence,
                    "replies": r.replies,
                    "acknowledged_at": local(r.acknowledged_at),
                    "case_numbers": list(r.case_numbers),
                }
                for r in rows
            ]
            click.echo(json.dumps(out, ensure_ascii=False, indent=2))
            return
        if not rows:
            click.echo(cli.t(T["none"]))
            return
        click.echo(cli.t(T["header"]))
        for r in rows:
            within = "–"
            if r.within_one_working_day is not None:
                within = cli.t(T["yes"] if r.within_one_working_day else T["no"])
            hours = "–" if r.business_hours is None else f"{r.business_hours:.2f}"
            area = label(AREAS, r.area, cli.lang)
            click.echo(
                f"{r.probe_id:<6} {r.kommunkod} {r.target[:14]:<14} {area[:13]:<13} "
                f"{_short(r.sent_at, zone):<17} {_short(r.answered_at, zone):<17} "
                f"{hours:>9}  {within:<10}  {label(MAIL_KINDS, r.reply_kind, cli.lang):<12} "
                f"{label(MATCH_METHODS, r.matched_by, cli.lang)}"
            )

    return group


def _short(at: datetime | None, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M") if at else "–"


def _mail_settings(cli: CliContext) -> tuple[Settings, Path | None]:
    settings, base_dir = cli.settings(required=True)
    if settings.mail is None:
        fail(cli.t(T["no_mail"], file=cli.config_path or "config.toml"), EXIT_USAGE)
    return settings, base_dir


def campaign_start(engine: Engine, cli: CliContext) -> date:
    from sqlalchemy import func
    from sqlmodel import Session, select

    from harness.store.models import Campaign

    with Session(engine) as session:
        first = session.exec(select(func.min(Campaign.period_start))).one()
    return first or (cli.clock.now() - timedelta(days=30)).date()


_DETAILS = (
    ("name", "sender_name", Text("Namn", "Name")),
    ("title", "sender_title", Text("Titel", "Title")),
    ("phone", "sender_phone", Text("Telefon", "Phone")),
    ("address", "sender_address", Text("Adress", "Address")),
)
_RUBRIC = (
    ("answered", Text("Besvarar frågan", "Answers the question")),
    ("correct", Text("Korrekt", "Correct")),
    ("extra_help", Text("Extra hjälp", "Extra help")),
)


def _show_assessment(cli: CliContext, proposal: MailProposal) -> None:
    from harness.messages import YES_NO

    click.echo(cli.t(T["a_proposed"]))
    for attr, _key, heading in _DETAILS:
        click.echo(f"  {cli.t(heading)}: {getattr(proposal.proposed, attr) or '–'}")
    if proposal.saved is None:
        click.echo(cli.t(T["a_nothing_saved"]))
    else:
        click.echo(cli.t(T["a_saved"]))
        for _attr, key, heading in _DETAILS:
            click.echo(f"  {cli.t(heading)}: {proposal.saved.get(key) or '–'}")
        for key, heading in _RUBRIC:
            value = proposal.saved.get(key)
            shown = "–" if value is None else cli.t(YES_NO[bool(value)])
            click.echo(f"  {cli.t(heading)}: {shown}")
    click.echo(cli.t(T["a_hint"], probe=proposal.probe_id))
