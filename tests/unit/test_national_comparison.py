"""The country beside a measured value (results.national): table tests of the pure rules."""

from __future__ import annotations

import pytest

from results.kolada import KoladaValue
from results.measures import BEMOTANDE, BEMOTANDE_GOOD_SHARE, EMAIL_2, MEASURES
from results.national import national_field, places, rank_in
from results.scoring import Score


def _values(kpi: str, period: int, **by_code: float) -> list[KoladaValue]:
    return [KoladaValue(kpi, code.lstrip("k"), period, v, None) for code, v in by_code.items()]


def _score(kommunkod: str, measure_id: str, value: int | None) -> Score:
    return Score(
        kommunkod=kommunkod, measure_id=measure_id, value=value, value_exact=None,
        numerator=0, denominator=0, ci_low=None, ci_high=None, awaiting_assessment=0,
        excluded_faults=0,
    )  # fmt: skip


def test_the_field_is_the_latest_year_up_to_the_campaigns_with_municipalities_only():
    published = (
        _values("U00412", 2019, k0180=90, k2380=70)
        + _values("U00412", 2021, k0180=80, k2380=60, k1280=40, k0000=55, k0001=99)
        + _values("U00412", 2027, k0180=10)  # after the campaign: not used
        + _values("U00413", 2021, k0180=1)  # another KPI
    )
    field = national_field(EMAIL_2, 2026, published)
    assert field is not None
    assert field.year == 2021
    assert dict(field.values) == {"0180": 80, "2380": 60, "1280": 40}  # no 0000, no region 0001
    assert (field.best, field.worst, field.n, field.mean) == (80, 40, 3, 60.0)
    assert national_field(EMAIL_2, 2020, published).year == 2019  # type: ignore[union-attr]
    assert national_field(EMAIL_2, 2018, published) is None


def test_the_mean_rounds_half_up_to_one_decimal():
    field = national_field(
        EMAIL_2, 2021, _values("U00412", 2021, k0180=1, k2380=2, k1280=2, k0114=2)
    )
    assert field is not None
    assert field.mean == 1.8  # 7 / 4 = 1.75


def test_u00414_is_compared_only_with_the_years_of_its_own_definition():
    published = _values("U00414", 2015, k0180=70) + _values("U00414", 2017, k0180=85)
    points = national_field(BEMOTANDE, 2026, published)
    share_good = national_field(BEMOTANDE_GOOD_SHARE, 2026, published)
    assert points is not None
    assert points.year == 2017
    assert share_good is not None
    assert share_good.year == 2015
    assert national_field(BEMOTANDE, 2015, published) is None


@pytest.mark.parametrize(
    ("value", "rank", "quartile"),
    [
        (100, 1, 1),  # best of all
        (80, 2, 1),  # one better among 7 others: position 1 of 8 < 2
        (75, 3, 2),  # position 2 of 8: 2 × 4 = 8 ≥ 8, so the second quarter
        (50, 5, 3),  # position 4 of 8
        (30, 7, 4),  # position 6 of 8: three quarters above it
        (0, 8, 4),
    ],
)
def test_rank_and_quartile_place_the_value_among_the_others(value, rank, quartile):
    # Seven others plus this one; its own published value (5) is the one being replaced.
    field = national_field(
        EMAIL_2, 2021,
        _values("U00412", 2021, k0114=90, k0115=80, k0117=70, k0120=60, k0123=50, k0125=40,
                k0126=30, k2380=5),
    )  # fmt: skip
    assert field is not None
    assert rank_in(field, "2380", value) == (rank, quartile, 8)


def test_ties_share_the_better_place():
    field = national_field(EMAIL_2, 2021, _values("U00412", 2021, k0114=70, k0115=70, k0117=70))
    assert field is not None
    assert rank_in(field, "2380", 70) == (1, 1, 4)


def test_places_give_the_network_and_null_where_nothing_is_stored():
    scores = [
        _score("0180", EMAIL_2.id, 80),
        _score("2380", EMAIL_2.id, 40),
        _score("1280", EMAIL_2.id, None),
        _score("0180", "phone_person_within_60s", 50),  # no Kolada id
    ]
    published = _values("U00412", 2021, k0114=90, k0180=10)
    placed = places(scores, MEASURES, 2026, published)
    a = placed[("0180", EMAIL_2.id)]
    assert (a.national_year, a.national_n, a.national_best, a.national_worst) == (2021, 2, 90, 10)
    assert (a.national_rank, a.national_quartile, a.compared) == (2, 3, 2)
    assert (a.network_best, a.network_worst, a.network_mean) == (80, 40, 60.0)
    unmeasured = placed[("1280", EMAIL_2.id)]
    assert (unmeasured.national_rank, unmeasured.national_quartile) == (None, None)
    assert unmeasured.national_best == 90
    own = placed[("0180", "phone_person_within_60s")].as_dict()
    assert {k: v for k, v in own.items() if k.startswith("national")} == dict.fromkeys(
        ("national_year", "national_best", "national_worst", "national_mean", "national_n",
         "national_rank", "national_quartile"),
    )  # fmt: skip
    assert own["network_best"] == 50
