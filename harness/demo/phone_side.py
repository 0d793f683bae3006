"""The offline demo's phone side: the switchboards the Twilio simulator dials, and the scripted
testers who mark and assess the calls.

Each municipal leg follows its municipality's phone profile
(:func:`harness.demo.world_calls.sample_call`, made into the simulator's
:class:`~harness.sandbox.twilio_sim.SwitchboardScript`), and the world writes down what it did
on every call (:class:`CallTruth`). The scripted tester marks "person reached" when the person
picks up and records the assessment the world drew, with the real services, as the call console
and ``kkik call`` do.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, exists
from sqlmodel import Session, col, select

from harness.core.clock import FakeClock
from harness.demo.run_config import TESTER
from harness.demo.world import PhoneProfile, World
from harness.demo.world_calls import sample_call
from harness.sandbox.twilio_calls import SimCall, SwitchboardScript
from harness.services.base import Context
from harness.services.calls import AssessCall, MarkCall, assess_call, mark_call
from harness.store.models import Assessment, Channel, Probe, ProbeState

__all__ = ["TALK", "TESTER_PATIENCE", "CallTruth", "PhoneSide", "phone_script"]

# The scripted tester waits this long after picking up before giving up on a queue.
TESTER_PATIENCE = 420
TALK = 90.0  # seconds the person talks with the tester before hanging up


@dataclass
class CallTruth:
    """What the world did on one call (keyed by the call we created: the tester's leg)."""

    outcome: str  # busy | no_answer | no_person | person
    dial_at: datetime | None = None
    person_at: datetime | None = None
    direct_answer: bool | None = None
    bemotande: int | None = None


def phone_script(profile: PhoneProfile, rng: random.Random) -> tuple[SwitchboardScript, CallTruth]:
    """One call to a switchboard of this profile: the simulator's script and its truth."""
    call = sample_call(profile, rng)
    if call.outcome == "busy":
        return SwitchboardScript(outcome="busy", dial_delay=1), CallTruth("busy")
    if call.outcome == "no_answer":
        return SwitchboardScript(outcome="no_answer", dial_delay=1), CallTruth("no_answer")
    ring = call.ring_seconds or 0.0
    if call.person_after is None:
        # A queue nobody answers: the scripted tester gives up after TESTER_PATIENCE.
        script = SwitchboardScript(dial_delay=1, ring_seconds=ring, person_after=None)
        return script, CallTruth("no_person")
    script = SwitchboardScript(
        dial_delay=1, ring_seconds=ring, person_after=call.person_after, talk_seconds=TALK
    )
    truth = CallTruth("person", direct_answer=call.direct_answer, bemotande=call.bemotande)
    return script, truth


class PhoneSide:
    """The switchboards and the scripted testers of one demo run.

    ``tester`` gives the scripted tester's way into the services (the demo's database, clock
    and configuration, known once the run has started). ``call_truth`` is what the world did
    on each call, by the tester leg's call SID.
    """

    def __init__(
        self, world: World, clock: FakeClock, rng: random.Random, tester: Callable[[], Context]
    ) -> None:
        self.clock = clock
        self.rng = rng
        self.tester = tester
        self._by_number = {t.switchboard_e164: t for t in world.targets}
        self.call_truth: dict[str, CallTruth] = {}  # by the tester leg's call SID

    def script_for(self, number: str, parent_sid: str | None) -> SwitchboardScript | None:
        if number == TESTER or parent_sid is None:
            return None  # the tester's phone: the fixed script
        target = self._by_number.get(number)
        if target is None:
            return None
        script, truth = phone_script(target.phone_profile, self.rng)
        dialled = self.clock.now()
        # The call's start as Twilio records it: whole seconds (its timestamps carry no
        # fraction), which is the instant the KKiK wait is counted from. With the exact instant
        # the truth was up to a second kinder than any measurement can be, and a person reached
        # 59.6 s after the dial (60.2 s after the recorded start) disagreed on "within 60 s".
        truth.dial_at = dialled.replace(microsecond=0)
        if truth.outcome == "person":
            assert script.person_after is not None
            answered = script.dial_delay + script.ring_seconds
            truth.person_at = dialled + timedelta(seconds=answered + script.person_after)
        self.call_truth[parent_sid] = truth
        return script

    async def person(self, call: SimCall, _at: datetime) -> None:
        """The scripted caller hears a person and marks it, with the real service."""
        tester = self.tester()
        probe_id = _probe_for_call(tester.engine, call.parent_sid)
        if probe_id is None:
            raise RuntimeError(f"no probe placed call {call.parent_sid}")
        mark_call(tester, MarkCall(probe_id, "person"))

    def assess(self, engine: Engine) -> None:
        """After each finished call with a person, the caller records the assessment."""
        with Session(engine) as session:
            # Only the calls with a person that have no assessment yet (NOT EXISTS on the
            # indexed probe_id): was every such probe not in a set that grew with the campaign,
            # and every assessment's probe id, read after each call that ended.
            done = session.exec(
                select(Probe).where(
                    Probe.channel == Channel.PHONE,
                    Probe.state == ProbeState.COMPLETED,
                    Probe.outcome == "person",
                    ~exists().where(col(Assessment.probe_id) == col(Probe.id)),
                )
            ).all()
        for probe in done:
            truth = self.call_truth.get(probe.call_sid or "")
            if truth is None or truth.direct_answer is None or truth.bemotande is None:
                continue
            assess_call(
                self.tester(),
                AssessCall(probe.id or 0, truth.direct_answer, truth.bemotande),
            )


def _probe_for_call(engine: Engine, call_sid: str | None) -> int | None:
    with Session(engine) as session:
        return session.exec(select(Probe.id).where(Probe.call_sid == call_sid)).first()
