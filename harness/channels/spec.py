"""What a channel declares to the registry (:mod:`harness.channels.registry`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from harness.core.config import Settings
from harness.core.scenario import CampaignSpec
from harness.store.models import Probe, Question, Target
from results.measures import MEASURES

if TYPE_CHECKING:
    from probes.base import Probe as ChannelProbe

__all__ = ["ChannelSpec", "Resolver"]

Resolver = Callable[[Probe], Awaitable[datetime | None]]


@dataclass(frozen=True)
class ChannelSpec:
    name: str  # stored on every probe (Probe.channel)
    # How the campaign runs it.
    window: Callable[[CampaignSpec], tuple[time, time]]
    per_day: Callable[[CampaignSpec], int]
    # Whether the day's limit is counted from what was placed today (calls placed by hand from
    # the console count too), not only from the plan.
    limit_by_placed: bool
    address: Callable[[Target], str | None]  # where this target is asked
    address_name: str  # for the refusal logged when a target has none
    no_address_code: str  # the refusal's code (harness.core.labels.FAULTS)
    question_text: Callable[[Question], str]  # the words sent or spoken
    # Our own identifiers stored before the send, so a crash can be resolved from evidence.
    mints_message_id: bool
    records_mode: bool  # the call's mode (bridged, automated) is the adapter's
    waits_for_reply: bool  # unanswered after the give-up limit counts as not answered
    # Whether it is configured, the adapter, and how a crashed send is looked up.
    configured: Callable[[Settings], bool]
    build: Callable[[Settings, Path | None, Mapping[str, str] | None], ChannelProbe]
    resolver: Callable[[Settings, Path | None, Engine, Mapping[str, str] | None], Resolver | None]
    evidence: str  # where its evidence is kept (documentation and the architecture test)

    @property
    def measures(self) -> tuple[str, ...]:
        """The KKiK measures fed by this channel (results.measures)."""
        return tuple(m.id for m in MEASURES.values() if m.channel == self.name)
