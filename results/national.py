"""A measured value beside the whole country and the network (issue 18, Part B §6, §8).

The county networks' reports compare every member "med bästa och sämsta resultat i landet samt
rikets medel". The country is read from the published values of every municipality (Kolada
values stored with ``kkik reference import`` or ``fetch``): per measure, the values of the
campaign's year, or else of the latest earlier year stored (KKiK's own series ended in 2021),
and only of years whose definition is the measure's own (:meth:`Measure.kolada_defined`).

- **best, worst, mean, n** describe the country as published: every municipality's value that
  year. Regions (``00xx``) and the country's own figure (``0000``) are not municipalities and
  are left out; the mean is unweighted, as Kolada's group means are, rounded half up to one
  decimal like :func:`results.scoring.compare`.
- **rank and quartile** place this campaign's measured value among the other municipalities'
  published values (its own published value, if any, is the one being replaced): rank = 1 + the
  number of strictly better values, out of the others plus one. Quartile 1 is the best quarter,
  by the same position rule as the network colours, so ties share the better quarter; Kolada
  colours quartile 1 green, 4 red and the middle half yellow.
- **the network** is the campaign's own measured municipalities (:func:`compare`).

Higher is better for every accessibility measure scored here. Pure: the caller reads the stored
values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from results.kolada import KoladaValue
from results.measures import Measure
from results.scoring import Colour, Comparison, Score, compare

COUNTRY = "0000"


def is_municipality(code: str) -> bool:
    """A kommunkod: four digits with a county number 01–25 first (00xx are regions, 0000 riket)."""
    return len(code) == 4 and code.isdigit() and not code.startswith("00")


@dataclass(frozen=True)
class Field:
    """One measure's published values for one year: what a measured value is placed among."""

    measure_id: str
    year: int
    values: Mapping[str, float]  # kommunkod -> published value

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def best(self) -> float:
        return max(self.values.values())

    @property
    def worst(self) -> float:
        return min(self.values.values())

    @property
    def mean(self) -> float:
        total = sum((Decimal(str(v)) for v in self.values.values()), Decimal(0))
        mean = total / Decimal(self.n)
        return float(mean.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Place:
    """A measured value's place in the country and in the network; None where no data exists."""

    national_year: int | None
    national_best: float | None
    national_worst: float | None
    national_mean: float | None
    national_n: int | None
    national_rank: int | None
    national_quartile: int | None
    network_best: int | None
    network_worst: int | None
    network_mean: float | None
    # How many values the rank is out of: the other municipalities' published values plus this.
    compared: int | None = None

    @property
    def national_colour(self) -> Colour | None:
        return quartile_colour(self.national_quartile)

    def as_dict(self) -> dict[str, int | float | None]:
        return {
            "national_year": self.national_year,
            "national_best": self.national_best,
            "national_worst": self.national_worst,
            "national_mean": self.national_mean,
            "national_n": self.national_n,
            "national_rank": self.national_rank,
            "national_quartile": self.national_quartile,
            "network_best": self.network_best,
            "network_worst": self.network_worst,
            "network_mean": self.network_mean,
        }


def quartile_colour(quartile: int | None) -> Colour | None:
    if quartile is None:
        return None
    return "green" if quartile == 1 else "red" if quartile == 4 else "yellow"


def national_field(measure: Measure, year: int, published: Iterable[KoladaValue]) -> Field | None:
    """The measure's published municipality values of ``year``, or of the latest earlier year
    that has any; None when no year up to ``year`` has one (or the measure has no Kolada id)."""
    by_year: dict[int, dict[str, float]] = {}
    for v in published:
        if (
            v.kpi == measure.kolada_id
            and v.period <= year
            and is_municipality(v.municipality)
            and measure.kolada_defined(v.period)
        ):
            by_year.setdefault(v.period, {})[v.municipality] = v.value
    if not by_year:
        return None
    latest = max(by_year)
    return Field(measure.id, latest, by_year[latest])


def rank_in(field: Field, kommunkod: str, value: float) -> tuple[int, int, int]:
    """(rank, quartile, out of) of ``value`` for ``kommunkod`` among the other municipalities'
    values."""
    others = [v for code, v in field.values.items() if code != kommunkod]
    better = sum(1 for v in others if v > value)
    compared = len(others) + 1
    # The network colours' rule (results.scoring._colour), in four quarters: position / compared.
    quartile = min(4, 1 + (4 * better) // compared)
    return better + 1, quartile, compared


def places(
    scores: Sequence[Score],
    measures: Mapping[str, Measure],
    year: int,
    published: Sequence[KoladaValue],
) -> dict[tuple[str, str], Place]:
    """Every score's place, by (kommunkod, measure id)."""
    network: dict[str, Comparison] = compare(scores)
    fields: dict[str, Field | None] = {}
    out: dict[tuple[str, str], Place] = {}
    for s in scores:
        if s.measure_id not in fields:
            fields[s.measure_id] = national_field(measures[s.measure_id], year, published)
        field = fields[s.measure_id]
        net = network.get(s.measure_id)
        rank = quartile = compared = None
        if field is not None and s.value is not None:
            rank, quartile, compared = rank_in(field, s.kommunkod, s.value)
        has_net = net is not None and net.municipalities > 0
        out[(s.kommunkod, s.measure_id)] = Place(
            national_year=field.year if field else None,
            national_best=field.best if field else None,
            national_worst=field.worst if field else None,
            national_mean=field.mean if field else None,
            national_n=field.n if field else None,
            national_rank=rank,
            national_quartile=quartile,
            network_best=net.best if has_net and net else None,
            network_worst=net.worst if has_net and net else None,
            network_mean=net.mean if has_net and net else None,
            compared=compared,
        )
    return out
