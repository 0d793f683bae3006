"""Who answered, read from a reply's signature: name, title, phone and the unit's address.

The published servicemätning reported "andel fullständiga avsändaruppgifter": a reply that says
who wrote it (name), in what role (title) and how to reach them (a phone number). This reads a
proposal from the text written now (quotes dropped, :func:`probes.email_wording.new_text`); a
person confirms or corrects it in the dashboard or with ``kkik mail assess``, so a miss here
costs a click, never a wrong figure.

The signature is what follows the sign-off ("Med vänliga hälsningar", "Mvh", "--", "/Karin");
without one, the last paragraph when it names a person. In it, line by line,
each line split at ``,``, ``|`` and dashes between spaces:

- **name**: the first part of two to four capitalised words that names no organisation
  ("Karin Berg", "Anna-Lena Öberg"), also on the sign-off's own line ("Mvh Karin Berg");
- **title**: the first other part with an occupational word: a role ("handläggare",
  "bygglovshandläggare", "enhetschef", "kommunsekreterare", "socialsekreterare" …) or a Swedish
  occupational ending (-handläggare, -sekreterare, -samordnare, -chef, -ingenjör, -inspektör,
  -arkitekt, -strateg, -vägledare, -rådgivare …);
- **phone**: the first Swedish or international number (libphonenumber's matcher, region SE),
  preferring a direct or mobile number to the switchboard ("växel");
- **address**: a street and number ("Rådhusgatan 42"), a "Box 123", and a postal code with its
  town ("831 82 Östersund"), joined in the order written.

Pure: text in, a proposal out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers

from probes.email_wording import SIGN_OFFS, new_text

__all__ = [
    "NAME_WORD",
    "ORG_WORDS",
    "SIGN_OFF",
    "SenderDetails",
    "is_sign_off",
    "person_name",
    "sender_details",
    "split_signature",
]

SIGN_OFF = re.compile(
    r"^[\s/-]*(?:"
    + "|".join(re.escape(p) for p in sorted(SIGN_OFFS.phrases, key=len, reverse=True))
    + r")(?!\w)[\s,.!:]*",
    re.IGNORECASE,
)
NAME_WORD = re.compile(r"[A-ZÅÄÖÉÜ][a-zåäöéüæøß'’]+(?:-[A-ZÅÄÖÉÜ][a-zåäöéüæøß'’]+)?")
ORG_WORDS = re.compile(
    r"kommun|förvaltning|center|centret|tjänst|registr|enhet|avdelning|nämnd|kansli|växel"
    r"|team|support|administration|brevlåda|sektion|bygglov|kontor|service|region|info"
    r"|funktion|myndighet|verket|stab|diarie",
    re.IGNORECASE,
)
# Roles and occupational endings. A compound ends in one ("bygglovshandläggare"), so the
# pattern matches at the end of a word, not only as a whole word.
_TITLE = re.compile(
    r"(?:handläggare|sekreterare|samordnare|chef|ingenjör|inspektör|arkitekt|strateg|utvecklare"
    r"|assistent|administratör|rådgivare|vägledare|kurator|rektor|koordinator|planerare"
    r"|ansvarig|konsulent|jurist|ekonom|controller|registrator|pedagog|lärare|sköterska"
    r"|kommunikatör|biträde|tekniker|specialist|direktör|ombudsman|medarbetare|handledare"
    r"|utredare|granskare|förvaltare|arbetsledare|lantmätare|antikvarie|bibliotekarie"
    r"|officer|manager|advisor|coordinator|assistant)(?![a-zåäö])",
    re.IGNORECASE,
)
_PARTS = re.compile(r",|\||\s[–—-]\s|\t")
_STREET = re.compile(
    r"\b[A-ZÅÄÖ][\wåäöé.-]*(?:gatan|vägen|väg|gata|torget|torg|platsen|plan|gränd|backe|backen"
    r"|allé|alléen|stigen|leden|kajen|parken|esplanaden|stråket|gården)\s+\d+\s?[A-Za-z]?\b"
)
_BOX = re.compile(r"\bBox\s+\d+\b")
_POSTAL = re.compile(r"\b(?:SE-?)?\d{3}\s?\d{2}\s+[A-ZÅÄÖ][a-zåäöé]+(?:\s[A-ZÅÄÖ][a-zåäöé]+)?")
_SWITCHBOARD = re.compile(r"växel|vx\b|kontaktcenter|kundtjänst|reception", re.IGNORECASE)
_LABEL = re.compile(
    r"^\s*(?:tel(?:efon)?|telnr|mobil(?:telefon)?|direkt(?:nummer)?|mob|besöksadress|postadress"
    r"|adress|address|phone|mobile|e-?post|e-?mail)\s*[.:]?\s*",
    re.IGNORECASE,
)
MAX_SIGNATURE_LINES = 14


@dataclass(frozen=True)
class SenderDetails:
    """What the signature says of who answered; None where it says nothing."""

    name: str | None = None
    title: str | None = None
    phone: str | None = None  # as written
    phone_is_switchboard: bool = False
    address: str | None = None

    @property
    def complete(self) -> bool:
        """Name, title and a phone number: the published method's complete sender details."""
        return bool(self.name and self.title and self.phone)


