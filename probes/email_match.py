"""Which of our questions a received mail belongs to.

Pure: :func:`match_reply` looks only at the parsed mail and the probes it is given. Signals, in
order of strength (the first that fires decides):

==========================  ==========  ========================================================
matched_by                  confidence  signal
==========================  ==========  ========================================================
``in_reply_to``             1.0         In-Reply-To holds one of our Message-IDs
``bounce_original``         1.0         the mail encloses or quotes our message (a bounce, an
                                        MDN, a complaint): a link, never an answer
``references``              0.95        References holds one of our Message-IDs
``reply_token``             0.95        our plus-address token in To/Cc/Delivered-To/X-Original-To
``case_number``             0.9         cites a case number stored with the probe (from a
                                        receipt or reply already matched to it)
``thread_topic``            0.85        Outlook's Thread-Topic equals our subject
``quoted_text_and_domain``  0.85        the text quotes the question
``subject_and_domain``      0.8         same subject, after reply prefixes and case or ticket
                                        tags ("[Ärende #2025-004211]", "Ärende 4711:") are removed
``subject_contained``       0.75        our subject inside theirs ("Svar i ärende KS 2025/0193 -
                                        <our subject>")
``topic``                   0.75        repeats the question's distinctive terms, and it is the
                                        only question to that municipality that fits (when
                                        none fits, those sharing a place or street name with it
                                        are listed as candidates for review)
``subject_only``            0.5         same subject (or Thread-Topic) from any other domain
==========================  ==========  ========================================================

The signals from ``case_number`` down are weak: they only consider probes sent strictly before
the mail arrived (the newest Received: time, else Date: allowing :data:`DATE_SKEW` for the
sender's clock; a mail with neither time is not excluded), and all but ``subject_only`` only
senders (From or Sender) in the target's domains. When several probes tie on the best weak
signal the result names no probe: ``probe_id`` is None, ``confidence`` 0.0, ``matched_by`` the
tied signal and ``candidates`` the tied probe ids, for a person to decide. The topic is weighed
only when no other signal from the target's domains fired (probes.email_topic). ``needs_review``
is True when the confidence is below ``review_below`` or the result is ambiguous or empty.

Whether a matched mail *counts* as the answer is not decided here (results.answer_rule): a
``bounce_original`` link never does.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

from probes.case_numbers import cited
from probes.email_parse import ParsedMail, arrival_time, normalise_message_id, strip_reply_prefixes
from probes.email_topic import FIT_WEIGHT, TopicIndex, terms
from probes.email_wording import new_text
from results.answer_rule import REVIEW_BELOW

__all__ = ["DATE_SKEW", "Match", "ProbeRef", "TopicIndex", "match_reply", "subject_key"]

DATE_SKEW = timedelta(minutes=10)
SHINGLE = 8  # words per shingle when looking for the quoted question
SHINGLE_HITS = 3
SENTENCE_COVER = 0.6  # share of the longest question sentence's word triples found in the reply
MAX_WORDS = 50_000  # reply words compared; a longer mail is cut
MAX_TOPIC = 20_000  # characters of a reply weighed for its topic

# Prefixes automatic messages put before the original subject, stripped for matching only.
_AUTO_PREFIX = re.compile(
    r"^\s*(?:automatiskt svar|autosvar|automatic reply|auto reply|autoreply|out of office"
    r"|undeliverable|olevererbart|det gick inte att leverera|läst|oläst|ej läst|read|not read"
    r"|fördröjd|fördröjt|delayed|delivery delayed|bekräftelse|kvittens|frånvaro)\s*:\s*",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ProbeRef:
    """What the matcher needs to know about one question we sent."""

    id: int
    message_id: str  # our Message-ID, with <>
    reply_token: str | None  # the plus-address token: local+TOKEN@domain
    reply_address: str
    target_address: str
    target_domains: tuple[str, ...]  # subdomains of these count too
    subject: str
    body: str
    sent_at: datetime  # aware
    # Case numbers the municipality gave this question (a receipt's diarienummer), normalised.
    case_numbers: tuple[str, ...] = ()
    # The campaign's own closed days: the question's working time is counted without them.
    closed_days: frozenset[date] = frozenset()


@dataclass(frozen=True)
class Match:
    probe_id: int | None
    confidence: float
    matched_by: str | None
    needs_review: bool
    candidates: tuple[int, ...] = ()


def _domain(address: str | None) -> str:
    return (address or "").rpartition("@")[2].casefold().strip(".")


def _in_domains(domain: str, domains: Sequence[str]) -> bool:
    if not domain:
        return False
    wanted = (d.casefold().strip(".") for d in domains)
    return any(domain == d or domain.endswith("." + d) for d in wanted if d)


# Case and ticket tags case systems add to a subject, anywhere in it: "[Ärende #2025-004211]",
# "(Ärende 4711)", "[#123]", "(ref:_00D1x._5004x:ref)", "Ärende 4711:", "Dnr KS 2025/0193 -",
# "Ticket#2025101010000123". Only tags that hold a digit are removed, so "[EXTERN]" style
# markers are left to strip_reply_prefixes.
_CASE_WORD = (
    r"(?:ärende(?:nummer|nr)?|ärendet|diarienummer|diarienr|dnr|case|ticket|ref|referens"
    r"|sak|request|incident|inc|sr)"
)
_CASE_TAGS = re.compile(
    r"[\[(][^\[\]()]{0,60}?\d[^\[\]()]{0,60}?[\])]"
    rf"|(?<!\w){_CASE_WORD}\.?\s*(?:nr\.?|nummer|no\.?)?\s*[:#]?\s*#?\s*"
    r"(?:[A-ZÅÄÖ]{1,6}[ -]?)?\d[\d/-]*\d?(?:\s*[:–-](?=\s)|(?=\s|$))"
    r"|(?<!\w)#\d{2,}(?!\w)",
    re.IGNORECASE,
)
MIN_CONTAINED = 12  # characters our subject needs to be found inside another


@lru_cache(maxsize=100_000)
def subject_key(subject: str | None) -> str:
    """A subject without reply, forward, automatic prefixes and case tags, casefolded."""
    text = subject or ""
    while True:
        stripped = _AUTO_PREFIX.sub("", strip_reply_prefixes(text), count=1)
        stripped = _CASE_TAGS.sub(" ", stripped)
        stripped = re.sub(r"^[\s:–-]+|[\s:–-]+$", "", " ".join(stripped.split()))
        if stripped == text:
            return " ".join(text.casefold().split())
        text = stripped


def _contains(theirs: str, ours: str) -> bool:
    """Our (distinctive enough) subject key inside theirs, on word boundaries."""
    if len(ours) < MIN_CONTAINED or len(ours.split()) < 2 or ours == theirs:
        return False
    return re.search(rf"(?<!\w){re.escape(ours)}(?!\w)", theirs) is not None


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.casefold())[:MAX_WORDS]


def _grams(words: list[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


class _Reply:
    """The reply's words, with n-gram sets built once and only when a probe needs them."""

    def __init__(self, text: str) -> None:
        self.words = _words(text)
        self._grams: dict[int, set[tuple[str, ...]]] = {}

    def grams(self, n: int) -> set[tuple[str, ...]]:
        if n not in self._grams:
            self._grams[n] = _grams(self.words, n)
        return self._grams[n]


