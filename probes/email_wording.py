"""Text helpers and the Swedish/English phrase lists the e-mail classifier relies on.

Every phrase list lives here so a reviewer can see, in one place, which wording turns a reply
into an out-of-office, a case-system receipt, a bounce or a holding reply. Phrases are written
in plain lower case and compared against :func:`normalise`-d text (casefolded, whitespace
folded), with word boundaries, so "ledig" never fires inside "tjänstledighet".

Municipal case systems (Public 360, Platina, Ciceron, Lex) and contact centres often send
receipts with no automatic header at all, which is why wording matters (peers.md §5.7).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = [
    "AUTO_MACHINE",
    "BOILERPLATE",
    "DELAY",
    "DELAY_SUBJECT_PREFIX",
    "HOLDING",
    "NONDELIVERY",
    "OOO_BODY",
    "OOO_SUBJECT",
    "OOO_SUBJECT_WEAK",
    "READ_RECEIPT_SUBJECT",
    "RECEIPT_STRONG",
    "RECEIPT_SUBJECT",
    "RECEIPT_WEAK",
    "SIGN_OFFS",
    "PhraseSet",
    "new_text",
    "normalise",
    "strip_reply_prefixes",
]


def normalise(text: str) -> str:
    """Casefold and fold whitespace (incl. no-break spaces) so phrase lists can be plain."""
    return " ".join(text.replace("’", "'").casefold().split())


class PhraseSet:
    """A list of phrases compiled into one word-bounded regex over normalised text."""

    def __init__(self, phrases: Iterable[str]) -> None:
        self.phrases = tuple(normalise(p) for p in phrases)
        alternation = "|".join(re.escape(p) for p in sorted(self.phrases, key=len, reverse=True))
        self._regex = re.compile(rf"(?<!\w)(?:{alternation})(?!\w)")

    def find(self, text: str) -> str | None:
        """The first phrase found in ``text`` (normalised here), or None."""
        hit = self._regex.search(normalise(text))
        return hit.group(0) if hit else None

    def starts(self, text: str) -> bool:
        """True when ``text`` begins with one of the phrases (used for subject prefixes)."""
        hit = self._regex.match(normalise(text))
        return hit is not None


# Bounce wording. Postfix delay warnings also say "could not be delivered", so the classifier
# checks DELAY before NONDELIVERY.
NONDELIVERY = PhraseSet(
    [
        "det gick inte att leverera",
        "kunde inte levereras",
        "meddelandet kunde inte levereras",
        "leveransen misslyckades",
        "olevererbart",
        "olevererbar",
        "undeliverable",
        "undelivered mail returned to sender",
        "delivery status notification (failure)",
        "mail delivery failed",
        "mail delivery failure",
        "delivery has failed",
        "delivery failure",
        "returned mail",
        "failure notice",
        "message not delivered",
        "could not be delivered",
        "address not found",
        "adressen hittades inte",
        "user unknown",
    ]
)
DELAY = PhraseSet(
    [
        "delivery status notification (delay)",
        "delayed mail",
        "delivery delayed",
        "delivery has been delayed",
        "message delayed",
        "still being retried",
        "this is a warning only",
        "leveransen är försenad",
        "leveransen har fördröjts",
        "leveransen är fördröjd",
        "fördröjd leverans",
        "försenad leverans",
    ]
)

# Exchange puts "Fördröjd:" in front of the original subject; alone the word is too common
# ("handläggningen är fördröjd") to be searched for anywhere else.
DELAY_SUBJECT_PREFIX = PhraseSet(["fördröjd", "fördröjt", "försenad", "delayed"])

# Out-of-office subjects: Outlook's "Automatiskt svar:" prefix and what Gmail users type.
OOO_SUBJECT = PhraseSet(
    [
        "automatiskt svar",
        "autosvar",
        "automatic reply",
        "auto reply",
        "auto-reply",
        "autoreply",
        "auto response",
        "autoresponse",
        "out of office",
        "out of the office",
        "abwesenheitsnotiz",
        "réponse automatique",
    ]
)
# These also name what a resident asks about ("Frånvaro i förskolan"), so they only count
# together with out-of-office wording in the text.
OOO_SUBJECT_WEAK = PhraseSet(["frånvaro", "frånvarande", "frånvaromeddelande", "på semester"])
OOO_BODY = PhraseSet(
    [
        "jag är ledig",
        "jag är på semester",
        "jag har semester",
        "jag är tillbaka den",
        "jag är tillbaka igen",
        "jag är tillbaka på",
        "jag är åter",
        "åter i tjänst",
        "åter på kontoret",
        "är inte på plats",
        "är inte på kontoret",
        "jag är tjänstledig",
        "jag är föräldraledig",
        "jag är sjukskriven",
        "jag är på tjänsteresa",
        "jag är frånvarande",
        "jag är borta",
        "begränsad tillgång till e-post",
        "begränsad tillgång till mejl",
        "i am out of the office",
        "i'm out of the office",
        "i am currently out of",
        "i am on vacation",
        "i am on leave",
        "i will be back",
        "i'll be back",
        "limited access to e-mail",
        "limited access to email",
    ]
)
READ_RECEIPT_SUBJECT = PhraseSet(["läst:", "oläst:", "ej läst:", "read:", "not read:"])

# Receipt wording that only a machine or a registry writes.
RECEIPT_STRONG = PhraseSet(
    [
        "har registrerats",
        "har diarieförts",
        "ditt ärende har",
        "ditt ärendenummer",
        "ärendenummer är",
        "ärendenumret är",
        "tilldelats ärendenummer",
        "fått ärendenummer",
        "vi har tagit emot ditt",
        "vi har tagit emot din",
        "vi har mottagit ditt",
        "vi har fått ditt",
        "har tagits emot",
        "mottagningsbekräftelse",
        "detta är en bekräftelse",
        "we have received your",
        "your case number",
    ]
)
# Wording a person writes too ("Tack för ditt mejl! Du behöver inte ..."); only counts as a
# receipt when nothing personal follows.
RECEIPT_WEAK = PhraseSet(
    [
        "tack för ditt mejl",
        "tack för ditt mail",
        "tack för ditt e-postmeddelande",
        "tack för ditt e-brev",
        "tack för ditt meddelande",
        "tack för din fråga",
        "tack för att du kontaktade",
        "tack för att du har kontaktat",
        "tack för att du hör av dig",
        "ärendenummer",
        "diarienummer",
        "bekräftelse",
        "thank you for your e-mail",
        "thank you for your email",
        "thank you for your message",
        "thank you for contacting",
    ]
)
RECEIPT_SUBJECT = PhraseSet(
    [
        *RECEIPT_STRONG.phrases,
        *("kvittens", "bekräftelse", "ärendenummer", "diarienummer", "ditt ärende"),
        *("ärende registrerat", "nytt ärende", "we have received", "confirmation"),
    ]
)
# Markers that say "a machine sent this", whatever else the text says.
AUTO_MACHINE = PhraseSet(
    [
        "automatiskt genererat",
        "automatiskt skickat",
        "detta är ett automatiskt",
        "detta är ett automatiserat",
        "svara inte på detta",
        "svara inte på det här",
        "går inte att svara på",
        "kan inte besvaras",
        "do not reply",
        "please do not reply",
        "automatically generated",
        "this is an automated",
    ]
)
HOLDING = PhraseSet(
    [
        "vi återkommer",
        "jag återkommer",
        "återkommer så snart",
        "återkommer till dig",
        "återkommer med svar",
        "har vidarebefordrat",
        "vidarebefordrat ditt",
        "vidarebefordrats till",
        "har skickat vidare",
        "har skickat din fråga",
        "har skickat ditt",
        "skickat den vidare",
        "lämnat över",
        "skickat vidare",
        "har lämnats över",
        "överlämnat ditt",
        "handläggaren kommer att kontakta",
        "handläggare kommer att kontakta",
        "kommer att kontakta dig",
        "hör av sig till dig",
        "kommer att besvaras",
        "forwarded your",
        "have forwarded",
        "will get back to you",
        "will be in touch",
    ]
)
# Sentences that carry no answer: greetings, courtesy, referrals for urgent matters.
BOILERPLATE = PhraseSet(
    [
        "tack för",
        "kontakta",
        "brådskande",
        "vänd dig",
        "vänligen",
        "i min frånvaro",
        "under min frånvaro",
        "under min ledighet",
        "besvaras av",
        "skickas till",
        "telefon",
        "tel",
        "växel",
        "öppettider",
        "urgent",
        "contact",
        "thank you",
    ]
)
SIGN_OFFS = PhraseSet(
    [
        "med vänlig hälsning",
        "med vänliga hälsningar",
        "vänlig hälsning",
        "vänliga hälsningar",
        "bästa hälsningar",
        "hälsningar",
        "hälsning",
        "mvh",
        "best regards",
        "kind regards",
        "regards",
        "sincerely",
    ]
)

# --- subjects ------------------------------------------------------------------------------------

_REPLY_PREFIX = re.compile(
    r"^\s*(?:(?:sv|re|vb|fw|fwd|aw|wg|tr|antw|rif|odp)\s*(?:\[\d+\]|\(\d+\))?\s*[:：]"
    r"|[\[(]\s*(?:extern|externt|external|ext|extern avsändare|external sender)\s*[\])]"
    r"|(?:extern|external)\s*:)\s*",
    re.IGNORECASE,
)


def strip_reply_prefixes(subject: str | None) -> str:
    """Subject without SV:/RE:/VB:/FW:/Fwd:/AW:/WG:/TR:, "Re[2]:" and [EXTERN]-style tags."""
    text = " ".join((subject or "").split())
    while True:
        stripped = _REPLY_PREFIX.sub("", text, count=1)
        if stripped == text:
            return text.strip()
        text = stripped


# --- quote stripping -----------------------------------------------------------------------------

_SEPARATOR = re.compile(
    r"^\W*(ursprungligt meddelande|originalmeddelande|original message|vidarebefordrat meddelande"
    r"|forwarded message|begin forwarded message|vidarebefordrat brev)\W*$",
    re.IGNORECASE,
)
_OUTLOOK_FROM = re.compile(r"^\W{0,2}(från|from|von)\W{0,2}:", re.IGNORECASE)
_OUTLOOK_NEXT = re.compile(
    r"^\W{0,2}(skickat|sent|datum|date|till|to|ämne|subject|gesendet)\W{0,2}:", re.IGNORECASE
)
_WROTE = re.compile(r"\b(skrev|wrote|schrieb)\b[^:]{0,160}:$", re.IGNORECASE)
# Receipts that echo the question under a plain heading instead of ">" quoting it.
_ECHO_HEADINGS = frozenset(
    {"ditt meddelande:", "ditt mejl:", "ditt ärende:", "du skrev:", "your message:"}
)


def _quote_starts_at(lines: list[str], i: int) -> bool:
    line = lines[i].strip()
    if not line:
        return False
    if _SEPARATOR.match(line) or normalise(line) in _ECHO_HEADINGS:
        return True
    if _OUTLOOK_FROM.match(line):
        return any(_OUTLOOK_NEXT.match(nxt.strip()) for nxt in lines[i + 1 : i + 4])
    if _is_wrote_line(line):
        return True
    # "Den mån 5 okt. 2026 kl 09:15 skrev Anna <\nanna@...>:" — Gmail wraps it over two lines.
    starts_like_one = re.match(r"(den|on|am|le)\b|\d", line, re.IGNORECASE) is not None
    return starts_like_one and i + 1 < len(lines) and _is_wrote_line(f"{line} {lines[i + 1]}")


def _is_wrote_line(line: str) -> bool:
    line = line.strip()
    return len(line) < 300 and re.search(r"\d", line) is not None and bool(_WROTE.search(line))


def new_text(text: str) -> str:
    """The part of a reply written now: drops ">" lines and everything after a quote header.

    Quote headers: Outlook's "Från:/Skickat:" (or "From:/Sent:") block, "-----Ursprungligt
    meddelande-----", "-----Original Message-----", Gmail's "Den ... skrev ...:" and
    "On ... wrote:", and receipt echoes under "Ditt meddelande:".
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    for i, line in enumerate(lines):
        if _quote_starts_at(lines, i):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line)
    # An Outlook separator line ("____") or a dangling "-- " belongs to the quote, not the reply.
    while kept and not re.search(r"[^\W_]", kept[-1]):
        kept.pop()
    return "\n".join(kept).strip()
