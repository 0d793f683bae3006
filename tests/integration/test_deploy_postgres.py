"""docs/deploy.md's PostgreSQL steps on a cluster of its own (issue 17, item 5).

The cluster checks passwords (``scram-sha-256``) for everyone but the superuser, as Debian's
does for TCP, so the role of ``docs/deploy/postgres-setup.sql`` must log in with the password
the harness reads from ``KKIK_DB_PASSWORD``. Then, as the guide says: ``kkik db upgrade``, a
saved campaign and users, ``kkik-backup`` (``docs/deploy/kkik-backup.sh``), a change after the
backup, ``kkik-restore`` (``docs/deploy/kkik-restore.sh``): the restored database gives what
the backed-up one gave, and the database it replaced is kept; a broken dump, or a database still
in use, changes nothing. The guide's ``kk`` shell function runs kkik with the services'
configuration and secrets, and the dashboard unit's command serves the login page on that
database with the unit's environment.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import signal
import subprocess
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import select, text
from sqlmodel import SQLModel

from harness.core.clock import SystemClock
from harness.sandbox.ports import free_port
from harness.sandbox.postgres import PostgresSandbox
from harness.store.db import make_engine
from harness.store.migrate import head_revision
from tests.integration.test_deploy_files import (
    DEPLOY,
    KKIK,
    ROOT,
    SYSTEMD,
    clean_environ,
    parse_unit,
    read_env_file,
    render,
)
from tests.storage_roundtrip import roundtrip_every_table

SECRET_NAMES = set(read_env_file(DEPLOY / "secrets.env.example"))
SETUP_URL = "postgresql+psycopg://kkik@127.0.0.1:5432/kkik"
EVIDENCE = "KKiK hösten 2026"  # the campaign tests/storage_roundtrip.py writes


@dataclass
class Server:
    """A deployed 'server': the cluster, /etc/kkik under a temporary root, the secrets."""

    pg: PostgresSandbox
    root: Path
    secrets: dict[str, str]

    @property
    def config(self) -> Path:
        return self.root / "etc" / "kkik" / "config.toml"

    def client_env(self) -> dict[str, str]:
        """The PostgreSQL client tools' environment: the cluster's binaries, as its superuser."""
        path = f"{self.pg.bindir}:{clean_environ(SECRET_NAMES)['PATH']}"
        return clean_environ(SECRET_NAMES) | {
            "PATH": path,
            "PGHOST": self.pg.host,
            "PGPORT": str(self.pg.port),
            "PGUSER": "postgres",
        }

    def kkik(self, *args: str) -> str:
        """``kkik`` as the services run it: their configuration and secrets; exit 0 or fail."""
        result = subprocess.run(
            [str(KKIK), "--lang", "en", *args],
            env=clean_environ(SECRET_NAMES) | self.secrets | {"KKIK_CONFIG": str(self.config)},
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=120,
        )
        # Standard error may carry only a note (`kkik score --json` says so when replies
        # await review: the data of this test has one).
        notes = [line for line in result.stderr.splitlines() if not line.startswith("Note: ")]
        assert (result.returncode, notes) == (0, []), (args, result)
        return result.stdout

    def script(self, name: str, *args: str) -> str:
        result = subprocess.run(
            ["sh", str(DEPLOY / name), *args],
            env=self.client_env() | {"KKIK_BACKUP_DIR": str(self.root / "backups")},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result
        return result.stdout

    def url(self) -> str:
        """The role's own URL (with its password) for reading the tables directly."""
        password = self.secrets["KKIK_DB_PASSWORD"]
        return f"postgresql+psycopg://kkik:{password}@127.0.0.1:{self.pg.port}/kkik"

    def databases(self) -> set[str]:
        with psycopg.connect(self.pg.conninfo(), autocommit=True) as conn:
            return {row[0] for row in conn.execute("SELECT datname FROM pg_database")}


def _require_passwords(pg: PostgresSandbox) -> None:
    """Passwords for every role but the superuser, over TCP, as on a Debian server."""
    (pg.data_dir / "pg_hba.conf").write_text(
        "local all all trust\n"
        "host all postgres 127.0.0.1/32 trust\n"
        "host all all 127.0.0.1/32 scram-sha-256\n",
        encoding="utf-8",
    )
    with psycopg.connect(pg.conninfo(), autocommit=True) as conn:
        assert conn.execute("SELECT pg_reload_conf()").fetchone() == (True,)


