"""Exports for the KKiK submission and the municipality's own reporting (pure: bytes out).

One row per municipality and measure, with the Kolada id where one is known and our own id,
marked as such, where not. Writers return bytes; the caller decides where they go.

The other accessibility measures (opening hours, preschool, elderly housing; see
:mod:`results.other_measures`) are reported figures, not scores: their rows carry ``source``
``scenario`` or ``manual`` (scored rows: ``scored``), their ``unit``, and leave numerator,
denominator and interval empty, so they cannot be mistaken for a share of probes.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from typing import Any

from openpyxl import Workbook

from results.measures import MEASURES, OTHER_MEASURES
from results.other_measures import OtherValue
from results.scoring import Score
from results.spreadsheet import csv_writer, xlsx_append

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
)


def score_rows(
    scores: Sequence[Score],
    names: Mapping[str, str],
    year: int,
    edition: str,
    lang: str = "sv",
    others: Sequence[OtherValue] = (),
) -> list[dict[str, Any]]:
    """Scored rows, then (per municipality, after its scores) the ``others`` given."""
    rows = []
    for s in scores:
        measure = MEASURES[s.measure_id]
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
                "numerator": s.numerator,
                "denominator": s.denominator,
                "ci_low": s.ci_low,
                "ci_high": s.ci_high,
                "edition": edition,
                "unit": "percent",
                "source": "scored",
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
            }
        )
    # Stable: each municipality's scores keep their order and come before its other figures.
    return sorted(rows, key=lambda r: str(r["kommunkod"]))


def _number(value: float) -> int | float:
    """45.0 → 45, so whole figures read as whole numbers in every format."""
    return int(value) if float(value).is_integer() else value


def to_csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] = COLUMNS) -> bytes:
    """UTF-8 with a byte-order mark, so Excel opens å, ä and ö right; no cell is a formula."""
    buffer = io.StringIO()
    writer = csv_writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow("" if row.get(k) is None else row.get(k) for k in columns)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_json(rows: Sequence[Mapping[str, Any]]) -> bytes:
    return (json.dumps(list(rows), ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def to_xlsx(
    rows: Sequence[Mapping[str, Any]], columns: Sequence[str] = COLUMNS, sheet: str = "KKiK"
) -> bytes:
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = sheet
    xlsx_append(ws, columns)
    for row in rows:
        # A reply's sender name is the municipality's text: stored as text, never a formula.
        xlsx_append(ws, (row.get(k) for k in columns))
    ws.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


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
