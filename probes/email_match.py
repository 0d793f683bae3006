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
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import overload

from probes.case_numbers import cited
from probes.email_parse import ParsedMail, arrival_time, normalise_message_id, strip_reply_prefixes
from probes.email_topic import FIT_WEIGHT, TopicIndex, terms
from probes.email_wording import new_text
from results.answer_rule import REVIEW_BELOW

__all__ = [
    "DATE_SKEW",
    "Match",
    "ProbeIndex",
    "ProbeRef",
    "TopicIndex",
    "match_reply",
    "subject_key",
]

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


def _by_id(mail: ParsedMail, probes: ProbeIndex) -> tuple[ProbeRef, str, float] | None:
    for message_id in mail.in_reply_to:
        if (probe := probes.by_message_id(message_id)) is not None:
            return probe, "in_reply_to", 1.0
    if (probe := probes.by_message_id(mail.original_message_id or "")) is not None:
        return probe, "bounce_original", 1.0
    for message_id in reversed(mail.references):  # the newest reference is the likeliest
        if (probe := probes.by_message_id(message_id)) is not None:
            return probe, "references", 0.95
    return None


def _by_token(mail: ParsedMail, probes: ProbeIndex) -> list[ProbeRef]:
    found: dict[int, ProbeRef] = {}
    for address in (*mail.to, *mail.cc, *mail.delivered_to):
        local = address.partition("@")[0]
        if "+" not in local:
            continue
        owners = probes.by_token(local.partition("+")[2])
        if len(owners) == 1:  # a token shared by two probes identifies neither
            found[owners[0].id] = owners[0]
    return list(found.values())


def _arrived(mail: ParsedMail) -> tuple[datetime | None, timedelta]:
    received = arrival_time(mail)
    return (received, timedelta(0)) if received else (mail.date, DATE_SKEW)


