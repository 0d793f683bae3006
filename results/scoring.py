"""Evidence in, scores out: the KKiK computation, pure and fast.

Sources: kkik-method.md Part A ("E-mail", "Phone", "Results") and Part B §4 (bemötande) and §6
(computation, rounding, comparison). Which measures are scored comes from
:mod:`results.measures` (the edition). Denominators, exactly:

E-mail (within 1 / 2 working days)
    Every e-mail probe that is not a harness fault. Numerator: ``answered_at`` set and within *n*
    working days of ``sent_at`` under the campaign's :class:`~results.calendar.DeadlineRule`
    (inclusive, as :meth:`WorkCalendar.within`). Unanswered probes count as failures.
Direct answer (2016+) and contact with a case officer (2011)
    Bridged calls that are not harness faults. Busy, no answer and answered-but-no-person count as
    failures (Part B §3.1: "the denominator includes unanswered and badly answered calls"). A call
    that reached a person but has no ``direct_answer`` yet is left out of the denominator and
    counted in ``awaiting_assessment``, so an unfinished review never reads as a failure.
    Numerator: ``direct_answer`` true; for contact with a case officer, outcome "person".
Person within 60 s / 120 s
    All calls, bridged and automated, that are not harness faults. Numerator: ``person_at`` set and
    ``person_at − sent_at`` ≤ the limit (inclusive).
Bemötande 0–3 (2016+, Part B §4)
    Assessed bridged calls that reached a person. Value = points / (3 × calls) × 100.
Bemötande "god" share (2011–2015)
    The same calls; the share with ``bemotande`` ≥ 2 (god or mycket god on the four-level scale
    stands for "god" on the old three-level one).

Decided here (not in the sources): a phone call with outcome "failed" is a harness fault even if
``harness_fault`` is false (Part A: "failed (our side: harness fault, excluded)"); a phone call
with no outcome yet is left out and counted in ``awaiting_assessment`` of every phone measure whose
population it would join; automated calls never enter the bridged-only measures, not even as faults.

Results (Part A "Results", Part B §6): whole-number percentages rounded half up (exactly, on
integers: 5/8 → 62.5 → 63), with numerator, denominator and a 95% Wilson interval in percent to
one decimal. For bemötande the interval treats the points as successes out of 3n trials; points
are not independent Bernoulli trials, so this is an approximation that is only meant to show how
wide the uncertainty of ten or so calls is. An empty denominator gives no value and no interval.

Speed: scoring a million rows must take seconds, and :meth:`WorkCalendar.within` costs tens of
microseconds. For the office-hours rule each instant is mapped once to a "business clock" (office
time elapsed since an anchor day, from a per-day table), and within ⇔ clock(answer) − clock(sent)
≤ *n* office days; that is the calendar's own definition (business time ≤ budget), including the
evening after a deadline at closing time. For the same-time rule the deadline is the same wall
clock *n* working days on (cached per day) or, outside office hours, a per-day constant taken from
:meth:`WorkCalendar.deadline`. Tests check both against :meth:`WorkCalendar.within`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from results.calendar import DeadlineRule, WorkCalendar
from results.measures import DEFAULT_EDITION, MAX_POINTS_PER_CALL, Measure, edition

__all__ = [
    "Colour",
    "Comparison",
    "EmailJudge",
    "Evidence",
    "Mode",
    "Outcome",
    "Score",
    "ScoringRules",
    "compare",
    "round_half_up",
    "score",
    "wilson_interval",
]

Mode = Literal["bridged", "automated"]
Outcome = Literal["busy", "no_answer", "failed", "no_person", "person"]
Colour = Literal["green", "yellow", "red"]

#: Two-sided 95% normal quantile.
_Z = 1.959963984540054
_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Evidence:
    """One probe's facts, as stored or read from a CSV. Instants must be time-zone aware."""

    kommunkod: str
    channel: Literal["email", "phone"]
    probe_id: str
    sent_at: datetime
    answered_at: datetime | None = None
    harness_fault: bool = False
    mode: Mode | None = None
    outcome: Outcome | None = None
    person_at: datetime | None = None
    direct_answer: bool | None = None
    bemotande: int | None = None
    # Edition 2011: the case officer reached (the tester's mark or assessment; None: not known)
    # and bemötande on its own three-level scale (god 2, medelgod 1, dålig 0; None: not so
    # assessed). Where unknown, 2011 falls back to "a person answered" and to the four-level
    # points (god or better), and counts the call in Score.approximated.
    case_officer: bool | None = None
    bemotande_2011: int | None = None


