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
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from harness import messages
from harness.campaign.reportdata import report_data
from harness.core.config import Settings
from harness.core.i18n import Lang
from harness.core.setting_labels import sections
from harness.services.base import ServiceError
from harness.services.outputs import (
    ExportRequest,
    Format,
    export_campaign,
    report_html,
    review_pending,
)
from harness.services.retention import purge_personal_data
from harness.services.sends import SEND_UNKNOWN
from harness.store.models import Campaign, Probe, ProbeState
from harness.store.othermeasures import find_campaign
from harness.web.auth import UserView, flash
from harness.web.derived import after_page, derived, derived_ready
from harness.web.lang import page_lang
from harness.web.page_base import (
    REPORT_CSP,
    admin,
    csrf,
    engine_of,
    service_context,
    settings_of,
    viewer,
    zone_of,
)
from harness.web.render import localtime, render
from results.counts import count_text
from results.measures import MEASURES
from results.report import ReportData, figures

router = APIRouter()


@router.get("/", dependencies=[viewer])
def overview(request: Request) -> HTMLResponse:
    engine = engine_of(request)
    campaign = find_campaign(engine)
    if campaign is None:
        return render(request, "overview.html", {"campaign": None})
    progress, in_doubt = _progress(engine, campaign.id)
    lang = page_lang(request)
    # The report's data and charts: seconds of work nationally, so made once per data version
    # (harness.web.derived); the charts once per language too.
    data = campaign_data(request, campaign)
    # Drawing the charts takes a second or more (matplotlib, nationally 290 rows per chart):
    # the page does not wait for it. The first view after a change of the evidence says they
    # are being drawn (in the background, once); the views after it show them.
    charts = derived_ready(request, "charts", (campaign.id, lang), lambda: _charts(data, lang))
    scores = [
        {
            "kommun": f"{s.kommunkod} {data.targets.get(s.kommunkod, '')}".strip(),
            "title": MEASURES[s.measure_id].title_sv
            if lang == "sv"
            else MEASURES[s.measure_id].title_en,
            "value": s.value,
            "count": count_text(s, lang),
            "interval": "–" if s.ci_low is None else f"{s.ci_low:.1f}–{s.ci_high:.1f}",
        }
        for s in data.scores
    ]
    page = render(
        request,
        "overview.html",
        {
            "campaign": campaign,
            "progress": progress,
            "in_doubt": in_doubt,
            "scores": scores,
            "edition": data.edition,
            "charts": charts,
            "pending_note": messages.pending_note_of(
                data.pending_replies, data.pending_where, data.pending_unassigned, lang
            )
            if data.pending_replies
            else "",
            "kommuner": sorted(data.targets.items()),
        },
    )
    # The charts begin once the page is sent: it does not share the interpreter with them.
    return after_page(request, page)


def campaign_data(request: Request, campaign: Campaign) -> ReportData:
    """The report's data for ``campaign``: made once per data version (harness.web.derived),
    shared by the overview and the pages per municipality."""
    engine, settings, name = engine_of(request), settings_of(request), campaign.name
    return derived(
        request,
        "report_data",
        campaign.id,
        lambda: report_data(
            engine, settings, name, request.app.state.clock.now(), request.app.state.report_pieces
        ),
    )


def _progress(engine: Engine, campaign_id: int | None) -> tuple[dict[str, Counter[str]], int]:
    """Per channel: probes planned, placed (claimed), completed and failed; and the sends in
    doubt. Counted by the database, not by reading every probe."""
    progress: dict[str, Counter[str]] = {"email": Counter(), "phone": Counter()}
    in_doubt = 0
    with Session(engine) as session:
        rows = session.exec(
            select(Probe.channel, Probe.state, func.count(), func.count(col(Probe.claimed_at)))
            .where(Probe.campaign_id == campaign_id)
            .group_by(Probe.channel, Probe.state)
        ).all()
        in_doubt = session.exec(
            select(func.count()).where(
                Probe.campaign_id == campaign_id,
                Probe.state == ProbeState.SENDING,
                Probe.outcome == SEND_UNKNOWN,
            )
        ).one()
    for channel, probe_state, count, claimed in rows:
        c = progress.setdefault(channel, Counter())
        c["planned"] += count
        c["placed"] += claimed
        c["completed"] += count if probe_state == ProbeState.COMPLETED else 0
        c["faults"] += count if probe_state == ProbeState.FAILED else 0
    return progress, in_doubt


