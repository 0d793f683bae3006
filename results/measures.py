"""The KKiK accessibility measures as data, grouped by edition.

Sources: kkik-method.md Part A ("Phone", "Results") for what the harness reports, and Part B §0
(summary table), §3 (phone), §4 (bemötande) and §6 (computation) for what KKiK measured.

Editions (Part A, "Results"):

``2011``
    E-mail answered within 2 working days (Kolada U00412), phone "contact with a case officer"
    (U00413), bemötande on the three-level scale god / medelgod / dålig reported as the share
    rated "god" (U00414 as defined up to 2015), plus the vendor's share of calls reaching a person
    within 60 s and 120 s.
``2016``
    E-mail within 2 and within 1 working day, phone "direct answer", bemötande 0–3 as a percentage
    of the maximum points (U00414 as redefined in 2016), person within 60 s and 120 s.
``2018`` (the default)
    E-mail within 1 working day, direct answer, bemötande 0–3, person within 60 s and 120 s.

Kolada ids are used only where Part B states them. No id was found for e-mail within one working
day, for direct answer after 2014 (Part B says "probably U00413 under a new definition", not
confirmed) or for the vendor's 60 s / 120 s figures (Part B §12.1), so those get a stable id of our
own and ``own_id=True``, which exports must show.

``threshold`` means, by measure: working days for the e-mail measures, seconds for the
person-within measures, the lowest level counted as "god" for the three-level bemötande share, and
None where the measure has no threshold. How each measure is computed lives in
:mod:`results.scoring`.

The other KKiK accessibility measures (opening hours outside weekday 08–17, preschool place on
the requested date, waiting days for preschool and for elderly housing; Part B §7) are reported
figures, not scores: they live in :data:`OTHER_MEASURES`, outside the editions, so scoring never
iterates them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "DEFAULT_EDITION",
    "EDITIONS",
    "FACILITIES",
    "HOURS_BY_FACILITY",
    "MANUAL_MEASURES",
    "MAX_POINTS_PER_CALL",
    "MEASURES",
    "OTHER_MEASURES",
    "Channel",
    "Facility",
    "Kind",
    "Measure",
    "OtherMeasure",
    "OtherSource",
    "OtherUnit",
    "edition",
]

Channel = Literal["email", "phone"]
#: "share": numerator / denominator × 100. "points": points / maximum points × 100.
Kind = Literal["share", "points"]
#: A point-scale measure's maximum per assessed call: bemötande 0 (dålig) to 3 (mycket god).
MAX_POINTS_PER_CALL = 3

DEFAULT_EDITION = "2018"


@dataclass(frozen=True)
class Measure:
    id: str
    title_sv: str
    title_en: str
    kolada_id: str | None
    own_id: bool
    channel: Channel
    kind: Kind
    threshold: int | None
    #: The years whose published Kolada values were measured this way (None: open-ended). U00414
    #: kept its id when it was redefined in 2016, so a value is compared only with its own kind.
    kolada_from: int | None = None
    kolada_until: int | None = None

    def kolada_defined(self, year: int) -> bool:
        """Whether Kolada's value of ``year`` for :attr:`kolada_id` measures what this does."""
        if self.kolada_id is None:
            return False
        return (self.kolada_from is None or year >= self.kolada_from) and (
            self.kolada_until is None or year <= self.kolada_until
        )