@dataclass(frozen=True)
class ScoringRules:
    edition: str = DEFAULT_EDITION
    calendar: WorkCalendar = field(default_factory=WorkCalendar)
    deadline_rule: DeadlineRule = DeadlineRule.OFFICE_HOURS


@dataclass(frozen=True)
class Score:
    kommunkod: str
    measure_id: str
    value: int | None
    value_exact: float | None
    numerator: int
    denominator: int
    ci_low: float | None
    ci_high: float | None
    awaiting_assessment: int
    excluded_faults: int
    # Calls counted by an approximation of the edition's definition (edition 2011 without the
    # case officer mark or the three-level scale: see Evidence); 0 when measured as defined.
    approximated: int = 0


@dataclass(frozen=True)
class Comparison:
    """One measure across the compared municipalities (those with a value)."""

    measure_id: str
    municipalities: int
    mean: float | None
    best: int | None
    worst: int | None
    colours: Mapping[str, Colour]


# --- arithmetic ---------------------------------------------------------------------------------


def round_half_up(numerator: int, denominator: int) -> int:
    """100 × numerator / denominator as a whole percent, halves rounded up, exactly.

    Python's round() rounds halves to even (62.5 → 62) and floats cannot hold most halves
    exactly, so the division is done in Decimal with enough digits for any integer inputs.
    """
    if denominator <= 0 or numerator < 0:
        raise ValueError(f"need numerator >= 0 and denominator > 0, got {numerator}/{denominator}")
    exact = Decimal(100 * numerator) / Decimal(denominator)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _one_decimal(x: float) -> float:
    return float(Decimal(x).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def wilson_interval(successes: int, trials: int) -> tuple[float, float]:
    """95% Wilson score interval in percent, one decimal (half up), clamped to 0–100."""
    if trials <= 0 or not 0 <= successes <= trials:
        raise ValueError(f"need 0 <= successes <= trials and trials > 0, got {successes}/{trials}")
    p = successes / trials
    z2 = _Z * _Z
    denom = 1 + z2 / trials
    centre = (p + z2 / (2 * trials)) / denom
    half = _Z / denom * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials))
    # Clamp: at p = 0 or 1 the float centre ± half can land a hair outside [0, 1].
    low = max(0.0, centre - half)
    high = min(1.0, centre + half)
    return _one_decimal(100 * low), _one_decimal(100 * high)


# --- e-mail deadlines ---------------------------------------------------------------------------


