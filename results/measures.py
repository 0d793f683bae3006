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
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["DEFAULT_EDITION", "EDITIONS", "MEASURES", "Channel", "Kind", "Measure", "edition"]

Channel = Literal["email", "phone"]
#: "share": numerator / denominator × 100. "points": points / maximum points × 100.
Kind = Literal["share", "points"]

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
