"""The measures as data (results.measures), checked against kkik-method.md Part A "Results"."""

from __future__ import annotations

import dataclasses

import pytest

from results.measures import DEFAULT_EDITION, EDITIONS, MEASURES, edition


def test_it_defaults_to_the_2018_edition() -> None:
    assert DEFAULT_EDITION == "2018"
    assert edition() == EDITIONS["2018"]


@pytest.mark.parametrize(
    ("name", "ids"),
    [
        (
            "2011",
            [
                "email_within_2_working_days",
                "phone_contact_case_officer",
                "phone_bemotande_good_share",
                "phone_person_within_60s",
                "phone_person_within_120s",
            ],
        ),
        (
            "2016",
            [
                "email_within_2_working_days",
                "email_within_1_working_day",
                "phone_direct_answer",
                "phone_bemotande",
                "phone_person_within_60s",
                "phone_person_within_120s",
            ],
        ),
        (
            "2018",
            [
                "email_within_1_working_day",
                "phone_direct_answer",
                "phone_bemotande",
                "phone_person_within_60s",
                "phone_person_within_120s",
            ],
        ),
    ],
)
def test_it_lists_each_editions_measures_in_report_order(name: str, ids: list[str]) -> None:
    assert [m.id for m in edition(name)] == ids


@pytest.mark.parametrize(
    ("measure_id", "kolada_id", "own_id", "channel", "kind", "threshold"),
    [
        ("email_within_1_working_day", None, True, "email", "share", 1),
        ("email_within_2_working_days", "U00412", False, "email", "share", 2),
        ("phone_direct_answer", None, True, "phone", "share", None),
        ("phone_contact_case_officer", "U00413", False, "phone", "share", None),
        ("phone_person_within_60s", None, True, "phone", "share", 60),
        ("phone_person_within_120s", None, True, "phone", "share", 120),
        ("phone_bemotande", "U00414", False, "phone", "points", None),
        ("phone_bemotande_good_share", "U00414", False, "phone", "share", 2),
    ],
)
def test_it_describes_each_measure(
    measure_id: str,
    kolada_id: str | None,
    own_id: bool,
    channel: str,
    kind: str,
    threshold: int | None,
) -> None:
    m = MEASURES[measure_id]
    assert (m.kolada_id, m.own_id, m.channel, m.kind, m.threshold) == (
        kolada_id,
        own_id,
        channel,
        kind,
        threshold,
    )
    assert m.title_sv
    assert m.title_en


def test_it_marks_exactly_the_measures_without_a_kolada_id_as_own() -> None:
    assert all(m.own_id == (m.kolada_id is None) for m in MEASURES.values())


def test_it_keeps_measures_immutable() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        MEASURES["phone_bemotande"].threshold = 1  # type: ignore[misc]


def test_it_rejects_an_unknown_edition() -> None:
    with pytest.raises(ValueError, match="unknown edition '2020'"):
        edition("2020")
