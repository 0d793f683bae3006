"""The command tree is built lazily (issue 16, item 8): ``kkik --help`` lists every command from
the summary table without importing the command modules, and a command loads only what it needs.

The import checks run in a fresh interpreter each, since this test process has loaded everything
already. How fast the commands are is measured by bench/bench_cli_start.py.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from harness.cli.app import build_app
from harness.cli.commands import COMMANDS
from harness.core.i18n import Lang
from tests.unit.test_status_cli import _campaign

ROOT = Path(__file__).resolve().parents[2]
MAIL = ROOT / "tests" / "data" / "mail"
# What the issue names: none of these may be loaded by importing the CLI or asking its version.
HEAVY = ("matplotlib", "openpyxl", "fastapi", "twilio", "aiohttp")
CHECK = ("calendar", "check", "--sent", "2026-04-02T15:00", "--answered", "2026-04-07T14:00")

LOADED = """
import contextlib, io, json, sys
args = json.loads(sys.argv[1])
if args is not None:
    from harness.cli import run
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = run(args)
else:
    import harness.cli
    code = 0
print(json.dumps([code, sorted({name.split(".")[0] for name in sys.modules})]))
"""


def _loaded(args: list[str] | None, cwd: Path) -> tuple[int, set[str]]:
    """(exit code, top-level packages loaded) of ``kkik ARGS`` (None: ``import harness.cli``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KKIK_")}
    done = subprocess.run(
        [sys.executable, "-c", LOADED, json.dumps(args)],
        capture_output=True,
        text=True,
        env={**env, "PYTHONPATH": str(ROOT)},
        cwd=cwd,
        timeout=120,
        check=True,
    )
    code, modules = json.loads(done.stdout)
    return code, set(modules)


@pytest.mark.parametrize(
    "args",
    [None, ["--version"], ["--help"], ["--lang", "en", "--help"]],
    ids=["import", "version", "help", "help-en"],
)
def test_starting_the_cli_loads_no_heavy_library(tmp_path: Path, args: list[str] | None):
    code, loaded = _loaded(args, tmp_path)
    assert code == 0
    # Nor the database or validation libraries, nor a command module: the table lists them.
    assert loaded.isdisjoint({*HEAVY, "sqlalchemy", "sqlmodel", "alembic", "pydantic"})
    assert "asyncio" not in loaded


CLASSIFY = ["mail", "classify", str(MAIL / "human_case_system_relay.eml"),
            "--probes", str(MAIL / "probes.json")]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "not_needed"),
    [
        (list(CHECK), {"sqlalchemy", "alembic"}),
        (CLASSIFY, {"sqlalchemy", "alembic", "aiosmtplib", "aioimaplib"}),
        # status counts with SQLAlchemy Core: no model classes, so no SQLModel.
        (["status"], {"alembic", "sqlmodel", "aiosmtplib", "aioimaplib", "holidays"}),
        # Scores need no chart or spreadsheet writer (they were loaded with the report's data).
        (["score"], {"alembic", "aiosmtplib", "aioimaplib"}),
    ],
    ids=["calendar-check", "mail-classify", "status", "score"],
)
def test_a_command_loads_only_what_it_needs(tmp_path: Path, args: list[str], not_needed: set[str]):
    config = tmp_path / "config.toml"
    config.write_text('[database]\nurl = "sqlite:///kkik.db"\n', encoding="utf-8")
    code, loaded = _loaded(["--config", str(config), *args], tmp_path)
    # status and score exit 1 here (an empty database has no campaign) after reading it.
    assert code == (1 if args in (["status"], ["score"]) else 0)
    assert loaded.isdisjoint({*HEAVY, *not_needed}), loaded & {*HEAVY, *not_needed}


def test_status_reads_a_saved_campaign_without_the_model_classes(kkik, tmp_path: Path):
    # The whole way, on a database at the newest schema with a campaign: the counts are read,
    # not only the modules imported (the empty database above stops at the schema check).
    config = _campaign(kkik, tmp_path / "campaign")
    code, loaded = _loaded(["--config", str(config), "status"], config.parent)
    assert code == 0
    not_needed = {*HEAVY, "sqlmodel", "alembic", "aiosmtplib", "aioimaplib", "holidays"}
    assert loaded.isdisjoint(not_needed), loaded & not_needed


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_help_lists_every_command_with_its_summary(kkik, lang: Lang):
    result = kkik("--lang", lang, "--help")
    assert result.code == 0
    listed = result.out.split("Kommandon:\n" if lang == "sv" else "Commands:\n", 1)[1]
    rows = [line.split(maxsplit=1) for line in listed.splitlines()]
    assert [name for name, _ in rows] == sorted(COMMANDS)
    # Whole sentences: click cuts a summary too long for 80 columns with "...".
    assert [text for _, text in rows] == [COMMANDS[n].summary(lang) for n in sorted(COMMANDS)]


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_the_table_names_exactly_the_commands_its_modules_build(lang: Lang):
    built: dict[str, str] = {}
    for module in {entry.module for entry in COMMANDS.values()}:
        made = importlib.import_module(f"harness.cli.{module}").build(lang)
        for command in made if isinstance(made, list) else [made]:
            assert isinstance(command, click.Command)
            assert command.name is not None
            built[command.name] = module
    assert built == {name: entry.module for name, entry in COMMANDS.items()}
    app = build_app(lang)
    ctx = click.Context(app)
    for name in COMMANDS:
        command = app.get_command(ctx, name)
        assert command is not None
        assert command.name == name
    assert app.get_command(ctx, "fly") is None
