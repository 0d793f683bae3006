"""A correction in the review queue changes the probe, the e-mail log and the score together.

What counts as a probe's answer is decided in one place (harness.channels.email.settle.settle_probe
with results.answer_rule); the mail store uses it when mail arrives and the review service when a
person corrects a classification or an assignment.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, select

from harness.campaign.evidence import email_evidence
from harness.channels.email.store import MailStore
from harness.core.clock import FakeClock
from harness.core.config import Settings
from harness.rules.measurement import timing_rules
from harness.services.base import Context
from harness.services.outputs import campaign_scores
from harness.services.review import Correction, correct
from harness.store.models import AuditEntry, Message, Probe, ProbeState
from probes.imap_wire import FetchedMessage
from results.calendar import DeadlineRule
from results.email_log import log_rows
from tests.factories import reply_to, seed_sent_probe

SENT = datetime(2026, 10, 6, 7, 0, tzinfo=UTC)  # Tuesday 09:00
ANSWERED = SENT + timedelta(hours=3)


def _state(engine: Engine, probe_id: int) -> tuple[str, str | None, datetime | None]:
    with Session(engine) as session:
        probe = session.get(Probe, probe_id)
        assert probe is not None
        return probe.state, probe.outcome, probe.completed_at


def _logged(engine: Engine, probe_id: int) -> datetime | None:
    settings = Settings()
    rows = log_rows(
        email_evidence(engine, None, None, settings.timezone, 0.7),
        timing_rules(settings).calendar,
        DeadlineRule.OFFICE_HOURS,
    )
    return next(r.answered_at for r in rows if r.probe_id == probe_id)


def _within_one_day(ctx: Context) -> tuple[int | None, int, int]:
    [row] = [
        s for s in campaign_scores(ctx, None).scores if s.measure_id == "email_within_1_working_day"
    ]
    return row.value, row.numerator, row.denominator


def test_a_correction_moves_the_probe_the_log_and_the_score_together(sqlite_engine: Engine):
    probe = seed_sent_probe(sqlite_engine, sent_at=SENT, token="settle11")
    other = seed_sent_probe(sqlite_engine, sent_at=SENT, token="settle22")
    ctx = Context(sqlite_engine, FakeClock(SENT + timedelta(days=1)), Settings(), "web:anna")
    store = MailStore(sqlite_engine, ctx.clock, timing_rules(ctx.settings))
    assert store.ingest(
        "INBOX", 1, FetchedMessage(1, ANSWERED, None, reply_to(probe, written_at=ANSWERED))
    )
    with Session(sqlite_engine) as session:
        message = session.exec(select(Message)).one()
    assert message.id is not None
    assert _state(sqlite_engine, probe.probe_id) == (ProbeState.COMPLETED, "answered", ANSWERED)
    assert _logged(sqlite_engine, probe.probe_id) == ANSWERED
    assert _within_one_day(ctx) == (50, 1, 2)

    # A person decides it was an automatic reply after all: no answer anywhere any more.
    correct(ctx, Correction(message.id, "kontaktcentrets mall", kind="auto_reply"))
    assert _state(sqlite_engine, probe.probe_id) == (ProbeState.SENT, None, None)
    assert _logged(sqlite_engine, probe.probe_id) is None
    assert _within_one_day(ctx) == (0, 0, 2)

    # ...and then that it answers the other question: that one is answered, everywhere.
    correct(ctx, Correction(message.id, "svarar på frågan om uterum", kind="human_reply",
                            probe_id=other.probe_id))  # fmt: skip
    assert _state(sqlite_engine, other.probe_id) == (ProbeState.COMPLETED, "answered", ANSWERED)
    assert _state(sqlite_engine, probe.probe_id) == (ProbeState.SENT, None, None)
    assert _logged(sqlite_engine, other.probe_id) == ANSWERED
    assert _logged(sqlite_engine, probe.probe_id) is None
    assert _within_one_day(ctx) == (50, 1, 2)

    with Session(sqlite_engine) as session:
        trail = session.exec(select(AuditEntry).where(AuditEntry.entity == "message")).all()
    assert [(a.actor, a.after["classification"] if a.after else None) for a in trail] == [
        ("web:anna", "auto_reply"),
        ("web:anna", "human_reply"),
    ]
