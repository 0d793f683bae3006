"""Calls: the tester's marks during a call, and a person's assessment after it.

A mark ("a person answered", "I was transferred", "I reached a case officer") is timed by the
process clock at the moment the service is called: the tester presses it while the call is
going on. The assessment
(direct answer, bemötande 0-3) is a person's judgement, kept apart from Twilio's evidence, and
every change is in the audit log with the values before and after.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlmodel import Session, select

from harness.campaign.evidence import call_rows
from harness.campaign.runner import PlaceNow, Runner
from harness.channels.phone import store as phonestore
from harness.channels.phone.console import load_call
from harness.rules.measurement import timeline_rules
from harness.services.base import Context, ServiceError
from harness.store.models import Assessment, Campaign, Channel, Probe, ProbeState
from probes.phone_call import PhoneProbe

__all__ = [
    "AssessCall",
    "Assessed",
    "MarkCall",
    "Marked",
    "assess_call",
    "end_call",
    "mark_call",
    "start_call",
]

Mark = Literal["person", "transfer", "case_officer"]


@dataclass(frozen=True)
class MarkCall:
    probe_id: int
    what: Mark


@dataclass(frozen=True)
class Marked:
    probe_id: int
    what: Mark
    at: datetime


@dataclass(frozen=True)
class AssessCall:
    """``bemotande`` on the four-level scale, or for a campaign of edition 2011
    ``bemotande_2011`` on its own three levels; ``case_officer`` None leaves it to the tester's
    mark during the call."""

    probe_id: int
    direct_answer: bool
    bemotande: int | None  # mycket god = 3, god = 2, medelgod = 1, dålig = 0
    note: str | None = None  # None keeps the earlier note
    reason: str | None = None  # why an earlier assessment changes
    bemotande_2011: int | None = None  # god = 2, medelgod = 1, dålig = 0
    case_officer: bool | None = None


@dataclass(frozen=True)
class Assessed:
    probe_id: int
    direct_answer: bool
    bemotande: int | None
    changed: bool  # an earlier assessment was replaced
    bemotande_2011: int | None = None
    case_officer: bool | None = None


def _call(session: Session, probe_id: int) -> Probe:
    """The call ``probe_id``; ServiceError ``no_call`` / ``not_call`` otherwise."""
    probe = session.get(Probe, probe_id)
    if probe is None:
        raise ServiceError("no_call", probe=probe_id)
    if probe.channel != Channel.PHONE:
        raise ServiceError("not_call", probe=probe_id)
    return probe


def mark_call(ctx: Context, request: MarkCall) -> Marked:
    """Record the tester's mark on a placed call, at this moment; audited."""
    if request.what not in ("person", "transfer", "case_officer"):
        raise ServiceError("bad_mark", what=request.what)
    at = ctx.now()
    with Session(ctx.engine) as session:
        probe = _call(session, request.probe_id)
        if probe.state not in (ProbeState.SENDING, ProbeState.SENT, ProbeState.COMPLETED):
            raise ServiceError("not_placed", probe=request.probe_id, state=probe.state)
        phonestore.add_mark(session, probe, request.what, at, ctx.actor)
        session.add(
            ctx.audit(
                f"mark_{request.what}",
                "probe",
                request.probe_id,
                None,
                {"at": at.isoformat()},
                at=at,
            )
        )
        session.commit()
    return Marked(request.probe_id, request.what, at)


