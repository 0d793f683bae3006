"""National reference figures: what the participating municipalities averaged (Part B §8).

Bundled as data with their source and how sure the source is (stated, inferred, uncertain);
the vendor's servicemätning figures are kept apart from KKiK's own (kind ``vendor_mean``).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class Reference:
    measure: str
    year: int
    value: int
    kind: str  # participant_mean | vendor_mean
    confidence: str  # stated | inferred | uncertain
    source: str


@cache
def bundled() -> tuple[Reference, ...]:
    text = resources.files("results").joinpath("data/reference.csv").read_text(encoding="utf-8")
    return tuple(
        Reference(
            r["measure"], int(r["year"]), int(r["value"]), r["kind"], r["confidence"], r["source"]
        )
        for r in csv.DictReader(text.splitlines())
    )


def reference_for(
    measure: str, year: int, figures: tuple[Reference, ...] | None = None
) -> Reference | None:
    """The latest national figure for ``measure`` published for ``year`` or before.

    When ``figures`` holds two for the same year, the first wins (imported before bundled).
    """
    candidates = [
        f for f in (figures if figures is not None else bundled())
        if f.measure == measure and f.year <= year
    ]  # fmt: skip
    best = max((f.year for f in candidates), default=None)
    return next((f for f in candidates if f.year == best), None)
