"""Campaign planner: which municipality gets which question, by which channel, and when.

The plan is pure data: the same targets, question bank, rules and seed always give the same list
of :class:`PlannedProbe`, and nothing here reads the clock or does I/O. Every decision that should
look random (times, weekdays, which question of an area) comes from ``random.Random(seed)`` for the
campaign and ``random.Random(f"{seed}:{key}")`` per target, so adding a target never moves the
days and times of another one, and a plan can be rebuilt exactly from its inputs for an audit.
Windows must lie inside the calendar's office hours (where both e-mail deadline rules agree) and
``min_spacing`` must be shorter than the night between two office days, so spacing only ever binds
between probes on the same day.

The algorithm, and why:

1. **Frame.** Eligible days are the working days of ``rules.calendar`` in the period whose weekday
   is allowed. Each channel's window becomes a list of slots (minutes after local midnight on the
   5-minute grid). A small dynamic programme finds every feasible day shape (*e* e-mails and *c*
   calls on one day, pairwise ``min_spacing`` apart inside their windows); because the earliest
   possible time of the last probe only grows with the time of the one before, taking the earliest
   predecessor is optimal. The fewest days that can hold a target's counts follow from those
   shapes (a breadth-first search over running sums), so infeasible campaigns are refused up front
   with the reason, for every target, before anything is planned.
2. **Questions.** Per target and channel the count is split over the bank's areas as evenly as
   possible (counts differ by at most one); the areas that get the extra question are drawn per
   target, choosing them so that no area is asked more often than it has questions. Each area hands
   out its questions from a campaign-wide cursor with a seeded start, so consecutive targets get
   different questions and every question of an area gets used. Within a channel the questions go
   out in rounds over a shuffled area order, so areas are spread over the period too.
3. **Days.** Probe *j* of a channel with *n* probes over *D* days has the ideal position
   ``(j + u) · D / n`` with a per-target random phase *u*: even spacing, but targets do not all
   start on the first day. It goes on a day within half a step of that position (widened only if
   all are full), preferring a day without this channel yet, then the weekday the target has had
   least, then a day without the other channel, then the closest; that rotates weekdays even when
   the step is a multiple of five days. Only feasible day shapes are allowed, so the per-day limits
   hold. The sweep runs forwards or backwards per target, since a greedy sweep drifts a little
   towards its end and would otherwise pile probes on the last day of the period. Only when the
   sweep gets stuck (tight campaigns with odd windows) are the fewest shapes from step 1 spread
   evenly over the period instead, so a plan exists whenever the up-front bound holds.
4. **Times.** Each channel's window is cut into about one band per hour (fewer if the target has
   fewer probes); a target cycles through its bands in a shuffled order and draws a slot inside the
   band. That stratifies one target over the day and, with independent shuffles, keeps the campaign
   from piling up in one hour. A probe takes the free slot nearest its draw; if a day cannot be
   filled that way the day's earliest packing from step 1 is used, which always fits.
5. **Output.** Local wall-clock slots are turned into UTC with the calendar's zone, so a window of
   09:00–16:00 stays 09:00–16:00 across a DST change. Sequence numbers count per target and channel
   in time order; personas rotate round-robin over a target's probes from a seeded offset.

:func:`check_plan` re-derives every invariant from the output alone; tests use it, and callers can
use it as a safety net before a plan is stored.
"""

from __future__ import annotations

import functools
import math
import random
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise

from results.calendar import WorkCalendar
from results.campaign_days import CampaignDays, grid, nearest_free

__all__ = ["EMAIL", "PHONE", "PlanError", "PlanQuestion", "PlanRules", "PlanTarget"]
__all__ += ["PlannedProbe", "check_plan", "make_plan"]

EMAIL = "email"
PHONE = "phone"
_CHANNELS = (EMAIL, PHONE)
_NOUN = {EMAIL: ("e-mail", "e-mails"), PHONE: ("call", "calls")}
_WINDOW_NAME = {EMAIL: "send", PHONE: "call"}

Shape = tuple[tuple[str, int], ...]  # (channel, minute after local midnight) in time order


@dataclass(frozen=True)
class PlanTarget:
    key: str  # kommunkod, e.g. "2380"
    email: bool  # has an e-mail address: e-mail probes are planned only then
    phone: bool  # has a switchboard number: calls are planned only then


