"""Recording a dispatch's outcome: evidence on success, attribution on failure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from harness.store.models import Probe, ProbeState, Target
from harness.store.probestore import record_failure, record_sent
from probes.base import Dispatched, HarnessFault, TargetRejected, TransientFailure
from tests.factories import seed_sent_probe

SENT = datetime(2026, 10, 6, 7, 15, tzinfo=UTC)


def test_it_records_the_acceptance_as_evidence(sqlite_engine: Engine):
    seeded = seed_sent_probe(sqlite_engine, sent_at=SENT)
    accepted = SENT + timedelta(minutes=5)
    with Session(sqlite_engine) as session:
        record_sent(session, seeded.probe_id, Dispatched(accepted, "250 2.0.0 Ok: queued", 2))
        session.commit()
        probe = session.get(Probe, seeded.probe_id)
        assert probe is not None
        assert (probe.state, probe.sent_at, probe.send_response, probe.attempts) == (
            ProbeState.SENT,
            accepted,
            "250 2.0.0 Ok: queued",
            2,
        )


@pytest.mark.parametrize(
    ("error", "state", "outcome", "fault", "broken"),
    [
        (
            TargetRejected("SMTP server refused recipient (550 5.1.1 User unknown)"),
            ProbeState.COMPLETED,
            "rejected",
            None,
            "SMTP server refused recipient (550 5.1.1 User unknown)",
        ),
        (
            HarnessFault("SMTP login refused (535 5.7.8 Bad credentials)"),
            ProbeState.FAILED,
            "harness_fault",
            "SMTP login refused (535 5.7.8 Bad credentials)",
            None,
        ),
        (
            TransientFailure("SMTP server unreachable (ConnectionRefusedError)"),
            ProbeState.FAILED,
            "harness_fault",
            "SMTP server unreachable (ConnectionRefusedError)",
            None,
        ),
    ],
)
def test_it_attributes_failures_to_the_right_side(
    sqlite_engine: Engine, error, state, outcome, fault, broken
):
    seeded = seed_sent_probe(sqlite_engine, sent_at=SENT)
    with Session(sqlite_engine) as session:
        record_failure(session, seeded.probe_id, error, SENT)
        session.commit()
        probe = session.get(Probe, seeded.probe_id)
        target = session.get(Target, seeded.target_id)
        assert probe is not None
        assert target is not None
        assert (probe.state, probe.outcome, probe.fault_reason) == (state, outcome, fault)
        assert target.email_broken_reason == broken


def test_it_refuses_an_unknown_probe(sqlite_engine: Engine):
    with Session(sqlite_engine) as session, pytest.raises(LookupError, match="no probe 404"):
        record_failure(session, 404, HarnessFault("x"), SENT)