class EmailJudge:
    """Decides "answered within *n* working days" for many probes, equal to calendar.within.

    Holds per-day caches, so one judge serves one scoring run (it is not thread-safe).
    """

    def __init__(self, calendar: WorkCalendar, rule: DeadlineRule, days: Sequence[int]) -> None:
        self._cal = calendar
        self._tz = calendar.tz
        self._rule = DeadlineRule(rule)
        self._days = tuple(days)
        for n in self._days:
            if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                raise ValueError(f"days must be positive whole numbers, got {n!r}")
        self._budgets = tuple(calendar.office_day * n for n in self._days)
        # Office-hours rule: UTC date -> (business time before it, its office intervals in UTC).
        self._table: dict[date, tuple[timedelta, tuple[tuple[datetime, datetime], ...]]] = {}
        self._lo: date | None = None
        self._hi: date | None = None
        # Same-time rule: local date -> the n-th next working day, per n; and the constant
        # deadline for questions sent outside office hours, per (date, bucket).
        self._nth: dict[date, tuple[date, ...]] = {}
        self._fixed: dict[tuple[date, int], tuple[datetime, ...]] = {}

    # office-hours rule

    def _utc_day(self, d: date) -> tuple[tuple[datetime, datetime], ...]:
        # The office intervals (UTC) that fall on UTC date d. Keyed by UTC date rather than local
        # date so the hot path needs no time-zone conversion; a local office day that straddles
        # UTC midnight (far-east zones) is split in two, which keeps the sums exact.
        start = datetime.combine(d, datetime.min.time(), tzinfo=UTC)
        end = start + _ONE_DAY
        out: list[tuple[datetime, datetime]] = []
        for local in (d - _ONE_DAY, d, d + _ONE_DAY):
            if not self._cal.is_working_day(local):
                continue
            opening, closing = self._cal.office_interval(local)
            o = max(opening.astimezone(UTC), start)
            c = min(closing.astimezone(UTC), end)
            if c > o:
                out.append((o, c))
        return tuple(out)

    def _extend(self, d: date) -> None:
        # The table is contiguous so "business time before d" is a running sum from the anchor.
        table = self._table
        if self._lo is None or self._hi is None:
            table[d] = (timedelta(0), self._utc_day(d))
            self._lo = self._hi = d
            return
        while d > self._hi:
            before, intervals = table[self._hi]
            nxt = self._hi + _ONE_DAY
            table[nxt] = (
                before + sum((c - o for o, c in intervals), timedelta(0)),
                self._utc_day(nxt),
            )
            self._hi = nxt
        while d < self._lo:
            prev = self._lo - _ONE_DAY
            intervals = self._utc_day(prev)
            length = sum((c - o for o, c in intervals), timedelta(0))
            table[prev] = (table[self._lo][0] - length, intervals)
            self._lo = prev

    def business_clock(self, instant: datetime) -> timedelta:
        """Office time from the anchor day's start to ``instant`` (differences are exact)."""
        # Both sides in datetime.UTC, so comparisons and subtraction are plain and fast.
        u = instant.astimezone(UTC)
        d = u.date()
        entry = self._table.get(d)
        if entry is None:
            self._extend(d)
            entry = self._table[d]
        total, intervals = entry
        for o, c in intervals:
            if u >= c:
                total += c - o
            elif u > o:
                total += u - o
        return total

    # same-time rule

    def _same_time_deadlines(self, sent: datetime) -> tuple[datetime, ...]:
        cal = self._cal
        local = sent.astimezone(self._tz)
        d = local.date()
        clock = local.time()
        if not cal.is_working_day(d):
            bucket = 0
        elif clock < cal.office_start:
            bucket = 1
        elif clock > cal.office_end:
            bucket = 2
        else:
            nth = self._nth.get(d)
            if nth is None:
                nth = self._nth_working_days(d)
                self._nth[d] = nth
            return tuple(
                datetime.combine(nth[n - 1], clock, tzinfo=self._tz).astimezone(UTC)
                for n in self._days
            )
        # Outside office hours the deadline does not depend on the clock within the bucket, so
        # the calendar's own answer for this one question holds for the whole bucket.
        key = (d, bucket)
        fixed = self._fixed.get(key)
        if fixed is None:
            fixed = tuple(
                cal.deadline(sent, n, DeadlineRule.NEXT_WORKING_DAY_SAME_TIME).astimezone(UTC)
                for n in self._days
            )
            self._fixed[key] = fixed
        return fixed

    def _nth_working_days(self, d: date) -> tuple[date, ...]:
        out: list[date] = []
        day = d
        for _ in range(max(self._days)):
            day = self._cal.next_working_day(day)
            out.append(day)
        return tuple(out)

    def within(self, sent: datetime, answered: datetime) -> tuple[bool, ...]:
        """For each configured *n*: is ``answered`` within *n* working days of ``sent``?"""
        if sent.tzinfo is None or answered.tzinfo is None:
            raise ValueError("sent and answered must be time-zone aware")
        if self._rule is DeadlineRule.OFFICE_HOURS:
            elapsed = self.business_clock(answered) - self.business_clock(sent)
            return tuple([elapsed <= b for b in self._budgets])
        answered_utc = answered.astimezone(UTC)
        return tuple(answered_utc <= dl for dl in self._same_time_deadlines(sent))


# --- scoring ------------------------------------------------------------------------------------

# Counter slots per municipality. One flat list per kommunkod keeps the hot loop to list
# indexing, which matters at a million rows.
(
    _E_FAULT,
    _E_DEN,
    _E_IN1,
    _E_IN2,
    _P_FAULT,
    _P_WAIT,
    _P_DEN,
    _P_60,
    _P_120,
    _B_FAULT,
    _B_WAIT,
    _B_DEN,
    _B_PERSON,
    _DA_WAIT,
    _DA_DEN,
    _DA_YES,
    _BEM_WAIT,
    _BEM_N,
    _BEM_POINTS,
    _BEM_GOOD,
    _CO_YES,
    _CO_APPROX,
    _G3_WAIT,
    _G3_N,
    _G3_GOOD,
    _G3_APPROX,
    _SLOTS,
) = range(27)

_SECONDS_60 = timedelta(seconds=60)
_SECONDS_120 = timedelta(seconds=120)


def _require_aware(row: Evidence, name: str, value: datetime) -> datetime:
    tz = value.tzinfo
    # Fixed offsets (what the CSV parser produces) subtract correctly as they are; only a zone
    # with DST needs converting, because same-tzinfo arithmetic uses wall time.
    if type(tz) is timezone:
        return value
    if tz is None or value.utcoffset() is None:
        raise ValueError(f"probe {row.probe_id}: {name} must be time-zone aware, got {value}")
    return value.astimezone(UTC)


