"""Evidence from a CSV file, the input of ``kkik score --from-csv`` (pure: parses text only).

The file has a header row naming exactly these columns, in any order:

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

Files saved by a spreadsheet program are read as they come (:func:`read_evidence`): UTF-8 with or
without a byte-order mark, UTF-16 with one, else Windows-1252 (what Swedish Excel writes for
"CSV"); commas, semicolons (Swedish Excel) or tabs between fields, told apart by the header line;
``bemotande`` may carry a decimal comma ("2,0"). A file that is not text, or whose fields do not
fit the CSV reader, raises :class:`UnreadableEvidence`, whose ``kind`` the command words in the
user's language (issue 15, L2).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from datetime import datetime
from typing import TYPE_CHECKING, Literal, cast

from results.scoring import Evidence, Mode, Outcome

if TYPE_CHECKING:
    from _csv import Reader

__all__ = [
    "COLUMNS",
    "EvidenceError",
    "UnreadableEvidence",
    "decode_evidence",
    "parse_evidence",
    "read_evidence",
]

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
# A spreadsheet may write the whole-number assessment with a decimal comma or point ("2,0").
_BEMOTANDE = re.compile(r"([0-3])(?:[.,]0+)?")
_DELIMITERS = (",", ";", "\t")
# Unicode's control characters (category Cc) except tab, line feed and carriage return.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_CONTROL_BYTE = re.compile(b"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_MODES = ("bridged", "automated")
_OUTCOMES = ("busy", "no_answer", "failed", "no_person", "person")


class EvidenceError(ValueError):
    """The file has problems; ``problems`` lists every one, in file order."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


UnreadableKind = Literal["not_text", "field_too_large", "csv_error"]


class UnreadableEvidence(ValueError):
    """The file cannot be read as CSV text at all; nothing in it is scored.

    ``kind`` is ``not_text`` (binary data or bytes no supported encoding decodes),
    ``field_too_large`` (a field beyond the CSV reader's limit, ``limit`` characters) or
    ``csv_error`` (``detail`` is the reader's message); ``line`` is where it was found.
    """

    def __init__(
        self, kind: UnreadableKind, line: int, *, limit: int = 0, detail: str = ""
    ) -> None:
        super().__init__(f"line {line}: {kind} {detail}".strip())
        self.kind: UnreadableKind = kind
        self.line = line
        self.limit = limit
        self.detail = detail


def decode_evidence(data: bytes) -> str:
    """The text of an evidence file, whichever encoding a spreadsheet program saved it in.

    A byte-order mark decides (UTF-8 or UTF-16); without one, UTF-8 if the bytes are valid
    UTF-8, else Windows-1252. A file with control characters other than tab and line breaks,
    or with bytes the chosen encoding cannot decode, is not text: :class:`UnreadableEvidence`.
    """
    marked = next((name for bom, name in _BYTE_ORDER_MARKS if data.startswith(bom)), None)
    text: str | None = None
    failed_at = 0
    for encoding in [marked] if marked else ["utf-8", "cp1252"]:
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError as exc:
            failed_at = exc.start
    if text is None:
        # The first sign of binary data: a control byte before the undecodable one, if any.
        control_byte = _CONTROL_BYTE.search(data, 0, failed_at)
        at = control_byte.start() if control_byte else failed_at
        raise UnreadableEvidence("not_text", data.count(b"\n", 0, at) + 1)
    text = text.removeprefix("\ufeff")
    # Windows-1252 decodes almost any byte, so a binary file is told by what it holds: NUL and
    # other control characters never stand in a CSV file (UTF-16 without a byte-order mark
    # lands here too, on its NUL bytes).
    control = _CONTROL.search(text)
    if control:
        raise UnreadableEvidence("not_text", text.count("\n", 0, control.start()) + 1)
    return text


def read_evidence(data: bytes) -> list[Evidence]:
    """Decode and parse a whole evidence file (see :func:`decode_evidence`)."""
    return parse_evidence(decode_evidence(data))


def _delimiter(text: str) -> str:
    """The separator that makes the most known column names of the header line (comma on a tie).

    Swedish Excel separates with semicolons (the comma is the decimal sign); read as commas, such
    a header would be one unknown column and eleven missing ones.
    """
    first = text.split("\n", 1)[0]

    def known(delimiter: str) -> int:
        try:
            names = next(csv.reader([first], delimiter=delimiter), [])
        except csv.Error:  # e.g. a header beyond the field limit: reported when parsed
            return 0
        return len({n.strip() for n in names} & set(COLUMNS))

    return max(_DELIMITERS, key=known)


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
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    header = _next(reader)
    if header is None:
        raise EvidenceError(['line 1, column (header): the file is empty (got "")'])
    names = [h.strip() for h in header]
    if not set(names) & set(COLUMNS):
        # Another kind of file altogether: one line instead of one per missing column.
        shown = reader.dialect.delimiter.join(header)
        shown = shown if len(shown) <= 80 else shown[:77] + "..."
        problem = "names no evidence column; see docs/scoring.md"
        raise EvidenceError([f'line 1, column (header): {problem} (got "{shown}")'])
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
    while (fields := _next(reader)) is not None:
        line = reader.line_num
        if not fields or all(f.strip() == "" for f in fields):
            continue  # a blank line (often the last one) carries no evidence
        if len(fields) != len(names):
            problems.append(
                f"line {line}, column (row): has {len(fields)} fields, the header has "
                f'{len(names)} (got "{reader.dialect.delimiter.join(fields)}")'
            )
            continue
        row = _Row(line, {n: f.strip() for n, f in zip(names, fields, strict=True)}, problems)
        evidence = _parse_row(row, first_line)
        if evidence is not None:
            rows.append(evidence)
    if problems:
        raise EvidenceError(problems)
    return rows


def _next(reader: Reader) -> list[str] | None:
    """The next row, or None at the end; the reader's own errors as :class:`UnreadableEvidence`."""
    try:
        return next(reader, None)
    except csv.Error as exc:
        # The line the reader stopped on; a field that never ends runs to the end of the file.
        line = reader.line_num or 1
        limit = csv.field_size_limit()
        if "field larger than field limit" in str(exc):
            raise UnreadableEvidence("field_too_large", line, limit=limit) from None
        raise UnreadableEvidence("csv_error", line, detail=str(exc)) from None


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
            if match := _BEMOTANDE.fullmatch(raw):
                bemotande = int(match.group(1))
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
