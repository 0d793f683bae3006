"""One message in, one verdict out: parse, classify, match and time it (pure).

Shared by the mailbox watcher (which stores the result) and ``kkik mail classify`` (which prints
it), so that what an administrator tries on a file is exactly what the watcher does.

Timing follows kkik-method Part A: the answer time is when the reply reached *our* mail system,
the newest ``Received:`` stamp of our receiving server, else the mailbox's INTERNALDATE; never the
sender's ``Date:`` (kept, and flagged when it is more than ``date_skew`` off the arrival).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from probes.case_numbers import normalise_case_number
from probes.email_classify import Kind, Verdict, classify
from probes.email_match import Match, ProbeIndex, ProbeRef, TopicIndex, match_reply
from probes.email_parse import ParsedMail, arrival_time, parse_mail
from results.answer_rule import LINK_ONLY, REVIEW_BELOW, counts_as_answer
from results.calendar import DeadlineRule, WorkCalendar

HOUR = 3600.0


@dataclass(frozen=True)
class TimingRules:
    """The settings that decide whether an answer was in time (config ``[email]``)."""

    calendar: WorkCalendar = field(default_factory=WorkCalendar)
    deadline_rule: DeadlineRule = DeadlineRule.OFFICE_HOURS
    count_holding_replies: bool = False
    date_skew: timedelta = timedelta(minutes=15)
    receiving_hosts: tuple[str, ...] = ()
    review_below: float = REVIEW_BELOW


@dataclass(frozen=True)
class Arrival:
    at: datetime | None
    source: str | None  # "received_header" | "internaldate" | "given"


@dataclass(frozen=True)
class Analysis:
    mail: ParsedMail
    verdict: Verdict
    match: Match
    arrival: Arrival
    date_skewed: bool
    counts_as_answer: bool  # by results.answer_rule: a human reply linked by a reply signal
    sent_at: datetime | None
    business_hours: float | None
    within_one_working_day: bool | None
    within_two_working_days: bool | None


def find_arrival(
    mail: ParsedMail,
    internal_date: datetime | None,
    receiving_hosts: tuple[str, ...] = (),
    given: datetime | None = None,
) -> Arrival:
    """When the message reached us, and which evidence says so."""
    if given is not None:
        return Arrival(given, "given")
    stamped = arrival_time(mail, receiving_hosts)
    if stamped is not None:
        return Arrival(stamped, "received_header")
    if internal_date is not None:
        return Arrival(internal_date, "internaldate")
    return Arrival(None, None)


def analyse(
    raw: bytes,
    probes: Sequence[ProbeRef],
    rules: TimingRules,
    *,
    internal_date: datetime | None = None,
    arrival: datetime | None = None,
    topics: TopicIndex | None = None,
) -> Analysis:
    """Parse, match, classify and time one message (see the module docstring).

    ``topics``: term rarity over the question bank and open questions, for matching by topic
    (probes.email_topic); built from ``probes`` when not given.
    """
    mail = parse_mail(raw)
    probes = ProbeIndex.of(probes)  # indexed once, for the match and the lookup below
    match = match_reply(mail, probes, review_below=rules.review_below, topics=topics)
    # A confident match says the mail answers one of our questions, whatever a spam filter
    # said; a match by topic alone is not sure enough to overrule the filter.
    sure = match.probe_id is not None and not match.needs_review
    verdict = classify(mail, ours=sure and match.matched_by not in ("topic", *LINK_ONLY))
    if match.matched_by in LINK_ONLY and verdict.kind is Kind.HUMAN_REPLY:
        # Reads as a person's reply but is tied to the question only by the copy of our message
        # it carries: a bounce or a complaint misread, or a forward. A person decides.
        match = replace(match, needs_review=True)
    elif verdict.reason == "spam" and match.probe_id is not None:
        match = replace(match, needs_review=True)  # flagged as spam, yet about our question
    when = find_arrival(mail, internal_date, rules.receiving_hosts, arrival)
    skewed = (
        mail.date is not None and when.at is not None and abs(mail.date - when.at) > rules.date_skew
    )
    counts = counts_as_answer(
        kind=verdict.kind.value,
        holding=verdict.holding,
        matched_by=match.matched_by,
        needs_review=match.needs_review,
        count_holding_replies=rules.count_holding_replies,
    )
    probe = probes.get(match.probe_id)
    sent_at = probe.sent_at if probe is not None else None
    hours = within_1 = within_2 = None
    if counts and probe is not None and sent_at is not None and when.at is not None:
        calendar, rule = rules.calendar.with_closed_days(probe.closed_days), rules.deadline_rule
        hours = round(calendar.business_seconds(sent_at, when.at) / HOUR, 2)
        within_1 = calendar.within(sent_at, when.at, 1, rule)
        within_2 = calendar.within(sent_at, when.at, 2, rule)
    return Analysis(
        mail=mail,
        verdict=verdict,
        match=match,
        arrival=when,
        date_skewed=skewed,
        counts_as_answer=counts,
        sent_at=sent_at,
        business_hours=hours,
        within_one_working_day=within_1,
        within_two_working_days=within_2,
    )


def as_json(analysis: Analysis) -> dict[str, object]:
    """The shape ``kkik mail classify --json`` prints (outside checks rely on it)."""
    timed = analysis.business_hours is not None
    return {
        "kind": analysis.verdict.kind.value,
        "reason": analysis.verdict.reason,
        "holding": analysis.verdict.holding,
        "probe_id": analysis.match.probe_id,
        "confidence": round(analysis.match.confidence, 2),
        "matched_by": analysis.match.matched_by,
        "answered_at": analysis.arrival.at.isoformat() if timed and analysis.arrival.at else None,
        "answered_at_source": analysis.arrival.source if timed else None,
        "business_hours": analysis.business_hours,
        "within_one_working_day": analysis.within_one_working_day,
        "counts_as_answer": analysis.counts_as_answer,
        "needs_review": analysis.match.needs_review,
        "candidates": list(analysis.match.candidates),
    }


def probe_refs_from_json(items: Sequence[dict[str, object]]) -> list[ProbeRef]:
    """Read the PROBES.json list of ``kkik mail classify`` into matcher references."""
    refs = []
    for item in items:
        sent = datetime.fromisoformat(str(item["sent_at"]))
        if sent.tzinfo is None:
            raise ValueError(f"probe {item.get('id')}: sent_at needs a time zone: {sent}")
        to = str(item.get("to") or item.get("target_address") or "")
        domains = item.get("target_domains")
        reply_to = str(item.get("reply_to") or item.get("reply_address") or "")
        closed = item.get("closed_days") or []
        numbers = item.get("case_numbers") or []
        if not isinstance(closed, list) or not isinstance(numbers, list):
            raise ValueError(f"probe {item.get('id')}: closed_days and case_numbers are lists")
        token = item.get("reply_token")
        if token is None and "+" in reply_to.partition("@")[0]:
            token = reply_to.partition("@")[0].partition("+")[2]
        refs.append(
            ProbeRef(
                id=int(str(item["id"])),
                message_id=str(item["message_id"]),
                reply_token=str(token) if token else None,
                reply_address=reply_to,
                target_address=to,
                target_domains=tuple(str(d) for d in domains)
                if isinstance(domains, list)
                else (to.rpartition("@")[2],),
                subject=str(item.get("subject") or ""),
                body=str(item.get("body") or ""),
                sent_at=sent,
                case_numbers=tuple(
                    n for n in (normalise_case_number(str(raw)) for raw in numbers) if n
                ),
                closed_days=frozenset(date.fromisoformat(str(d)) for d in closed),
            )
        )
    return refs
