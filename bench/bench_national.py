"""National-scale run: the demo machinery against all 290 municipalities, 36 probes each.

A world generated from a seed (:func:`harness.demo.world_generate.generate_world`) gives every
municipality its own e-mail and phone profile; the offline demo (:class:`harness.demo.run.
Demo`) then runs the whole six-week campaign through the real planner, runner, SMTP, IMAP IDLE
watcher, Twilio SDK and simulator, webhooks and scripted callers on a virtual clock. Checked:
every probe ended exactly once (completed, one question or one call each) and every score equals
the world's ground truth. Prints one JSON object: wall time, peak RSS, probes, mails, calls,
mismatches.

``--naive-give-up`` puts back, for this process only, the runner's give-up scan as it was before
this benchmark found it (decoding the campaign's scenario JSON, all 290 targets, once per
waiting e-mail probe per tick, and reading every waiting probe), to measure what the fix buys.

``--naive`` runs the same world with the demo's event loop taking one call step or one mail per
turn (as it did before batching); use it with ``--municipalities`` for a comparison that ends in
reasonable time. ``--quick`` is a smoke run with 3 municipalities.

The run is watched as it goes: at every simulated day the questions and calls placed so far
(the demo's progress line) and this process's resident memory; from these, the probes/s of each
tenth of the campaign (the wall time between the moments 10 %, 20 %, ... of the probes had been
placed) and the peak RSS (``ru_maxrss``) are reported. A flat curve is the target: each tenth
costs the same whatever has been done before (issue 17).

``--database-url URL`` runs on that (empty) database; ``--postgres`` starts the test rig's
throwaway PostgreSQL cluster (:mod:`harness.sandbox.postgres`) and runs on a new database in it.

``--compare-with REV --compare-municipalities N`` also runs the code of git revision REV
(:mod:`bench.baseline`, ``git archive``) and this tree's code on N municipalities, one after the
other in child processes of their own, before the main run: "before" and "after" in the same
session, on the same (shared) machine. The output's ``load_average`` is the machine's at the
start and at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from harness.campaign.runner import Runner, TickResult
from harness.core.clock import SystemClock
from harness.core.scenario import CampaignSpec, municipalities
from harness.demo.run import Demo
from harness.demo.world_generate import generate_world
from harness.store.models import Campaign, Channel, Probe, ProbeState

CLOCK = SystemClock()


def _give_up_naive(self: Runner, now: datetime, result: TickResult) -> None:
    """Runner._give_up as it was: every waiting probe joined with its campaign, whose scenario
    is decoded and validated per probe, every tick. Same decisions as today's."""
    with Session(self.engine) as session:
        waiting = session.exec(
            select(Probe, Campaign)
            .join(Campaign, col(Probe.campaign_id) == col(Campaign.id))
            .where(Probe.state == ProbeState.SENT, Probe.channel == Channel.EMAIL)
        ).all()
        for probe, campaign in waiting:
            spec = CampaignSpec.model_validate(campaign.scenario["campaign"])
            assert probe.sent_at is not None
            deadline = self.calendar.deadline(probe.sent_at, spec.give_up_working_days)
            if now > deadline:
                probe.state = ProbeState.COMPLETED
                probe.outcome = "not_answered"
                probe.completed_at = deadline
                session.add(probe)
                result.given_up += 1
        session.commit()


ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("harness", "probes", "results", "scenarios")
TENTHS = 10


def _peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux; the peak of this process over its whole life.
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _rss_mb() -> float:
    """This process's resident memory now (Linux: /proc/self/statm, in pages)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0.0
    return round(pages * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)


Sample = tuple[float, float, int, float]  # wall s, CPU s, probes placed, RSS MB


def curve(samples: list[Sample], planned: int) -> list[dict[str, Any]]:
    """Probes/s per tenth of the campaign from the samples: the wall time between the first
    samples at or past 10 %, 20 %, ... of the planned probes, and this process's CPU time over
    the same stretch (all its threads), which moves less with the other processes' load."""
    rows: list[dict[str, Any]] = []
    last_t, last_cpu, last_n = 0.0, 0.0, 0
    for k in range(1, TENTHS + 1):
        goal = planned * k / TENTHS
        reached = next((s for s in samples if s[2] >= goal), None)
        if reached is None:
            break
        t, cpu, n, rss = reached
        if n == last_n:
            continue  # one day placed more than a tenth: it is in the row before
        seconds, cpu_seconds = t - last_t, cpu - last_cpu
        rows.append(
            {
                "tenth": k,
                "probes_placed": n,
                "seconds": round(seconds, 1),
                "probes_per_second": round((n - last_n) / seconds, 2) if seconds > 0 else None,
                "cpu_seconds": round(cpu_seconds, 1),
                "probes_per_cpu_second": round((n - last_n) / cpu_seconds, 2)
                if cpu_seconds > 0
                else None,
                "rss_mb": rss,
            }
        )
        last_t, last_cpu, last_n = t, cpu, n
    return rows


