"""``kkik demo``: a whole autumn campaign against a simulated county, offline, in seconds.

Everything real runs, in this process and on loopback: the planner, the runner, SMTP submission
(to an aiosmtpd server standing in for the municipalities' mail systems), the measurement
mailbox (pymap) watched with IMAP IDLE by the real watcher (classification, matching, timing),
calls through the real Twilio SDK to the simulator with signed callbacks to the real web app,
scripted callers who mark "person reached" and assess each call with the real CLI, and scoring,
exports and the report through the real commands. Only time is simulated: a FakeClock jumps
from one thing due to the next (a question's slot, a call's next event, a reply's arrival).

The world (``scenarios/demo/world.toml``, :mod:`harness.demo.world`) decides, seeded,
how each municipality answers: reply delays in business hours, receipts and holding replies
first, replies from a case officer's own address or without threading, the junk folder, no
reply; and per call ring time, busy, no answer, queue, person, direct answer and bemötande. It
writes down what it did (``ground-truth.json``); at the end the measured scores must equal the
scores computed from that truth, measure by measure and municipality by municipality.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from harness.assembly import Assembly
from harness.campaign.evidence import campaign_evidence
from harness.campaign.planning import plan_scenario
from harness.campaign.runner import Runner
from harness.core.clock import FakeClock, SystemClock, WaitingClock
from harness.core.config import Settings, load_config
from harness.demo.world import (
    PhoneProfile,
    QuestionSent,
    World,
    email_responses,
    load_world,
    sample_call,
)
from harness.rules.calendars import work_calendar
from harness.rules.measurement import scoring_rules, timeline_rules
from harness.sandbox.accounts import Account
from harness.sandbox.ports import free_port
from harness.sandbox.pymap import PymapSandbox, append_many
from harness.sandbox.smtp import ReceivedMessage, SmtpSandbox
from harness.sandbox.twilio_calls import SimCall, SwitchboardScript
from harness.sandbox.twilio_sim import TwilioSimulator
from harness.services.base import Context
from harness.services.calls import AssessCall, MarkCall, assess_call, mark_call
from harness.store import migrate
from harness.store.db import make_engine
from harness.store.models import Assessment, Channel, Probe, ProbeState, Target
from harness.store.planstore import save_plan
from harness.web.app import WebServer
from results.calendar import WorkCalendar
from results.scoring import Evidence, Score, score

ROOT = Path(__file__).resolve().parents[2]
WORLD = ROOT / "scenarios" / "demo" / "world.toml"
QUESTIONS = ROOT / "scenarios" / "questions"
START = datetime(2026, 10, 5, 4, 0, tzinfo=UTC)  # Monday 06:00 in Stockholm
MAILBOX = "fraga@fraga.example.se"
OUR_HOST = "mx.kkik-demo.example.se"
ACCOUNT_SID = "AC" + "d3" * 16
TESTER = "+46701234567"
HOLD_LIMIT = 300
# The scripted tester waits this long after picking up before giving up on a queue.
TESTER_PATIENCE = 420
IDLE_RENEW_SECONDS = 2.0
# A delivery the watcher takes longer than this (real time) to store counts as a slow store.
SLOW_STORE_SECONDS = 1.0
TALK = 90.0  # seconds the person talks with the tester before hanging up
ENV = {"KKIK_DEMO_IMAP_PASSWORD": "demo-brevlada", "KKIK_DEMO_TWILIO_TOKEN": "demo-twilio-token"}


@dataclass
class CallTruth:
    """What the world did on one call (keyed by the call we created: the tester's leg)."""

    outcome: str  # busy | no_answer | no_person | person
    dial_at: datetime | None = None
    person_at: datetime | None = None
    direct_answer: bool | None = None
    bemotande: int | None = None


@dataclass
class DemoResult:
    out: Path
    measured: list[Score]
    truth: list[Score]
    mismatches: list[str]
    probes: int
    mails_delivered: int
    calls: int
    ground_truth: dict[str, Any] = field(default_factory=dict)
    # Probes not accounted for: not in a final state, sent twice or never, truth missing.
    unaccounted: list[str] = field(default_factory=list)
    states: dict[str, int] = field(default_factory=dict)
    questions_received: int = 0  # messages the municipalities' SMTP server took
    # E-mails whose truth "within one working day" depends on the campaign's own closed days:
    # within with them, late without (or the other way). Empty: the world's closed days were
    # never put to the test in this run.
    closed_day_verdicts: list[int] = field(default_factory=list)
    slow_stores: int = 0  # deliveries the watcher took over SLOW_STORE_SECONDS to store

    @property
    def equal(self) -> bool:
        return not self.mismatches


def phone_script(profile: PhoneProfile, rng: random.Random) -> tuple[SwitchboardScript, CallTruth]:
    """One call to a switchboard of this profile: the simulator's script and its truth."""
    call = sample_call(profile, rng)
    if call.outcome == "busy":
        return SwitchboardScript(outcome="busy", dial_delay=1), CallTruth("busy")
    if call.outcome == "no_answer":
        return SwitchboardScript(outcome="no_answer", dial_delay=1), CallTruth("no_answer")
    ring = call.ring_seconds or 0.0
    if call.person_after is None:
        # A queue nobody answers: the scripted tester gives up after TESTER_PATIENCE.
        script = SwitchboardScript(dial_delay=1, ring_seconds=ring, person_after=None)
        return script, CallTruth("no_person")
    script = SwitchboardScript(
        dial_delay=1, ring_seconds=ring, person_after=call.person_after, talk_seconds=TALK
    )
    truth = CallTruth("person", direct_answer=call.direct_answer, bemotande=call.bemotande)
    return script, truth


class Demo:
    def __init__(
        self,
        out: Path,
        *,
        seed: int = 2026,
        world_path: Path = WORLD,
        progress: Callable[[str], None] | None = None,
        lang: str = "sv",
        weeks: int | None = None,
        world: World | None = None,
        batch_events: bool = True,
    ) -> None:
        self.out = out
        self.seed = seed
        # A world built in code (generate_world, for scale runs) or read from a world file.
        self.world: World = world if world is not None else load_world(world_path)
        # False: one call step or one mail per loop turn, as before batching (the benchmark's
        # naive comparison); the results are the same, only slower.
        self.batch_events = batch_events
        self.world_source = "a generated world" if world is not None else _shown(world_path)
        self.progress = progress or (lambda _: None)
        self.lang = lang
        self.weeks = weeks
        self.clock = FakeClock(START)
        # The world's calendar: when its people answer and the truth's verdicts. Rebuilt on the
        # configured calendar once the configuration is written (run()).
        self.calendar: WorkCalendar = self.world.calendar()
        self._by_number = {t.switchboard_e164: t for t in self.world.targets}
        self.rng_mail = random.Random(f"{seed}-mail")
        self.rng_phone = random.Random(f"{seed}-phone")
        self.mail_queue: list[tuple[datetime, int, str, bytes]] = []
        self._seq = itertools.count()
        self.email_truth: dict[int, dict[str, Any]] = {}
        self.call_truth: dict[str, CallTruth] = {}  # by the tester leg's call SID
        self.handled: set[int] = set()
        self.assessed: set[int] = set()
        self.stored = 0
        self.delivered = 0
        self._by_message_id: dict[str, ReceivedMessage] = {}
        self._indexed = 0  # how many of the SMTP server's messages _by_message_id has read
        self.slow_stores = 0
        self._open_calls: set[str] = set()  # simulator calls not yet ended
        self._calls_seen = 0

    # --- setup ---------------------------------------------------------------------------------

    def _write_files(self, smtp_port: int, imap_port: int, api: str, web_port: int) -> Path:
        period_end = self.world.period_end
        if self.weeks is not None:
            period_end = self.world.period_start + timedelta(weeks=self.weeks) - timedelta(days=3)
        targets = "".join(
            f'\n[[targets]]\nkommunkod = "{t.kommunkod}"\nemail = "{t.email}"\n'
            f'switchboard = "{t.switchboard}"\n'
            for t in self.world.targets
        )
        # The world's closed days are the campaign's own: the plan avoids them and the harness
        # judges the answers around them (harness.rules.calendars.campaign_calendar).
        closed = ", ".join(d.isoformat() for d in self.world.extra_closed_days)
        (self.out / "scenario.toml").write_text(
            f"""# The demo's campaign, written by `kkik demo` from {self.world_source}.
[campaign]
name = "{self.world.campaign}"
year = {self.world.period_start.year}
period_start = {self.world.period_start.isoformat()}
period_end = {period_end.isoformat()}
emails_per_target = {self.world.emails_per_target}
calls_per_target = {self.world.calls_per_target}
question_bank = "{QUESTIONS}"
seed = {self.seed}
extra_closed_days = [{closed}]

[[personas]]
name = "Anna Lindqvist"
address = "anna.lindqvist@fraga.example.se"

[[personas]]
name = "Erik Johansson"
address = "erik.johansson@fraga.example.se"
{targets}""",
            encoding="utf-8",
        )
        config = self.out / "config.toml"
        config.write_text(
            f"""# Written by `kkik demo`: the demo's loopback servers (gone when the demo ends).
# `kkik --config {config} score` (or report, export, call list) reads the demo's database.
language = "{self.lang}"

[database]
url = "sqlite:///{self.out / "kkik.db"}"

[mail]
receiving_hosts = ["{OUR_HOST}"]

[mail.smtp]
host = "127.0.0.1"
port = {smtp_port}
security = "none"
auth = "none"

[mail.imap]
host = "127.0.0.1"
port = {imap_port}
security = "none"
username = "{MAILBOX}"
password_env = "KKIK_DEMO_IMAP_PASSWORD"
folders = ["INBOX", "\\\\Junk"]

[phone]
mode = "bridged"
account_sid = "{ACCOUNT_SID}"
auth_token_env = "KKIK_DEMO_TWILIO_TOKEN"
from_number = "063-10 00 00"
caller_number = "{TESTER}"
api_base_url = "{api}"
hold_limit_seconds = {HOLD_LIMIT}

[web]
port = {web_port}
public_url = "http://127.0.0.1:{web_port}"
""",
            encoding="utf-8",
        )
        return config

    def tester(self) -> Context:
        """The scripted tester at the services, as the dashboard's console and ``kkik call``
        reach them: the demo's database, its clock, its configuration."""
        return Context(self.engine, self.clock, self.settings, "demo:tester")

    # --- the run -------------------------------------------------------------------------------

    async def run(self) -> DemoResult:
        self.out.mkdir(parents=True, exist_ok=True)
        for stale in self.out.glob("kkik.db*"):
            stale.unlink()
        real = SystemClock()
        began = real.monotonic()
        smtp = SmtpSandbox(starttls=False, auth_required=False, hostname=OUR_HOST,
                           clock=self.clock)  # fmt: skip
        self.account = Account(MAILBOX, ENV["KKIK_DEMO_IMAP_PASSWORD"])
        mailbox = PymapSandbox([self.account])
        sim = TwilioSimulator(self.clock)
        sim.add_account(ACCOUNT_SID, ENV["KKIK_DEMO_TWILIO_TOKEN"])
        tester = SwitchboardScript(ring_seconds=3, person_after=None, prompts=(),
                                   hangup_after=TESTER_PATIENCE)  # fmt: skip
        sim.script(TESTER, tester)
        sim.script_for = self._script_for
        sim.on_person = self._person
        web_port = free_port()
        async with smtp, mailbox, sim:
            self.config = self._write_files(smtp.port, mailbox.port, sim.base_url, web_port)
            settings = load_config(self.config)
            self.settings = settings
            engine = make_engine(f"sqlite:///{self.out / 'kkik.db'}")
            self.engine = engine
            self.calendar = self.world.calendar(work_calendar(settings))
            migrate.upgrade(engine)
            made = plan_scenario(self.out / "scenario.toml", settings)
            with Session(engine) as session:
                save_plan(session, made.scenario, made.bank, made.probes, START)
            self.progress(f"plan: {len(made.probes)} probes for {len(self.world.targets)} targets")
            # The one assembly point, as `kkik run` and `kkik serve` use it, on the demo's clock
            # and with the demo's secrets.
            self.process = Assembly(
                settings, engine, self.clock, base_dir=self.out, config_path=self.config,
                environ=ENV,
            )  # fmt: skip
            web = WebServer(self.process.web_app(), port=web_port)
            await web.start()
            try:
                result = await self._campaign(settings, engine, smtp, mailbox, sim)
            finally:
                await web.stop()
                engine.dispose()
        self.progress(f"campaign simulated in {real.monotonic() - began:.1f} s")
        return result

    async def _campaign(
        self,
        settings: Settings,
        engine: Engine,
        smtp: SmtpSandbox,
        mailbox: PymapSandbox,
        sim: TwilioSimulator,
    ) -> DemoResult:
        assert settings.mail is not None
        runner = self.process.runner()

        def stored(_folder: str, count: int) -> None:
            self.stored += count

        watcher = self.process.watcher(
            self.world.period_start - timedelta(days=1),
            clock=WaitingClock(self.clock),
            # Renew IDLE every few real seconds (production: 25 minutes): a push the watcher
            # misses then costs seconds, not the run. Misses do happen (4 of 899 deliveries in a
            # 30-municipality run; docs/performance.md); slow_stores counts the waits they cost.
            timing=lambda chosen: replace(chosen, idle_renew_seconds=IDLE_RENEW_SECONDS),
            on_stored=stored,
        )
        assert watcher is not None
        task = asyncio.create_task(watcher.run())
        try:
            # Both folders exist and are being watched before the first reply arrives.
            await append_many(mailbox.host, mailbox.port, self.account, [], folder="Junk")
            try:
                await self._wait(
                    # Sync counts are kept under the folder's real name ("\\Junk" -> "Junk").
                    lambda: sum(s.syncs for s in watcher.stats.values()) >= len(watcher.folders),
                    "the mailbox watcher",
                )
            except RuntimeError:
                raise RuntimeError(f"the mailbox watcher did not start: {watcher.stats}") from None
            await self._drive(engine, runner, smtp, mailbox, sim)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        result = self._results(settings, engine)
        result.states, result.unaccounted = self._account(engine, smtp)
        result.questions_received = len(smtp.messages)
        result.slow_stores = self.slow_stores
        return result

    def _account(self, engine: Engine, smtp: SmtpSandbox) -> tuple[dict[str, int], list[str]]:
        """Every planned probe ended once: completed, its question or call made exactly once.

        In this world nothing fails on our side, so anything but COMPLETED (still planned or
        pending, failed and replaced, cancelled) is a probe the run lost track of.
        """
        problems: list[str] = []
        with Session(engine) as session:
            probes = session.exec(select(Probe)).all()
        states: dict[str, int] = {}
        for probe in probes:
            states[str(probe.state)] = states.get(str(probe.state), 0) + 1
            if probe.state != ProbeState.COMPLETED:
                problems.append(f"probe {probe.id} ({probe.channel}) is {probe.state}")
        if len(self._by_message_id) != len(smtp.messages):
            problems.append(
                f"{len(smtp.messages)} questions reached SMTP for "
                f"{len(self._by_message_id)} distinct Message-IDs"
            )
        emails = [p for p in probes if p.channel == Channel.EMAIL]
        for probe in emails:
            if probe.id not in self.email_truth or not probe.message_id:
                problems.append(f"e-mail probe {probe.id}: no question reached the municipality")
        if len(smtp.messages) != len(emails):
            problems.append(f"{len(smtp.messages)} questions sent for {len(emails)} e-mail probes")
        phones = [p for p in probes if p.channel == Channel.PHONE]
        sids = [p.call_sid for p in phones if p.call_sid]
        if len(set(sids)) != len(phones):
            problems.append(f"{len(set(sids))} distinct calls for {len(phones)} phone probes")
        if len(self.call_truth) != len(phones):
            problems.append(f"the world saw {len(self.call_truth)} calls for {len(phones)} probes")
        return states, problems

    async def _wait(self, done: Callable[[], bool], what: str, seconds: float = 20.0) -> None:
        """Wait in real time (the servers work in real time) until ``done()``."""
        real = SystemClock()
        deadline = real.monotonic() + seconds
        while not done():
            if real.monotonic() > deadline:
                raise RuntimeError(f"the demo waited more than {seconds:.0f} s for {what}")
            await real.sleep(0.002)

    async def _drive(
        self,
        engine: Engine,
        runner: Runner,
        smtp: SmtpSandbox,
        mailbox: PymapSandbox,
        sim: TwilioSimulator,
    ) -> None:
        """Jump from one thing due to the next until the campaign and its replies are over.

        Three sources of events: the runner's plan, the simulator's calls and the world's mails.
        Whichever is first runs, together with everything else of its kind due before the next
        event of another kind: a run of call steps, then one tick to settle the calls that ended
        (as the webhooks' wake-up does); a run of mails delivered over one IMAP connection, then
        one wait for the watcher. Nothing new can enter a run before its end (only a tick plans
        calls or sends questions, and only a sent question makes mails), so batching changes no
        instant the harness records, and large worlds run 2.5 times faster (docs/performance.md).
        """
        end = datetime.combine(self.world.period_end + timedelta(days=21), datetime.min.time(), UTC)
        day: date | None = None
        while True:
            runner_due = runner.next_due()
            sim_due = sim.next_due()
            mail_due = self.mail_queue[0][0] if self.mail_queue else None
            candidates = [t for t in (runner_due, sim_due, mail_due) if t is not None]
            if not candidates or min(candidates) > end:
                break
            nxt = max(min(candidates), self.clock.now())
            if nxt.date() != day:
                day = nxt.date()
                self._report_day(engine, day)
            if sim_due is not None and sim_due <= nxt:
                # Call steps strictly before the next mail or planned probe (ties go to those,
                # as they did when the loop took one step at a time).
                others = [t for t in (runner_due, mail_due, end) if t is not None]
                limit = min(others) - timedelta(microseconds=1)
                await sim.run_until(max(sim_due, limit) if self.batch_events else sim_due)
                if self._calls_ended(sim) or not self.batch_events:
                    # Settle finished calls at once, as the webhooks' wake-up does. Only then:
                    # a tick when no call ended has nothing to settle, and each tick scans every
                    # open probe, which made the ticks of a national run grow with its size.
                    await runner.tick()
                    self._assess(engine)
            elif mail_due is not None and mail_due <= nxt:
                others = [t for t in (runner_due, sim_due, end) if t is not None]
                await self._deliver_due(mailbox, min(others) if self.batch_events else mail_due)
            else:
                self.clock.set(nxt)
                await runner.tick()
                self._questions_sent(engine, smtp)
        self.clock.set(max(end, self.clock.now()))
        await runner.tick()  # give up on the unanswered, settle anything left

    def _calls_ended(self, sim: TwilioSimulator) -> bool:
        """Whether a call ended since the last look (new calls are picked up as they appear)."""
        calls = sim.calls
        if len(calls) > self._calls_seen:
            # dicts keep insertion order: only the calls created since the last look are new.
            fresh = itertools.islice(calls, self._calls_seen, None)
            self._open_calls.update(fresh)
            self._calls_seen = len(calls)
        ended = {sid for sid in self._open_calls if calls[sid].ended}
        self._open_calls -= ended
        return bool(ended)

    async def _deliver_due(self, mailbox: PymapSandbox, before: datetime) -> None:
        """Deliver the queued mails arriving before ``before`` (at least one), in order.

        Each keeps its own arrival instant (INTERNALDATE and our server's ``Received:`` stamp,
        which is what the harness times); the clock ends at the last arrival. A run stops at a
        change of folder: consecutive mails to one folder go over one connection and the watcher
        is awaited once per run. (Runs spanning INBOX and Junk left the INBOX watcher without a
        push for one mail now and then; see docs/performance.md.)
        """
        batch: list[tuple[datetime, str, bytes]] = []
        while self.mail_queue and (
            not batch or (self.mail_queue[0][0] < before and self.mail_queue[0][2] == batch[0][1])
        ):
            at, _, folder, raw = heapq.heappop(self.mail_queue)
            batch.append((at, folder, raw))
        expected = self.stored + len(batch)
        real = SystemClock()
        began = real.monotonic()
        folder = batch[0][1]
        self.clock.set(max(batch[-1][0], self.clock.now()))
        await mailbox.deliver_many(MAILBOX, [(raw, at) for at, _, raw in batch], folder=folder)
        self.delivered += len(batch)
        try:
            await self._wait(lambda: self.stored >= expected, "the watcher to store the replies")
        except RuntimeError as exc:
            kinds = [(at.isoformat(), folder) for at, folder, _ in batch]
            raise RuntimeError(
                f"{exc}: {self.stored} of {expected} stored; batch {kinds}"
            ) from None
        if real.monotonic() - began > SLOW_STORE_SECONDS:
            self.slow_stores += 1

    def _report_day(self, engine: Engine, day: date) -> None:
        with Session(engine) as session:
            placed = session.exec(
                select(Probe.channel).where(col(Probe.claimed_at).is_not(None))
            ).all()
        emails = sum(1 for c in placed if c == Channel.EMAIL)
        self.progress(
            f"{day.isoformat()}  e-mails sent {emails:>4}  calls {len(placed) - emails:>4}  "
            f"replies delivered {self.delivered:>4}"
        )

    def _questions_sent(self, engine: Engine, smtp: SmtpSandbox) -> None:
        """The world reads each new question and schedules its municipality's mails."""
        if len(smtp.messages) == self._indexed:
            return  # nothing new reached SMTP: most ticks only place calls or give up
        # Index only the messages that arrived since the last call (was every message on every
        # tick: quadratic in a national campaign).
        for message in smtp.messages[self._indexed :]:
            text = message.content.decode("utf-8", "replace")
            for line in text.splitlines():
                if line.lower().startswith("message-id:"):
                    self._by_message_id[line.split(":", 1)[1].strip()] = message
                    break
        self._indexed = len(smtp.messages)
        by_id = self._by_message_id
        with Session(engine) as session:
            sent = session.exec(
                select(Probe, Target)
                .join(Target, col(Probe.target_id) == col(Target.id))
                .where(
                    Probe.channel == Channel.EMAIL,
                    Probe.state == ProbeState.SENT,
                    col(Probe.id).not_in(self.handled),
                )
            ).all()
        world = {t.kommunkod: t for t in self.world.targets}
        for probe, target in sent:
            assert probe.id is not None
            if probe.id in self.handled or probe.sent_at is None:
                continue
            self.handled.add(probe.id)
            found = by_id.get(probe.message_id or "")
            assert found is not None, f"probe {probe.id}: the question never reached SMTP"
            message = found
            question = QuestionSent.from_raw(
                probe_id=probe.id,
                raw=message.content,
                accepted_at=probe.sent_at,
                reply_token=probe.reply_token,
            )
            response = email_responses(
                question, world[target.kommunkod], self.rng_mail, self.calendar, OUR_HOST
            )
            for mail in response.mails:
                heapq.heappush(self.mail_queue, (mail.arrive_at, next(self._seq), mail.folder,
                                                 mail.raw))  # fmt: skip
            self.email_truth[probe.id] = {
                "kommunkod": target.kommunkod,
                # When the municipality's mail system took the question: its own record.
                "sent_at": message.received_at.isoformat(),
                "answered_at": response.answered_at.isoformat() if response.answered_at else None,
                "mails": [m.kind for m in response.mails],
            }

    # --- the phone side ----------------------------------------------------------------------

    def _script_for(self, number: str, parent_sid: str | None) -> SwitchboardScript | None:
        if number == TESTER or parent_sid is None:
            return None  # the tester's phone: the fixed script
        target = self._by_number.get(number)
        if target is None:
            return None
        script, truth = phone_script(target.phone_profile, self.rng_phone)
        dialled = self.clock.now()
        # The call's start as Twilio records it: whole seconds (its timestamps carry no
        # fraction), which is the instant the KKiK wait is counted from. With the exact instant
        # the truth was up to a second kinder than any measurement can be, and a person reached
        # 59.6 s after the dial (60.2 s after the recorded start) disagreed on "within 60 s".
        truth.dial_at = dialled.replace(microsecond=0)
        if truth.outcome == "person":
            assert script.person_after is not None
            answered = script.dial_delay + script.ring_seconds
            truth.person_at = dialled + timedelta(seconds=answered + script.person_after)
        self.call_truth[parent_sid] = truth
        return script

    async def _person(self, call: SimCall, _at: datetime) -> None:
        """The scripted caller hears a person and marks it, with the real service."""
        probe_id = self._probe_for_call(call.parent_sid)
        if probe_id is None:
            raise RuntimeError(f"no probe placed call {call.parent_sid}")
        mark_call(self.tester(), MarkCall(probe_id, "person"))

    def _probe_for_call(self, call_sid: str | None) -> int | None:
        with Session(self.engine) as session:
            return session.exec(select(Probe.id).where(Probe.call_sid == call_sid)).first()

    def _assess(self, engine: Engine) -> None:
        """After each finished call with a person, the caller records the assessment."""
        with Session(engine) as session:
            done = session.exec(
                select(Probe).where(
                    Probe.channel == Channel.PHONE,
                    Probe.state == ProbeState.COMPLETED,
                    Probe.outcome == "person",
                    col(Probe.id).not_in(self.assessed),
                )
            ).all()
            assessed = set(session.exec(select(Assessment.probe_id)).all())
        for probe in done:
            if probe.id in assessed or probe.id in self.assessed:
                continue
            truth = self.call_truth.get(probe.call_sid or "")
            if truth is None or truth.direct_answer is None or truth.bemotande is None:
                continue
            self.assessed.add(probe.id or 0)
            assess_call(
                self.tester(),
                AssessCall(probe.id or 0, truth.direct_answer, truth.bemotande),
            )

    # --- the verdict ---------------------------------------------------------------------------

    def _results(self, settings: Settings, engine: Engine) -> DemoResult:
        measured_evidence, campaign = campaign_evidence(
            engine, self.world.campaign, settings.email.count_holding_replies,
            timeline_rules(settings),
        )  # fmt: skip
        # Measured as `kkik score` measures: the campaign's calendar from the configuration and
        # the scenario saved with the campaign. The truth is scored by the world's own calendar,
        # so a closed day the harness failed to honour would show up as a mismatch.
        measured_rules = scoring_rules(settings, campaign)
        measured = score(measured_evidence, measured_rules)
        rules = replace(measured_rules, calendar=self.calendar)
        truth_evidence: list[Evidence] = []
        for probe_id, t in self.email_truth.items():
            truth_evidence.append(
                Evidence(
                    t["kommunkod"], "email", str(probe_id), datetime.fromisoformat(t["sent_at"]),
                    answered_at=datetime.fromisoformat(t["answered_at"]) if t["answered_at"]
                    else None,
                )
            )  # fmt: skip
        calls: dict[str, Any] = {}
        with Session(engine) as session:
            placed = session.exec(
                select(Probe, Target)
                .join(Target, col(Probe.target_id) == col(Target.id))
                .where(Probe.channel == Channel.PHONE, col(Probe.claimed_at).is_not(None))
            ).all()
        for probe, target in placed:
            truth = self.call_truth.get(probe.call_sid or "")
            if truth is None or truth.dial_at is None:
                continue
            calls[str(probe.id)] = {
                "kommunkod": target.kommunkod,
                "outcome": truth.outcome,
                "dial_at": truth.dial_at.isoformat(),
                "person_at": truth.person_at.isoformat() if truth.person_at else None,
                "direct_answer": truth.direct_answer,
                "bemotande": truth.bemotande,
            }
            truth_evidence.append(
                Evidence(
                    target.kommunkod, "phone", str(probe.id), truth.dial_at, mode="bridged",
                    outcome=truth.outcome,  # type: ignore[arg-type]
                    person_at=truth.person_at, direct_answer=truth.direct_answer,
                    bemotande=truth.bemotande,
                )
            )  # fmt: skip
        truth_scores = score(truth_evidence, rules)
        mismatches = _compare(measured, truth_scores)
        flips = _closed_day_verdicts(self.email_truth, self.calendar, work_calendar(settings))
        ground_truth = {
            "seed": self.seed,
            "campaign": self.world.campaign,
            "extra_closed_days": [d.isoformat() for d in self.world.extra_closed_days],
            "closed_day_verdicts": flips,
            "emails": {str(k): v for k, v in sorted(self.email_truth.items())},
            "calls": calls,
            "scores": [_score_json(s) for s in truth_scores],
        }
        return DemoResult(
            out=self.out,
            measured=measured,
            truth=truth_scores,
            mismatches=mismatches,
            probes=len(self.email_truth) + len(calls),
            mails_delivered=self.delivered,
            calls=len(calls),
            ground_truth=ground_truth,
            closed_day_verdicts=flips,
        )


def _closed_day_verdicts(
    email_truth: dict[int, dict[str, Any]], world: WorkCalendar, configured: WorkCalendar
) -> list[int]:
    """The e-mails whose truth "within one working day" differs between the world's calendar
    (with the campaign's closed days) and the configured one (without them).

    Each is an answer the harness must judge by the campaign's own calendar to agree with the
    truth: the proof that the closed days were exercised, not merely declared.
    """
    flips = []
    for probe_id, t in sorted(email_truth.items()):
        if t["answered_at"] is None:
            continue
        sent = datetime.fromisoformat(t["sent_at"])
        answered = datetime.fromisoformat(t["answered_at"])
        if world.within(sent, answered) != configured.within(sent, answered):
            flips.append(probe_id)
    return flips


def _shown(path: Path) -> str:
    """The world file as the scenario's comment names it: relative to the project if inside."""
    resolved = path.resolve()
    return str(resolved.relative_to(ROOT)) if resolved.is_relative_to(ROOT) else str(path)


def _score_json(s: Score) -> dict[str, Any]:
    return {
        "kommunkod": s.kommunkod,
        "measure": s.measure_id,
        "value": s.value,
        "numerator": s.numerator,
        "denominator": s.denominator,
    }


def _compare(measured: list[Score], truth: list[Score]) -> list[str]:
    """Every (municipality, measure) whose measured value, numerator or denominator differs."""
    want = {(s.kommunkod, s.measure_id): s for s in truth}
    got = {(s.kommunkod, s.measure_id): s for s in measured}
    problems = []
    for key in sorted(set(want) | set(got)):
        a, b = got.get(key), want.get(key)
        fa = (a.value, a.numerator, a.denominator) if a else None
        fb = (b.value, b.numerator, b.denominator) if b else None
        if fa != fb:
            problems.append(f"{key[0]} {key[1]}: measured {fa}, truth {fb}")
    return problems
