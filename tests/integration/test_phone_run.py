"""`kkik run` as a new user runs it: real time, the real scheduler, webhooks served by the run.

The machine's date does not matter: the clock is the real one moved to just before the first
planned call (OffsetClock). The simulator plays the switchboard in its own thread, in real time.
"""

from __future__ import annotations

import json
import os
import signal
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from harness.cli import run as run_cli
from harness.core.clock import OffsetClock
from harness.sandbox.ports import free_port
from harness.sandbox.twilio_calls import SwitchboardScript
from harness.sandbox.twilio_sim import SimulatorThread, TwilioSimulator
from harness.store.db import make_engine
from harness.store.models import AuditEntry, Probe, ProbeState
from tests.phone_rig import ACCOUNT, ROOT, SCENARIO, START, TOKEN, TOKEN_ENV


def test_kkik_run_places_a_call_and_settles_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "questions").symlink_to(ROOT / "scenarios" / "questions")
    target = '\n[[targets]]\nkommunkod = "2380"\nswitchboard = "063-14 30 00"\n'
    (tmp_path / "scenario.toml").write_text(
        SCENARIO.format(calls=1, targets=target, edition="2018"), "utf-8"
    )
    clock = OffsetClock(START)
    sim = TwilioSimulator(clock)
    sim.add_account(ACCOUNT, TOKEN)
    sim.script(
        "+4663143000",
        SwitchboardScript(dial_delay=1, ring_seconds=2, person_after=0, talk_seconds=4),
    )
    port = free_port()

    def kkik(*args: str) -> int:
        return run_cli(["--lang", "en", "--config", "config.toml", *args], clock=clock)

    with SimulatorThread(sim):
        Path("config.toml").write_text(
            f"""
[database]
url = "sqlite:///kkik.db"

[phone]
mode = "automated"
account_sid = "{ACCOUNT}"
auth_token_env = "{TOKEN_ENV}"
from_number = "08-123 456 78"
api_base_url = "{sim.base_url}"

[web]
port = {port}
public_url = "http://127.0.0.1:{port}"
""",
            encoding="utf-8",
        )
        assert kkik("config", "check", "config.toml") == 0
        assert kkik("db", "upgrade") == 0
        assert kkik("plan", "scenario.toml", "--save") == 0
        engine = make_engine("sqlite:///kkik.db")
        with Session(engine) as session:
            [probe] = session.exec(select(Probe)).all()
        # Start the real clock three seconds before the call's slot.
        clock = OffsetClock(probe.planned_at - timedelta(seconds=3))
        sim.clock = clock

        settled = threading.Event()

        def stop_when_settled() -> None:
            for _ in range(300):
                with Session(engine) as session:
                    row = session.exec(select(Probe).order_by(col(Probe.id))).first()
                if row is not None and row.state == ProbeState.COMPLETED:
                    settled.set()
                    break
                settled.wait(0.1)
            os.kill(os.getpid(), signal.SIGINT)

        watcher = threading.Thread(target=stop_when_settled, daemon=True)
        watcher.start()
        capsys.readouterr()
        assert kkik("run") == 0
        watcher.join()
    assert settled.is_set(), "the call was not settled within 30 s"
    # One line per event, in words (issue 16): the call placed, and how it ended.
    said = [line[17:] for line in capsys.readouterr().out.splitlines()]
    assert f"Call #{probe.id} to 2380 Östersund placed." in said
    assert (
        f"Call #{probe.id} to 2380 Östersund ended: person reached. Assess it with "
        f"`kkik call assess {probe.id}`."
    ) in said

    capsys.readouterr()
    assert kkik("call", "show", str(probe.id), "--json") == 0
    row = json.loads(capsys.readouterr().out)
    assert row["outcome"] == "person"
    assert row["answered_by"] == "human"
    # Twilio timestamps have whole seconds: 1 s to ring, 2 s ringing.
    assert 2.0 <= row["time_to_answer"] <= 4.0
    assert row["time_to_person"] == row["time_to_answer"]
    # Issue 18: `kkik run` purges on schedule; it had not purged before, so it did at start.
    with Session(engine) as session:
        purges = session.exec(select(AuditEntry).where(AuditEntry.action == "purge")).all()
    assert [(p.actor, p.reason) for p in purges] == [("runner", "schedule")]
    engine.dispose()
