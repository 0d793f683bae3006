"""A stored message's fields from its analysis, and what it does once stored: it may settle its
probe (:mod:`harness.channels.email.settle`), mark the target's address broken after a final
bounce, and give its question a case number that later mail can be matched by.
"""

from __future__ import annotations

from sqlmodel import Session, select

from harness.channels.email.html import clean_mail_html
from harness.channels.email.settle import settle
from harness.store.models import CaseNumber, Message, Probe, Target
from probes.case_numbers import find_case_numbers
from probes.email_analysis import Analysis, TimingRules
from probes.email_classify import Kind
from probes.email_wording import new_text
from results.answer_rule import LINK_ONLY

MAX_TEXT = 1_000_000


def fill_row(row: Message, analysis: Analysis) -> None:
    mail = analysis.mail
    row.message_id_header = mail.message_id
    row.in_reply_to = " ".join(mail.in_reply_to) or None
    row.references = " ".join(mail.references) or None
    row.from_address = mail.from_address
    row.from_name = mail.from_name
    row.to_addresses = ", ".join((*mail.to, *mail.cc)) or None
    row.subject = mail.subject
    row.date_header = mail.date
    row.received_header_at = next((hop.at for hop in mail.received if hop.at), None)
    row.arrived_at = analysis.arrival.at
    row.arrival_source = analysis.arrival.source
    row.text_body = mail.text[:MAX_TEXT] if mail.text else None
    row.html_body = mail.html[:MAX_TEXT] if mail.html else None
    # Cleaned here, once: cleaning is too costly to repeat on every view
    # (harness.channels.email.html).
    shown = clean_mail_html(row.html_body) if row.html_body else None
    row.html_clean = shown.html if shown else None
    row.html_refused = shown.refused if shown else None
    row.malformed = mail.malformed
    row.defects = ", ".join(mail.defects) or None
    row.classification = analysis.verdict.kind.value
    row.classification_reason = analysis.verdict.reason
    row.holding_reply = analysis.verdict.holding
    row.classified_by = "rule"
    row.bounce_final = analysis.verdict.final if analysis.verdict.kind is Kind.BOUNCE else None
    row.date_skewed = analysis.date_skewed
    match = analysis.match
    row.probe_id = match.probe_id
    row.match_method = match.matched_by
    row.match_confidence = match.confidence
    row.candidates = list(match.candidates) or None
    # Why it waits for a person: codes with their details (worded by harness.core.labels in the
    # reader's language) and an English line for the logs.
    notes: list[tuple[dict[str, object], str]] = []
    spam_about_ours = analysis.verdict.reason == "spam" and match.probe_id is not None
    relevant = analysis.verdict.kind is not Kind.UNRELATED or spam_about_ours
    if match.needs_review and relevant:
        if match.candidates:
            notes.append(({"code": "ambiguous"}, "Ambiguous: several probes fit"))
        elif match.probe_id is None:
            notes.append(({"code": "no_probe"}, "No probe found"))
        elif match.matched_by in LINK_ONLY:
            notes.append(({"code": "link_only"},
                          "Reads as a reply, linked only by the returned original"))  # fmt: skip
        elif spam_about_ours:
            notes.append(({"code": "spam_about_ours"},
                          "Flagged as spam, yet about one of our questions"))  # fmt: skip
        else:
            confidence = f"{match.confidence:.2f}"
            notes.append(({"code": "low_confidence", "confidence": confidence},
                          f"Low confidence ({confidence})"))  # fmt: skip
    if analysis.date_skewed:
        notes.append(({"code": "date_skewed"}, "Date: far from arrival"))
    if mail.malformed:
        notes.append(({"code": "malformed"}, "Malformed message"))
    row.needs_review = bool(notes) and (relevant or mail.malformed)
    row.review_note = "; ".join(english for _, english in notes) or None
    row.review_codes = [code for code, _ in notes] or None


def apply_to_probe(session: Session, row: Message, analysis: Analysis, rules: TimingRules) -> None:
    """Let the evidence move the probe: a counting answer or a final bounce completes it."""
    probe = session.get(Probe, row.probe_id) if row.probe_id is not None else None
    if probe is None:
        return
    bounced = settle(
        session,
        probe,
        count_holding=rules.count_holding_replies,
        review_below=rules.review_below,
        arrived=row,
    )
    if bounced and row.classification == Kind.BOUNCE:
        target = session.get(Target, probe.target_id)
        if target is not None and target.email_broken_reason is None:
            status = ""
            if analysis.mail.dsn and analysis.mail.dsn.recipients:
                status = analysis.mail.dsn.recipients[0].status or ""
            target.email_broken_reason = f"Bounced ({status})" if status else "Bounced"
            session.add(target)


# Kinds whose case numbers are worth keeping: the municipality wrote about our question.
_NUMBERED = frozenset({Kind.HUMAN_REPLY, Kind.AUTO_REPLY})


def remember_case_numbers(session: Session, row: Message, analysis: Analysis) -> None:
    """Store the case numbers a matched receipt or reply gives the question (see
    probes.case_numbers), so a later mail that only cites the number is matched by it."""
    if row.probe_id is None or analysis.verdict.kind not in _NUMBERED:
        return
    if analysis.match.matched_by in LINK_ONLY:
        return  # a copy of our own message says nothing the municipality gave it
    mail = analysis.mail
    numbers = find_case_numbers(f"{mail.subject or ''}\n{new_text(mail.text or '')}")
    if not numbers:
        return
    known = set(
        session.exec(select(CaseNumber.number).where(CaseNumber.probe_id == row.probe_id)).all()
    )
    for number in numbers:
        if number not in known:
            session.add(
                CaseNumber(
                    probe_id=row.probe_id,
                    number=number[:60],
                    message_id=row.id,
                    found_at=row.arrived_at or row.fetched_at,
                )
            )
            known.add(number)
