"""The other accessibility measures: opening hours outside weekday 08–17 (pure) and the data.

kkik-method.md Part B §0 #6–#9 and §7.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from harness.core.scenario import OpeningHours, load_scenario
from results.measures import (
    EDITIONS,
    FACILITIES,
    HOURS_BY_FACILITY,
    MANUAL_MEASURES,
    MEASURES,
    OTHER_MEASURES,
)
from results.other_measures import (
    OtherValue,
    Span,
    check_value,
    hours_outside_office,
    minutes_outside_office,
    opening_hours_values,
    sort_values,
)
from results.scoring import Evidence, ScoringRules, score

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "scenarios" / "kkik-hosten-2026.toml"
H = 60  # minutes per hour
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")


def _every(days: tuple[str, ...], *spans: Span) -> dict[str, list[Span]]:
    return {day: list(spans) for day in days}


@pytest.mark.parametrize(
    ("week", "minutes"),
    [
        pytest.param({}, 0, id="closed all week"),
        pytest.param({"monday": [(8 * H, 17 * H)]}, 0, id="exactly office hours"),
        pytest.param({"monday": [(9 * H, 16 * H)]}, 0, id="inside office hours"),
        pytest.param({"monday": [(17 * H, 19 * H)]}, 2 * H, id="weekday evening"),
        pytest.param({"monday": [(6 * H, 8 * H)]}, 2 * H, id="early morning"),
        pytest.param({"tuesday": [(8 * H, 19 * H)]}, 2 * H, id="crosses 17:00"),
        pytest.param({"wednesday": [(6 * H + 30, 9 * H)]}, 90, id="crosses 08:00"),
        pytest.param({"thursday": [(7 * H, 20 * H)]}, 4 * H, id="crosses both"),
        pytest.param({"friday": [(7 * H, 8 * H), (17 * H, 18 * H)]}, 2 * H, id="two spans"),
        pytest.param({"friday": [(16 * H + 45, 17 * H + 15)]}, 15, id="quarter past five"),
        pytest.param({"saturday": [(10 * H, 14 * H)]}, 4 * H, id="saturday counts whole"),
        pytest.param({"sunday": [(9 * H, 17 * H)]}, 8 * H, id="sunday in office time counts"),
        pytest.param({"monday": [(0, 24 * H)]}, 15 * H, id="weekday open 24h"),
        pytest.param({"sunday": [(0, 24 * H)]}, 24 * H, id="sunday open 24h"),
        pytest.param(_every(WEEKDAYS, (8 * H, 17 * H)), 0, id="office hours all week"),
        pytest.param(
            {**_every(WEEKDAYS, (0, 24 * H)), **_every(("saturday", "sunday"), (0, 24 * H))},
            168 * H - 45 * H,
            id="always open",
        ),
        pytest.param({"monday": [(22 * H, 24 * H)], "tuesday": [(0, 2 * H)]}, 4 * H, id="midnight"),
        pytest.param({"monday": [(16 * H, 19 * H), (18 * H, 20 * H)]}, 3 * H, id="overlap merged"),
        pytest.param({"monday": [(7 * H, 12 * H), (12 * H, 18 * H)]}, 2 * H, id="adjacent"),
    ],
)
def test_it_counts_the_minutes_outside_weekday_office_hours(
    week: dict[str, list[Span]], minutes: int
) -> None:
    assert minutes_outside_office(week) == minutes


def test_it_reports_hours_to_two_decimals() -> None:
    assert hours_outside_office({"monday": [(17 * H, 17 * H + 20)]}) == 0.33
    assert hours_outside_office({"saturday": [(10 * H, 14 * H + 30)]}) == 4.5


@pytest.mark.parametrize(
    "week",
    [
        {"mon": [(8 * H, 9 * H)]},
        {"monday": [(9 * H, 9 * H)]},
        {"monday": [(10 * H, 9 * H)]},
        {"monday": [(23 * H, 25 * H)]},
        {"monday": [(-1, 9 * H)]},
    ],
)
def test_it_refuses_a_malformed_schedule(week: dict[str, list[Span]]) -> None:
    with pytest.raises(ValueError, match=r"unknown day|opening span"):
        minutes_outside_office(week)


def test_it_sums_the_three_facilities_only_when_all_are_known() -> None:
    evening = {"monday": [(17 * H, 20 * H)]}
    values = opening_hours_values(
        "2380", {"library": evening, "swimming_hall": {}, "recycling_centre": evening}, 2026
    )
    assert [(v.measure_id, v.value, v.source, v.period) for v in values] == [
        ("library_hours_outside_office", 3, "scenario", 2026),
        ("swimming_hall_hours_outside_office", 0, "scenario", 2026),
        ("recycling_centre_hours_outside_office", 3, "scenario", 2026),
        ("opening_hours_outside_office_total", 6, "scenario", 2026),
    ]
    partial = opening_hours_values("2380", {"library": evening})
    assert [v.measure_id for v in partial] == ["library_hours_outside_office"]


def test_the_template_example_validates_and_gives_the_documented_hours(tmp_path: Path) -> None:
    text = TEMPLATE.read_text(encoding="utf-8")
    assert "# [targets.opening_hours.library]" in text
    uncommented = re.sub(
        r"^# (\[targets\.opening_hours\.\w+\]|\w+day = \[.*\])$", r"\1", text, flags=re.M
    )
    path = tmp_path / "s.toml"
    path.write_text(uncommented, encoding="utf-8")
    target = load_scenario(path).targets[0]
    assert target.opening_hours is not None
    values = opening_hours_values(target.kommunkod, target.opening_hours.schedules())
    assert [v.value for v in values] == [12, 36.5, 11, 59.5]
    # As planstore stores it: the snapshot reads back the same.
    dumped = target.model_dump(mode="json")["opening_hours"]
    assert dumped["library"]["saturday"] == ["10:00-14:00"]
    assert OpeningHours.model_validate(dumped) == target.opening_hours


def test_it_normalises_an_en_dash_and_spaces(tmp_path: Path) -> None:
    text = (ROOT / "tests" / "data" / "scenarios" / "good-minimal.toml").read_text()
    text += '\n[targets.opening_hours.library]\nsunday = ["12:00 – 16:00", "00:00-01:00"]\n'
    path = tmp_path / "s.toml"
    path.write_text(text, encoding="utf-8")
    hours = load_scenario(path).targets[0].opening_hours
    assert hours is not None
    assert hours.library is not None
    assert hours.library.sunday == ("12:00-16:00", "00:00-01:00")
    assert hours.schedules()["library"]["sunday"] == ((720, 960), (0, 60))
    assert hours.swimming_hall is None


def test_the_other_measures_are_data_with_kolada_ids_where_known() -> None:
    assert list(OTHER_MEASURES) == [
        "library_hours_outside_office",
        "swimming_hall_hours_outside_office",
        "recycling_centre_hours_outside_office",
        "opening_hours_outside_office_total",
        "preschool_place_on_requested_date",
        "preschool_waiting_days_mean",
        "elderly_housing_waiting_days_mean",
        "elderly_housing_waiting_days_median",
    ]
    ids = {m.id: (m.kolada_id, m.unit, m.source) for m in OTHER_MEASURES.values()}
    assert ids == {
        "library_hours_outside_office": ("U09403", "hours_per_week", "scenario"),
        "swimming_hall_hours_outside_office": ("U09404", "hours_per_week", "scenario"),
        "recycling_centre_hours_outside_office": (None, "hours_per_week", "scenario"),
        "opening_hours_outside_office_total": (None, "hours_per_week", "scenario"),
        "preschool_place_on_requested_date": ("U11401", "percent", "manual"),
        "preschool_waiting_days_mean": ("U11402", "days", "manual"),
        "elderly_housing_waiting_days_mean": ("U23401", "days", "manual"),
        "elderly_housing_waiting_days_median": ("U23402", "days", "manual"),
    }
    assert all(m.own_id == (m.kolada_id is None) for m in OTHER_MEASURES.values())
    assert all(m.title_sv and m.title_en for m in OTHER_MEASURES.values())
    assert "U07486" not in {m.kolada_id for m in OTHER_MEASURES.values()}
    assert set(MANUAL_MEASURES) == {k for k, m in OTHER_MEASURES.items() if m.source == "manual"}
    assert [HOURS_BY_FACILITY[f].facility for f in FACILITIES] == list(FACILITIES)


def test_scoring_never_sees_the_other_measures() -> None:
    assert not set(OTHER_MEASURES) & set(MEASURES)
    assert not {m.id for ms in EDITIONS.values() for m in ms} & set(OTHER_MEASURES)
    sent = datetime(2026, 10, 6, 8, 0, tzinfo=UTC)
    scores = score([Evidence("2380", "email", "1", sent, sent)], ScoringRules())
    assert {s.measure_id for s in scores} <= set(MEASURES)


@pytest.mark.parametrize(
    ("measure_id", "value", "ok"),
    [
        ("preschool_place_on_requested_date", 0, True),
        ("preschool_place_on_requested_date", 100, True),
        ("preschool_place_on_requested_date", 100.5, False),
        ("preschool_place_on_requested_date", -1, False),
        ("preschool_waiting_days_mean", 0, True),
        ("preschool_waiting_days_mean", 365.5, True),
        ("elderly_housing_waiting_days_median", -0.5, False),
        ("elderly_housing_waiting_days_mean", float("nan"), False),
        ("elderly_housing_waiting_days_mean", float("inf"), False),
    ],
)
def test_it_checks_value_ranges(measure_id: str, value: float, ok: bool) -> None:
    assert check_value(OTHER_MEASURES[measure_id], value) is ok


def test_it_sorts_values_by_municipality_then_report_order() -> None:
    values = [
        OtherValue("2380", "elderly_housing_waiting_days_mean", 40, "manual"),
        OtherValue("2309", "preschool_place_on_requested_date", 80, "manual"),
        OtherValue("2380", "library_hours_outside_office", 12, "scenario"),
    ]
    assert [(v.kommunkod, v.measure_id) for v in sort_values(values)] == [
        ("2309", "preschool_place_on_requested_date"),
        ("2380", "library_hours_outside_office"),
        ("2380", "elderly_housing_waiting_days_mean"),
    ]
