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

import hashlib
import logging
import zlib

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from harness.clock import Clock
from harness.models import Channel, FolderState, Message, Probe, ProbeState, Question, Target
from probes.email_analysis import Analysis, TimingRules, analyse
from probes.email_classify import Kind
from probes.email_match import ProbeRef
from probes.email_send import plus_address
from probes.email_watch import FolderMark
from probes.imap_client import FetchedMessage

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
                    )
                )
            return refs

    def prepare(self) -> None:
        """Reload the probes before a sync: questions go out while the watcher runs."""
        self._refs = None

    # --- ingestion -----------------------------------------------------------------------------

    def ingest(self, folder: str, uidvalidity: int, message: FetchedMessage) -> bool:
        raw = message.raw
        digest = hashlib.sha256(raw).hexdigest()
        with Session(self.engine) as session:
            seen = session.exec(
                select(Message.id).where(
                    Message.folder == folder,
                    Message.uidvalidity == uidvalidity,
                    Message.uid == message.uid,
                )
            ).first()
            if seen is not None:
                return False
        if self._refs is None:
            self._refs = self.probe_refs()
        analysis: Analysis | None
        try:
            analysis = analyse(raw, self._refs, self.rules, internal_date=message.internal_date)
        except Exception as exc:  # the watcher must never die on input
            log.exception("analysis failed for %s UID %s", folder, message.uid)
            analysis = None
            failure = f"{type(exc).__name__}: {exc}"[:250]
        row = Message(
            folder=folder,
            uidvalidity=uidvalidity,
            uid=message.uid,
            internal_date=message.internal_date,
            fetched_at=self.clock.now(),
            raw_compressed=compress(raw),
            raw_size=len(raw),
            raw_sha256=digest,
        )
        if analysis is None:
            row.malformed = True
            row.needs_review = True
            row.review_note = f"Analysis failed: {failure}"
            row.arrived_at = message.internal_date
            row.arrival_source = "internaldate" if message.internal_date else None
        else:
            _fill(row, analysis)
        with Session(self.engine) as session:
            if row.message_id_header and self._duplicate(session, row.message_id_header, digest):
                return False
            session.add(row)
            try:
                session.flush()
            except IntegrityError:
                session.rollback()  # another watcher stored the same (folder, UIDVALIDITY, UID)
                return False
            # A flagged Date: or odd MIME does not make a certain match uncertain.
            if (
                analysis is not None
                and row.probe_id is not None
                and not analysis.match.needs_review
            ):
                _apply_to_probe(session, row, analysis)
            session.commit()
        return True

    def _duplicate(self, session: Session, message_id: str, digest: str) -> bool:
        # The same Message-ID with the same bytes is the same message seen again (moved to
        # another folder, or refetched after UIDVALIDITY changed). Different bytes under one
        # Message-ID are kept: some systems reuse IDs, and dropping a reply is worse.
        found = session.exec(
            select(Message.id).where(
                Message.message_id_header == message_id, Message.raw_sha256 == digest
            )
        ).first()
        return found is not None


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
    notes = []
    relevant = analysis.verdict.kind is not Kind.UNRELATED
    if match.needs_review and relevant:
        if match.candidates:
            notes.append("Ambiguous: several probes fit")
        elif match.probe_id is None:
            notes.append("No probe found")
        else:
            notes.append(f"Low confidence ({match.confidence:.2f})")
    if analysis.date_skewed:
        notes.append("Date: far from arrival")
    if mail.malformed:
        notes.append("Malformed message")
    row.needs_review = bool(notes) and (relevant or mail.malformed)
    row.review_note = "; ".join(notes) or None


def _apply_to_probe(session: Session, row: Message, analysis: Analysis) -> None:
    """Let the evidence move the probe: a counting answer or a final bounce completes it."""
    probe = session.get(Probe, row.probe_id)
    if probe is None or probe.state not in (ProbeState.SENT, ProbeState.COMPLETED):
        return
    arrived = row.arrived_at
    if analysis.counts_as_answer and arrived is not None:
        earlier = (
            probe.completed_at is None
            or probe.outcome != "answered"
            or arrived < probe.completed_at
        )
        if earlier:
            probe.state = ProbeState.COMPLETED
            probe.outcome = "answered"
            probe.completed_at = arrived
            session.add(probe)
    elif analysis.verdict.kind is Kind.BOUNCE and analysis.verdict.final and probe.outcome is None:
        probe.state = ProbeState.COMPLETED
        probe.outcome = "bounced"
        probe.completed_at = arrived
        target = session.get(Target, probe.target_id)
        if target is not None and target.email_broken_reason is None:
            status = ""
            if analysis.mail.dsn and analysis.mail.dsn.recipients:
                status = analysis.mail.dsn.recipients[0].status or ""
            target.email_broken_reason = f"Bounced ({status})" if status else "Bounced"
            session.add(target)
        session.add(probe)