def _quotes(reply: _Reply, question: str) -> bool:
    """True when the reply repeats a distinctive part of the question (quoted or echoed)."""
    shingles = _grams(_words(question), SHINGLE)
    if shingles and len(shingles & reply.grams(SHINGLE)) >= min(SHINGLE_HITS, len(shingles)):
        return True
    sentences = [_words(s) for s in re.split(r"(?<=[.!?])\s+|\n", question)]
    longest = max(sentences, key=len, default=[])
    triples = _grams(longest, 3)
    if len(longest) < 6 or not triples:
        return False
    return len(triples & reply.grams(3)) / len(triples) >= SENTENCE_COVER


def _by_id(mail: ParsedMail, probes: Sequence[ProbeRef]) -> tuple[ProbeRef, str, float] | None:
    ours = {(normalise_message_id(p.message_id) or "").casefold(): p for p in probes}
    ours.pop("", None)
    for message_id in mail.in_reply_to:
        if message_id.casefold() in ours:
            return ours[message_id.casefold()], "in_reply_to", 1.0
    original = (mail.original_message_id or "").casefold()
    if original in ours:
        return ours[original], "bounce_original", 1.0
    for message_id in reversed(mail.references):  # the newest reference is the likeliest
        if message_id.casefold() in ours:
            return ours[message_id.casefold()], "references", 0.95
    return None


def _by_token(mail: ParsedMail, probes: Sequence[ProbeRef]) -> list[ProbeRef]:
    found: dict[int, ProbeRef] = {}
    for address in (*mail.to, *mail.cc, *mail.delivered_to):
        local = address.partition("@")[0]
        if "+" not in local:
            continue
        token = local.partition("+")[2].casefold()
        owners = [p for p in probes if p.reply_token and p.reply_token.casefold() == token]
        if len(owners) == 1:  # a token shared by two probes identifies neither
            found[owners[0].id] = owners[0]
    return list(found.values())