EMAIL_1 = Measure(
    id="email_within_1_working_day",
    title_sv="Andel som får svar på e-post inom en arbetsdag",
    title_en="E-mails answered within one working day",
    kolada_id=None,
    own_id=True,
    channel="email",
    kind="share",
    threshold=1,
)
EMAIL_2 = Measure(
    id="email_within_2_working_days",
    title_sv="Andel som får svar på e-post inom två arbetsdagar",
    title_en="E-mails answered within two working days",
    kolada_id="U00412",
    own_id=False,
    channel="email",
    kind="share",
    threshold=2,
)
DIRECT_ANSWER = Measure(
    id="phone_direct_answer",
    title_sv="Andel som får ett direkt svar på en enkel fråga via telefon",
    title_en="Calls with a direct answer to a simple question",
    # Part B §0 #4: possibly U00413 redefined, not confirmed, so not claimed.
    kolada_id=None,
    own_id=True,
    channel="phone",
    kind="share",
    threshold=None,
)
CONTACT_CASE_OFFICER = Measure(
    id="phone_contact_case_officer",
    title_sv="Andel som får kontakt med handläggare via telefon",
    title_en="Calls reaching a case officer",
    kolada_id="U00413",
    own_id=False,
    channel="phone",
    kind="share",
    threshold=None,
)
PERSON_60 = Measure(
    id="phone_person_within_60s",
    title_sv="Andel samtal där man når en person inom 60 sekunder",
    title_en="Calls reaching a person within 60 seconds",
    kolada_id=None,
    own_id=True,
    channel="phone",
    kind="share",
    threshold=60,
)
PERSON_120 = Measure(
    id="phone_person_within_120s",
    title_sv="Andel samtal där man når en person inom 120 sekunder",
    title_en="Calls reaching a person within 120 seconds",
    kolada_id=None,
    own_id=True,
    channel="phone",
    kind="share",
    threshold=120,
)
BEMOTANDE = Measure(
    id="phone_bemotande",
    title_sv="Gott bemötande via telefon (andel av maxpoäng)",
    title_en="Good treatment by phone (share of maximum points)",
    kolada_id="U00414",
    own_id=False,
    channel="phone",
    kind="points",
    threshold=None,
    kolada_from=2016,
)
BEMOTANDE_GOOD_SHARE = Measure(
    id="phone_bemotande_good_share",
    title_sv="Andel som upplever ett gott bemötande via telefon",
    title_en="Calls rated good treatment (three-level scale)",
    # Same Kolada id as BEMOTANDE: U00414 was redefined in 2016, not renumbered (Part B §4).
    kolada_id="U00414",
    own_id=False,
    channel="phone",
    kind="share",
    # Four-level points 2 (god) and 3 (mycket god) both read as "god" on the old scale.
    threshold=2,
    kolada_until=2015,
)

#: Each edition's measures in report order.
EDITIONS: dict[str, tuple[Measure, ...]] = {
    "2011": (EMAIL_2, CONTACT_CASE_OFFICER, BEMOTANDE_GOOD_SHARE, PERSON_60, PERSON_120),
    "2016": (EMAIL_2, EMAIL_1, DIRECT_ANSWER, BEMOTANDE, PERSON_60, PERSON_120),
    "2018": (EMAIL_1, DIRECT_ANSWER, BEMOTANDE, PERSON_60, PERSON_120),
}

#: Every measure by id, whatever the edition.
MEASURES: dict[str, Measure] = {m.id: m for ms in EDITIONS.values() for m in ms}


def edition(name: str = DEFAULT_EDITION) -> tuple[Measure, ...]:
    """The measures of edition ``name``; an unknown edition is an error, never a silent default."""
    try:
        return EDITIONS[name]
    except KeyError:
        known = ", ".join(sorted(EDITIONS))
        raise ValueError(f"unknown edition {name!r} (known: {known})") from None


# --- the other accessibility measures (not scored from probes) ----------------------------------
#
# Part B §0 #6–#9 and §7: opening hours outside weekday 08–17 (main library U09403, swimming hall
# U09404, recycling centre without a known id, and from 2013 one summed figure without a known
# id), preschool place on the requested date (U11401) and its mean waiting days (U11402), and
# days to an offer of special housing for the elderly (U23401 mean, U23402 median). KKiK took
# them from the municipality's own reporting, not from the external firm's probes, so they are
# kept apart from :data:`EDITIONS` and :data:`MEASURES`: :func:`results.scoring.score` never sees
# them. Opening hours are computed from the weekly schedules in the scenario
# (:mod:`results.other_measures`); the rest are entered by hand (``kkik measure set``).
# U07486 (the largest recycling centre's evening/weekend hours, Avfall Sverige data) is a
# different measure and deliberately not used.

#: "hours_per_week": opening hours per week; "percent": a share 0–100; "days": days, ≥ 0.
OtherUnit = Literal["hours_per_week", "percent", "days"]
#: Where the value comes from: the scenario's opening schedules, or a person typing it in.
OtherSource = Literal["scenario", "manual"]
Facility = Literal["library", "swimming_hall", "recycling_centre"]
#: The facilities of the opening-hours measures, in report order.
FACILITIES: tuple[Facility, ...] = ("library", "swimming_hall", "recycling_centre")


@dataclass(frozen=True)
class OtherMeasure:
    """A KKiK accessibility measure that is reported, not scored: no numerator, no interval."""

    id: str
    title_sv: str
    title_en: str
    kolada_id: str | None
    own_id: bool
    unit: OtherUnit
    source: OtherSource
    #: The facility whose schedule gives the value; None for the summed figure and manual ones.
    facility: Facility | None = None
    #: Allowed values, inclusive (None: no upper bound).
    low: float = 0.0
    high: float | None = None


