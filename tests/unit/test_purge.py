"""`kkik purge`: personal data older than the retention period goes, the evidence stays."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, select

from harness.channels.email.store import MailStore, decompress
from harness.core.clock import FakeClock
from harness.store.models import AuditEntry, Message
from probes.email_analysis import TimingRules
from probes.imap_wire import FetchedMessage
from tests.factories import reply_to, seed_sent_probe

SENT = datetime(2026, 10, 6, 8, 0, tzinfo=UTC)


def test_purge_keeps_the_scores_and_drops_the_personal_data(
    kkik, tmp_path: Path, sqlite_engine: Engine
):
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{sqlite_engine.url.database}"\n\n'
        "[retention]\npersonal_data_days = 30\n"
    )
    probe = seed_sent_probe(sqlite_engine, sent_at=SENT, token="purge111")
    store = MailStore(sqlite_engine, FakeClock(SENT + timedelta(hours=2)), TimingRules())
    raw = reply_to(probe, written_at=SENT + timedelta(hours=2))
    assert store.ingest("INBOX", 1, FetchedMessage(1, SENT + timedelta(hours=2), None, raw))
    before_scores = json.loads(kkik("--config", str(config), "score", "--json").out)

    # Within the retention period: nothing to purge (the CLI runs on the real clock, so ask
    # for a cut-off before the message was stored).
    dry = kkik("--lang", "en", "--config", str(config), "purge", "--before",
               "2026-10-01T00:00Z")  # fmt: skip
    assert dry.code == 0
    assert "Purged: 0 messages" in dry.out

    preview = kkik("--lang", "en", "--config", str(config), "purge", "--dry-run")
    assert "Would be purged: 1 messages" in preview.out
    with Session(sqlite_engine) as session:
        assert decompress(session.exec(select(Message)).one().raw_compressed) == raw

    done = kkik("--lang", "en", "--config", str(config), "purge")
    assert "Purged: 1 messages" in done.out
    with Session(sqlite_engine) as session:
        message = session.exec(select(Message)).one()
        audits = session.exec(select(AuditEntry).where(AuditEntry.action == "purge")).all()
    audit = audits[-1]  # every purge run is logged, also one that found nothing
    assert decompress(message.raw_compressed) == b""
    assert message.text_body is None
    assert message.from_name is None
    assert message.from_address == "*@ostersund.example.se"
    assert message.raw_size == len(raw)  # what was received is still on record
    assert message.arrived_at == SENT + timedelta(hours=2)
    assert len(audits) == 2
    assert (audit.after or {})["messages"] == 1
    # The scores are exactly what they were.
    assert json.loads(kkik("--config", str(config), "score", "--json").out) == before_scores
    again = kkik("--lang", "en", "--config", str(config), "purge")
    assert "Purged: 0 messages" in again.out