def _arrived(mail: ParsedMail) -> tuple[datetime | None, timedelta]:
    received = arrival_time(mail)
    return (received, timedelta(0)) if received else (mail.date, DATE_SKEW)


def _weak(
    mail: ParsedMail, probes: Sequence[ProbeRef], topics: TopicIndex | None
) -> list[tuple[float, str, ProbeRef]]:
    arrived, skew = _arrived(mail)
    senders = {_domain(mail.from_address), _domain(mail.sender)} - {""}
    key = subject_key(mail.subject)
    topic_key = subject_key(mail.header("thread-topic"))
    reply = _Reply(mail.text or "")
    cited_text = f"{mail.subject or ''}\n{mail.text or ''}"
    scored: list[tuple[float, str, ProbeRef]] = []
    unsignalled: list[ProbeRef] = []  # from the target's domains, no signal yet: topic?
    for probe in probes:
        if arrived is not None and arrived + skew <= probe.sent_at:
            continue  # a reply arrives after the question, never before or at the same instant
        ours = subject_key(probe.subject)
        same_subject = bool(key) and key == ours
        same_topic = bool(topic_key) and topic_key == ours
        if any(_in_domains(d, probe.target_domains) for d in senders):
            if probe.case_numbers and cited(cited_text, probe.case_numbers):
                scored.append((0.9, "case_number", probe))
            elif same_topic:
                scored.append((0.85, "thread_topic", probe))
            elif _quotes(reply, probe.body):
                scored.append((0.85, "quoted_text_and_domain", probe))
            elif same_subject:
                scored.append((0.8, "subject_and_domain", probe))
            elif bool(key) and _contains(key, ours):
                scored.append((0.75, "subject_contained", probe))
            else:
                unsignalled.append(probe)
        elif same_subject or same_topic:
            scored.append((0.5, "subject_only", probe))
    # A newsletter shares words with a question too; only a personal mail can be an answer.
    bulk = mail.header("list-id") is not None or mail.header("list-unsubscribe") is not None
    if unsignalled and not bulk and not any(confidence > 0.5 for confidence, _, _ in scored):
        scored += _by_topic(mail, unsignalled, probes, topics)
    return scored


def _by_topic(
    mail: ParsedMail,
    candidates: Sequence[ProbeRef],
    probes: Sequence[ProbeRef],
    topics: TopicIndex | None,
) -> list[tuple[float, str, ProbeRef]]:
    """Every candidate whose question the reply's own words fit (see probes.email_topic), at
    0.75; when none fits, those that share a specific term with it (a place, a street) at 0.0:
    not a match, but the questions a person should choose from."""
    index = topics or TopicIndex(f"{p.subject}\n{p.body}" for p in probes)
    words = terms(f"{mail.subject or ''}\n{new_text((mail.text or '')[:MAX_TOPIC])}")
    if not words:
        return []
    weighed = [(index.fit(f"{p.subject}\n{p.body}", words), p) for p in candidates]
    fits = [(0.75, "topic", p) for weight, p in weighed if weight >= FIT_WEIGHT]
    return fits or [(0.0, "topic", p) for weight, p in weighed if weight > 0]


def match_reply(
    mail: ParsedMail,
    probes: Sequence[ProbeRef],
    *,
    review_below: float = REVIEW_BELOW,
    topics: TopicIndex | None = None,
) -> Match:
    """The probe this mail answers (or bounces, or acknowledges); see the module docstring.

    ``topics``: term rarity over the question bank and the open questions; built from
    ``probes`` when not given (and only when a reply has to be matched by its topic).
    """
    hit = _by_id(mail, probes)
    if hit:
        probe, signal, confidence = hit
        return Match(probe.id, confidence, signal, confidence < review_below)
    owners = _by_token(mail, probes)
    if len(owners) == 1:
        return Match(owners[0].id, 0.95, "reply_token", review_below > 0.95)
    if owners:
        return Match(None, 0.0, "reply_token", True, tuple(sorted(p.id for p in owners)))
    scored = _weak(mail, probes, topics)
    if not scored:
        return Match(None, 0.0, None, True)
    best = max(confidence for confidence, _, _ in scored)
    tied = [(signal, probe) for confidence, signal, probe in scored if confidence == best]
    signal = tied[0][0]
    if len(tied) > 1 or best == 0.0:  # several fit, or only touch on the topic: a person picks
        return Match(None, 0.0, signal, True, tuple(sorted(p.id for _, p in tied)))
    return Match(tied[0][1].id, best, signal, best < review_below)
