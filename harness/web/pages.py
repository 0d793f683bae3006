"""The dashboard's pages: overview, e-mail log, probe detail, review queue, calls, report.

Server-rendered (Jinja2, autoescaped), no script except on the call console, which loads our own
static file (timer and live status) and shows no mail. Reading needs the viewer role; corrections,
marks and assessments need staff; raw mail downloads need admin. Every form carries the
session's CSRF token. Mail HTML is never rendered as it came: it is cleaned by nh3 (an allowlist
sanitiser: no script, no event handlers, no ``javascript:`` links, no SVG, no style) when the mail
is stored, under size and depth caps (:mod:`harness.channels.email.html`), and shown in a sandboxed
frame
without scripts, under a page-wide content security policy that forbids script.
"""

from __future__ import annotations

import base64
import io
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, cast
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Engine, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from harness import messages
from harness.campaign.evidence import call_rows, email_evidence
from harness.campaign.reportdata import report_data
from harness.channels.email.html import MAX_DEPTH, MAX_HTML_CHARS, MAX_TAGS, clean_mail_html
from harness.channels.email.store import decompress
from harness.channels.phone import store as phonestore
from harness.channels.phone.console import upcoming_calls
from harness.core.config import Settings
from harness.core.i18n import Lang
from harness.rules.measurement import timeline_rules, timing_rules
from harness.services.base import Context, ServiceError
from harness.services.calls import AssessCall, Mark, MarkCall, assess_call, mark_call
from harness.services.outputs import ExportRequest, Format, export_campaign, report_html
from harness.services.retention import purge_personal_data
from harness.services.review import KINDS, Correction, correct
from harness.services.sends import SEND_UNKNOWN
from harness.store.models import AuditEntry, Message, Probe, ProbeState, Question
from harness.store.othermeasures import find_campaign
from harness.web.auth import UserView, flash, require_csrf, require_role
from harness.web.lang import page_lang
from harness.web.page_texts import PAGE_TEXTS
from harness.web.render import localtime, render
from results.calendar import DeadlineRule
from results.email_log import log_rows
from results.measures import MEASURES
from results.report import ReportData, figures
from results.spreadsheet import csv_writer

# Pages allow only our own stylesheet; mail HTML is shown in a frame that may not run anything.
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-src 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# The report is one self-contained file with inline CSS and SVG charts: inline style is allowed
# for it alone. Otherwise it is stricter than the pages: it has no form and no frame.
REPORT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
# The call console alone runs a script: our own static file (timer, live status, recording
# jump), never inline script; it shows no mail.
CONSOLE_CSP = CSP + "; script-src 'self'; connect-src 'self'; media-src 'self'"
# The cap a refused mail HTML broke, for the note shown instead of it.
HTML_LIMITS = {"size": f"{MAX_HTML_CHARS:,}".replace(",", "\u00a0"),
               "tags": f"{MAX_TAGS:,}".replace(",", "\u00a0"), "depth": str(MAX_DEPTH)}  # fmt: skip
viewer = Depends(require_role("viewer"))
staff = Depends(require_role("staff"))
admin = Depends(require_role("admin"))
csrf = Depends(require_csrf)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def _zone(request: Request) -> ZoneInfo:
    return ZoneInfo(_settings(request).timezone)


LOG_COLUMNS = ["probe_id", "kommunkod", "kommun", "area", "sent_at", "answered_at",
               "business_hours", "within_one_working_day", "reply_kind", "matched_by",
               "match_confidence", "acknowledged_at", "case_numbers"]  # fmt: skip
router = APIRouter()


@router.get("/", dependencies=[viewer])
def overview(request: Request) -> HTMLResponse:
    engine, settings = _engine(request), _settings(request)
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
            "count": f"{s.numerator}/{s.denominator}",
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


