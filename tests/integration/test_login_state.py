"""Revoked sessions and failed logins in the database (harness.store.logins), on SQLite and on
PostgreSQL: what several web workers share, written at once from several processes."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlmodel import Session, col

from harness.store import logins, migrate
from harness.store.db import make_engine
from harness.store.models import LoginFailure, RevokedSession

NOW = datetime(2026, 10, 5, 7, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=15)
PROCESSES = 4
EACH = 15


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, sqlite_url: str) -> str:
    if request.param == "sqlite":
        return sqlite_url
    url: str = request.getfixturevalue("pg_database_url")
    return url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    made = make_engine(database_url)
    migrate.upgrade(made)
    yield made
    made.dispose()


def _count(engine: Engine, table: type[LoginFailure] | type[RevokedSession]) -> int:
    with Session(engine) as session:
        return int(session.execute(select(func.count()).select_from(table)).scalar_one())


def _fail_many(url: str, key: str, start: multiprocessing.synchronize.Event) -> None:
    engine = make_engine(url)
    start.wait()
    for n in range(EACH):
        logins.record_failure(engine, key, NOW + timedelta(microseconds=n), WINDOW)
    engine.dispose()


def _revoke_same(url: str, start: multiprocessing.synchronize.Event) -> None:
    engine = make_engine(url)
    start.wait()
    for _ in range(EACH):
        logins.revoke_session(engine, "one-session", NOW + timedelta(hours=8), NOW)
    engine.dispose()


def _in_processes(target: object, *args: object) -> None:
    """Run ``target`` in :data:`PROCESSES` processes released at the same moment."""
    # Forked: the children only open their own engine, and start in milliseconds, not seconds.
    context = multiprocessing.get_context("fork")
    start = context.Event()
    workers = [context.Process(target=target, args=(*args, start)) for _ in range(PROCESSES)]  # type: ignore[arg-type]
    for worker in workers:
        worker.start()
    start.set()
    for worker in workers:
        worker.join(timeout=60)
    assert [worker.exitcode for worker in workers] == [0] * PROCESSES


def test_failures_from_several_processes_are_all_counted(engine: Engine, database_url: str):
    _in_processes(_fail_many, database_url, "name:anna")
    assert _count(engine, LoginFailure) == PROCESSES * EACH
    wait = logins.failure_wait(
        engine, "name:anna", NOW + timedelta(minutes=1), max_failures=5, window=WINDOW
    )
    # The fifth newest failure (four processes failed last at +14 µs) leaves the window last.
    assert wait == timedelta(minutes=14, microseconds=EACH - 2)
    assert logins.failure_wait(engine, "name:bertil", NOW, max_failures=5, window=WINDOW) is None
    logins.clear_failures(engine, "name:anna")
    assert _count(engine, LoginFailure) == 0


def test_one_session_revoked_at_once_from_several_processes_is_stored_once(
    engine: Engine, database_url: str
):
    _in_processes(_revoke_same, database_url)
    assert _count(engine, RevokedSession) == 1
    with Session(engine) as session:
        assert logins.is_revoked(session, "one-session")
        assert not logins.is_revoked(session, "another-session")


def test_expired_rows_are_deleted_when_new_ones_are_written(engine: Engine):
    logins.revoke_session(engine, "old", NOW + timedelta(hours=1), NOW)
    logins.record_failure(engine, "addr:10.0.0.1", NOW, WINDOW)
    later = NOW + timedelta(hours=1)
    logins.revoke_session(engine, "new", later + timedelta(hours=8), later)
    logins.record_failure(engine, "addr:10.0.0.2", later, WINDOW)
    with Session(engine) as session:
        assert list(session.execute(select(col(RevokedSession.sid))).scalars()) == ["new"]
        hashes = list(session.execute(select(col(LoginFailure.key_hash))).scalars())
    assert hashes == [logins.key_hash("addr:10.0.0.2")]


def test_the_window_slides_exactly(engine: Engine):
    for minute in range(3):
        logins.record_failure(engine, "name:cilla", NOW + timedelta(minutes=minute), WINDOW)
    at = NOW + timedelta(minutes=3)
    assert logins.failure_wait(engine, "name:cilla", at, max_failures=3, window=WINDOW) == (
        timedelta(minutes=12)
    )
    edge = NOW + WINDOW
    assert logins.failure_wait(engine, "name:cilla", edge, max_failures=3, window=WINDOW) is None
