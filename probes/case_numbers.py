"""Case numbers (diarienummer, ärendenummer, ticket numbers) in municipal mail (pure).

Municipal case and contact-centre systems (Public 360, Platina, Ciceron, Lex, Artvise, Dynamics,
OTRS/Znuny, ServiceNow) register a resident's question and from then on speak of it by number:
"Diarienummer: KS 2025/0193" in the receipt, "[Ärende #2025-004211]" or "Svar i ärende KS
2025/0193" in the subject of the answer, which often drops every threading header. A number
found in a mail already matched to a question is stored with that question, and a later mail
that cites it is matched by it (probes.email_match).

Three shapes are recognised:

- a registry number, letters then year and serial: ``KS 2025/0193``, ``BN 2025-000123``,
  ``SBN-2025-1234`` (a date such as ``2025-10-07`` is never one: a third number group follows);
- a number after a label: ``Diarienummer: 2025/193``, ``Dnr KS 2025/0193``, ``ärendenummer
  4711``, ``Ärende nr 4711``, ``Case 123456``, ``Ticket#2025101010000123``, ``ref. 88213``;
- a number in a bracket tag of a subject: ``[#123]``, ``[Ärende #2025-004211]``, ``(Ärende 4711)``.

Numbers are normalised so the receipt's and the answer's spellings meet: upper case, no spaces,
leading zeros of each digit group dropped, "/" and "-" kept: ``KS 2025/0193`` -> ``KS2025/193``,
``#2025-004211`` -> ``2025-4211``, ``Ärende 4711`` -> ``4711``. A bare number needs three digits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["MAX_SCANNED", "cited", "find_case_numbers", "normalise_case_number"]

MAX_SCANNED = 20_000  # characters of a text searched: numbers are cited near the top

_LETTERS = r"[A-ZÅÄÖ]{1,6}"
# The year-and-serial body of a registry number; never followed by a third group (a date).
_SERIAL = r"(?:19|20)\d{2}\s?[/-]\s?\d{1,7}(?![/-]\d)(?!\d)"
_REGISTRY = re.compile(rf"(?<![\w/-])({_LETTERS}(?:[ -]{_LETTERS})?[ .-]?{_SERIAL})")
_LABEL = (
    r"(?:diarienummer|diarienr|dnr|d\.nr|ärendenummer|ärendenr|ärende-?id|ärende|ärendet"
    r"|case(?:\s?(?:number|no|id))?|ticket(?:\s?(?:number|no|id))?|referensnummer|referens"
    r"|ref|vårt\s+nr|ert\s+nr|sak(?:nummer)?)"
)
# Letters of a number are upper case even where the label is not ("ärende är 88213" is no
# "ÄR88213"), hence the case-sensitive group inside a case-insensitive pattern.
_TOKEN = (
    r"(?-i:[A-Z]{2,6})-?\d{3,}-(?-i:[A-Z0-9]{3,12})"
    rf"|(?:(?-i:{_LETTERS})[ -]?)?(?:{_SERIAL}|\d[\d/-]{{1,22}}\d)"
)
_LABELLED = re.compile(
    rf"(?<!\w){_LABEL}\.?\s*(?:nr\.?|nummer|no\.?)?\s*(?:är|is)?\s*[:.#]?\s*#?\s*"
    rf"({_TOKEN})(?![\w/]|-\w)",
    re.IGNORECASE,
)
_TAG = re.compile(r"[\[(][^\[\]()]{0,30}?#\s?([A-Za-z]{0,6}-?\d[\d/-]{1,22}\d)\s*[\])]")
_GROUP = re.compile(r"\d+|[^\d]+")


def normalise_case_number(raw: str) -> str | None:
    """The comparable form of one case number, or None when it cannot identify a case.

    Too short (a bare number of one or two digits) or a school year written like a registry
    number ("VT 2025/26", "HT 2025-2026") is no case number.
    """
    compact = re.sub(r"[\s.#]", "", raw).upper().strip("-/:")
    compact = re.sub(r"(?<=[A-ZÅÄÖ])-(?=\d)", "", compact)  # "SBN-2025-1" as "SBN 2025-1"
    if not compact or not any(c.isdigit() for c in compact):
        return None
    parts = [g.lstrip("0") or "0" if g.isdigit() else g for g in _GROUP.findall(compact)]
    value = "".join(parts)
    if value.isdigit() and len(value) < 3:
        return None
    year = re.search(r"((?:19|20)\d{2})[/-](\d{2}|\d{4})$", compact)
    if year and int(year.group(2)) % 100 == (int(year.group(1)) + 1) % 100:
        return None
    return value


def find_case_numbers(text: str) -> list[str]:
    """Every case number in ``text``, normalised, in order of first appearance."""
    scanned = text[:MAX_SCANNED]
    found: list[str] = []
    hits = [
        *((m.start(1), m.group(1)) for m in _REGISTRY.finditer(scanned)),
        *((m.start(1), m.group(1)) for m in _LABELLED.finditer(scanned)),
        *((m.start(1), m.group(1)) for m in _TAG.finditer(scanned)),
    ]
    for _, raw in sorted(hits):
        value = normalise_case_number(raw)
        if value is not None and value not in found:
            found.append(value)
    return found


def _pattern(number: str) -> re.Pattern[str]:
    """A regex finding ``number`` as written anywhere: spaces, zeros and separators vary."""
    pieces = []
    for group in _GROUP.findall(number):
        if group.isdigit():
            pieces.append(rf"0*{group}")
        elif group in ("/", "-"):
            pieces.append(r"\s?[/-]\s?")
        else:
            pieces.append(re.escape(group) + r"[ .-]?")
    return re.compile(r"(?<![\w/-])" + "".join(pieces) + r"(?![\w/]|-\d)", re.IGNORECASE)


def cited(text: str, numbers: Iterable[str]) -> list[str]:
    """The stored case numbers that ``text`` cites, however it spells them.

    A number with letters or a separator ("KS2025/193", "2025-4211") is distinctive wherever it
    stands; a bare number ("4711") only counts where the text presents it as a case number
    (after a label or in a tag), or it would match prices and phone numbers.
    """
    scanned = text[:MAX_SCANNED]
    wanted = list(numbers)
    if not wanted:
        return []
    presented = set(find_case_numbers(scanned))
    return [
        n
        for n in wanted
        if n in presented or (not n.isdigit() and _pattern(n).search(scanned) is not None)
    ]
