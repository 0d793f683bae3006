"""Scoring 1,000,000 evidence rows over 290 municipalities (target: under 3 s).

Half e-mail, half phone (bridged and automated), with distinct question times spread over a
six-week campaign; timed for both deadline rules, and against the naive approach of asking the
calendar ``within()`` for every e-mail row. Prints one JSON object.
"""

from __future__ import annotations

import json
import platform
import random
from datetime import UTC, datetime, timedelta

from harness.core.clock import SystemClock
from harness.core.scenario import municipalities
from results.calendar import DeadlineRule, WorkCalendar
from results.scoring import Evidence, ScoringRules, score

ROWS = 1_000_000
CLOCK = SystemClock()


def _rows(rng: random.Random) -> list[Evidence]:
    codes = sorted(municipalities())
    start = datetime(2026, 10, 5, 7, 0, tzinfo=UTC)
    rows = []
    for i in range(ROWS):
        sent = start + timedelta(seconds=rng.randrange(0, 40 * 86400))
        code = codes[i % len(codes)]
        if i % 2 == 0:
            answered = (
                sent + timedelta(minutes=rng.randrange(1, 5000)) if rng.random() < 0.9 else None
            )
            rows.append(Evidence(code, "email", str(i), sent, answered_at=answered))
        else:
            outcome = rng.choice(["person", "person", "person", "busy", "no_answer", "no_person"])
            person = (
                sent + timedelta(seconds=rng.randrange(5, 300)) if outcome == "person" else None
            )
            rows.append(
                Evidence(
                    code, "phone", str(i), sent,
                    mode=rng.choice(["bridged", "automated"]),
                    outcome=outcome,  # type: ignore[arg-type]
                    person_at=person,
                    direct_answer=rng.random() < 0.6 if outcome == "person" else None,
                    bemotande=rng.randrange(0, 4) if outcome == "person" else None,
                )
            )  # fmt: skip
    return rows


def main() -> None:
    rows = _rows(random.Random(2026))
    calendar = WorkCalendar()
    results = {}
    for rule in DeadlineRule:
        best = float("inf")
        for _ in range(3):
            began = CLOCK.monotonic()
            scores = score(rows, ScoringRules(calendar=calendar, deadline_rule=rule))
            best = min(best, CLOCK.monotonic() - began)
        results[rule.value] = {"seconds": round(best, 3), "scores": len(scores)}
    emails = [r for r in rows if r.channel == "email" and r.answered_at is not None][:50_000]
    began = CLOCK.monotonic()
    for r in emails:
        calendar.within(r.sent_at, r.answered_at, 1)  # type: ignore[arg-type]
    naive_per_row = (CLOCK.monotonic() - began) / len(emails)
    print(
        json.dumps(
            {
                "benchmark": "scoring",
                "python": platform.python_version(),
                "machine": platform.machine(),
                "rows": ROWS,
                "municipalities": 290,
                "results": results,
                "target_seconds": 3.0,
                "naive_within_per_email_row_us": round(naive_per_row * 1e6, 1),
                "naive_estimate_seconds_for_500000_email_rows": round(naive_per_row * 500_000, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
