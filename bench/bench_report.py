"""A report for a national campaign: 290 municipalities, 18 e-mails and 18 calls each (target:
under 10 s).

The evidence is synthetic but shaped like a real campaign (answers spread over days, calls
with every outcome, assessments); the pipeline is the real one: scoring, comparison, the
evidence lines with business hours, and the HTML with every chart drawn by matplotlib (an
interval chart of 290 rows per measure). Prints one JSON object.
"""

from __future__ import annotations

import json
import platform
import random
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from harness.core.clock import SystemClock
from harness.core.scenario import municipalities
from results.calendar import DeadlineRule, WorkCalendar
from results.reference import bundled
from results.report import EvidenceLine, ReportData, render
from results.scoring import Evidence, ScoringRules, score

CLOCK = SystemClock()
AREAS = ["bygglov", "forskola", "grundskola", "individ-och-familjeomsorg", "miljo-och-halsa",
         "gator-och-vagar", "aldreomsorg", "funktionsnedsattning", "kultur-och-fritid"]  # fmt: skip


def _evidence(rng: random.Random) -> tuple[list[Evidence], dict[int, str]]:
    start = datetime(2026, 10, 5, 7, 0, tzinfo=UTC)
    rows: list[Evidence] = []
    areas: dict[int, str] = {}
    pid = 0
    for code in sorted(municipalities()):
        for k in range(36):
            pid += 1
            areas[pid] = AREAS[k % 9]
            day = timedelta(days=rng.randrange(0, 40), hours=rng.randrange(2, 8))
            sent = start + day
            if k < 18:
                answered = (sent + timedelta(minutes=rng.randrange(5, 4000))
                            if rng.random() < 0.85 else None)  # fmt: skip
                rows.append(Evidence(code, "email", str(pid), sent, answered_at=answered))
                continue
            outcome = rng.choice(["person"] * 6 + ["busy", "no_answer", "no_person"])
            person = (
                sent + timedelta(seconds=rng.randrange(5, 240)) if outcome == "person" else None
            )
            rows.append(
                Evidence(code, "phone", str(pid), sent, mode="bridged", outcome=outcome,  # type: ignore[arg-type]
                         person_at=person,
                         direct_answer=rng.random() < 0.6 if person else None,
                         bemotande=rng.randrange(0, 4) if person else None)
            )  # fmt: skip
    return rows, areas


def main() -> dict[str, object]:
    rng = random.Random(2026)
    names = municipalities()
    evidence, areas = _evidence(rng)
    calendar = WorkCalendar()
    began = CLOCK.monotonic()
    scores = score(evidence, ScoringRules(calendar=calendar))
    scored = CLOCK.monotonic()
    lines = []
    for e in evidence:
        hours = within = None
        if e.channel == "email" and e.answered_at is not None:
            within = calendar.within(e.sent_at, e.answered_at, 1, DeadlineRule.OFFICE_HOURS)
            hours = calendar.business_seconds(e.sent_at, e.answered_at) / 3600
        category = (
            ("within" if within else "later" if e.answered_at else "none")
            if e.channel == "email"
            else e.outcome or "pending"
        )
        lines.append(
            EvidenceLine(
                probe_id=int(e.probe_id),
                kommunkod=e.kommunkod,
                channel=e.channel,
                area=areas[int(e.probe_id)],
                sent_at=e.sent_at,
                answered_at=e.answered_at or e.person_at,
                category=category,
                business_hours=hours,
                seconds_to_person=(e.person_at - e.sent_at).total_seconds()
                if e.person_at
                else None,
                direct_answer=e.direct_answer,
                bemotande=e.bemotande,
            )
        )
    gathered = CLOCK.monotonic()
    data = ReportData(
        campaign="KKiK hösten 2026 (alla kommuner)",
        year=2026,
        edition="2018",
        period_start=date(2026, 10, 5),
        period_end=date(2026, 11, 13),
        generated_at=datetime(2026, 11, 25, 9, 0, tzinfo=UTC),
        timezone="Europe/Stockholm",
        targets={code: names[code].name for code in names},
        scores=scores,
        national=bundled(),
        evidence=lines,
        settings=[("edition", "2018")],
        samples={"email": (5220, 5220), "phone": (5220, 5220)},
        trend={"email_within_1_working_day": [(2025, 61.0), (2026, 64.0)]},
    )
    html = render(data, "sv")
    rendered = CLOCK.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "report.html"
        path.write_text(html, encoding="utf-8")
        size = path.stat().st_size
    total = rendered - began
    return {
        "benchmark": "report",
        "python": platform.python_version(),
        "municipalities": len(names),
        "probes": len(evidence),
        "score_s": round(scored - began, 3),
        "evidence_lines_s": round(gathered - scored, 3),
        "render_s": round(rendered - gathered, 3),
        "total_s": round(total, 3),
        "charts": html.count("<svg data-chart="),
        "html_bytes": size,
        "target_s": 10,
        "meets_target": total < 10,
    }


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
