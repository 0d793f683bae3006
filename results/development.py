"""A municipality's development from year to year, per measure (issue 18, item 2).

Municipalities follow "utvecklingen från år till år" and compare "de två senaste årens
mätningar". Two sources give a series: our own campaigns in the same database (a value with its
95% Wilson interval) and Kolada's published values for the municipality (with an interval where
Kolada gives the sample, ``count``, else none). Per year our own measurement is used when there
is one, Kolada's otherwise, and each point says which it is.

The change is the latest year against the year before it that has a value. Whether it is more
than chance is read from the intervals: when both years have one and they do not overlap the
change is called clear (``overlap`` False); overlapping intervals mean the difference may be
sampling (``overlap`` True); without an interval on either side it cannot be told (None). This
is the reading a report can state honestly with two binomial samples of 10–30 probes; it is
conservative (non-overlapping 95% intervals imply a difference at well under 5%).

Pure: scores and published values in, series out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from results.kolada import KoladaValue
from results.measures import Measure
from results.scoring import Score, wilson_interval

Source = Literal["campaign", "kolada"]


@dataclass(frozen=True)
class Point:
    year: int
    value: float
    low: float | None
    high: float | None
    source: Source
    campaign: str | None = None  # our campaign's name, for a point of ours


@dataclass(frozen=True)
class Development:
    kommunkod: str
    measure_id: str
    points: tuple[Point, ...]  # by year, one per year

    @property
    def latest(self) -> Point | None:
        return self.points[-1] if self.points else None

    @property
    def previous(self) -> Point | None:
        return self.points[-2] if len(self.points) > 1 else None

    @property
    def change(self) -> float | None:
        """Percentage points from the previous year with a value to the latest."""
        if self.latest is None or self.previous is None:
            return None
        return round(self.latest.value - self.previous.value, 1)

    @property
    def overlap(self) -> bool | None:
        """Do the two years' intervals overlap? None when either has none (or one year only)."""
        a, b = self.previous, self.latest
        if a is None or b is None:
            return None
        if a.low is None or a.high is None or b.low is None or b.high is None:
            return None
        return a.low <= b.high and b.low <= a.high


def kolada_point(value: KoladaValue) -> Point:
    """A published value as a point; with Kolada's sample size its Wilson interval too."""
    low = high = None
    if value.count:
        successes = round(value.value * value.count / 100)
        low, high = wilson_interval(successes, value.count)
    return Point(value.period, value.value, low, high, "kolada")


def developments(
    own: Mapping[tuple[int, str], Sequence[Score]],
    published: Iterable[KoladaValue],
    measures: Sequence[Measure],
    kommunkoder: Iterable[str],
) -> list[Development]:
    """Per municipality and measure, the series over our campaigns and Kolada's years.

    ``own`` maps (campaign year, campaign name) to that campaign's scores; when one year has
    several campaigns the later name (in sort order) wins, as the later measurement of the year.
    """
    mine: dict[tuple[str, str], dict[int, Point]] = {}
    for (year, name), scores in sorted(own.items()):
        for s in scores:
            if s.value is None:
                continue
            point = Point(year, float(s.value), s.ci_low, s.ci_high, "campaign", name)
            mine.setdefault((s.kommunkod, s.measure_id), {})[year] = point
    theirs: dict[tuple[str, str], dict[int, Point]] = {}
    wanted = set(kommunkoder)
    for v in published:
        if v.municipality not in wanted:
            continue
        for m in measures:
            if m.kolada_id == v.kpi and m.kolada_defined(v.period):
                theirs.setdefault((v.municipality, m.id), {})[v.period] = kolada_point(v)
    out: list[Development] = []
    for kommunkod in sorted(wanted):
        for m in measures:
            years = dict(theirs.get((kommunkod, m.id), {}))
            years.update(mine.get((kommunkod, m.id), {}))  # ours wins in a year with both
            points = tuple(years[y] for y in sorted(years))
            out.append(Development(kommunkod, m.id, points))
    return out
