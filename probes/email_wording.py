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
    "CHALLENGE",
    "DELAY",
    "DELAY_SUBJECT_PREFIX",
    "DELAY_SYSTEM",
    "FEEDBACK_SUBJECT",
    "FINAL",
    "HOLDING",
    "NONDELIVERY",
    "NONDELIVERY_SYSTEM",
    "OOO_BODY",
    "OOO_SUBJECT",
    "OOO_SUBJECT_WEAK",
    "READ_RECEIPT_SUBJECT",
    "RECEIPT_STRONG",
    "RECEIPT_SUBJECT",
    "RECEIPT_WEAK",
    "SIGN_OFFS",
    "SUCCESS",
    "SUCCESS_SUBJECT_PREFIX",
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


# Bounce wording. These lists only refine a decision the sender and structure already carry
# (probes.email_classify): mail from a mail system is a bounce by default, and the wording says
# whether it is a delay, a success notice or a final failure. The languages are those Exchange,
# Gmail and the common MTAs write in Swedish organisations: Swedish, English, Norwegian, Danish,
# Finnish and German, with French, Dutch and Spanish for the odd foreign relay. Postfix delay
# warnings also say "could not be delivered", so the classifier weighs DELAY before NONDELIVERY,
# and FINAL (the text says it has given up) before DELAY.
NONDELIVERY = PhraseSet(
    [
        # Swedish
        "det gick inte att leverera",
        "kunde inte levereras",
        "meddelandet kunde inte levereras",
        "leveransen misslyckades",
        "leverans misslyckades",
        "olevererbart",
        "olevererbar",
        "adressen hittades inte",
        "mottagaren hittades inte",
        # English
        "undeliverable",
        "undelivered mail returned to sender",
        "undelivered mail",
        "delivery status notification (failure)",
        "mail delivery failed",
        "mail delivery failure",
        "delivery has failed",
        "delivery failure",
        "delivery to the following recipients failed",
        "delivery to the following recipient failed",
        "failed permanently",
        "returned mail",
        "returning message to sender",
        "failure notice",
        "message not delivered",
        "could not be delivered",
        "couldn't be delivered",
        "was not delivered",
        "wasn't delivered",
        "unable to deliver",
        "was unable to deliver",
        "wasn't able to deliver",
        "did not reach the following recipient",
        "did not reach some or all of the intended recipients",
        "your message did not reach",
        "address not found",
        "user unknown",
        "recipient address rejected",
        "host or domain name not found",
        # Norwegian and Danish
        "kan ikke leveres",
        "kunne ikke leveres",
        "ikke leveret",
        "ikke levert",
        "levering mislyktes",
        "levering mislykkedes",
        "kunne ikke afleveres",
        # Finnish
        "ei voitu toimittaa",
        "toimitus epäonnistui",
        "viestiä ei voitu toimittaa",
        # German
        "unzustellbar",
        "nicht zustellbar",
        "konnte nicht zugestellt werden",
        "zustellung fehlgeschlagen",
        "unzustellbare nachricht",
        # French, Dutch, Spanish
        "non remis",
        "non distribuable",
        "onbestelbaar",
        "kan niet worden bezorgd",
        "no se puede entregar",
        "no se pudo entregar",
    ]
)
DELAY = PhraseSet(
    [
        # English
        "delivery status notification (delay)",
        "delayed mail",
        "delivery delayed",
        "delivery has been delayed",
        "has been delayed",
        "message delayed",
        "still being retried",
        "will be retried",
        "will try again",
        "will keep trying",
        "will continue to try",
        "will continue trying",
        "attempts will continue",
        "not yet been delivered",
        "not been delivered yet",
        "not yet delivered",
        "this is a warning only",
        "this is a warning message only",
        "awaits moderator approval",
        "awaiting moderator approval",
        "held for moderation",
        # Swedish
        "leveransen är försenad",
        "leveransen har fördröjts",
        "leveransen är fördröjd",
        "fördröjd leverans",
        "försenad leverans",
        "har fördröjts",
        "har ännu inte levererats",
        "har inte levererats ännu",
        "kommer att försöka igen",
        "fortsätter att försöka",
        "väntar på godkännande",
        # Norwegian, Danish, Finnish, German, French, Dutch, Spanish
        "er ikke leveret endnu",
        "er ikke levert ennå",
        "toimitus viivästyy",
        "verzögerte zustellung",
        "noch nicht zugestellt",
        "wird erneut versucht",
    ]
)
# Words too common in ordinary mail to be read in anyone's subject ("Mötet är uppskjutet",
# "your application has been rejected"): only in the subject and text of a mail system's own
# message, where they refine a decision already made.
NONDELIVERY_SYSTEM = PhraseSet(
    [
        *NONDELIVERY.phrases,
        "har inte levererats",
        "kunde inte skickas",
        "okänd mottagare",
        "brevlådan är full",
        "delivery failed",
        "not delivered",
        "unknown user",
        "no such user",
        "mailbox unavailable",
        "mailbox not found",
        "mailbox is full",
        "recipient not found",
        "message rejected",
        "was rejected",
        "has been rejected",
    ]
)
DELAY_SYSTEM = PhraseSet(
    [
        *DELAY.phrases,
        "delayed",
        "postponed",
        "deferred",
        "forsinket",
        "forsinkelse",
        "viivästynyt",
        "verzögert",
        "retardé",
        "vertraagd",
        "retrasado",
        "försöker igen",
        "will retry",
        "still trying",
    ]
)
# The text says the system has stopped trying: final, whatever delay words it also uses
# ("...and has stopped trying", "this is a permanent error; I've given up"). Not "will give
# up": Exim's delay warning promises that for later.
FINAL = PhraseSet(
    [
        "permanent error",
        "permanent errors",
        "permanent failure",
        "permanent fatal error",
        "permanent fatal errors",
        "permanent fatal delivery errors",
        "permanent delivery failure",
        "removed from the mail queue",
        "removed from the queue",
        "deleted from the queue",
        "failed permanently",
        "permanently rejected",
        "fatal error",
        "given up",
        "gave up",
        "giving up",
        "stopped trying",
        "no further attempts",
        "will not be retried",
        "will not retry",
        "won't be retried",
        "not going to try again",
        "message expired",
        "permanent fel",
        "slutgiltigt",
        "har slutat försöka",
        "kommer inte att försöka igen",
        "permanenter fehler",
        "dauerhafter fehler",
        "pysyvä virhe",
    ]
)
# A mail system saying the message arrived: a success notice (auto_reply), never a bounce.
SUCCESS = PhraseSet(
    [
        "has been delivered",
        "have been delivered",
        "was delivered",
        "were delivered",
        "successfully delivered",
        "delivered successfully",
        "delivery to these recipients or groups is complete",
        "delivery to the following recipients succeeded",
        "delivery to the following recipient succeeded",
        "delivery succeeded",
        "has been relayed",
        "was relayed",
        "delivery status notification (success)",
        "delivery status notification (relay)",
        "successful mail delivery report",
        "leveransen till dessa mottagare eller grupper har slutförts",
        "meddelandet har levererats",
        "har levererats",
        "levererades",
        "leveransen lyckades",
        "levering til disse mottakerne eller gruppene er fullført",
        "er levert",
        "er blevet leveret",
        "on toimitettu",
        "wurde zugestellt",
        "zustellung erfolgreich",
    ]
)
# Exchange puts these before the original subject of a success notice.
SUCCESS_SUBJECT_PREFIX = PhraseSet(
    ["delivered:", "levererat:", "levert:", "leveret:", "toimitettu:", "zugestellt:", "relayed:"]
)
# Spam-complaint (feedback loop) reports that do not carry the ARF structure.
FEEDBACK_SUBJECT = PhraseSet(["complaint about message from", "abuse report", "spam report"])
# Challenge-response spam filters (Boxbe, Bluebottle, SpamArrest and the like): an automatic
# message asking us to prove we are a person before the mail is let through.
CHALLENGE = PhraseSet(
    [
        "confirm you are human",
        "confirm that you are human",
        "confirm you are a human",
        "confirm that you are a human",
        "verify you are human",
        "verify that you are human",
        "verify you are a human",
        "verify that you are a human",
        "prove you are human",
        "prove that you are human",
        "prove you are a human",
        "not a robot",
        "challenge-response",
        "challenge response",
        "sender verification",
        "please verify your email",
        "please verify your e-mail",
        "please confirm your email",
        "please confirm your e-mail",
        "awaiting your verification",
        "awaiting your confirmation",
        "i am protected by",
        "i'm protected by",
        "i use spam arrest",
        "spamarrest",
        "spam arrest",
        "boxbe",
        "bluebottle",
        "bekräfta att du är en människa",
        "bevisa att du är en människa",
        "bekräfta att du inte är en robot",
        "inte är en robot",
        "bestätigen sie, dass sie ein mensch sind",
    ]
)

# Exchange puts "Fördröjd:" in front of the original subject; alone the word is too common
# ("handläggningen är fördröjd") to be searched for anywhere else.
DELAY_SUBJECT_PREFIX = PhraseSet(
    ["fördröjd", "fördröjt", "försenad", "delayed", "forsinket", "viivästynyt", "verzögert"]
)

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
        "hör av oss",
        "vi hör av oss",
        "ska behandlas",
        "kommer att behandlas",
        "behandlas av",
        "återkommer efter",
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