def _log(request: Request, kommunkod: str | None, within: str | None, sort: str) -> list[Any]:
    settings = _settings(request)
    rules = timing_rules(settings)
    # The configured calendar: log_rows adds each probe's own campaign's closed days.
    rows = log_rows(
        email_evidence(_engine(request), kommunkod or None, None, settings.timezone,
                       rules.review_below),
        rules.calendar,
        DeadlineRule(settings.email.deadline_rule),
        count_holding_replies=settings.email.count_holding_replies,
    )  # fmt: skip
    if within in ("yes", "no"):
        rows = [r for r in rows if r.within_one_working_day is (within == "yes")]
    keys = {
        "sent": lambda r: (r.sent_at is None, r.sent_at),
        "hours": lambda r: (r.business_hours is None, r.business_hours or 0.0),
        "kommun": lambda r: (r.kommunkod, r.sent_at),
    }
    return sorted(rows, key=keys.get(sort, keys["sent"]))


@router.get("/email", dependencies=[viewer])
def email_log(
    request: Request, kommun: str | None = None, within: str | None = None, sort: str = "sent"
) -> HTMLResponse:
    rows = _log(request, kommun, within, sort)
    zone = _zone(request)
    shown = [
        {
            "probe": r.probe_id,
            "kommun": f"{r.kommunkod} {r.target}",
            "area": r.area or "–",
            "sent": localtime(r.sent_at, zone),
            "answered": localtime(r.answered_at, zone),
            "hours": "–" if r.business_hours is None else f"{r.business_hours:.2f}",
            "within": r.within_one_working_day,
            "kind": r.reply_kind or "–",
            "matched_by": r.matched_by or "–",
            "confidence": r.confidence,
            "replies": r.replies,
            "acknowledged": localtime(r.acknowledged_at, zone),
            "case_numbers": ", ".join(r.case_numbers) or "–",
        }
        for r in rows
    ]
    return render(
        request,
        "email.html",
        {"rows": shown, "kommun": kommun or "", "within": within or "", "sort": sort},
    )


@router.get("/email.csv", dependencies=[viewer])
def email_csv(
    request: Request, kommun: str | None = None, within: str | None = None, sort: str = "sent"
) -> Response:
    rows = _log(request, kommun, within, sort)
    zone = _zone(request)
    buffer = io.StringIO()
    writer = csv_writer(buffer)  # no cell a spreadsheet runs as a formula (issue 15, M4)
    writer.writerow(LOG_COLUMNS)
    for r in rows:
        writer.writerow([
            r.probe_id, r.kommunkod, r.target, r.area or "",
            r.sent_at.astimezone(zone).isoformat() if r.sent_at else "",
            r.answered_at.astimezone(zone).isoformat() if r.answered_at else "",
            "" if r.business_hours is None else r.business_hours,
            "" if r.within_one_working_day is None else str(r.within_one_working_day).lower(),
            r.reply_kind or "", r.matched_by or "",
            "" if r.confidence is None else f"{r.confidence:.2f}",
            r.acknowledged_at.astimezone(zone).isoformat() if r.acknowledged_at else "",
            " ".join(r.case_numbers),
        ])  # fmt: skip
    return Response(
        buffer.getvalue().encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="e-postlogg.csv"'},
    )


