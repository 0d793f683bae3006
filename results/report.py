"""The campaign report: one self-contained HTML file a quality controller can mail to the board.

Pure: :class:`ReportData` in (gathered from the database by :mod:`harness.campaign.reportdata`),
HTML text
out. No external assets: the CSS is inline, the charts are inline SVG from :mod:`results.charts`,
there is no script. Every text from the data is escaped.

Sections: summary per measure (value, n, 95% interval, network colour, national figure) with an
interval chart per measure; e-mail business-hours-to-answer distribution with the one-day line;
phone time-to-person distribution with the 60 s and 120 s lines; outcome breakdown; results per
question area; trend over earlier campaigns when there are any; other accessibility measures;
method (every setting used, sample sizes); evidence appendix (one row per probe, no personal
data).
"""

from __future__ import annotations

import html
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from harness.core.i18n import Lang, Text
from results import charts
from results.measures import MEASURES, OTHER_MEASURES
from results.reference import Reference, reference_for
from results.scoring import Comparison, Score, compare

T = {
    "title": Text("KKiK-mätning: {name}", "KKiK measurement: {name}"),
    "lead": Text(
        "{n} kommuner, {start} – {end}, utgåva {edition}. Skapad {at}.",
        "{n} municipalities, {start} – {end}, edition {edition}. Generated {at}.",
    ),
    "summary": Text("Sammanfattning per mått", "Summary per measure"),
    "kommun": Text("Kommun", "Municipality"),
    "value": Text("Värde", "Value"),
    "share": Text("Antal", "Count"),
    "interval": Text("95 % intervall", "95% interval"),
    "colour": Text("Jämförelse", "Comparison"),
    "waiting": Text("väntar på bedömning", "awaiting assessment"),
    "faults": Text("mätfel (uteslutna)", "harness faults (excluded)"),
    "network": Text("Nätverkets medel", "Network mean"),
    "national": Text("Riket", "National"),
    "national_row": Text("Riket {year}: {value} ({kind})", "National {year}: {value} ({kind})"),
    "participant_mean": Text("deltagarnas medel", "participants' mean"),
    "vendor_mean": Text("mätföretagets medel", "the vendor's mean"),
    "points": Text("{points} av {max} poäng", "{points} of {max} points"),
    "no_probes": Text("Inga mätningar i den här kanalen.", "No probes in this channel."),
    "no_value": Text("–", "–"),
    "green": Text("grön", "green"),
    "yellow": Text("gul", "yellow"),
    "red": Text("röd", "red"),
    "percent": Text("procent", "percent"),
    "email_dist": Text("E-post: arbetstid till svar", "E-mail: business hours to answer"),
    "email_dist_x": Text(
        "arbetstimmar (08–17 på arbetsdagar)", "business hours (08–17 on working days)"
    ),
    "one_day": Text("en arbetsdag", "one working day"),
    "unanswered": Text(
        "{n} e-postfrågor utan svar visas inte.", "{n} e-mails without an answer are not shown."
    ),
    "beyond_hours": Text("längre samlas i sista stapeln", "longer in the last bar"),
    "count": Text("antal", "count"),
    "phone_dist": Text("Telefon: tid tills en person svarar", "Phone: time until a person answers"),
    "phone_dist_x": Text("sekunder från uppringning", "seconds from dialling"),
    "beyond_seconds": Text("längre samlas i sista stapeln", "longer in the last bar"),
    "no_person_calls": Text(
        "{n} samtal nådde ingen person och visas inte.",
        "{n} calls reached no person and are not shown.",
    ),
    "outcomes": Text("Utfall", "Outcomes"),
    "probes": Text("mätningar", "probes"),
    "email": Text("E-post", "E-mail"),
    "phone": Text("Telefon", "Phone"),
    "o_within": Text("svar inom en arbetsdag", "answered within one working day"),
    "o_later": Text("svar senare", "answered later"),
    "o_none": Text("inget svar", "no answer"),
    "o_fault": Text("mätfel", "harness fault"),
    "o_person": Text("person nådd", "person reached"),
    "o_no_person": Text("ingen person", "no person"),
    "o_no_answer": Text("inget svar", "no answer"),
    "o_busy": Text("upptaget", "busy"),
    "o_pending": Text("pågår", "pending"),
    "areas": Text("Resultat per frågeområde", "Results per question area"),
    "area": Text("Område", "Area"),
    "area_email": Text("E-post inom en arbetsdag", "E-mail within one working day"),
    "area_phone": Text("Direkt svar i telefon", "Direct answer by phone"),
    "trend": Text(
        "Utveckling över kampanjer (nätverkets medel)", "Trend over campaigns (network mean)"
    ),
    "other": Text("Andra tillgänglighetsmått", "Other accessibility measures"),
    "measure": Text("Mått", "Measure"),
    "unit_hours_per_week": Text("h/vecka", "h/week"),
    "unit_percent": Text("%", "%"),
    "unit_days": Text("dagar", "days"),
    "source_scenario": Text("öppettider i scenariot", "opening hours in the scenario"),
    "source_manual": Text("inmatat", "entered by hand"),
    "source": Text("Källa", "Source"),
    "method": Text("Metod och inställningar", "Method and settings"),
    "method_text": Text(
        "Mätningen följer KKiK:s metod: en enkel fråga per e-post och per telefon. E-postsvar "
        "räknas från när vår server tog emot frågan till när svaret kom fram till vår "
        "e-postserver, i arbetstid (08–17 på svenska arbetsdagar). Procent avrundas till hela tal "
        "(0,5 uppåt) och visas med antal och ett 95 % Wilson-intervall. Mätfel på vår sida "
        "räknas inte och ersätts med nya mätningar.",
        "The measurement follows the KKiK method: one simple question by e-mail and by phone. "
        "E-mail replies are timed from our server's acceptance of the question to the reply's "
        "arrival at our mail server, in business time (08–17 on Swedish working days). "
        "Percentages are rounded to whole numbers (half up) and shown with counts and a 95% "
        "Wilson interval. Faults on our side do not count and are replaced by new probes.",
    ),
    "setting": Text("Inställning", "Setting"),
    "samples": Text("Urval", "Sample sizes"),
    "planned": Text("planerade", "planned"),
    "placed": Text("skickade/ringda", "sent/placed"),
    "evidence": Text("Bilaga: alla mätningar", "Appendix: every probe"),
    "channel": Text("Kanal", "Channel"),
    "sent": Text("Skickad/uppringd", "Sent/dialled"),
    "answer": Text("Svar/person", "Answer/person"),
    "result": Text("Resultat", "Result"),
    "time": Text("Tid", "Time"),
}
EMAIL_ORDER = [
    ("within", "o_within", "#2e7d32"),
    ("later", "o_later", "#f9a825"),
    ("none", "o_none", "#c62828"),
    ("fault", "o_fault", "#90a4ae"),
]
PHONE_ORDER = [
    ("person", "o_person", "#2e7d32"),
    ("no_person", "o_no_person", "#f9a825"),
    ("no_answer", "o_no_answer", "#ef6c00"),
    ("busy", "o_busy", "#c62828"),
    ("failed", "o_fault", "#90a4ae"),
    ("pending", "o_pending", "#cfd8dc"),
]
CSS = """
body{font-family:"DejaVu Sans",Arial,sans-serif;margin:2rem auto;max-width:60rem;color:#222;
line-height:1.4;padding:0 1rem}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2.2rem;border-bottom:1px solid #ccc}
h3{font-size:1.05rem}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.85rem}
th,td{border-bottom:1px solid #e0e0e0;padding:.2rem .5rem;text-align:left;vertical-align:top}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.green{background:#c8e6c9}.yellow{background:#fff9c4}.red{background:#ffcdd2}
figure.chart{margin:.5rem 0 1.5rem}figure.chart svg{max-width:100%;height:auto}
.note{color:#555;font-size:.85rem}
@media print{h2{break-before:auto}figure.chart{break-inside:avoid}}
"""


