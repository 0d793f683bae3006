"""Kill the runner (and the watcher) with SIGKILL at random moments; nothing lost or doubled.

The runner runs in a child process on a virtual clock (harness.demo.virtual_run) against the
real SMTP server of this test process, saving copies to a Sent folder on a real IMAP server.
Afterwards: nobody got a question twice, every probe is in a definite state, and every question
the server accepted is accounted for by exactly one probe.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import random
import shutil
import signal
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

import aioimaplib
from sqlalchemy import Engine
from sqlmodel import Session, select

from harness.campaign.planning import plan_scenario
from harness.core.clock import SystemClock
from harness.core.config import load_config
from harness.sandbox.accounts import Account
from harness.sandbox.certs import SandboxCA
from harness.sandbox.pymap import PymapSandbox, append_many
from harness.sandbox.smtp import SmtpSandbox
from harness.store import migrate
from harness.store.db import make_engine
from harness.store.models import Message, Probe, ProbeState
from harness.store.planstore import save_plan
from tests.factories import START_OF_CAMPAIGN, reply_to, seed_sent_probe, write_mail_config

ROOT = Path(__file__).resolve().parents[2]
KILLS = 20
TARGETS = ["2380", "2309", "2321", "2361", "2303", "2305", "2313", "2326", "2260", "2262"]
MAILBOX = Account("matning@kkik.test", "imap-pw")


def _scenario(unique: str) -> str:
    targets = "".join(
        f'\n[[targets]]\nkommunkod = "{code}"\nemail = "k{code}-{unique}@kommun.example.se"\n'
        for code in TARGETS
    )
    return f"""
[campaign]
name = "Kill test {unique}"
year = 2026
period_start = 2026-10-05
period_end = 2026-11-13
emails_per_target = 20
calls_per_target = 0
max_emails_per_target_per_day = 2