@router.get("/probe/{probe_id}", dependencies=[viewer])
def probe_detail(request: Request, probe_id: int) -> HTMLResponse:
    zone = _zone(request)
    lang = page_lang(request)
    with Session(_engine(request)) as session:
        probe = session.get(Probe, probe_id)
        if probe is None:
            raise HTTPException(404)
        question = session.get(Question, probe.question_id) if probe.question_id else None
        messages = session.exec(
            select(Message).where(Message.probe_id == probe_id).order_by(col(Message.arrived_at))
        ).all()
        _clean_stored_html(session, messages)
        events = phonestore.events_for(session, [probe_id])[probe_id]
    shown = [
        {
            "id": m.id,
            "from": f"{m.from_name or ''} <{m.from_address or ''}>",
            "subject": m.subject or "",
            "date_header": localtime(m.date_header, zone),
            "arrived": localtime(m.arrived_at, zone),
            "source": m.arrival_source or "–",
            "classification": f"{m.classification or '–'} ({m.classification_reason or '–'})"
            + (f", {PAGE_TEXTS['k_holding_reply'](lang)}" if m.holding_reply else ""),
            "matched_by": m.match_method or "–",
            "confidence": "–" if m.match_confidence is None else f"{m.match_confidence:.2f}",
            "text": m.text_body or "",
            "html": m.html_clean,
            "html_refused": m.html_refused,
            "html_limit": HTML_LIMITS.get(m.html_refused or "", ""),
        }
        for m in messages
    ]
    timeline = [
        {"at": localtime(e.occurred_at, zone), "event": e.event, "status": e.status or ""}
        for e in sorted(events, key=lambda e: e.occurred_at)
    ]
    return render(
        request,
        "probe.html",
        {
            "probe": probe,
            "question": question,
            "messages": shown,
            "timeline": timeline,
            "sent": localtime(probe.sent_at, zone),
            "kinds": KINDS,
        },
    )


def _clean_stored_html(session: Session, messages: Sequence[Message]) -> None:
    """Clean, once, the HTML of rows stored before mail HTML was cleaned at ingest.

    Under the same caps as at ingest, so a view costs at most one bounded cleaning per row. The
    result is saved (in a session of its own: committing this one would expire the rows being
    shown), so the next view reads it."""
    stale = [m for m in messages if m.html_body and m.html_clean is None and not m.html_refused]
    if not stale:
        return
    with Session(session.get_bind()) as writer:
        for m in stale:
            shown = clean_mail_html(m.html_body or "")
            writer.execute(
                update(Message)
                .where(col(Message.id) == m.id)
                .values(html_clean=shown.html, html_refused=shown.refused)
            )
            set_committed_value(m, "html_clean", shown.html)
            set_committed_value(m, "html_refused", shown.refused)
        writer.commit()


@router.get("/message/{message_id}.eml", dependencies=[admin])
def message_raw(request: Request, message_id: int) -> Response:
    with Session(_engine(request)) as session:
        message = session.get(Message, message_id)
        if message is None:
            raise HTTPException(404)
        raw = decompress(message.raw_compressed)
    return Response(
        raw,
        media_type="message/rfc822",
        headers={"Content-Disposition": f'attachment; filename="message-{message_id}.eml"'},
    )


@router.get("/review", dependencies=[viewer])
def review_queue(request: Request) -> HTMLResponse:
    zone = _zone(request)
    with Session(_engine(request)) as session:
        waiting = session.exec(
            select(Message)
            .where(col(Message.needs_review) | col(Message.probe_id).is_(None))
            .order_by(col(Message.arrived_at))
        ).all()
        audit = session.exec(
            select(AuditEntry)
            .where(AuditEntry.entity == "message")
            .order_by(col(AuditEntry.id).desc())
            .limit(50)
        ).all()
    items = [
        {
            "id": m.id,
            "from": m.from_address or "",
            "subject": m.subject or "",
            "arrived": localtime(m.arrived_at, zone),
            "classification": m.classification or "–",
            "probe": m.probe_id,
            "candidates": m.candidates,
            "note": m.review_note or "",
            "folder": m.folder,
        }
        for m in waiting
    ]
    trail = [
        {"at": localtime(a.at, zone), "who": a.actor, "what": f"{a.entity} {a.entity_id}",
         "before": a.before, "after": a.after, "reason": a.reason or ""}
        for a in audit
    ]  # fmt: skip
    return render(request, "review.html", {"items": items, "trail": trail, "kinds": KINDS})


