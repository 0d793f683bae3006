"""The report renderer (results.report) on hand-made data: escaping, numbers, empty channels."""

from __future__ import annotations

import re
import tomllib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from harness.core.labels import AREAS as REPORT_AREAS
from harness.core.scenario import AREAS
from results.calendar import WorkCalendar
from results.reference import bundled
from results.report import EvidenceLine, OtherLine, ReportData, render
from results.scoring import Evidence, ScoringRules, score

ROOT = Path(__file__).resolve().parents[2]

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


def _section(html: str, title: str) -> str:
    """The measure's own section (heading, chart, table) of the report."""
    return html.split(f"<h3>{title}</h3>", 1)[1].split("</section>", 1)[0]


def test_values_counts_and_intervals_are_the_scores():
    evidence = [_email("2380", i, i < 5) for i in range(8)]  # 5 of 8: 62.5 -> 63
    html = render(_data(evidence), "sv")
    section = _section(html, "Andel som får svar på e-post inom en arbetsdag")
    row = re.search(r"2380 Östersund.*?</tr>", section)
    assert row is not None
    assert '<td class="num">63</td><td class="num">5/8</td>' in row.group(0)
    assert "30,6–86,3" in row.group(0)  # Wilson interval with a decimal comma in Swedish
    # The summary has the same value and count in the municipality's row.
    summary = html.split('<table class="summary">', 1)[1].split("</table>", 1)[0]
    row = re.search(r"2380 Östersund.*?</tr>", summary)
    assert row is not None
    assert '<td class="num">63\u00a0%<span class="sub">5/8</span></td>' in row.group(0)
    english = render(_data(evidence), "en")
    assert "30.6–86.3" in english


def test_bemotande_is_shown_as_points_and_empty_channels_say_so():
    calls = [
        Evidence("2380", "phone", str(10 + i), SENT, mode="bridged", outcome="person",
                 person_at=SENT + timedelta(seconds=30), direct_answer=True, bemotande=b)
        for i, b in enumerate([3, 3, 3, 3, 2, 2, 2, 2, 1, 1])
    ]  # fmt: skip
    html = render(_data(calls, samples={"phone": (10, 10)}), "sv")
    # The published example: 4 mycket god, 4 god, 2 medelgod -> 22 of 30 points -> 73, shown as
    # points of the maximum with the number of calls, in the measure's table and the summary.
    assert '<td class="num">73</td><td class="num">22 av 30 poäng, 10 samtal</td>' in html
    nbsp = "\u00a0"
    assert f"22{nbsp}av{nbsp}30{nbsp}poäng, 10{nbsp}samtal" in html.split("</table>", 1)[0]
    assert "22/10" not in html
    assert "22/30" not in html
    email_section = html.split("Andel som får svar på e-post inom en arbetsdag", 1)[1][:200]
    assert "Inga mätningar i den här kanalen." in email_section


def test_other_measures_and_the_method_are_listed():
    other = [OtherLine("2380", "opening_hours_outside_office_total", 31.5, "scenario")]
    html = render(_data([_email("2380", 1, True)], other=other), "sv")
    assert "<h2>Andra tillgänglighetsmått</h2>" in html
    assert "31,5 h/vecka" in html
    assert "öppettider i scenariot" in html
    # Settings by label, the key and the code beside them.
    assert (
        '<th scope="row">Regel för en arbetsdag <span class="code">email.deadline_rule</span>'
        "</th><td>9 timmars kontorstid efter frågan (office_hours)</td>"
    ) in html


def test_a_national_network_is_drawn_ranked_without_names():
    codes = [f"{i:04d}" for i in range(1, 61)]
    evidence = [_email(code, i, i % 3 != 0) for i, code in enumerate(codes)]
    html = render(_data(evidence, targets={c: f"Kommun {c}" for c in codes}), "en")
    chart = html.split('data-chart="interval-email_within_1_working_day"', 1)[1]
    chart = chart.split("</svg>", 1)[0]
    assert "Kommun 0001" not in chart  # 60 rows: ranked, unlabelled
    assert ">60<" in chart  # the count of municipalities on the axis
    # The measure's table still names every one, and so does the summary.
    section = _section(html, "E-mails answered within one working day")
    assert all(f'<th scope="row">{c} Kommun {c}</th>' in section for c in codes)
    summary = html.split('<table class="summary">', 1)[1].split("</table>", 1)[0]
    assert all(f'<th scope="row">{c} Kommun {c}</th>' in summary for c in codes)


def _network() -> ReportData:
    """Four municipalities: e-mail answered 8, 6, 4 and 2 of 8; calls with points; areas."""
    evidence = []
    names = {"2380": "Östersund", "2309": "Krokom", "2321": "Åre", "2326": "Berg"}
    for k, (code, answered) in enumerate(zip(names, (8, 6, 4, 2), strict=True)):
        evidence += [_email(code, 100 * k + i, i < answered) for i in range(8)]
        evidence += [
            Evidence(code, "phone", str(100 * k + 50 + i), SENT, mode="bridged",
                     outcome="person" if i else "busy", person_at=SENT + timedelta(seconds=20)
                     if i else None, direct_answer=bool(i % 2) if i else None,
                     bemotande=(i + k) % 4 if i else None)
            for i in range(4)
        ]  # fmt: skip
    data = _data(evidence, targets=names, national=bundled())
    return data


