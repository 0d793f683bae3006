"""The dashboard's e-mail pages: the e-mail log (filter, sort, CSV), a probe's evidence (its mail
and call events), raw mail for admins, and the review queue with its corrections.

Mail HTML is never rendered as it came: it is cleaned by nh3 (an allowlist sanitiser: no script,
no event handlers, no ``javascript:`` links, no SVG, no style) when the mail is stored, under
size and depth caps (:mod:`harness.channels.email.html`), and shown in a sandboxed frame without
scripts, under a page-wide content security policy that forbids script.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from harness import messages
from harness.channels.email.html import MAX_DEPTH, MAX_HTML_CHARS, MAX_TAGS, clean_mail_html
from harness.channels.email.store import decompress
from harness.channels.phone import store as phonestore
from harness.core.i18n import Lang
from harness.core.labels import (
    CALL_EVENTS,
    CALL_STATUSES,
    MAIL_KINDS,
    PROBE_OUTCOMES,
    PROBE_STATES,
    label,
)
from harness.core.mail_labels import (
    ARRIVAL_SOURCES,
    CLASSIFICATION_REASONS,
    MATCH_METHODS,
    folder_label,
    review_text,
)
from harness.services.base import ServiceError
from harness.services.mail_assess import AssessMail, assess_mail, mail_proposal
from harness.services.review import KINDS, Correction, correct
from harness.store.models import AuditEntry, Message, Probe, Question
from harness.web.audit_text import actor_text, change_text
from harness.web.auth import UserView, flash
from harness.web.lang import page_lang
from harness.web.page_base import (
    admin,
    back_to,
    csrf,
    engine_of,
    service_context,
    staff,
    viewer,
    zone_of,
)
from harness.web.page_texts import PAGE_TEXTS
from harness.web.render import localtime, render

# The cap a refused mail HTML broke, for the note shown instead of it.
HTML_LIMITS = {"size": f"{MAX_HTML_CHARS:,}".replace(",", "\u00a0"),
               "tags": f"{MAX_TAGS:,}".replace(",", "\u00a0"), "depth": str(MAX_DEPTH)}  # fmt: skip

router = APIRouter()


@router.get("/probe/{probe_id}", dependencies=[viewer])
def probe_detail(
    request: Request, probe_id: int, user: Annotated[UserView, viewer]
) -> HTMLResponse:
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
            "source": label(ARRIVAL_SOURCES, m.arrival_source, lang),
            "classification": _classification(m, lang),
            "matched_by": label(MATCH_METHODS, m.match_method, lang),
            "confidence": "–" if m.match_confidence is None else f"{m.match_confidence:.2f}",
            "text": m.text_body or "",
            "html": m.html_clean,
            "html_refused": m.html_refused,
            "html_limit": HTML_LIMITS.get(m.html_refused or "", ""),
        }
        for m in messages
    ]
    timeline = [
        {
            "at": localtime(e.occurred_at, zone),
            "event": label(CALL_EVENTS, e.event, lang),
            "status": label(CALL_STATUSES, e.status, lang, none=""),
        }
        for e in sorted(events, key=lambda e: e.occurred_at)
    ]
    # An answered question is judged by a person: the signature's proposal fills the form.
    proposal = None
    if probe.channel == "email" and probe.outcome == "answered":
        try:
            proposal = mail_proposal(service_context(request, user), probe_id)
        except ServiceError:
            proposal = None  # the answer was taken back meanwhile: nothing to judge
    return render(
        request,
        "probe.html",
        {
            "proposal": proposal,
            "probe": probe,
            "question": question,
            "messages": shown,
            "timeline": timeline,
            "sent": localtime(probe.sent_at, zone),
            "state": label(PROBE_STATES, probe.state, lang),
            "outcome": label(PROBE_OUTCOMES, probe.outcome, lang, none=""),
            "kinds": KINDS,
        },
    )


def _classification(m: Message, lang: Lang) -> str:
    """The kind in words, why (the rule's reason or a person's correction), holding or not."""
    kind = label(MAIL_KINDS, m.classification, lang)
    why = (
        PAGE_TEXTS["by_person"](lang)
        if m.classified_by == "manual"
        else label(CLASSIFICATION_REASONS, m.classification_reason, lang)
    )
    holding = f", {PAGE_TEXTS['k_holding_reply'](lang)}" if m.holding_reply else ""
    return f"{kind} ({why}){holding}"


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


@router.post("/probe/{probe_id}/assess-mail", dependencies=[csrf])
def assess_mail_answer(
    request: Request,
    probe_id: int,
    user: Annotated[UserView, staff],
    answered: Annotated[str, Form(pattern="^(yes|no)$")],
    correct: Annotated[str, Form(pattern="^(yes|no)$")],
    extra_help: Annotated[str, Form(pattern="^(yes|no)$")],
    sender_name: Annotated[str, Form()] = "",
    sender_title: Annotated[str, Form()] = "",
    sender_phone: Annotated[str, Form()] = "",
    sender_address: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> RedirectResponse:
    """The same service, rules and audit as ``kkik mail assess``."""
    lang = page_lang(request)
    wanted = AssessMail(
        probe_id, sender_name, sender_title, sender_phone, sender_address,
        answered == "yes", correct == "yes", extra_help == "yes", note, reason or None,
    )  # fmt: skip
    try:
        done = assess_mail(service_context(request, user), wanted)
        flash(
            request,
            messages.mail_assessed(lang, probe_id, done.sender_complete, done.quality_points),
        )
    except ServiceError as exc:
        flash(request, messages.describe(exc, lang))
    return RedirectResponse(f"/probe/{probe_id}", status_code=303)


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
    lang = page_lang(request)
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
            "classification": _classification(m, lang),
            "probe": m.probe_id,
            "candidates": m.candidates,
            "note": review_text(m.review_codes, lang, fallback=m.review_note),
            "folder": folder_label(m.folder, lang),
        }
        for m in waiting
    ]
    trail = [
        {"at": localtime(a.at, zone), "who": actor_text(a.actor, lang),
         "what": change_text(a.entity, a.entity_id, a.before, a.after, lang),
         "reason": a.reason or ""}
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