def is_sign_off(line: str) -> bool:
    stripped = line.strip()
    return (
        stripped in ("--", "-- ")
        or (stripped.startswith("/") and 1 < len(stripped) < 40)
        or (SIGN_OFFS.starts(stripped.lstrip("/- ")))
    )


def split_signature(fresh: str) -> tuple[list[str], list[str]]:
    """(body lines, signature lines) of the text written now, split at the first sign-off."""
    lines = fresh.split("\n")
    cut = next((i for i, line in enumerate(lines) if is_sign_off(line)), len(lines))
    return lines[:cut], lines[cut:]


def person_name(part: str) -> str | None:
    """``part`` as a person's name ("Karin Berg"), or None when it is something else."""
    words = part.strip(" ./*_").split()
    if 2 <= len(words) <= 4 and all(NAME_WORD.fullmatch(w) for w in words):
        name = " ".join(words)
        if not ORG_WORDS.search(name) and not _TITLE.search(name):
            return name
    return None


def _signature(fresh: str) -> tuple[list[str], bool]:
    """The signature's lines, and whether a sign-off introduced them."""
    body, signature = split_signature(fresh)
    if signature:
        first = SIGN_OFF.sub("", signature[0].lstrip("/"), count=1)
        return [first, *signature[1:]][:MAX_SIGNATURE_LINES], True
    # No sign-off: the last paragraph, when it names a person (checked by the caller).
    paragraphs = "\n".join(body).strip().split("\n\n")
    last = paragraphs[-1].split("\n") if paragraphs else []
    return (last if len(last) <= MAX_SIGNATURE_LINES else []), False


def _phone(lines: list[str]) -> tuple[str | None, bool]:
    direct: str | None = None
    switchboard: str | None = None
    for line in lines:
        for match in phonenumbers.PhoneNumberMatcher(line, "SE"):
            if not phonenumbers.is_possible_number(match.number):
                continue
            if _SWITCHBOARD.search(line):
                switchboard = switchboard or match.raw_string
            else:
                direct = direct or match.raw_string
    if direct:
        return direct, False
    return switchboard, switchboard is not None


def _address(lines: list[str]) -> str | None:
    found: list[str] = []
    for line in lines:
        text = _LABEL.sub("", line)
        for pattern in (_STREET, _BOX, _POSTAL):
            for match in pattern.finditer(text):
                piece = " ".join(match.group(0).split())
                if piece not in found:
                    found.append(piece)
    return ", ".join(found) if found else None


def sender_details(text: str) -> SenderDetails:
    """The proposal for one reply's plain text (see the module docstring)."""
    fresh = new_text(text)
    signature, signed_off = _signature(fresh)
    lines = [line.strip() for line in signature if line.strip()]
    name = title = None
    for line in lines:
        for part in _PARTS.split(_LABEL.sub("", line)):
            part = part.strip()
            if not part:
                continue
            if name is None and (found := person_name(part)):
                name = found
            elif title is None and _TITLE.search(part) and len(part) <= 80:
                title = part.strip(" .")
    if not signed_off and name is None:
        return SenderDetails()  # the last paragraph was answer, not a signature
    phone, switchboard = _phone(lines)
    return SenderDetails(name, title, phone, switchboard, _address(lines))
