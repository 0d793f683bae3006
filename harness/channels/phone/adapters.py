"""The phone channel's adapters, built from the settings: the Twilio client's configuration, the
channel's probe, the follow-up that completes finished calls, and the crash resolver that asks the
stored callbacks whether a call was placed. Importing this module loads the Twilio SDK.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from harness.channels.phone.finisher import CallFinisher
from harness.core.clock import Clock, ensure_utc
from harness.core.config import SecretUnavailable, Settings, resolve_secret
from harness.rules.measurement import timeline_rules
from harness.store.models import CallEvent, Probe
from probes.phone_call import PhoneConfig, PhoneProbe


def phone_config(settings: Settings, environ: Mapping[str, str] | None = None) -> PhoneConfig:
    phone = settings.phone
    if phone is None:
        raise ValueError("the phone channel is not configured")
    token = resolve_secret(env=phone.auth_token_env, file=phone.auth_token_file, environ=environ)
    if not token:
        raise SecretUnavailable("phone.auth_token", "empty")
    return PhoneConfig(
        mode=phone.mode,
        account_sid=phone.account_sid,
        auth_token=token,
        from_number=phone.from_number,
        caller_number=phone.caller_number,
        public_url=settings.web.public_url,
        api_base_url=phone.api_base_url,
        ring_timeout_seconds=phone.ring_timeout_seconds,
        call_time_limit_seconds=phone.call_time_limit_seconds,
        hold_limit_seconds=phone.hold_limit_seconds,
        record_calls=phone.record_calls,
    )


def phone_probe(settings: Settings, environ: Mapping[str, str] | None = None) -> PhoneProbe:
    return PhoneProbe(phone_config(settings, environ))


def call_finisher(
    settings: Settings, engine: Engine, clock: Clock, phone: PhoneProbe | None
) -> CallFinisher:
    limits = settings.phone
    longest = timedelta(
        seconds=(limits.ring_timeout_seconds + limits.call_time_limit_seconds) * 2
        if limits
        else 3600
    )
    return CallFinisher(engine, clock, phone, timeline_rules(settings), longest_call=longest)


async def call_placed(engine: Engine, probe: Probe) -> datetime | None:
    """After a crash: was this call placed? Its callbacks (they carry the probe id) tell."""
    with Session(engine) as session:
        first = session.exec(
            select(CallEvent.received_at)
            .where(CallEvent.probe_id == probe.id, CallEvent.source == "twilio")
            .order_by(col(CallEvent.received_at))
        ).first()
    return None if first is None else ensure_utc(first)
