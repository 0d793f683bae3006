"""Only one runner per database: a file lock for SQLite, an advisory lock for PostgreSQL.

Two runners would each be correct (claims are conditional updates), but two schedulers racing
make the log confusing and waste connections; the lock makes a second ``kkik run`` say so and
exit instead. The lock dies with the process, so a crashed runner never blocks its successor.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from sqlalchemy import Connection, Engine, text

# An arbitrary constant key for pg_try_advisory_lock: "kkik" in ASCII.
ADVISORY_KEY = 0x6B6B696B


class RunnerBusy(Exception):
    """Another runner holds the lock."""


class RunLock:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._file: IO[str] | None = None
        self._connection: Connection | None = None

    def acquire(self) -> Self:
        if self.engine.dialect.name == "sqlite":
            database = self.engine.url.database
            if database and database != ":memory:":
                handle = Path(database + ".run.lock").open("a+")  # noqa: SIM115 (held open)
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    handle.close()
                    raise RunnerBusy(database) from None
                handle.seek(0)
                handle.truncate()
                handle.write(f"{os.getpid()}\n")
                handle.flush()
                self._file = handle
            return self
        connection = self.engine.connect()
        got = connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY})
        if not got.scalar():
            connection.close()
            raise RunnerBusy(self.engine.url.render_as_string(hide_password=True))
        self._connection = connection
        return self

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
        if self._connection is not None:
            self._connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
            self._connection.close()
            self._connection = None

    def __enter__(self) -> Self:
        return self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
