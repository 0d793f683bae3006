"""The campaign report: one self-contained HTML file a quality controller can mail to the board.

Pure: :class:`ReportData` in (gathered from the database by :mod:`harness.campaign.reportdata`),
HTML text out. No external assets: the CSS is inline, the charts are inline SVG from
:mod:`results.charts`, there is no script. Every text from the data is escaped.

Sections, in order: a note while replies await review; the summary per municipality (one row
each, every measure, the network mean and the national figure, colours by quartile;
:mod:`results.report_summary`); each value beside the whole country and the network, each
municipality's development over the years, our own e-mail measures
(:mod:`results.report_country`); each measure with its interval chart and ranked table; the
e-mail and phone time distributions, outcomes, question areas and the trend
(:mod:`results.report_outcomes`); the other accessibility measures, method and settings, and the
evidence appendix (:mod:`results.report_appendix`). Texts and labels are in
:mod:`results.report_texts`, the HTML building blocks and the print stylesheet (A4) in
:mod:`results.report_html`.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from zoneinfo import ZoneInfo

from harness.core.i18n import Lang
from results.report_appendix import appendix, method, other
from results.report_country import pending_note, sections
from results.report_html import CSS, chart_of, e, local
from results.report_model import EvidenceLine, OtherLine, ReportData
from results.report_outcomes import areas, distributions, outcomes, trend
from results.report_summary import measures, summary
from results.report_texts import T
from results.scoring import Comparison, compare

__all__ = ["EvidenceLine", "OtherLine", "ReportData", "figures", "render"]


def render(data: ReportData, lang: Lang = "sv") -> str:
    """The whole report as one HTML document."""
    zone = ZoneInfo(data.timezone)
    comparison = compare(list(data.scores))
    title = T["title"](lang, name=data.campaign)
    lead = T["lead"](
        lang,
        n=len(data.targets),
        start=data.period_start.isoformat(),
        end=data.period_end.isoformat(),
        edition=data.edition,
        at=local(data.generated_at, zone),
    )
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{lang}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(title)}</title>",
        f"<style>{CSS}</style></head><body><main>",
        f"<h1>{e(title)}</h1>",
        f"<p>{e(lead)}</p>",
    ]
    parts += pending_note(data, lang)
    parts += summary(data, comparison, lang)
    parts += sections(data, lang)
    parts += _charted(data, comparison, lang)
    parts += other(data, lang)
    parts += method(data, lang)
    parts += appendix(data, zone, lang)
    parts.append("</main></body></html>")
    return "\n".join(parts)


def figures(data: ReportData, lang: Lang = "sv") -> list[tuple[str, str]]:
    """Every chart of the report as (the heading it stands under, its SVG), in report order.

    The dashboard's overview shows these; they are drawn by the same code as the report's.
    """
    found: list[tuple[str, str]] = []
    heading = ""
    for part in _charted(data, compare(list(data.scores)), lang):
        if part.startswith(("<h2>", "<h3>")):
            heading = html.unescape(part[4 : part.index("</h")])
        elif (svg := chart_of(part)) is not None:
            found.append((heading, svg))
    return found


def _charted(data: ReportData, comparison: Mapping[str, Comparison], lang: Lang) -> list[str]:
    """The report's sections that carry charts: measures, distributions, outcomes, areas,
    trend."""
    parts = measures(data, comparison, lang)
    parts += distributions(data, lang)
    parts += outcomes(data, lang)
    parts += areas(data, lang)
    parts += trend(data, lang)
    return parts