def _weak(
    mail: ParsedMail, probes: ProbeIndex, topics: TopicIndex | None
) -> list[tuple[float, str, ProbeRef]]:
    arrived, skew = _arrived(mail)
    senders = {_domain(mail.from_address), _domain(mail.sender)} - {""}
    key = subject_key(mail.subject)
    topic_key = subject_key(mail.header("thread-topic"))
    reply = _Reply(mail.text or "")
    cited_text = f"{mail.subject or ''}\n{mail.text or ''}"
    scored: list[tuple[float, str, ProbeRef]] = []
    unsignalled: list[ProbeRef] = []  # from the target's domains, no signal yet: topic?
    # Only the probes a signal below can fire for: to a sender's domain, or of the same subject.
    for probe in probes.weak_candidates(senders, {key, topic_key} - {""}):
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
    ``probes``: a :class:`ProbeIndex` when many mails are matched against the same probes (the
    watcher); any other sequence is indexed for this one call.
    """
    probes = ProbeIndex.of(probes)
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


class ProbeIndex(Sequence[ProbeRef]):
    """The sent probes, looked up by what a mail can name: Message-ID, plus token, the sender's
    domain and the subject.

    The matcher needs, for each mail, only the probes its signals can point at. Scanning every
    sent probe per mail made the watcher's work per reply grow with the campaign (a national
    run, 5,000 e-mail probes: most of the watcher's time went to building the same Message-ID
    table again for each reply; bench/bench_national.py). Built once, the lookups cost the same
    whatever the campaign's size; :meth:`with_changes` gives a new index with probes added,
    replaced or removed without rebuilding the rest, so the watcher can keep one as questions go
    out. An index is never changed in place: one a caller holds stays as it was.

    It is also the sequence of its probes: in the order given, or, once changed, by id.
    """

    __slots__ = ("_by_domain", "_by_id", "_by_message_id", "_by_subject", "_by_token", "_order")

    def __init__(self, probes: Iterable[ProbeRef] = ()) -> None:
        self._by_id: dict[int, ProbeRef] = {}
        self._by_message_id: dict[str, tuple[int, ...]] = {}
        self._by_token: dict[str, tuple[int, ...]] = {}
        self._by_domain: dict[str, tuple[int, ...]] = {}
        self._by_subject: dict[str, tuple[int, ...]] = {}
        order: list[ProbeRef] = []
        for probe in probes:
            if probe.id in self._by_id:
                self._unlink(self._by_id[probe.id])
                order = [p for p in order if p.id != probe.id]
            self._link(probe)
            order.append(probe)
        self._order: list[ProbeRef] | None = order

    @classmethod
    def of(cls, probes: Sequence[ProbeRef]) -> ProbeIndex:
        """``probes`` itself when it is an index, else an index of them."""
        return probes if isinstance(probes, ProbeIndex) else cls(probes)

    # --- the sequence ------------------------------------------------------------------------

    def _sequence(self) -> list[ProbeRef]:
        if self._order is None:
            self._order = [self._by_id[key] for key in sorted(self._by_id)]
        return self._order

    @overload
    def __getitem__(self, at: int) -> ProbeRef: ...
    @overload
    def __getitem__(self, at: slice) -> Sequence[ProbeRef]: ...
    def __getitem__(self, at: int | slice) -> ProbeRef | Sequence[ProbeRef]:
        return self._sequence()[at]

    def __len__(self) -> int:
        return len(self._by_id)

    def __iter__(self) -> Iterator[ProbeRef]:
        return iter(self._sequence())

    def __contains__(self, probe: object) -> bool:
        return isinstance(probe, ProbeRef) and self._by_id.get(probe.id) == probe

    # --- lookups -----------------------------------------------------------------------------

    def get(self, probe_id: int | None) -> ProbeRef | None:
        return None if probe_id is None else self._by_id.get(probe_id)

    def by_message_id(self, message_id: str) -> ProbeRef | None:
        """The probe whose Message-ID this is (compared without case, brackets normalised); of
        two with the same one (never ours: we make them unique), the newer, as a table built in
        id order would give."""
        keys = self._by_message_id.get(message_id.casefold())
        return self._by_id[max(keys)] if keys else None

    def by_token(self, token: str) -> list[ProbeRef]:
        """Every probe with this plus token (compared without case): one, or a shared token."""
        return [self._by_id[key] for key in self._by_token.get(token.casefold(), ())]

    def weak_candidates(self, domains: Iterable[str], subjects: Iterable[str]) -> list[ProbeRef]:
        """The probes a weak signal can point at, in id order: those whose target has one of
        ``domains`` (a sender's domain: the target's own domains and their subdomains count),
        and those whose subject key is one of ``subjects``."""
        keys: set[int] = set()
        for domain in domains:
            # The sender's domain and each domain above it: a.b.kommun.se finds kommun.se.
            parts = domain.split(".")
            for at in range(len(parts)):
                keys.update(self._by_domain.get(".".join(parts[at:]), ()))
        for subject in subjects:
            keys.update(self._by_subject.get(subject, ()))
        return [self._by_id[key] for key in sorted(keys)]

    # --- changes -----------------------------------------------------------------------------

    def with_changes(
        self, changed: Iterable[ProbeRef] = (), removed: Iterable[int] = ()
    ) -> ProbeIndex:
        """A new index: ``changed`` probes added or replacing the one with their id, ``removed``
        ids left out; the rest shared with this one. Its sequence is in id order."""
        new = ProbeIndex.__new__(ProbeIndex)
        new._by_id = dict(self._by_id)
        new._by_message_id = dict(self._by_message_id)
        new._by_token = dict(self._by_token)
        new._by_domain = dict(self._by_domain)
        new._by_subject = dict(self._by_subject)
        new._order = None
        for probe_id in removed:
            if probe_id in new._by_id:
                new._unlink(new._by_id.pop(probe_id))
        for probe in changed:
            if probe.id in new._by_id:
                new._unlink(new._by_id[probe.id])
            new._link(probe)
        return new

    def _keys(self, probe: ProbeRef) -> Iterator[tuple[dict[str, tuple[int, ...]], str]]:
        message_id = (normalise_message_id(probe.message_id) or "").casefold()
        if message_id:
            yield self._by_message_id, message_id
        if probe.reply_token:
            yield self._by_token, probe.reply_token.casefold()
        for domain in {d.casefold().strip(".") for d in probe.target_domains} - {""}:
            yield self._by_domain, domain
        subject = subject_key(probe.subject)
        if subject:
            yield self._by_subject, subject

    def _link(self, probe: ProbeRef) -> None:
        self._by_id[probe.id] = probe
        for table, key in self._keys(probe):
            table[key] = (*table.get(key, ()), probe.id)

    def _unlink(self, probe: ProbeRef) -> None:
        for table, key in self._keys(probe):
            left = tuple(k for k in table.get(key, ()) if k != probe.id)
            if left:
                table[key] = left
            else:
                table.pop(key, None)
