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
reply (:mod:`harness.demo.world_mail`); and per call ring time, busy, no answer, queue, person,
direct answer and bemötande (:mod:`harness.demo.world_calls`). It writes down what it did
(``ground-truth.json``); at the end the measured scores must equal the scores computed from that
truth, measure by measure and municipality by municipality (:mod:`harness.demo.verdict`).

This module holds :class:`Demo`, which sets the run up and drives it; the files it writes are
:mod:`harness.demo.run_config`'s, the switchboards and scripted callers
:mod:`harness.demo.phone_side`'s.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import random
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from harness.assembly import Assembly
from harness.campaign.planning import plan_scenario
from harness.campaign.runner import Runner
from harness.core.clock import FakeClock, SystemClock, WaitingClock
from harness.core.config import Settings, load_config
from harness.demo.mail_model import QuestionSent
from harness.demo.phone_side import TESTER_PATIENCE, PhoneSide
from harness.demo.run_config import (
    ACCOUNT_SID,
    ENV,
    MAILBOX,
    OUR_HOST,
    ROOT,
    TESTER,
    write_config,
    write_scenario,
)
from harness.demo.verdict import DemoResult, account_for, judge
from harness.demo.world import World, load_world
from harness.demo.world_mail import email_responses
from harness.rules.calendars import work_calendar
from harness.sandbox.accounts import Account
from harness.sandbox.ports import free_port
from harness.sandbox.pymap import PymapSandbox, append_many
from harness.sandbox.smtp import ReceivedMessage, SmtpSandbox
from harness.sandbox.twilio_calls import SwitchboardScript
from harness.sandbox.twilio_sim import TwilioSimulator
from harness.services.base import Context
from harness.store import migrate
from harness.store.db import make_engine, require_empty
from harness.store.models import Channel, Probe, ProbeState, Target
from harness.store.planstore import save_plan
from harness.web.app import WebServer
from results.calendar import WorkCalendar

WORLD = ROOT / "scenarios" / "demo" / "world.toml"
START = datetime(2026, 10, 5, 4, 0, tzinfo=UTC)  # Monday 06:00 in Stockholm
IDLE_RENEW_SECONDS = 2.0
# A delivery the watcher takes longer than this (real time) to store counts as a slow store.
SLOW_STORE_SECONDS = 1.0


