"""Every database command says in one line why the database cannot be opened (issue 15, L2).

A wrong SQLite path, a file that is no database or a PostgreSQL server that is not there ended
in a SQLAlchemy traceback (exit 1) in every command but ``kkik db``. Now each gives
``config.toml: database.url: cannot open the database: <why>``, exit 2, and writes nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from harness.core.clock import FakeClock
from harness.sandbox.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "kkik-hosten-2026.toml"
COMMANDS = [
    ("status",),
    ("plan", "{scenario}", "--save"),
    ("run", "--dry-run", "--at", "2026-10-05T12:50"),
    ("score",),
    ("export", "--format", "csv", "--out", "{tmp}/export.csv"),
    ("report", "--out", "{tmp}/rapport.html"),
    ("mail", "log"),
    ("db", "upgrade"),
    ("db", "current"),
    ("user", "list"),
    ("call", "list"),
    ("purge", "--dry-run"),
]


def _missing_folder(tmp: Path) -> tuple[str, str, str]:
    return (f"sqlite:///{tmp}/saknas/kkik.db", f"the folder {tmp}/saknas does not exist",
            f"mappen {tmp}/saknas finns inte")  # fmt: skip


def _a_folder(tmp: Path) -> tuple[str, str, str]:
    (tmp / "kkik.db").mkdir()
    return (f"sqlite:///{tmp}/kkik.db", f"{tmp}/kkik.db is a folder, not a database file",
            f"{tmp}/kkik.db är en mapp, inte en databasfil")  # fmt: skip


def _file_as_folder(tmp: Path) -> tuple[str, str, str]:
    (tmp / "notes.txt").write_text("hej\n")
    return (f"sqlite:///{tmp}/notes.txt/kkik.db", f"{tmp}/notes.txt is not a folder",
            f"{tmp}/notes.txt är ingen mapp")  # fmt: skip


def _random_bytes(tmp: Path) -> tuple[str, str, str]:
    (tmp / "kkik.db").write_bytes(bytes((i * 7919 + 13) % 256 for i in range(8192)))
    return (f"sqlite:///{tmp}/kkik.db", f"{tmp}/kkik.db is not an SQLite database",
            f"{tmp}/kkik.db är ingen SQLite-databas")  # fmt: skip


def _text_file(tmp: Path) -> tuple[str, str, str]:
    (tmp / "kkik.db").write_text("Det här är ingen databas.\n" * 200)
    return (f"sqlite:///{tmp}/kkik.db", f"{tmp}/kkik.db is not an SQLite database",
            f"{tmp}/kkik.db är ingen SQLite-databas")  # fmt: skip


def _closed_port(tmp: Path) -> tuple[str, str, str]:
    port = free_port()  # nothing listens there: connection refused
    why = (f'postgresql+psycopg://kkik@127.0.0.1:{port}/kkik: connection to server at '
           f'"127.0.0.1", port {port} failed: Connection refused')  # fmt: skip
    return f"postgresql://kkik@127.0.0.1:{port}/kkik", why, why


CASES: dict[str, Callable[[Path], tuple[str, str, str]]] = {
    "missing-folder": _missing_folder,
    "a-folder": _a_folder,
    "file-as-folder": _file_as_folder,
    "random-bytes": _random_bytes,
    "text-file": _text_file,
    "postgres-closed-port": _closed_port,
}


def _snapshot(folder: Path) -> dict[str, bytes | None]:
    return {
        str(p.relative_to(folder)): p.read_bytes() if p.is_file() else None
        for p in sorted(folder.rglob("*"))
    }


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template with real addresses, so `plan --save` gets as far as the database."""
    folder = tmp_path_factory.mktemp("scenario")
    shutil.copytree(ROOT / "scenarios" / "questions", folder / "questions")
    text = SCENARIO.read_text(encoding="utf-8").replace("placeholder = true", "placeholder = false")
    (folder / "kampanj.toml").write_text(text, encoding="utf-8")
    return folder / "kampanj.toml"


@pytest.mark.parametrize("case", CASES)
def test_every_database_command_names_the_problem_in_one_line(
    kkik, tmp_path: Path, case: str, scenario: Path
):
    url, en, sv = CASES[case](tmp_path)
    # Before the template's period, so the campaign itself is fine (issue 16's start checks).
    clock = FakeClock(datetime(2026, 9, 28, 8, 0, tzinfo=UTC))
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "{url}"\n')
    before = _snapshot(tmp_path)
    for command in COMMANDS:
        args = [a.replace("{tmp}", str(tmp_path)).replace("{scenario}", str(scenario))
                for a in command]  # fmt: skip
        result = kkik("--lang", "en", "--config", str(config), *args, clock=clock)
        assert (result.code, result.err) == (
            2,
            f"{config}: database.url: cannot open the database: {en}\n",
        ), command
        assert "Traceback" not in result.out
        assert _snapshot(tmp_path) == before, command  # nothing created, nothing changed
    swedish = kkik("--config", str(config), "status")
    assert swedish.err == f"{config}: database.url: kan inte öppna databasen: {sv}\n"


def _as_unprivileged(argv: list[str]) -> list[str]:
    """Root reads and writes whatever the mode bits say; drop the capabilities that allow it."""
    if os.geteuid() != 0:
        return argv
    drop = "--bounding-set=-dac_override,-dac_read_search"
    return ["setpriv", "--inh-caps=-all", drop, "--", *argv]


@pytest.mark.parametrize("what", ["file", "folder"])
def test_a_database_without_permission_is_named(tmp_path: Path, what: str):
    locked = tmp_path / "låst"
    locked.mkdir()
    database = locked / "kkik.db"
    if what == "file":
        database.write_bytes(b"")
        database.chmod(0)
        where = database
    else:
        where = locked
    locked.chmod(0o500)  # readable folder, nothing may be created in it
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{database}"\n')
    try:
        argv = [sys.executable, "-m", "harness", "--lang", "en", "--config", str(config), "status"]
        done = subprocess.run(
            _as_unprivileged(argv),
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            timeout=60,
            check=False,
        )
    finally:
        locked.chmod(0o700)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        f"{config}: database.url: cannot open the database: permission denied for {where}\n"
    )
    assert sorted(p.name for p in locked.iterdir()) == (["kkik.db"] if what == "file" else [])