@dataclass(frozen=True)
class PlanQuestion:
    code: str  # "bygglov-01"
    area: str  # "bygglov"


@dataclass(frozen=True)
class PlanRules:
    period_start: date
    period_end: date  # inclusive
    weekdays: frozenset[int]  # 0=Mon..4=Fri allowed
    send_window: tuple[time, time]  # local time; e-mails go out inside [start, end)
    call_window: tuple[time, time]
    emails_per_target: int
    calls_per_target: int
    min_spacing: timedelta  # no two probes (any channel) to one target closer than this
    max_calls_per_target_per_day: int
    max_emails_per_target_per_day: int
    slot_minutes: int = 5
    calendar: WorkCalendar = field(default_factory=WorkCalendar)


@dataclass(frozen=True)
class PlannedProbe:
    target: str
    channel: str  # "email" | "phone"
    at: datetime  # aware, UTC
    question: str  # question code
    persona: int  # index into the campaign's personas
    sequence: int  # 1.. per (target, channel), in time order


class PlanError(ValueError):
    """The plan cannot be made; the message says why, naming target, channel and counts."""


@dataclass(frozen=True)
class _Frame:
    days: tuple[date, ...]
    slots: dict[str, tuple[int, ...]]
    shapes: dict[tuple[int, int], Shape]  # feasible (e-mails, calls) on one day -> earliest packing
    caps: dict[str, int]  # probes of one channel that fit on one day
    spacing_s: float


def _window(r: PlanRules, channel: str) -> tuple[time, time]:
    return r.send_window if channel == EMAIL else r.call_window


def _per_day(r: PlanRules, channel: str) -> int:
    return r.max_emails_per_target_per_day if channel == EMAIL else r.max_calls_per_target_per_day


def _count(r: PlanRules, t: PlanTarget, channel: str) -> int:
    if channel == EMAIL:
        return r.emails_per_target if t.email else 0
    return r.calls_per_target if t.phone else 0


def _hm(t: time) -> str:
    return t.strftime("%H:%M")


def _noun(channel: str, n: int) -> str:
    return _NOUN[channel][n != 1]


def _minutes(d: timedelta) -> str:
    return f"{d.total_seconds() / 60:g} min"


def _validate(
    targets: Sequence[PlanTarget], questions: Sequence[PlanQuestion], personas: int, r: PlanRules
) -> None:
    cal = r.calendar
    checks = [
        (r.period_start <= r.period_end, f"period ends ({r.period_end}) before it starts"),
        (
            bool(r.weekdays) and r.weekdays <= frozenset(range(5)),
            f"weekdays must be a non-empty subset of 0..4, got {sorted(r.weekdays)}",
        ),
        (r.slot_minutes >= 1, f"slot_minutes must be at least 1, got {r.slot_minutes}"),
        (min(r.emails_per_target, r.calls_per_target) >= 0, "probe counts must not be negative"),
        # Office hours plus the spacing must leave a night between two days, less an hour for DST.
        (
            timedelta(0) <= r.min_spacing < timedelta(hours=23) - cal.office_day,
            f"min_spacing must be between 0 and the night gap, got {r.min_spacing}",
        ),
        (personas >= 1, f"at least one persona is needed, got {personas}"),
    ]
    for ch in _CHANNELS:
        lo, hi = _window(r, ch)
        name = f"the {_WINDOW_NAME[ch]} window {_hm(lo)}–{_hm(hi)}"
        office = f"{_hm(cal.office_start)}–{_hm(cal.office_end)}"
        inside = cal.office_start <= lo < hi <= cal.office_end
        checks.append((inside, f"{name} must be a non-empty part of office hours {office}"))
        has_slot = not inside or r.slot_minutes < 1 or bool(grid((lo, hi), r.slot_minutes))
        checks.append((has_slot, f"{name} holds no slot"))
        checks.append((_per_day(r, ch) >= 1, f"the per-day limit for {_NOUN[ch][1]} must be >= 1"))
    for what, keys in (
        ("target", [t.key for t in targets]),
        ("question", [q.code for q in questions]),
    ):
        dupes = sorted(k for k, n in Counter(keys).items() if n > 1)
        checks.append((not dupes, f"duplicate {what} {', '.join(dupes)}"))
    problems = [message for ok, message in checks if not ok]
    if problems:
        raise PlanError("; ".join(problems))


