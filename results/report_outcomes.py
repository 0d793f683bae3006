"""The report's sections drawn from the probes one by one: how long answers took (e-mail in
business hours, calls in seconds to a person), what happened to every probe, results per question
area, and the network's trend over earlier campaigns.

Every chart comes with a table of the same figures (its text alternative, WCAG 1.1.1), and every
colour in a chart means one thing: in the outcome chart e-mail's "no answer" and the phone's "no
answer" are one outcome with one colour and one label.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence

from harness.core.i18n import Lang
from results import charts
from results.report_html import Cell, e, figure, num, swedish, table
from results.report_model import ReportData
from results.report_summary import measure_title
from results.report_texts import OUTCOME_OF, OUTCOMES, T, area_title, texts

#: One colour per outcome, in the order the bars stack: answers first, then the failures.
OUTCOME_COLOURS = {
    "within": charts.PALETTE[2],  # bluish green
    "later": charts.PALETTE[4],  # sky blue
    "person": charts.PALETTE[0],  # blue
    "no_person": charts.PALETTE[1],  # orange
    "no_answer": charts.PALETTE[5],  # vermilion
    "busy": charts.PALETTE[3],  # reddish purple
    "pending": "#bdbdbd",
    "fault": "#757575",
}
EMAIL_BANDS = (1.0, 3.0, 9.0, 18.0, 27.0)  # business hours; 9 = one working day
PHONE_BANDS = (30.0, 60.0, 120.0, 180.0, 300.0)  # seconds


def distributions(data: ReportData, lang: Lang) -> list[str]:
    t = texts(lang)
    out: list[str] = []
    emails = [x for x in data.evidence if x.channel == "email" and x.category != "fault"]
    hours = [x.business_hours for x in emails if x.business_hours is not None]
    if emails:
        out.append(f"<h2>{e(t['email_dist'])}</h2>")
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
            within = sum(h <= 9.0 for h in hours)
            caption = T["email_dist_caption"](
                lang, n=len(hours), median=num(statistics.median(hours), lang),
                within=within, share=round(100 * within / len(hours)),
            )  # fmt: skip
            out.append(figure(svg, caption))
            out.append(_bands(hours, EMAIL_BANDS, "h", lang))
        missing = len(emails) - len(hours)
        if missing:
            out.append(f'<p class="note">{e(T["unanswered"](lang, n=missing))}</p>')
    calls = [x for x in data.evidence if x.channel == "phone" and x.category != "failed"]
    seconds = [x.seconds_to_person for x in calls if x.seconds_to_person is not None]
    if calls:
        out.append(f"<h2>{e(t['phone_dist'])}</h2>")
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
            caption = T["phone_dist_caption"](
                lang, n=len(seconds), median=num(statistics.median(seconds), lang, 0),
                within60=sum(s <= 60 for s in seconds), within120=sum(s <= 120 for s in seconds),
            )  # fmt: skip
            out.append(figure(svg, caption))
            out.append(_bands(seconds, PHONE_BANDS, "s", lang))
        missing = len(calls) - len(seconds)
        if missing:
            out.append(f'<p class="note">{e(T["no_person_calls"](lang, n=missing))}</p>')
    return out


def _bands(values: Sequence[float], edges: Sequence[float], unit: str, lang: Lang) -> str:
    """A histogram's values in a few bands, as a table: the chart's figures in words. A value
    on an edge belongs to the band below it (9 h is within one working day)."""
    t = texts(lang)
    heads: list[str | tuple[str, str]] = [t["band"]]
    counts: list[Cell] = [(e(t["share"]), "")]
    shares: list[Cell] = [(e(t["pct"]), "")]
    low: float | None = None
    for high in [*edges, None]:
        if high is None:
            label = f"> {num(low or 0.0, lang, 0)} {unit}"
            n = sum(v > (low or 0.0) for v in values)
        elif low is None:
            label = f"≤ {num(high, lang, 0)} {unit}"
            n = sum(v <= high for v in values)
        else:
            label = f"{num(low, lang, 0)}–{num(high, lang, 0)} {unit}"
            n = sum(low < v <= high for v in values)
        heads.append((label, "num"))
        counts.append((str(n), "num"))
        shares.append((str(round(100 * n / len(values))), "num"))
        low = high
    return table(heads, [counts, shares], caption=t["bands_caption"], row_header=True)


def outcomes(data: ReportData, lang: Lang) -> list[str]:
    t = texts(lang)
    counts: dict[str, Counter[str]] = {"email": Counter(), "phone": Counter()}
    for x in data.evidence:
        counts[x.channel][OUTCOME_OF.get((x.channel, x.category), x.category)] += 1
    rows = {t[ch]: counts[ch] for ch in ("email", "phone") if counts[ch]}
    if not rows:
        return []
    order = [(key, OUTCOMES[key](lang), colour) for key, colour in OUTCOME_COLOURS.items()]
    used = [o for o in order if any(c[o[0]] for c in counts.values())]
    svg = charts.stacked_bars("outcomes", rows, order=used, title=t["outcomes"], xlabel=t["probes"])
    caption = T["outcomes_caption"](lang, parts=", ".join(label for _, label, _ in used))
    lines: list[list[Cell]] = []
    for channel in ("email", "phone"):
        total = sum(counts[channel].values())
        for key, label, _ in order:
            n = counts[channel][key]
            if n:
                share = round(100 * n / total)
                lines.append([(e(t[channel]), ""), (e(label), ""), (str(n), "num"),
                              (str(share), "num")])  # fmt: skip
    heads: list[str | tuple[str, str]] = [t["channel"], t["result"], (t["share"], "num"),
                                          (t["pct"], "num")]  # fmt: skip
    return [f"<h2>{e(t['outcomes'])}</h2>", figure(svg, caption), table(heads, lines)]


def areas(data: ReportData, lang: Lang) -> list[str]:
    t = texts(lang)
    email: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    phone: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for x in data.evidence:
        if x.area is None:
            continue
        if x.channel == "email" and x.category != "fault":
            email[x.area][1] += 1
            email[x.area][0] += x.category == "within"
        elif x.channel == "phone" and x.category not in ("failed", "pending"):
            if x.category == "person" and x.direct_answer is None:
                continue  # awaiting assessment: no verdict yet
            phone[x.area][1] += 1
            phone[x.area][0] += bool(x.direct_answer)
    found = sorted(set(email) | set(phone), key=lambda a: swedish(area_title(a, lang)))
    if not found:
        return []

    def cell(counts: list[int] | None) -> Cell:
        if not counts or not counts[1]:
            return "–", "num"
        return e(f"{round(100 * counts[0] / counts[1])} ({counts[0]}/{counts[1]})"), "num"

    rows = [[(e(area_title(a, lang)), ""), cell(email.get(a)), cell(phone.get(a))] for a in found]
    heads: list[str | tuple[str, str]] = [t["area"], (t["area_email"], "num"),
                                          (t["area_phone"], "num")]  # fmt: skip
    out = [f"<h2>{e(t['areas'])}</h2>", table(heads, rows, row_header=True)]
    bars = [(area_title(a, lang), 100 * email[a][0] / email[a][1] if email.get(a) and email[a][1]
             else None) for a in found]  # fmt: skip
    if any(v is not None for _, v in bars):
        svg = charts.bar_chart("areas-email", bars, title=t["area_email"], xlabel=t["percent"])
        out.append(figure(svg, t["areas_caption"]))
    return out


def trend(data: ReportData, lang: Lang) -> list[str]:
    if not data.trend or not any(len(points) > 1 for points in data.trend.values()):
        return []
    t = texts(lang)
    series: Mapping[str, Sequence[tuple[int, float]]] = {
        measure_title(m, lang): points for m, points in data.trend.items()
    }
    svg = charts.trend_chart("trend", series, title=t["trend"], ylabel=t["percent"])
    years = sorted({year for points in series.values() for year, _ in points})
    heads: list[str | tuple[str, str]] = [t["measure"], *[(str(y), "num") for y in years]]
    rows = []
    for title, points in series.items():
        by_year = dict(points)
        cells = [(e(num(by_year[y], lang)) if y in by_year else "–", "num") for y in years]
        rows.append([(e(title), ""), *cells])
    return [f"<h2>{e(t['trend'])}</h2>", figure(svg, t["trend_caption"]),
            table(heads, rows, row_header=True)]  # fmt: skip
