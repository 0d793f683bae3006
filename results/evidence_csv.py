"""Evidence from a CSV file, the input of ``kkik score --from-csv`` (pure: parses text only).

The file is UTF-8 with a header row naming exactly these columns, in any order:

=============  ==============================================================================
kommunkod      4-digit SCB kommunkod, kept as a string ("0180"), Part A "Results"
channel        ``email`` or ``phone``
probe_id       unique in the file
sent_at        ISO 8601 with a UTC offset: question accepted (e-mail) or dial started (phone)
answered_at    e-mail: arrival of the answer, ISO 8601 with offset; empty when none
harness_fault  ``true`` or ``false``: failed on our side, excluded from scoring (Part A)
mode           phone: ``bridged`` or ``automated``
outcome        phone: ``busy``, ``no_answer``, ``failed``, ``no_person`` or ``person``
person_at      phone: when a person was reached, ISO 8601 with offset; empty when never
direct_answer  phone: ``true``, ``false`` or empty (not yet assessed)
bemotande      phone: 0–3 (dålig, medelgod, god, mycket god, Part A "Phone") or empty
=============  ==============================================================================

A timestamp without an offset is an error, never assumed local: guessing its zone could move an
answer across a deadline. Fields that belong to the other channel are ignored (an export may fill
them), but every field a row's channel uses is checked. Every problem in the file is reported as
``line N, column NAME: problem (got "value")`` in one :class:`EvidenceError`, and nothing is scored
from a file with errors, so a half-read file can never produce plausible-looking scores.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from typing import Literal, cast

from results.scoring import Evidence, Mode, Outcome

__all__ = ["COLUMNS", "EvidenceError", "parse_evidence"]

COLUMNS = (
    "kommunkod",
    "channel",
    "probe_id",
    "sent_at",
    "answered_at",
    "harness_fault",
    "mode",
    "outcome",
    "person_at",
    "direct_answer",
    "bemotande",
)

_KOMMUNKOD = re.compile(r"[0-9]{4}")
_MODES = ("bridged", "automated")
_OUTCOMES = ("busy", "no_answer", "failed", "no_person", "person")


class EvidenceError(ValueError):
    """The file has problems; ``problems`` lists every one, in file order."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class _Row:
    """One data row's fields, collecting problems instead of stopping at the first."""

    def __init__(self, line: int, values: dict[str, str], problems: list[str]) -> None:
        self.line = line
        self.values = values
        self.problems = problems

    def fail(self, column: str, problem: str) -> None:
        self.problems.append(
            f'line {self.line}, column {column}: {problem} (got "{self.values[column]}")'
        )

    def choice(self, column: str, allowed: tuple[str, ...], *, required: bool) -> str | None:
        value = self.values[column]
        if value == "" and not required:
            return None
        if value not in allowed:
            self.fail(column, "must be one of " + "|".join(allowed))
            return None
        return value

    def boolean(self, column: str, *, required: bool) -> bool | None:
        value = self.choice(column, ("true", "false"), required=required)
        return None if value is None else value == "true"

    def instant(self, column: str, *, required: bool) -> datetime | None:
        value = self.values[column]
        if value == "":
            if required:
                self.fail(column, "is required")
            return None
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            self.fail(column, "is not an ISO 8601 timestamp")
            return None
        if parsed.tzinfo is None:
            self.fail(column, "needs a UTC offset, e.g. +01:00 or Z")
            return None
        return parsed


def parse_evidence(text: str) -> list[Evidence]:
    """Parse a whole evidence CSV; raise :class:`EvidenceError` listing every problem."""
    # Spreadsheet programs save UTF-8 with a byte-order mark; it is not part of the first name.
    text = text.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        raise EvidenceError(['line 1, column (header): the file is empty (got "")'])
    names = [h.strip() for h in header]
    problems: list[str] = []
    for name in names:
        if name not in COLUMNS:
            problems.append(f'line 1, column {name}: unknown column (got "{name}")')
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f'line 1, column {name}: appears more than once (got "{name}")')
    for name in COLUMNS:
        if name not in names:
            problems.append(f'line 1, column {name}: missing column (got "")')
    if problems:
        raise EvidenceError(problems)

    rows: list[Evidence] = []
    first_line: dict[str, int] = {}
    for fields in reader:
        line = reader.line_num
        if not fields or all(f.strip() == "" for f in fields):
            continue  # a blank line (often the last one) carries no evidence
        if len(fields) != len(names):
            problems.append(
                f"line {line}, column (row): has {len(fields)} fields, the header has "
                f'{len(names)} (got "{",".join(fields)}")'
            )
            continue
        row = _Row(line, {n: f.strip() for n, f in zip(names, fields, strict=True)}, problems)
        evidence = _parse_row(row, first_line)
        if evidence is not None:
            rows.append(evidence)
    if problems:
        raise EvidenceError(problems)
    return rows


def _parse_row(row: _Row, first_line: dict[str, int]) -> Evidence | None:
    before = len(row.problems)
    v = row.values
    kommunkod = v["kommunkod"]
    if not _KOMMUNKOD.fullmatch(kommunkod):
        row.fail("kommunkod", "must be a 4-digit kommunkod such as 0180")
    channel = row.choice("channel", ("email", "phone"), required=True)
    probe_id = v["probe_id"]
    if probe_id == "":
        row.fail("probe_id", "is required")
    elif probe_id in first_line:
        row.fail("probe_id", f"duplicate of line {first_line[probe_id]}")
    else:
        first_line[probe_id] = row.line
    sent_at = row.instant("sent_at", required=True)
    harness_fault = row.boolean("harness_fault", required=True)

    answered_at = person_at = None
    mode = outcome = None
    direct_answer: bool | None = None
    bemotande: int | None = None
    if channel == "email":
        answered_at = row.instant("answered_at", required=False)
        if sent_at is not None and answered_at is not None and answered_at < sent_at:
            row.fail("answered_at", "is before sent_at")
    elif channel == "phone":
        mode = row.choice("mode", _MODES, required=True)
        outcome = row.choice("outcome", _OUTCOMES, required=True)
        person_at = row.instant("person_at", required=False)
        if sent_at is not None and person_at is not None and person_at < sent_at:
            row.fail("person_at", "is before sent_at")
        direct_answer = row.boolean("direct_answer", required=False)
        raw = v["bemotande"]
        if raw != "":
            if raw in ("0", "1", "2", "3"):
                bemotande = int(raw)
            else:
                row.fail("bemotande", "must be 0, 1, 2 or 3 (or empty)")

    if len(row.problems) > before or channel is None or sent_at is None:
        return None
    assert harness_fault is not None  # required, and no new problem was recorded
    return Evidence(
        kommunkod=kommunkod,
        channel=cast(Literal["email", "phone"], channel),
        probe_id=probe_id,
        sent_at=sent_at,
        answered_at=answered_at,
        harness_fault=harness_fault,
        mode=cast(Mode | None, mode),
        outcome=cast(Outcome | None, outcome),
        person_at=person_at,
        direct_answer=direct_answer,
        bemotande=bemotande,
    )
