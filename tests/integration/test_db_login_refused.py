"""A PostgreSQL server that refuses the login: one line naming the problem, exit 2 (issue 15, L2).

The session's PostgreSQL trusts every login, so this module starts its own cluster whose
``pg_hba.conf`` asks for passwords (SCRAM) from every role but the administrator.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from harness.sandbox.postgres import PostgresSandbox, find_pg_bindir
from tests.integration.conftest import require_server

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def password_server() -> Iterator[PostgresSandbox]:
    bindir = find_pg_bindir()
    require_server("PostgreSQL", bindir is not None, "initdb/pg_ctl/postgres not found")
    # The server runs as the postgres user when we are root: the hba file must be readable.
    folder = Path(tempfile.mkdtemp(prefix="kkik-pg-hba-"))
    folder.chmod(0o755)
    hba = folder / "pg_hba.conf"
    hba.write_text(
        "local all all trust\n"
        "host all postgres 127.0.0.1/32 trust\n"
        "host all all 127.0.0.1/32 scram-sha-256\n"
    )
    hba.chmod(0o644)
    try:
        with PostgresSandbox(bindir=bindir, settings={"hba_file": str(hba)}) as server:
            with psycopg.connect(server.conninfo(), autocommit=True) as conn:
                conn.execute(
                    sql.SQL("CREATE ROLE kkik LOGIN PASSWORD {}").format(sql.Literal("rätt-lösen"))
                )
            yield server
    finally:
        hba.unlink()
        folder.rmdir()


@pytest.mark.parametrize(
    ("lang", "problem"), [("en", "cannot open the database"), ("sv", "kan inte öppna databasen")]
)
def test_a_wrong_password_is_one_line_and_exit_2(
    kkik,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    password_server: PostgresSandbox,
    lang: str,
    problem: str,
):
    url = f"postgresql://kkik@127.0.0.1:{password_server.port}/postgres"
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "{url}"\npassword_env = "KKIK_TEST_DB_PASSWORD"\n')
    monkeypatch.setenv("KKIK_TEST_DB_PASSWORD", "fel-lösen")
    for command in (("status",), ("db", "upgrade"), ("user", "list"), ("score",)):
        result = kkik("--lang", lang, "--config", str(config), *command)
        assert (result.code, result.out) == (2, ""), command
        assert result.err == (
            f"{config}: database.url: {problem}: postgresql+psycopg://kkik:***@127.0.0.1:"
            f'{password_server.port}/postgres: connection to server at "127.0.0.1", port '
            f"{password_server.port} failed: FATAL: password authentication failed for user "
            '"kkik"\n'
        ), command
        assert "fel-lösen" not in result.err
    monkeypatch.setenv("KKIK_TEST_DB_PASSWORD", "rätt-lösen")  # the rest of the setup is right
    assert kkik("--config", str(config), "db", "current").code == 0
