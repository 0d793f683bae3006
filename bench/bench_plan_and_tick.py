"""Planning a national campaign and one runner tick over a large plan.

- national plan: 290 municipalities x (18 e-mails + 18 calls) over six weeks, planned with the
  shipped question bank and saved to a fresh SQLite database (target: under 5 s);
- tick: one ``Runner.tick`` with 10,000 planned probes, none of them due yet and then 20 due
  outside their window (target: under 50 ms), against the naive alternative of loading every
  planned probe and checking it in Python.

Prints one JSON object. Touches nothing but a temporary folder.
"""

from __future__ import annotations

import asyncio
import json
import platform
import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session, select

from harness.assembly import Assembly
from harness.campaign.planning import plan_scenario
from harness.campaign.runner import Runner
from harness.core.clock import FakeClock, SystemClock
from harness.core.config import Settings
from harness.core.scenario import municipalities
from harness.store import migrate
from harness.store.db import make_engine
from harness.store.models import Probe, ProbeState
from harness.store.planstore import save_plan

ROOT = Path(__file__).resolve().parents[1]
CLOCK = SystemClock()


def _national_scenario(folder: Path) -> Path:
    shutil.copytree(ROOT / "scenarios" / "questions", folder / "questions")
    targets = "".join(
        f'\n[[targets]]\nkommunkod = "{code}"\nemail = "k{code}@kommun.example.se"\n'
        f'switchboard = "+4687000{int(code):04d}"\n'
        for code in sorted(municipalities())
    )
    path = folder / "national.toml"
    path.write_text(
        '[campaign]\nname = "Nationell"\nyear = 2026\nperiod_start = 2026-10-05\n'
        'period_end = 2026-11-13\n\n[[personas]]\nname = "Anna Lindqvist"\n'
        'address = "anna.lindqvist@fraga.example.se"\n' + targets,
        encoding="utf-8",
    )
    return path


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="kkik-bench-plan-"))
    try:
        engine = make_engine(f"sqlite:///{folder / 'kkik.db'}")
        migrate.upgrade(engine)
        path = _national_scenario(folder)
        began = CLOCK.monotonic()
        made = plan_scenario(path, Settings())
        planned = CLOCK.monotonic() - began
        with Session(engine) as session:
            save_plan(session, made.scenario, made.bank, made.probes, CLOCK.now())
        saved = CLOCK.monotonic() - began

        # The first 10,000 planned probes; drop the rest so the tick sees exactly that many.
        with Session(engine) as session:
            ids = session.exec(select(Probe.id).order_by(Probe.planned_at)).all()  # type: ignore[arg-type]
            for probe_id in ids[10_000:]:
                probe = session.get(Probe, probe_id)
                assert probe is not None
                session.delete(probe)
            session.commit()
        clock = FakeClock(datetime(2026, 10, 4, tzinfo=UTC))
        runner = Assembly(Settings(), engine, clock).runner(channels={})
        idle = _time_tick(runner, datetime(2026, 10, 4, tzinfo=UTC), repeat=20)

        naive_began = CLOCK.monotonic()
        with Session(engine) as session:
            rows = session.exec(select(Probe).where(Probe.state == ProbeState.PLANNED)).all()
            due = [p for p in rows if p.planned_at <= datetime(2026, 10, 4, tzinfo=UTC)]
        naive = CLOCK.monotonic() - naive_began
        assert not due

        print(
            json.dumps(
                {
                    "benchmark": "plan_and_tick",
                    "python": platform.python_version(),
                    "machine": platform.machine(),
                    "national_plan": {
                        "targets": len(made.scenario.targets),
                        "probes": len(made.probes),
                        "plan_seconds": round(planned, 3),
                        "plan_and_save_seconds": round(saved, 3),
                        "target_seconds": 5.0,
                    },
                    "tick_10000_planned_none_due": {
                        "planned": 10_000,
                        "median_ms": round(idle * 1000, 2),
                        "target_ms": 50.0,
                        "naive_load_all_ms": round(naive * 1000, 2),
                    },
                }
            )
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _time_tick(runner: Runner, now: datetime, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        began = CLOCK.monotonic()
        asyncio.run(runner.tick(now))
        times.append(CLOCK.monotonic() - began)
        now += timedelta(seconds=1)
    return sorted(times)[len(times) // 2]


if __name__ == "__main__":
    main()
