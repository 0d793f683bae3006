"""Running a campaign by hand: pause and resume it (or one municipality), withdraw a probe.

A paused campaign or municipality is never contacted (the runner checks before every send); a
withdrawn probe is never sent. Each change is audited with who and why.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from harness.services.base import Context, ServiceError
from harness.store.models import Campaign, Probe, ProbeState, Target

__all__ = ["Paused", "cancel_probe", "set_paused"]


@dataclass(frozen=True)
class Paused:
    what: str  # "0180 Stockholm" or the campaign's name
    paused: bool
    changed: bool  # False when it already was so


def _latest_campaign(session: Session) -> Campaign:
    campaign = session.exec(select(Campaign).order_by(col(Campaign.id).desc())).first()
    if campaign is None:
        raise ServiceError("no_campaign_saved")
    return campaign


def set_paused(
    ctx: Context, paused: bool, kommunkod: str | None = None, reason: str | None = None
) -> Paused:
    """Pause (or resume) the latest campaign, or only the municipality ``kommunkod`` in it."""
    with Session(ctx.engine) as session:
        campaign = _latest_campaign(session)
        action = "pause" if paused else "resume"
        if kommunkod:
            target = session.exec(
                select(Target).where(
                    Target.campaign_id == campaign.id, Target.kommunkod == kommunkod
                )
            ).first()
            if target is None:
                raise ServiceError("no_target", code=kommunkod)
            before = target.paused
            target.paused = paused
            session.add(target)
            what = f"{target.kommunkod} {target.name}"
            session.add(ctx.audit(action, "target", target.id, {"value": str(before)},
                                  {"value": str(paused)}, reason))  # fmt: skip
            changed = before != paused
        else:
            before_status = campaign.status
            campaign.status = "paused" if paused else "running"
            if not paused:  # a person resumed it: the runner's reason for pausing is done with
                campaign.paused_code = campaign.paused_params = campaign.paused_at = None
            session.add(campaign)
            what = campaign.name
            session.add(ctx.audit(action, "campaign", campaign.id, {"value": before_status},
                                  {"value": campaign.status}, reason))  # fmt: skip
            changed = before_status != campaign.status
        session.commit()
    return Paused(what, paused, changed)


def cancel_probe(ctx: Context, probe_id: int, reason: str | None = None) -> None:
    """Withdraw a planned probe: it is never sent. Only planned probes can be withdrawn."""
    with Session(ctx.engine) as session:
        probe = session.get(Probe, probe_id)
        if probe is None:
            raise ServiceError("no_probe", probe=probe_id)
        if probe.state != ProbeState.PLANNED:
            raise ServiceError("not_planned", probe=probe_id, state=probe.state)
        probe.state = ProbeState.CANCELLED
        session.add(probe)
        session.add(ctx.audit("cancel", "probe", probe_id, {"value": "planned"},
                              {"value": "cancelled"}, reason))  # fmt: skip
        session.commit()
