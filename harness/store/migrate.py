"""Apply and inspect the Alembic migrations programmatically (no alembic.ini needed).

Every database command checks that the database is at the newest schema before it reads
anything. That check does not import Alembic: importing it loads its migration runtime, every
dialect's DDL rules, Mako and Pygments, about a third of a second of `kkik status` (issue 16,
item 8). :func:`head_revision` reads the revision ids from the migration scripts' own
assignments and :func:`current_revision` reads the ``alembic_version`` table, as Alembic does;
tests/unit/test_db.py checks both against Alembic's answers. Upgrading and downgrading use
Alembic itself.
"""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config

VERSIONS = Path(__file__).parent / "migrations" / "versions"
VERSION_TABLE = "alembic_version"  # Alembic's default, which env.py keeps


def alembic_config() -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", "harness.store:migrations")
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database at ``engine`` to ``revision`` (default: the newest)."""
    from alembic import command

    cfg = alembic_config()
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    cfg = alembic_config()
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    """The database's schema version; None for a database Alembic has never touched."""
    with engine.connect() as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return None
        found = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars()
        versions = sorted(found)
    if len(versions) > 1:  # a history with branches: this package has none
        raise RuntimeError(f"{VERSION_TABLE} holds several versions: {', '.join(versions)}")
    return versions[0] if versions else None


@functools.cache
def head_revision() -> str | None:
    """The newest revision of the migration scripts: the one no other script revises.

    Read once per process: the scripts ship with the package and do not change while it runs.
    """
    revises: dict[str, tuple[str, ...]] = {}
    for script in sorted(VERSIONS.glob("*.py")):
        names = _assignments(script)
        if "revision" in names:
            down = names.get("down_revision")
            # None for the first script, a revision, or several when branches were merged.
            parents = (down,) if isinstance(down, str) else tuple(down or ())
            revises[str(names["revision"])] = tuple(str(parent) for parent in parents)
    heads = set(revises) - {parent for parents in revises.values() for parent in parents}
    if len(heads) > 1:
        raise RuntimeError(f"the migrations have several heads: {', '.join(sorted(heads))}")
    return heads.pop() if heads else None


def _assignments(script: Path) -> dict[str, Any]:
    """The literal values a migration script assigns at module level (``revision = "0010"``).

    Only the script's head is parsed, up to its ``revision`` and ``down_revision`` statements,
    not the upgrade and downgrade bodies after them: parsing every migration whole took 20 ms of
    each database command (issue 16, item 8). A line that only looks like one (in a docstring)
    parses as no assignment, and the search goes on; a script that never assigns both is parsed
    whole.
    """
    lines = script.read_text(encoding="utf-8").splitlines()
    for index, line in enumerate(lines):
        if not _ASSIGNMENT.match(line):
            continue
        # The shortest head that parses: the statement may span lines (a merge's tuple).
        for end in range(index + 1, len(lines) + 1):
            try:
                body = ast.parse("\n".join(lines[:end])).body
            except SyntaxError:
                continue
            values = _literals(body)
            if len(values) == 2:
                return values
            break
    return _literals(ast.parse("\n".join(lines)).body)


_ASSIGNMENT = re.compile(r"(?:revision|down_revision)\s*[:=]")


def _literals(body: list[ast.stmt]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for node in body:
        targets: list[ast.expr]
        if isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        elif isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
                values[target.id] = ast.literal_eval(value)
    return values
