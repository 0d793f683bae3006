"""Phone call timelines (results.phone_timeline): status order, person signals and outcomes.

All instants are seconds after T0 (a Monday morning in UTC). Status facts get sequence numbers in
the order they are listed, as Twilio would number them on each leg.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from harness.core.labels import CALL_NOTES, call_note_text
from results.phone_timeline import CallFact, Leg, TimelineRules, call_timeline

T0 = datetime(2026, 10, 5, 8, 0, tzinfo=UTC)
HOLD = 300  # the default hold limit, in seconds


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


def leg(name: Leg, *events: tuple[str, int]) -> list[CallFact]:
    return [
        CallFact(name, "status", at(s), status=status, sequence_number=seq)
        for seq, (status, s) in enumerate(events)
    ]


def mun(*events: tuple[str, int]) -> list[CallFact]:
    return leg("municipal", *events)


def caller(*events: tuple[str, int]) -> list[CallFact]:
    return leg("caller", *events)


def signal(kind: Any, seconds: int, answered_by: str | None = None) -> CallFact:
    return CallFact("municipal", kind, at(seconds), answered_by=answered_by)


def mark(kind: Any, seconds: int) -> CallFact:
    return CallFact("caller", kind, at(seconds))


ANSWERED = (("initiated", 0), ("ringing", 1), ("in-progress", 15))
# Bridged: the tester's phone is called first, then the switchboard.
TESTER_UP = (("initiated", 0), ("ringing", 1), ("in-progress", 4))

# (id, mode, facts, expected attributes, the code of a note expected, or None)
CASES: list[tuple[str, Any, list[CallFact], dict[str, Any], str | None]] = [
    (
        "automated-person-at-once",
        "automated",
        [*mun(*ANSWERED, ("completed", 200)), signal("amd", 17, "human")],
        {"outcome": "person", "person_at": at(15), "answered_by": "human", "queue_time": 0},
        None,
    ),
    (
        "automated-ivr-then-speech",
        "automated",
        [
            *mun(*ANSWERED, ("completed", 250)),
            signal("amd", 18, "unknown"),
            signal("speech_person", 95),
            signal("speech_person", 120),
        ],
        {"outcome": "person", "person_at": at(95), "answered_by": "unknown", "queue_time": 80},
        None,
    ),
    (
        "busy",
        "automated",
        mun(("initiated", 0), ("busy", 2)),
        {"outcome": "busy", "dial_at": at(0), "answered_at": None, "ended_at": at(2)},
        None,
    ),
    (
        "no-answer-ring-timeout",
        "automated",
        mun(("initiated", 0), ("ringing", 1), ("no-answer", 61)),
        {"outcome": "no_answer", "ringing_at": at(1), "ended_at": at(61), "time_to_answer": None},
        None,
    ),
    (
        "completed-without-answer",
        "automated",
        mun(("initiated", 0), ("ringing", 1), ("completed", 30)),
        {"outcome": "no_answer", "answered_at": None, "fault_reason": None},
        None,
    ),
    (
        "switchboard-failed",
        "automated",
        mun(("initiated", 0), ("failed", 1)),
        {"outcome": "failed", "fault_reason": "The call to the switchboard failed"},
        None,
    ),
    (
        "person-after-hold-limit",
        "automated",
        [*mun(*ANSWERED, ("completed", 400)), signal("speech_person", 15 + HOLD + 1)],
        {"outcome": "no_person", "person_at": at(15 + HOLD + 1)},
        "person_after_hold_limit",
    ),
    (
        "person-exactly-at-hold-limit",
        "automated",
        [*mun(*ANSWERED, ("completed", 400)), signal("speech_person", 15 + HOLD)],
        {"outcome": "person", "person_at": at(15 + HOLD), "queue_time": HOLD},
        None,
    ),
    (
        "automated-switchboard-hangs-up-in-queue",
        "automated",
        [*mun(*ANSWERED, ("completed", 60)), signal("amd", 18, "machine_start")],
        {"outcome": "no_person", "person_at": None, "ended_at": at(60)},
        None,
    ),
    (
        "bridged-person-mark",
        "bridged",
        [
            *caller(*TESTER_UP, ("completed", 200)),
            *mun(*ANSWERED, ("completed", 200)),
            mark("mark_person", 40),
            mark("mark_person", 70),
        ],
        {"outcome": "person", "person_at": at(40), "time_to_person": 40, "queue_time": 25},
        None,
    ),
    (
        "bridged-mark-second-before-answer-clamped",
        "bridged",
        [
            *caller(*TESTER_UP, ("completed", 200)),
            *mun(*ANSWERED, ("completed", 200)),
            mark("mark_person", 14),
        ],
        {"outcome": "person", "person_at": at(15), "queue_time": 0},
        "signal_moved",
    ),
    (
        "bridged-mark-after-end-ignored",
        "bridged",
        [
            *mun(*ANSWERED, ("completed", 200)),
            *caller(*TESTER_UP, ("completed", 201)),
            mark("mark_person", 202),
        ],
        {"outcome": "no_person", "person_at": None},
        "signal_after_end",
    ),
    (
        "bridged-mark-never-answered-ignored",
        "bridged",
        [
            *caller(*TESTER_UP, ("completed", 70)),
            *mun(("initiated", 5), ("no-answer", 66)),
            mark("mark_person", 30),
            mark("mark_transfer", 31),
        ],
        {"outcome": "no_answer", "person_at": None, "transferred_at": None},
        "signal_no_answer",
    ),
    (
        "bridged-transfer-mark",
        "bridged",
        [
            *caller(*TESTER_UP, ("completed", 200)),
            *mun(*ANSWERED, ("completed", 200)),
            mark("mark_transfer", 30),
            mark("mark_person", 50),
        ],
        {"outcome": "person", "transferred_at": at(30), "person_at": at(50)},
        None,
    ),
    (
        "bridged-tester-hung-up-early",
        "bridged",
        [*caller(*TESTER_UP, ("completed", 100)), *mun(*ANSWERED, ("completed", 100))],
        {"outcome": "failed", "fault_reason": "The tester hung up before a person answered"},
        None,
    ),
    (
        "bridged-switchboard-hung-up-early",
        "bridged",
        [*caller(*TESTER_UP, ("completed", 101)), *mun(*ANSWERED, ("completed", 100))],
        {"outcome": "no_person", "fault_reason": None},
        None,
    ),
    (
        # Same second on both legs, but Twilio asked <Dial action> for the next step: the
        # switchboard ended its leg while the tester was still on the line.
        "bridged-switchboard-hung-up-same-second",
        "bridged",
        [
            *caller(*TESTER_UP, ("completed", 100)),
            *mun(*ANSWERED, ("completed", 100)),
            CallFact("caller", "dial_ended", at(100)),
        ],
        {"outcome": "no_person", "fault_reason": None},
        None,
    ),
    (
        "bridged-early-end-tester-leg-still-running",
        "bridged",
        [*caller(*TESTER_UP), *mun(*ANSWERED, ("completed", 100))],
        {"outcome": None, "finished": False, "ended_at": at(100)},
        "waiting_for_tester_leg",
    ),
    (
        "bridged-tester-phone-busy",
        "bridged",
        caller(("initiated", 0), ("busy", 3)),
        {"outcome": "failed", "fault_reason": "The tester's phone did not answer (busy)"},
        None,
    ),
    (
        "bridged-never-reached-switchboard",
        "bridged",
        caller(*TESTER_UP, ("completed", 20)),
        {"outcome": "failed", "fault_reason": "The call never reached the switchboard"},
        None,
    ),
    (
        "bridged-tester-still-ringing",
        "bridged",
        caller(("initiated", 0), ("ringing", 1)),
        {"outcome": None, "finished": False, "dial_at": None},
        None,
    ),
    (
        "unfinished-partial-timeline",
        "automated",
        mun(*ANSWERED),
        {"outcome": None, "finished": False, "answered_at": at(15), "ended_at": None},
        None,
    ),
    (
        "reconcile-fills-missing-completed",
        "automated",
        [
            *mun(*ANSWERED),
            signal("speech_person", 40),
            CallFact("municipal", "reconcile", at(200), status="completed", call_duration=185),
        ],
        {"outcome": "person", "ended_at": at(200), "finished": True},
        None,
    ),
    (
        "reconcile-ignored-after-final-callback",
        "automated",
        [
            *mun(*ANSWERED, ("completed", 200)),
            signal("speech_person", 40),
            CallFact("municipal", "reconcile", at(203), status="completed"),
        ],
        {"outcome": "person", "ended_at": at(200)},
        None,
    ),
    (
        "dial-falls-back-to-first-status",
        "automated",
        mun(("ringing", 2), ("in-progress", 9), ("completed", 90)),
        {"dial_at": at(2), "time_to_answer": 7, "outcome": "no_person"},
        None,
    ),
    (
        "earliest-final-by-sequence",
        "automated",
        mun(("initiated", 0), ("busy", 3), ("completed", 3)),
        {"outcome": "busy", "ended_at": at(3)},
        None,
    ),
]


def _check(timeline: Any, expected: dict[str, Any]) -> None:
    for name, want in expected.items():
        got = getattr(timeline, name)
        if isinstance(want, int) and not isinstance(want, bool) and got is not None:
            want = timedelta(seconds=want)  # durations are given in seconds in the table
        assert got == want, name


@pytest.mark.parametrize(
    ("mode", "facts", "expected", "note"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_call_timeline(mode, facts, expected, note):
    timeline = call_timeline(mode, facts)
    _check(timeline, expected)
    assert (timeline.fault_reason is not None) == (timeline.outcome == "failed")
    if note is None:
        assert timeline.notes == ()
    else:
        assert any(n["code"] == note for n in timeline.notes), timeline.notes
        for n in timeline.notes:  # every remark has its words in both languages
            assert n["code"] in CALL_NOTES
            assert "{" not in call_note_text(n, "sv") + call_note_text(n, "en")


@pytest.mark.parametrize(
    ("mode", "facts"), [pytest.param(case[1], case[2], id=case[0]) for case in CASES]
)
@pytest.mark.parametrize("seed", [1, 7, 42, 2026])
def test_arrival_order_and_duplicates_change_nothing(mode, facts, seed):
    expected = call_timeline(mode, facts)
    rng = random.Random(seed)
    shuffled = list(facts)
    rng.shuffle(shuffled)
    assert call_timeline(mode, shuffled) == expected
    repeated = shuffled + rng.sample(facts, k=len(facts) // 2 + 1)
    rng.shuffle(repeated)
    assert call_timeline(mode, repeated) == expected


def test_callback_retry_with_other_timestamp_keeps_first_by_sequence():
    retry = CallFact("municipal", "status", at(16), status="in-progress", sequence_number=2)
    timeline = call_timeline("automated", [retry, *mun(*ANSWERED, ("completed", 90))])
    assert timeline.answered_at == at(15)


def test_durations():
    facts = [*mun(*ANSWERED, ("completed", 250)), signal("speech_person", 95)]
    timeline = call_timeline("automated", facts)
    assert timeline.time_to_answer == timedelta(seconds=15)
    assert timeline.time_to_person == timedelta(seconds=95)
    assert timeline.queue_time == timedelta(seconds=80)


def test_hold_limit_is_a_setting():
    facts = [*mun(*ANSWERED, ("completed", 250)), signal("speech_person", 95)]
    rules = TimelineRules(hold_limit=timedelta(seconds=60))
    assert call_timeline("automated", facts, rules).outcome == "no_person"


def test_times_keep_their_zone():
    cest = timezone(timedelta(hours=2))
    answered = datetime(2026, 10, 5, 10, 0, 15, tzinfo=cest)
    facts = [
        CallFact("municipal", "status", answered, status="in-progress", sequence_number=0),
        CallFact("municipal", "amd", answered, answered_by="human"),
    ]
    timeline = call_timeline("automated", facts)
    assert timeline.person_at is answered
    assert timeline.outcome is None


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"kind": "status", "occurred_at": datetime(2026, 10, 5, 8)}, id="naive"),  # noqa: DTZ001
        pytest.param({"kind": "status", "occurred_at": T0}, id="status-missing"),
        pytest.param({"kind": "reconcile", "occurred_at": T0}, id="reconcile-status-missing"),
    ],
)
def test_bad_facts_are_rejected(kwargs):
    with pytest.raises(ValueError, match=r"time-zone aware|needs a status"):
        CallFact("municipal", **kwargs)
