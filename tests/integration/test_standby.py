"""`kkik run --standby` takes over when the active runner is killed with SIGKILL mid-campaign.

Two real `kkik run` processes (on the real clock moved to a Monday morning) against the sandbox
SMTP server, a pymap measurement mailbox and the Twilio simulator, on SQLite and on PostgreSQL.
The test plays the municipalities: every question that reaches SMTP is answered in the mailbox,
also while no runner is alive. Afterwards nobody got a question or a call twice, every reply
delivered is stored exactly once, and the standby reported its take-over within seconds.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import signal
import sys
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from email.utils import format_datetime, make_msgid
from pathlib import Path

import pytest
from sqlalchemy import Engine, text, update
from sqlmodel import Session, col, select

from harness.campaign.planning import plan_scenario
from harness.core.clock import OffsetClock, SystemClock
from harness.core.config import load_config
from harness.sandbox.accounts import Account
from harness.sandbox.ports import free_port
from harness.sandbox.pymap import PymapSandbox, append_many
from harness.sandbox.smtp import ReceivedMessage, SmtpSandbox
from harness.sandbox.twilio_calls import SwitchboardScript
from harness.sandbox.twilio_sim import SimulatorThread, TwilioSimulator
from harness.store import migrate
from harness.store.db import make_engine
from harness.store.models import Channel, Message, Probe, ProbeState
from harness.store.planstore import save_plan
from harness.store.runlock import ADVISORY_KEY, CHECK_SECONDS
from tests.phone_rig import ACCOUNT, ROOT, TOKEN, TOKEN_ENV

MONDAY = "2026-10-05T08:00:00+00:00"  # 10:00 in Stockholm: inside every window
TARGETS = ["2380", "2309", "2321", "2361", "2303", "2305"]
MAILBOX = Account("matning@kkik.test", "imap-losen-standby")
IMAP_ENV = "KKIK_STANDBY_IMAP_PW"
SPREAD = 12.0  # seconds over which the questions and calls fall due
# The child: the real CLI, on the real clock moved by the offset the test gives (argv[1]).
CHILD = (
    "import sys\n"
    "from datetime import UTC, datetime, timedelta\n"
    "from harness.cli import run\n"
    "from harness.core.clock import OffsetClock\n"
    "offset = timedelta(seconds=float(sys.argv[1]))\n"
    "sys.exit(run(sys.argv[2:], clock=OffsetClock(datetime.now(UTC) + offset)))\n"
)


def _scenario() -> str:
    targets = "".join(
        f'\n[[targets]]\nkommunkod = "{code}"\nemail = "k{code}@kommun.example.se"\n'
        f'switchboard = "063-14 30 {i:02d}"\n'
        for i, code in enumerate(TARGETS)
    )
    return f"""
[campaign]
name = "Reservtest"
year = 2026
period_start = 2026-10-05
period_end = 2026-10-16
emails_per_target = 2
calls_per_target = 1
max_emails_per_target_per_day = 2
question_bank = "questions"

[[personas]]
name = "Anna Lindqvist"
address = "anna.lindqvist@fraga.example.se"
{targets}"""


def _config(url: str, smtp: SmtpSandbox, imap: PymapSandbox, sim: TwilioSimulator) -> str:
    port = free_port()
    return f"""
language = "sv"

[database]
url = "{url}"

[mail]
receiving_hosts = ["fraga.example.se"]

[mail.smtp]
host = "127.0.0.1"
port = {smtp.port}
security = "none"
auth = "none"

[mail.imap]
host = "127.0.0.1"
port = {imap.port}
security = "none"
username = "{MAILBOX.username}"
password_env = "{IMAP_ENV}"
folders = ["INBOX"]

[phone]
mode = "automated"
account_sid = "{ACCOUNT}"
auth_token_env = "{TOKEN_ENV}"
from_number = "08-123 456 78"
api_base_url = "{sim.base_url}"

[web]
port = {port}
public_url = "http://127.0.0.1:{port}"
"""


def _answer(question: ReceivedMessage, at_text: str) -> bytes:
    parsed = email.message_from_bytes(question.content, policy=email.policy.default)
    lines = [
        f"From: Karin Berg <karin.berg@{question.rcpt_tos[0].partition('@')[2]}>",
        f"To: {parsed['From']}",
        f"Subject: SV: {parsed['Subject']}",
        f"Date: {at_text}",
        f"Message-ID: {make_msgid(domain='kommun.example.se')}",
        f"In-Reply-To: {parsed['Message-ID']}",
        f"References: {parsed['Message-ID']}",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "",
        "Hej Anna!\r\n\r\nJa, det kräver bygglov.\r\n\r\nMed vänliga hälsningar\r\nKarin Berg",
    ]
    return "\r\n".join(lines).encode()


REAL = SystemClock()


async def _until(done: Callable[[], bool], seconds: float, what: str) -> None:
    """Wait in real time until ``done()``; fail after ``seconds``."""
    for _ in range(int(seconds / 0.1)):
        if done():
            return
        await REAL.sleep(0.1)
    raise AssertionError(f"waited {seconds:.0f} s for {what}")


class Child:
    """One `kkik run` process, its output lines collected as they come."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[tuple[float, str]] = []
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.process.stdout is not None
        async for raw in self.process.stdout:
            self.lines.append((REAL.monotonic(), raw.decode().rstrip("\n")))

    async def said(self, start: str, seconds: float = 20.0) -> float:
        """Wait until a line starting with ``start`` is printed; when it was (monotonic)."""

        def printed() -> bool:
            assert self.process.returncode is None, f"the runner ended: {self.lines}"
            return any(line.startswith(start) for _, line in self.lines)

        await _until(printed, seconds, f"“{start}”")
        return next(at for at, line in self.lines if line.startswith(start))


