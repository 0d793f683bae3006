"""Storing mailbox messages: the database side of the mailbox watcher.

Every fetched message is kept raw (zlib-compressed, with its SHA-256) next to what was read from
it: parsed fields, classification, the probe it answers and how sure that is, and its arrival
time with the evidence used. Ingestion is idempotent twice over: per (folder, UIDVALIDITY, UID),
and per Message-ID plus content, so a message seen again after a resync or a move between
folders is not stored twice. Analysis never stops ingestion: a message that cannot be analysed is
stored raw, flagged malformed and put in the review queue.

A counting answer (a human reply; holding replies only when configured) completes its probe,
with the arrival time as the evidence; the earliest such arrival wins, whatever order the
folders are synced in.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import zlib
from collections.abc import Sequence

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from harness.channels.email.html import clean_mail_html
from harness.core.clock import Clock
from harness.rules.calendars import campaign_closed_days
from harness.store.models import (
    Campaign,
    CaseNumber,
    Channel,
    FolderState,
    Message,
    Probe,
    ProbeState,
    Question,
    Target,
)
from probes.case_numbers import find_case_numbers
from probes.email_analysis import Analysis, TimingRules, analyse
from probes.email_classify import Kind
from probes.email_match import ProbeRef, TopicIndex
from probes.email_send import plus_address
from probes.email_watch import FolderMark
from probes.email_wording import new_text
from probes.imap_client import FetchedMessage
from results.answer_rule import LINK_ONLY
from results.email_log import ReplyEvidence, answer

log = logging.getLogger(__name__)

MAX_TEXT = 1_000_000


def compress(raw: bytes) -> bytes:
    return zlib.compress(raw, 6)


def decompress(stored: bytes) -> bytes:
    return zlib.decompress(stored)


class MailStore:
    """The :class:`probes.email_watch.MailSink` backed by the database."""

    def __init__(self, engine: Engine, clock: Clock, rules: TimingRules) -> None:
        self.engine = engine
        self.clock = clock
        self.rules = rules
        self._refs: list[ProbeRef] | None = None
        self._topics: TopicIndex | None = None
        # Probes whose early replies have been looked for (see adopt_early_replies).
        self._adopted_for: set[int] = set()

    # --- folder marks ------------------------------------------------------------------------

    def folder_mark(self, folder: str) -> FolderMark | None:
        with Session(self.engine) as session:
            state = session.get(FolderState, folder)
            return None if state is None else FolderMark(state.uidvalidity, state.highest_uid)

    def save_folder_mark(self, folder: str, mark: FolderMark) -> None:
        with Session(self.engine) as session:
            state = session.get(FolderState, folder)
            if state is None:
                state = FolderState(
                    folder=folder, uidvalidity=0, highest_uid=0, synced_at=self.clock.now()
                )
            state.uidvalidity = mark.uidvalidity
            state.highest_uid = mark.highest_uid
            state.synced_at = self.clock.now()
            session.add(state)
            session.commit()

    # --- probes to match against -------------------------------------------------------------

    def probe_refs(self) -> list[ProbeRef]:
        """Every e-mail probe that has left our server, as the matcher sees it."""
        with Session(self.engine) as session:
            rows = session.exec(
                select(Probe, Target, Question)
                .join(Target, Probe.target_id == Target.id)  # type: ignore[arg-type]
                .outerjoin(Question, Probe.question_id == Question.id)  # type: ignore[arg-type]
                .where(Probe.channel == Channel.EMAIL)
                .where(Probe.sent_at.is_not(None))  # type: ignore[union-attr]
            ).all()
            # Each campaign's own closed days, read once: the watcher times an answer by the
            # calendar of its question's campaign (harness.rules.calendars).
            closed = {
                campaign.id: campaign_closed_days(campaign)
                for campaign in session.exec(
                    select(Campaign).where(
                        col(Campaign.id).in_({probe.campaign_id for probe, _, _ in rows})
                    )
                ).all()
            }
            numbers: dict[int, list[str]] = {}
            for probe_id, number in session.exec(
                select(CaseNumber.probe_id, CaseNumber.number).order_by(col(CaseNumber.id))
            ).all():
                numbers.setdefault(probe_id, []).append(number)
            refs = []
            for probe, target, question in rows:
                if probe.message_id is None or probe.sent_at is None:
                    continue
                address = target.email_address or ""
                domain = address.rpartition("@")[2]
                reply = probe.persona_address or ""
                refs.append(
                    ProbeRef(
                        id=probe.id or 0,
                        message_id=probe.message_id,
                        reply_token=probe.reply_token,
                        reply_address=plus_address(reply, probe.reply_token)
                        if probe.reply_token and reply
                        else reply,
                        target_address=address,
                        target_domains=tuple(d for d in (domain, *target.extra_reply_domains) if d),
                        subject=question.subject if question else "",
                        body=question.body if question else "",
                        sent_at=probe.sent_at,
                        case_numbers=tuple(numbers.get(probe.id or 0, ())),
                        closed_days=closed.get(probe.campaign_id, frozenset()),
                    )
                )
            return refs

    def topic_index(self) -> TopicIndex:
        """Term rarity over the question bank and the questions sent (probes.email_topic)."""
        if self._topics is None:
            with Session(self.engine) as session:
                bank = session.exec(select(Question.subject, Question.body)).all()
            self._topics = TopicIndex(f"{subject}\n{body}" for subject, body in bank)
        return self._topics

    def prepare(self) -> None:
        """Reload the probes before a sync: questions go out while the watcher runs."""
        self._refs = None
        self._topics = None
        self.adopt_early_replies()

    def adopt_early_replies(self) -> int:
        """Match replies stored before their question was recorded as sent; return how many.

        The municipality's server has the question from the moment it accepted it, but the
        probe becomes ``sent`` only when the runner commits that (after the Sent-folder copy,
        or after a crash, when the copy is found). A reply that arrives in between is stored
        with no probe, and without this would stay unmatched for good: the probe would end
        ``not_answered`` although it was answered (found by the fault tests). So whenever
        probes have newly become sent, stored unmatched replies that name one of them (by
        In-Reply-To, References or the plus-address token) are analysed again. Rows a person
        has reclassified or assigned are left alone.
        """
        refs = self.probe_refs()
        self._refs = refs
        fresh = [ref for ref in refs if ref.id not in self._adopted_for]
        if not fresh:
            return 0
        self._adopted_for.update(ref.id for ref in fresh)
        ids = {ref.message_id for ref in fresh}
        tokens = {f"+{ref.reply_token}@".casefold() for ref in fresh if ref.reply_token}
        adopted = 0
        with Session(self.engine) as session:
            orphans = session.exec(
                select(Message.id, Message.in_reply_to, Message.references, Message.to_addresses)
                .where(col(Message.probe_id).is_(None))
                .where(Message.classified_by == "rule")
            ).all()
            for row_id, in_reply_to, references, to in orphans:
                named = set(f"{in_reply_to or ''} {references or ''}".split())
                if not (named & ids or any(t in (to or "").casefold() for t in tokens)):
                    continue
                row = session.get(Message, row_id)
                if row is None or not row.raw_compressed:
                    continue  # raw mail purged: nothing to analyse again
                analysis = analyse(
                    decompress(row.raw_compressed),
                    refs,
                    self.rules,
                    internal_date=row.internal_date,
                    topics=self.topic_index(),
                )
                if analysis.match.probe_id is None:
                    continue
                _fill(row, analysis)
                session.add(row)
                session.flush()
                if not analysis.match.needs_review:
                    _apply_to_probe(session, row, analysis, self.rules)
                    _remember_case_numbers(session, row, analysis)
                adopted += 1
            session.commit()
        if adopted:
            log.info("matched %d reply(ies) stored before their question was recorded", adopted)
        return adopted

    # --- ingestion -----------------------------------------------------------------------------

    def ingest(self, folder: str, uidvalidity: int, message: FetchedMessage) -> bool:
        """Store one message; False when it was already stored."""
        return bool(self.ingest_batch(folder, uidvalidity, [message]))

    def ingest_batch(
        self, folder: str, uidvalidity: int, messages: Sequence[FetchedMessage]
    ) -> list[FetchedMessage]:
        """Store a fetched batch in one transaction; return the messages that were new.

        One transaction per batch instead of per message is what makes a first sync of a large
        mailbox fast; if another watcher stored some of the same messages meanwhile, the batch
        falls back to one transaction per message so nothing is lost or doubled.
        """
        with Session(self.engine) as session:
            uids = [m.uid for m in messages]
            seen = set(
                session.exec(
                    select(Message.uid).where(
                        Message.folder == folder,
                        Message.uidvalidity == uidvalidity,
                        Message.uid.in_(uids),  # type: ignore[attr-defined]
                    )
                ).all()
            )
        fresh = [m for m in messages if m.uid not in seen]
        if not fresh:
            return []
        if self._refs is None:
            self._refs = self.probe_refs()
        prepared = [self._prepare_row(folder, uidvalidity, m) for m in fresh]
        try:
            return self._store(prepared)
        except IntegrityError:
            if len(prepared) == 1:
                return []  # another watcher stored this very message
            stored: list[FetchedMessage] = []
            for one in prepared:
                with contextlib.suppress(IntegrityError):
                    stored += self._store([one])
            return stored

    def _prepare_row(
        self, folder: str, uidvalidity: int, message: FetchedMessage
    ) -> tuple[FetchedMessage, Message, Analysis | None]:
        raw = message.raw
        analysis: Analysis | None = None
        failure = ""
        try:
            analysis = analyse(
                raw,
                self._refs or [],
                self.rules,
                internal_date=message.internal_date,
                topics=self.topic_index(),
            )
            weak = analysis.match.probe_id is not None and analysis.match.matched_by not in _BY_ID
            if weak and self._names_unsent(analysis):
                # It answers a question we have not recorded as sent yet (the runner commits
                # after the server's 250): a weaker signal (subject, quoted text) pointing at
                # another probe is wrong. Stored unmatched; adopted once that probe is sent.
                analysis = analyse(raw, [], self.rules, internal_date=message.internal_date)
        except Exception as exc:  # the watcher must never die on input
            log.exception("analysis failed for %s UID %s", folder, message.uid)
            failure = f"{type(exc).__name__}: {exc}"[:250]
        row = Message(
            folder=folder,
            uidvalidity=uidvalidity,
            uid=message.uid,
            internal_date=message.internal_date,
            fetched_at=self.clock.now(),
            raw_compressed=compress(raw),
            raw_size=len(raw),
            raw_sha256=hashlib.sha256(raw).hexdigest(),
        )
        if analysis is None:
            row.malformed = True
            row.needs_review = True
            row.review_note = f"Analysis failed: {failure}"
            row.arrived_at = message.internal_date
            row.arrival_source = "internaldate" if message.internal_date else None
        else:
            _fill(row, analysis)
        return message, row, analysis

    def _names_unsent(self, analysis: Analysis) -> bool:
        """Does the mail name one of our questions (Message-ID or plus token) that the matcher
        did not know as sent? Asked of the database now, not of the snapshot taken before the
        sync: the question may have been claimed and answered since."""
        mail = analysis.mail
        ids = {*mail.in_reply_to, *mail.references}
        tokens = {
            m.group(1)
            for address in (*mail.to, *mail.cc)
            if (m := re.search(r"\+([^@+\s]+)@", address))
        }
        if not ids and not tokens:
            return False
        with Session(self.engine) as session:
            found = session.exec(
                select(Probe.id)
                .where(Probe.channel == Channel.EMAIL)
                .where(col(Probe.message_id).in_(ids) | col(Probe.reply_token).in_(tokens))
                .limit(1)
            ).first()
        return found is not None

    def _store(
        self, prepared: Sequence[tuple[FetchedMessage, Message, Analysis | None]]
    ) -> list[FetchedMessage]:
        stored: list[FetchedMessage] = []
        with Session(self.engine) as session:
            known = self._known_copies(session, [row for _, row, _ in prepared])
            for message, row, analysis in prepared:
                key = (row.message_id_header, row.raw_sha256)
                if row.message_id_header and key in known:
                    continue
                known.add(key)
                session.add(row)
                session.flush()
                # A flagged Date: or odd MIME does not make a certain match uncertain.
                if (
                    analysis is not None
                    and row.probe_id is not None
                    and not analysis.match.needs_review
                ):
                    _apply_to_probe(session, row, analysis, self.rules)
                    _remember_case_numbers(session, row, analysis)
                stored.append(message)
            session.commit()
        return stored

    def _known_copies(
        self, session: Session, rows: Sequence[Message]
    ) -> set[tuple[str | None, str]]:
        """(Message-ID, SHA-256) pairs already stored: the same message seen again.

        Moved to another folder, or refetched after UIDVALIDITY changed. Different bytes under
        one Message-ID are kept: some systems reuse IDs, and dropping a reply is worse.
        """
        ids = [row.message_id_header for row in rows if row.message_id_header]
        if not ids:
            return set()
        found = session.exec(
            select(Message.message_id_header, Message.raw_sha256).where(
                Message.message_id_header.in_(ids)  # type: ignore[union-attr]
            )
        ).all()
        return {(mid, digest) for mid, digest in found}


# Match signals that name the probe itself: never pointing at the wrong one.
_BY_ID = frozenset({"in_reply_to", "references", "reply_token", "bounce_original"})


def _fill(row: Message, analysis: Analysis) -> None:
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
    notes = []
    spam_about_ours = analysis.verdict.reason == "spam" and match.probe_id is not None
    relevant = analysis.verdict.kind is not Kind.UNRELATED or spam_about_ours
    if match.needs_review and relevant:
        if match.candidates:
            notes.append("Ambiguous: several probes fit")
        elif match.probe_id is None:
            notes.append("No probe found")
        elif match.matched_by in LINK_ONLY:
            notes.append("Reads as a reply, linked only by the returned original")
        elif spam_about_ours:
            notes.append("Flagged as spam, yet about one of our questions")
        else:
            notes.append(f"Low confidence ({match.confidence:.2f})")
    if analysis.date_skewed:
        notes.append("Date: far from arrival")
    if mail.malformed:
        notes.append("Malformed message")
    row.needs_review = bool(notes) and (relevant or mail.malformed)
    row.review_note = "; ".join(notes) or None


def _apply_to_probe(session: Session, row: Message, analysis: Analysis, rules: TimingRules) -> None:
    """Let the evidence move the probe: a counting answer or a final bounce completes it."""
    probe = session.get(Probe, row.probe_id) if row.probe_id is not None else None
    if probe is None:
        return
    bounced = _settle(
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


def settle_probe(
    session: Session,
    probe_id: int,
    *,
    count_holding: bool,
    review_below: float,
    arrived: Message | None = None,
) -> bool:
    """Set an e-mail probe's outcome from its stored mail; True when it is bounced.

    The one place a probe's answer is decided: the reply that counts by results.answer_rule
    (the same one the log and the scores use) completes it at that reply's arrival; without one,
    a final bounce completes it as bounced. Called when a person corrects a classification or an
    assignment (then every message of the probe is weighed again, so the probe, the log and the
    scores move together: a correction that takes the answer away makes the probe wait again,
    and the runner gives up on it at its deadline, unless a final bounce says more), and when
    mail is stored, with ``arrived``: then only the new message is weighed against the outcome
    already settled, as the earlier ones were when they came (a probe in a mail loop gets
    thousands of messages; reading them all again for each one would be quadratic).
    """
    probe = session.get(Probe, probe_id)
    if probe is None:
        return False
    return _settle(
        session, probe, count_holding=count_holding, review_below=review_below, arrived=arrived
    )


def _settle(
    session: Session,
    probe: Probe,
    *,
    count_holding: bool,
    review_below: float,
    arrived: Message | None = None,
) -> bool:
    if probe.channel != Channel.EMAIL or probe.state not in (ProbeState.SENT, ProbeState.COMPLETED):
        return False
    probe_id = probe.id or 0
    if arrived is not None:
        _settle_with(probe, arrived, count_holding=count_holding, review_below=review_below)
        session.add(probe)
        return probe.outcome == "bounced"
    replies = replies_by_probe(session, [probe_id], review_below).get(probe_id, [])
    found = answer(replies, count_holding_replies=count_holding)
    bounce = session.exec(
        select(Message.arrived_at)
        .where(Message.probe_id == probe_id, Message.classification == Kind.BOUNCE)
        .where(col(Message.bounce_final).is_(True))
        .order_by(col(Message.arrived_at))
    ).first()
    if found is not None and found.arrived_at is not None:
        probe.state, probe.outcome, probe.completed_at = (
            ProbeState.COMPLETED,
            "answered",
            found.arrived_at,
        )
    elif probe.outcome in (None, "answered", "bounced") and bounce is not None:
        probe.state, probe.outcome, probe.completed_at = ProbeState.COMPLETED, "bounced", bounce
    elif probe.outcome in ("answered", "bounced"):  # its answer or bounce was corrected away
        probe.state, probe.outcome, probe.completed_at = ProbeState.SENT, None, None
    session.add(probe)
    return probe.outcome == "bounced"


def _settle_with(probe: Probe, row: Message, *, count_holding: bool, review_below: float) -> None:
    """One new message against the settled outcome, by the same rule as the full settling."""
    at = row.arrived_at
    if at is None:
        return
    evidence = replies_from([row], review_below)[0]
    if answer([evidence], count_holding_replies=count_holding) is not None:
        if probe.outcome != "answered" or probe.completed_at is None or at < probe.completed_at:
            probe.state, probe.outcome, probe.completed_at = ProbeState.COMPLETED, "answered", at
    elif row.classification == Kind.BOUNCE and row.bounce_final and probe.outcome is None:
        probe.state, probe.outcome, probe.completed_at = ProbeState.COMPLETED, "bounced", at


# Kinds whose case numbers are worth keeping: the municipality wrote about our question.
_NUMBERED = frozenset({Kind.HUMAN_REPLY, Kind.AUTO_REPLY})


def _remember_case_numbers(session: Session, row: Message, analysis: Analysis) -> None:
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


def replies_by_probe(
    session: Session, probe_ids: Sequence[int | None], review_below: float
) -> dict[int, list[ReplyEvidence]]:
    """The stored messages of these probes as reply evidence for the log and for scoring.

    Only an uncertain match keeps a reply from counting; a flagged Date: or odd MIME is for the
    administrator to see, not a reason to drop the answer.
    """
    ids = [i for i in probe_ids if i is not None]
    replies: dict[int, list[ReplyEvidence]] = {}
    rows = session.exec(select(Message).where(col(Message.probe_id).in_(ids))).all()
    for m, evidence in zip(rows, replies_from(rows, review_below), strict=True):
        replies.setdefault(m.probe_id or 0, []).append(evidence)
    return replies


def replies_from(rows: Sequence[Message], review_below: float) -> list[ReplyEvidence]:
    """Stored messages as reply evidence (results.email_log): the one reading of a message that
    the answer rule is applied to."""
    return [
        ReplyEvidence(
            arrived_at=m.arrived_at,
            kind=m.classification,
            holding=m.holding_reply,
            matched_by=m.match_method,
            needs_review=(m.match_confidence or 0.0) < review_below,
            confidence=m.match_confidence,
            message_id=m.id,
        )
        for m in rows
    ]
