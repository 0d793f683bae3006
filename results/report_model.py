"""What the campaign report is drawn from: plain data, gathered from the database by
:mod:`harness.campaign.reportdata` (or made by hand in tests and benchmarks)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from results.development import Development
from results.mail_quality import OwnValue
from results.national import Place
from results.reference import Reference
from results.scoring import Score


@dataclass(frozen=True)
class EvidenceLine:
    """One probe in the appendix and the distributions; no personal data."""

    probe_id: int
    kommunkod: str
    channel: str
    area: str | None
    sent_at: datetime
    answered_at: datetime | None  # e-mail: the counting answer; phone: person reached
    category: str  # email: within|later|none|fault; phone: person|no_person|...|pending
    business_hours: float | None = None  # e-mail: office time to the answer
    seconds_to_person: float | None = None  # phone: dial to person
    direct_answer: bool | None = None
    bemotande: int | None = None


@dataclass(frozen=True)
class OtherLine:
    """A reported (not scored) measure: opening hours from the scenario, or entered by hand."""

    kommunkod: str
    measure_id: str
    value: float
    source: str  # scenario | manual


@dataclass(frozen=True)
class ReportData:
    campaign: str
    year: int
    edition: str
    period_start: date
    period_end: date
    generated_at: datetime
    timezone: str
    targets: Mapping[str, str]  # kommunkod -> name
    scores: Sequence[Score]
    national: Sequence[Reference]
    evidence: Sequence[EvidenceLine]
    settings: Sequence[tuple[str, str]]  # (setting key, value as a code or text)
    samples: Mapping[str, tuple[int, int]]  # channel -> (planned, placed)
    trend: Mapping[str, Sequence[tuple[int, float]]] = field(default_factory=dict)
    other: Sequence[OtherLine] = ()
    # The wider picture (results.report_country): each score beside the country and the
    # network, the development over the years, our own e-mail measures, and the replies that
    # still await review (how many, the municipalities as "0180 Stockholm", and those matched
    # to no question).
    places: Mapping[tuple[str, str], Place] = field(default_factory=dict)
    developments: Sequence[Development] = ()
    own: Sequence[OwnValue] = ()
    pending_replies: int = 0
    pending_where: Sequence[str] = ()
    pending_unassigned: int = 0
