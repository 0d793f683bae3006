"""The bundled national reference figures (kkik-method Part B §8)."""

from __future__ import annotations

import pytest

from results.measures import MEASURES
from results.reference import bundled, reference_for


def test_it_ships_every_figure_with_a_known_measure_and_a_source():
    figures = bundled()
    assert len(figures) == 19
    for f in figures:
        assert f.measure in MEASURES
        assert 0 <= f.value <= 100
        assert f.source
        assert f.confidence in {"stated", "inferred", "uncertain"}
        assert f.kind in {"participant_mean", "vendor_mean"}


@pytest.mark.parametrize(
    ("measure", "year", "expected"),
    [
        ("email_within_1_working_day", 2026, (2019, 84)),
        ("email_within_1_working_day", 2017, (2017, 79)),
        ("email_within_2_working_days", 2015, (2015, 84)),
        ("phone_direct_answer", 2026, (2018, 53)),
        ("phone_bemotande", 2026, (2018, 85)),
        ("phone_bemotande_good_share", 2014, (2014, 86)),
    ],
)
def test_it_finds_the_latest_figure_up_to_a_year(measure: str, year: int, expected):
    found = reference_for(measure, year)
    assert found is not None
    assert (found.year, found.value) == expected


def test_it_has_nothing_before_the_first_published_figure():
    assert reference_for("email_within_1_working_day", 2015) is None
    assert reference_for("phone_contact_case_officer", 2026) is None
