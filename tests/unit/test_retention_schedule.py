"""Retention by kind and the scheduled purge (harness.campaign.retention)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, select

from harness.campaign.retention import cutoffs, purge_if_due
from harness.core.config import RetentionSettings, Settings
from harness.store.models import AuditEntry

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def test_each_kind_keeps_its_own_period_or_the_general_one():
    settings = Settings(retention=RetentionSettings(personal_data_days=365, mail_days=30,
                                                    recordings_days=90))  # fmt: skip
    cuts = cutoffs(settings, NOW)
    assert cuts.mail == NOW - timedelta(days=30)
    assert cuts.recordings == NOW - timedelta(days=90)
    assert cuts.notes == cuts.call_details == cuts.audit == NOW - timedelta(days=365)
    assert cuts.earliest == NOW - timedelta(days=365)


async def test_the_runner_purges_once_a_period_and_says_so_in_the_audit_trail(
    sqlite_engine: Engine,
):
    settings = Settings(retention=RetentionSettings(purge_every_hours=24))
    first = await purge_if_due(sqlite_engine, settings, NOW, None)
    assert first is not None  # never purged before: now
    assert await purge_if_due(sqlite_engine, settings, NOW + timedelta(hours=23), None) is None
    again = await purge_if_due(sqlite_engine, settings, NOW + timedelta(hours=24), None)
    assert again is not None
    with Session(sqlite_engine) as session:
        runs = session.exec(select(AuditEntry).where(AuditEntry.action == "purge")).all()
    assert [(r.actor, r.reason) for r in runs] == [("runner", "schedule")] * 2
    off = Settings(retention=RetentionSettings(purge_every_hours=0))
    assert await purge_if_due(sqlite_engine, off, NOW + timedelta(days=9), None) is None
