"""Kolada-shaped reference data: read it (pure) from the API's JSON or from a simple CSV.

Kolada API v3 answers ``{"values": [{"kpi", "municipality", "period", "values": [{"gender",
"count", "value", "isdeleted"}]}]}``; only the total (``gender == "T"``) is kept, and values
marked ``isdeleted`` (v3; the flag is read on the value and, defensively, on the record) or
``null`` are skipped. A CSV needs the columns ``kpi, municipality, period, value`` (and
optionally ``count``).
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from typing import Any


class KoladaFormatError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class KoladaValue:
    kpi: str
    municipality: str
    period: int
    value: float
    count: int | None


def parse_kolada_json(text: str) -> list[KoladaValue]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise KoladaFormatError([f"not JSON: {exc.msg} (line {exc.lineno})"]) from None
    items = data.get("values") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise KoladaFormatError(['expected {"values": [...]} as the Kolada API returns'])
    return parse_kolada_records(items)


def parse_kolada_records(items: list[Any]) -> list[KoladaValue]:
    """The records of one API answer's ``values`` list (as used by the Kolada API client)."""
    found: list[KoladaValue] = []
    problems: list[str] = []
    for n, item in enumerate(items, 1):
        try:
            found += _item(item)
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            problems.append(f"values[{n}]: {exc}")
    if problems:
        raise KoladaFormatError(problems)
    return found


def _item(item: Any) -> list[KoladaValue]:
    kpi, municipality, period = str(item["kpi"]), str(item["municipality"]), int(item["period"])
    _check(kpi, municipality)
    if _is_deleted(item.get("isdeleted")):
        return []
    out = []
    for entry in item["values"]:
        if entry.get("gender", "T") != "T" or entry.get("value") is None:
            continue
        if _is_deleted(entry.get("isdeleted")):
            continue
        count = entry.get("count")
        out.append(
            KoladaValue(
                kpi, municipality, period, float(entry["value"]), int(count) if count else None
            )
        )
    return out


def _is_deleted(flag: Any) -> bool:
    """``isdeleted`` as v3 sends it (a boolean); 1 and "true" are read the same way."""
    if isinstance(flag, str):
        return flag.strip().lower() in {"true", "1"}
    return bool(flag)


def parse_kolada_csv(text: str) -> list[KoladaValue]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = {"kpi", "municipality", "period", "value"} - set(reader.fieldnames or ())
    if missing:
        raise KoladaFormatError([f"missing columns: {', '.join(sorted(missing))}"])
    found, problems = [], []
    for row in reader:
        line = reader.line_num
        try:
            _check(row["kpi"], row["municipality"])
            count = (row.get("count") or "").strip()
            found.append(
                KoladaValue(
                    row["kpi"].strip(),
                    row["municipality"].strip(),
                    int(row["period"]),
                    float(row["value"].replace(",", ".")),
                    int(count) if count else None,
                )
            )
        except (ValueError, TypeError) as exc:
            problems.append(f"line {line}: {exc}")
    if problems:
        raise KoladaFormatError(problems)
    return found


def _check(kpi: str, municipality: str) -> None:
    if not re.fullmatch(r"[A-Z]\d{5}", kpi.strip()):
        raise ValueError(f"not a Kolada KPI id: {kpi!r}")
    if not re.fullmatch(r"\d{4}", municipality.strip()):
        raise ValueError(f"not a kommunkod: {municipality!r}")