def _frame(rules: PlanRules) -> _Frame:
    days = CampaignDays(rules.period_start, rules.period_end, rules.weekdays, rules.calendar).days()
    slots = {ch: grid(_window(rules, ch), rules.slot_minutes) for ch in _CHANNELS}
    spacing_s = rules.min_spacing.total_seconds()
    # shapes[(e, c)]: the packing whose last probe is earliest. A later last probe never helps the
    # next one, so extending the earliest predecessor is optimal: (e, c) fits iff it is here.
    shapes: dict[tuple[int, int], Shape] = {(0, 0): ()}
    for e in range(_per_day(rules, EMAIL) + 1):
        for c in range(_per_day(rules, PHONE) + 1):
            options: list[Shape] = []
            for ch, prev in ((EMAIL, shapes.get((e - 1, c))), (PHONE, shapes.get((e, c - 1)))):
                last = prev[-1][1] if prev else None
                m = next(
                    (m for m in slots[ch] if last is None or (m - last) * 60 >= spacing_s), None
                )
                if prev is not None and m is not None:
                    options.append((*prev, (ch, m)))
            if options:
                shapes[(e, c)] = min(options, key=lambda shape: shape[-1][1])
    caps = {EMAIL: max(e for e, c in shapes if c == 0), PHONE: max(c for e, c in shapes if e == 0)}
    return _Frame(tuple(days), slots, shapes, caps, spacing_s)


def _check_capacity(t: PlanTarget, rules: PlanRules, fr: _Frame) -> None:
    n_days, spacing = len(fr.days), _minutes(rules.min_spacing)
    counts = {ch: _count(rules, t, ch) for ch in _CHANNELS}
    for ch, n in counts.items():
        cap, need = fr.caps[ch], math.ceil(n / fr.caps[ch])
        if need > n_days:
            lo, hi = _window(rules, ch)
            why = (
                f" (the {_WINDOW_NAME[ch]} window {_hm(lo)}–{_hm(hi)} fits only {cap} at {spacing}"
            )
            raise PlanError(
                f"target {t.key}: {n} {_noun(ch, n)} need{'s' if n == 1 else ''} at least {need} "
                f"eligible day{'s' if need != 1 else ''} at {cap} per day"
                f"{why + ' spacing)' if cap < _per_day(rules, ch) else ''}, the period has {n_days}"
            )
    e_n, c_n = counts[EMAIL], counts[PHONE]
    need = len(_day_shapes(frozenset(fr.shapes), e_n, c_n))
    if need > n_days:
        raise PlanError(
            f"target {t.key}: {e_n} {_noun(EMAIL, e_n)} and {c_n} {_noun(PHONE, c_n)} need at "
            f"least {need} eligible days under the per-day limits at {spacing} spacing, "
            f"the period has {n_days}"
        )


@functools.lru_cache(maxsize=64)
def _day_shapes(
    shapes: frozenset[tuple[int, int]], e_n: int, c_n: int
) -> tuple[tuple[int, int], ...]:
    """The fewest day shapes that hold the counts: breadth-first over capped running sums."""
    paths: dict[tuple[int, int], tuple[tuple[int, int], ...]] = {(0, 0): ()}
    while (e_n, c_n) not in paths:  # (1, 0) and (0, 1) always fit, so every layer makes progress
        paths = {
            (min(e + de, e_n), min(c + dc, c_n)): (*path, (de, dc))
            for (e, c), path in paths.items()
            for de, dc in sorted(shapes)
        }
    return paths[(e_n, c_n)]


def _tight_days(counts: dict[str, int], fr: _Frame, rng: random.Random) -> dict[str, list[int]]:
    """Fallback when the sweep gets stuck: the fewest day shapes, spread evenly over the period."""
    path = list(_day_shapes(frozenset(fr.shapes), counts[EMAIL], counts[PHONE]))
    rng.shuffle(path)
    phase, left = rng.random(), dict(counts)
    chosen: dict[str, list[int]] = {EMAIL: [], PHONE: []}
    for k, shape in enumerate(path):
        day = math.floor((k + phase) * len(fr.days) / len(path))  # distinct: checked len <= days
        for ch, n in zip(_CHANNELS, shape, strict=True):
            chosen[ch] += [day] * min(n, left[ch])
            left[ch] -= min(n, left[ch])
    return chosen


