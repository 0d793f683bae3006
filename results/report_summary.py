"""The report's results: first the summary (one row per municipality, every measure, the network
mean and the national figure last, cells coloured by the network comparison), then one section
per measure with its interval chart and the ranked table behind it.

The colour of a cell is the network comparison of :func:`results.scoring.compare` (green best
quarter, yellow middle half, red worst quarter); the colour's name is written in the cell too, so
nothing depends on seeing colour. Bemötande, a points measure, reads as points of the maximum
with the number of assessed calls ("18 av 36 poäng, 12 samtal") wherever it is shown.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from harness.core.i18n import Lang
from results import charts
from results.counts import count_text
from results.measures import MEASURES
from results.reference import Reference, reference_for
from results.report_html import Cell, by_name, e, figure, num, place, table
from results.report_model import ReportData
from results.report_texts import SHORT, T, texts
from results.scoring import Comparison, Score


def measure_title(measure_id: str, lang: Lang) -> str:
    measure = MEASURES.get(measure_id)
    if measure is None:
        return measure_id
    return measure.title_sv if lang == "sv" else measure.title_en


def count(s: Score, lang: Lang) -> str:
    """The counts behind a value as everywhere else (results.counts): "5/8", or for points
    "18 av 36 poäng, 12 samtal"; a points measure without an assessed call says just that."""
    measure = MEASURES.get(s.measure_id)
    if measure is not None and measure.kind == "points" and not s.denominator:
        return T["no_calls"](lang)
    return count_text(s, lang)


def _notes(s: Score, lang: Lang) -> list[str]:
    notes = []
    if s.awaiting_assessment:
        notes.append(T["waiting"](lang, n=s.awaiting_assessment))
    if s.excluded_faults:
        notes.append(T["faults"](lang, n=s.excluded_faults))
    if s.approximated:
        notes.append(T["approximated"](lang, n=s.approximated))
    return notes


def _national(data: ReportData, measure_id: str) -> Reference | None:
    return reference_for(measure_id, data.year, tuple(data.national))


def _percent(value: float | int, lang: Lang, digits: int = 0) -> str:
    text = num(value, lang, digits)
    return f"{text}\u00a0%" if lang == "sv" else f"{text}%"


def _measure_ids(scores: Sequence[Score]) -> list[str]:
    seen: dict[str, None] = {}
    for s in scores:
        seen.setdefault(s.measure_id, None)
    return list(seen)


def _colours(c: Comparison | None) -> Mapping[str, str]:
    # A network of one is compared with nobody: no colour.
    return c.colours if c is not None and c.municipalities > 1 else {}


def summary(data: ReportData, comparison: Mapping[str, Comparison], lang: Lang) -> list[str]:
    """The summary per municipality: the report's first table."""
    t = texts(lang)
    out = [
        f"<h2>{e(t['summary'])}</h2>",
        '<p class="note">'
        + e(T["summary_lead"](lang, green=t["green_means"], yellow=t["yellow_means"],
                              red=t["red_means"]))
        + "</p>",
    ]  # fmt: skip
    measure_ids = _measure_ids(data.scores)
    by_cell = {(s.kommunkod, s.measure_id): s for s in data.scores}
    codes = by_name(set(data.targets) | {s.kommunkod for s in data.scores}, data.targets)
    heads: list[str | tuple[str, str]] = [t["kommun"]]
    heads += [
        (SHORT[m](lang) if m in SHORT else measure_title(m, lang), "num") for m in measure_ids
    ]
    rows = []
    for code in codes:
        cells: list[Cell] = [(e(place(code, data.targets)), "")]
        for m in measure_ids:
            cells.append(_summary_cell(by_cell.get((code, m)), _colours(comparison.get(m)), lang))
        rows.append(cells)
    network: list[Cell] = [(e(t["network"]), "")]
    national: list[Cell] = [(e(t["national"]), "")]
    for m in measure_ids:
        c = comparison.get(m)
        mean = c.mean if c is not None else None
        network.append((e(_percent(mean, lang, 1)) if mean is not None else "–", "num"))
        ref = _national(data, m)
        if ref is None:
            national.append(("–", "num"))
            continue
        kind = T[ref.kind](lang) if ref.kind in T else ref.kind
        sub = T["national_cell"](lang, year=ref.year, kind=kind)
        national.append((f'{e(_percent(ref.value, lang))}<span class="sub">{e(sub)}</span>', "num"))
    out.append(
        table(heads, rows, caption=t["summary_caption"], css="summary", row_header=True,
              foot=[network, national])
    )  # fmt: skip
    return out


