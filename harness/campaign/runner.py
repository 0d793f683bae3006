"""The runner: one ``tick(now)`` does the work that is due; nothing else decides anything.

State lives in the database, so a tick can be interrupted anywhere and the next one carries on:

1. **Unknown outcomes.** A probe left in ``sending`` by a crash may or may not have reached the
   server. It is never sent again blindly: the resolver looks for evidence (our Message-ID in the
   mailbox's Sent folder); found, the probe is ``sent`` with that evidence; not found, it is
   flagged (``outcome = send_unknown``) for a person to decide.
2. **Due probes.** A planned probe whose time has come is sent if ``now`` is inside its channel's
   window on a campaign day; a slot missed while the runner was stopped is moved to the next free
   slot of the period (same spacing and per-day limits), never sent outside a window.
3. **Claim, then send.** ``planned -> sending`` is a conditional UPDATE that must change exactly
   one row, committed *before* the question is handed to the server, with the Message-ID already
   stored. The outcome is then recorded (:mod:`harness.store.probestore`).
4. **Give up.** An e-mail probe unanswered after the campaign's give-up limit (working days) is
   completed as ``not_answered`` (:mod:`harness.campaign.upkeep`).
5. **Replace.** A harness fault gets a replacement probe at the next free slot, so the sample
   size holds (:mod:`harness.campaign.upkeep`; slots by :mod:`harness.campaign.slots`).
6. **Follow-ups.** Channels whose evidence arrives by callback get a look at their open probes
   (a finished call is turned into its outcome, :mod:`harness.channels.phone.finisher`).

Safety: only targets of the campaign are contacted, never a placeholder target, never a paused
target or campaign, and never more calls to one target in a day than the campaign allows
(counting calls actually placed, whatever the plan said). Tests call :meth:`Runner.tick` with a
FakeClock; the scheduler only wakes it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from harness.campaign.due import Preview, campaign_rules, due_ids, preview, refused
from harness.campaign.fault_pause import pause_on_repeats
from harness.campaign.slots import Slots
from harness.campaign.upkeep import give_up, replace_faults
from harness.channels.registry import channel
from harness.core.clock import Clock
from harness.core.events import EventKind, RunEvent
from harness.store.models import Probe, ProbeState, Question, Target
from harness.store.probestore import record_failure, record_sent, set_fault
from probes.base import (
    DispatchJob,
    HarnessFault,
    Persona,
    ProbeContext,
    ProbeError,
    SendUnknown,
    TargetRejected,
    Transcript,
)
from probes.base import Probe as ChannelProbe
from probes.email_send import new_message_id, new_reply_token
from results.calendar import WorkCalendar

log = logging.getLogger(__name__)

# Resolve a crashed send: return the instant the evidence shows it was accepted, or None.
SendResolver = Callable[[Probe], Awaitable[datetime | None]]
# A follow-up looks at probes awaiting evidence and returns how many it finished.
FollowUp = Callable[[datetime], Awaitable[int]]


@dataclass
class TickResult:
    sent: int = 0
    failed: int = 0
    rejected: int = 0
    rescheduled: int = 0
    resolved: int = 0
    flagged: int = 0
    given_up: int = 0
    replaced: int = 0
    refused: int = 0
    finished: int = 0  # probes a follow-up completed (e.g. a call whose outcome is now known)
    waiting: int = 0  # due, but their channel is not configured
    paused: int = 0  # campaigns the runner paused because the same fault kept repeating
    notes: list[str] = field(default_factory=list)
    events: list[RunEvent] = field(default_factory=list)  # what happened, for the operator

    @property
    def work(self) -> int:
        return (
            self.sent
            + self.failed
            + self.rejected
            + self.rescheduled
            + self.resolved
            + self.flagged
            + self.given_up
            + self.replaced
            + self.finished
        )


@dataclass(frozen=True)
class PlaceNow:
    """What :meth:`Runner.place_now` did: ``placed``, or why it did not (a key, not prose)."""

    placed: bool
    reason: str


class Runner:
    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        channels: Mapping[str, ChannelProbe],
        calendar: WorkCalendar,
        *,
        resolver: SendResolver | None = None,
        reply_tokens: bool = True,
        followups: Sequence[FollowUp] = (),
        pause_after_faults: int = 0,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.channels = channels
        # The configuration's calendar (harness.rules.calendars.work_calendar), shared by every
        # campaign the runner serves: each campaign's own closed days are added where that
        # campaign's probes are handled (Slots.days, upkeep.give_up), never baked in here.
        self.calendar = calendar
        self.slots = Slots(calendar)
        self.resolver = resolver
        self.reply_tokens = reply_tokens
        self.followups = tuple(followups)
        # The same harness fault this many times in a row pauses the campaign (0: never), so a
        # broken relay or a wrong password does not burn the plan probe by probe.
        self.pause_after_faults = pause_after_faults
        self._rechecked = False  # the stored give-up deadlines, checked on the first tick

    # --- the tick ---------------------------------------------------------------------------

    async def tick(self, now: datetime | None = None) -> TickResult:
        now = now or self.clock.now()
        result = TickResult()
        await self._resolve_unknown(result)
        with Session(self.engine) as session:
            work = due_ids(session, now)
        for probe_id in work:
            await self._handle_due(probe_id, now, result)
        self._give_up(now, result)
        for followup in self.followups:
            result.finished += await followup(now)
        self._replace_faults(now, result)
        return result

    def preview(self, now: datetime, configured: Collection[str] | None = None) -> list[Preview]:
        """Read-only: what a tick at ``now`` would do with each due probe, and why
        (:func:`harness.campaign.due.preview`); ``configured`` defaults to the runner's own
        channels."""
        ready = set(self.channels) if configured is None else set(configured)
        return preview(self.engine, self.slots, now, ready)

    def next_due(self) -> datetime | None:
        with Session(self.engine) as session:
            # LIMIT 1: without it the whole plan's times were read (and converted) to return
            # the first, on every turn of a virtual run (a third of a national run's time).
            return session.exec(
                select(Probe.planned_at)
                .where(Probe.state == ProbeState.PLANNED)
                .order_by(col(Probe.planned_at))
                .limit(1)
            ).first()

    async def place_now(self, probe_id: int, now: datetime | None = None) -> PlaceNow:
        """Send one planned probe now, ahead of its planned time (the call console's "Ring").

        Every safety rule of a tick applies: the probe must still be planned, its campaign and
        target not paused, its address allowed, ``now`` inside today's window, and the target
        under its calls-per-day limit. Unlike a tick nothing is moved or failed when a rule says
        no: the reason comes back and the probe stays as planned. The claim is the same
        conditional UPDATE as a tick's, so a runner ticking at the same moment cannot place it
        a second time.
        """
        now = now or self.clock.now()
        with Session(self.engine) as session:
            probe = session.get(Probe, probe_id)
            if probe is None:
                return PlaceNow(False, "unknown_probe")
            if probe.state != ProbeState.PLANNED:
                return PlaceNow(False, "not_planned")
            target = session.get(Target, probe.target_id)
            campaign = campaign_rules(session, probe.campaign_id)
            assert target is not None
            assert campaign is not None
            status, spec = campaign
            if status == "paused" or target.paused:
                return PlaceNow(False, "paused")
            if probe.channel not in self.channels:
                return PlaceNow(False, "no_channel")
            if refused(probe, target) is not None:
                return PlaceNow(False, "refused")
            window = self.slots.window_today(spec, probe.channel, now)
            if window is None:
                return PlaceNow(False, "outside_window")
            kind = channel(probe.channel)
            if kind.limit_by_placed and self.slots.placed_today(
                session, probe, now
            ) >= kind.per_day(spec):
                return PlaceNow(False, "day_limit")
            job = self._claim(session, probe, target, window[1], now)
        if job is None:
            return PlaceNow(False, "not_planned")
        result = TickResult()
        await self._dispatch(probe_id, job, result)
        if result.sent:
            return PlaceNow(True, "placed")
        return PlaceNow(False, "rejected" if result.rejected else "failed")

    # --- 1. unknown outcomes ------------------------------------------------------------------

    async def _resolve_unknown(self, result: TickResult) -> None:
        with Session(self.engine) as session:
            stuck = session.exec(
                select(Probe).where(Probe.state == ProbeState.SENDING, col(Probe.outcome).is_(None))
            ).all()
        for probe in stuck:
            try:
                evidence = await self.resolver(probe) if self.resolver is not None else None
            except Exception as exc:  # the mailbox is unreachable now: ask again next tick
                log.warning("probe %s: could not look for its sent copy: %s", probe.id, exc)
                result.notes.append(f"probe {probe.id}: sent copy not checked ({exc})"[:300])
                continue
            with Session(self.engine) as session:
                row = session.get(Probe, probe.id)
                if row is None or row.state != ProbeState.SENDING:
                    continue
                if evidence is not None:
                    row.state = ProbeState.SENT
                    row.sent_at = evidence
                    row.send_response = "Resolved after restart: copy found in the Sent folder"
                    result.resolved += 1
                    result.events.append(_event("resolved", session, row))
                else:
                    row.outcome = "send_unknown"
                    set_fault(
                        row,
                        SendUnknown(
                            "The runner stopped while sending; no evidence that the question "
                            "left. Check with the recipient before sending again",
                            code="crashed_while_sending",
                        ),
                    )
                    result.flagged += 1
                    result.events.append(_event("flagged", session, row))
                session.add(row)
                session.commit()

    # --- 2 and 3. due probes ----------------------------------------------------------------

    async def _handle_due(self, probe_id: int, now: datetime, result: TickResult) -> None:
        with Session(self.engine) as session:
            probe = session.get(Probe, probe_id)
            if probe is None or probe.state != ProbeState.PLANNED:
                return
            target = session.get(Target, probe.target_id)
            campaign = campaign_rules(session, probe.campaign_id)
            assert target is not None
            assert campaign is not None
            status, spec = campaign
            if status == "paused" or target.paused:
                return
            if probe.channel not in self.channels:
                # Not a fault of this probe: it waits until the channel is configured (its slot
                # is moved like any missed slot once it has passed).
                result.notes.append(f"probe {probe_id}: the {probe.channel} channel is not set up")
                result.waiting += 1
                return
            refusal = refused(probe, target)
            if refusal is not None:
                # Our own safety rule stopped it: visible, never replaced, never counted.
                result.refused += 1
                result.notes.append(f"probe {probe_id}: {refusal}")
                probe.state = ProbeState.FAILED
                probe.outcome = "refused"
                set_fault(probe, refusal)
                probe.completed_at = now
                session.add(probe)
                session.commit()
                result.events.append(_event("refused", session, probe, target))
                return
            window = self.slots.window_today(spec, probe.channel, now)
            search_from = now
            kind = channel(probe.channel)
            limited = window is not None and kind.limit_by_placed
            if limited and self.slots.placed_today(session, probe, now) >= kind.per_day(spec):
                # This target had its calls today: move to a later day.
                window = None
                search_from = self.slots.tomorrow(now)
            if window is None:
                moved = self.slots.next_free(session, probe, spec, search_from)
                if moved is None:
                    record_failure(
                        session,
                        probe_id,
                        HarnessFault("No free slot left in the period", code="no_free_slot"),
                        now,
                    )
                    result.failed += 1
                    result.events.append(_event("no_slot", session, probe, target))
                else:
                    probe.planned_at = moved
                    session.add(probe)
                    result.rescheduled += 1
                    result.events.append(_event("moved", session, probe, target, at=moved))
                session.commit()
                return
            job = self._claim(session, probe, target, window[1], now)
        if job is None:
            return
        await self._dispatch(probe_id, job, result)

    def _claim(
        self, session: Session, probe: Probe, target: Target, send_by: datetime, now: datetime
    ) -> DispatchJob | None:
        """planned -> sending, with identifiers stored first; None if another runner won."""
        question = session.get(Question, probe.question_id) if probe.question_id else None
        persona = Persona(probe.persona_name or "", probe.persona_address or "")
        message_id = probe.message_id
        token = probe.reply_token
        mode = probe.mode
        kind = channel(probe.channel)
        if kind.records_mode:
            # Record the mode the call is actually placed in (the channel's, from the settings).
            mode = getattr(self.channels.get(probe.channel), "mode", None) or mode
        if kind.mints_message_id:
            domain = persona.address.rpartition("@")[2] or "localhost"
            message_id = message_id or new_message_id(domain, now)
            token = token or (new_reply_token() if self.reply_tokens else None)
        claimed = session.execute(
            update(Probe)
            .where(col(Probe.id) == probe.id, col(Probe.state) == ProbeState.PLANNED)
            .values(
                state=ProbeState.SENDING,
                claimed_at=now,
                attempts=Probe.attempts + 1,
                message_id=message_id,
                reply_token=token,
                mode=mode,
            )
        )
        session.commit()
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return None
        return DispatchJob(
            probe_id=probe.id or 0,
            persona=persona,
            recipient=kind.address(target) or "",
            subject=question.subject if question else "",
            body=kind.question_text(question) if question else "",
            send_by=send_by,
            message_id=message_id,
            reply_token=token,
        )

    async def _dispatch(self, probe_id: int, job: DispatchJob, result: TickResult) -> None:
        with Session(self.engine) as session:
            probe = session.get(Probe, probe_id)
            assert probe is not None
            channel = self.channels.get(probe.channel)
        ctx = ProbeContext(clock=self.clock, transcript=Transcript(self.clock))
        assert channel is not None  # checked before the claim
        try:
            done = await channel.dispatch(ctx, job)
        except ProbeError as exc:
            with Session(self.engine) as session:
                row = record_failure(session, probe_id, exc, self.clock.now())
                session.commit()
                if isinstance(exc, SendUnknown):
                    result.flagged += 1
                    result.events.append(_event("flagged", session, row))
                elif isinstance(exc, TargetRejected):
                    result.rejected += 1
                    result.events.append(_event("rejected", session, row, code=exc.code,
                                                params=exc.params))  # fmt: skip
                else:
                    result.failed += 1
                    result.events.append(_event("failed", session, row))
            log.info("probe %s: %s", probe_id, exc)
            if not isinstance(exc, SendUnknown | TargetRejected):
                self._pause_on_repeats(probe_id, result)
            return
        with Session(self.engine) as session:
            row = record_sent(session, probe_id, done)
            session.commit()
            result.events.append(_event("sent", session, row))
        result.sent += 1

    def _pause_on_repeats(self, probe_id: int, result: TickResult) -> None:
        event = pause_on_repeats(self.engine, probe_id, self.pause_after_faults, self.clock.now())
        if event is not None:
            result.paused += 1
            result.events.append(event)

    # --- 4 and 5. give up, replace (harness.campaign.upkeep) ---------------------------------

    def _give_up(self, now: datetime, result: TickResult) -> None:
        # The first tick of a runner computes every waiting probe's deadline again (the
        # configuration's calendar may have changed since the last run); later ticks only
        # those of probes sent since.
        result.given_up += give_up(self.engine, self.calendar, now, recheck=not self._rechecked)
        self._rechecked = True

    def _replace_faults(self, now: datetime, result: TickResult) -> None:
        result.replaced += replace_faults(self.engine, self.slots, now)


def _event(
    kind: EventKind,
    session: Session,
    probe: Probe,
    target: Target | None = None,
    *,
    at: datetime | None = None,
    code: str | None = None,
    params: Mapping[str, object] | None = None,
) -> RunEvent:
    """An event about ``probe``, named by its municipality, with its stored reason."""
    target = target or session.get(Target, probe.target_id)
    return RunEvent(
        kind,
        probe_id=probe.id,
        target=f"{target.kommunkod} {target.name}" if target else None,
        channel=probe.channel,
        code=code or probe.fault_code,
        params=dict(params if params is not None else probe.fault_params or {}),
        at=at,
    )
