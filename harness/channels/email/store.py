"""Storing mailbox messages: the database side of the mailbox watcher.

Every fetched message is kept raw (zlib-compressed, with its SHA-256) next to what was read from
it: parsed fields, classification, the probe it answers and how sure that is, and its arrival
time with the evidence used. Ingestion is idempotent twice over: per (folder, UIDVALIDITY, UID),
and per Message-ID plus content, so a message seen again after a resync or a move between
folders is not stored twice. Analysis never stops ingestion: a message that cannot be analysed is
stored raw, flagged malformed and put in the review queue.

A counting answer (a human reply; holding replies only when configured) completes its probe,
with the arrival time as the evidence; the earliest such arrival wins, whatever order the
folders are synced in (:mod:`harness.channels.email.settle` decides).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from harness.channels.email.message_row import apply_to_probe, fill_row, remember_case_numbers
from harness.core.clock import Clock
from harness.core.events import OnEvent, RunEvent
from harness.rules.calendars import scenario_closed_days
from harness.store.db import replace_nul
from harness.store.models import (
    Campaign,
    CaseNumber,
    Channel,
    FolderState,
    Message,
    Probe,
    Question,
    Target,
)
from probes.email_analysis import Analysis, TimingRules, analyse
from probes.email_match import ProbeIndex, ProbeRef, TopicIndex
from probes.email_send import plus_address
from probes.email_watch import FolderMark
from probes.imap_wire import FetchedMessage

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _SentProbe:
    """A sent e-mail probe's fields that never change once it is sent (MailStore.probe_refs)."""

    id: int
    campaign_id: int
    target_id: int
    message_id: str
    reply_token: str | None
    persona_address: str
    subject: str
    body: str
    sent_at: datetime
    claimed_at: datetime | None  # when the runner took it: no reply to it can be older