def _charts(data: ReportData, lang: Lang) -> list[tuple[str, str]]:
    """The report's charts as (heading, data: URL) for ``<img>``.

    As images their SVG cannot run or style anything on the page, and the page's policy (no
    inline style) stays as strict as on every other page.
    """
    return [
        (heading, "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii"))
        for heading, svg in figures(data, lang)
    ]


def setting_values(settings: Settings) -> dict[str, Any]:
    """The configuration as dotted keys and their loaded values (the file never holds a secret,
    only where it is kept; :func:`harness.core.setting_labels.setting_value` masks any that
    would)."""
    flat: dict[str, Any] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else key, inner)
            return
        flat[prefix] = value

    walk("", settings.model_dump(mode="json"))
    return flat


@router.get("/settings", dependencies=[viewer])
def settings_page(request: Request) -> HTMLResponse:
    settings = settings_of(request)
    return render(
        request,
        "settings.html",
        {
            "sections": sections(setting_values(settings), page_lang(request)),
            "retention_days": settings.retention.personal_data_days,
        },
    )


@router.get("/purge", dependencies=[admin])
async def purge_confirm(request: Request, user: Annotated[UserView, admin]) -> Response:
    """What a purge would remove now (the retention service's dry run), and the button that
    does it: nothing is removed at one click (a page without script cannot ask in a dialog)."""
    lang = page_lang(request)
    try:
        preview = await purge_personal_data(service_context(request, user), dry_run=True)
    except ServiceError as exc:
        flash(request, messages.describe(exc, lang))
        return RedirectResponse("/settings", status_code=303)
    zone = zone_of(request)
    return render(
        request,
        "purge.html",
        {
            "counts": preview.counts,
            "as_of": (preview.as_of or preview.before).isoformat(),
            "before_shown": localtime(preview.before, zone),
            "retention_days": settings_of(request).retention.personal_data_days,
        },
    )


@router.post("/purge", dependencies=[csrf])
async def purge_page(
    request: Request,
    user: Annotated[UserView, admin],
    as_of: Annotated[str, Form()] = "",
) -> RedirectResponse:
    """Purge what the confirmation page listed: each kind's retention counted back from the
    instant the page was made (never a later one than now), as ``kkik purge`` then."""
    lang = page_lang(request)
    ctx = service_context(request, user)
    try:
        shown = datetime.fromisoformat(as_of)
    except ValueError:
        return RedirectResponse("/purge", status_code=303)  # not confirmed: ask first
    if shown.tzinfo is None:
        return RedirectResponse("/purge", status_code=303)
    try:
        # The recordings too, at Twilio, through the process's phone channel when it has one.
        phone = getattr(request.app.state, "phone", None)
        deleter = phone.delete_recording if phone is not None else None
        done = await purge_personal_data(ctx, as_of=shown, delete_recording=deleter)
        flash(request, messages.purged(lang, done))
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
def report_page(request: Request, user: Annotated[UserView, viewer]) -> HTMLResponse:
    formats = [(name, about) for name, (_, about) in EXPORTS.items()]
    pending = review_pending(service_context(request, user), None)
    note = messages.pending_note(pending, page_lang(request)) if pending else ""
    return render(request, "report.html", {"formats": formats, "pending": note})


@router.get("/report.html", dependencies=[viewer])
def report_file(request: Request, user: Annotated[UserView, viewer]) -> Response:
    try:
        html = report_html(service_context(request, user), None, page_lang(request))
    except ServiceError as exc:
        raise HTTPException(404, detail=messages.describe(exc, page_lang(request))) from None
    headers = {"Content-Security-Policy": REPORT_CSP}
    return Response(html.encode("utf-8"), media_type="text/html; charset=utf-8", headers=headers)


@router.get("/export.{fmt}", dependencies=[viewer])
def export_file(
    request: Request, fmt: str, user: Annotated[UserView, viewer], allow_pending: bool = False
) -> Response:
    if fmt not in EXPORTS:
        raise HTTPException(404)
    lang = page_lang(request)
    wanted = ExportRequest(format=EXPORTS[fmt][0], lang=lang, allow_pending=allow_pending)
    try:
        exported = export_campaign(service_context(request, user), wanted)
    except ServiceError as exc:
        # Replies awaiting review: the state of things, not a missing page (the report page
        # offers the download anyway, with the count in the rows).
        status = 409 if exc.code == "pending_review" else 404
        raise HTTPException(status, detail=messages.describe(exc, lang)) from None
    return Response(
        exported.data,
        media_type=exported.media_type,
        headers={"Content-Disposition": f'attachment; filename="{exported.filename}"'},
    )
