"""How the demo world's switchboards answer one call (pure).

The phone profile (:class:`~harness.demo.world.PhoneProfile`) is data for the phone side of the
demo; :func:`sample_call` turns it into one call's behaviour (outcome, ring time, time to a
person, assessment).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

from harness.demo.world import PhoneProfile

__all__ = ["CallBehaviour", "sample_call"]


@dataclass(frozen=True)
class CallBehaviour:
    """How the switchboard treats one call (maps onto the Twilio simulator's script).

    ``ring_seconds`` is None for a busy line and for a call nobody picks up (it rings until the
    caller's timeout). ``person_after`` counts from pick-up: 0 is a person answering at once, more
    an IVR or queue first, None nobody within the hold limit. ``direct_answer`` and ``bemotande``
    (0–3) are the assessment, None when no person was reached.
    """

    outcome: Literal["busy", "no_answer", "answer"]
    ring_seconds: float | None
    person_after: float | None
    direct_answer: bool | None
    bemotande: int | None


def sample_call(profile: PhoneProfile, rng: random.Random) -> CallBehaviour:
    """One call's behaviour under ``profile``; always draws the same number of values."""
    outcome_draw = rng.random()
    ring = rng.uniform(*profile.ring_seconds)
    via_ivr = rng.random() < profile.share_ivr
    queue = rng.uniform(*profile.queue_seconds)
    direct = rng.random() < profile.direct_answer
    level = rng.choices((0, 1, 2, 3), weights=profile.bemotande)[0]
    busy = profile.share_busy
    unanswered = busy + profile.share_unanswered
    no_person = unanswered + profile.share_no_person
    if outcome_draw < busy:
        return CallBehaviour("busy", None, None, None, None)
    if outcome_draw < unanswered:
        return CallBehaviour("no_answer", None, None, None, None)
    if outcome_draw < no_person:
        return CallBehaviour("answer", ring, None, None, None)
    return CallBehaviour("answer", ring, queue if via_ivr else 0.0, direct, level)