def _unsettled(engine: Engine, replies: int) -> str | None:
    """What the campaign still waits for, or None when every probe is definite and every
    reply delivered is stored."""
    with Session(engine) as session:
        probes = session.exec(select(Probe)).all()
        stored = len(session.exec(select(Message.id)).all())
    planned = [p.id for p in probes if p.state == ProbeState.PLANNED]
    sending = [p.id for p in probes if p.state == ProbeState.SENDING and p.outcome is None]
    unanswered = [p.id for p in probes if p.channel == Channel.EMAIL and p.state == ProbeState.SENT]
    if planned or sending or unanswered or stored < replies:
        return f"planned {planned}, sending {sending}, unanswered {unanswered}, {stored}/{replies}"
    return None


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_the_standby_takes_over_after_a_sigkill_with_nothing_doubled_or_lost(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
):
    url = (
        request.getfixturevalue("pg_database_url")
        if backend == "postgresql"
        else f"sqlite:///{tmp_path / 'kkik.db'}"
    )
    (tmp_path / "questions").symlink_to(ROOT / "scenarios" / "questions")
    (tmp_path / "scenario.toml").write_text(_scenario(), encoding="utf-8")
    clock = OffsetClock(datetime.fromisoformat(MONDAY))
    offset = (clock.now() - SystemClock().now()).total_seconds()
    sim = TwilioSimulator(clock)
    sim.add_account(ACCOUNT, TOKEN)
    for i in range(len(TARGETS)):
        sim.script(
            f"+46631430{i:02d}",
            SwitchboardScript(dial_delay=0.5, ring_seconds=1, person_after=0, talk_seconds=2,
                              greeting_seconds=0.5),
        )  # fmt: skip
    smtp = SmtpSandbox(starttls=False, auth_required=False, hostname="mx.kommun.example.se")
    engine = make_engine(url)
    env = {**os.environ, IMAP_ENV: MAILBOX.password, TOKEN_ENV: TOKEN}
    children: list[Child] = []

    async def kkik_run(*extra: str) -> Child:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-u", "-c", CHILD, str(offset), "--config", "config.toml", "run",
            *extra, cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        child = Child(process)
        children.append(child)
        return child

    replies: list[bytes] = []
    answered: set[int] = set()  # indexes of smtp.messages already answered
    try:
        async with smtp, PymapSandbox([MAILBOX]) as imap:
            with SimulatorThread(sim):
                config = tmp_path / "config.toml"
                config.write_text(_config(url, smtp, imap, sim), encoding="utf-8")
                migrate.upgrade(engine)
                made = plan_scenario(tmp_path / "scenario.toml", load_config(config))
                with Session(engine) as session:
                    save_plan(session, made.scenario, made.bank, made.probes, clock.now())
                assert len(made.probes) == 18  # 6 municipalities x (2 e-mails + 1 call)
                # Everything falls due within SPREAD seconds of the runner's start.
                first = clock.now() + timedelta(seconds=4)
                with Session(engine) as session:
                    ids = session.exec(select(Probe.id).order_by(col(Probe.id))).all()
                    for i, probe_id in enumerate(ids):
                        at = first + timedelta(seconds=SPREAD * i / len(ids))
                        session.execute(
                            update(Probe).where(col(Probe.id) == probe_id).values(planned_at=at)
                        )
                    session.commit()

                active = await kkik_run()
                await active.said("Kör mot")
                standby = await kkik_run("--standby")
                await standby.said("Väntar i reserv")

                async def answer_everything() -> None:
                    """The municipalities answer each question a moment after it arrives."""
                    while True:
                        fresh = [(i, m) for i, m in enumerate(smtp.messages) if i not in answered]
                        batch = []
                        for i, message in fresh:
                            answered.add(i)
                            at = clock.now()
                            batch.append((_answer(message, format_datetime(at)), at))
                        if batch:
                            await append_many(imap.host, imap.port, MAILBOX, batch)
                            replies.extend(raw for raw, _ in batch)
                        await REAL.sleep(0.2)

                municipalities = asyncio.create_task(answer_everything())
                # Kill the active runner in the middle: some questions sent, most not yet.
                await _until(lambda: len(smtp.messages) >= 4, 30, "the first questions")
                active.process.send_signal(signal.SIGKILL)
                killed = REAL.monotonic()
                await active.process.wait()
                took_over = await standby.said("Den andra kkik run har slutat")
                await standby.said("Kör mot")

                await _until(
                    lambda: (
                        _unsettled(engine, len(replies)) is None
                        and len(replies) == len(smtp.messages)
                    ),
                    40,
                    "the campaign to settle",
                )
                await _until(
                    lambda: all(call.ended for call in list(sim.calls.values())), 20, "the calls"
                )
                municipalities.cancel()
                await asyncio.gather(municipalities, return_exceptions=True)
                await REAL.sleep(1.0)  # the last calls' final callbacks
                standby.process.send_signal(signal.SIGTERM)
                async with asyncio.timeout(20):
                    assert await standby.process.wait() == 0
                await standby.reader
                assert standby.lines[-1][1] == "Avslutat."

                # Nobody got a question twice: one message per Message-ID and per recipient
                # and subject.
                questions = [
                    email.message_from_bytes(m.content, policy=email.policy.default)
                    for m in smtp.messages
                ]
                by_id = Counter(str(q["Message-ID"]) for q in questions)
                by_pair = Counter(
                    (m.rcpt_tos[0], str(q["Subject"]))
                    for m, q in zip(smtp.messages, questions, strict=True)
                )
                assert set(by_id.values()) == {1}
                assert set(by_pair.values()) == {1}
                # Nobody got a call twice: one simulated call per switchboard number at most.
                calls = Counter(call.to for call in sim.calls.values() if call.parent_sid is None)
                assert set(calls.values()) <= {1}
    finally:
        for child in children:
            if child.process.returncode is None:
                child.process.kill()
                await child.process.wait()
            child.reader.cancel()
        with Session(engine) as session:
            probes = session.exec(select(Probe)).all()
            messages = session.exec(select(Message)).all()
        engine.dispose()
    # Every question the server accepted is one probe's, and every e-mail probe sent was
    # received exactly once (a probe killed between acceptance and our record of it is flagged
    # for a person, never re-sent).
    assert set(by_id) <= {p.message_id for p in probes}
    states = Counter((p.channel, p.state, p.outcome) for p in probes)
    for probe in probes:
        if probe.channel == Channel.EMAIL and probe.state != ProbeState.SENDING:
            assert by_id[probe.message_id or ""] == 1, probe
            assert (probe.state, probe.outcome) == (ProbeState.COMPLETED, "answered")
        if probe.channel == Channel.PHONE and probe.state in (
            ProbeState.SENT,
            ProbeState.COMPLETED,
        ):
            assert probe.call_sid in sim.calls
    assert sum(calls.values()) == sum(
        1 for p in probes if p.channel == Channel.PHONE and p.call_sid
    )
    # Every reply delivered is stored, once.
    reply_ids = {
        str(email.message_from_bytes(raw, policy=email.policy.default)["Message-ID"])
        for raw in replies
    }
    stored = Counter(m.message_id_header for m in messages)
    assert reply_ids == set(stored)
    assert set(stored.values()) == {1}
    took = took_over - killed
    print(f"{backend}: took over {took:.1f} s after the SIGKILL; {dict(states)}")
    assert took < 5.0


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_a_runner_that_loses_its_lock_stops_at_once(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
):
    """Its lock session killed (PostgreSQL) or its lock file deleted (SQLite): a standby could
    take the lock now, so the runner must stop rather than run beside it."""
    url = (
        request.getfixturevalue("pg_database_url")
        if backend == "postgresql"
        else f"sqlite:///{tmp_path / 'kkik.db'}"
    )
    (tmp_path / "questions").symlink_to(ROOT / "scenarios" / "questions")
    (tmp_path / "scenario.toml").write_text(_scenario(), encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text(f'language = "sv"\n[database]\nurl = "{url}"\n', encoding="utf-8")
    clock = OffsetClock(datetime.fromisoformat(MONDAY))
    offset = (clock.now() - REAL.now()).total_seconds()
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        made = plan_scenario(tmp_path / "scenario.toml", load_config(config))
        with Session(engine) as session:
            save_plan(session, made.scenario, made.bank, made.probes, clock.now())
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-u", "-c", CHILD, str(offset), "--config", "config.toml", "run",
            cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        child = Child(process)
        try:
            await child.said("Kör mot")
            lost = REAL.monotonic()
            if backend == "sqlite":
                (tmp_path / "kkik.db.run.lock").unlink()
            else:
                with engine.connect() as connection:
                    connection.execute(
                        text(
                            "SELECT pg_terminate_backend(pid) FROM pg_locks"
                            " WHERE locktype = 'advisory' AND objid::bigint = :k"
                        ),
                        {"k": ADVISORY_KEY},
                    )
            async with asyncio.timeout(15):
                code = await process.wait()
            stopped = REAL.monotonic() - lost
            assert process.stderr is not None
            err = (await process.stderr.read()).decode()
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
            child.reader.cancel()
        assert code == 1
        assert err.splitlines()[-1].startswith("Förlorade låset mot ")
        assert err.splitlines()[-1].endswith(
            "(databasanslutningen bröts eller låsfilen togs bort); avslutar så att två kkik run "
            "aldrig arbetar samtidigt."
        )
        assert stopped < CHECK_SECONDS + 3.0
    finally:
        engine.dispose()
