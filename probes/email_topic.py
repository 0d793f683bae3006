"""Does a reply talk about the same thing as one of our questions? (pure)

A case officer who answers from a case system often writes a new mail with a subject of her own
("Läckande brandpost Kyrkgatan 12") and no threading at all. What ties it to our question is
what it talks about: the question's distinctive terms, its street names and numbers, place
names and rare words. A term's weight is its rarity across a collection of question texts (the
question bank and the questions now open): a word that many questions use ("bygglov", "barn")
says little, one that only this question uses says a lot. :func:`TopicIndex.fit` sums the
weights of the question's terms that the reply repeats; the question *fits* when the sum reaches
:data:`FIT_WEIGHT`, about two terms found in at most two questions each, and one of the shared
terms is specific: a street address, a proper name or a long compound word.

Whether a fit becomes a match is the matcher's decision (probes.email_match): only when exactly
one open question to that municipality fits, otherwise every fitting question is a candidate
for a person to choose from.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

from probes.email_wording import SIGN_OFFS

__all__ = ["FIT_WEIGHT", "MIN_COLLECTION", "TopicIndex", "terms"]

# Rarity is computed as if the collection held at least this many questions, so that with only
# a few questions at hand (``kkik mail classify`` with two probes) a shared everyday word does
# not look rare.
MIN_COLLECTION = 20
FIT_WEIGHT = 2 * math.log(1 + MIN_COLLECTION / 2)
MAX_TEXT = 20_000  # characters of a reply read: the topic is stated at the top

# Function words and the words every resident question and every answer use. Rarity weighting
# would discount most of them in a large collection; the list keeps a small one honest.
_STOPWORDS = frozenset(
    """
    alla allt alltså andra att av bara bli blir blev bör både där då dem den denna deras dess
    det detta dig din dina ditt du efter eftersom ej eller en ena end er era ert ett fast finns
    flera fler från får fått för före ganska genom gjorde gäller göra gör ha hade han har hela
    hellre helst hen henne hennes hit hon honom hur här hos i idag igen ingen inget inom inte
    jag ja kan kanske kommer kunde kunna kan man mellan men mer mig min mina mitt mot mycket
    måste ni nog nu när någon något några och också om oss på redan rätt sedan sig sin sina sitt
    själv ska skall skulle som så sådan sådant till tills tack under upp ut utan vad var vara
    varför varit vars vem vi vid vilka vilken vilket vill våra vårt än ännu är även åt över
    hej hejsan hälsning hälsningar vänlig vänliga vänligen mvh med fråga frågan frågor undrar
    undra svar svara svaret kommun kommunen kommunens mejl mail mailet mejlet email meddelande
    the and for with that this you your our are was have has not from but about would could
    hello dear regards thanks thank please question answer
    """.split()  # noqa: SIM905 - a word list reads better as prose
)
_WORD = re.compile(r"[^\W\d_]{3,}(?:-[^\W\d_]{2,})*|\d{1,4}[a-zA-Z]?(?![\d/:.,-]\d)", re.UNICODE)
_SUFFIXES = ("arnas", "ernas", "ornas", "arna", "erna", "orna", "ande", "ende", "ens", "ets")
_SHORT_SUFFIXES = ("en", "et", "na", "ar", "er", "or", "s")


@lru_cache(maxsize=50_000)
def _stem(word: str) -> str:
    """A light Swedish stem, so "brandposten" meets "brandpost" and "läcker" meets "läckande"."""
    for suffix in _SUFFIXES:
        if len(word) - len(suffix) >= 4 and word.endswith(suffix):
            return word[: -len(suffix)]
    for suffix in _SHORT_SUFFIXES:
        if len(word) - len(suffix) >= 5 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


_STREET = re.compile(r"(?:gatan|vägen|gränd|stigen|backen|torget|allén|leden|plan)$")
SPECIFIC_LENGTH = 9  # letters of a word specific enough on its own (Swedish compounds)


def _scan(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """(terms, specific terms) of a text; see :func:`terms`.

    Specific terms name the matter itself: a street with its number, a proper name (written
    with a capital inside a sentence: "Järpen", "Kyrkgatan") or a long compound word
    ("brandposten", "förskoleplats"). A reply must share one of them to fit a question: shared
    everyday words ("söka bygglov", "hus") are what a newsletter has in common with it too.
    """
    found: set[str] = set()
    specific: set[str] = set()
    street = ""
    for hit in _WORD.finditer(text[:MAX_TEXT]):
        token = hit.group(0)
        folded = token.casefold()
        if folded[0].isdigit():
            if street:
                found.add(f"{street} {folded}")
                specific.add(f"{street} {folded}")
            street = ""
            continue
        street = ""
        if folded in _STOPWORDS:
            continue
        stem = _stem(folded)
        found.add(stem)
        before = text[: hit.start()].rstrip()[-1:]
        proper = token[0].isupper() and before not in ("", ".", "!", "?", "\n", ":", '"', "”")
        if proper or len(folded) >= SPECIFIC_LENGTH:
            specific.add(stem)
        if _STREET.search(folded):
            street = folded  # a street: the number that follows makes an address
    return frozenset(found), frozenset(specific)


_GREETING = re.compile(r"^\s*(?:hej|hejsan|hallå|god\s+\w+|hello|hi|dear)\b[^\n]{0,40}$", re.I)
_NAME_LINE = re.compile(r"^\s*[A-ZÅÄÖÉ][\w'’-]+(?:\s+[A-ZÅÄÖÉ][\w'’-]+){0,3}\s*$")


def _content(text: str) -> str:
    """The text without its greeting and signature: the names in "Hej Erik!" and "Vänliga
    hälsningar, Helena Strand" are the correspondents', not what the mail is about, and the
    same resident's name would otherwise tie a reply to every question she asked."""
    lines = text[:MAX_TEXT].splitlines()
    # The greeting opens the text, which may follow a subject line.
    opening = [i for i, line in enumerate(lines) if line.strip()][:3]
    lines = [line for i, line in enumerate(lines) if i not in opening or not _GREETING.match(line)]
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped in ("--", "-- ") or SIGN_OFFS.starts(stripped.lstrip("/- ")):
            lines = lines[:i]
            break
    while lines and not lines[-1].strip():
        lines.pop()
    if lines and _NAME_LINE.match(lines[-1]) and len(lines[-1]) < 40:
        lines.pop()  # a bare name under the text: "Tack för svar!\nErik Holm"
    return "\n".join(lines)