[[personas]]
name = "Anna Lindqvist"
address = "anna.lindqvist@fraga.example.se"
{targets}"""


def _config(tmp_path: Path, smtp: SmtpSandbox, imap: PymapSandbox, ca: Path) -> Path:
    return write_mail_config(
        tmp_path / "config.toml",
        smtp_port=smtp.port,
        imap_port=imap.port,
        ca_file=ca,
        smtp_password_env="KKIK_KILL_SMTP_PW",
        imap_username=MAILBOX.username,
        imap_password_env="KKIK_KILL_IMAP_PW",
        mail_extra="save_to_sent = true",
    )


async def _child(config: Path) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "KKIK_KILL_SMTP_PW": "smtp-losen-1",
        "KKIK_KILL_IMAP_PW": MAILBOX.password,
    }
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "harness.demo.virtual_run", str(config),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip


async def test_it_never_sends_twice_whenever_the_runner_is_killed(
    smtp_server: SmtpSandbox, tls_ca: SandboxCA, unique: str, tmp_path: Path
):
    shutil.copytree(ROOT / "scenarios" / "questions", tmp_path / "questions")
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(_scenario(unique), encoding="utf-8")
    async with PymapSandbox([MAILBOX]) as imap:
        client = aioimaplib.IMAP4(host=imap.host, port=imap.port, timeout=5)
        await client.wait_hello_from_server()
        await client.login(MAILBOX.username, MAILBOX.password)
        await client.create('"Sent"')
        await client.logout()
        config = _config(tmp_path, smtp_server, imap, tls_ca.write_ca_pem(tmp_path / "ca.pem"))
        engine = make_engine(f"sqlite:///{tmp_path / 'kkik.db'}")
        migrate.upgrade(engine)
        made = plan_scenario(scenario, load_config(config))
        with Session(engine) as session:
            save_plan(session, made.scenario, made.bank, made.probes, SystemClock().now())
        assert len(made.probes) == 200

        rng = random.Random(2026)
        clock = SystemClock()
        for _ in range(KILLS):
            child = await _child(config)
            await clock.sleep(rng.uniform(0.8, 2.5))  # start-up is ~0.7 s of imports
            if child.returncode is None:
                child.send_signal(signal.SIGKILL)
            await child.wait()
        final = await _child(config)
        async with asyncio.timeout(120):
            _, err = await final.communicate()
        assert final.returncode == 0, err.decode()[-2000:]

    with Session(engine) as session:
        probes = session.exec(select(Probe)).all()
    received: Counter[str] = Counter()
    for message in smtp_server.messages:
        if any(unique in rcpt for rcpt in message.rcpt_tos):
            parsed = email.message_from_bytes(message.content, policy=email.policy.default)
            received[str(parsed["Message-ID"])] += 1

    # Nobody got a question twice: no Message-ID twice, no (recipient, subject) twice.
    assert set(received.values()) <= {1}
    pairs: Counter[tuple[str, str]] = Counter()
    for message in smtp_server.messages:
        if any(unique in rcpt for rcpt in message.rcpt_tos):
            parsed = email.message_from_bytes(message.content, policy=email.policy.default)
            pairs[(message.rcpt_tos[0], str(parsed["Subject"]))] += 1
    assert set(pairs.values()) <= {1}

    # Every probe is in a definite state: sent (or, with no reply in this test, given up
    # after ten working days), or flagged for a person when a kill struck between the server's
    # acceptance and our record of it and no copy had reached the Sent folder.
    states = Counter((p.state, p.outcome) for p in probes)
    assert set(states) <= {
        (ProbeState.SENT, None),
        (ProbeState.COMPLETED, "not_answered"),
        (ProbeState.SENDING, "send_unknown"),
    }
    assert sum(states.values()) == 200

    # Every accepted question is accounted for by exactly one probe; sent ones were received.
    by_id = {p.message_id: p for p in probes if p.message_id}
    assert set(received) <= set(by_id)
    for probe in probes:
        if probe.state in (ProbeState.SENT, ProbeState.COMPLETED):
            assert received[probe.message_id or ""] == 1
            assert probe.sent_at is not None
    print(f"after {KILLS} kills: {dict(states)}; resolved from the Sent folder or flagged")


async def test_no_reply_is_lost_or_doubled_whenever_the_watcher_is_killed(
    sqlite_engine: Engine, tmp_path: Path
):
    """Replies arrive while ``kkik mail watch`` is killed and restarted ten times."""
    probes = [
        seed_sent_probe(sqlite_engine, sent_at=START_OF_CAMPAIGN, token=f"t{i:07d}")
        for i in range(100)
    ]
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "harness.sandbox.pymap", MAILBOX.username, MAILBOX.password,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert server.stdout is not None
    assert server.stdin is not None
    port = int((await server.stdout.readline()).decode())
    config = tmp_path / "config.toml"
    database = sqlite_engine.url.database
    config.write_text(
        f'[database]\nurl = "sqlite:///{database}"\n'
        '[mail.smtp]\nhost = "127.0.0.1"\nsecurity = "none"\nauth = "none"\n'
        f'[mail.imap]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
        f'username = "{MAILBOX.username}"\npassword_env = "KKIK_KILL_IMAP_PW"\n'
        'folders = ["INBOX"]\n'
    )
    env = {**os.environ, "KKIK_KILL_IMAP_PW": MAILBOX.password}

    async def watch(*extra: str) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "harness", "--config", str(config), "mail", "watch", *extra,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE, env=env,
        )  # fmt: skip

    rng = random.Random(7)
    clock = SystemClock()
    try:
        for chunk in range(10):
            watcher = await watch()
            batch = probes[chunk * 10 : (chunk + 1) * 10]
            replies = [
                (
                    reply_to(p, written_at=START_OF_CAMPAIGN + timedelta(hours=2)),
                    START_OF_CAMPAIGN + timedelta(hours=2),
                )
                for p in batch
            ]
            await append_many("127.0.0.1", port, MAILBOX, replies)
            await clock.sleep(rng.uniform(0.6, 1.6))
            watcher.send_signal(signal.SIGKILL)
            await watcher.wait()
        final = await watch("--once")
        async with asyncio.timeout(60):
            _, err = await final.communicate()
        assert final.returncode == 0, err.decode()[-2000:]
    finally:
        server.stdin.close()
        await server.wait()

    with Session(sqlite_engine) as session:
        messages = session.exec(select(Message)).all()
        answered = session.exec(
            select(Probe).where(Probe.state == ProbeState.COMPLETED, Probe.outcome == "answered")
        ).all()
    assert len(messages) == 100  # every reply recorded, none twice
    assert Counter(m.probe_id for m in messages) == {p.probe_id: 1 for p in probes}
    assert len(answered) == 100
