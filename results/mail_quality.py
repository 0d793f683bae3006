"""Our own e-mail measures beyond the timing: who answered, how well, and how fast.

The published servicemätning method reported per municipality, beside the share answered in
time: "andel fullständiga avsändaruppgifter" (the reply names a person, a title and a phone
number), "svarskvalitet" (the question answered, correctly, with extra help such as a link,
opening hours or a contact), the letters never answered, and the mean reply time in working
hours. KKiK published none of these as a Kolada KPI, so they carry our own ids and are always
labelled as ours (``own_id``), never as Kolada's.

Sender details and quality are a person's judgement of each answered question (proposed from
the signature by :mod:`probes.email_signature`, confirmed in the dashboard or with ``kkik mail
assess``); an answered question not yet assessed is counted as awaiting, not as a failure. The
reply times come from the evidence alone: working time (the campaign's calendar, office hours)
from our server's acceptance of the question to the counting reply's arrival.

Pure: evidence and assessments in, values out.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from results.calendar import WorkCalendar
from results.scoring import Evidence

Unit = Literal["percent", "hours"]

#: Points per assessed answer on the quality rubric: answered, correct, extra help.
QUALITY_POINTS = 3


@dataclass(frozen=True)
class OwnMeasure:
    id: str
    title_sv: str
    title_en: str
    unit: Unit
    #: Whether a higher value is better (a share of good answers) or worse (hours, unanswered).
    higher_is_better: bool


SENDER_COMPLETE = OwnMeasure(
    "email_sender_complete",
    "Andel svar med fullständiga avsändaruppgifter (namn, titel, telefon)",
    "Replies with complete sender details (name, title, phone)",
    "percent",
    True,
)
ANSWER_QUALITY = OwnMeasure(
    "email_answer_quality",
    "Svarskvalitet via e-post (andel av maxpoäng: besvarad, korrekt, extra hjälp)",
    "E-mail answer quality (share of maximum points: answered, correct, extra help)",
    "percent",
    True,
)
UNANSWERED = OwnMeasure(
    "email_unanswered",
    "Andel e-postfrågor som inte besvarats",
    "E-mail questions not answered",
    "percent",
    False,
)
REPLY_HOURS_MEAN = OwnMeasure(
    "email_reply_hours_mean",
    "Svarstid på e-post i arbetstimmar, medelvärde",
    "E-mail reply time in working hours, mean",
    "hours",
    False,
)
REPLY_HOURS_MEDIAN = OwnMeasure(
    "email_reply_hours_median",
    "Svarstid på e-post i arbetstimmar, median",
    "E-mail reply time in working hours, median",
    "hours",
    False,
)
OWN_MAIL_MEASURES: dict[str, OwnMeasure] = {
    m.id: m
    for m in (SENDER_COMPLETE, ANSWER_QUALITY, UNANSWERED, REPLY_HOURS_MEAN, REPLY_HOURS_MEDIAN)
}


@dataclass(frozen=True)
class MailAssessment:
    """A person's judgement of one answered e-mail question (None: not judged)."""

    probe_id: str
    sender_complete: bool | None = None
    answered: bool | None = None  # the reply answers the question asked
    correct: bool | None = None  # and what it says is right
    extra_help: bool | None = None  # a link, opening hours, a contact beyond the answer

    @property
    def quality_points(self) -> int | None:
        parts = (self.answered, self.correct, self.extra_help)
        if any(p is None for p in parts):
            return None
        return sum(1 for p in parts if p)


@dataclass(frozen=True)
class OwnValue:
    kommunkod: str
    measure_id: str
    value: float | None  # percent (whole, half up) or hours (one decimal)
    numerator: int | None  # shares: counted / of; hours: None
    denominator: int | None
    sample: int  # the questions or answers behind the value
    awaiting: int = 0  # answered questions not yet assessed (sender details and quality)


def _hours(
    calendar: WorkCalendar,
    sent: datetime,
    answered: datetime,
    known: Mapping[tuple[datetime, datetime], float] | None,
) -> float:
    found = known.get((sent, answered)) if known else None
    return found if found is not None else calendar.business_seconds(sent, answered) / 3600


def _half_up(value: Decimal, places: str) -> float:
    return float(value.quantize(Decimal(places), rounding=ROUND_HALF_UP))


def _share(n: int, d: int) -> float | None:
    return None if d == 0 else _half_up(Decimal(100 * n) / Decimal(d), "1")


def mail_quality(
    evidence: Sequence[Evidence],
    assessments: Mapping[str, MailAssessment],
    calendar: WorkCalendar,
    known_hours: Mapping[tuple[datetime, datetime], float] | None = None,
) -> list[OwnValue]:
    """Each municipality's own e-mail measures, in :data:`OWN_MAIL_MEASURES` order.

    ``known_hours``: working hours already computed by (sent, answered) on this calendar (the
    report has them), so a national campaign's answers are not walked through the calendar
    twice."""
    by_kommun: dict[str, list[Evidence]] = {}
    for e in evidence:
        if e.channel == "email" and not e.harness_fault:
            by_kommun.setdefault(e.kommunkod, []).append(e)
    out: list[OwnValue] = []
    for kommunkod in sorted(by_kommun):
        rows = by_kommun[kommunkod]
        answered = [e for e in rows if e.answered_at is not None]
        judged = [assessments.get(e.probe_id) for e in answered]
        senders = [a.sender_complete for a in judged if a and a.sender_complete is not None]
        points = [p for a in judged if a and (p := a.quality_points) is not None]
        waiting_sender = len(answered) - len(senders)
        waiting_quality = len(answered) - len(points)
        hours = [
            Decimal(str(_hours(calendar, e.sent_at, e.answered_at, known_hours)))
            for e in answered
            if e.answered_at is not None
        ]
        complete = sum(1 for s in senders if s)
        got = sum(points)
        most = QUALITY_POINTS * len(points)
        out += [
            OwnValue(kommunkod, SENDER_COMPLETE.id, _share(complete, len(senders)), complete,
                     len(senders), len(senders), waiting_sender),
            OwnValue(kommunkod, ANSWER_QUALITY.id, _share(got, most), got, most, len(points),
                     waiting_quality),
            OwnValue(kommunkod, UNANSWERED.id, _share(len(rows) - len(answered), len(rows)),
                     len(rows) - len(answered), len(rows), len(rows)),
            OwnValue(kommunkod, REPLY_HOURS_MEAN.id,
                     _half_up(sum(hours, Decimal(0)) / len(hours), "0.1") if hours else None,
                     None, None, len(hours)),
            OwnValue(kommunkod, REPLY_HOURS_MEDIAN.id,
                     _half_up(Decimal(statistics.median(hours)), "0.1") if hours else None,
                     None, None, len(hours)),
        ]  # fmt: skip
    return out