def terms(text: str) -> frozenset[str]:
    """The content terms of a text (without greeting and signature): stemmed words that are not
    stopwords, and a street name with its number ("kyrkgatan 12") as one term. Bare numbers are
    too common to be terms."""
    return _scan(_content(text))[0]


@lru_cache(maxsize=4096)
def _question_terms(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """Questions are few and read again for every reply; replies are read once."""
    return _scan(_content(text))


class TopicIndex:
    """Term rarity over a collection of question texts (duplicates counted once)."""

    def __init__(self, documents: Iterable[str]) -> None:
        unique = {" ".join(d.split()) for d in documents if d.strip()}
        self.size = len(unique)
        self._df: Counter[str] = Counter()
        for document in unique:
            self._df.update(_question_terms(document)[0])

    def weight(self, term: str) -> float:
        """ln(1 + N / df): 3.0 for a term of one question in twenty, 0.7 for one in all."""
        n = max(self.size, MIN_COLLECTION)
        return math.log(1 + n / max(self._df.get(term, 0), 1))

    def fit(self, question: str, reply: frozenset[str]) -> float:
        """The summed weight of the question's terms that the reply's ``terms`` repeat, or 0
        when none of them is specific (see :func:`_scan`)."""
        words, specific = _question_terms(question)
        shared = words & reply
        if not shared & specific:
            return 0.0
        return sum(self.weight(t) for t in shared)
