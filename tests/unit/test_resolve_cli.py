"""``kkik resolve``: a person decides about a probe whose sending is in doubt."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, col, select

from harness.channels.email.store import MailStore
from harness.core.clock import SystemClock
from harness.store.db import make_engine
from harness.store.models import AuditEntry, Message, Probe, ProbeState
from probes.email_analysis import TimingRules
from probes.imap_wire import FetchedMessage
from results.calendar import WorkCalendar
from tests.factories import SentProbe, reply_to, seed_sent_probe

CLAIMED = datetime(2026, 10, 6, 7, 15, tzinfo=UTC)  # 09:15 in Stockholm


@pytest.fixture
def config(kkik, tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "kkik.db"}"\n')
    assert kkik("--config", str(path), "db", "upgrade").code == 0
    return path


def _flag(config: Path, token: str) -> SentProbe:
    """A probe left as a crash or a connection lost after DATA leaves it."""
    engine = make_engine(f"sqlite:///{config.parent / 'kkik.db'}")
    seeded = seed_sent_probe(engine, sent_at=CLAIMED, token=token)
    with Session(engine) as session:
        probe = session.get(Probe, seeded.probe_id)
        assert probe is not None
        probe.state = ProbeState.SENDING
        probe.sent_at = None
        probe.claimed_at = CLAIMED
        probe.outcome = "send_unknown"
        probe.fault_reason = "The connection was lost after the end of DATA"
        session.add(probe)
        session.commit()
    engine.dispose()
    return seeded


def _probe(config: Path, probe_id: int) -> Probe:
    engine = make_engine(f"sqlite:///{config.parent / 'kkik.db'}")
    with Session(engine) as session:
        probe = session.get(Probe, probe_id)
        assert probe is not None
        return probe


def _audit(config: Path) -> list[AuditEntry]:
    engine = make_engine(f"sqlite:///{config.parent / 'kkik.db'}")
    with Session(engine) as session:
        return list(session.exec(select(AuditEntry).order_by(col(AuditEntry.id))).all())


def _en(kkik: Any, config: Path, *args: str) -> Any:
    return kkik("--lang", "en", "--config", str(config), "resolve", *args)


def test_it_lists_the_probes_in_doubt(kkik, config: Path):
    assert _en(kkik, config).out == "No sends in doubt.\n"
    probe = _flag(config, "aaaa1111").probe_id
    result = kkik("--config", str(config), "resolve")  # Swedish by default
    assert result.code == 0
    assert result.out.splitlines()[0].startswith("mätning  kommun")
    assert f"{probe:<8} 2380 Östersund" in result.out
    assert "2026-10-06T09:15" in result.out
    assert "lost after the end of DATA" in result.out
    status = kkik("--lang", "en", "--config", str(config), "status")
    assert status.out.endswith("1 sends in doubt wait for your decision: see `kkik resolve`.\n")


def test_a_confirmed_send_is_measured_from_the_evidence(kkik, config: Path):
    probe = _flag(config, "bbbb2222").probe_id
    result = _en(kkik, config, str(probe), "--sent-at", "2026-10-06 09:15:30",
                 "--reason", "Registrator: kom in 09:15:30")  # fmt: skip
    assert (result.code, result.err) == (0, "")
    assert f"Probe {probe} counts as sent at 2026-10-06T09:15:30+02:00" in result.out
    row = _probe(config, probe)
    assert (row.state, row.outcome) == (ProbeState.SENT, None)
    assert row.sent_at == datetime(2026, 10, 6, 7, 15, 30, tzinfo=UTC)
    [entry] = _audit(config)
    assert (entry.action, entry.reason) == ("confirm_sent", "Registrator: kom in 09:15:30")
    assert (entry.before or {})["outcome"] == "send_unknown"
    # Decided once: a second decision is refused.
    again = _en(kkik, config, str(probe), "--not-sent", "--reason", "x")
    assert again.code == 1
    assert again.err == (
        f"Probe {probe} is not waiting for a decision (state sent or placed, awaiting the "
        "outcome).\n"
    )


def test_a_probe_not_sent_becomes_a_fault_to_replace(kkik, config: Path):
    probe = _flag(config, "cccc3333").probe_id
    result = _en(kkik, config, str(probe), "--not-sent", "--reason", "Inget i diariet")
    assert result.code == 0
    row = _probe(config, probe)
    assert (row.state, row.outcome) == (ProbeState.FAILED, "harness_fault")
    assert row.fault_reason is not None
    assert row.fault_reason.endswith("Inget i diariet")
    assert [e.action for e in _audit(config)] == ["confirm_not_sent"]


@pytest.mark.parametrize(
    ("args", "code", "err"),
    [
        (["--not-sent"], 2, "Give either --sent-at TIME or --not-sent, and --reason.\n"),
        (["--reason", "x"], 2, "Give either --sent-at TIME or --not-sent, and --reason.\n"),
        (["--not-sent", "--sent-at", "2026-10-06 10:00", "--reason", "x"], 2,
         "Give either --sent-at TIME or --not-sent, and --reason.\n"),
        (["--sent-at", "2026-10-06 09:00", "--reason", "x"], 1,
         "Probe {p} was handed over at 2026-10-06T09:15:00+02:00; it cannot have been sent "
         "before that.\n"),
        (["--sent-at", "2030-01-01 09:00", "--reason", "x"], 1,
         "2030-01-01T09:00:00+01:00 is in the future.\n"),
    ],
)  # fmt: skip
def test_it_refuses_an_incomplete_or_impossible_decision(
    kkik, config: Path, args: list[str], code: int, err: str
):
    probe = _flag(config, "dddd4444").probe_id
    result = _en(kkik, config, str(probe), *args)
    assert (result.code, result.err) == (code, err.format(p=probe))
    assert _probe(config, probe).state == ProbeState.SENDING
    assert _audit(config) == []


def test_an_unknown_probe_is_named(kkik, config: Path):
    result = _en(kkik, config, "999", "--not-sent", "--reason", "x")
    assert (result.code, result.err) == (1, "There is no probe 999.\n")


def test_a_reply_that_came_first_is_adopted_once_the_send_is_confirmed(kkik, config: Path):
    """The municipality answered a question whose send was in doubt: the reply is kept
    unmatched (it may not land on another probe), and is matched once a person confirms."""
    engine = make_engine(f"sqlite:///{config.parent / 'kkik.db'}")
    question = _flag(config, "eeee5555")
    probe_id = question.probe_id
    store = MailStore(engine, SystemClock(), TimingRules(calendar=WorkCalendar()))
    store.prepare()
    arrived = datetime(2026, 10, 6, 8, 40, tzinfo=UTC)
    raw = reply_to(question, written_at=arrived - timedelta(minutes=2))
    assert store.ingest("INBOX", 1, FetchedMessage(7, arrived, None, raw))
    with Session(engine) as session:
        [message] = session.exec(select(Message)).all()
    assert message.probe_id is None  # not matched to a question we do not know was sent

    result = _en(kkik, config, str(probe_id), "--sent-at", "2026-10-06 09:15:30",
                 "--reason", "Diariet: inkom 09:15:30")  # fmt: skip
    assert result.code == 0
    store.prepare()  # what the watcher does before its next sync
    with Session(engine) as session:
        [message] = session.exec(select(Message)).all()
        probe = session.get(Probe, probe_id)
    assert message.probe_id == probe_id
    assert probe is not None
    assert (probe.state, probe.outcome, probe.completed_at) == (
        ProbeState.COMPLETED, "answered", arrived)  # fmt: skip
    engine.dispose()
