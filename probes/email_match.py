"""Which of our questions a received mail belongs to.

Pure: :func:`match_reply` looks only at the parsed mail and the probes it is given. Signals, in
order of strength (the first that fires decides):

=========================  ==========  ==========================================================
matched_by                 confidence  signal
=========================  ==========  ==========================================================
``in_reply_to``            1.0         In-Reply-To holds one of our Message-IDs
``bounce_original``        1.0         a bounce/MDN carries our Message-ID (original_message_id)
``references``             0.95        References holds one of our Message-IDs
``reply_token``            0.95        our plus-address token in To/Cc/Delivered-To/X-Original-To
``quoted_text_and_domain`` 0.85        sender in the target's domains, the text quotes the question
``subject_and_domain``     0.8         sender in the target's domains, same subject
``subject_only``           0.5         same subject from any other domain
=========================  ==========  ==========================================================

The weak signals (the last three) only consider probes sent strictly before the mail arrived: the
newest Received: time, else Date: (allowing :data:`DATE_SKEW` for the sender's clock); a mail
with neither time is not excluded. When several
probes tie on the best weak signal the result names no probe: ``probe_id`` is None,
``confidence`` 0.0, ``matched_by`` the tied signal and ``candidates`` the tied probe ids, for a
person to decide. ``needs_review`` is True when the confidence is below ``review_below`` or the
result is ambiguous or empty.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from probes.email_parse import ParsedMail, arrival_time, normalise_message_id, strip_reply_prefixes

__all__ = ["DATE_SKEW", "Match", "ProbeRef", "match_reply", "subject_key"]

DATE_SKEW = timedelta(minutes=10)
SHINGLE = 8  # words per shingle when looking for the quoted question
SHINGLE_HITS = 3
SENTENCE_COVER = 0.6  # share of the longest question sentence's word triples found in the reply
MAX_WORDS = 50_000  # reply words compared; a longer mail is cut

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


def subject_key(subject: str | None) -> str:
    """A subject without reply, forward and automatic prefixes, casefolded, for comparison."""
    text = subject or ""
    while True:
        stripped = _AUTO_PREFIX.sub("", strip_reply_prefixes(text), count=1)
        if stripped == text:
            return " ".join(text.casefold().split())
        text = stripped


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


def _weak(mail: ParsedMail, probes: Sequence[ProbeRef]) -> list[tuple[float, str, ProbeRef]]:
    received = arrival_time(mail)
    arrived, skew = (received, timedelta(0)) if received else (mail.date, DATE_SKEW)
    senders = {_domain(mail.from_address), _domain(mail.sender)} - {""}
    key = subject_key(mail.subject)
    reply = _Reply(mail.text or "")
    scored: list[tuple[float, str, ProbeRef]] = []
    for probe in probes:
        if arrived is not None and arrived + skew <= probe.sent_at:
            continue  # a reply arrives after the question, never before or at the same instant
        same_subject = bool(key) and key == subject_key(probe.subject)
        if any(_in_domains(d, probe.target_domains) for d in senders):
            if _quotes(reply, probe.body):
                scored.append((0.85, "quoted_text_and_domain", probe))
            elif same_subject:
                scored.append((0.8, "subject_and_domain", probe))
        elif same_subject:
            scored.append((0.5, "subject_only", probe))
    return scored


def match_reply(
    mail: ParsedMail, probes: Sequence[ProbeRef], *, review_below: float = 0.7
) -> Match:
    """The probe this mail answers (or bounces, or acknowledges); see the module docstring."""
    hit = _by_id(mail, probes)
    if hit:
        probe, signal, confidence = hit
        return Match(probe.id, confidence, signal, confidence < review_below)
    owners = _by_token(mail, probes)
    if len(owners) == 1:
        return Match(owners[0].id, 0.95, "reply_token", review_below > 0.95)
    if owners:
        return Match(None, 0.0, "reply_token", True, tuple(sorted(p.id for p in owners)))
    scored = _weak(mail, probes)
    if not scored:
        return Match(None, 0.0, None, True)
    best = max(confidence for confidence, _, _ in scored)
    tied = [(signal, probe) for confidence, signal, probe in scored if confidence == best]
    signal = tied[0][0]
    if len(tied) > 1:
        return Match(None, 0.0, signal, True, tuple(sorted(p.id for _, p in tied)))
    return Match(tied[0][1].id, best, signal, best < review_below)
