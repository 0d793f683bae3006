"""``kkik mail send-test``, ``watch`` and ``log`` against real servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, func
from sqlmodel import Session, select

from harness.sandbox.accounts import Account
from harness.sandbox.certs import SandboxCA
from harness.sandbox.pymap import PymapSandbox
from harness.sandbox.smtp import SmtpSandbox
from harness.store import migrate
from harness.store.db import make_engine
from harness.store.models import Message
from tests.factories import reply_to, seed_sent_probe, write_mail_config

SENT = datetime(2026, 10, 9, 14, 0, tzinfo=UTC)  # Friday 16:00 in Stockholm
USER = Account("fraga@fraga.example.se", "imap-pw")


def _config(tmp_path: Path, smtp_port: int, imap_port: int, ca: Path) -> Path:
    return write_mail_config(
        tmp_path / "config.toml",
        smtp_port=smtp_port,
        imap_port=imap_port,
        ca_file=ca,
        imap_username=USER.username,
        mail_extra='test_recipients = ["test@kkik.test"]',
    )


async def test_it_sends_a_test_message_to_an_allowed_address(
    kkik, smtp_server: SmtpSandbox, tls_ca: SandboxCA, tmp_path: Path, monkeypatch
):
    monkeypatch.setenv("KKIK_TEST_SMTP_PW", "smtp-losen-1")
    ca = tls_ca.write_ca_pem(tmp_path / "ca.pem")
    config = _config(tmp_path, smtp_server.port, 1, ca)
    result = await asyncio.to_thread(
        kkik, "--lang", "en", "--config", str(config), "mail", "send-test", "test@kkik.test"
    )
    assert result.code == 0, result.err
    assert result.out.startswith("Accepted 20")
    assert "by the server: 250 2.0.0 OK: queued" in result.out
    message_id = result.out.split("Message-ID: ")[1].strip()
    received = next(m for m in smtp_server.messages if message_id.encode() in m.content)
    assert received.rcpt_tos == ("test@kkik.test",)
    assert received.tls


def _count(engine: Engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(Message)).one()


async def test_it_watches_from_the_command_line_and_logs_the_answer(
    kkik, tmp_path: Path, tls_ca: SandboxCA
):
    async with PymapSandbox([USER]) as imap:
        config = _config(tmp_path, 1, imap.port, tls_ca.write_ca_pem(tmp_path / "ca.pem"))
        engine = make_engine(f"sqlite:///{tmp_path / 'kkik.db'}")
        migrate.upgrade(engine)
        probe = seed_sent_probe(engine, sent_at=SENT)
        # Monday 16:00: exactly one working day after Friday 16:00.
        answered = SENT + timedelta(days=3)
        await imap.deliver(USER.username, reply_to(probe, written_at=answered), when=answered)
        os.environ["KKIK_TEST_IMAP_PW"] = USER.password
        try:
            # In a worker thread: the command runs its own event loop while this one serves IMAP.
            result = await asyncio.to_thread(
                kkik, "--lang", "en", "--config", str(config), "mail", "watch", "--once"
            )
        finally:
            del os.environ["KKIK_TEST_IMAP_PW"]
        assert result.code == 0, result.err
        lines = result.out.splitlines()
        # Each stored mail in words, stamped with the local time it was stored (issue 16).
        assert lines[1].endswith(
            f" Mail about #{probe.probe_id} from 2380 Östersund: a person's answer. "
            "Counts as the answer."
        )
        assert lines[:1] + lines[2:] == [
            "Watching INBOX on 127.0.0.1 (mail since 2026-10-05). Stop with Ctrl-C.",
            "INBOX: 1 new messages stored",
        ]
    assert _count(engine) == 1

    result = await asyncio.to_thread(kkik, "--config", str(config), "mail", "log", "--json")
    assert result.code == 0, result.err
    [row] = json.loads(result.out)
    assert row == {
        "probe_id": probe.probe_id,
        "kommunkod": "2380",
        "target": "Östersund",
        "area": "bygglov",
        "sent_at": "2026-10-09T16:00+02:00",
        "answered_at": "2026-10-12T16:00+02:00",
        "business_hours": 9.0,
        "within_one_working_day": True,
        "reply_kind": "human_reply",
        "matched_by": "in_reply_to",
        "match_confidence": 1.0,
        "replies": 1,
        "acknowledged_at": None,
        "case_numbers": [],
    }
    table = await asyncio.to_thread(kkik, "--config", str(config), "mail", "log")
    assert "2380 Östersund" in table.out
    assert "9.00  ja" in table.out