def assess_call(ctx: Context, request: AssessCall) -> Assessed:
    """Record (or change) a person's assessment of a bridged call that reached a person.

    A campaign of edition 2011 is assessed on its own three-level scale (god, medelgod, dålig),
    the others on the four levels 0-3."""
    with Session(ctx.engine) as session:
        probe = _call(session, request.probe_id)
        campaign = session.get(Campaign, probe.campaign_id)
    three_levels = campaign is not None and campaign.edition == "2011"
    if three_levels:
        if request.bemotande_2011 not in (0, 1, 2):
            raise ServiceError("bad_bemotande_2011", value=request.bemotande_2011)
        if request.bemotande is not None and request.bemotande not in (0, 1, 2, 3):
            raise ServiceError("bad_bemotande", value=request.bemotande)
    elif request.bemotande not in (0, 1, 2, 3):
        raise ServiceError("bad_bemotande", value=request.bemotande)
    if probe.mode == "automated":
        raise ServiceError("automated", probe=request.probe_id)
    row = next(r for r in call_rows(ctx.engine, timeline_rules(ctx.settings), request.probe_id))
    if row["outcome"] is None:
        raise ServiceError("unfinished", probe=request.probe_id)
    if row["outcome"] != "person":
        raise ServiceError("no_person", probe=request.probe_id, outcome=row["outcome"])
    now = ctx.now()
    with Session(ctx.engine) as session:
        found = session.exec(
            select(Assessment).where(Assessment.probe_id == request.probe_id)
        ).first()
        before = _public(found) if found else None
        assessment = found or Assessment(
            probe_id=request.probe_id, assessor=ctx.actor, person_reached=True, assessed_at=now
        )
        assessment.direct_answer = request.direct_answer
        assessment.bemotande = request.bemotande
        assessment.bemotande_2011 = request.bemotande_2011 if three_levels else None
        assessment.case_officer = request.case_officer
        assessment.person_reached = True
        assessment.transferred = row["transferred_at"] is not None
        assessment.notes = request.note if request.note is not None else assessment.notes
        assessment.assessor = ctx.actor
        assessment.assessed_at = now
        session.add(assessment)
        action = "assess" if before is None else "reassess"
        session.add(
            ctx.audit(
                action,
                "probe",
                request.probe_id,
                before,
                _public(assessment),
                request.reason,
                at=now,
            )
        )
        session.commit()
    return Assessed(
        request.probe_id,
        request.direct_answer,
        request.bemotande,
        before is not None,
        request.bemotande_2011 if three_levels else None,
        request.case_officer,
    )


def _public(a: Assessment) -> dict[str, Any]:
    return {
        "direct_answer": a.direct_answer,
        "bemotande": a.bemotande,
        "bemotande_2011": a.bemotande_2011,
        "case_officer": a.case_officer,
        "transferred": a.transferred,
        "notes": a.notes,
        "assessor": a.assessor,
    }


async def start_call(ctx: Context, runner: Runner, probe_id: int) -> PlaceNow:
    """Place a planned bridged call now (the call console's "Ring upp nu").

    Every rule of a runner tick applies (:meth:`harness.campaign.runner.Runner.place_now`); a
    refusal
    comes back as the result's reason and leaves the probe planned. Audited either way.
    """
    result = await runner.place_now(probe_id)
    with Session(ctx.engine) as session:
        session.add(ctx.audit("call_start", "probe", probe_id, None, {"result": result.reason}))
        session.commit()
    return result


async def end_call(ctx: Context, phone: PhoneProbe, probe_id: int) -> None:
    """Hang up a live call: Twilio ends the tester's leg, and with it the switchboard's.

    The timeline still comes from Twilio's callbacks; this only asks for the end. Audited.
    """
    view = load_call(ctx.engine, probe_id, timeline_rules(ctx.settings))
    if view is None:
        raise ServiceError("no_call", probe=probe_id)
    if not view.live or not view.probe.call_sid:
        raise ServiceError("not_live", probe=probe_id)
    try:
        await phone.hang_up(view.probe.call_sid)
    except Exception as exc:  # Twilio refused or was unreachable: the call may still run
        raise ServiceError("hangup_failed", probe=probe_id, why=str(exc)[:200]) from exc
    with Session(ctx.engine) as session:
        session.add(
            ctx.audit("call_hangup", "probe", probe_id, None, {"call_sid": view.probe.call_sid})
        )
        session.commit()
