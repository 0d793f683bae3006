"""The Twilio adapter (probes.phone_call) with the real SDK against the simulator's REST API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio

from harness.core.clock import FakeClock
from harness.sandbox.ports import free_port
from harness.sandbox.twilio_calls import SwitchboardScript
from harness.sandbox.twilio_sim import TwilioSimulator
from probes.base import (
    DispatchJob,
    HarnessFault,
    Persona,
    ProbeContext,
    TargetRejected,
    Transcript,
)
from probes.phone_call import PhoneConfig, PhoneProbe

ACCOUNT = "AC" + "a" * 32
TOKEN = "adapter-token"
NOW = datetime(2026, 10, 5, 8, 0, tzinfo=UTC)
SWITCHBOARD = "+4663143000"


@pytest_asyncio.fixture
async def sim() -> AsyncIterator[TwilioSimulator]:
    simulator = TwilioSimulator(FakeClock(NOW))
    simulator.add_account(ACCOUNT, TOKEN)
    simulator.script(SWITCHBOARD, SwitchboardScript(ring_seconds=30))
    await simulator.start()
    yield simulator
    await simulator.stop()


def _probe(base: str, mode: str = "automated", **changes: object) -> PhoneProbe:
    values: dict[str, object] = {
        "mode": mode,
        "account_sid": ACCOUNT,
        "auth_token": TOKEN,
        "from_number": "+46812345678",
        "caller_number": "+46701234567",
        "public_url": "http://127.0.0.1:9",
        "api_base_url": base,
    }
    values.update(changes)
    return PhoneProbe(PhoneConfig(**values))  # type: ignore[arg-type]


def _job(recipient: str = SWITCHBOARD, send_by: datetime = NOW + timedelta(hours=1)) -> DispatchJob:
    return DispatchJob(7, Persona("Anna", ""), recipient, "", "", send_by)


def _ctx(clock: FakeClock) -> ProbeContext:
    return ProbeContext(clock, Transcript(clock))


async def test_automated_call_is_created_with_detection_and_callbacks(sim: TwilioSimulator):
    probe = _probe(sim.base_url, record_calls=True)
    done = await probe.dispatch(_ctx(FakeClock(NOW)), _job())
    call = sim.calls[done.reference or ""]
    assert call.to == SWITCHBOARD
    assert call.machine_detection == "Enable"
    assert call.status_events == {"initiated", "ringing", "answered", "completed"}
    assert call.status_callback == "http://127.0.0.1:9/twilio/status?probe=7&leg=municipal"
    assert call.url == "http://127.0.0.1:9/twilio/voice/7?step=answer"
    assert call.timeout == 60
    assert call.time_limit == 900
    assert call.record
    assert call.recording_callback == "http://127.0.0.1:9/twilio/recording?probe=7"
    assert done.response.startswith("Twilio queued CA")

    # Afterwards: fetched, listed and hung up through the same SDK.
    facts = await probe.fetch(call.sid)
    assert facts["sid"] == call.sid
    assert facts["to"] == SWITCHBOARD
    await sim.run_until(NOW + timedelta(seconds=5))  # ringing now
    await probe.hang_up(call.sid)
    assert (await probe.fetch(call.sid))["status"] == "canceled"
    assert [c["sid"] for c in await probe.find_placed(SWITCHBOARD, NOW.date())] == [call.sid]


async def test_bridged_call_rings_the_tester_first(sim: TwilioSimulator):
    probe = _probe(sim.base_url, mode="bridged")
    done = await probe.dispatch(_ctx(FakeClock(NOW)), _job())
    call = sim.calls[done.reference or ""]
    assert call.to == "+46701234567"
    assert call.machine_detection is None
    assert call.status_callback == "http://127.0.0.1:9/twilio/status?probe=7&leg=caller"


async def test_an_invalid_number_is_the_targets_problem(sim: TwilioSimulator):
    with pytest.raises(TargetRejected, match="not a valid phone number"):
        await _probe(sim.base_url).dispatch(_ctx(FakeClock(NOW)), _job("063-14 30 00"))
    assert sim.calls == {}


async def test_wrong_credentials_are_a_harness_fault(sim: TwilioSimulator):
    with pytest.raises(HarnessFault, match="20003"):
        await _probe(sim.base_url, auth_token="wrong").dispatch(_ctx(FakeClock(NOW)), _job())
    assert sim.calls == {}


async def test_an_unreachable_api_is_retried_then_given_up():
    clock = FakeClock(NOW)
    dead = f"http://127.0.0.1:{free_port()}"
    ctx = _ctx(clock)
    with pytest.raises(HarnessFault, match="gave up at the end of the call window"):
        await _probe(dead).dispatch(ctx, _job(send_by=NOW + timedelta(minutes=5)))
    attempts = [line for line in ctx.transcript.lines if "create call" in line]
    assert len(attempts) > 3  # backed off and tried again inside the window
    assert clock.now() <= NOW + timedelta(minutes=5)
