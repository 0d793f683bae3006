"""The dashboard's page per municipality (issue 18): its values beside the whole country and
the network, its development over the years with a small chart, and our own e-mail measures.

The same figures and tables as the report's (:mod:`results.report_country`), from the same
report data the overview uses (made once per data version, :mod:`harness.web.derived`). The
charts are shown as images, as on the overview, so the page's policy (no inline style) stays
as strict as everywhere else.
"""

from __future__ import annotations

import base64
import re
from dataclasses import replace

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse

from harness import messages
from harness.store.othermeasures import find_campaign
from harness.web.derived import derived
from harness.web.lang import page_lang
from harness.web.page_base import engine_of, viewer
from harness.web.pages import campaign_data
from harness.web.render import render
from results.report_country import country, development, own_measures
from results.report_html import chart_of
from results.report_model import ReportData

router = APIRouter()

_CAPTION = re.compile(r"<figcaption[^>]*>(.*?)</figcaption>", re.DOTALL)


def one_municipality(data: ReportData, kommunkod: str) -> ReportData:
    """The report data narrowed to one municipality; its places keep the whole network's."""
    return replace(
        data,
        targets={kommunkod: data.targets[kommunkod]},
        scores=[s for s in data.scores if s.kommunkod == kommunkod],
        developments=[d for d in data.developments if d.kommunkod == kommunkod],
        own=[o for o in data.own if o.kommunkod == kommunkod],
    )


def as_page_parts(parts: list[str]) -> list[str]:
    """The report's parts with each chart as an image (its caption as the alternative text)."""
    out = []
    for part in parts:
        svg = chart_of(part)
        if svg is None:
            out.append(part)
            continue
        found = _CAPTION.search(part)
        caption = found.group(1) if found else ""
        url = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")
        out.append(
            f'<figure class="chart"><img src="{url}" alt="{caption}">'
            f"<figcaption>{caption}</figcaption></figure>"
        )
    return out


@router.get("/kommun/{kommunkod}", dependencies=[viewer])
def municipality(request: Request, kommunkod: str) -> HTMLResponse:
    campaign = find_campaign(engine_of(request))
    if campaign is None:
        raise HTTPException(404)
    data = campaign_data(request, campaign)
    if kommunkod not in data.targets:
        raise HTTPException(404)
    lang = page_lang(request)

    def make() -> list[str]:
        mine = one_municipality(data, kommunkod)
        return as_page_parts(
            country(mine, lang) + development(mine, lang) + own_measures(mine, lang)
        )

    parts = derived(request, "municipality", (campaign.id, kommunkod, lang), make)
    note = (
        messages.pending_note_of(
            data.pending_replies, data.pending_where, data.pending_unassigned, lang
        )
        if data.pending_replies
        else ""
    )
    return render(
        request,
        "municipality.html",
        {
            "campaign": campaign,
            "kommun": f"{kommunkod} {data.targets[kommunkod]}",
            "parts": parts,
            "pending_note": note,
        },
    )
