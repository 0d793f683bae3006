"""How fast the working-time calendar decides "within one working day".

Scoring re-times every e-mail probe whenever a setting changes, so this is on the path of
re-scoring large campaigns (issue: scoring 1,000,000 rows). Prints one JSON object.
"""

from __future__ import annotations

import json
import platform
import random
from datetime import UTC, datetime, timedelta

from harness.core.clock import SystemClock
from results.calendar import DeadlineRule, WorkCalendar

N = 50_000


def main() -> None:
    rng = random.Random(2026)
    start = datetime(2026, 9, 1, tzinfo=UTC)
    pairs = []
    for _ in range(N):
        sent = start + timedelta(minutes=rng.randrange(0, 90 * 24 * 60))
        pairs.append((sent, sent + timedelta(minutes=rng.randrange(1, 10 * 24 * 60))))
    calendar = WorkCalendar()
    clock = SystemClock()
    results = {}
    for rule in DeadlineRule:
        began = clock.monotonic()
        within = sum(calendar.within(s, a, 1, rule) for s, a in pairs)
        elapsed = clock.monotonic() - began
        results[rule.value] = {
            "checks": N,
            "seconds": round(elapsed, 3),
            "checks_per_second": round(N / elapsed),
            "share_within": round(within / N, 4),
        }
    print(
        json.dumps(
            {
                "benchmark": "calendar_within",
                "python": platform.python_version(),
                "machine": platform.machine(),
                "results": results,
            }
        )
    )


if __name__ == "__main__":
    main()
