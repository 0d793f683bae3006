"""The report's HTML building blocks: its stylesheet (screen and A4 print), escaping, numbers,
tables with real header cells, and figures whose chart is named by its caption.

Accessibility is built in here rather than checked afterwards: every table has a caption or a
heading right above it and ``<th scope>`` headers in a ``<thead>`` (repeated on every printed
page); every chart is an ``<svg role="img">`` labelled by its ``<figcaption>``, which says what
the chart shows and points at the table with the same figures (WCAG 1.1.1).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from harness.core.i18n import Lang

# Print: A4 with tables and figures kept whole where they fit on a page (a table longer than a
# page still breaks, between rows, with its header repeated). Colours are printed as shown.
CSS = """
body{font-family:"DejaVu Sans",Arial,sans-serif;margin:2rem auto;max-width:62rem;color:#222;
line-height:1.4;padding:0 1rem}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2.2rem;border-bottom:1px solid #ccc}
h3{font-size:1.05rem;margin-bottom:.3rem}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.85rem}
caption{text-align:left;font-weight:bold;padding:.2rem 0}
th,td{border-bottom:1px solid #e0e0e0;padding:.2rem .5rem;text-align:left;vertical-align:top}
thead th{border-bottom:2px solid #999;vertical-align:bottom}
tfoot th,tfoot td{border-top:2px solid #999}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
tbody th{font-weight:normal}table.summary tbody th{font-weight:bold;white-space:nowrap}
.green{background:#c8e6c9}.yellow{background:#fff9c4}.red{background:#ffcdd2}
.code{color:#555;font-size:.85em}
.sub{display:block;color:#444;font-size:.8em}
.tag{font-size:.8em}
table.summary td{min-width:4.5rem}table.summary{width:100%}
figure.chart{margin:.5rem 0 1rem}figure.chart svg{max-width:100%;height:auto}
figcaption{color:#444;font-size:.85rem;max-width:48rem}
.note{color:#555;font-size:.85rem}
.pending{background:#fff3bf;border-left:4px solid #8a6d00;padding:.4rem .6rem}
section.measure{margin-bottom:1.5rem}
table.appendix{font-size:.75rem}table.appendix td{white-space:nowrap}
@page{size:A4;margin:14mm 12mm}
@media print{
body{margin:0;max-width:none;padding:0;font-size:10pt;
-webkit-print-color-adjust:exact;print-color-adjust:exact}
h1{font-size:16pt;margin-top:0}h2{font-size:13pt;margin-top:1rem}h3{font-size:11pt}
figcaption,.note{font-size:8pt}
h2,h3,caption{break-after:avoid}
table{font-size:8.5pt}table.summary{font-size:8pt}table.summary td{min-width:0}
table,figure,.keep{break-inside:avoid}
body,table{line-height:1.25}th,td{padding:.1rem .4rem}
tr{break-inside:avoid}
thead{display:table-header-group}
figure.chart svg{max-height:120mm;width:70%}
table.appendix{font-size:7pt}table.appendix td,table.appendix th{padding:.05rem .2rem}
}
"""


def e(value: object) -> str:
    """``value`` as HTML text, quotes included (every text from the data goes through this)."""
    return html.escape(str(value), quote=True)


def local(value: datetime | None, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M") if value else "–"


def num(value: float, lang: Lang, digits: int = 1) -> str:
    text = f"{value:.{digits}f}"
    return text.replace(".", ",") if lang == "sv" else text


def place(kommunkod: str, targets: Mapping[str, str]) -> str:
    """A municipality as the report names it: kommunkod then name (as SCB lists them)."""
    name = targets.get(kommunkod)
    return f"{kommunkod} {name}" if name else kommunkod


_SWEDISH = str.maketrans({"å": "{", "ä": "|", "ö": "}", "é": "e", "ü": "y"})


def swedish(text: str) -> str:
    """A sort key in Swedish alphabetical order: å, ä, ö after z, in that order."""
    return text.lower().translate(_SWEDISH)


def by_name(codes: Iterable[str], targets: Mapping[str, str]) -> list[str]:
    """Kommunkoder in Swedish alphabetical order of their names."""
    return sorted(codes, key=lambda k: (swedish(targets.get(k, k)), k))


Cell = tuple[str, str]  # (HTML already escaped, CSS class or "")


def table(
    heads: Sequence[str | tuple[str, str]],
    rows: Iterable[Sequence[Cell]],
    *,
    caption: str | None = None,
    css: str = "",
    row_header: bool = False,
    foot: Iterable[Sequence[Cell]] = (),
) -> str:
    """A table with a ``<thead>`` of column headers; with ``row_header`` each row's first cell
    is its header (``<th scope="row">``). Cells are given as escaped HTML with a class."""
    head_cells = []
    for head in heads:
        text, cls = (head, "") if isinstance(head, str) else head
        attr = f' class="{cls}"' if cls else ""
        head_cells.append(f'<th scope="col"{attr}>{e(text)}</th>')
    out = [f'<table class="{css}">' if css else "<table>"]
    if caption:
        out.append(f"<caption>{e(caption)}</caption>")
    out.append(f"<thead><tr>{''.join(head_cells)}</tr></thead><tbody>")
    out += [_row(cells, row_header) for cells in rows]
    out.append("</tbody>")
    footer = [_row(cells, True) for cells in foot]
    if footer:
        out += ["<tfoot>", *footer, "</tfoot>"]
    out.append("</table>")
    return "".join(out)


def _row(cells: Sequence[Cell], row_header: bool) -> str:
    parts = []
    for i, (content, cls) in enumerate(cells):
        attr = f' class="{cls}"' if cls else ""
        if i == 0 and row_header:
            parts.append(f'<th scope="row"{attr}>{content}</th>')
        else:
            parts.append(f"<td{attr}>{content}</td>")
    return f"<tr>{''.join(parts)}</tr>"


FIGURE_OPEN = '<figure class="chart">'
FIGURE_CLOSE = "</figure>"


def figure(svg: str, caption: str) -> str:
    """A chart with its caption; the chart's accessible name is the caption."""
    name = svg.split('data-chart="', 1)[1].split('"', 1)[0]
    label = f"caption-{name}"
    labelled = svg.replace(
        f'data-chart="{name}" ', f'data-chart="{name}" aria-labelledby="{label}" ', 1
    )
    return (
        f'{FIGURE_OPEN}{labelled}<figcaption id="{label}">{e(caption)}</figcaption>{FIGURE_CLOSE}'
    )


def chart_of(part: str) -> str | None:
    """The SVG of a part made by :func:`figure` (the dashboard shows the charts on their own)."""
    if not part.startswith(FIGURE_OPEN):
        return None
    svg = part[len(FIGURE_OPEN) : part.index("<figcaption")]
    # On its own the chart has no caption to point at.
    return re.sub(r' aria-labelledby="caption-[^"]*"', "", svg, count=1)
