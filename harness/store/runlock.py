"""Only one runner per database: a file lock for SQLite, an advisory lock for PostgreSQL.

Two runners would each be correct (claims are conditional updates), but two schedulers racing
make the log confusing and waste connections; the lock makes a second ``kkik run`` say so and
exit, or with ``--standby`` wait until the first one is gone. The lock dies with the process
(the kernel drops the file lock, PostgreSQL the session's advisory lock), so a crashed runner
never blocks its successor and a standby takes over within :data:`POLL_SECONDS`.

On PostgreSQL the lock lives in one dedicated connection (not from the engine's pool, with TCP
keepalives): if that connection is lost, the server drops the lock and a standby may take it.
:meth:`RunLock.held` asks whether the lock is still ours; the runner asks it every
:data:`CHECK_SECONDS` and stops when the answer is no, so two runners never work at once for
longer than that (and even then every claim is a conditional update: nothing is sent twice).
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

# An arbitrary constant key for pg_try_advisory_lock: "kkik" in ASCII.
ADVISORY_KEY = 0x6B6B696B
# How often a standby tries for the lock: the take-over time after the holder dies.
POLL_SECONDS = 1.0
# How often the holder checks that the lock is still its own.
CHECK_SECONDS = 2.0
# libpq keepalives on the lock connection: a dead network path is noticed in ~10 s, not hours.
KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 3,
}


class RunnerBusy(Exception):
    """Another runner holds the lock."""


class RunLock:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._file: IO[str] | None = None
        self._path: Path | None = None
        self._lock_engine: Engine | None = None
        self._connection: Connection | None = None
        self._in_memory = False  # an in-memory SQLite database: one process, nothing to lock

    def acquire(
        self,
        *,
        wait: bool = False,
        on_wait: Callable[[], None] | None = None,
        poll: float = POLL_SECONDS,
        # Real time whatever the campaign's clock: the other runner dies in real time.
        sleep: Callable[[float], None] = time.sleep,  # noqa: TID251
    ) -> Self:
        """Take the lock, or raise RunnerBusy; with ``wait`` try every ``poll`` seconds until
        it is free (``on_wait`` is called once, when the first try finds it taken)."""
        told = False
        while True:
            try:
                return self._try()
            except RunnerBusy:
                if not wait:
                    raise
            if not told and on_wait is not None:
                on_wait()
            told = True
            sleep(poll)

    def _try(self) -> Self:
        if self.engine.dialect.name == "sqlite":
            database = self.engine.url.database
            if database and database != ":memory:":
                path = Path(database + ".run.lock")
                handle = path.open("a+")  # held open: closing it drops the lock
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    handle.close()
                    raise RunnerBusy(database) from None
                handle.seek(0)
                handle.truncate()
                handle.write(f"{os.getpid()}\n")
                handle.flush()
                self._file, self._path = handle, path
            else:
                self._in_memory = True
            return self
        if self._lock_engine is None:
            # Its own connection, never returned to a pool: closing it is releasing the lock.
            self._lock_engine = create_engine(
                self.engine.url, poolclass=NullPool, connect_args=KEEPALIVES
            )
        connection = self._lock_engine.connect()
        try:
            got = connection.execute(
                text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY}
            ).scalar()
            # Commit: an open transaction would hold a snapshot for the whole run.
            connection.commit()
        except BaseException:
            connection.close()
            raise
        if not got:
            connection.close()
            raise RunnerBusy(self.engine.url.render_as_string(hide_password=True))
        self._connection = connection
        return self

    def held(self) -> bool:
        """Whether the lock is still ours (False once its connection or its file is gone).

        PostgreSQL: the lock connection still answers and its session still holds the
        advisory lock. SQLite: the lock file is still the one we locked (deleting it would let
        another runner lock a new file of the same name).
        """
        if self._file is not None and self._path is not None:
            try:
                return os.stat(self._path).st_ino == os.fstat(self._file.fileno()).st_ino
            except OSError:
                return False
        if self._connection is None:
            return self._in_memory
        try:
            found = self._connection.execute(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                    " AND pid = pg_backend_pid() AND classid = 0 AND objid::bigint = :k"
                    " AND objsubid = 1"
                ),
                {"k": ADVISORY_KEY},
            ).scalar()
            self._connection.commit()
        except SQLAlchemyError:
            return False
        return bool(found)

    def release(self) -> None:
        self._in_memory = False
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
            self._path = None
        if self._connection is not None:
            try:
                self._connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
                self._connection.commit()
            except SQLAlchemyError:
                pass  # the connection is gone, and the lock with it
            finally:
                self._connection.close()
                self._connection = None
        if self._lock_engine is not None:
            self._lock_engine.dispose()
            self._lock_engine = None

    def __enter__(self) -> Self:
        return self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
