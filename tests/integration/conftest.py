"""Real servers on 127.0.0.1 for the integration tests (see harness.sandbox).

Every test under tests/integration/ gets the ``integration`` marker; tests that use the
Dovecot, PostgreSQL or nginx fixtures also get ``dovecot`` / ``postgres`` / ``nginx``, so e.g.
``pytest -m "integration and not dovecot"`` works.

Session fixtures (one server per test session, stopped at teardown):

- ``tls_ca`` -> SandboxCA: the throwaway CA every TLS server here uses.
- ``smtp_account`` / ``imap_account`` -> Account: the logins configured on the servers.
- ``smtp_server`` -> SmtpSandbox (async, runs in the session event loop).
- ``pymap_server`` -> PymapSandbox (async, runs in the session event loop).
- ``dovecot`` -> DovecotSandbox (subprocess).
- ``postgres_server`` -> PostgresSandbox; ``postgres_url`` -> str, a database for the session.
- ``nginx`` -> a function starting an NginxSandbox (the repository's site file, TLS from
  ``tls_ca``) in front of given upstream servers; each is stopped at the end of the session, or
  earlier by its user.

Function fixtures:

- ``pg_database_url`` -> str: a new empty database for one test, dropped afterwards.
- ``db_url`` -> str, parametrized: a new empty database for one test on each backend, an SQLite
  file and a PostgreSQL database (the test runs twice); ``db_engine`` -> Engine, migrated.

Servers are shared by the session: tests must not rely on mailboxes or recorded SMTP
messages being empty; use unique subjects/addresses (``unique`` fixture) or ``clear()``.

When a system server (Dovecot, PostgreSQL, nginx) is not installed the tests using it are skipped,
except with ``CI=true``, where they fail: CI must run them (``scripts/system-deps.sh``).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import Engine

from harness.sandbox.accounts import Account
from harness.sandbox.certs import SandboxCA
from harness.sandbox.dovecot import DovecotSandbox, dovecot_unavailable_reason
from harness.sandbox.nginx import NginxSandbox, find_nginx
from harness.sandbox.postgres import PostgresSandbox, find_pg_bindir
from harness.sandbox.pymap import PymapSandbox
from harness.sandbox.smtp import SmtpSandbox
from harness.store import migrate
from harness.store.db import make_engine

_HERE = Path(__file__).resolve().parent
_POSTGRES_FIXTURES = {"postgres_server", "postgres_url", "pg_database_url"}


def require_server(name: str, available: bool, why: str) -> None:
    """Skip the test when a server is missing, or fail it when ``CI`` is ``true``."""
    if available:
        return
    message = f"{name} is not available: {why}"
    if os.environ.get("CI") == "true":
        pytest.fail(
            f"{message}. CI=true, so real-server tests must not be skipped; "
            "install the system packages with scripts/system-deps.sh",
            pytrace=False,
        )
    pytest.skip(f"{message} (run scripts/system-deps.sh as root to install it)")


@pytest.hookimpl(tryfirst=True)  # before -m deselection sees the markers
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _HERE not in Path(item.path).resolve().parents:
            continue
        item.add_marker(pytest.mark.integration)
        fixtures = set(getattr(item, "fixturenames", ()))
        if "dovecot" in fixtures:
            item.add_marker(pytest.mark.dovecot)
        callspec = getattr(item, "callspec", None)
        on_postgres = callspec is not None and callspec.params.get("db_url") == "postgresql"
        if fixtures & _POSTGRES_FIXTURES or on_postgres:
            item.add_marker(pytest.mark.postgres)
        if "nginx" in fixtures:
            item.add_marker(pytest.mark.nginx)


@pytest.fixture
def unique() -> str:
    """A short random token for subjects, addresses and database names."""
    return uuid.uuid4().hex[:12]


@pytest.fixture(scope="session")
def tls_ca() -> SandboxCA:
    return SandboxCA()


@pytest.fixture(scope="session")
def smtp_account() -> Account:
    """The harness's own sending account on the SMTP server."""
    return Account("matning@kkik.test", "smtp-losen-1", xoauth2_token="smtp-token-1")


@pytest.fixture(scope="session")
def imap_account() -> Account:
    """A municipality mailbox on the IMAP servers (pymap and Dovecot)."""
    return Account("registrator@kommun.test", "imap-losen-1", xoauth2_token="imap-token-1")


_SECOND = Account("servicecenter@kommun.test", "imap-losen-2", xoauth2_token="imap-token-2")


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def smtp_server(tls_ca: SandboxCA, smtp_account: Account) -> AsyncIterator[SmtpSandbox]:
    async with SmtpSandbox([smtp_account, _SECOND], ca=tls_ca) as server:
        yield server


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def pymap_server(imap_account: Account) -> AsyncIterator[PymapSandbox]:
    async with PymapSandbox([imap_account, _SECOND]) as server:
        yield server


@pytest.fixture(scope="session")
def dovecot(tls_ca: SandboxCA, imap_account: Account) -> Iterator[DovecotSandbox]:
    reason = dovecot_unavailable_reason()
    require_server("Dovecot", reason is None, reason or "")
    with DovecotSandbox([imap_account, _SECOND], ca=tls_ca) as server:
        yield server


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresSandbox]:
    bindir = find_pg_bindir()
    require_server(
        "PostgreSQL",
        bindir is not None,
        "initdb/pg_ctl/postgres not found (Debian: postgresql; or set PG_BINDIR)",
    )
    with PostgresSandbox(bindir=bindir) as server:
        yield server


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresSandbox) -> str:
    """SQLAlchemy URL of a database shared by the whole session."""
    return postgres_server.create_database(f"kkik_session_{uuid.uuid4().hex[:8]}")


@pytest.fixture
def pg_database_url(postgres_server: PostgresSandbox) -> Iterator[str]:
    """SQLAlchemy URL of a new, empty database for this test only (dropped afterwards)."""
    name = f"kkik_test_{uuid.uuid4().hex[:12]}"
    url = postgres_server.create_database(name)
    yield url
    postgres_server.drop_database(name)


StartNginx = Callable[[Sequence[tuple[str, int]], int | None], NginxSandbox]


@pytest.fixture(scope="session")
def nginx(tls_ca: SandboxCA) -> Iterator[StartNginx]:
    """``nginx(upstreams, https_port)``: the deployable site file (docs/deploy/nginx/kkik.conf)
    in front of ``upstreams``, on ``https_port`` (None: a free one), TLS from ``tls_ca``."""
    require_server("nginx", find_nginx() is not None, "the nginx binary is not installed")
    started: list[NginxSandbox] = []

    def start(upstreams: Sequence[tuple[str, int]], https_port: int | None) -> NginxSandbox:
        proxy = NginxSandbox(upstreams, ca=tls_ca, https_port=https_port)
        proxy.start()
        started.append(proxy)
        return proxy

    yield start
    for proxy in started:
        proxy.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database on each backend in turn: for what must behave the same on both."""
    if request.param == "postgresql":
        return str(request.getfixturevalue("pg_database_url"))
    return f"sqlite:///{tmp_path / 'kkik.db'}"


@pytest.fixture
def db_engine(db_url: str) -> Iterator[Engine]:
    """A migrated engine on each backend in turn (``db_url``)."""
    engine = make_engine(db_url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()
