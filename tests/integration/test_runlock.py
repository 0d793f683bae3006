"""The runner lock on both backends: exclusive, waited for by a standby, and known to be lost
when its PostgreSQL session or its SQLite lock file goes (harness.store.runlock)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from harness.core.clock import SystemClock
from harness.store.db import make_engine
from harness.store.runlock import ADVISORY_KEY, RunLock, RunnerBusy

REAL = SystemClock()


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path):
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_database_url")
    else:
        url = f"sqlite:///{tmp_path / 'kkik.db'}"
    made = make_engine(url)
    yield made
    made.dispose()


def _lose(engine: Engine, lock: RunLock) -> None:
    """What a broken network or a deleted file does to the held lock."""
    if engine.dialect.name == "sqlite":
        Path(str(engine.url.database) + ".run.lock").unlink()
        return
    with engine.connect() as connection:
        killed = connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory'"
                " AND objid::bigint = :k"
            ),
            {"k": ADVISORY_KEY},
        ).all()
    assert killed == [(True,)]


def test_the_lock_is_exclusive_and_released(engine: Engine):
    with RunLock(engine) as first:
        assert first.held()
        with pytest.raises(RunnerBusy):
            RunLock(engine).acquire()
    again = RunLock(engine).acquire()
    assert again.held()
    again.release()
    assert not again.held()


def test_a_standby_waits_and_takes_over_when_the_holder_lets_go(engine: Engine):
    holder = RunLock(engine).acquire()
    told: list[float] = []
    got: list[float] = []
    standby = RunLock(engine)

    def wait() -> None:
        standby.acquire(wait=True, on_wait=lambda: told.append(REAL.monotonic()), poll=0.05)
        got.append(REAL.monotonic())

    thread = threading.Thread(target=wait)
    thread.start()
    for _ in range(100):
        if told:
            break
        threading.Event().wait(0.02)
    assert len(told) == 1  # said once that it waits
    threading.Event().wait(0.3)
    assert got == []  # still waiting while the holder holds
    released = REAL.monotonic()
    holder.release()
    thread.join(timeout=5)
    assert len(got) == 1
    assert got[0] - released < 1.0
    assert standby.held()
    standby.release()


def test_a_lost_lock_is_noticed_and_can_be_taken_by_another(engine: Engine):
    lock = RunLock(engine).acquire()
    try:
        assert lock.held()
        _lose(engine, lock)
        for _ in range(50):  # the server ends the terminated session at once, or nearly
            if not lock.held():
                break
            threading.Event().wait(0.05)
        assert not lock.held()
        other = RunLock(engine).acquire()
        assert other.held()
        other.release()
    finally:
        lock.release()  # a lock already lost releases quietly