@router.post("/review/{message_id}", dependencies=[csrf])
def review_correct(
    request: Request,
    message_id: int,
    user: Annotated[UserView, staff],
    reason: Annotated[str, Form()],
    kind: Annotated[str, Form()] = "",
    probe_id: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "/review",
) -> RedirectResponse:
    lang = page_lang(request)
    assign = probe_id.strip()
    try:
        if assign and not assign.isdigit():
            raise ServiceError("no_email_probe", probe=assign[:20])
        correct(
            service_context(request, user),
            Correction(
                message_id=message_id,
                reason=reason,
                kind=kind or None,
                probe_id=int(assign) if assign else None,
            ),
        )
        flash(request, PAGE_TEXTS["saved"](lang))
    except ServiceError as exc:
        flash(request, PAGE_TEXTS["review_error"](lang, why=messages.describe(exc, lang)))
    return RedirectResponse(_back(back, "/review"), status_code=303)


@router.get("/calls", dependencies=[viewer])
def calls(request: Request) -> HTMLResponse:
    zone = _zone(request)
    rows = call_rows(_engine(request), timeline_rules(_settings(request)))
    for r in rows:
        r["dialled"] = localtime(
            datetime.fromisoformat(r["dial_at"]) if r["dial_at"] else None, zone
        )
    upcoming = upcoming_calls(_engine(request))
    return render(
        request,
        "calls.html",
        {"rows": rows, "upcoming": upcoming, "zone": _settings(request).timezone},
    )


@router.post("/calls/{probe_id}/assess", dependencies=[csrf])
def assess(
    request: Request,
    probe_id: int,
    user: Annotated[UserView, staff],
    direct_answer: Annotated[str, Form()],
    bemotande: Annotated[int, Form(ge=0, le=3)],
    note: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "/calls",
) -> RedirectResponse:
    """The same service, rules and audit as ``kkik call assess``."""
    lang = page_lang(request)
    request_ = AssessCall(probe_id, direct_answer == "yes", bemotande, note.strip() or None)
    try:
        done = assess_call(service_context(request, user), request_)
        flash(request, messages.assessed(lang, probe_id, done.direct_answer, done.bemotande))
    except ServiceError as exc:
        flash(request, messages.describe(exc, lang))
    return RedirectResponse(_back(back, "/calls"), status_code=303)


@router.post("/calls/{probe_id}/mark", dependencies=[csrf])
def mark(
    request: Request,
    probe_id: int,
    user: Annotated[UserView, staff],
    what: Annotated[str, Form(pattern="^(person|transfer)$")],
    back: Annotated[str, Form()] = "/calls",
) -> RedirectResponse:
    lang = page_lang(request)
    try:
        done = mark_call(service_context(request, user), MarkCall(probe_id, cast(Mark, what)))
        flash(request, messages.marked(lang, probe_id, what, localtime(done.at, _zone(request))))
    except ServiceError as exc:
        flash(request, messages.describe(exc, lang))
    return RedirectResponse(_back(back, "/calls"), status_code=303)


def _back(path: str, default: str) -> str:
    """Where a form returns to: a path on this site only (never another host)."""
    ok = path.startswith("/") and not path.startswith("//") and "\\" not in path
    return path if ok else default


def service_context(request: Request, user: UserView | None) -> Context:
    """The services' view of this request: the app's parts and the logged-in person."""
    return Context(
        engine=_engine(request),
        clock=request.app.state.clock,
        settings=_settings(request),
        actor=f"web:{user.name}" if user else "web",
    )


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
    settings = _settings(request)
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


@router.get("/report", dependencies=[viewer])
def report_page(request: Request) -> HTMLResponse:
    return render(request, "report.html", {"formats": ("csv", "xlsx", "json")})


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
    if fmt not in ("csv", "xlsx", "json"):
        raise HTTPException(404)
    lang = page_lang(request)
    try:
        exported = export_campaign(
            service_context(request, user), ExportRequest(format=cast(Format, fmt), lang=lang)
        )
    except ServiceError as exc:
        raise HTTPException(404, detail=messages.describe(exc, lang)) from None
    return Response(
        exported.data,
        media_type=exported.media_type,
        headers={"Content-Disposition": f'attachment; filename="{exported.filename}"'},
    )
