"""A municipality's development over the years (results.development): table tests."""

from __future__ import annotations

from results.development import developments, kolada_point
from results.kolada import KoladaValue
from results.measures import BEMOTANDE, EMAIL_1, EMAIL_2
from results.scoring import Score, wilson_interval


def _score(kommunkod: str, measure: str, value: int, n: int, d: int) -> Score:
    low, high = wilson_interval(n, d)
    return Score(kommunkod, measure, value, None, n, d, low, high, 0, 0)


def test_our_campaigns_and_kolada_make_one_series_ours_winning_a_shared_year():
    own = {
        (2025, "KKiK hösten 2025"): [_score("2380", EMAIL_2.id, 50, 5, 10)],
        (2026, "KKiK hösten 2026"): [_score("2380", EMAIL_2.id, 90, 9, 10)],
    }
    published = [
        KoladaValue("U00412", "2380", 2020, 70.0, None),
        KoladaValue("U00412", "2380", 2025, 10.0, None),  # we measured 2025 ourselves
        KoladaValue("U00412", "0180", 2020, 99.0, None),  # another municipality
    ]
    [dev] = developments(own, published, [EMAIL_2], ["2380"])
    assert [(p.year, p.value, p.source) for p in dev.points] == [
        (2020, 70.0, "kolada"), (2025, 50.0, "campaign"), (2026, 90.0, "campaign"),
    ]  # fmt: skip
    assert dev.change == 40.0
    # 5/10 is 23.7–76.3 and 9/10 is 59.6–98.2: they overlap, so the rise may be chance.
    assert dev.overlap is True


def test_clear_change_and_unknown_without_an_interval():
    own = {
        (2025, "a"): [_score("2380", EMAIL_1.id, 10, 3, 30)],
        (2026, "b"): [_score("2380", EMAIL_1.id, 90, 27, 30)],
    }
    [dev] = developments(own, [], [EMAIL_1], ["2380"])
    assert (dev.change, dev.overlap) == (80.0, False)
    kolada_only = [
        KoladaValue("U00412", "2380", 2019, 60.0, None),
        KoladaValue("U00412", "2380", 2021, 65.0, None),
    ]
    [dev] = developments({}, kolada_only, [EMAIL_2], ["2380"])
    assert (dev.change, dev.overlap) == (5.0, None)


def test_a_single_year_has_no_change_and_kolada_s_sample_gives_an_interval():
    point = kolada_point(KoladaValue("U00412", "2380", 2021, 80.0, 20))
    assert (point.low, point.high) == wilson_interval(16, 20)
    [dev] = developments({}, [KoladaValue("U00412", "2380", 2021, 80.0, 20)], [EMAIL_2], ["2380"])
    assert (dev.change, dev.overlap, len(dev.points)) == (None, None, 1)


def test_u00414_only_in_the_years_of_the_measure_s_definition():
    published = [
        KoladaValue("U00414", "2380", 2015, 70.0, None),
        KoladaValue("U00414", "2380", 2017, 80.0, None),
    ]
    [dev] = developments({}, published, [BEMOTANDE], ["2380"])
    assert [p.year for p in dev.points] == [2017]
