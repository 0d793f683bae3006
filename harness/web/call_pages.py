"""The dashboard's calls page: calls awaiting assessment with their timelines, the upcoming
calls, and the tester's marks and assessment (the same services as ``kkik call``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, cast
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import Engine

from harness import messages
from harness.campaign.by_target import TargetPieces, everything_else, fingerprints
from harness.campaign.evidence import target_call_rows
from harness.channels.phone.console import upcoming_calls
from harness.core.config import Settings
from harness.rules.measurement import timeline_rules
from harness.services.base import ServiceError
from harness.services.calls import AssessCall, Mark, MarkCall, assess_call, mark_call
from harness.web.auth import UserView, flash
from harness.web.derived import derived
from harness.web.lang import page_lang
from harness.web.listing import MAX_QUERY, known_targets, match_municipalities, page_of
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
def calls(request: Request, kommun: str = "", page: str = "1") -> HTMLResponse:
    engine, settings = engine_of(request), settings_of(request)
    zone = zone_of(request)

    pieces: TargetPieces[list[Placed]] = request.app.state.call_pieces
    placed = derived(
        request, "call_rows", None, lambda: placed_calls(engine, settings, zone, pieces)
    )
    targets = known_targets(engine)
    wanted = match_municipalities(kommun, targets)
    shown = placed if not kommun.strip() else [r for r in placed if r["kommunkod"] in wanted]
    upcoming = upcoming_calls(engine)  # the campaign's next calls, whatever the filter
    return render(
        request,
        "calls.html",
        {
            "page": page_of(shown, page),
            "upcoming": upcoming,
            "zone": settings.timezone,
            "kommun": kommun[:MAX_QUERY],
            "unknown_kommun": bool(kommun.strip()) and not wanted,
            "targets": targets,
            "any_calls": bool(placed),
        },
    )


Placed = tuple[tuple[datetime, int], dict[str, Any]]  # (when claimed, probe id), the row


def placed_calls(
    engine: Engine,
    settings: Settings,
    zone: ZoneInfo,
    pieces: TargetPieces[list[Placed]] | None = None,
) -> list[dict[str, Any]]:
    """Every placed call's row with its timeline (recomputed from the stored callbacks) and
    assessment, in the order placed, assembled from pieces per municipality
    (:mod:`harness.campaign.by_target`): with ``pieces`` (the app's memo) only the
    municipalities whose evidence changed are made again; without, every one is made."""
    memo: TargetPieces[list[Placed]] = pieces if pieces is not None else TargetPieces()
    rules = timeline_rules(settings)
    with engine.connect() as connection:
        prints = fingerprints(connection, None)
        context = (rules, str(zone), everything_else(connection))

    def make(targets: Sequence[int]) -> dict[int, list[Placed]]:
        out: dict[int, list[Placed]] = {target: [] for target in targets}
        for target, place, row in target_call_rows(engine, rules, None, targets):
            row["dialled"] = localtime(
                datetime.fromisoformat(row["dial_at"]) if row["dial_at"] else None, zone
            )
            out[target].append((place, row))
        return out

    got = memo.pieces(("calls",), context, prints, make)
    return [row for _, row in sorted((p for piece in got.values() for p in piece), key=_place)]


def _place(placed: Placed) -> tuple[datetime, int]:
    return placed[0]


@router.post("/calls/{probe_id}/assess", dependencies=[csrf])
def assess(
    request: Request,
    probe_id: int,
    user: Annotated[UserView, staff],
    direct_answer: Annotated[str, Form()],
    bemotande: Annotated[int | None, Form(ge=0, le=3)] = None,
    bemotande_2011: Annotated[int | None, Form(ge=0, le=2)] = None,
    case_officer: Annotated[str, Form(pattern="^(yes|no|)$")] = "",
    note: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "/calls",
) -> RedirectResponse:
    """The same service, rules and audit as ``kkik call assess``: a first assessment or a
    change of one (the audit keeps both, with the reason given)."""
    lang = page_lang(request)
    request_ = AssessCall(
        probe_id, direct_answer == "yes", bemotande, note.strip() or None, reason.strip() or None,
        bemotande_2011=bemotande_2011,
        case_officer={"yes": True, "no": False}.get(case_officer),
    )  # fmt: skip
    try:
        done = assess_call(service_context(request, user), request_)
        flash(
            request,
            messages.assessed(
                lang, probe_id, done.direct_answer, done.bemotande, done.bemotande_2011,
                done.case_officer,
            ),
        )  # fmt: skip
    except ServiceError as exc:
        flash(request, messages.describe(exc, lang))
    return RedirectResponse(back_to(back, "/calls"), status_code=303)


@router.post("/calls/{probe_id}/mark", dependencies=[csrf])
def mark(
    request: Request,
    probe_id: int,
    user: Annotated[UserView, staff],
    what: Annotated[str, Form(pattern="^(person|transfer|case_officer)$")],
    back: Annotated[str, Form()] = "/calls",
) -> RedirectResponse:
    lang = page_lang(request)
    try:
        done = mark_call(service_context(request, user), MarkCall(probe_id, cast(Mark, what)))
        flash(request, messages.marked(lang, probe_id, what, localtime(done.at, zone_of(request))))
    except ServiceError as exc:
        flash(request, messages.describe(exc, lang))
    return RedirectResponse(back_to(back, "/calls"), status_code=303)