LIBRARY_HOURS = OtherMeasure(
    id="library_hours_outside_office",
    title_sv="Huvudbibliotekets öppettimmar per vecka utöver 08–17 vardagar",
    title_en="Main library: opening hours per week outside weekdays 08–17",
    kolada_id="U09403",
    own_id=False,
    unit="hours_per_week",
    source="scenario",
    facility="library",
)
SWIMMING_HALL_HOURS = OtherMeasure(
    id="swimming_hall_hours_outside_office",
    title_sv="Simhallens öppettimmar per vecka utöver 08–17 vardagar",
    title_en="Swimming hall: opening hours per week outside weekdays 08–17",
    kolada_id="U09404",
    own_id=False,
    unit="hours_per_week",
    source="scenario",
    facility="swimming_hall",
)
RECYCLING_CENTRE_HOURS = OtherMeasure(
    id="recycling_centre_hours_outside_office",
    # KKiK's question says "återvinningsstationen"; the staffed centre is the one with hours.
    title_sv="Återvinningscentralens öppettimmar per vecka utöver 08–17 vardagar",
    title_en="Recycling centre: opening hours per week outside weekdays 08–17",
    kolada_id=None,  # Part B §0 #6: not found (U07486 is another measure)
    own_id=True,
    unit="hours_per_week",
    source="scenario",
    facility="recycling_centre",
)
OPENING_HOURS_TOTAL = OtherMeasure(
    id="opening_hours_outside_office_total",
    title_sv="Summa öppettimmar per vecka utöver 08–17 vardagar: huvudbibliotek, simhall och "
    "återvinningscentral",
    title_en="Total opening hours per week outside weekdays 08–17: main library, swimming hall "
    "and recycling centre",
    kolada_id=None,  # Part B §0 #6: the summed figure's id was not found
    own_id=True,
    unit="hours_per_week",
    source="scenario",
)
PRESCHOOL_ON_DATE = OtherMeasure(
    id="preschool_place_on_requested_date",
    title_sv="Plats på förskola på önskat placeringsdatum, andel barn (%)",
    title_en="Children placed in preschool on the requested date (%)",
    kolada_id="U11401",
    own_id=False,
    unit="percent",
    source="manual",
    high=100.0,
)
PRESCHOOL_WAIT_MEAN = OtherMeasure(
    id="preschool_waiting_days_mean",
    title_sv="Väntetid till förskola efter önskat datum, medelvärde dagar",
    title_en="Waiting days for preschool after the requested date, mean",
    kolada_id="U11402",
    own_id=False,
    unit="days",
    source="manual",
)
ELDERLY_WAIT_MEAN = OtherMeasure(
    id="elderly_housing_waiting_days_mean",
    title_sv="Väntetid till särskilt boende, medelvärde dagar",
    title_en="Waiting days for special housing for the elderly, mean",
    kolada_id="U23401",
    own_id=False,
    unit="days",
    source="manual",
)
ELDERLY_WAIT_MEDIAN = OtherMeasure(
    id="elderly_housing_waiting_days_median",
    title_sv="Väntetid till särskilt boende, median dagar",
    title_en="Waiting days for special housing for the elderly, median",
    kolada_id="U23402",
    own_id=False,
    unit="days",
    source="manual",
)

#: The other measures by id, in report order (the same for every edition: from 2013 KKiK showed
#: only the summed opening hours, before that the facilities; we report both).
OTHER_MEASURES: dict[str, OtherMeasure] = {
    m.id: m
    for m in (
        LIBRARY_HOURS,
        SWIMMING_HALL_HOURS,
        RECYCLING_CENTRE_HOURS,
        OPENING_HOURS_TOTAL,
        PRESCHOOL_ON_DATE,
        PRESCHOOL_WAIT_MEAN,
        ELDERLY_WAIT_MEAN,
        ELDERLY_WAIT_MEDIAN,
    )
}
#: The measures a person enters with ``kkik measure set``.
MANUAL_MEASURES: dict[str, OtherMeasure] = {
    k: m for k, m in OTHER_MEASURES.items() if m.source == "manual"
}
#: Each facility's opening-hours measure.
HOURS_BY_FACILITY: dict[Facility, OtherMeasure] = {
    m.facility: m for m in OTHER_MEASURES.values() if m.facility is not None
}