@dataclass(frozen=True)
class EvidenceLine:
    """One probe in the appendix and the distributions; no personal data."""

    probe_id: int
    kommunkod: str
    channel: str
    area: str | None
    sent_at: datetime
    answered_at: datetime | None  # e-mail: the counting answer; phone: person reached
    category: str  # email: within|later|none|fault; phone: person|no_person|...|pending
    business_hours: float | None = None  # e-mail: office time to the answer
    seconds_to_person: float | None = None  # phone: dial to person
    direct_answer: bool | None = None
    bemotande: int | None = None


@dataclass(frozen=True)
class OtherLine:
    """A reported (not scored) measure: opening hours from the scenario, or entered by hand."""

    kommunkod: str
    measure_id: str
    value: float
    source: str  # scenario | manual


@dataclass(frozen=True)
class ReportData:
    campaign: str
    year: int
    edition: str
    period_start: date
    period_end: date
    generated_at: datetime
    timezone: str
    targets: Mapping[str, str]  # kommunkod -> name
    scores: Sequence[Score]
    national: Sequence[Reference]
    evidence: Sequence[EvidenceLine]
    settings: Sequence[tuple[str, str]]
    samples: Mapping[str, tuple[int, int]]  # channel -> (planned, placed)
    trend: Mapping[str, Sequence[tuple[int, float]]] = field(default_factory=dict)
    other: Sequence[OtherLine] = ()


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _local(value: datetime | None, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M") if value else "–"


def _num(value: float, lang: Lang, digits: int = 1) -> str:
    text = f"{value:.{digits}f}"
    return text.replace(".", ",") if lang == "sv" else text


def render(data: ReportData, lang: Lang = "sv") -> str:
    """The whole report as one HTML document."""
    t = {k: v(lang) for k, v in T.items()}
    zone = ZoneInfo(data.timezone)
    comparison = compare(list(data.scores))
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{lang}"><head><meta charset="utf-8">',
        f"<title>{_e(T['title'](lang, name=data.campaign))}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>{_e(T['title'](lang, name=data.campaign))}</h1>",
        "<p>"
        + _e(
            T["lead"](
                lang,
                n=len(data.targets),
                start=data.period_start.isoformat(),
                end=data.period_end.isoformat(),
                edition=data.edition,
                at=_local(data.generated_at, zone),
            )
        )
        + "</p>",
    ]
    parts += _charted(data, comparison, lang, t)
    parts += _other(data, lang, t)
    parts += _method(data, t)
    parts += _appendix(data, zone, lang, t)
    parts.append("</body></html>")
    return "\n".join(parts)


