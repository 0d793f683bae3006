"""The campaign planner (results.planner): feasibility, calendar, spread, questions, determinism.

The invariants are checked here from the plan itself, independently of ``check_plan``; then
``check_plan`` is checked to agree (empty on every generated plan, non-empty on a corrupted one).
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from results.calendar import WorkCalendar
from results.planner import (
    PlanError,
    PlannedProbe,
    PlanQuestion,
    PlanRules,
    PlanTarget,
    check_plan,
    make_plan,
)

STHLM = ZoneInfo("Europe/Stockholm")
AREAS = ("bygglov", "forskola", "grundskola", "ifo", "miljo", "gator", "aldre", "lss", "ovrigt")
BANK = [PlanQuestion(f"{a}-{i:02d}", a) for a in AREAS for i in range(1, 5)]  # 4 per area
PERSONAS = 6
AUTUMN = (date(2026, 10, 5), date(2026, 11, 13))  # Mon week 41 .. Fri week 46: 30 working days


def rules(**changes: object) -> PlanRules:
    """The default campaign of kkik-method Part A, with changes."""
    base = PlanRules(
        period_start=AUTUMN[0],
        period_end=AUTUMN[1],
        weekdays=frozenset(range(5)),
        send_window=(time(9), time(16)),
        call_window=(time(9), time(16)),
        emails_per_target=18,
        calls_per_target=18,
        min_spacing=timedelta(hours=1),
        max_calls_per_target_per_day=2,
        max_emails_per_target_per_day=2,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def targets(n: int) -> list[PlanTarget]:
    return [PlanTarget(str(2380 + i), email=True, phone=True) for i in range(n)]


def local(p: PlannedProbe) -> datetime:
    return p.at.astimezone(STHLM)


# --- feasibility -------------------------------------------------------------------------------

ONE_WEEK = {"period_start": date(2026, 10, 5), "period_end": date(2026, 10, 12)}  # 6 days
TWO_WEEKS = {"period_start": date(2026, 10, 5), "period_end": date(2026, 10, 16)}  # 10 days
PHONE_ONLY = [PlanTarget("2380", email=False, phone=True)]
BOTH = [PlanTarget("2380", email=True, phone=True)]
LOPSIDED = [PlanQuestion(f"{a}-{i}", a) for a in AREAS[:2] for i in range(5)] + [
    PlanQuestion(f"{a}-{i}", a) for a in AREAS[2:] for i in range(2)
]


@pytest.mark.parametrize(
    ("who", "bank", "changes", "message"),
    [
        (
            PHONE_ONLY,
            BANK,
            ONE_WEEK,
            "target 2380: 18 calls need at least 9 eligible days at 2 per day, the period has 6",
        ),
        (
            BOTH,
            BANK,
            {**ONE_WEEK, "max_emails_per_target_per_day": 1, "emails_per_target": 7},
            "target 2380: 7 e-mails need at least 7 eligible days at 1 per day, the period has 6",
        ),
        (
            PHONE_ONLY,
            BANK,
            {**TWO_WEEKS, "call_window": (time(9), time(9, 30))},
            "target 2380: 18 calls need at least 18 eligible days at 1 per day (the call window "
            "09:00–09:30 fits only 1 at 60 min spacing), the period has 10",
        ),
        (
            BOTH,
            BANK,
            {
                **ONE_WEEK,
                "send_window": (time(9), time(11)),
                "call_window": (time(9), time(11)),
                "emails_per_target": 10,
                "calls_per_target": 10,
            },
            "target 2380: 10 e-mails and 10 calls need at least 10 eligible days under the "
            "per-day limits at 60 min spacing, the period has 6",
        ),
        (
            PHONE_ONLY,
            BANK,
            {**TWO_WEEKS, "weekdays": frozenset({0}), "period_start": date(2026, 10, 6)},
            "target 2380: 18 calls need at least 9 eligible days at 2 per day, the period has 1",
        ),
        (
            BOTH,
            BANK[:18],
            {},
            "target 2380: 18 e-mails and 18 calls need 36 different questions, the bank has 18",
        ),
        (
            BOTH,
            BANK[:33],  # the last area, ovrigt, has one question
            {"emails_per_target": 9, "calls_per_target": 9},
            "target 2380: area ovrigt needs 2 different questions (1 e-mail, 1 call) to keep "
            "areas balanced, the bank has 1",
        ),
        (
            BOTH,
            LOPSIDED,  # 2 areas of 5 and 7 of 2: 24 questions, but only 2 areas can take extras
            {"emails_per_target": 12, "calls_per_target": 12},
            "target 2380: the bank cannot give 12 e-mails and 12 calls balanced over 9 areas "
            "without repeating a question",
        ),
    ],
    ids=[
        "calls-per-day",
        "emails-per-day",
        "narrow-window",
        "both-channels",
        "weekdays",
        "bank-size",
        "area-size",
        "area-extras",
    ],
)
def test_it_refuses_an_infeasible_campaign_with_the_reason(who, bank, changes, message):
    with pytest.raises(PlanError) as caught:
        make_plan(who, bank, PERSONAS, rules(**changes), seed=1)
    assert str(caught.value) == message


def test_it_checks_every_target_up_front_and_names_the_first_that_fails():
    who = [PlanTarget("0180", email=True, phone=False), PlanTarget("2380", True, True)]
    with pytest.raises(PlanError, match=r"^target 2380: 18 calls need at least 9 eligible days"):
        make_plan(who, BANK, PERSONAS, rules(**ONE_WEEK, emails_per_target=4), seed=1)


@pytest.mark.parametrize(
    ("changes", "bad_personas", "fragment"),
    [
        ({"period_end": date(2026, 10, 1)}, False, "before it starts"),
        ({"weekdays": frozenset({5})}, False, "weekdays must be a non-empty subset of 0..4"),
        ({"send_window": (time(7), time(12))}, False, "the send window 07:00–12:00 must be"),
        ({"call_window": (time(12), time(12))}, False, "the call window 12:00–12:00 must be"),
        ({"min_spacing": timedelta(hours=20)}, False, "min_spacing must be between 0"),
        ({"max_calls_per_target_per_day": 0}, False, "per-day limit for calls"),
        ({}, True, "at least one persona"),
    ],
)
def test_it_rejects_invalid_rules(changes, bad_personas, fragment):
    with pytest.raises(PlanError, match=fragment):
        make_plan(targets(1), BANK, 0 if bad_personas else PERSONAS, rules(**changes), seed=1)


def test_it_still_plans_a_tight_campaign_the_sweep_gets_stuck_on():
    # Mondays and Tuesdays, 13 of them (Annandag påsk 2026-04-06 is closed). No day takes two
    # e-mails and a call, so 17 e-mails and 13 calls need 12 days of just the right shapes
    # (6 × 2 e-mails, 5 × 1 e-mail + 2 calls, 1 × 3 calls): the greedy sweep misses that for this
    # seed and the fallback spreads those 12 shapes instead.
    r = rules(
        period_start=date(2026, 2, 18),
        period_end=date(2026, 4, 10),
        weekdays=frozenset({0, 1}),
        send_window=(time(12, 35), time(14, 5)),
        call_window=(time(12, 5), time(14, 20)),
        emails_per_target=17,
        calls_per_target=13,
        max_calls_per_target_per_day=3,
        max_emails_per_target_per_day=3,
    )
    who = [PlanTarget("1001", True, True)]
    plan = make_plan(who, BANK, PERSONAS, r, seed=1)
    assert check_plan(plan, who, BANK, r) == []
    assert len({local(p).date() for p in plan}) == 12
    with pytest.raises(PlanError) as caught:
        make_plan(who, BANK, PERSONAS, dataclasses.replace(r, period_end=date(2026, 3, 30)), 1)
    assert str(caught.value) == (
        "target 1001: 17 e-mails and 13 calls need at least 12 eligible days under the per-day "
        "limits at 60 min spacing, the period has 11"
    )


def test_it_rejects_duplicate_targets_and_questions():
    with pytest.raises(PlanError, match="duplicate target 2380; duplicate question bygglov-01"):
        make_plan(targets(1) * 2, [*BANK, BANK[0]], PERSONAS, rules(), seed=1)


# --- calendar ----------------------------------------------------------------------------------


def test_it_skips_weekends_holidays_and_the_campaigns_closed_days():
    # Kristi himmelsfärdsdag Thu 2026-05-14, the klämdag Fri 05-15 closed by the campaign,
    # Nationaldagen falls on a Saturday, midsommarafton Fri 06-19.
    closed = {date(2026, 5, 14), date(2026, 5, 15), date(2026, 6, 19)}
    cal = WorkCalendar(extra_closed_days=frozenset({date(2026, 5, 15)}))
    r = rules(period_start=date(2026, 5, 11), period_end=date(2026, 6, 26), calendar=cal)
    plan = make_plan(targets(7), BANK, PERSONAS, r, seed=3)
    days = {local(p).date() for p in plan}
    assert len(plan) == 7 * 36
    assert not days & closed
    assert all(d.weekday() < 5 for d in days)
    assert {date(2026, 5, 13), date(2026, 5, 18), date(2026, 6, 18), date(2026, 6, 22)} <= days


def test_it_uses_the_friday_before_alla_helgons_dag_on_a_saturday():
    plan = make_plan(targets(7), BANK, PERSONAS, rules(), seed=3)
    days = Counter(local(p).date() for p in plan)
    assert date(2026, 10, 30) in days  # Alla helgons afton is an ordinary working day
    assert date(2026, 10, 31) not in days


def test_it_keeps_local_windows_across_the_end_of_summer_time():
    # Summer time ends Sunday 2026-10-25: 09:00 local is 07:00 UTC before, 08:00 UTC after.
    r = rules(period_start=date(2026, 10, 12), period_end=date(2026, 11, 6))
    plan = make_plan(targets(7), BANK, PERSONAS, r, seed=5)
    for p in plan:
        assert p.at.tzinfo is UTC
        assert time(9) <= local(p).time() < time(16)
        summer = local(p).date() < date(2026, 10, 25)
        assert local(p).utcoffset() == timedelta(hours=2 if summer else 1)
    utc_hours_after = {p.at.hour for p in plan if p.at.date() > date(2026, 10, 25)}
    utc_hours_before = {p.at.hour for p in plan if p.at.date() < date(2026, 10, 25)}
    assert (min(utc_hours_before), max(utc_hours_before)) == (7, 13)
    assert (min(utc_hours_after), max(utc_hours_after)) == (8, 14)


# --- spread, questions, personas, determinism ---------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2026])
def test_it_spreads_a_campaign_over_weekdays_days_and_hours(seed):
    plan = make_plan(targets(7), BANK, PERSONAS, rules(), seed=seed)
    for t in targets(7):
        mine = [p for p in plan if p.target == t.key]
        weekdays = Counter(local(p).weekday() for p in mine)
        assert max(weekdays.values()) <= 0.35 * len(mine), (t.key, weekdays)
    hours = Counter(local(p).hour for p in plan)
    assert sorted(hours) == list(range(9, 16))
    assert max(hours.values()) / len(plan) <= 2 * (1 / 7), hours
    days = Counter(local(p).date() for p in plan)
    assert len(days) == 30
    assert max(days.values()) <= 2 * len(plan) / 30, days


def test_it_spaces_each_channel_evenly_over_the_period():
    plan = make_plan(targets(7), BANK, PERSONAS, rules(), seed=11)
    working = [d for d in (AUTUMN[0] + timedelta(n) for n in range(40)) if d.weekday() < 5]
    index = {d: i for i, d in enumerate(working)}
    for t in targets(7):
        for ch in ("email", "phone"):
            slots = sorted(
                index[local(p).date()] for p in plan if (p.target, p.channel) == (t.key, ch)
            )
            # 18 over 30 days is a step of 1.7 days: one a day at most, never more than 3 days
            # between two, and both ends of the period are used.
            assert len(set(slots)) == 18, slots
            assert max(b - a for a, b in pairwise(slots)) <= 3, (t.key, ch, slots)
            assert slots[0] <= 2, slots
            assert slots[-1] >= 27, slots


def test_it_rotates_questions_of_an_area_between_targets():
    plan = make_plan(targets(7), BANK, PERSONAS, rules(), seed=4)
    assert {p.question for p in plan} == {q.code for q in BANK}
    firsts = {next(p.question for p in plan if p.target == t.key) for t in targets(7)}
    assert len(firsts) > 1
    for t in targets(7):
        for ch in ("email", "phone"):
            areas = Counter(
                p.question.split("-")[0] for p in plan if (p.target, p.channel) == (t.key, ch)
            )
            assert areas == dict.fromkeys(AREAS, 2)


def test_it_rotates_personas_round_robin_from_a_seeded_offset():
    plan = make_plan(targets(7), BANK, PERSONAS, rules(), seed=4)
    starts = set()
    for t in targets(7):
        personas = [p.persona for p in plan if p.target == t.key]
        assert all((b - a) % PERSONAS == 1 for a, b in pairwise(personas))
        starts.add(personas[0])
    assert len(starts) > 1


def test_it_plans_only_the_channels_a_target_has():
    who = [
        PlanTarget("0180", True, False),
        PlanTarget("2380", False, True),
        PlanTarget("0114", False, False),
    ]
    plan = make_plan(who, BANK, PERSONAS, rules(), seed=9)
    assert Counter((p.target, p.channel) for p in plan) == {
        ("0180", "email"): 18,
        ("2380", "phone"): 18,
    }
    assert check_plan(plan, who, BANK, rules()) == []


def test_it_is_deterministic_and_the_seed_moves_the_times():
    one = make_plan(targets(7), BANK, PERSONAS, rules(), seed=8)
    assert make_plan(targets(7), BANK, PERSONAS, rules(), seed=8) == one
    other = make_plan(targets(7), BANK, PERSONAS, rules(), seed=9)
    assert [p.at for p in other] != [p.at for p in one]
    # A target's days and times do not depend on the other targets.
    alone = make_plan(targets(7)[3:4], BANK, PERSONAS, rules(), seed=8)
    assert [p.at for p in alone] == [p.at for p in one if p.target == "2383"]


def _moved(p: PlannedProbe, delta: timedelta) -> PlannedProbe:
    return dataclasses.replace(p, at=p.at + delta)


@pytest.mark.parametrize(
    ("corrupt", "fragment"),
    [
        (lambda plan, i, j: plan[:i] + plan[i + 1 :], "17 e-mails, expected 18"),
        (lambda plan, i, j: [*plan, plan[i]], "question asked more than once"),
        (
            lambda plan, i, j: [*plan[:i], _moved(plan[i], timedelta(minutes=2)), *plan[i + 1 :]],
            "grid",
        ),
        (
            lambda plan, i, j: [*plan[:i], _moved(plan[i], timedelta(hours=12)), *plan[i + 1 :]],
            "outside",
        ),
        (
            lambda plan, i, j: [
                *plan[:j],
                dataclasses.replace(plan[j], at=plan[i].at + timedelta(minutes=30)),
                *plan[j + 1 :],
            ],
            "too close",
        ),
        (
            lambda plan, i, j: [
                *plan[:i],
                dataclasses.replace(plan[i], question="x-99"),
                *plan[i + 1 :],
            ],
            "unknown question",
        ),
        (
            lambda plan, i, j: [
                *plan[:i],
                dataclasses.replace(plan[i], sequence=99),
                *plan[i + 1 :],
            ],
            "sequence numbers",
        ),
    ],
    ids=["count", "repeat", "grid", "window", "spacing", "question", "sequence"],
)
def test_it_has_check_plan_name_each_broken_invariant(corrupt, fragment):
    plan = make_plan(targets(2), BANK, PERSONAS, rules(), seed=6)
    assert check_plan(plan, targets(2), BANK, rules()) == []
    mine = [k for k, p in enumerate(plan) if p.target == "2380"]
    i = next(k for k in mine if plan[k].channel == "email")
    j = next(
        k for k in mine if plan[k].channel == "phone" and plan[k].at.date() != plan[i].at.date()
    )
    problems = check_plan(corrupt(plan, i, j), targets(2), BANK, rules())
    assert problems
    assert all(problem.startswith("target 2380") for problem in problems), problems
    assert any(fragment in problem for problem in problems), problems


# --- properties --------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Campaign:
    targets: list[PlanTarget]
    rules: PlanRules
    seed: int


@st.composite
def campaigns(draw: st.DrawFn) -> Campaign:
    n = draw(st.integers(1, 8))
    flags = draw(st.lists(st.tuples(st.booleans(), st.booleans()), min_size=n, max_size=n))
    start = draw(st.dates(date(2026, 1, 1), date(2027, 12, 31)))
    windows = []
    for _ in range(2):  # at least 4 h, on the 5-minute grid, inside 08:00-17:00
        begin = draw(st.integers(8 * 12, 13 * 12)) * 5
        end = draw(st.integers(begin // 5 + 48, 17 * 12)) * 5
        windows.append((time(begin // 60, begin % 60), time(end // 60, end % 60)))
    r = PlanRules(
        period_start=start,
        period_end=start + timedelta(weeks=draw(st.integers(3, 8)), days=-1),
        weekdays=draw(st.frozensets(st.integers(0, 4), min_size=3)),
        send_window=windows[0],
        call_window=windows[1],
        emails_per_target=draw(st.integers(1, 18)),
        calls_per_target=draw(st.integers(1, 18)),
        min_spacing=timedelta(minutes=draw(st.sampled_from([0, 30, 45, 60]))),
        max_calls_per_target_per_day=draw(st.integers(1, 2)),
        max_emails_per_target_per_day=draw(st.integers(1, 2)),
        calendar=WorkCalendar(
            extra_closed_days=frozenset(
                draw(st.lists(st.dates(start, start + timedelta(weeks=8)), max_size=3))
            )
        ),
    )
    who = [PlanTarget(f"{1000 + 37 * i:04d}", e, p) for i, (e, p) in enumerate(flags)]
    return Campaign(who, r, draw(st.integers(0, 2**32)))


PROPERTY = settings(max_examples=60, deadline=None, database=None)


def expected_error(c: Campaign) -> str | None:
    """With windows of 4 h or more and spacing up to 1 h, only the per-day limits can bind."""
    r = c.rules
    days = sum(
        1
        for n in range((r.period_end - r.period_start).days + 1)
        if (d := r.period_start + timedelta(n)).weekday() in r.weekdays
        and r.calendar.is_working_day(d)
    )
    for t in c.targets:
        for has, count, per_day, noun in (
            (t.email, r.emails_per_target, r.max_emails_per_target_per_day, "e-mail"),
            (t.phone, r.calls_per_target, r.max_calls_per_target_per_day, "call"),
        ):
            need = math.ceil(count / per_day)
            if has and need > days:
                return (
                    f"target {t.key}: {count} {noun}{'s need' if count > 1 else ' needs'} at least "
                    f"{need} eligible day{'s' if need > 1 else ''} at {per_day} per day, "
                    f"the period has {days}"
                )
    return None


def plan_of(c: Campaign) -> list[PlannedProbe] | None:
    """The plan, or None after checking that the campaign really is infeasible."""
    error = expected_error(c)
    if error is not None:
        with pytest.raises(PlanError) as caught:
            make_plan(c.targets, BANK, PERSONAS, c.rules, c.seed)
        assert str(caught.value) == error
        return None
    return make_plan(c.targets, BANK, PERSONAS, c.rules, c.seed)


@PROPERTY
@given(campaigns())
def test_it_puts_every_probe_on_an_eligible_day_inside_its_window(c):
    plan = plan_of(c)
    if plan is None:
        return
    r = c.rules
    for p in plan:
        when = local(p)
        window = r.send_window if p.channel == "email" else r.call_window
        assert p.at.utcoffset() == timedelta(0)
        assert r.period_start <= when.date() <= r.period_end
        assert when.weekday() in r.weekdays
        assert r.calendar.is_working_day(when.date())
        assert window[0] <= when.time() < window[1]
        assert (when.minute % 5, when.second, when.microsecond) == (0, 0, 0)
        assert 0 <= p.persona < PERSONAS


@PROPERTY
@given(campaigns())
def test_it_keeps_spacing_per_day_limits_and_exact_counts(c):
    plan = plan_of(c)
    if plan is None:
        return
    r = c.rules
    for t in c.targets:
        mine = sorted((p for p in plan if p.target == t.key), key=lambda p: p.at)
        assert all(b.at - a.at >= r.min_spacing for a, b in pairwise(mine))
        for ch, has, count, per_day in (
            ("email", t.email, r.emails_per_target, r.max_emails_per_target_per_day),
            ("phone", t.phone, r.calls_per_target, r.max_calls_per_target_per_day),
        ):
            probes = [p for p in mine if p.channel == ch]
            assert len(probes) == (count if has else 0)
            assert [p.sequence for p in probes] == list(range(1, len(probes) + 1))
            assert max(Counter(local(p).date() for p in probes).values(), default=0) <= per_day


@PROPERTY
@given(campaigns())
def test_it_never_repeats_a_question_and_balances_areas(c):
    plan = plan_of(c)
    if plan is None:
        return
    area_of = {q.code: q.area for q in BANK}
    by_target: dict[str, list[PlannedProbe]] = defaultdict(list)
    for p in plan:
        by_target[p.target].append(p)
    for probes in by_target.values():
        assert len({p.question for p in probes}) == len(probes)
        for ch in ("email", "phone"):
            per_area = Counter(area_of[p.question] for p in probes if p.channel == ch)
            counts = [per_area[a] for a in AREAS]
            assert max(counts) - min(counts) <= 1


@PROPERTY
@given(campaigns())
def test_it_is_deterministic_and_check_plan_agrees(c):
    plan = plan_of(c)
    if plan is None:
        return
    assert make_plan(c.targets, BANK, PERSONAS, c.rules, c.seed) == plan
    assert check_plan(plan, c.targets, BANK, c.rules) == []


@PROPERTY
@given(campaigns(), st.data())
def test_it_has_check_plan_catch_a_probe_moved_to_a_saturday(c, data):
    plan = plan_of(c)
    if not plan:
        return
    i = data.draw(st.integers(0, len(plan) - 1))
    when = local(plan[i])
    saturday = when.date() + timedelta(days=5 - when.weekday())
    moved = datetime.combine(saturday, when.time(), tzinfo=STHLM).astimezone(UTC)
    corrupted = [*plan[:i], dataclasses.replace(plan[i], at=moved), *plan[i + 1 :]]
    problems = check_plan(corrupted, c.targets, BANK, c.rules)
    assert any("not an eligible working day" in problem for problem in problems), problems