def test_the_summary_comes_first_one_row_per_municipality_with_network_and_country():
    html = render(_network(), "sv")
    assert html.index("<h2>Sammanfattning per kommun</h2>") < html.index("<h2>Resultat per mått")
    summary = html.split('<table class="summary">', 1)[1].split("</table>", 1)[0]
    body, foot = summary.split("<tfoot>")
    # Names in Swedish order (Å after the rest), code beside; every measure of the edition.
    rows = re.findall(r'<tr><th scope="row">([^<]+)</th>', body)
    assert rows == ["2326 Berg", "2309 Krokom", "2321 Åre", "2380 Östersund"]
    heads = re.findall(r'<th scope="col"[^>]*>([^<]+)</th>', summary)
    assert heads == [
        "Kommun",
        "E-post inom en arbetsdag",
        "Direkt svar i telefon",
        "Bemötande (andel av maxpoäng)",
        "Person inom 60 s",
        "Person inom 120 s",
    ]
    # Colours by quartile, named in the cell: 100 green, 75 and 50 yellow, 25 red.
    berg = re.search(r"2326 Berg</th>(.*?)</tr>", body)
    ostersund = re.search(r"2380 Östersund</th>(.*?)</tr>", body)
    assert berg
    assert ostersund
    assert berg.group(1).startswith('<td class="num red">25\u00a0% <span class="tag">röd</span>')
    assert ostersund.group(1).startswith(
        '<td class="num green">100\u00a0% <span class="tag">grön</span><span class="sub">8/8'
    )
    # The network mean and the national figure (bundled: 2019, 84) close the table.
    network = re.search(r'<tr><th scope="row">Nätverkets medel</th>(.*?)</tr>', foot)
    national = re.search(r'<tr><th scope="row">Riket</th>(.*?)</tr>', foot)
    assert network
    assert national
    assert network.group(1).startswith('<td class="num">62,5\u00a0%</td>')
    assert national.group(1).startswith(
        '<td class="num">84\u00a0%<span class="sub">2019, deltagarnas medel</span></td>'
    )


def test_names_not_codes_in_the_appendix_areas_and_outcomes():
    html = render(_network(), "sv")
    appendix = html.split("<h2>Bilaga: alla mätningar</h2>", 1)[1]
    assert "<td>2380 Östersund</td><td>E-post</td><td>Bygglov</td>" in appendix
    assert "<td>person nådd</td><td>ja, " in appendix
    assert "<td>upptaget</td>" in appendix
    for code in (">email<", ">phone<", ">bygglov<", ">within<", ">none<", ">busy<", ">person<"):
        assert code not in html, code
    english = render(_network(), "en")
    assert "<td>2380 Östersund</td><td>E-mail</td><td>Building permits</td>" in english


def test_every_chart_is_named_by_its_caption():
    html = render(_network(), "sv")
    charts = re.findall(r"<svg ([^>]*)>", html)
    assert len(charts) >= 8
    for attributes in charts:
        assert 'role="img"' in attributes
        label = re.search(r'aria-labelledby="([^"]+)"', attributes)
        assert label is not None, attributes
        caption = re.search(rf'<figcaption id="{label.group(1)}">([^<]+)</figcaption>', html)
        assert caption is not None, label.group(1)
        assert len(caption.group(1)) > 40, label.group(1)
    assert len(set(re.findall(r'aria-labelledby="([^"]+)"', html))) == len(charts)


def test_one_colour_one_meaning_in_the_outcome_chart():
    html = render(_network(), "sv")
    svg = html.split('data-chart="outcomes"', 1)[1].split("</svg>", 1)[0]
    # E-mail's and the phone's "no answer" are one outcome: one legend entry, one colour (the
    # chart used to list "inget svar" twice, in two colours, and share colours between
    # outcomes of the two channels).
    labels = ["svar inom en arbetsdag", "person nådd", "inget svar", "upptaget"]
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    assert [t for t in texts if not t.isdigit()][-len(labels) :] == labels
    assert all(texts.count(label) == 1 for label in labels)
    fills = set(re.findall(r"fill: ?(#[0-9a-f]{6})", svg)) - {"#ffffff"}
    assert len(fills) == len(labels)


def test_the_print_layout_is_a4_with_tables_and_figures_kept_whole():
    html = render(_network(), "sv")
    assert "@page{size:A4" in html
    assert "table,figure,.keep{break-inside:avoid}" in html
    assert "thead{display:table-header-group}" in html


def test_area_labels_are_the_question_banks_titles():
    # The report names areas as the question bank does (scenarios/questions/*.toml), with an
    # English label for each; every area a scenario may use has both.
    titles = {}
    for path in sorted((ROOT / "scenarios" / "questions").glob("*.toml")):
        bank = tomllib.loads(path.read_text(encoding="utf-8"))
        titles[bank["area"]] = bank["title"]
    assert set(titles) == set(AREAS) == set(REPORT_AREAS)
    assert {area: REPORT_AREAS[area].sv for area in AREAS} == titles
    assert all(REPORT_AREAS[area].en for area in AREAS)


def test_edition_2011_says_where_it_was_approximated():
    """Issue 18: a call counted without the case officer mark or the three-level scale is
    named as an approximation under its value; one measured as defined is not."""
    person = SENT + timedelta(seconds=20)
    calls = [
        Evidence("2380", "phone", "1", SENT, None, False, "bridged", "person", person, True, 3),
        Evidence("2380", "phone", "2", SENT, None, False, "bridged", "person", person, True, 2,
                 case_officer=True, bemotande_2011=2),
    ]  # fmt: skip
    scores = score(calls, ScoringRules(edition="2011", calendar=WorkCalendar()))
    page = render(_data(calls, edition="2011", scores=scores), "sv")
    assert "1 samtal räknade med närmevärde (utan 2011 års markering eller skala)" in page