def figures(data: ReportData, lang: Lang = "sv") -> list[tuple[str, str]]:
    """Every chart of the report as (the heading it stands under, its SVG), in report order.

    The dashboard's overview shows these; they are drawn by the same code as the report's.
    """
    t = {k: v(lang) for k, v in T.items()}
    found: list[tuple[str, str]] = []
    heading = ""
    for part in _charted(data, compare(list(data.scores)), lang, t):
        if part.startswith(("<h2>", "<h3>")):
            heading = html.unescape(part[4 : part.index("</h")])
        elif part.startswith(FIGURE_OPEN):
            found.append((heading, part[len(FIGURE_OPEN) : -len(FIGURE_CLOSE)]))
    return found


def _charted(
    data: ReportData, comparison: Mapping[str, Comparison], lang: Lang, t: Mapping[str, str]
) -> list[str]:
    """The report's sections that carry charts: summary, distributions, outcomes, areas, trend."""
    parts = _summary(data, comparison, lang, t)
    parts += _distributions(data, lang, t)
    parts += _outcomes(data, t)
    parts += _areas(data, t)
    if len(data.trend) and any(len(points) > 1 for points in data.trend.values()):
        parts.append(f"<h2>{_e(t['trend'])}</h2>")
        series = {_title(m, lang): points for m, points in data.trend.items()}
        parts.append(
            _figure(charts.trend_chart("trend", series, title=t["trend"], ylabel=t["percent"]))
        )
    return parts


def _title(measure_id: str, lang: Lang) -> str:
    measure = MEASURES.get(measure_id)
    if measure is None:
        return measure_id
    return measure.title_sv if lang == "sv" else measure.title_en


FIGURE_OPEN = '<figure class="chart">'
FIGURE_CLOSE = "</figure>"


def _figure(svg: str) -> str:
    return f"{FIGURE_OPEN}{svg}{FIGURE_CLOSE}"