def _make_score(
    kommunkod: str,
    m: Measure,
    num: int,
    den: int,
    wait: int,
    faults: int,
    trials_per_call: int = 1,
    approximated: int = 0,
) -> Score:
    if den == 0:
        return Score(kommunkod, m.id, None, None, num, den, None, None, wait, faults)
    trials = den * trials_per_call
    low, high = wilson_interval(num, trials)
    return Score(
        kommunkod=kommunkod,
        measure_id=m.id,
        value=round_half_up(num, trials),
        value_exact=100 * num / trials,
        numerator=num,
        denominator=den,
        ci_low=low,
        ci_high=high,
        awaiting_assessment=wait,
        excluded_faults=faults,
        approximated=approximated,
    )


def _scores_for(kommunkod: str, c: list[int], measures: tuple[Measure, ...]) -> list[Score]:
    out: list[Score] = []
    for m in measures:
        if m.id == "email_within_1_working_day":
            out.append(_make_score(kommunkod, m, c[_E_IN1], c[_E_DEN], 0, c[_E_FAULT]))
        elif m.id == "email_within_2_working_days":
            out.append(_make_score(kommunkod, m, c[_E_IN2], c[_E_DEN], 0, c[_E_FAULT]))
        elif m.id == "phone_direct_answer":
            wait = c[_DA_WAIT] + c[_B_WAIT]
            out.append(_make_score(kommunkod, m, c[_DA_YES], c[_DA_DEN], wait, c[_B_FAULT]))
        elif m.id == "phone_contact_case_officer":
            out.append(
                _make_score(
                    kommunkod,
                    m,
                    c[_CO_YES],
                    c[_B_DEN],
                    c[_B_WAIT],
                    c[_B_FAULT],
                    approximated=c[_CO_APPROX],
                )
            )
        elif m.id in ("phone_person_within_60s", "phone_person_within_120s"):
            num = c[_P_60] if m.threshold == 60 else c[_P_120]
            out.append(_make_score(kommunkod, m, num, c[_P_DEN], c[_P_WAIT], c[_P_FAULT]))
        elif m.id == "phone_bemotande":
            wait = c[_BEM_WAIT] + c[_B_WAIT]
            out.append(
                _make_score(
                    kommunkod, m, c[_BEM_POINTS], c[_BEM_N], wait, c[_B_FAULT], MAX_POINTS_PER_CALL
                )
            )
        elif m.id == "phone_bemotande_good_share":
            wait = c[_G3_WAIT] + c[_B_WAIT]
            out.append(
                _make_score(
                    kommunkod,
                    m,
                    c[_G3_GOOD],
                    c[_G3_N],
                    wait,
                    c[_B_FAULT],
                    approximated=c[_G3_APPROX],
                )
            )
        else:  # pragma: no cover - a measure added to an edition without a rule here
            raise ValueError(f"no scoring rule for measure {m.id!r}")
    return out


