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
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import tempfile
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


def _peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux; the peak of this process over its whole life.
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


async def run(count: int, seed: int, *, naive: bool, progress: bool) -> dict[str, Any]:
    codes = sorted(municipalities())[:count]
    world = generate_world(seed, codes)
    with tempfile.TemporaryDirectory(prefix="kkik-national-") as tmp:
        began = CLOCK.monotonic()

        def show(what: str, **figures: object) -> None:
            if progress:
                line = f"{what} " + " ".join(f"{k}={v}" for k, v in figures.items())
                print(f"[{CLOCK.monotonic() - began:7.1f} s] {line}", file=sys.stderr, flush=True)

        demo = Demo(Path(tmp), seed=seed, world=world, progress=show, batch_events=not naive)
        result = await demo.run()
        elapsed = CLOCK.monotonic() - began
    expected = count * (world.emails_per_target + world.calls_per_target)
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
        "peak_rss_mb": _peak_rss_mb(),
        "ok": result.probes == expected and not result.unaccounted and not result.mismatches,
    }


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
    args = parser.parse_args()
    if args.naive_give_up:
        Runner._give_up = _give_up_naive  # type: ignore[method-assign]
    count = 3 if args.quick else args.municipalities
    figures = asyncio.run(run(count, args.seed, naive=args.naive, progress=args.progress))
    print(
        json.dumps(
            {
                "benchmark": "national_run",
                "naive_event_loop": args.naive,
                "naive_give_up": args.naive_give_up,
                "seed": args.seed,
                "target": "every probe accounted for, every score equal to the truth",
                **figures,
            }
        )
    )
    if not figures["ok"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