@pytest.fixture(scope="module")
def server(
    postgres_server: PostgresSandbox, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    # A cluster of its own: the guide's names (role and database "kkik") verbatim, and a
    # pg_hba.conf that checks passwords. The shared fixture decides skip or fail (CI).
    root = tmp_path_factory.mktemp("server")
    with PostgresSandbox(bindir=postgres_server.bindir) as pg:
        _require_passwords(pg)
        values = {name: secrets.token_urlsafe(36) for name in SECRET_NAMES}
        server = Server(pg, root, values)
        (root / "etc" / "kkik").mkdir(parents=True)
        (root / "backups").mkdir()
        config = (DEPLOY / "config.toml").read_text(encoding="utf-8")
        assert config.count(SETUP_URL) == 1
        server.config.write_text(
            config.replace(SETUP_URL, f"postgresql+psycopg://kkik@127.0.0.1:{pg.port}/kkik"),
            encoding="utf-8",
        )
        yield server


def _scenario(folder: Path) -> Path:
    """The campaign template with real targets and a period ahead of today."""
    folder.mkdir()
    (folder / "questions").symlink_to(ROOT / "scenarios" / "questions")
    today = SystemClock().now().date()
    start = today + timedelta(days=14 + (7 - today.weekday()) % 7)  # a Monday
    text = (ROOT / "scenarios" / "kkik-hosten-2026.toml").read_text(encoding="utf-8")
    for old, new in {
        "placeholder = true": "placeholder = false",
        'name = "KKiK hösten 2026"': 'name = "Kampanjen"',
        "year = 2026": f"year = {start.year}",
        "period_start = 2026-10-05": f"period_start = {start.isoformat()}",
        "period_end = 2026-11-13": f"period_end = {(start + timedelta(days=39)).isoformat()}",
    }.items():
        assert old in text
        text = text.replace(old, new)
    path = folder / "my-campaign.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _rows(server: Server) -> dict[str, list[str]]:
    """Every table's rows, the schema version's included."""
    engine = make_engine(server.url())
    try:
        with engine.connect() as conn:
            rows = {
                table.name: sorted(map(repr, conn.execute(select(table))))
                for table in SQLModel.metadata.sorted_tables
            }
            rows["alembic_version"] = [
                repr(conn.execute(text("SELECT * FROM alembic_version")).all())
            ]
    finally:
        engine.dispose()
    return rows


def _state(server: Server) -> dict[str, object]:
    """What the administrator compares before and after a restore, and every table's rows."""
    export = server.root / "export.json"
    server.kkik(
        "export", "--format", "json", "--evidence", "--campaign", EVIDENCE, "--out", str(export)
    )
    return {
        "status": server.kkik("status"),
        "score": server.kkik("score", "--json", "--campaign", EVIDENCE),
        "export": export.read_text(encoding="utf-8"),
        "users": server.kkik("user", "list"),
        "rows": _rows(server),
    }


def test_setup_upgrade_backup_and_restore_as_the_guide_says(server: Server):
    pg = server.pg
    env = server.client_env()
    # postgres-setup.sql refuses to run without the password in the environment.
    refused = subprocess.run(
        ["psql", "-X", "-v", "ON_ERROR_STOP=1", "-f", str(DEPLOY / "postgres-setup.sql")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 3
    assert "KKIK_DB_PASSWORD is not set" in refused.stderr
    assert "kkik" not in server.databases()

    password = server.secrets["KKIK_DB_PASSWORD"]
    subprocess.run(
        ["psql", "-X", "-v", "ON_ERROR_STOP=1", "-f", str(DEPLOY / "postgres-setup.sql")],
        env=env | {"KKIK_DB_PASSWORD": password},
        check=True,
        capture_output=True,
        timeout=60,
    )
    # The role logs in with that password only, and no other role may connect to its database.
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(f"host=127.0.0.1 port={pg.port} user=kkik dbname=kkik password=wrong")
    with psycopg.connect(
        f"host=127.0.0.1 port={pg.port} user=kkik dbname=kkik password={password}"
    ) as conn:
        row = conn.execute(
            "SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = 'kkik'"
        ).fetchone()
        assert row == (False, False, False)
        assert conn.execute(
            "SELECT has_database_privilege('public', 'kkik', 'CONNECT')"
        ).fetchone() == (False,)

    head = head_revision()
    assert head is not None
    assert head in server.kkik("db", "upgrade")
    # A campaign with evidence in every table (replies, calls, assessments, audit…), written
    # by the storage round-trip check, and a saved plan beside it.
    engine = make_engine(server.url())
    try:
        roundtrip_every_table(engine)
    finally:
        engine.dispose()
    scenario = _scenario(server.root / "etc" / "kkik" / "campaign")
    server.kkik("plan", str(scenario), "--save")
    for name, role in (("anna", "admin"), ("bo", "staff")):
        subprocess.run(
            [str(KKIK), "user", "add", name, "--role", role, "--password-stdin"],
            input="ett långt lösenord för test\n",
            env=clean_environ(SECRET_NAMES) | server.secrets | {"KKIK_CONFIG": str(server.config)},
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        )
    server.kkik("pause", "--target", "2380", "--reason", "before the backup")
    before = _state(server)
    assert "2380" in str(before["status"])
    assert "anna" in str(before["users"])
    assert '"numerator": 1' in str(before["score"])  # a score from real evidence, not empty

    dump = Path(server.script("kkik-backup.sh").strip())
    assert dump.parent == server.root / "backups"
    assert dump.name.startswith("kkik-")
    assert dump.suffix == ".dump"
    assert [p.name for p in dump.parent.iterdir()] == [dump.name]  # no partial file left

    # After the backup: a user more and the pause lifted; the restore must undo both.
    subprocess.run(
        [str(KKIK), "user", "add", "cecilia", "--role", "viewer", "--password-stdin"],
        input="ett annat långt lösenord\n",
        env=clean_environ(SECRET_NAMES) | server.secrets | {"KKIK_CONFIG": str(server.config)},
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    server.kkik("resume", "--target", "2380")
    assert _rows(server) != before["rows"]

    said = server.script("kkik-restore.sh", str(dump))
    kept = {d for d in server.databases() if d.startswith("kkik_before_restore_")}
    assert len(kept) == 1
    assert said.strip().endswith(f"the previous database is now {kept.pop()}")
    assert _state(server) == before
    assert "cecilia" not in server.kkik("user", "list")
    # The restored database is the role's own, closed to others, like the one it replaced.
    with psycopg.connect(server.pg.conninfo(), autocommit=True) as conn:
        owner, public = conn.execute(
            "SELECT pg_get_userbyid(datdba), has_database_privilege('public', 'kkik', 'CONNECT')"
            " FROM pg_database WHERE datname = 'kkik'"
        ).fetchone() or (None, None)
        tables = conn.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner"
            " WHERE r.rolname <> 'kkik' AND c.relnamespace = 'public'::regnamespace"
        ).fetchone()
    assert (owner, public) == ("kkik", False)
    assert tables == (0,)


def test_a_failed_restore_leaves_the_database_as_it_was(server: Server, tmp_path: Path):
    before = server.databases()
    broken = tmp_path / "kkik-broken.dump"
    broken.write_bytes(b"PGDMP not really a dump")
    result = subprocess.run(
        ["sh", str(DEPLOY / "kkik-restore.sh"), str(broken)],
        env=server.client_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "unchanged" in result.stderr
    assert server.databases() == before


def test_a_restore_while_the_database_is_in_use_changes_nothing(server: Server):
    """The guide stops the services first; if something is still connected, the swap is refused
    and the current database stays, the restored copy kept beside it."""
    dump = server.script("kkik-backup.sh").strip()
    before = server.databases()
    with psycopg.connect(server.pg.conninfo("kkik"), autocommit=True):
        result = subprocess.run(
            ["sh", str(DEPLOY / "kkik-restore.sh"), dump],
            env=server.client_env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 1
    assert "kkik is unchanged (is something still connected?" in result.stderr
    added = server.databases() - before
    assert len(added) == 1
    assert added.pop().startswith("kkik_restore_")
    assert "kkik" in server.databases()


def _guide_shell_function() -> str:
    """The guide's ``kk`` function (kkik as the services run it), as written there."""
    text = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    start = text.index("kk() {")
    return text[start : text.index(") }\n", start) + 3]


@pytest.mark.skipif(os.geteuid() != 0, reason="setpriv --init-groups needs root, as in the guide")
def test_the_guides_kk_runs_kkik_with_the_services_configuration_and_secrets(server: Server):
    """The guide's ``kk`` reads secrets.env and the configuration; only the user is the test's
    (the guide's ``kkik`` account does not exist on the test machine)."""
    me = pwd.getpwuid(os.geteuid()).pw_name
    function = render(_guide_shell_function(), server.root)
    assert "--reuid=kkik --regid=kkik" in function
    function = function.replace("--reuid=kkik --regid=kkik", f"--reuid={me} --regid={me}")
    (server.root / "var" / "lib" / "kkik").mkdir(parents=True, exist_ok=True)
    secrets_env = server.root / "etc" / "kkik" / "secrets.env"
    secrets_env.write_text(
        "".join(f"{name}={value}\n" for name, value in server.secrets.items()), encoding="utf-8"
    )
    secrets_env.chmod(0o600)
    result = subprocess.run(
        ["bash", "-c", f"{function}\nkk --lang en status"],
        env=clean_environ(SECRET_NAMES),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == server.kkik("status")
    assert "Kampanjen" in result.stdout


def test_the_dashboard_unit_serves_the_login_page(server: Server, tmp_path: Path):
    """kkik-serve.service's command, environment and configuration, on the restored database."""
    unit = parse_unit(render((SYSTEMD / "kkik-serve.service").read_text(), server.root))
    assert unit.one("EnvironmentFile") == f"{server.root}/etc/kkik/secrets.env"
    port = free_port()
    command = unit.one("ExecStart").replace("--port 8001", f"--port {port}").split()
    assert f"--port {port}" in " ".join(command)
    env = clean_environ(SECRET_NAMES) | unit.environment() | server.secrets
    assert env["KKIK_CONFIG"] == str(server.config)
    Path(unit.one("WorkingDirectory")).mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        command,
        env=env,
        cwd=unit.one("WorkingDirectory"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        clock = SystemClock()
        deadline = clock.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as page:
                    assert page.status == 200
                    assert "<form" in page.read().decode()
                break
            except OSError:
                assert clock.monotonic() < deadline, "the dashboard did not answer in 60 s"
            # Waiting on the process is the pause between tries, and notices if it ended.
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=0.3)
                pytest.fail(f"kkik serve ended: {process.communicate()}")
    finally:
        process.send_signal(signal.SIGTERM)  # what systemctl stop sends
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, (out, err)
