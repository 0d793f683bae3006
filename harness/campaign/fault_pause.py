"""The runner's brake: a campaign whose last dispatches all failed on our side the same way is
paused, with the reason stored as a code (``repeated_fault``) and audited as ``runner``.

A fault on our side (the relay refuses us, the password is wrong, Twilio refuses the account)
hits every question alike: replacing probe after probe would burn the plan while nothing reaches
anyone. ``kkik run`` and the alert mail tell the operator; a person resumes the campaign.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from harness.core.events import RunEvent
from harness.store.models import AuditEntry, Campaign, Probe

log = logging.getLogger(__name__)


def pause_on_repeats(engine: Engine, probe_id: int, limit: int, now: datetime) -> RunEvent | None:
    """Pause the campaign when its last dispatches all failed on our side the same way.

    A fault on our side (the relay refuses us, the password is wrong, Twilio refuses the
    account) hits every question alike: replacing probe after probe would burn the plan
    while nothing reaches anyone. The campaign stops instead, with the reason stored as a
    code and audited, and the operator is told (``kkik run``, the alert mail).
    """
    if limit <= 0:
        return None
    with Session(engine) as session:
        probe = session.get(Probe, probe_id)
        campaign = session.get(Campaign, probe.campaign_id) if probe else None
        if probe is None or campaign is None or campaign.status == "paused":
            return None
        recent = session.exec(
            select(Probe.outcome, Probe.fault_code)
            .where(Probe.campaign_id == campaign.id, col(Probe.claimed_at).is_not(None))
            .order_by(col(Probe.claimed_at).desc(), col(Probe.id).desc())
            .limit(limit)
        ).all()
        codes = {code for outcome, code in recent if outcome == "harness_fault"}
        if len(recent) < limit or len(codes) != 1 or None in codes:
            return None
        if any(outcome != "harness_fault" for outcome, _ in recent):
            return None
        before = campaign.status
        campaign.status = "paused"
        campaign.paused_code = "repeated_fault"
        campaign.paused_params = {"count": limit, "fault": probe.fault_code,
                                  **(probe.fault_params or {})}  # fmt: skip
        campaign.paused_at = now
        session.add(campaign)
        session.add(
            AuditEntry(
                at=now,
                actor="runner",
                action="pause",
                entity="campaign",
                entity_id=str(campaign.id),
                before={"value": before},
                after={"value": "paused", "code": "repeated_fault",
                       "params": campaign.paused_params},
            )
        )  # fmt: skip
        session.commit()
        log.warning("campaign %s paused: %s x %s", campaign.name, limit, probe.fault_code)
        return RunEvent("paused", target=campaign.name, code="repeated_fault",
                        params=dict(campaign.paused_params))  # fmt: skip