class Demo:
    def __init__(
        self,
        out: Path,
        *,
        seed: int = 2026,
        world_path: Path = WORLD,
        progress: Callable[..., None] | None = None,
        lang: str = "sv",
        weeks: int | None = None,
        world: World | None = None,
        batch_events: bool = True,
        database_url: str | None = None,
    ) -> None:
        self.out = out
        # Another database than the file in ``out`` (PostgreSQL: the whole run on a server).
        # It must be empty: the demo migrates it and never wipes what it did not make.
        self.database_url = database_url
        self.seed = seed
        # A world built in code (generate_world, for scale runs) or read from a world file.
        self.world: World = world if world is not None else load_world(world_path)
        # False: one call step or one mail per loop turn, as before batching (the benchmark's
        # naive comparison); the results are the same, only slower.
        self.batch_events = batch_events
        self.world_source = "a generated world" if world is not None else _shown(world_path)
        # Told how the run goes: progress(what, **figures), worded by the face that shows it.
        self.progress = progress or (lambda *_, **__: None)
        self.lang = lang
        self.weeks = weeks
        self.clock = FakeClock(START)
        # The world's calendar: when its people answer and the truth's verdicts. Rebuilt on the
        # configured calendar once the configuration is written (run()).
        self.calendar: WorkCalendar = self.world.calendar()
        self.rng_mail = random.Random(f"{seed}-mail")
        self.phone = PhoneSide(self.world, self.clock, random.Random(f"{seed}-phone"), self.tester)
        self.mail_queue: list[tuple[datetime, int, str, bytes]] = []
        self._seq = itertools.count()
        self.email_truth: dict[int, dict[str, Any]] = {}
        self.handled: set[int] = set()
        self.stored = 0
        self.delivered = 0
        # Questions taken from SMTP whose probe is not yet read as sent, by Message-ID.
        self._by_message_id: dict[str, ReceivedMessage] = {}
        self._message_ids: set[str] = set()  # the distinct Message-IDs that reached SMTP
        self.slow_stores = 0
        self._kept: dict[str, int] = {}  # per folder, the one delivered reply the mailbox keeps
        self._calls_seen = 0  # the simulator's count of ended legs at the last look

    def tester(self) -> Context:
        """The scripted tester at the services, as the dashboard's console and ``kkik call``
        reach them: the demo's database, its clock, its configuration."""
        return Context(self.engine, self.clock, self.settings, "demo:tester")

    # --- the run -------------------------------------------------------------------------------

    async def run(self) -> DemoResult:
        url = self.database_url
        if url is not None:
            require_empty(url)  # before anything is written
        self.out.mkdir(parents=True, exist_ok=True)
        if url is None:
            for stale in self.out.glob("kkik.db*"):
                stale.unlink()
            url = f"sqlite:///{self.out / 'kkik.db'}"
        real = SystemClock()
        began = real.monotonic()
        smtp = SmtpSandbox(starttls=False, auth_required=False, hostname=OUR_HOST,
                           clock=self.clock)  # fmt: skip
        self.account = Account(MAILBOX, ENV["KKIK_DEMO_IMAP_PASSWORD"])
        mailbox = PymapSandbox([self.account])
        # A call is settled by the tick right after it ends: a day later the simulator need not
        # keep it (a national run places ten thousand).
        sim = TwilioSimulator(self.clock, forget_after=timedelta(days=1))
        sim.add_account(ACCOUNT_SID, ENV["KKIK_DEMO_TWILIO_TOKEN"])
        tester = SwitchboardScript(ring_seconds=3, person_after=None, prompts=(),
                                   hangup_after=TESTER_PATIENCE)  # fmt: skip
        sim.script(TESTER, tester)
        sim.script_for = self.phone.script_for
        sim.on_person = self.phone.person
        web_port = free_port()
        async with smtp, mailbox, sim:
            write_scenario(
                self.out, self.world, source=self.world_source, seed=self.seed, weeks=self.weeks
            )
            self.config = write_config(
                self.out, lang=self.lang, smtp_port=smtp.port, imap_port=mailbox.port,
                api=sim.base_url, web_port=web_port, database_url=url,
            )  # fmt: skip
            settings = load_config(self.config)
            self.settings = settings
            engine = make_engine(url)
            self.engine = engine
            self.calendar = self.world.calendar(work_calendar(settings))
            migrate.upgrade(engine)
            made = plan_scenario(self.out / "scenario.toml", settings)
            with Session(engine) as session:
                save_plan(session, made.scenario, made.bank, made.probes, START)
            self.progress("plan", probes=len(made.probes), targets=len(self.world.targets))
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
        self.progress("simulated", seconds=f"{real.monotonic() - began:.1f}")
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
        result = judge(
            settings, engine, world=self.world, seed=self.seed, calendar=self.calendar,
            email_truth=self.email_truth, call_truth=self.phone.call_truth, out=self.out,
            delivered=self.delivered,
        )  # fmt: skip
        result.states, result.unaccounted = account_for(
            engine, smtp, message_ids=len(self._message_ids), email_truth=self.email_truth,
            call_truth=self.phone.call_truth,
        )  # fmt: skip
        result.questions_received = smtp.received
        result.slow_stores = self.slow_stores
        return result

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
                    self.phone.assess(engine)
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
        """Whether a call ended since the last look."""
        ended = sim.ended_count != self._calls_seen
        self._calls_seen = sim.ended_count
        return ended

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
        uids = await mailbox.deliver_many(
            MAILBOX, [(raw, at) for at, _, raw in batch], folder=folder
        )
        self.delivered += len(batch)
        try:
            await self._wait(lambda: self.stored >= expected, "the watcher to store the replies")
        except RuntimeError as exc:
            kinds = [(at.isoformat(), folder) for at, folder, _ in batch]
            raise RuntimeError(
                f"{exc}: {self.stored} of {expected} stored; batch {kinds}"
            ) from None
        # Stored: the mailbox need not keep them (pymap holds every message parsed in memory,
        # most of a national run's growth). The newest stays, so the folder is never empty.
        *done, newest = sorted(uids)
        kept = self._kept.get(folder)
        await mailbox.forget(MAILBOX, folder, done if kept is None else [kept, *done])
        self._kept[folder] = newest
        if real.monotonic() - began > SLOW_STORE_SECONDS:
            self.slow_stores += 1

    def _report_day(self, engine: Engine, day: date) -> None:
        with Session(engine) as session:
            placed = session.exec(
                select(Probe.channel).where(col(Probe.claimed_at).is_not(None))
            ).all()
        emails = sum(1 for c in placed if c == Channel.EMAIL)
        self.progress(
            "day", day=day.isoformat(), emails=emails, calls=len(placed) - emails,
            replies=self.delivered,
        )  # fmt: skip

    def _questions_sent(self, engine: Engine, smtp: SmtpSandbox) -> None:
        """The world reads each new question and schedules its municipality's mails."""
        # The questions that reached SMTP since the last call, taken from the sandbox (which
        # then forgets them) and kept here only until their probe is read as sent.
        for message in smtp.take():
            text = message.content.decode("utf-8", "replace")
            for line in text.splitlines():
                if line.lower().startswith("message-id:"):
                    message_id = line.split(":", 1)[1].strip()
                    self._by_message_id[message_id] = message
                    self._message_ids.add(message_id)
                    break
        if not self._by_message_id:
            return  # nothing new reached SMTP: most ticks only place calls or give up
        by_id = self._by_message_id
        with Session(engine) as session:
            # Only the probes of those questions: was every sent probe not yet handled, a NOT
            # IN over a list that grew with the campaign.
            sent = session.exec(
                select(Probe, Target)
                .join(Target, col(Probe.target_id) == col(Target.id))
                .where(
                    Probe.channel == Channel.EMAIL,
                    Probe.state == ProbeState.SENT,
                    col(Probe.message_id).in_(list(by_id)),
                )
                .order_by(col(Probe.id))
            ).all()
        world = {t.kommunkod: t for t in self.world.targets}
        for probe, target in sent:
            assert probe.id is not None
            if probe.id in self.handled or probe.sent_at is None:
                continue
            self.handled.add(probe.id)
            found = by_id.pop(probe.message_id or "", None)
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


def _shown(path: Path) -> str:
    """The world file as the scenario's comment names it: relative to the project if inside."""
    resolved = path.resolve()
    return str(resolved.relative_to(ROOT)) if resolved.is_relative_to(ROOT) else str(path)
