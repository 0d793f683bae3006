"""Scoring (results.scoring): denominators, rounding, intervals, deadlines and comparison.

Expected values are worked out by hand in the comments. Calendar facts: 2026-10-05 is a Monday,
2026-10-09 a Friday; Sweden is on CEST (+02:00) until 2026-10-25 and on CET from then.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from results.calendar import DeadlineRule, WorkCalendar
from results.scoring import (
    EmailJudge,
    Evidence,
    Score,
    ScoringRules,
    compare,
    round_half_up,
    score,
    wilson_interval,
)

STHLM = ZoneInfo("Europe/Stockholm")
OFFICE = DeadlineRule.OFFICE_HOURS
SAME_TIME = DeadlineRule.NEXT_WORKING_DAY_SAME_TIME
CAL = WorkCalendar()


def s(d: int, h: int, mi: int = 0, sec: int = 0, mo: int = 10) -> datetime:
    """A Stockholm wall-clock instant in 2026."""
    return datetime(2026, mo, d, h, mi, sec, tzinfo=STHLM)


def email(
    k: str, pid: str, sent: datetime, answered: datetime | None, fault: bool = False
) -> Evidence:
    return Evidence(k, "email", pid, sent, answered, harness_fault=fault)


def call(
    k: str,
    pid: str,
    outcome: str | None,
    *,
    mode: str = "bridged",
    wait: int | None = None,
    direct: bool | None = None,
    bem: int | None = None,
    fault: bool = False,
) -> Evidence:
    sent = s(5, 10)
    person_at = None if wait is None else sent + timedelta(seconds=wait)
    return Evidence(
        k,
        "phone",
        pid,
        sent,
        None,
        fault,
        mode,  # type: ignore[arg-type]
        outcome,  # type: ignore[arg-type]
        person_at,
        direct,
        bem,
    )


def by_measure(scores: list[Score], kommunkod: str = "0180") -> dict[str, Score]:
    return {x.measure_id: x for x in scores if x.kommunkod == kommunkod}


def rules(edition: str = "2018", rule: DeadlineRule = OFFICE) -> ScoringRules:
    return ScoringRules(edition=edition, calendar=CAL, deadline_rule=rule)


# --- arithmetic -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("num", "den", "expected"),
    [
        (5, 8, 63),  # 62.5 -> 63, where round() would give 62
        (1, 8, 13),  # 12.5 -> 13
        (3, 8, 38),  # 37.5 -> 38
        (1, 3, 33),
        (2, 3, 67),
        (22, 30, 73),  # bemötande example, 73.33
        (0, 7, 0),
        (7, 7, 100),
        (1, 200, 1),  # 0.5 -> 1
    ],
)
def test_it_rounds_whole_percent_half_up(num: int, den: int, expected: int) -> None:
    assert round_half_up(num, den) == expected


@pytest.mark.parametrize(
    ("successes", "trials", "expected"),
    [
        (5, 10, (23.7, 76.3)),
        (0, 10, (0.0, 27.8)),
        (10, 10, (72.2, 100.0)),
        (8, 10, (49.0, 94.3)),
        (1, 1, (20.7, 100.0)),  # centre (1+1.921)/4.841 = 0.603, half 0.397
        (2, 4, (15.0, 85.0)),
        (22, 30, (55.6, 85.8)),
    ],
)
def test_it_gives_95_percent_wilson_intervals(
    successes: int, trials: int, expected: tuple[float, float]
) -> None:
    assert wilson_interval(successes, trials) == expected


@pytest.mark.parametrize(("num", "den"), [(1, 0), (-1, 3), (4, 3)])
def test_it_rejects_impossible_shares(num: int, den: int) -> None:
    with pytest.raises(ValueError, match="need"):
        wilson_interval(num, den)


# --- e-mail ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "sent", "answered", "within"),
    [
        # Friday 16:00: one office hour Friday + eight on Monday -> Monday 16:00, both rules.
        (OFFICE, s(9, 16), s(12, 16), True),
        (OFFICE, s(9, 16), s(12, 16, 0, 1), False),
        (SAME_TIME, s(9, 16), s(12, 16), True),
        (SAME_TIME, s(9, 16), s(12, 16, 0, 1), False),
        # Monday 08:00: the office-hours deadline is Monday 17:00 (closing); a reply that evening
        # or at Tuesday's opening adds no business time and is still within.
        (OFFICE, s(5, 8), s(5, 17), True),
        (OFFICE, s(5, 8), s(5, 20), True),
        (OFFICE, s(6, 8), s(6, 8), True),
        (OFFICE, s(5, 8), s(6, 8), True),
        (OFFICE, s(5, 8), s(6, 8, 0, 1), False),
        # Sent exactly at closing Monday 17:00: office hours count from Tuesday 08:00 to 17:00,
        # so Tuesday 19:00 is within; the same-time rule's deadline is Tuesday 17:00.
        (OFFICE, s(5, 17), s(6, 19), True),
        (SAME_TIME, s(5, 17), s(6, 17), True),
        (SAME_TIME, s(5, 17), s(6, 19), False),
        # Saturday noon: both rules start Monday 08:00.
        (OFFICE, s(10, 12), s(12, 17), True),
        (OFFICE, s(10, 12), s(13, 8, 30), False),
        (SAME_TIME, s(10, 12), s(13, 8), True),
        (SAME_TIME, s(10, 12), s(13, 8, 30), False),
        # Inside office hours, an UTC-stamped answer: Mon 10:00 CEST = 08:00Z, Tue 08:00Z.
        (OFFICE, s(5, 10), datetime(2026, 10, 6, 8, 0, tzinfo=UTC), True),
        (SAME_TIME, s(5, 10), datetime(2026, 10, 6, 8, 0, 1, tzinfo=UTC), False),
    ],
)
def test_it_scores_email_within_one_working_day(
    rule: DeadlineRule, sent: datetime, answered: datetime, within: bool
) -> None:
    assert CAL.within(sent, answered, 1, rule) is within  # the calendar agrees with the table
    got = by_measure(score([email("0180", "e", sent, answered)], rules("2018", rule)))
    m = got["email_within_1_working_day"]
    assert (m.numerator, m.denominator, m.value) == (int(within), 1, 100 * int(within))


@pytest.mark.parametrize(
    ("answered", "in1", "in2"),
    [
        (s(6, 10), True, True),  # Monday 10:00 -> Tuesday 10:00
        (s(7, 10), False, True),  # Wednesday 10:00 = two office days exactly
        (s(7, 10, 0, 1), False, False),
        (None, False, False),  # unanswered counts as a failure
    ],
)
def test_it_scores_both_email_limits_in_2016(
    answered: datetime | None, in1: bool, in2: bool
) -> None:
    got = by_measure(score([email("0180", "e", s(5, 10), answered)], rules("2016")))
    assert got["email_within_1_working_day"].numerator == int(in1)
    assert got["email_within_2_working_days"].numerator == int(in2)
    assert got["email_within_2_working_days"].denominator == 1


def test_it_excludes_and_counts_email_harness_faults() -> None:
    rows = [
        email("0180", "a", s(5, 10), s(5, 11)),
        email("0180", "b", s(5, 10), None),
        email("0180", "c", s(5, 10), None, fault=True),
    ]
    m = by_measure(score(rows, rules()))["email_within_1_working_day"]
    assert (m.value, m.numerator, m.denominator, m.excluded_faults) == (50, 1, 2, 1)
    assert (m.ci_low, m.ci_high) == (9.5, 90.5)  # Wilson 1/2
    assert m.awaiting_assessment == 0


def test_it_rounds_a_target_score_half_up() -> None:
    rows = [email("0180", f"e{i}", s(5, 10), s(5, 11) if i < 5 else None) for i in range(8)]
    m = by_measure(score(rows, rules()))["email_within_1_working_day"]
    assert (m.value, m.value_exact, m.ci_low, m.ci_high) == (63, 62.5, 30.6, 86.3)


@pytest.mark.parametrize("rule", [OFFICE, SAME_TIME])
@pytest.mark.parametrize("days", [1, 2])
def test_it_judges_email_deadlines_exactly_like_the_calendar(rule: DeadlineRule, days: int) -> None:
    # Random pairs over weekends, the DST end (25 Oct), Allhelgonadagen (31 Oct), Christmas and
    # nyårsafton. Times sit on a 30-minute grid half the time so opening, closing and deadline
    # boundaries are hit exactly; zones are mixed because the inputs will be.
    rng = random.Random(days * 10 + (rule is OFFICE))
    zones = [STHLM, UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5))]
    start = datetime(2026, 10, 20, tzinfo=UTC)
    judge = EmailJudge(CAL, rule, [days])
    seen = set()
    for _ in range(1500):
        if rng.random() < 0.5:
            sent = start + timedelta(minutes=30 * rng.randrange(0, 2 * 24 * 80))
            answered = sent + timedelta(minutes=30 * rng.randrange(-4, 2 * 24 * 6))
        else:
            sent = start + timedelta(seconds=rng.randrange(0, 86400 * 80))
            answered = sent + timedelta(seconds=rng.randrange(-3600, 86400 * 6))
        sent = sent.astimezone(rng.choice(zones))
        answered = answered.astimezone(rng.choice(zones))
        expected = CAL.within(sent, answered, days, rule)
        seen.add(expected)
        assert judge.within(sent, answered) == (expected,), (sent, answered)
    assert seen == {True, False}


def test_it_judges_from_a_calendar_with_extra_closed_days() -> None:
    cal = WorkCalendar(extra_closed_days=frozenset({s(12, 0).date()}))
    judge = EmailJudge(cal, OFFICE, [1])
    # Friday 16:00 with Monday closed: the hour left runs into Tuesday until 16:00.
    assert judge.within(s(9, 16), s(13, 16)) == (True,)
    assert judge.within(s(9, 16), s(13, 16, 0, 1)) == (False,)


# --- phone ----------------------------------------------------------------------------------


def _mixed_calls() -> list[Evidence]:
    return [
        call("0180", "p1", "person", wait=30, direct=True, bem=3),
        call("0180", "p2", "person", wait=90, direct=False, bem=1),
        call("0180", "p3", "busy"),
        call("0180", "p4", "no_answer"),
        call("0180", "p5", "no_person"),
        call("0180", "p6", "person", wait=50),  # not yet assessed
        call("0180", "p7", "person", wait=40, direct=True, bem=3, fault=True),
        call("0180", "p8", "failed"),  # our side: a harness fault even though not flagged
        call("0180", "p9", "person", mode="automated", wait=20, direct=True, bem=3),
    ]


def test_it_scores_direct_answer_over_bridged_calls() -> None:
    # Denominator p1..p5 (busy, no answer, no person are failures); p6 awaits; p7, p8 faults;
    # p9 is automated and not part of it.
    m = by_measure(score(_mixed_calls(), rules()))["phone_direct_answer"]
    assert (m.numerator, m.denominator, m.value) == (1, 5, 20)
    assert (m.awaiting_assessment, m.excluded_faults) == (1, 2)
    assert (m.ci_low, m.ci_high) == (3.6, 62.4)


def test_it_scores_contact_with_case_officer_in_2011() -> None:
    # Bridged, not faults: p1..p6; reached a person: p1, p2, p6 -> 3/6.
    m = by_measure(score(_mixed_calls(), rules("2011")))["phone_contact_case_officer"]
    assert (m.numerator, m.denominator, m.value) == (3, 6, 50)
    assert (m.awaiting_assessment, m.excluded_faults) == (0, 2)


def test_it_scores_person_within_over_all_calls() -> None:
    # All non-fault calls p1..p6, p9 = 7; within 60 s: p1 30, p6 50, p9 20; within 120: + p2 90.
    got = by_measure(score(_mixed_calls(), rules()))
    p60, p120 = got["phone_person_within_60s"], got["phone_person_within_120s"]
    assert (p60.numerator, p60.denominator, p60.value) == (3, 7, 43)  # 42.86
    assert (p120.numerator, p120.denominator, p120.value) == (4, 7, 57)  # 57.14
    assert p60.excluded_faults == 2


@pytest.mark.parametrize(
    ("wait", "in60", "in120"),
    [(0, True, True), (60, True, True), (61, False, True), (120, False, True), (121, False, False)],
)
def test_it_counts_person_within_limits_inclusively(wait: int, in60: bool, in120: bool) -> None:
    got = by_measure(score([call("0180", "p", "person", wait=wait)], rules()))
    assert got["phone_person_within_60s"].numerator == int(in60)
    assert got["phone_person_within_120s"].numerator == int(in120)


def test_it_measures_time_to_person_across_the_dst_switch() -> None:
    # 2026-10-25 02:59:30 CEST (00:59:30Z) to 02:00:10 CET (01:00:10Z) is 40 s, though the wall
    # clock goes backwards.
    sent = datetime(2026, 10, 25, 2, 59, 30, tzinfo=STHLM)
    person = datetime(2026, 10, 25, 2, 0, 10, fold=1, tzinfo=STHLM)
    row = Evidence("0180", "phone", "p", sent, None, False, "automated", "person", person)
    assert by_measure(score([row], rules()))["phone_person_within_60s"].numerator == 1


def test_it_scores_the_published_bemotande_example() -> None:
    # 4 mycket god + 4 god + 2 medelgod = 12 + 8 + 2 = 22 of 30 points -> 73.3 -> 73.
    levels = [3] * 4 + [2] * 4 + [1] * 2
    rows = [
        call("0180", f"p{i}", "person", wait=10, direct=True, bem=b) for i, b in enumerate(levels)
    ]
    got = by_measure(score(rows, rules()))["phone_bemotande"]
    assert (got.value, got.numerator, got.denominator) == (73, 22, 10)
    assert got.value_exact == pytest.approx(73.333, abs=1e-3)
    assert (got.ci_low, got.ci_high) == (55.6, 85.8)  # Wilson on 22 of 3 × 10 = 30
    old = by_measure(score(rows, rules("2011")))["phone_bemotande_good_share"]
    assert (old.value, old.numerator, old.denominator) == (80, 8, 10)  # god or better: 8 of 10


def test_it_scores_bemotande_only_over_assessed_calls_reaching_a_person() -> None:
    # p1 3 + p2 1 = 4 of 6 -> 67; p6 awaits; busy etc. are outside; faults p7, p8; p9 automated.
    m = by_measure(score(_mixed_calls(), rules()))["phone_bemotande"]
    assert (m.numerator, m.denominator, m.value) == (4, 2, 67)
    assert (m.awaiting_assessment, m.excluded_faults) == (1, 2)
    old = by_measure(score(_mixed_calls(), rules("2011")))["phone_bemotande_good_share"]
    assert (old.numerator, old.denominator, old.value) == (1, 2, 50)


def test_it_leaves_calls_without_an_outcome_waiting() -> None:
    got = by_measure(score([call("0180", "p", None)], rules()))
    for measure_id in ("phone_direct_answer", "phone_bemotande", "phone_person_within_60s"):
        assert (got[measure_id].denominator, got[measure_id].awaiting_assessment) == (0, 1)
        assert got[measure_id].value is None


def test_it_gives_an_empty_target_no_values() -> None:
    # Only an e-mail harness fault: every measure has an empty denominator.
    got = score([email("0180", "e", s(5, 10), None, fault=True)], rules())
    assert [x.measure_id for x in got] == [
        "email_within_1_working_day",
        "phone_direct_answer",
        "phone_bemotande",
        "phone_person_within_60s",
        "phone_person_within_120s",
    ]
    for x in got:
        assert (x.value, x.value_exact, x.ci_low, x.ci_high, x.denominator) == (
            None,
            None,
            None,
            None,
            0,
        )
    assert got[0].excluded_faults == 1


def test_it_scores_a_single_probe_target() -> None:
    m = by_measure(score([email("0180", "e", s(5, 10), s(5, 12))], rules()))[
        "email_within_1_working_day"
    ]
    assert (m.value, m.numerator, m.denominator, m.ci_low, m.ci_high) == (100, 1, 1, 20.7, 100.0)


def test_it_sorts_by_kommunkod_then_edition_order() -> None:
    rows = [email("1480", "a", s(5, 10), None), email("0180", "b", s(5, 10), None)]
    got = [(x.kommunkod, x.measure_id) for x in score(rows, rules("2016"))]
    order = [
        "email_within_2_working_days",
        "email_within_1_working_day",
        "phone_direct_answer",
        "phone_bemotande",
        "phone_person_within_60s",
        "phone_person_within_120s",
    ]
    assert got == [("0180", m) for m in order] + [("1480", m) for m in order]


def test_it_rejects_naive_timestamps() -> None:
    row = email("0180", "e", datetime(2026, 10, 5, 10), datetime(2026, 10, 5, 11))  # noqa: DTZ001
    with pytest.raises(ValueError, match="time-zone aware"):
        score([row], rules())


def test_it_rejects_a_bemotande_outside_0_to_3() -> None:
    with pytest.raises(ValueError, match="bemotande must be 0-3"):
        score([call("0180", "p", "person", wait=5, direct=True, bem=4)], rules())


# --- comparison -----------------------------------------------------------------------------


def _scores(values: dict[str, int | None], measure_id: str = "m") -> list[Score]:
    return [
        Score(k, measure_id, v, None if v is None else float(v), 0, 1, None, None, 0, 0)
        for k, v in values.items()
    ]


@pytest.mark.parametrize(
    ("values", "colours"),
    [
        ({"a": 90, "b": 80, "c": 70, "d": 50}, "GYYR"),
        ({"a": 90, "b": 90, "c": 70, "d": 50}, "GGYR"),  # ties get the better colour
        ({"a": 90, "b": 80, "c": 80, "d": 80}, "GYYY"),
        ({"a": 8, "b": 7, "c": 6, "d": 5, "e": 4, "f": 3, "g": 2, "h": 1}, "GGYYYYRR"),
        ({"a": 5}, "G"),
        ({"a": 5, "b": 4}, "GY"),
        ({"a": 5, "b": 4, "c": 3}, "GYY"),  # fewer than 4: no red
        ({"a": 5, "b": 5, "c": 5}, "GGG"),
    ],
)
def test_it_colours_by_rank_position(values: dict[str, int], colours: str) -> None:
    got = compare(_scores(dict(values)))["m"]
    names = {"green": "G", "yellow": "Y", "red": "R"}
    assert "".join(names[got.colours[k]] for k in sorted(values)) == colours


def test_it_summarises_a_measure_over_targets_with_a_value() -> None:
    got = compare(_scores({"0180": 2, "1280": 1, "1480": 1, "2480": 1, "0114": None}))["m"]
    # Mean of 2, 1, 1, 1 = 1.25 -> 1.3 (half up); the target without a value takes no part.
    assert (got.municipalities, got.mean, got.best, got.worst) == (4, 1.3, 2, 1)
    assert "0114" not in got.colours


def test_it_compares_a_measure_nobody_has_a_value_for() -> None:
    got = compare(_scores({"0180": None}))["m"]
    assert (got.municipalities, got.mean, got.best, got.worst, dict(got.colours)) == (
        0,
        None,
        None,
        None,
        {},
    )


def test_2011_counts_the_case_officer_from_the_mark_or_assessment_not_any_person() -> None:
    # Issue 18: p1 reached a case officer, p2 only the switchboard (a person, but not one who
    # handles the matter), p6 has no mark or assessment yet: counted as before, by the person
    # who answered, and flagged as approximated. Busy, no answer, no person: not reached.
    rows = [
        replace(r, case_officer={"p1": True, "p2": False}.get(r.probe_id)) for r in _mixed_calls()
    ]
    m = by_measure(score(rows, rules("2011")))["phone_contact_case_officer"]
    assert (m.numerator, m.denominator, m.value) == (2, 6, 33)
    assert m.approximated == 1
    exact = [replace(r, case_officer=r.probe_id == "p1") for r in _mixed_calls()]
    m = by_measure(score(exact, rules("2011")))["phone_contact_case_officer"]
    assert (m.numerator, m.approximated) == (1, 0)


def test_2011_bemotande_on_its_own_three_levels_with_the_share_god() -> None:
    # Assessed as god (2), medelgod (1), dålig (0) on the 2011 scale: god only counts. A call
    # assessed on the four levels only falls back to "god or better", flagged as approximated.
    rows = [
        replace(call("0180", "a", "person", wait=10, direct=True), bemotande_2011=2),
        replace(call("0180", "b", "person", wait=10, direct=True), bemotande_2011=1),
        replace(call("0180", "c", "person", wait=10, direct=True), bemotande_2011=0),
        call("0180", "d", "person", wait=10, direct=True, bem=3),
        call("0180", "e", "person", wait=10, direct=True),  # not assessed yet
    ]
    m = by_measure(score(rows, rules("2011")))["phone_bemotande_good_share"]
    assert (m.numerator, m.denominator, m.value) == (2, 4, 50)
    assert (m.approximated, m.awaiting_assessment) == (1, 1)
    with pytest.raises(ValueError, match="bemotande_2011 must be 0-2"):
        score([replace(call("0180", "x", "person", wait=1), bemotande_2011=3)], rules("2011"))
