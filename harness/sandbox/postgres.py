"""A throwaway PostgreSQL cluster: initdb + pg_ctl in a temporary directory.

Listens on 127.0.0.1 only, on a free port, with durability switched off (fsync,
synchronous_commit, full_page_writes) because the data is disposable. Authentication is
``trust`` for the superuser ``postgres``. As root, the server runs as the ``postgres`` system
user via ``runuser`` (PostgreSQL refuses to run as root); as anyone else it runs as the caller.

Example::

    with PostgresSandbox() as pg:
        url = pg.create_database("kkik")  # postgresql+psycopg://postgres@127.0.0.1:PORT/kkik
        engine = sqlalchemy.create_engine(url)
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

import psycopg
from psycopg import sql

from harness.sandbox.ports import LOOPBACK, free_port
from harness.sandbox.service import SyncService

__all__ = ["PostgresError", "PostgresSandbox", "find_pg_bindir"]

SUPERUSER = "postgres"
_DB_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_REQUIRED = ("initdb", "pg_ctl", "postgres")


class PostgresError(RuntimeError):
    """The cluster could not be created, started or stopped; includes the server log."""


def _has_server(bindir: Path) -> bool:
    return all((bindir / name).is_file() for name in _REQUIRED)


def find_pg_bindir() -> Path | None:
    """Directory with initdb/pg_ctl/postgres, or None when the server is not installed.

    Tries ``$PG_BINDIR``, then ``pg_config --bindir`` (which on Debian can belong to a
    client-only libpq-dev), then the newest ``/usr/lib/postgresql/*/bin``.
    """
    candidates: list[Path] = []
    if env := os.environ.get("PG_BINDIR"):
        candidates.append(Path(env))
    if pg_config := shutil.which("pg_config"):
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=True, timeout=10
            ).stdout.strip()
            if out:
                candidates.append(Path(out))

    def version(path: str) -> tuple[int, ...]:
        digits = re.findall(r"\d+", Path(path).parent.name)
        return tuple(int(d) for d in digits)

    candidates += [
        Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True)
    ]
    return next((c for c in candidates if _has_server(c)), None)


class PostgresSandbox(SyncService):
    """A private PostgreSQL server; synchronous API, usable as a context manager.

    Args:
        workdir: where the cluster lives; a new temporary directory (removed on stop) if omitted.
        bindir: PostgreSQL binaries; found with :func:`find_pg_bindir` if omitted.
        host: the only listen address (TCP); the Unix socket goes into ``workdir``.
        settings: extra server settings (``-c name=value``), applied after the defaults.
    """

    def __init__(
        self,
        *,
        workdir: Path | None = None,
        bindir: Path | None = None,
        host: str = LOOPBACK,
        start_timeout: int = 30,
        settings: Mapping[str, str] | None = None,
    ) -> None:
        self.host = host
        self.settings = dict(settings or {})
        self.bindir = bindir
        self.start_timeout = start_timeout
        self._given_workdir = workdir
        self._workdir: Path | None = None
        self._port: int | None = None
        self._run_as: str | None = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the PostgreSQL sandbox is not running")
        return self._port

    @property
    def workdir(self) -> Path:
        if self._workdir is None:
            raise RuntimeError("the PostgreSQL sandbox is not running")
        return self._workdir

    @property
    def data_dir(self) -> Path:
        return self.workdir / "data"

    @property
    def log_path(self) -> Path:
        return self.workdir / "server.log"

    def url(self, database: str = "postgres", *, driver: str = "psycopg") -> str:
        """SQLAlchemy URL, e.g. ``postgresql+psycopg://postgres@127.0.0.1:PORT/NAME``."""
        return f"postgresql+{driver}://{SUPERUSER}@{self.host}:{self.port}/{database}"

    def conninfo(self, database: str = "postgres") -> str:
        """libpq/psycopg connection string for ``database`` (TCP, never the Unix socket)."""
        return f"host={self.host} port={self.port} user={SUPERUSER} dbname={database}"

    # -- lifecycle ---------------------------------------------------------------------------

    def _command(self, *args: str | Path) -> list[str]:
        argv = [str(a) for a in args]
        if self._run_as is not None:
            return ["runuser", "-u", self._run_as, "--", *argv]
        return argv

    def _run(self, *args: str | Path, timeout: float) -> None:
        try:
            subprocess.run(
                self._command(*args),
                cwd=self.workdir,
                check=True,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.CalledProcessError as exc:
            raise PostgresError(
                f"{Path(str(args[0])).name} failed ({exc.returncode}):\n{exc.stdout}{exc.stderr}"
                f"\nlog:\n{self.read_log()[-4000:]}"
            ) from exc

    def read_log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except (OSError, RuntimeError):
            return ""

    def start(self) -> None:
        """initdb and start; returns once the server accepts connections (pg_ctl -w)."""
        if self._port is not None:
            raise RuntimeError("already started")
        bindir = self.bindir or find_pg_bindir()
        if bindir is None:
            raise PostgresError("PostgreSQL server binaries not found (Debian: postgresql)")
        self.bindir = bindir
        if self._given_workdir is not None:
            self._given_workdir.mkdir(parents=True, exist_ok=True)
            self._workdir = self._given_workdir
        else:
            self._workdir = Path(tempfile.mkdtemp(prefix="kkik-pg-"))
        try:
            self._start(bindir)
        except BaseException:
            self.stop()
            raise

    def _start(self, bindir: Path) -> None:
        workdir = self.workdir
        if os.geteuid() == 0:
            self._run_as = SUPERUSER  # the Debian package's system user
            account = pwd.getpwnam(self._run_as)
            os.chown(workdir, account.pw_uid, account.pw_gid)
        self._run(
            bindir / "initdb",
            "-D",
            self.data_dir,
            "-A",
            "trust",
            "-U",
            SUPERUSER,
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
            "--no-instructions",
            timeout=120,
        )
        options = " ".join(
            [
                f"-k {workdir}",  # Unix socket here, not /var/run/postgresql
                f"-c listen_addresses={self.host}",
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c max_connections=50",
                "-c timezone=UTC",
                *(f"-c {name}={value}" for name, value in self.settings.items()),
            ]
        )
        for attempt in range(3):  # a free port can be taken before the server binds it
            port = free_port(self.host)
            try:
                self._run(
                    bindir / "pg_ctl",
                    "-D",
                    self.data_dir,
                    "-l",
                    self.log_path,
                    "-w",
                    "-t",
                    str(self.start_timeout),
                    "-o",
                    f"-p {port} {options}",
                    "start",
                    timeout=self.start_timeout + 10,
                )
            except PostgresError:
                if attempt == 2 or "Address already in use" not in self.read_log():
                    raise
                continue
            self._port = port
            return

    def stop(self) -> None:
        """Stop the server (fast shutdown) and remove a temporary workdir."""
        try:
            if self._workdir is not None and (self.data_dir / "postmaster.pid").exists():
                assert self.bindir is not None
                self._run(
                    self.bindir / "pg_ctl",
                    "-D",
                    self.data_dir,
                    "-m",
                    "fast",
                    "-w",
                    "stop",
                    timeout=60,
                )
        finally:
            self._port = None
            if self._workdir is not None and self._given_workdir is None:
                shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    # -- databases ---------------------------------------------------------------------------

    def _admin(self, statement: sql.Composed) -> None:
        with psycopg.connect(self.conninfo(), autocommit=True, connect_timeout=10) as conn:
            conn.execute(statement)

    def create_database(self, name: str) -> str:
        """Create an empty database and return its SQLAlchemy URL.

        Names are restricted to lower-case identifiers (``[a-z_][a-z0-9_]*``).
        """
        if not _DB_NAME.fullmatch(name):
            raise ValueError(f"unsupported database name {name!r}")
        self._admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop a database, disconnecting any sessions still using it."""
        if not _DB_NAME.fullmatch(name):
            raise ValueError(f"unsupported database name {name!r}")
        self._admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
