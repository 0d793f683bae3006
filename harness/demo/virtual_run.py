"""Run a stored campaign on a virtual clock: weeks of sending in seconds, against local servers.

The runner is the real one; only time is simulated: the clock jumps to each next due time and
the runner ticks there. Used by the crash tests (the process is killed at random moments and
started again) and by the offline demo. It refuses any server that is not on loopback.

    python -m harness.demo.virtual_run CONFIG [--until ISO]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from harness.assembly import Assembly
from harness.campaign.runner import Runner
from harness.core.clock import FakeClock, SystemClock
from harness.core.config import is_loopback_host, load_config
from harness.store.db import database_url, make_engine
from harness.store.models import Probe, ProbeState
from harness.store.runlock import RunLock


def resume_time(engine: Engine) -> datetime | None:
    """Where virtual time stood when the last run stopped: never earlier than any evidence."""
    with Session(engine) as session:
        latest = [
            session.exec(select(func.max(column))).one()
            for column in (Probe.claimed_at, Probe.sent_at, Probe.completed_at)
        ]
    found = [t.replace(tzinfo=UTC) if t.tzinfo is None else t for t in latest if t is not None]
    return max(found) if found else None


UNCHECKED_RETRIES = 5  # ticks spent on crashed sends whose Sent copy could not be looked for


def _unchecked(engine: Engine) -> int:
    """Probes left sending by a crash whose Sent-folder copy could not be looked for yet."""
    with Session(engine) as session:
        return session.exec(
            select(func.count())
            .select_from(Probe)
            .where(Probe.state == ProbeState.SENDING, col(Probe.outcome).is_(None))
        ).one()


async def run_virtually(runner: Runner, clock: FakeClock, until: datetime) -> int:
    """Tick at every due time up to ``until``; return the number of ticks.

    A tick asks again next time when the mailbox could not be reached to resolve a crashed send
    (the probe stays ``sending``). With nothing more planned there is no next time, so the run
    ticks a few more times, with a growing real pause, before it ends with such a probe
    unresolved.
    """
    ticks = 0
    retries = 0
    while True:
        due = runner.next_due()
        if due is None or due > until:
            if retries >= UNCHECKED_RETRIES or not _unchecked(runner.engine):
                return ticks
            retries += 1
            await SystemClock().sleep(0.5 * retries)  # a real pause: the server may be busy
            clock.set(clock.now() + timedelta(seconds=1))
            await runner.tick()
            ticks += 1
            continue
        clock.set(max(due, clock.now()))
        await runner.tick()
        ticks += 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("config", type=Path)
    parser.add_argument("--until", default="2100-01-01T00:00:00+00:00")
    args = parser.parse_args(argv)
    settings = load_config(args.config)
    if settings.mail is None:
        raise SystemExit("the virtual run needs a [mail] section")
    for host in (settings.mail.smtp.host, settings.mail.imap.host):
        if not is_loopback_host(host):
            raise SystemExit(f"refusing a non-loopback server in a virtual run: {host}")
    base = args.config.resolve().parent
    engine = make_engine(database_url(settings.database, base))
    with RunLock(engine):
        start = resume_time(engine) or datetime(2000, 1, 1, tzinfo=UTC)
        clock = FakeClock(start + timedelta(seconds=1))
        runner = Assembly(settings, engine, clock, base_dir=base, config_path=args.config).runner()
        ticks = asyncio.run(run_virtually(runner, clock, datetime.fromisoformat(args.until)))
    sys.stdout.write(f"{ticks} ticks\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