def _summary(
    data: ReportData, comparison: Mapping[str, Comparison], lang: Lang, t: Mapping[str, str]
) -> list[str]:
    out = [f"<h2>{_e(t['summary'])}</h2>"]
    by_measure: dict[str, list[Score]] = defaultdict(list)
    for s in data.scores:
        by_measure[s.measure_id].append(s)
    for measure_id, scores in by_measure.items():
        title = _title(measure_id, lang)
        if not any(s.denominator or s.awaiting_assessment for s in scores):
            out.append(f"<h3>{_e(title)}</h3>")
            out.append(f'<p class="note">{_e(t["no_probes"])}</p>')
            continue
        points = MEASURES[measure_id].kind == "points" if measure_id in MEASURES else False
        c = comparison.get(measure_id)
        national = reference_for(measure_id, data.year, tuple(data.national))
        out.append(f"<h3>{_e(title)}</h3>")
        facts = []
        if c is not None and c.mean is not None:
            facts.append(f"{t['network']}: {_num(c.mean, lang)}")
        if national is not None:
            kind = T[national.kind](lang) if national.kind in T else national.kind
            facts.append(
                T["national_row"](lang, year=national.year, value=national.value, kind=kind)
            )
        if facts:
            out.append(f'<p class="note">{_e(" · ".join(facts))}</p>')
        colours = c.colours if c is not None and c.municipalities > 1 else {}
        out.append(
            f"<table><tr><th>{_e(t['kommun'])}</th><th>{_e(t['value'])}</th>"
            f"<th>{_e(t['share'])}</th><th>{_e(t['interval'])}</th>"
            f"<th>{_e(t['colour'])}</th></tr>"
        )
        rows = []
        for s in sorted(
            scores, key=lambda s: (-(s.value if s.value is not None else -1), s.kommunkod)
        ):
            name = data.targets.get(s.kommunkod, s.kommunkod)
            colour = colours.get(s.kommunkod)
            value = "–" if s.value is None else str(s.value)
            interval = (
                "–"
                if s.ci_low is None or s.ci_high is None
                else f"{_num(s.ci_low, lang)}–{_num(s.ci_high, lang)}"
            )
            notes = []
            if s.awaiting_assessment:
                notes.append(f"{s.awaiting_assessment} {t['waiting']}")
            if s.excluded_faults:
                notes.append(f"{s.excluded_faults} {t['faults']}")
            extra = f' <span class="note">({_e(", ".join(notes))})</span>' if notes else ""
            css = f' class="{colour}"' if colour else ""
            count = (
                T["points"](lang, points=s.numerator, max=3 * s.denominator)
                if points
                else f"{s.numerator}/{s.denominator}"
            )
            out.append(
                f'<tr><td>{_e(s.kommunkod)} {_e(name)}</td><td class="num">{_e(value)}</td>'
                f'<td class="num">{_e(count)}{extra}</td>'
                f'<td class="num">{_e(interval)}</td>'
                f"<td{css}>{_e(t[colour]) if colour else ''}</td></tr>"
            )
            rows.append(
                charts.IntervalRow(f"{s.kommunkod} {name}", s.value, s.ci_low, s.ci_high, colour)
            )
        out.append("</table>")
        if any(r.value is not None for r in rows):
            svg = charts.interval_chart(
                f"interval-{measure_id}",
                rows,
                title=title,
                xlabel=t["percent"],
                network_mean=c.mean if c is not None else None,
                national=national.value if national is not None else None,
                network_label=t["network"],
                national_label=t["national"],
            )
            out.append(_figure(svg))
    return out


