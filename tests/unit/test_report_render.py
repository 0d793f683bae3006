"""The report renderer (results.report) on hand-made data: escaping, numbers, empty channels."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from results.calendar import WorkCalendar
from results.report import EvidenceLine, OtherLine, ReportData, render
from results.scoring import Evidence, ScoringRules, score

SENT = datetime(2026, 10, 6, 8, 0, tzinfo=UTC)


def _data(evidence: list[Evidence], **changes: object) -> ReportData:
    lines = [
        EvidenceLine(
            probe_id=int(e.probe_id),
            kommunkod=e.kommunkod,
            channel=e.channel,
            area="bygglov",
            sent_at=e.sent_at,
            answered_at=e.answered_at or e.person_at,
            category=(e.outcome or "pending") if e.channel == "phone" else (
                "within" if e.answered_at else "none"),
            business_hours=2.0 if e.answered_at else None,
            seconds_to_person=(e.person_at - e.sent_at).total_seconds() if e.person_at else None,
            direct_answer=e.direct_answer,
            bemotande=e.bemotande,
        )
        for e in evidence
    ]  # fmt: skip
    values: dict[str, object] = {
        "campaign": "Höst <2026> & co",
        "year": 2026,
        "edition": "2018",
        "period_start": date(2026, 10, 5),
        "period_end": date(2026, 11, 13),
        "generated_at": SENT,
        "timezone": "Europe/Stockholm",
        "targets": {"2380": "Östersund <script>alert(1)</script>", "2309": "Krokom"},
        "scores": score(evidence, ScoringRules(calendar=WorkCalendar())),
        "national": (),
        "evidence": lines,
        "settings": [("email.deadline_rule", "office_hours")],
        "samples": {"email": (4, 4)},
    }
    values.update(changes)
    return ReportData(**values)  # type: ignore[arg-type]


def _email(k: str, pid: int, answered: bool) -> Evidence:
    return Evidence(k, "email", str(pid), SENT, SENT + timedelta(hours=2) if answered else None)


def test_every_text_from_the_data_is_escaped():
    html = render(_data([_email("2380", 1, True), _email("2309", 2, False)]))
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<title>KKiK-mätning: Höst &lt;2026&gt; &amp; co</title>" in html


def test_values_counts_and_intervals_are_the_scores():
    evidence = [_email("2380", i, i < 5) for i in range(8)]  # 5 of 8: 62.5 -> 63
    html = render(_data(evidence), "sv")
    row = re.search(r"2380 Östersund.*?</tr>", html)
    assert row is not None
    assert '<td class="num">63</td><td class="num">5/8</td>' in row.group(0)
    assert "30,6–86,3" in row.group(0)  # Wilson interval with a decimal comma in Swedish
    english = render(_data(evidence), "en")
    assert "30.6–86.3" in english


def test_bemotande_is_shown_as_points_and_empty_channels_say_so():
    calls = [
        Evidence("2380", "phone", str(10 + i), SENT, mode="bridged", outcome="person",
                 person_at=SENT + timedelta(seconds=30), direct_answer=True, bemotande=b)
        for i, b in enumerate([3, 3, 3, 3, 2, 2, 2, 2, 1, 1])
    ]  # fmt: skip
    html = render(_data(calls, samples={"phone": (10, 10)}), "sv")
    # The published example: 4 mycket god, 4 god, 2 medelgod -> 22 of 30 points -> 73.
    assert '<td class="num">73</td><td class="num">22 av 30 poäng</td>' in html
    email_section = html.split("Andel som får svar på e-post inom en arbetsdag", 1)[1][:200]
    assert "Inga mätningar i den här kanalen." in email_section


def test_other_measures_and_the_method_are_listed():
    other = [OtherLine("2380", "opening_hours_outside_office_total", 31.5, "scenario")]
    html = render(_data([_email("2380", 1, True)], other=other), "sv")
    assert "<h2>Andra tillgänglighetsmått</h2>" in html
    assert "31,5 h/vecka" in html
    assert "öppettider i scenariot" in html
    assert "<td>email.deadline_rule</td><td>office_hours</td>" in html


def test_a_national_network_is_drawn_ranked_without_names():
    codes = [f"{i:04d}" for i in range(1, 61)]
    evidence = [_email(code, i, i % 3 != 0) for i, code in enumerate(codes)]
    html = render(_data(evidence, targets={c: f"Kommun {c}" for c in codes}), "en")
    chart = html.split('data-chart="interval-email_within_1_working_day"', 1)[1]
    chart = chart.split("</svg>", 1)[0]
    assert "Kommun 0001" not in chart  # 60 rows: ranked, unlabelled
    assert ">60<" in chart  # the count of municipalities on the axis
    assert html.count("<tr><td>00") >= 60  # the table still names every one