# A reply to a question is fetched after the question was claimed; with the runner and the
# watcher in two processes, their clocks may differ a little.
CLOCK_MARGIN = timedelta(hours=1)


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
        self._refs: ProbeIndex | None = None
        self._topics: TopicIndex | None = None
        # Probes whose early replies have been looked for (see adopt_early_replies).
        self._adopted_for: set[int] = set()
        # What probe_refs has read so far: each sent probe's own fields, read once, and the
        # case numbers up to an id; the refs built from them, rebuilt only on a change.
        self._probe_rows: dict[int, _SentProbe] = {}
        self._case_numbers: dict[int, list[str]] = {}
        self._case_numbers_upto = 0
        self._sent_upto: datetime | None = None  # the newest sent_at among them
        self._target_ids: set[int] = set()  # their targets and campaigns
        self._campaign_ids: set[int] = set()
        self._index: ProbeIndex | None = None
        self._index_inputs: tuple[object, object] | None = None
        # Told of every stored message that concerns a probe (`kkik run` prints them).
        self.on_event: OnEvent | None = None

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

    def probe_refs(self) -> ProbeIndex:
        """Every e-mail probe that has left our server, as the matcher sees it, indexed.

        Read incrementally: a sent probe's own fields (Message-ID, token, persona, question,
        sent_at) never change, so each is read once; each call reads only the number of sent
        probes, the ids of those sent since the newest one known (all ids only when that does not
        add up: a probe sent with an older time, deleted or reset by hand), the targets'
        addresses, the campaigns' closed days and the case numbers added since the last call.
        The index (:class:`probes.email_match.ProbeIndex`) is then changed for the new probes
        and new case numbers alone, and built anew only when a target's addresses or a
        campaign's closed days changed. Reading every sent probe on every sync, rebuilding
        every reference and scanning them for every reply made the watcher's work grow with the
        campaign (a national run spent most of its time here; bench/bench_national.py).
        """
        is_sent = (
            Probe.channel == Channel.EMAIL,
            col(Probe.sent_at).is_not(None),
            col(Probe.message_id).is_not(None),
        )
        known = self._probe_rows
        changed: set[int] = set()
        gone: set[int] = set()
        with Session(self.engine) as session:
            # Counted first (in the database, no rows to build): ids are read only when the
            # number of sent probes moved, i.e. after questions went out.
            count = session.exec(select(func.count()).select_from(Probe).where(*is_sent)).one()
            if count != len(known):
                fresh: set[int] | None = None
                if self._sent_upto is not None:
                    recent = session.exec(
                        select(Probe.id).where(*is_sent, col(Probe.sent_at) >= self._sent_upto)
                    ).all()
                    fresh = {p for p in recent if p is not None} - known.keys()
                if fresh is None or len(known) + len(fresh) != count:
                    sent = set(session.exec(select(Probe.id).where(*is_sent)).all())
                    gone = known.keys() - sent
                    fresh = {p for p in sent - known.keys() if p is not None}
                for probe_id in gone:
                    del known[probe_id]
                changed |= fresh
                ordered = sorted(fresh)
                for at in range(0, len(ordered), 500):
                    for probe, subject, body in session.exec(
                        select(Probe, Question.subject, Question.body)
                        .outerjoin(Question, col(Probe.question_id) == col(Question.id))
                        .where(col(Probe.id).in_(ordered[at : at + 500]))
                    ).all():
                        assert probe.id is not None
                        assert probe.message_id is not None
                        assert probe.sent_at is not None
                        known[probe.id] = _SentProbe(
                            probe.id, probe.campaign_id, probe.target_id, probe.message_id,
                            probe.reply_token, probe.persona_address or "", subject or "",
                            body or "", probe.sent_at, probe.claimed_at,
                        )  # fmt: skip
                if gone:
                    self._target_ids = {row.target_id for row in known.values()}
                    self._campaign_ids = {row.campaign_id for row in known.values()}
                self._target_ids.update(known[p].target_id for p in fresh if p in known)
                self._campaign_ids.update(known[p].campaign_id for p in fresh if p in known)
                newest = (known[p].sent_at for p in (known if gone else fresh) if p in known)
                latest = max(newest, default=None)
                if gone or self._sent_upto is None:
                    self._sent_upto = latest
                elif latest is not None:
                    self._sent_upto = max(self._sent_upto, latest)
            for number_id, probe_id, number in session.exec(
                select(CaseNumber.id, CaseNumber.probe_id, CaseNumber.number)
                .where(col(CaseNumber.id) > self._case_numbers_upto)
                .order_by(col(CaseNumber.id))
            ).all():
                self._case_numbers.setdefault(probe_id, []).append(number)
                self._case_numbers_upto = max(self._case_numbers_upto, number_id or 0)
                changed.add(probe_id)
            held = sum(len(numbers) for numbers in self._case_numbers.values())
            if session.exec(select(func.count()).select_from(CaseNumber)).one() != held:
                # One committed late under a lower id (another writer): read them all again.
                changed |= self._case_numbers.keys()
                self._case_numbers = {}
                for number_id, probe_id, number in session.exec(
                    select(CaseNumber.id, CaseNumber.probe_id, CaseNumber.number).order_by(
                        col(CaseNumber.id)
                    )
                ).all():
                    self._case_numbers.setdefault(probe_id, []).append(number)
                    self._case_numbers_upto = max(self._case_numbers_upto, number_id or 0)
                    changed.add(probe_id)
            # A person may change a target's addresses or a campaign's closed days while the
            # watcher runs: both are small tables, read each time.
            targets = {
                t_id: (address or "", tuple(domains or ()))
                for t_id, address, domains in session.exec(
                    select(Target.id, Target.email_address, Target.extra_reply_domains).where(
                        col(Target.id).in_(self._target_ids)
                    )
                ).all()
            }
            # Each campaign's own closed days: the watcher times an answer by the calendar of
            # its question's campaign (harness.rules.calendars).
            # Only that field is read from the stored scenario (a JSON path, on SQLite and on
            # PostgreSQL): decoding a national scenario (every target) on every sync was a
            # good part of the watcher's time.
            closed = {
                campaign_id: scenario_closed_days({"campaign": {"extra_closed_days": days}})
                for campaign_id, days in session.exec(
                    select(
                        Campaign.id,
                        col(Campaign.scenario)[("campaign", "extra_closed_days")],
                    ).where(col(Campaign.id).in_(self._campaign_ids))
                ).all()
            }

        def ref(row: _SentProbe) -> ProbeRef:
            address, extra = targets.get(row.target_id, ("", ()))
            domain = address.rpartition("@")[2]
            return ProbeRef(
                id=row.id,
                message_id=row.message_id,
                reply_token=row.reply_token,
                reply_address=plus_address(row.persona_address, row.reply_token)
                if row.reply_token and row.persona_address
                else row.persona_address,
                target_address=address,
                target_domains=tuple(d for d in (domain, *extra) if d),
                subject=row.subject,
                body=row.body,
                sent_at=row.sent_at,
                case_numbers=tuple(self._case_numbers.get(row.id, ())),
                closed_days=closed.get(row.campaign_id, frozenset()),
            )

        if self._index is None or self._index_inputs != (targets, closed):
            self._index = ProbeIndex(ref(known[key]) for key in sorted(known))
        elif changed or gone:
            self._index = self._index.with_changes(
                (ref(known[key]) for key in sorted(changed) if key in known), gone
            )
        self._index_inputs = (targets, closed)
        return self._index

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
        # Only mail fetched since the oldest of these questions was claimed can answer one (all
        # unmatched mail when one has no claim time): the unmatched mail of a whole campaign,
        # newsletters and strays, was read again whenever questions went out.
        claimed = [self._probe_rows[ref.id].claimed_at for ref in fresh]
        known = [at for at in claimed if at is not None]
        since = min(known) - CLOCK_MARGIN if known and len(known) == len(claimed) else None
        adopted = 0
        with Session(self.engine) as session:
            query = (
                select(Message.id, Message.in_reply_to, Message.references, Message.to_addresses)
                .where(col(Message.probe_id).is_(None))
                .where(Message.classified_by == "rule")
            )
            if since is not None:
                query = query.where(col(Message.fetched_at) >= since)
            orphans = session.exec(query).all()
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
                fill_row(row, analysis)
                session.add(row)
                session.flush()
                if not analysis.match.needs_review:
                    apply_to_probe(session, row, analysis, self.rules)
                    remember_case_numbers(session, row, analysis)
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
            row.review_codes = [{"code": "analysis_failed"}]
            row.arrived_at = message.internal_date
            row.arrival_source = "internaldate" if message.internal_date else None
        else:
            fill_row(row, analysis)
        replace_nul(row)  # PostgreSQL's text cannot hold NUL; the raw message keeps it
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
        events: list[RunEvent] = []
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
                    apply_to_probe(session, row, analysis, self.rules)
                    remember_case_numbers(session, row, analysis)
                stored.append(message)
                if self.on_event is not None and row.probe_id is not None:
                    events.append(_reply_event(session, row))
            session.commit()
        for event in events:
            assert self.on_event is not None
            self.on_event(event)
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


def _reply_event(session: Session, row: Message) -> RunEvent:
    """A stored mail as the operator reads it: its kind, and whether it is the probe's answer."""
    probe = session.get(Probe, row.probe_id)
    target = session.get(Target, probe.target_id) if probe else None
    counted = (
        probe is not None
        and probe.outcome == "answered"
        and probe.completed_at is not None
        and row.arrived_at is not None
        and probe.completed_at == row.arrived_at
    )
    return RunEvent(
        "reply",
        probe_id=row.probe_id,
        target=f"{target.kommunkod} {target.name}" if target else None,
        channel="email",
        code=row.classification,
        params={"counted": counted, "review": bool(row.needs_review),
                "holding": bool(row.holding_reply), "bounce_final": bool(row.bounce_final)},
    )  # fmt: skip


# Match signals that name the probe itself: never pointing at the wrong one.
_BY_ID = frozenset({"in_reply_to", "references", "reply_token", "bounce_original"})