def _distributions(data: ReportData, lang: Lang, t: Mapping[str, str]) -> list[str]:
    out: list[str] = []
    emails = [e for e in data.evidence if e.channel == "email" and e.category != "fault"]
    hours = [e.business_hours for e in emails if e.business_hours is not None]
    if emails:
        out.append(f"<h2>{_e(t['email_dist'])}</h2>")
        if hours:
            svg = charts.histogram(
                "email-hours",
                hours,
                bins=[float(h) for h in range(0, 28)],
                title=t["email_dist"],
                xlabel=t["email_dist_x"],
                ylabel=t["count"],
                lines=[(9.0, t["one_day"])],
                beyond_label=t["beyond_hours"],
            )
            out.append(_figure(svg))
        missing = len(emails) - len(hours)
        if missing:
            out.append(f'<p class="note">{_e(T["unanswered"](lang, n=missing))}</p>')
    calls = [e for e in data.evidence if e.channel == "phone" and e.category != "failed"]
    seconds = [e.seconds_to_person for e in calls if e.seconds_to_person is not None]
    if calls:
        out.append(f"<h2>{_e(t['phone_dist'])}</h2>")
        if seconds:
            svg = charts.histogram(
                "phone-seconds",
                seconds,
                bins=[float(s) for s in range(0, 301, 10)],
                title=t["phone_dist"],
                xlabel=t["phone_dist_x"],
                ylabel=t["count"],
                lines=[(60.0, "60 s"), (120.0, "120 s")],
                beyond_label=t["beyond_seconds"],
            )
            out.append(_figure(svg))
        missing = len(calls) - len(seconds)
        if missing:
            out.append(f'<p class="note">{_e(T["no_person_calls"](lang, n=missing))}</p>')
    return out


def _outcomes(data: ReportData, t: Mapping[str, str]) -> list[str]:
    counts: dict[str, Counter[str]] = {"email": Counter(), "phone": Counter()}
    for e in data.evidence:
        counts[e.channel][e.category] += 1
    rows = {t[ch]: counts[ch] for ch in ("email", "phone") if counts[ch]}
    if not rows:
        return []
    out = [f"<h2>{_e(t['outcomes'])}</h2>"]
    table = [f"<table><tr><th>{_e(t['channel'])}</th><th>{_e(t['result'])}</th>"
             f"<th>{_e(t['share'])}</th></tr>"]  # fmt: skip
    for channel, order in (("email", EMAIL_ORDER), ("phone", PHONE_ORDER)):
        for key, label, _ in order:
            if counts[channel][key]:
                table.append(
                    f"<tr><td>{_e(t[channel])}</td><td>{_e(t[label])}</td>"
                    f'<td class="num">{counts[channel][key]}</td></tr>'
                )
    table.append("</table>")
    order = [(k, t[label], colour) for k, label, colour in EMAIL_ORDER + PHONE_ORDER]
    seen: set[str] = set()
    unique = [o for o in order if not (o[0] in seen or seen.add(o[0]))]  # type: ignore[func-returns-value]
    # "none"/"no_answer" etc. differ per channel; each bar only has its own keys.
    svg = charts.stacked_bars(
        "outcomes", rows, order=unique, title=t["outcomes"], xlabel=t["probes"]
    )
    return [*out, _figure(svg), *table]


def _areas(data: ReportData, t: Mapping[str, str]) -> list[str]:
    email: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    phone: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for e in data.evidence:
        if e.area is None:
            continue
        if e.channel == "email" and e.category != "fault":
            email[e.area][1] += 1
            email[e.area][0] += e.category == "within"
        elif e.channel == "phone" and e.category not in ("failed", "pending"):
            if e.category == "person" and e.direct_answer is None:
                continue  # awaiting assessment: no verdict yet
            phone[e.area][1] += 1
            phone[e.area][0] += bool(e.direct_answer)
    areas = sorted(set(email) | set(phone))
    if not areas:
        return []
    out = [f"<h2>{_e(t['areas'])}</h2>"]
    out.append(
        f"<table><tr><th>{_e(t['area'])}</th><th>{_e(t['area_email'])}</th>"
        f"<th>{_e(t['area_phone'])}</th></tr>"
    )

    def cell(counts: list[int] | None) -> str:
        if not counts or not counts[1]:
            return "–"
        return f"{round(100 * counts[0] / counts[1])} ({counts[0]}/{counts[1]})"

    for area in areas:
        out.append(
            f'<tr><td>{_e(area)}</td><td class="num">{_e(cell(email.get(area)))}</td>'
            f'<td class="num">{_e(cell(phone.get(area)))}</td></tr>'
        )
    out.append("</table>")
    bars = [(a, 100 * email[a][0] / email[a][1] if email.get(a) and email[a][1] else None)
            for a in areas]  # fmt: skip
    if any(v is not None for _, v in bars):
        svg = charts.bar_chart("areas-email", bars, title=t["area_email"], xlabel=t["percent"])
        out.append(_figure(svg))
    return out


