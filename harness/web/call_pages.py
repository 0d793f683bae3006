"""The dashboard's calls page: calls awaiting assessment with their timelines, the upcoming
calls, and the tester's marks and assessment (the same services as ``kkik call``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, cast

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from harness import messages
from harness.campaign.evidence import call_rows
from harness.channels.phone.console import upcoming_calls
from harness.rules.measurement import timeline_rules
from harness.services.base import ServiceError
from harness.services.calls import AssessCall, Mark, MarkCall, assess_call, mark_call
from harness.web.auth import UserView, flash
from harness.web.lang import page_lang
from harness.web.page_base import (
    back_to,
    csrf,
    engine_of,
    service_context,
    settings_of,
    staff,
    viewer,
    zone_of,
)
from harness.web.render import localtime, render

router = APIRouter()


@router.get("/calls", dependencies=[viewer])
def calls(request: Request) -> HTMLResponse:
    zone = zone_of(request)
    rows = call_rows(engine_of(request), timeline_rules(settings_of(request)))
    for r in rows:
        r["dialled"] = localtime(
            datetime.fromisoformat(r["dial_at"]) if r["dial_at"] else None, zone
        )
    upcoming = upcoming_calls(engine_of(request))
    return render(
        request,
        "calls.html",
        {"rows": rows, "upcoming": upcoming, "zone": settings_of(request).timezone},
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
    return RedirectResponse(back_to(back, "/calls"), status_code=303)


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
        flash(request, messages.marked(lang, probe_id, what, localtime(done.at, zone_of(request))))
    except ServiceError as exc:
        flash(request, messages.describe(exc, lang))
    return RedirectResponse(back_to(back, "/calls"), status_code=303)
