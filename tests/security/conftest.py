"""One real site for the security suite: a demo campaign, the full app over loopback HTTP.

The ``site`` fixture (one per session) runs the offline demo on the small test world with
distinctive secret values (IMAP password, Twilio auth token, session secret), adds one user per
role, stores hostile reply mails, and serves the real app (dashboard and Twilio webhooks) with
uvicorn on 127.0.0.1 on a FakeClock. Every log record of the harness (DEBUG and up) and of the
libraries (WARNING and up) is kept from then on, for the secret scan.

Helpers (the aiohttp browser, route listing, database snapshots, the leak scan) live in
:mod:`tests.security.site`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from harness.assembly import Assembly
from harness.core.clock import FakeClock
from harness.core.config import load_config
from harness.demo import run_config
from harness.demo.run import Demo
from harness.store.db import make_engine
from harness.web.app import WebServer
from tests.security.site import (
    IMAP_SECRET,
    SESSION_SECRET,
    SMALL,
    TWILIO_SECRET,
    Canary,
    LogKeeper,
    Site,
    add_users,
    first_phone_probe,
    store_hostile,
)

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.security)


@pytest.fixture(scope="session")
def log_keeper() -> Iterator[LogKeeper]:
    """Every record from now on: the harness's own loggers at DEBUG, libraries at WARNING."""
    keeper = LogKeeper()
    root = logging.getLogger()
    ours = [logging.getLogger(name) for name in ("harness", "probes", "results")]
    levels = [logger.level for logger in ours]
    root.addHandler(keeper)
    for logger in ours:
        logger.setLevel(logging.DEBUG)
    yield keeper
    root.removeHandler(keeper)
    for logger, level in zip(ours, levels, strict=True):
        logger.setLevel(level)


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def site(
    tmp_path_factory: pytest.TempPathFactory, log_keeper: LogKeeper
) -> AsyncIterator[Site]:
    out = tmp_path_factory.mktemp("security") / "demo"
    with pytest.MonkeyPatch.context() as patch:
        # The demo's secrets, made distinctive; the environment gets them as a deployment would.
        patch.setitem(run_config.ENV, "KKIK_DEMO_IMAP_PASSWORD", IMAP_SECRET)
        patch.setitem(run_config.ENV, "KKIK_DEMO_TWILIO_TOKEN", TWILIO_SECRET)
        patch.setenv("KKIK_DEMO_IMAP_PASSWORD", IMAP_SECRET)
        patch.setenv("KKIK_DEMO_TWILIO_TOKEN", TWILIO_SECRET)
        patch.setenv("KKIK_SESSION_SECRET", SESSION_SECRET)
        demo = Demo(out, seed=5, world_path=SMALL)
        await demo.run()
        settings = load_config(demo.config)
        engine = make_engine(settings.database.url)
        clock = FakeClock(demo.clock.now())
        add_users(engine, clock)
        canary = Canary()
        await canary.start()
        matched, hostile = store_hostile(engine, settings, canary.origin)
        assembly = Assembly(settings, engine, clock, config_path=demo.config)
        app = assembly.web_app(auth_token=TWILIO_SECRET, dashboard_secret=SESSION_SECRET)
        site = Site("", app, engine, settings, demo.config, out, clock, log_keeper, canary,
                    matched, hostile, first_phone_probe(engine))  # fmt: skip
        try:
            async with WebServer(app) as web:
                site.url = web.url
                try:
                    yield site
                finally:
                    for http in site.clients:
                        await http.close()
        finally:
            await canary.stop()
            engine.dispose()
