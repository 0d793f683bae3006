"""The channel registry: what the harness knows about each way of asking a question, in one place.

A channel (e-mail, phone) declares here how it is configured and dispatched, which window and
daily limit of the campaign it runs in, where a target's address for it is, what text of a
question it uses, what identifies a send before it leaves, how a send cut short by a crash is
looked up afterwards, how its evidence is kept and which KKiK measures it feeds. The runner, the
assembly point and the evidence readers ask the registry instead of branching on the channel's
name, so a channel is added by registering it, not by editing them.

The adapters themselves (``probes.email_send``, ``probes.phone_call``) import network libraries;
they are named here as factories and imported only when a process builds its channels.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from harness.channels.email.channel import CHANNEL as EMAIL
from harness.channels.phone.channel import CHANNEL as PHONE
from harness.channels.spec import ChannelSpec, Resolver
from harness.core.config import Settings
from harness.store.models import Probe

__all__ = ["CHANNELS", "ChannelSpec", "channel", "send_resolver"]

CHANNELS: dict[str, ChannelSpec] = {spec.name: spec for spec in (EMAIL, PHONE)}


def channel(name: str) -> ChannelSpec:
    """The registered channel ``name`` (KeyError for one nobody registered)."""
    return CHANNELS[name]


def send_resolver(
    settings: Settings,
    base_dir: Path | None,
    engine: Engine,
    environ: Mapping[str, str] | None = None,
) -> Resolver:
    """The crash resolver for every configured channel, as each declares it: was this probe,
    left ``sending`` by a crash, sent after all, and when? (see
    :class:`harness.campaign.runner.Runner`)"""
    by_channel = {
        name: spec.resolver(settings, base_dir, engine, environ)
        for name, spec in CHANNELS.items()
        if spec.configured(settings)
    }

    async def resolve(probe: Probe) -> datetime | None:
        found = by_channel.get(probe.channel)
        return await found(probe) if found is not None else None

    return resolve
