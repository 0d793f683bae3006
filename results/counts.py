"""What a score is counted from, as a reader should see it, and why a campaign has no results.

:class:`~results.scoring.Score` keeps the scoring's own counters. For a point-scale measure
(bemötande 0–3) its ``numerator`` is the points and its ``denominator`` the assessed calls, so
the pair read as a fraction ("18/12") is neither the share nor the sample. Everything that shows
counts to a person or a program (the exports, ``kkik score``, the dashboard) takes them from
:func:`counts`, where ``value = 100 × numerator / denominator`` holds for every measure and a
point-scale measure also names its points, maximum points and calls: 18 of 36 points, 12 calls.

:func:`why_empty` says why there is nothing to show (nothing planned, nothing sent yet, only
harness faults, calls still waiting), so an empty table is never left unexplained.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from harness.core.i18n import Lang, Text
from results.measures import MAX_POINTS_PER_CALL, MEASURES
from results.scoring import Evidence, Score

__all__ = ["EMPTY", "Counts", "Empty", "EmptyReason", "count_text", "counts", "why_empty"]


@dataclass(frozen=True, slots=True)
class Counts:
    """The value is ``100 × numerator / denominator``; the rest only for point-scale measures."""

    numerator: int
    denominator: int
    points: int | None = None
    max_points: int | None = None
    calls: int | None = None


def counts(score: Score) -> Counts:
    """``score``'s counts: a share as it is; points as points of the maximum, with the calls."""
    measure = MEASURES.get(score.measure_id)
    if measure is None or measure.kind != "points":
        return Counts(score.numerator, score.denominator)
    maximum = MAX_POINTS_PER_CALL * score.denominator
    return Counts(score.numerator, maximum, score.numerator, maximum, score.denominator)


_COUNT = {
    "share": Text("{numerator}/{denominator}", "{numerator}/{denominator}"),
    "points": Text(
        "{points} av {max_points} poäng, {calls} samtal",
        "{points} of {max_points} points, {calls} calls",
    ),
    # English has a singular; Swedish "samtal" is both.
    "points_one": Text(
        "{points} av {max_points} poäng, {calls} samtal",
        "{points} of {max_points} points, {calls} call",
    ),
}


def count_text(score: Score, lang: Lang) -> str:
    """ "1/2" for a share; "18 av 36 poäng, 12 samtal" for a point-scale measure."""
    c = counts(score)
    if c.calls is None:
        return _COUNT["share"](lang, numerator=c.numerator, denominator=c.denominator)
    key = "points_one" if c.calls == 1 else "points"
    return _COUNT[key](lang, points=c.points, max_points=c.max_points, calls=c.calls)


EmptyReason = Literal["no_probes", "nothing_sent", "only_faults", "awaiting"]

#: Why a campaign has no value to show; fields ``campaign``, ``planned``, ``faults``, ``waiting``.
EMPTY: dict[EmptyReason, Text] = {
    "no_probes": Text(
        "Inga resultat: kampanjen {campaign} har inga planerade mätningar.",
        "No results: the campaign {campaign} has no planned probes.",
    ),
    "nothing_sent": Text(
        "Inga resultat än i {campaign}: ingen fråga är skickad och inget samtal ringt "
        "(planerade mätningar: {planned}); `kkik run` skickar dem när det är dags.",
        "No results yet in {campaign}: no question has been sent and no call placed "
        "(probes planned: {planned}); `kkik run` sends them when they are due.",
    ),
    "only_faults": Text(
        "Inga resultat i {campaign}: alla skickade mätningar ({faults}) är mätfel på vår sida och "
        "räknas inte; se `kkik status`.",
        "No results in {campaign}: every probe sent ({faults}) is a harness fault on our side and "
        "does not count; see `kkik status`.",
    ),
    "awaiting": Text(
        "Inga värden än i {campaign}: {waiting} samtal väntar på utfall eller bedömning "
        "(`kkik call list`).",
        "No values yet in {campaign}: calls waiting for an outcome or an assessment: {waiting} "
        "(`kkik call list`).",
    ),
}


@dataclass(frozen=True, slots=True)
class Empty:
    """Why no measure has a value, with the numbers the sentence needs."""

    reason: EmptyReason
    planned: int = 0
    faults: int = 0
    waiting: int = 0

    def text(self, lang: Lang, campaign: str) -> str:
        return EMPTY[self.reason](
            lang, campaign=campaign, planned=self.planned, faults=self.faults, waiting=self.waiting
        )


def why_empty(evidence: Sequence[Evidence], scores: Sequence[Score], planned: int) -> Empty | None:
    """None when some measure has a value; else why not.

    ``planned`` counts the campaign's probes (not cancelled). Scoring gives every non-fault
    e-mail a verdict at once (unanswered is a failure) and every call with an outcome a verdict
    on the person-within measures, so evidence without a value is harness faults and calls that
    still wait for an outcome or an assessment.
    """
    if any(s.value is not None for s in scores):
        return None
    if planned == 0:
        return Empty("no_probes")
    if not evidence:
        return Empty("nothing_sent", planned=planned)
    faults = sum(1 for e in evidence if e.harness_fault or e.outcome == "failed")
    waiting = len(evidence) - faults
    if waiting == 0:
        return Empty("only_faults", planned=planned, faults=faults)
    return Empty("awaiting", planned=planned, faults=faults, waiting=waiting)
