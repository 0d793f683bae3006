"""The ``kkik`` command.

The language is settled before click builds the command tree (``--lang``, ``KKIK_LANG``, the
config file's ``language``, else Swedish), so that help texts, click's own messages and our
errors all come out in one language.
"""

from __future__ import annotations

import gc
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path

from harness.cli import click_sv
from harness.cli.app import build_app
from harness.cli.common import DEFAULT_CONFIG, EXIT_USAGE, CliContext, config_path_from_env
from harness.core.clock import Clock, SystemClock
from harness.core.i18n import DEFAULT_LANG, Lang, lang_from_env, parse_lang


def choose_lang(argv: Sequence[str]) -> Lang:
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            return parse_lang(argv[i + 1]) or DEFAULT_LANG
        if arg.startswith("--lang="):
            return parse_lang(arg.split("=", 1)[1]) or DEFAULT_LANG
    from_env = lang_from_env()
    if from_env:
        return from_env
    return _lang_from_config(argv) or DEFAULT_LANG


def _lang_from_config(argv: Sequence[str]) -> Lang | None:
    path = config_path_from_env() or DEFAULT_CONFIG
    for i, arg in enumerate(argv):
        if arg in {"--config", "-c"} and i + 1 < len(argv):
            path = argv[i + 1]
        elif arg.startswith("--config="):
            path = arg.split("=", 1)[1]
    try:
        value = tomllib.loads(Path(path).read_text(encoding="utf-8")).get("language")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
        # The command itself reports the file's problem (RecursionError: nested too deeply).
        return None
    return parse_lang(value) if isinstance(value, str) else None


def run(
    argv: Sequence[str] | None = None, *, clock: Clock | None = None, exiting: bool = False
) -> int:
    """Run the CLI with ``argv`` and return its exit code (0 ok, 1 failure, 2 usage/config).

    ``clock`` replaces the system clock (tests, the demo's virtual time). ``exiting``: the
    process ends with this command (the ``kkik`` script), so what it leaves behind needs no
    collecting (:func:`harness.cli.common.no_collection`).
    """
    args = list(sys.argv[1:] if argv is None else argv)
    lang = choose_lang(args)
    click_sv.install(lang == "sv")
    app = build_app(lang)
    cli = CliContext(lang=lang, clock=clock or SystemClock(), exiting=exiting)
    try:
        app.main(args=args, prog_name="kkik", obj=cli, standalone_mode=True)
    except SystemExit as exc:
        if exc.code is None:
            return 0
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    finally:
        # Close the command's connections now: run in-process (the tests, the demo's scripted
        # callers) a PostgreSQL connection would otherwise stay open until the garbage
        # collector finds it.
        opened = list(cli.engines)
        if cli.assembled is not None and cli.assembled.engine not in opened:
            opened.append(cli.assembled.engine)
        for engine in opened:
            engine.dispose()
    return 0


def main() -> None:
    code = run(exiting=True)
    # At exit the interpreter's last collection walks every object the command's imports made
    # (SQLAlchemy's and pydantic's classes, the rows read): a fifth of a cold `kkik status`,
    # to free memory the process is about to give back (issue 16, item 8). Frozen objects are
    # skipped; the rest of shutting down (atexit, flushing, closing) happens as before.
    gc.freeze()
    sys.exit(code)
