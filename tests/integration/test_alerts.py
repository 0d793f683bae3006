"""Operator alerts go out by real SMTP, once per problem within the repeat period."""

from __future__ import annotations

import email
import email.policy
from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from harness.campaign.alerts import Alerter, check_and_send
from harness.core.clock import FakeClock
from harness.core.config import SmtpSettings
from harness.sandbox.certs import SandboxCA
from harness.sandbox.smtp import SmtpSandbox
from harness.store.models import Probe, ProbeState, Target
from probes.email_send import SmtpSender
from probes.email_watch import WatchStats
from tests.factories import START_OF_CAMPAIGN, seed_sent_probe


def _alerter(smtp: SmtpSandbox, ca: SandboxCA, clock: FakeClock, unique: str) -> Alerter:
    settings = SmtpSettings.model_validate(
        {
            "host": "127.0.0.1",
            "port": smtp.port,
            "username": "matning@kkik.test",
            "password_env": "PW",
        }
    )
    sender = SmtpSender(settings, tls_context=ca.client_context(), environ={"PW": "smtp-losen-1"})
    return Alerter(sender, "matning@kkik.test", [f"drift-{unique}@kommun.example.se"], clock, "sv")


def _subjects(smtp: SmtpSandbox, unique: str) -> list[str]:
    return [
        str(email.message_from_bytes(m.content, policy=email.policy.default)["Subject"])
        for m in smtp.messages
        if any(unique in r for r in m.rcpt_tos)
    ]


async def test_it_mails_once_when_the_watcher_has_been_down(
    sqlite_engine: Engine, smtp_server: SmtpSandbox, tls_ca: SandboxCA, unique: str
):
    clock = FakeClock(START_OF_CAMPAIGN)
    alerter = _alerter(smtp_server, tls_ca, clock, unique)
    stats = {"INBOX": WatchStats(down_since=clock.now(), last_error="ConnectionRefusedError")}
    assert await check_and_send(alerter, sqlite_engine, stats, timedelta(minutes=15)) == 0
    clock.advance(minutes=16)
    assert await check_and_send(alerter, sqlite_engine, stats, timedelta(minutes=15)) == 1
    clock.advance(minutes=30)  # still down: not again within the repeat period
    assert await check_and_send(alerter, sqlite_engine, stats, timedelta(minutes=15)) == 0
    assert _subjects(smtp_server, unique) == ["kkik: brevlådan har inte bevakats på 15 minuter"]


async def test_it_mails_bounces_and_faults_once_each(
    sqlite_engine: Engine, smtp_server: SmtpSandbox, tls_ca: SandboxCA, unique: str
):
    clock = FakeClock(START_OF_CAMPAIGN)
    bounced = seed_sent_probe(sqlite_engine, sent_at=START_OF_CAMPAIGN, token="aaaa1111")
    failed = seed_sent_probe(
        sqlite_engine, sent_at=START_OF_CAMPAIGN, token="bbbb2222", kommunkod="2309", name="Krokom"
    )
    with Session(sqlite_engine) as session:
        probe = session.get(Probe, bounced.probe_id)
        target = session.get(Target, bounced.target_id)
        assert probe is not None
        assert target is not None
        probe.state, probe.outcome = ProbeState.COMPLETED, "rejected"
        target.email_broken_reason = "SMTP server refused recipient (550 5.1.1 User unknown)"
        other = session.get(Probe, failed.probe_id)
        assert other is not None
        other.state, other.outcome = ProbeState.FAILED, "harness_fault"
        other.fault_reason = "SMTP login refused (535 5.7.8)"
        session.add_all([probe, target, other])
        session.commit()
    alerter = _alerter(smtp_server, tls_ca, clock, unique)
    assert await check_and_send(alerter, sqlite_engine, {}, timedelta(minutes=15)) == 2
    assert await check_and_send(alerter, sqlite_engine, {}, timedelta(minutes=15)) == 0
    assert sorted(_subjects(smtp_server, unique)) == [
        "kkik: en fråga kunde inte skickas",
        "kkik: Östersund tar inte emot e-post",
    ]
    [bounce] = [
        m
        for m in smtp_server.messages
        if any(unique in r for r in m.rcpt_tos) and b"5.1.1" in m.content
    ]
    assert b"kommun@ostersund.example.se" in bounce.content
