"""The dashboard's overview, settings, purge, report and export pages; the e-mail pages are in
:mod:`harness.web.mail_pages`, the calls in :mod:`harness.web.call_pages`, the call console in
:mod:`harness.web.console`.

Server-rendered (Jinja2, autoescaped), no script except on the call console, which loads our own
static file (timer and live status) and shows no mail. Reading needs the viewer role; corrections,
marks and assessments need staff; raw mail downloads need admin. Every form carries the
session's CSRF token (:mod:`harness.web.page_base`).
"""

from __future__ import annotations

import base64
from collections import Counter
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session, select

from harness import messages
from harness.campaign.reportdata import report_data
from harness.core.config import Settings
from harness.core.i18n import Lang
from harness.services.base import ServiceError
from harness.services.outputs import ExportRequest, Format, export_campaign, report_html
from harness.services.retention import purge_personal_data
from harness.services.sends import SEND_UNKNOWN
from harness.store.models import Probe, ProbeState
from harness.store.othermeasures import find_campaign
from harness.web.auth import UserView, flash
from harness.web.lang import page_lang
from harness.web.page_base import (
    REPORT_CSP,
    admin,
    csrf,
    engine_of,
    service_context,
    settings_of,
    viewer,
)
from harness.web.render import render
from results.counts import count_text
from results.measures import MEASURES
from results.report import ReportData, figures

router = APIRouter()


@router.get("/", dependencies=[viewer])
def overview(request: Request) -> HTMLResponse:
    engine, settings = engine_of(request), settings_of(request)
    campaign = find_campaign(engine)
    if campaign is None:
        return render(request, "overview.html", {"campaign": None})
    with Session(engine) as session:
        probes = session.exec(
            select(Probe.channel, Probe.state, Probe.claimed_at, Probe.outcome).where(
                Probe.campaign_id == campaign.id
            )
        ).all()
    progress: dict[str, Counter[str]] = {"email": Counter(), "phone": Counter()}
    in_doubt = 0
    for channel, probe_state, claimed, outcome in probes:
        in_doubt += probe_state == ProbeState.SENDING and outcome == SEND_UNKNOWN
        c = progress[channel]
        c["planned"] += 1
        c["placed"] += claimed is not None
        c["completed"] += probe_state == ProbeState.COMPLETED
        c["faults"] += probe_state == ProbeState.FAILED
    # The report's data: its scores fill the table, its charts are drawn by the report's code.
    data = report_data(engine, settings, campaign.name, request.app.state.clock.now())
    lang = page_lang(request)
    scores = [
        {
            "kommunkod": s.kommunkod,
            "title": MEASURES[s.measure_id].title_sv
            if lang == "sv"
            else MEASURES[s.measure_id].title_en,
            "value": s.value,
            "count": count_text(s, lang),
            "interval": "–" if s.ci_low is None else f"{s.ci_low:.1f}–{s.ci_high:.1f}",
        }
        for s in data.scores
    ]
    return render(
        request,
        "overview.html",
        {
            "campaign": campaign,
            "progress": progress,
            "in_doubt": in_doubt,
            "scores": scores,
            "edition": data.edition,
            "charts": _charts(data, lang),
        },
    )


def _charts(data: ReportData, lang: Lang) -> list[tuple[str, str]]:
    """The report's charts as (heading, data: URL) for ``<img>``.

    As images their SVG cannot run or style anything on the page, and the page's policy (no
    inline style) stays as strict as on every other page.
    """
    return [
        (heading, "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii"))
        for heading, svg in figures(data, lang)
    ]


def settings_rows(settings: Settings) -> list[tuple[str, str]]:
    """The configuration as dotted settings; anything secret-looking is masked.

    The file never holds secret values (only where to find them), but a name like
    ``password_env`` is still shown masked unless it is only a pointer (``*_env``/``*_file``)."""
    rows: list[tuple[str, str]] = []

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else key, inner)
            return
        leaf = prefix.rpartition(".")[2]
        pointer = leaf.endswith(("_env", "_file", "_command"))
        secret = any(word in leaf for word in ("password", "token", "secret"))
        shown = "" if value is None else str(value)
        rows.append((prefix, "•••" if secret and not pointer and shown else shown))

    walk("", settings.model_dump(mode="json"))
    return rows


@router.get("/settings", dependencies=[viewer])
def settings_page(request: Request) -> HTMLResponse:
    settings = settings_of(request)
    return render(
        request,
        "settings.html",
        {
            "rows": settings_rows(settings),
            "retention_days": settings.retention.personal_data_days,
        },
    )


@router.post("/purge", dependencies=[csrf])
def purge_page(request: Request, user: Annotated[UserView, admin]) -> RedirectResponse:
    """Admins purge personal data older than the retention period (as ``kkik purge``)."""
    lang = page_lang(request)
    try:
        flash(request, messages.purged(lang, purge_personal_data(service_context(request, user))))
    except ServiceError as exc:
        flash(request, messages.describe(exc, lang))
    return RedirectResponse("/settings", status_code=303)


#: The exports offered for download: the file name in the URL, the service's format, and
#: which kind of reader it is for (a key of the page texts).
EXPORTS: dict[str, tuple[Format, str]] = {
    "xlsx": ("xlsx", "export_xlsx"),
    "excel.csv": ("csv-excel", "export_csv_excel"),
    "csv": ("csv", "export_csv"),
    "json": ("json", "export_json"),
}


@router.get("/report", dependencies=[viewer])
def report_page(request: Request) -> HTMLResponse:
    formats = [(name, about) for name, (_, about) in EXPORTS.items()]
    return render(request, "report.html", {"formats": formats})


@router.get("/report.html", dependencies=[viewer])
def report_file(request: Request, user: Annotated[UserView, viewer]) -> Response:
    try:
        html = report_html(service_context(request, user), None, page_lang(request))
    except ServiceError as exc:
        raise HTTPException(404, detail=messages.describe(exc, page_lang(request))) from None
    headers = {"Content-Security-Policy": REPORT_CSP}
    return Response(html.encode("utf-8"), media_type="text/html; charset=utf-8", headers=headers)


@router.get("/export.{fmt}", dependencies=[viewer])
def export_file(request: Request, fmt: str, user: Annotated[UserView, viewer]) -> Response:
    if fmt not in EXPORTS:
        raise HTTPException(404)
    lang = page_lang(request)
    try:
        exported = export_campaign(
            service_context(request, user), ExportRequest(format=EXPORTS[fmt][0], lang=lang)
        )
    except ServiceError as exc:
        raise HTTPException(404, detail=messages.describe(exc, lang)) from None
    return Response(
        exported.data,
        media_type=exported.media_type,
        headers={"Content-Disposition": f'attachment; filename="{exported.filename}"'},
    )