def _other(data: ReportData, lang: Lang, t: Mapping[str, str]) -> list[str]:
    if not data.other:
        return []
    out = [f"<h2>{_e(t['other'])}</h2>"]
    out.append(
        f"<table><tr><th>{_e(t['kommun'])}</th><th>{_e(t['measure'])}</th>"
        f"<th>{_e(t['value'])}</th><th>{_e(t['source'])}</th></tr>"
    )
    order = list(OTHER_MEASURES)
    for o in sorted(data.other, key=lambda o: (o.kommunkod, _rank(order, o.measure_id))):
        name = data.targets.get(o.kommunkod, o.kommunkod)
        measure = OTHER_MEASURES.get(o.measure_id)
        title = o.measure_id
        unit = ""
        if measure is not None:
            title = measure.title_sv if lang == "sv" else measure.title_en
            unit = T[f"unit_{measure.unit}"](lang)
        source = T[f"source_{o.source}"](lang) if f"source_{o.source}" in T else o.source
        out.append(
            f"<tr><td>{_e(o.kommunkod)} {_e(name)}</td><td>{_e(title)}</td>"
            f'<td class="num">{_e(_num(o.value, lang))} {_e(unit)}</td>'
            f"<td>{_e(source)}</td></tr>"
        )
    out.append("</table>")
    return out


def _rank(order: list[str], measure_id: str) -> int:
    return order.index(measure_id) if measure_id in order else len(order)


def _method(data: ReportData, t: Mapping[str, str]) -> list[str]:
    out = [f"<h2>{_e(t['method'])}</h2>", f"<p>{_e(t['method_text'])}</p>"]
    out.append(f"<table><tr><th>{_e(t['setting'])}</th><th>{_e(t['value'])}</th></tr>")
    for name, value in data.settings:
        out.append(f"<tr><td>{_e(name)}</td><td>{_e(value)}</td></tr>")
    out.append("</table>")
    out.append(f"<h3>{_e(t['samples'])}</h3>")
    out.append(
        f"<table><tr><th>{_e(t['channel'])}</th><th>{_e(t['planned'])}</th>"
        f"<th>{_e(t['placed'])}</th></tr>"
    )
    for channel, (planned, placed) in data.samples.items():
        out.append(
            f'<tr><td>{_e(t.get(channel, channel))}</td><td class="num">{planned}</td>'
            f'<td class="num">{placed}</td></tr>'
        )
    out.append("</table>")
    return out


def _appendix(data: ReportData, zone: ZoneInfo, lang: Lang, t: Mapping[str, str]) -> list[str]:
    labels = {key: t[label] for key, label, _ in EMAIL_ORDER + PHONE_ORDER}
    out = [f"<h2>{_e(t['evidence'])}</h2>"]
    out.append(
        f"<table><tr><th>#</th><th>{_e(t['kommun'])}</th><th>{_e(t['channel'])}</th>"
        f"<th>{_e(t['area'])}</th><th>{_e(t['sent'])}</th><th>{_e(t['answer'])}</th>"
        f"<th>{_e(t['time'])}</th><th>{_e(t['result'])}</th></tr>"
    )
    for e in sorted(data.evidence, key=lambda e: (e.kommunkod, e.sent_at, e.probe_id)):
        if e.business_hours is not None:
            took = f"{_num(e.business_hours, lang)} h"
        elif e.seconds_to_person is not None:
            took = f"{e.seconds_to_person:.0f} s"
        else:
            took = "–"
        result = labels.get(e.category, e.category)
        if e.channel == "phone" and e.direct_answer is not None:
            result += (
                f", direkt svar: {'ja' if e.direct_answer else 'nej'}"
                if lang == "sv"
                else (f", direct answer: {'yes' if e.direct_answer else 'no'}")
            )
        out.append(
            f'<tr><td class="num">{e.probe_id}</td><td>{_e(e.kommunkod)}</td>'
            f"<td>{_e(t[e.channel])}</td><td>{_e(e.area or '–')}</td>"
            f"<td>{_local(e.sent_at, zone)}</td><td>{_local(e.answered_at, zone)}</td>"
            f'<td class="num">{_e(took)}</td><td>{_e(result)}</td></tr>'
        )
    out.append("</table>")
    return out
