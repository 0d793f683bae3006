"""The phone channel as the registry knows it: a call to the switchboard in the call window,
its evidence Twilio's callbacks and the tester's marks (:mod:`harness.channels.phone.store`),
its timeline built by :mod:`results.phone_timeline`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from harness.channels.spec import ChannelSpec, Resolver
from harness.core.config import Settings
from harness.store.models import Channel, Probe

if TYPE_CHECKING:
    from probes.base import Probe as ChannelProbe


def _phone_probe(
    settings: Settings, base: Path | None, environ: Mapping[str, str] | None
) -> ChannelProbe:
    del base
    from harness.channels.phone.adapters import phone_probe

    return phone_probe(settings, environ)


def _phone_resolver(
    settings: Settings, base: Path | None, engine: Engine, environ: Mapping[str, str] | None
) -> Resolver | None:
    del settings, base, environ
    from harness.channels.phone.adapters import call_placed

    async def resolve(probe: Probe) -> datetime | None:
        return await call_placed(engine, probe)

    return resolve


CHANNEL = ChannelSpec(
    name=Channel.PHONE,
    window=lambda spec: (spec.call_window.start, spec.call_window.end),
    per_day=lambda spec: spec.max_calls_per_target_per_day,
    limit_by_placed=True,
    address=lambda target: target.switchboard_number,
    address_name="switchboard number",
    no_address_code="refused_no_phone",
    question_text=lambda question: question.spoken or question.body,
    mints_message_id=False,
    records_mode=True,
    waits_for_reply=False,
    configured=lambda settings: settings.phone is not None,
    build=_phone_probe,
    resolver=_phone_resolver,
    evidence="harness.channels.phone.store (CallEvent, Assessment)",
)