async def run(
    count: int, seed: int, *, naive: bool, progress: bool, database_url: str | None = None
) -> dict[str, Any]:
    codes = sorted(municipalities())[:count]
    world = generate_world(seed, codes)
    samples: list[Sample] = []
    with tempfile.TemporaryDirectory(prefix="kkik-national-") as tmp:
        began = CLOCK.monotonic()
        cpu0 = time.process_time()

        def show(what: str, **figures: object) -> None:
            now = CLOCK.monotonic() - began
            if what == "day":
                placed = int(str(figures.get("emails", 0))) + int(str(figures.get("calls", 0)))
                samples.append((now, time.process_time() - cpu0, placed, _rss_mb()))
            if progress:
                line = f"{what} " + " ".join(f"{k}={v}" for k, v in figures.items())
                print(f"[{now:7.1f} s] {line} rss={_rss_mb()}", file=sys.stderr, flush=True)

        # The keyword only when it is used: the code before this benchmark's change has none.
        extra: dict[str, Any] = {"database_url": database_url} if database_url else {}
        demo = Demo(
            Path(tmp), seed=seed, world=world, progress=show, batch_events=not naive, **extra
        )
        result = await demo.run()
        elapsed = CLOCK.monotonic() - began
    expected = count * (world.emails_per_target + world.calls_per_target)
    cpu = time.process_time() - cpu0
    samples.append((elapsed, cpu, expected, _rss_mb()))
    return {
        "municipalities": count,
        "probes_planned": expected,
        "probes_accounted": result.probes,
        "states": result.states,
        "unaccounted": len(result.unaccounted),
        "unaccounted_examples": result.unaccounted[:5],
        "questions_received": result.questions_received,
        "mails_delivered": result.mails_delivered,
        "slow_stores": result.slow_stores,
        "calls": result.calls,
        "scores": len(result.truth),
        "mismatches": len(result.mismatches),
        "mismatch_examples": result.mismatches[:5],
        "seconds": round(elapsed, 1),
        "probes_per_second": round(expected / elapsed, 1),
        "cpu_seconds": round(cpu, 1),
        "peak_rss_mb": _peak_rss_mb(),
        "curve": curve(samples, expected),
        "database": "postgresql" if database_url else "sqlite",
        "ok": result.probes == expected and not result.unaccounted and not result.mismatches,
    }


def side(code: Path, count: int, seed: int, work: Path) -> dict[str, Any]:
    """This benchmark run on ``count`` municipalities in a child process importing ``code``
    (this tree, or a revision extracted by bench.baseline), on SQLite."""
    env = {**os.environ, "PYTHONPATH": str(code)}
    script = work / "bench_national_child.py"
    if not script.exists():
        script.write_text(Path(__file__).read_text())  # outside both trees: no bench/ imports
    done = subprocess.run(
        [sys.executable, str(script), "--municipalities", str(count), "--seed", str(seed)],
        env=env, cwd=work, capture_output=True, text=True, timeout=4 * 3600, check=False,
    )  # fmt: skip
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        return {"error": (done.stderr or "no output")[-2000:]}
    return dict(json.loads(lines[-1]))


def compare(revision: str, count: int, seed: int) -> dict[str, Any]:
    """The code of ``revision`` and this tree's, one after the other, on ``count``."""
    from bench.baseline import extract_baseline

    with tempfile.TemporaryDirectory(prefix="kkik-national-cmp-") as tmp:
        work = Path(tmp)
        before = work / "before"
        before.mkdir()
        commit, skipped = extract_baseline(revision, before, PACKAGES)
        if commit is None:
            return {"before_skipped": skipped}
        figures: dict[str, Any] = {"baseline_commit": commit, "municipalities": count}
        figures["before"] = side(before, count, seed, work)
        figures["after"] = side(ROOT, count, seed, work)
    return figures


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--municipalities", type=int, default=290)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--naive", action="store_true", help="one event per loop turn")
    parser.add_argument("--quick", action="store_true", help="smoke run: 3 municipalities")
    parser.add_argument("--progress", action="store_true", help="progress lines on stderr")
    parser.add_argument(
        "--naive-give-up", action="store_true", help="the give-up scan as it was (per probe)"
    )
    parser.add_argument("--database-url", help="an empty database to run on (default SQLite)")
    parser.add_argument(
        "--postgres", action="store_true", help="run on the test rig's throwaway PostgreSQL"
    )
    parser.add_argument("--compare-with", metavar="REV", help="also run this git revision")
    parser.add_argument("--compare-municipalities", type=int, default=60)
    args = parser.parse_args()
    if args.naive_give_up:
        Runner._give_up = _give_up_naive  # type: ignore[method-assign]
    count = 3 if args.quick else args.municipalities
    output: dict[str, Any] = {
        "benchmark": "national_run",
        "naive_event_loop": args.naive,
        "naive_give_up": args.naive_give_up,
        "seed": args.seed,
        "target": "every probe accounted for, every score equal to the truth; "
        "290 x 36 in < 15 min, peak RSS < 500 MB, flat probes/s",
        "cpus": os.cpu_count(),
        "load_average_start": _load(),
    }
    if args.compare_with:
        output["comparison"] = compare(args.compare_with, args.compare_municipalities, args.seed)
    if args.postgres:
        from harness.sandbox.postgres import PostgresSandbox

        with PostgresSandbox() as pg:
            url = pg.create_database(f"kkik_national_{uuid.uuid4().hex[:8]}")
            figures = asyncio.run(
                run(count, args.seed, naive=args.naive, progress=args.progress, database_url=url)
            )
    else:
        figures = asyncio.run(
            run(count, args.seed, naive=args.naive, progress=args.progress,
                database_url=args.database_url)
        )  # fmt: skip
    output.update(figures)
    output["load_average_end"] = _load()
    print(json.dumps(output))
    if not figures["ok"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