def _area_counts(
    t: PlanTarget, counts: dict[str, int], areas: dict[str, list[str]], rng: random.Random
) -> dict[str, dict[str, int]]:
    base = {ch: n // len(areas) for ch, n in counts.items()}
    extra = {ch: n % len(areas) for ch, n in counts.items()}
    slack = {a: len(qs) - base[EMAIL] - base[PHONE] for a, qs in areas.items()}
    for a, s in slack.items():
        if s < 0:
            raise PlanError(
                f"target {t.key}: area {a} needs {base[EMAIL] + base[PHONE]} different questions "
                f"({base[EMAIL]} {_noun(EMAIL, base[EMAIL])}, {base[PHONE]} "
                f"{_noun(PHONE, base[PHONE])}) to keep areas balanced, "
                f"the bank has {len(areas[a])}"
            )
    order = rng.sample(list(areas), len(areas))
    both = [a for a in order if slack[a] >= 2]
    one = [a for a in order if slack[a] == 1]
    e_x, c_x = min(extra[EMAIL], len(both)), min(extra[PHONE], len(both))
    e_one = one[: extra[EMAIL] - e_x]
    c_one = one[len(e_one) :][: extra[PHONE] - c_x]
    if len(e_one) + len(c_one) < extra[EMAIL] - e_x + extra[PHONE] - c_x:
        raise PlanError(
            f"target {t.key}: the bank cannot give {counts[EMAIL]} e-mails and {counts[PHONE]} "
            f"calls balanced over {len(areas)} areas without repeating a question"
        )
    plus = {EMAIL: set(both[:e_x] + e_one), PHONE: set(both[len(both) - c_x :] + c_one)}
    return {ch: {a: base[ch] + (a in plus[ch]) for a in areas} for ch in _CHANNELS}


def _questions(
    t: PlanTarget,
    counts: dict[str, int],
    areas: dict[str, list[str]],
    cursor: dict[str, int],
    rng: random.Random,
) -> dict[str, list[str]]:
    """The target's question codes per channel, in the order they go out."""
    total = sum(counts.values())
    if total > sum(len(qs) for qs in areas.values()):
        raise PlanError(
            f"target {t.key}: {counts[EMAIL]} e-mails and {counts[PHONE]} calls need {total} "
            f"different questions, the bank has {sum(len(qs) for qs in areas.values())}"
        )
    per_area = _area_counts(t, counts, areas, rng)
    picked: dict[str, dict[str, list[str]]] = {EMAIL: {}, PHONE: {}}
    for a, qs in areas.items():
        k = per_area[EMAIL][a] + per_area[PHONE][a]
        chunk = [qs[(cursor[a] + i) % len(qs)] for i in range(k)]
        cursor[a] += k
        turn = rng.randrange(k) if k else 0
        chunk = chunk[turn:] + chunk[:turn]
        e = per_area[EMAIL][a]
        picked[EMAIL][a], picked[PHONE][a] = chunk[:e], chunk[e:]
    result: dict[str, list[str]] = {}
    for ch in _CHANNELS:
        order = rng.sample(list(areas), len(areas))
        rounds = max((len(v) for v in picked[ch].values()), default=0)
        result[ch] = [
            picked[ch][a][r] for r in range(rounds) for a in order if r < len(picked[ch][a])
        ]
    return result


def _pick_day(
    fr: _Frame,
    used: dict[str, list[int]],
    weekdays: Counter[int],
    item: tuple[float, str, float],
    rng: random.Random,
) -> int | None:
    """The best feasible day within half a step of ``pos``, widening only when those are full."""
    pos, ch, step = item
    n_days, other = len(fr.days), PHONE if ch == EMAIL else EMAIL

    def score(d: int) -> tuple[int, int, int, float, float]:
        wd = weekdays[fr.days[d].weekday()]
        return used[ch][d], wd, used[other][d], abs(d + 0.5 - pos), rng.random()

    lo, hi = math.floor(pos - max(step / 2, 0.5)), math.ceil(pos + max(step / 2, 0.5))
    while lo >= 0 or hi <= n_days:
        fits = [
            d
            for d in range(max(lo, 0), min(hi, n_days))
            if (used[EMAIL][d] + (ch == EMAIL), used[PHONE][d] + (ch == PHONE)) in fr.shapes
        ]
        if fits:
            return min(fits, key=score)
        lo, hi = lo - 1, hi + 1
    return None


def _assign_days(counts: dict[str, int], fr: _Frame, rng: random.Random) -> dict[str, list[int]]:
    used = {ch: [0] * len(fr.days) for ch in _CHANNELS}
    weekdays: Counter[int] = Counter()
    items: list[tuple[float, int, str, float]] = []
    for i, ch in enumerate(_CHANNELS):
        if counts[ch]:
            step, phase = len(fr.days) / counts[ch], rng.random()
            items.extend(((j + phase) * step, i, ch, step) for j in range(counts[ch]))
    chosen: dict[str, list[int]] = {ch: [] for ch in _CHANNELS}
    # Alternate the sweep direction between targets: a sweep drifts towards its end a little.
    for pos, _, ch, step in sorted(items, reverse=rng.random() < 0.5):
        day = _pick_day(fr, used, weekdays, (pos, ch, step), rng)
        if day is None:  # only in campaigns near the bound, with odd windows
            return _tight_days(counts, fr, rng)
        used[ch][day] += 1
        weekdays[fr.days[day].weekday()] += 1
        chosen[ch].append(day)
    return chosen


def _assign_times(days: dict[str, list[int]], fr: _Frame, step: int, rng: random.Random) -> Shape:
    """(channel, day index × 1440 + minute) for every probe of one target."""
    wants: dict[int, list[tuple[int, str, int]]] = defaultdict(list)  # day -> (minute, ch, slot)
    for ch in _CHANNELS:
        slots = fr.slots[ch]
        bands = max(1, min(len(days[ch]), len(slots), len(slots) * step // 60))
        order = rng.sample(range(bands), bands)
        for j, d in enumerate(sorted(days[ch])):
            b = order[j % bands]
            i = rng.randrange(b * len(slots) // bands, (b + 1) * len(slots) // bands)
            wants[d].append((slots[i], ch, i))
    out: list[tuple[str, int]] = []
    for d, day_wants in sorted(wants.items()):
        taken: list[int] = []
        placed: list[tuple[str, int]] = []
        for _, ch, i in sorted(day_wants):
            m = nearest_free(fr.slots[ch], i, taken, fr.spacing_s)
            if m is None:
                n = Counter(w[1] for w in day_wants)
                placed = list(fr.shapes[(n[EMAIL], n[PHONE])])
                break
            taken.append(m)
            placed.append((ch, m))
        out.extend((ch, d * 1440 + m) for ch, m in placed)
    return tuple(out)


def make_plan(
    targets: Sequence[PlanTarget],
    questions: Sequence[PlanQuestion],
    personas: int,
    rules: PlanRules,
    seed: int,
) -> list[PlannedProbe]:
    """Plan every probe of the campaign; raises PlanError when the rules cannot be met."""
    _validate(targets, questions, personas, rules)
    fr = _frame(rules)
    for t in targets:
        _check_capacity(t, rules, fr)
    areas: dict[str, list[str]] = defaultdict(list)
    for q in questions:
        areas[q.area].append(q.code)
    campaign = random.Random(seed)
    cursor = {a: campaign.randrange(len(qs)) for a, qs in areas.items()}
    tz = rules.calendar.tz
    plan: list[PlannedProbe] = []
    for t in targets:
        rng = random.Random(f"{seed}:{t.key}")
        counts = {ch: _count(rules, t, ch) for ch in _CHANNELS}
        if not sum(counts.values()):
            continue
        codes = _questions(t, counts, areas, cursor, rng)
        when = _assign_times(_assign_days(counts, fr, rng), fr, rules.slot_minutes, rng)
        persona = rng.randrange(personas)
        seq: Counter[str] = Counter()
        for ch, stamp in sorted(when, key=lambda w: w[1]):
            day, minute = fr.days[stamp // 1440], stamp % 1440
            local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=tz)
            seq[ch] += 1
            code = codes[ch][seq[ch] - 1]
            plan.append(PlannedProbe(t.key, ch, local.astimezone(UTC), code, persona, seq[ch]))
            persona = (persona + 1) % personas
    plan.sort(key=lambda p: (p.at, p.target, p.channel))
    return plan


def _probe_problems(
    p: PlannedProbe, keys: set[str], bank: dict[str, str], rules: PlanRules
) -> list[str]:
    name = f"target {p.target} {p.channel} #{p.sequence}"
    if p.target not in keys or p.channel not in _CHANNELS:
        return [f"{name}: unknown target or channel"]
    if p.at.tzinfo is None or p.at.utcoffset() != timedelta(0):
        return [f"{name}: time {p.at.isoformat()} is not aware UTC"]
    local = p.at.astimezone(rules.calendar.tz)
    day, clock = local.date(), local.time()
    lo, hi = _window(rules, p.channel)
    on_grid = not (clock.hour * 60 + clock.minute) % rules.slot_minutes
    checks = [
        (rules.period_start <= day <= rules.period_end, f"{day} is outside the period"),
        (
            day.weekday() in rules.weekdays and rules.calendar.is_working_day(day),
            f"{day} is not an eligible working day",
        ),
        (lo <= clock < hi, f"{clock:%H:%M} is outside the window {_hm(lo)}–{_hm(hi)}"),
        (
            on_grid and clock.second == clock.microsecond == 0,
            f"{clock} is not on the {rules.slot_minutes}-minute grid",
        ),
        (p.question in bank, f"unknown question {p.question}"),
        (p.persona >= 0, f"negative persona {p.persona}"),
    ]
    return [f"{name}: {message}" for ok, message in checks if not ok]


def _target_problems(
    t: PlanTarget, probes: list[PlannedProbe], areas: dict[str, str], rules: PlanRules
) -> list[str]:
    out: list[str] = []
    probes = sorted(probes, key=lambda p: p.at)
    for ch in _CHANNELS:
        mine, noun, limit = [p for p in probes if p.channel == ch], _NOUN[ch], _per_day(rules, ch)
        if len(mine) != _count(rules, t, ch):
            out.append(f"{len(mine)} {noun[1]}, expected {_count(rules, t, ch)}")
        if [p.sequence for p in mine] != list(range(1, len(mine) + 1)):
            out.append(f"{noun[0]} sequence numbers are not 1, 2, ... in time order")
        per_day = Counter(p.at.astimezone(rules.calendar.tz).date() for p in mine)
        out += [f"{n} {noun[1]} on {d}, limit {limit}" for d, n in per_day.items() if n > limit]
        per_area = Counter(areas.get(p.question) for p in mine)
        spread = [per_area[a] for a in set(areas.values())]
        if spread and max(spread) - min(spread) > 1:
            out.append(f"{noun[1]} unbalanced over areas: {dict(per_area)}")
    for a, b in pairwise(probes):
        if b.at - a.at < rules.min_spacing:
            out.append(f"probes at {a.at:%Y-%m-%d %H:%M} and {b.at:%H:%M} UTC are too close")
    repeated = sorted(q for q, n in Counter(p.question for p in probes).items() if n > 1)
    if repeated:
        out.append(f"question asked more than once: {', '.join(repeated)}")
    return [f"target {t.key}: {message}" for message in out]


def check_plan(
    plan: Sequence[PlannedProbe],
    targets: Sequence[PlanTarget],
    questions: Sequence[PlanQuestion],
    rules: PlanRules,
) -> list[str]:
    """Every violated invariant of ``plan``, in English; an empty list means the plan is valid."""
    bank = {q.code: q.area for q in questions}
    keys = {t.key for t in targets}
    out: list[str] = []
    by_target: dict[str, list[PlannedProbe]] = defaultdict(list)
    for p in plan:
        out += _probe_problems(p, keys, bank, rules)
        if p.at.tzinfo is not None and p.at.utcoffset() is not None:  # comparable with the rest
            by_target[p.target].append(p)
    for t in targets:
        out += _target_problems(t, by_target.get(t.key, []), bank, rules)
    return out