def _summary_cell(s: Score | None, colours: Mapping[str, str], lang: Lang) -> Cell:
    if s is None or (s.value is None and not s.awaiting_assessment):
        return "–", "num"
    t = texts(lang)
    colour = colours.get(s.kommunkod)
    parts = [e(_percent(s.value, lang)) if s.value is not None else "–"]
    if colour:
        parts.append(f' <span class="tag">{e(t[colour])}</span>')
    if s.denominator:
        # Kept together but for the break after the comma: "18 av 36 poäng, | 12 samtal".
        together = count(s, lang).replace(" ", "\u00a0").replace(",\u00a0", ", ")
        parts.append(f'<span class="sub">{e(together)}</span>')
    if s.awaiting_assessment:
        parts.append(f'<span class="sub">{e(T["waiting"](lang, n=s.awaiting_assessment))}</span>')
    return "".join(parts), f"num {colour}" if colour else "num"


def measures(data: ReportData, comparison: Mapping[str, Comparison], lang: Lang) -> list[str]:
    """One section per measure: the network and national figures, the chart, the table."""
    t = texts(lang)
    by_measure: dict[str, list[Score]] = defaultdict(list)
    for s in data.scores:
        by_measure[s.measure_id].append(s)
    if not by_measure:
        return []
    out = [f"<h2>{e(t['measures'])}</h2>"]
    for measure_id, scores in by_measure.items():
        out += _measure(data, measure_id, scores, comparison.get(measure_id), lang)
    return out


def _measure(
    data: ReportData, measure_id: str, scores: list[Score], c: Comparison | None, lang: Lang
) -> list[str]:
    t = texts(lang)
    title = measure_title(measure_id, lang)
    # The heading, the figures and the chart are kept on one printed page ("keep").
    out = ['<section class="measure">', '<div class="keep">', f"<h3>{e(title)}</h3>"]
    if not any(s.denominator or s.awaiting_assessment for s in scores):
        return [*out, f'<p class="note">{e(t["no_probes"])}</p>', "</div></section>"]
    # The network mean and the national figure are in the chart's caption (and the summary).
    national = _national(data, measure_id)
    mean = c.mean if c is not None else None
    colours = _colours(c)
    ranked = sorted(scores, key=lambda s: (-(s.value if s.value is not None else -1), s.kommunkod))
    rows = []
    chart_rows = []
    for s in ranked:
        colour = colours.get(s.kommunkod)
        interval = (
            "–"
            if s.ci_low is None or s.ci_high is None
            else f"{num(s.ci_low, lang)}–{num(s.ci_high, lang)}"
        )
        notes = _notes(s, lang)
        extra = f' <span class="note">({e(", ".join(notes))})</span>' if notes else ""
        rows.append(
            [
                (e(place(s.kommunkod, data.targets)), ""),
                (e("–" if s.value is None else s.value), "num"),
                (e(count(s, lang)) + extra, "num"),
                (e(interval), "num"),
                (e(t[colour]) if colour else "", colour or ""),
            ]
        )
        label = place(s.kommunkod, data.targets)
        chart_rows.append(charts.IntervalRow(label, s.value, s.ci_low, s.ci_high, colour))
    shown = [r for r in chart_rows if r.value is not None]
    if shown:
        out.append(_interval_figure(measure_id, title, chart_rows, mean, national, lang))
    out.append("</div>")
    heads: list[str | tuple[str, str]] = [t["kommun"], (t["value"], "num"), (t["share"], "num"),
                                          (t["interval"], "num"), t["colour"]]  # fmt: skip
    out.append(table(heads, rows, row_header=True))
    out.append("</section>")
    return out


def _interval_figure(
    measure_id: str,
    title: str,
    rows: list[charts.IntervalRow],
    mean: float | None,
    national: Reference | None,
    lang: Lang,
) -> str:
    t = texts(lang)
    lines = ""
    if mean is not None:
        lines += T["network_line"](lang, value=num(mean, lang))
    if national is not None:
        kind = T[national.kind](lang) if national.kind in T else national.kind
        lines += T["national_line"](lang, value=national.value, year=national.year, kind=kind)
    present = {r.colour for r in rows if r.value is not None}
    svg = charts.interval_chart(
        f"interval-{measure_id}",
        rows,
        title=title,
        xlabel=t["percent"],
        network_mean=mean,
        national=national.value if national is not None else None,
        network_label=t["network"],
        national_label=t["national"],
        colour_labels={
            colour: t[f"{colour}_means"] if colour else t["no_colour"]
            for colour in ("green", "yellow", "red", None)
            if colour in present
        },
    )
    shown = sum(r.value is not None for r in rows)
    key = "ranked_caption" if shown > charts.LABELLED_ROWS else "interval_caption"
    return figure(svg, T[key](lang, title=title, n=shown, lines=lines))
