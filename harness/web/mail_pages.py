"""The dashboard's e-mail pages: the e-mail log (filter, sort, CSV), a probe's evidence (its mail
and call events), raw mail for admins, and the review queue with its corrections.

Mail HTML is never rendered as it came: it is cleaned by nh3 (an allowlist sanitiser: no script,
no event handlers, no ``javascript:`` links, no SVG, no style) when the mail is stored, under
size and depth caps (:mod:`harness.channels.email.html`), and shown in a sandboxed frame without
scripts, under a page-wide content security policy that forbids script.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from harness import messages
from harness.campaign.evidence import email_evidence
from harness.channels.email.html import MAX_DEPTH, MAX_HTML_CHARS, MAX_TAGS, clean_mail_html
from harness.channels.email.store import decompress
from harness.channels.phone import store as phonestore
from harness.rules.measurement import timing_rules
from harness.services.base import ServiceError
from harness.services.review import KINDS, Correction, correct
from harness.store.models import AuditEntry, Message, Probe, Question
from harness.web.auth import UserView, flash
from harness.web.lang import page_lang
from harness.web.page_base import (
    admin,
    back_to,
    csrf,
    engine_of,
    service_context,
    settings_of,
    staff,
    viewer,
    zone_of,
)
from harness.web.page_texts import PAGE_TEXTS
from harness.web.render import localtime, render
from results.calendar import DeadlineRule
from results.email_log import log_rows
from results.spreadsheet import csv_writer

# The cap a refused mail HTML broke, for the note shown instead of it.
HTML_LIMITS = {"size": f"{MAX_HTML_CHARS:,}".replace(",", "\u00a0"),
               "tags": f"{MAX_TAGS:,}".replace(",", "\u00a0"), "depth": str(MAX_DEPTH)}  # fmt: skip

router = APIRouter()

LOG_COLUMNS = ["probe_id", "kommunkod", "kommun", "area", "sent_at", "answered_at",
               "business_hours", "within_one_working_day", "reply_kind", "matched_by",
               "match_confidence", "acknowledged_at", "case_numbers"]  # fmt: skip
router = APIRouter()


def _log(request: Request, kommunkod: str | None, within: str | None, sort: str) -> list[Any]:
    settings = settings_of(request)
    rules = timing_rules(settings)
    # The configured calendar: log_rows adds each probe's own campaign's closed days.
    rows = log_rows(
        email_evidence(engine_of(request), kommunkod or None, None, settings.timezone,
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
    zone = zone_of(request)
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
    zone = zone_of(request)
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
    zone = zone_of(request)
    lang = page_lang(request)
    with Session(engine_of(request)) as session:
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
    with Session(engine_of(request)) as session:
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
    zone = zone_of(request)
    with Session(engine_of(request)) as session:
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
    return RedirectResponse(back_to(back, "/review"), status_code=303)
