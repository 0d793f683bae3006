"""The call console: start a bridged call, follow it live, mark it, end it, assess it.

Starting a call goes through :meth:`harness.campaign.runner.Runner.place_now`, so the console obeys
the same safety rules as the runner (only inside the call window, the day's call limit, pauses, only
campaign targets) and claims the probe the same way: a runner ticking at the same moment cannot
place it twice. Ending a call asks Twilio to hang up the tester's leg; the timeline still comes from
Twilio's callbacks. The recording of an automated call is fetched from the Twilio API on request
(never stored on our disk) and shown with a marker where the person began.

The page works without script (it refreshes itself while a call is live); ``console.js`` adds
a running timer and live status without reloading.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlmodel import Session, select

from harness.channels.phone.console import CallView, load_call
from harness.rules.measurement import timeline_rules
from harness.services import calls
from harness.services.base import ServiceError
from harness.store.models import Assessment, Campaign
from harness.web.audit_text import actor_text
from harness.web.auth import UserView, flash, require_csrf, require_role
from harness.web.lang import page_lang
from harness.web.page_base import CONSOLE_CSP, service_context
from harness.web.page_texts import PAGE_TEXTS
from harness.web.render import render
from probes.phone_call import PhoneProbe

log = logging.getLogger(__name__)
router = APIRouter()
viewer = Depends(require_role("viewer"))
staff = Depends(require_role("staff"))
csrf = Depends(require_csrf)
STATUSES = ("queued", "initiated", "ringing", "in-progress", "completed", "busy", "no-answer",
            "failed", "canceled")  # fmt: skip


def _phone(request: Request) -> PhoneProbe | None:
    phone: PhoneProbe | None = getattr(request.app.state, "phone", None)
    return phone


def _call(request: Request, probe_id: int) -> CallView:
    view = load_call(request.app.state.engine, probe_id, timeline_rules(request.app.state.settings))
    if view is None:
        raise HTTPException(404)
    return view


@router.get("/calls/{probe_id}", dependencies=[viewer])
def console(request: Request, probe_id: int) -> HTMLResponse:
    view = _call(request, probe_id)
    settings = request.app.state.settings
    now = request.app.state.clock.now()
    phone = _phone(request)
    with Session(request.app.state.engine) as session:
        assessment = session.exec(select(Assessment).where(Assessment.probe_id == probe_id)).first()
        campaign = session.get(Campaign, view.probe.campaign_id)
    # Edition 2011 is assessed on its own three-level scale, with "case officer reached".
    edition_2011 = campaign is not None and campaign.edition == "2011"
    # An assessed call shows its assessment, and the form to change it.
    shown = assessment if assessment is not None and assessment.direct_answer is not None else None
    page = render(
        request,
        "console.html",
        {
            "call": view,
            "elapsed": int(view.elapsed(now)),
            "zone": settings.timezone,
            "can_start": phone is not None
            and phone.mode == "bridged"
            and view.planned
            and view.mode == "bridged",
            "caller_number": phone.config.caller_number if phone is not None else None,
            "levels": (3, 2, 1, 0),
            "levels_2011": (2, 1, 0),
            "edition_2011": edition_2011,
            "statuses": STATUSES,
            "assessment": shown,
            "assessor": actor_text(shown.assessor, page_lang(request)) if shown else "",
        },
    )
    page.headers["Content-Security-Policy"] = CONSOLE_CSP
    return page


@router.get("/calls/{probe_id}/status.json", dependencies=[viewer])
def call_status(request: Request, probe_id: int) -> JSONResponse:
    view = _call(request, probe_id)
    return JSONResponse(view.status(request.app.state.clock.now()))


@router.post("/calls/{probe_id}/start", dependencies=[csrf])
async def start_call(
    request: Request, probe_id: int, user: Annotated[UserView, staff]
) -> RedirectResponse:
    lang = page_lang(request)
    phone = _phone(request)
    if phone is None or phone.mode != "bridged":
        flash(request, PAGE_TEXTS["start_no_phone"](lang))
        return RedirectResponse(f"/calls/{probe_id}", status_code=303)
    # The runner's rules and claim, over the phone channel only: the console places calls.
    runner = request.app.state.console_runner(phone)
    result = await calls.start_call(service_context(request, user), runner, probe_id)
    flash(request, PAGE_TEXTS[f"start_{result.reason}"](lang))
    return RedirectResponse(f"/calls/{probe_id}", status_code=303)


@router.post("/calls/{probe_id}/end", dependencies=[csrf])
async def end_call(
    request: Request, probe_id: int, user: Annotated[UserView, staff]
) -> RedirectResponse:
    """Hang up: Twilio ends the tester's leg, and with it the switchboard's."""
    lang = page_lang(request)
    phone = _phone(request)
    if phone is None:
        flash(request, PAGE_TEXTS["end_not_live"](lang))
        return RedirectResponse(f"/calls/{probe_id}", status_code=303)
    try:
        await calls.end_call(service_context(request, user), phone, probe_id)
    except ServiceError as exc:
        if exc.code == "hangup_failed":
            log.warning("hang-up of probe %s failed: %s", probe_id, exc.fields.get("why"))
        key = {"hangup_failed": "end_failed", "no_call": "end_not_live"}.get(exc.code)
        flash(request, PAGE_TEXTS[key or "end_not_live"](lang))
        return RedirectResponse(f"/calls/{probe_id}", status_code=303)
    flash(request, PAGE_TEXTS["ended"](lang))
    return RedirectResponse(f"/calls/{probe_id}", status_code=303)


@router.get("/calls/{probe_id}/recording.wav", dependencies=[staff])
async def recording(request: Request, probe_id: int) -> Response:
    """The call's recording, fetched from Twilio for this request (staff: it is personal data)."""
    view = _call(request, probe_id)
    phone = _phone(request)
    if view.recording is None or phone is None:
        raise HTTPException(404)
    try:
        audio = await phone.recording_audio(view.recording.sid)
    except (LookupError, ValueError) as exc:
        log.warning("recording of probe %s: %s", probe_id, exc)
        raise HTTPException(404) from None
    headers = {
        "Cache-Control": "private, no-store",
        "Content-Disposition": "inline",
        "Accept-Ranges": "bytes",
    }
    # A player can seek only if it may ask for part of the file (the marker's "play from").
    wanted = byte_range(request.headers.get("range"), len(audio))
    if wanted is None:
        return Response(audio, media_type="audio/wav", headers=headers)
    first, last = wanted
    headers["Content-Range"] = f"bytes {first}-{last}/{len(audio)}"
    return Response(audio[first : last + 1], 206, media_type="audio/wav", headers=headers)


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The one range of an HTTP ``Range: bytes=…`` header, clamped to ``size``; else None.

    Only a single range is honoured (what media players ask for); anything else gets the whole
    file, which HTTP allows."""
    if not header or not header.startswith("bytes=") or "," in header or size == 0:
        return None
    start, _, end = header[6:].strip().partition("-")
    try:
        if start:
            first = int(start)
            last = int(end) if end else size - 1
        else:  # "bytes=-N": the last N bytes
            first, last = max(0, size - int(end)), size - 1
    except ValueError:
        return None
    if first < 0 or first >= size or last < first:
        return None
    return first, min(last, size - 1)