def score(evidence: Iterable[Evidence], rules: ScoringRules) -> list[Score]:
    """Score every municipality that has any evidence, for every measure of the edition.

    Sorted by kommunkod, then the edition's measure order. A municipality with evidence for only
    one channel still gets the other channel's measures, with no value.
    """
    measures = edition(rules.edition)
    needs = {m.threshold for m in measures if m.channel == "email"}
    days = sorted(n for n in needs if n is not None)
    judge = EmailJudge(rules.calendar, rules.deadline_rule, days) if days else None
    slot_for_days = {1: _E_IN1, 2: _E_IN2}
    slots = [slot_for_days[n] for n in days]

    counters: dict[str, list[int]] = {}
    for row in evidence:
        c = counters.get(row.kommunkod)
        if c is None:
            c = counters[row.kommunkod] = [0] * _SLOTS
        if row.channel == "email":
            if row.harness_fault:
                c[_E_FAULT] += 1
                continue
            c[_E_DEN] += 1
            if row.answered_at is not None and judge is not None:
                for slot, ok in zip(slots, judge.within(row.sent_at, row.answered_at), strict=True):
                    if ok:
                        c[slot] += 1
            continue
        if row.channel != "phone":
            raise ValueError(f"probe {row.probe_id}: unknown channel {row.channel!r}")
        bridged = row.mode == "bridged"
        outcome = row.outcome
        if row.harness_fault or outcome == "failed":
            c[_P_FAULT] += 1
            if bridged:
                c[_B_FAULT] += 1
            continue
        if outcome is None:
            # Not finished or not yet recorded: no verdict on any phone measure yet.
            c[_P_WAIT] += 1
            if bridged:
                c[_B_WAIT] += 1
            continue
        c[_P_DEN] += 1
        if row.person_at is not None:
            waited = _require_aware(row, "person_at", row.person_at) - _require_aware(
                row, "sent_at", row.sent_at
            )
            if waited <= _SECONDS_60:
                c[_P_60] += 1
            if waited <= _SECONDS_120:
                c[_P_120] += 1
        if not bridged:
            continue
        c[_B_DEN] += 1
        if outcome != "person":
            c[_DA_DEN] += 1  # busy, no answer, no person: a failure for direct answer
            continue
        c[_B_PERSON] += 1
        # Edition 2011's case officer: the mark or the assessment; unknown falls back to the
        # person who answered, counted as approximated.
        if row.case_officer is None:
            c[_CO_YES] += 1
            c[_CO_APPROX] += 1
        elif row.case_officer:
            c[_CO_YES] += 1
        g3 = row.bemotande_2011
        if g3 is not None:
            if not 0 <= g3 <= 2:
                raise ValueError(f"probe {row.probe_id}: bemotande_2011 must be 0-2, got {g3}")
            c[_G3_N] += 1
            if g3 == 2:
                c[_G3_GOOD] += 1
        elif row.bemotande is not None:
            c[_G3_N] += 1
            c[_G3_APPROX] += 1
            if row.bemotande >= 2:  # god or mycket god on the four-level scale
                c[_G3_GOOD] += 1
        else:
            c[_G3_WAIT] += 1
        if row.direct_answer is None:
            c[_DA_WAIT] += 1
        else:
            c[_DA_DEN] += 1
            if row.direct_answer:
                c[_DA_YES] += 1
        b = row.bemotande
        if b is None:
            c[_BEM_WAIT] += 1
        else:
            if not 0 <= b <= 3:
                raise ValueError(f"probe {row.probe_id}: bemotande must be 0-3, got {b}")
            c[_BEM_N] += 1
            c[_BEM_POINTS] += b
            if b >= 2:
                c[_BEM_GOOD] += 1

    out: list[Score] = []
    for kommunkod in sorted(counters):
        out.extend(_scores_for(kommunkod, counters[kommunkod], measures))
    return out


# --- comparison ---------------------------------------------------------------------------------


def _colour(better: int, compared: int) -> Colour:
    # Position = how many municipalities are strictly better, so ties share the better colour.
    if 4 * better < compared:
        return "green"
    if 4 * better >= 3 * compared:
        return "red"
    return "yellow"


def compare(scores: Sequence[Score]) -> dict[str, Comparison]:
    """Mean, best, worst and a colour per municipality, for each measure (Part B §6).

    Only municipalities with a value take part. The mean is unweighted over their published
    (whole-percent) values, as Kolada's group means are, rounded half up to one decimal. Higher is
    better for every measure. Colour by position, where position = the number of compared
    municipalities with a strictly better value: green when position < 25% of them, red when
    position ≥ 75%, yellow otherwise. So 4 municipalities give green, yellow, yellow, red; with
    fewer than 4 there is no red (1: green; 2: green, yellow; 3: green, yellow, yellow), because no
    municipality has three quarters of the field above it; ties all get the better colour.
    """
    by_measure: dict[str, list[tuple[str, int]]] = {}
    order: list[str] = []
    for s in scores:
        if s.measure_id not in by_measure:
            by_measure[s.measure_id] = []
            order.append(s.measure_id)
        if s.value is not None:
            by_measure[s.measure_id].append((s.kommunkod, s.value))
    result: dict[str, Comparison] = {}
    for measure_id in order:
        pairs = by_measure[measure_id]
        if not pairs:
            result[measure_id] = Comparison(measure_id, 0, None, None, None, {})
            continue
        values = sorted((v for _, v in pairs), reverse=True)
        first_at: dict[int, int] = {}
        for i, v in enumerate(values):
            first_at.setdefault(v, i)
        n = len(values)
        mean = Decimal(sum(values)) / Decimal(n)
        result[measure_id] = Comparison(
            measure_id=measure_id,
            municipalities=n,
            mean=float(mean.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)),
            best=values[0],
            worst=values[-1],
            colours={k: _colour(first_at[v], n) for k, v in sorted(pairs)},
        )
    return result
