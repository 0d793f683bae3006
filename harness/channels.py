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

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from harness.config import Settings
from harness.models import Channel, Probe, Question, Target
from harness.scenario import CampaignSpec
from results.measures import MEASURES

if TYPE_CHECKING:
    from probes.base import Probe as ChannelProbe

__all__ = ["CHANNELS", "ChannelSpec", "channel", "send_resolver"]

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
    address_name: str  # for the refusal stored when a target has none
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


def _email_probe(
    settings: Settings, base: Path | None, environ: Mapping[str, str] | None
) -> ChannelProbe:
    from harness.wiring import email_probe

    return email_probe(settings, base, environ)


def _email_resolver(
    settings: Settings, base: Path | None, engine: Engine, environ: Mapping[str, str] | None
) -> Resolver | None:
    del engine  # the Sent folder is the evidence, not the database
    mail = settings.mail
    if mail is None or not mail.save_to_sent:
        return None
    from harness.wiring import sent_folder_resolver

    return sent_folder_resolver(mail.imap, base, environ)


def _phone_probe(
    settings: Settings, base: Path | None, environ: Mapping[str, str] | None
) -> ChannelProbe:
    del base
    from harness.wiring import phone_probe

    return phone_probe(settings, environ)


def _phone_resolver(
    settings: Settings, base: Path | None, engine: Engine, environ: Mapping[str, str] | None
) -> Resolver | None:
    del settings, base, environ
    from harness.wiring import call_placed

    async def resolve(probe: Probe) -> datetime | None:
        return await call_placed(engine, probe)

    return resolve


CHANNELS: dict[str, ChannelSpec] = {
    Channel.EMAIL: ChannelSpec(
        name=Channel.EMAIL,
        window=lambda spec: (spec.send_window.start, spec.send_window.end),
        per_day=lambda spec: spec.max_emails_per_target_per_day,
        limit_by_placed=False,
        address=lambda target: target.email_address,
        address_name="e-mail address",
        question_text=lambda question: question.body,
        mints_message_id=True,
        records_mode=False,
        waits_for_reply=True,
        configured=lambda settings: settings.mail is not None,
        build=_email_probe,
        resolver=_email_resolver,
        evidence="harness.mailstore (Message, CaseNumber)",
    ),
    Channel.PHONE: ChannelSpec(
        name=Channel.PHONE,
        window=lambda spec: (spec.call_window.start, spec.call_window.end),
        per_day=lambda spec: spec.max_calls_per_target_per_day,
        limit_by_placed=True,
        address=lambda target: target.switchboard_number,
        address_name="switchboard number",
        question_text=lambda question: question.spoken or question.body,
        mints_message_id=False,
        records_mode=True,
        waits_for_reply=False,
        configured=lambda settings: settings.phone is not None,
        build=_phone_probe,
        resolver=_phone_resolver,
        evidence="harness.phonestore (CallEvent, Assessment)",
    ),
}


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
    left ``sending`` by a crash, sent after all, and when? (see :class:`harness.runner.Runner`)"""
    by_channel = {
        name: spec.resolver(settings, base_dir, engine, environ)
        for name, spec in CHANNELS.items()
        if spec.configured(settings)
    }

    async def resolve(probe: Probe) -> datetime | None:
        found = by_channel.get(probe.channel)
        return await found(probe) if found is not None else None

    return resolve
