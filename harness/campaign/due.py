"""What is due, and whether it may be sent: the runner's reading of the plan.

``due_probes`` lists the planned probes whose time has come (``due_ids`` their ids alone,
``campaign_rules`` the part of a campaign a due probe needs); ``refused`` is the safety
allowlist (only real, configured addresses of the campaign's targets); ``preview`` says, read
only, what a tick would do with each due probe and why (``kkik run --dry-run``).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from harness.campaign.slots import Slots
from harness.channels.registry import channel
from harness.core.scenario import CampaignSpec
from harness.store.models import Campaign, Probe, ProbeState, Target
from probes.base import HarnessFault


@dataclass(frozen=True)
class Preview:
    """What a tick would do with a due probe: ``send``, ``move`` (its window is closed or the
    day is not a campaign day), or why not (``campaign_paused``, ``target_paused``,
    ``no_channel``, ``day_limit``, or a refusal's fault code)."""

    probe: Probe
    target: str
    verdict: str


def preview(engine: Engine, slots: Slots, now: datetime, ready: Collection[str]) -> list[Preview]:
    """Read-only: what a tick at ``now`` would do with each due probe, and why.

    ``ready``: the channels set up in the configuration, so a dry run needs no credentials to
    build the channels it only reports on."""
    seen: list[Preview] = []
    with Session(engine) as session:
        for probe, target, campaign in due_probes(session, now):
            spec = CampaignSpec.model_validate(campaign.scenario["campaign"])
            refusal = refused(probe, target)
            kind = channel(probe.channel)
            if campaign.status == "paused":
                verdict = "campaign_paused"
            elif target.paused:
                verdict = "target_paused"
            elif refusal is not None:
                verdict = refusal.code
            elif probe.channel not in ready:
                verdict = "no_channel"
            elif slots.window_today(spec, probe.channel, now) is None:
                verdict = "move"
            elif kind.limit_by_placed and slots.placed_today(session, probe, now) >= kind.per_day(
                spec
            ):
                verdict = "day_limit"
            else:
                verdict = "send"
            label = f"{target.kommunkod} {target.name}"
            seen.append(Preview(probe, label, verdict))
    return seen


def due_probes(session: Session, now: datetime) -> list[tuple[Probe, Target, Campaign]]:
    """Planned probes whose time has come, oldest first, with their target and campaign."""
    rows = session.exec(
        select(Probe, Target, Campaign)
        .join(Target, col(Probe.target_id) == col(Target.id))
        .join(Campaign, col(Probe.campaign_id) == col(Campaign.id))
        .where(Probe.state == ProbeState.PLANNED, col(Probe.planned_at) <= now)
        .order_by(col(Probe.planned_at))
    ).all()
    return [(p, t, c) for p, t, c in rows]


def due_ids(session: Session, now: datetime) -> list[int]:
    """The ids of :func:`due_probes`, in the same order: all a tick needs to start from. Loading
    the rows there decoded the campaign's stored scenario (every target of a national campaign)
    once per due probe."""
    ids = session.exec(
        select(Probe.id)
        .where(Probe.state == ProbeState.PLANNED, col(Probe.planned_at) <= now)
        .order_by(col(Probe.planned_at))
    ).all()
    return [probe_id for probe_id in ids if probe_id is not None]


def campaign_rules(session: Session, campaign_id: int) -> tuple[str, CampaignSpec] | None:
    """A campaign's status and its rules (the scenario's ``campaign`` section), read alone: the
    stored scenario also holds every target, which a due probe does not need."""
    row = session.exec(
        select(Campaign.status, col(Campaign.scenario)[("campaign",)]).where(
            Campaign.id == campaign_id
        )
    ).first()
    if row is None:
        return None
    status, rules = row
    return status, CampaignSpec.model_validate(rules)


def refused(probe: Probe, target: Target) -> HarnessFault | None:
    """The safety allowlist: only real, configured addresses of this campaign's targets."""
    if target.placeholder:
        return HarnessFault(
            f"Refused: {target.name} is a placeholder target in the scenario",
            code="refused_placeholder",
            target=target.name,
        )
    kind = channel(probe.channel)
    if not kind.address(target):
        return HarnessFault(
            f"Refused: {target.name} has no {kind.address_name}",
            code=kind.no_address_code,
            target=target.name,
        )
    return None
