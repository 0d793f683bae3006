"""Exports for the KKiK submission and the municipality's own reporting (pure: bytes out).

One row per municipality and measure, with the Kolada id where one is known and our own id,
marked as such, where not. Writers return bytes; the caller decides where they go.

The counts come from :func:`results.counts.counts`: ``value`` is ``100 × numerator /
denominator`` on every scored row, and a point-scale measure (bemötande) also carries ``points``,
``max_points`` and ``calls`` (18 of 36 points from 12 calls), so nobody reads 18/12.

The other accessibility measures (opening hours, preschool, elderly housing; see
:mod:`results.other_measures`) are reported figures, not scores: their rows carry ``source``
``scenario`` or ``manual`` (scored rows: ``scored``), their ``unit``, and leave numerator,
denominator and interval empty, so they cannot be mistaken for a share of probes.

These are the machines' formats (``docs/exports.md``): codes, ISO 8601 times, decimal points.
:mod:`results.excel` writes the same rows for Swedish Excel.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from results.counts import counts
from results.mail_quality import ANSWER_QUALITY, OWN_MAIL_MEASURES, SENDER_COMPLETE, OwnValue
from results.measures import MEASURES, OTHER_MEASURES
from results.national import Place
from results.other_measures import OtherValue
from results.scoring import Score
from results.spreadsheet import csv_writer

COLUMNS = (
    "kommunkod",
    "kommun",
    "ar",
    "measure",
    "kpi_id",
    "kpi_id_is_own",
    "title",
    "value",
    "numerator",
    "denominator",
    "ci_low",
    "ci_high",
    "edition",
    "unit",
    "source",
    # Appended, so columns read by position before these were added keep their place.
    "points",
    "max_points",
    "calls",
    # The country and the network beside the value (results.national), and the replies that
    # await review for the municipality: while any do, the value may still change.
    "national_year",
    "national_best",
    "national_worst",
    "national_mean",
    "national_n",
    "national_rank",
    "national_quartile",
    "network_best",
    "network_worst",
    "network_mean",
    "awaiting_review",
    # Our own e-mail measures: answered questions a person has yet to assess.
    "awaiting_assessment",
    # Calls counted by an approximation of the edition's definition (edition 2011 without the
    # case officer mark or the three-level scale).
    "approximated",
)


def score_rows(
    scores: Sequence[Score],
    names: Mapping[str, str],
    year: int,
    edition: str,
    lang: str = "sv",
    others: Sequence[OtherValue] = (),
    placed: Mapping[tuple[str, str], Place] | None = None,
    awaiting_review: Mapping[str, int] | None = None,
    own: Sequence[OwnValue] = (),
) -> list[dict[str, Any]]:
    """Scored rows, then (per municipality, after its scores) the ``others`` given.

    ``placed`` puts each score beside the country and the network (:func:`results.national.
    places`); ``awaiting_review`` counts, per kommunkod, the replies a person has yet to decide
    on. Without them those columns are empty (an evidence file has neither). ``own`` are our
    own e-mail measures (:mod:`results.mail_quality`), after the scores, marked as our ids:
    source ``assessed`` where a person's judgement is counted, ``scored`` where the evidence
    alone is.
    """
    rows = []
    for s in scores:
        measure = MEASURES[s.measure_id]
        c = counts(s)
        place = placed.get((s.kommunkod, s.measure_id)) if placed else None
        rows.append(
            {
                "kommunkod": s.kommunkod,
                "kommun": names.get(s.kommunkod, ""),
                "ar": year,
                "measure": s.measure_id,
                "kpi_id": measure.kolada_id or measure.id,
                "kpi_id_is_own": measure.kolada_id is None,
                "title": measure.title_sv if lang == "sv" else measure.title_en,
                "value": s.value,
                "numerator": c.numerator,
                "denominator": c.denominator,
                "ci_low": s.ci_low,
                "ci_high": s.ci_high,
                "edition": edition,
                "unit": "percent",
                "source": "scored",
                "points": c.points,
                "max_points": c.max_points,
                "calls": c.calls,
                "approximated": s.approximated,
            }
            | (place.as_dict() if place else {})
            | {
                "awaiting_review": (
                    None if awaiting_review is None else awaiting_review.get(s.kommunkod, 0)
                )
            }
        )
    for o in own:
        mine = OWN_MAIL_MEASURES[o.measure_id]
        judged = o.measure_id in (SENDER_COMPLETE.id, ANSWER_QUALITY.id)
        rows.append(
            {
                "kommunkod": o.kommunkod,
                "kommun": names.get(o.kommunkod, ""),
                "ar": year,
                "measure": o.measure_id,
                "kpi_id": o.measure_id,
                "kpi_id_is_own": True,
                "title": mine.title_sv if lang == "sv" else mine.title_en,
                "value": None if o.value is None else _number(o.value),
                "numerator": o.numerator,
                "denominator": o.denominator,
                "ci_low": None,
                "ci_high": None,
                "edition": edition,
                "unit": mine.unit,
                "source": "assessed" if judged else "scored",
                "points": None,
                "max_points": None,
                "calls": None,
                "awaiting_review": (
                    None if awaiting_review is None else awaiting_review.get(o.kommunkod, 0)
                ),
                "awaiting_assessment": o.awaiting if judged else None,
            }
        )
    for v in others:
        other = OTHER_MEASURES[v.measure_id]
        rows.append(
            {
                "kommunkod": v.kommunkod,
                "kommun": names.get(v.kommunkod, ""),
                "ar": v.period if v.period is not None else year,
                "measure": v.measure_id,
                "kpi_id": other.kolada_id or other.id,
                "kpi_id_is_own": other.kolada_id is None,
                "title": other.title_sv if lang == "sv" else other.title_en,
                "value": _number(v.value),
                "numerator": None,
                "denominator": None,
                "ci_low": None,
                "ci_high": None,
                "edition": edition,
                "unit": other.unit,
                "source": v.source,
                "points": None,
                "max_points": None,
                "calls": None,
            }
        )
    # Stable: each municipality's scores keep their order and come before its other figures.
    return sorted(rows, key=lambda r: str(r["kommunkod"]))


def _number(value: float) -> int | float:
    """45.0 → 45, so whole figures read as whole numbers in every format."""
    return int(value) if float(value).is_integer() else value


def _plain(value: object) -> object:
    """A cell for machines: instants (the evidence rows' times) in ISO 8601 with their offset."""
    return value.isoformat() if isinstance(value, datetime) else value


def to_csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] = COLUMNS) -> bytes:
    """UTF-8 with a byte-order mark, so Excel opens å, ä and ö right; no cell is a formula."""
    buffer = io.StringIO()
    writer = csv_writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow("" if row.get(k) is None else _plain(row.get(k)) for k in columns)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_json(rows: Sequence[Mapping[str, Any]]) -> bytes:
    plain = [{k: _plain(v) for k, v in row.items()} for row in rows]
    return (json.dumps(plain, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def kolada_json(scores: Sequence[Score], year: int, others: Sequence[OtherValue] = ()) -> bytes:
    """Kolada-shaped values: only measures that have a Kolada KPI id.

    The other measures' values (``others``) have no count: a reported figure, not a sample.
    """
    values = []
    for s in scores:
        kpi = MEASURES[s.measure_id].kolada_id
        if kpi is None or s.value is None:
            continue
        values.append(
            {
                "kpi": kpi,
                "municipality": s.kommunkod,
                "period": year,
                "values": [{"gender": "T", "value": s.value, "count": s.denominator}],
            }
        )
    for v in others:
        kpi = OTHER_MEASURES[v.measure_id].kolada_id
        if kpi is None:
            continue
        values.append(
            {
                "kpi": kpi,
                "municipality": v.kommunkod,
                "period": v.period if v.period is not None else year,
                "values": [{"gender": "T", "value": _number(v.value), "count": None}],
            }
        )
    return (json.dumps({"values": values}, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
