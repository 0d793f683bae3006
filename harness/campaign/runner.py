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
   completed as ``not_answered``.
5. **Replace.** A harness fault gets a replacement probe at the next free slot, so the sample
   size holds.
6. **Follow-ups.** Channels whose evidence arrives by callback get a look at their open probes
   (a finished call is turned into its outcome, :mod:`harness.channels.phone.finisher`).

Safety: only targets of the campaign are contacted, never a placeholder target, never a paused
target or campaign, and never more calls to one target in a day than the campaign allows
(counting calls actually placed, whatever the plan said). Tests call :meth:`Runner.tick` with a
FakeClock; the scheduler only wakes it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from harness.channels.registry import CHANNELS, channel
from harness.core.clock import Clock
from harness.core.scenario import WEEKDAYS, CampaignSpec
from harness.store.models import Campaign, Probe, ProbeState, Question, Target
from harness.store.probestore import record_failure, record_sent
from probes.base import (
    DispatchJob,
    HarnessFault,
    Persona,
    ProbeContext,
    ProbeError,
    SendUnknown,
    Transcript,
)
from probes.base import Probe as ChannelProbe
from probes.email_send import new_message_id, new_reply_token
from results.calendar import WorkCalendar
from results.campaign_days import CampaignDays, grid, nearest_free

log = logging.getLogger(__name__)

# Resolve a crashed send: return the instant the evidence shows it was accepted, or None.
SendResolver = Callable[[Probe], Awaitable[datetime | None]]
# A follow-up looks at probes awaiting evidence and returns how many it finished.
FollowUp = Callable[[datetime], Awaitable[int]]
# The channels whose probes wait for a reply and are given up on after the limit.
_WAITING = [spec.name for spec in CHANNELS.values() if spec.waits_for_reply]
STEP_MINUTES = 5  # the planner's slot grid (PlanRules.slot_minutes)


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
    notes: list[str] = field(default_factory=list)

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
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.channels = channels
        # The configuration's calendar (wiring.work_calendar), shared by every campaign the
        # runner serves: each campaign's own closed days are added where that campaign's probes
        # are handled (_campaign_day, _give_up), never baked in here.
        self.calendar = calendar
        self.resolver = resolver
        self.reply_tokens = reply_tokens
        self.followups = tuple(followups)

    # --- the tick ---------------------------------------------------------------------------

    async def tick(self, now: datetime | None = None) -> TickResult:
        now = now or self.clock.now()
        result = TickResult()
        await self._resolve_unknown(result)
        with Session(self.engine) as session:
            work = [p.id for p, _, _ in _due(session, now)]
        for probe_id in work:
            assert probe_id is not None
            await self._handle_due(probe_id, now, result)
        self._give_up(now, result)
        for followup in self.followups:
            result.finished += await followup(now)
        self._replace_faults(now, result)
        return result

    def preview(self, now: datetime) -> tuple[list[Probe], list[Probe]]:
        """Read-only: the due probes a tick at ``now`` would send, and those it would move."""
        send: list[Probe] = []
        move: list[Probe] = []
        with Session(self.engine) as session:
            for probe, target, campaign in _due(session, now):
                if campaign.status == "paused" or target.paused or _refusal(probe, target):
                    continue
                spec = CampaignSpec.model_validate(campaign.scenario["campaign"])
                inside = self._window_today(spec, probe.channel, now) is not None
                (send if inside else move).append(probe)
        return send, move

    def next_due(self) -> datetime | None:
        with Session(self.engine) as session:
            return session.exec(
                select(Probe.planned_at)
                .where(Probe.state == ProbeState.PLANNED)
                .order_by(col(Probe.planned_at))
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
            campaign = session.get(Campaign, probe.campaign_id)
            assert target is not None
            assert campaign is not None
            if campaign.status == "paused" or target.paused:
                return PlaceNow(False, "paused")
            if probe.channel not in self.channels:
                return PlaceNow(False, "no_channel")
            if _refusal(probe, target) is not None:
                return PlaceNow(False, "refused")
            spec = CampaignSpec.model_validate(campaign.scenario["campaign"])
            window = self._window_today(spec, probe.channel, now)
            if window is None:
                return PlaceNow(False, "outside_window")
            kind = channel(probe.channel)
            if kind.limit_by_placed and self._placed_today(session, probe, now) >= kind.per_day(
                spec
            ):
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
                else:
                    row.outcome = "send_unknown"
                    row.fault_reason = (
                        "The runner stopped while sending; no evidence that the question left. "
                        "Check with the recipient before sending again"
                    )
                    result.flagged += 1
                session.add(row)
                session.commit()

    # --- 2 and 3. due probes ----------------------------------------------------------------

    async def _handle_due(self, probe_id: int, now: datetime, result: TickResult) -> None:
        with Session(self.engine) as session:
            probe = session.get(Probe, probe_id)
            if probe is None or probe.state != ProbeState.PLANNED:
                return
            target = session.get(Target, probe.target_id)
            campaign = session.get(Campaign, probe.campaign_id)
            assert target is not None
            assert campaign is not None
            if campaign.status == "paused" or target.paused:
                return
            if probe.channel not in self.channels:
                # Not a fault of this probe: it waits until the channel is configured (its slot
                # is moved like any missed slot once it has passed).
                result.notes.append(f"probe {probe_id}: the {probe.channel} channel is not set up")
                result.waiting += 1
                return
            spec = CampaignSpec.model_validate(campaign.scenario["campaign"])
            refusal = _refusal(probe, target)
            if refusal is not None:
                # Our own safety rule stopped it: visible, never replaced, never counted.
                result.refused += 1
                result.notes.append(f"probe {probe_id}: {refusal}")
                probe.state = ProbeState.FAILED
                probe.outcome = "refused"
                probe.fault_reason = refusal
                probe.completed_at = now
                session.add(probe)
                session.commit()
                return
            window = self._window_today(spec, probe.channel, now)
            search_from = now
            kind = channel(probe.channel)
            limited = window is not None and kind.limit_by_placed
            if limited and self._placed_today(session, probe, now) >= kind.per_day(spec):
                # This target had its calls today: move to a later day.
                window = None
                local = now.astimezone(self.calendar.tz).date() + timedelta(days=1)
                search_from = datetime.combine(local, time(0), self.calendar.tz)
            if window is None:
                moved = self._next_free_slot(session, probe, spec, search_from)
                if moved is None:
                    record_failure(
                        session, probe_id, HarnessFault("No free slot left in the period"), now
                    )
                    result.failed += 1
                else:
                    probe.planned_at = moved
                    session.add(probe)
                    result.rescheduled += 1
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
                record_failure(session, probe_id, exc, self.clock.now())
                session.commit()
            if isinstance(exc, HarnessFault):
                result.failed += 1
            elif isinstance(exc, SendUnknown):
                result.flagged += 1
            else:
                result.rejected += 1
            log.warning("probe %s: %s", probe_id, exc)
            return
        with Session(self.engine) as session:
            record_sent(session, probe_id, done)
            session.commit()
        result.sent += 1

    # --- windows and slots ------------------------------------------------------------------

    def _placed_today(self, session: Session, probe: Probe, now: datetime) -> int:
        """Probes of this channel already placed to this target today (local day), refused ones
        not counted: calls placed by hand from the console count against the day's limit."""
        day = now.astimezone(self.calendar.tz).date()
        start = datetime.combine(day, time(0), self.calendar.tz)
        placed = session.exec(
            select(Probe.claimed_at).where(
                Probe.target_id == probe.target_id,
                Probe.channel == probe.channel,
                col(Probe.id) != probe.id,
                col(Probe.claimed_at) >= start,
                col(Probe.claimed_at) < start + timedelta(days=1),
            )
        ).all()
        return len(placed)

    def _days(self, spec: CampaignSpec) -> CampaignDays:
        """The campaign's days by the planner's own rule (results.campaign_days)."""
        return CampaignDays(
            spec.period_start,
            spec.period_end,
            frozenset(WEEKDAYS.index(day) for day in spec.weekdays),
            self.calendar.with_closed_days(spec.extra_closed_days),
        )

    def _campaign_day(self, spec: CampaignSpec, day: date) -> bool:
        return self._days(spec).is_campaign_day(day)

    def _window(self, spec: CampaignSpec, name: str) -> tuple[time, time]:
        return channel(name).window(spec)

    def _window_today(
        self, spec: CampaignSpec, channel: str, now: datetime
    ) -> tuple[datetime, datetime] | None:
        """Today's window as instants, if ``now`` is inside it on a campaign day."""
        local = now.astimezone(self.calendar.tz)
        if not self._campaign_day(spec, local.date()):
            return None
        start_t, end_t = self._window(spec, channel)
        start = datetime.combine(local.date(), start_t, self.calendar.tz)
        end = datetime.combine(local.date(), end_t, self.calendar.tz)
        return (start, end) if start <= local < end else None

    def _next_free_slot(
        self, session: Session, probe: Probe, spec: CampaignSpec, now: datetime
    ) -> datetime | None:
        """The first slot from ``now`` on that keeps the target's spacing and per-day limits."""
        others = session.exec(
            select(Probe).where(
                Probe.target_id == probe.target_id,
                col(Probe.id) != probe.id,
                col(Probe.state).not_in([ProbeState.CANCELLED, ProbeState.FAILED]),
            )
        ).all()
        spacing = timedelta(minutes=spec.min_spacing_minutes)
        limit = channel(probe.channel).per_day(spec)
        start_t, end_t = self._window(spec, probe.channel)
        wanted = probe.planned_at.astimezone(self.calendar.tz).time()
        local_now = now.astimezone(self.calendar.tz)
        day = local_now.date()
        while day <= spec.period_end:
            if self._campaign_day(spec, day):
                same_day = [
                    o for o in others if o.planned_at.astimezone(self.calendar.tz).date() == day
                ]
                if sum(o.channel == probe.channel for o in same_day) < limit:
                    slot = self._free_time(day, start_t, end_t, wanted, same_day, spacing, now)
                    if slot is not None:
                        return slot
            day += timedelta(days=1)
        return None

    def _free_time(
        self,
        day: date,
        start_t: time,
        end_t: time,
        wanted: time,
        same_day: list[Probe],
        spacing: timedelta,
        now: datetime,
    ) -> datetime | None:
        """The free slot nearest ``wanted`` on the planner's grid, not before ``now``: the
        planner's own rule (results.campaign_days.nearest_free)."""
        tz = self.calendar.tz
        slots = [
            m
            for m in grid((start_t, end_t), STEP_MINUTES)
            if datetime.combine(day, time(m // 60, m % 60), tz) >= now
        ]
        if not slots:
            return None
        want_minute = wanted.hour * 60 + wanted.minute
        want = min(range(len(slots)), key=lambda i: abs(slots[i] - want_minute))
        taken = []
        for other in same_day:
            local = other.planned_at.astimezone(tz)
            taken.append(local.hour * 60 + local.minute + local.second / 60)
        found = nearest_free(slots, want, taken, spacing.total_seconds())
        if found is None:
            return None
        return datetime.combine(day, time(found // 60, found % 60), tz).astimezone(now.tzinfo)

    # --- 4 and 5. give up, replace ------------------------------------------------------------

    def _give_up(self, now: datetime, result: TickResult) -> None:
        with Session(self.engine) as session:
            # One campaign's settings per campaign, not per waiting probe: decoding the stored
            # scenario for each of ten thousand waiting probes made every tick of a national
            # campaign take seconds (bench/bench_national.py found it).
            waiting_in = (
                select(Probe.campaign_id)
                .where(Probe.state == ProbeState.SENT, col(Probe.channel).in_(_WAITING))
                .distinct()
            )
            campaigns = session.exec(
                select(Campaign.id, Campaign.scenario).where(col(Campaign.id).in_(waiting_in))
            ).all()
            for campaign_id, scenario in campaigns:
                spec = CampaignSpec.model_validate(scenario["campaign"])
                # The campaign's own closed days (a staff day) extend its deadlines like a
                # holiday does; built once per campaign, as the spec is.
                calendar = self.calendar.with_closed_days(spec.extra_closed_days)
                # N office days (9 business hours each) end no sooner than N - 1 calendar days
                # after the question: younger ones cannot be due, so they are not even read.
                oldest = now - timedelta(days=spec.give_up_working_days - 1)
                waiting = session.exec(
                    select(Probe).where(
                        Probe.campaign_id == campaign_id,
                        Probe.state == ProbeState.SENT,
                        col(Probe.channel).in_(_WAITING),
                        col(Probe.sent_at) <= oldest,
                    )
                ).all()
                for probe in waiting:
                    assert probe.sent_at is not None
                    deadline = calendar.deadline(probe.sent_at, spec.give_up_working_days)
                    if now > deadline:
                        probe.state = ProbeState.COMPLETED
                        probe.outcome = "not_answered"
                        probe.completed_at = deadline
                        session.add(probe)
                        result.given_up += 1
            session.commit()

    def _replace_faults(self, now: datetime, result: TickResult) -> None:
        with Session(self.engine) as session:
            replaced = {
                p.replaces_probe_id
                for p in session.exec(
                    select(Probe).where(col(Probe.replaces_probe_id).is_not(None))
                ).all()
            }
            failed = session.exec(
                select(Probe, Campaign)
                .join(Campaign, col(Probe.campaign_id) == col(Campaign.id))
                .where(Probe.state == ProbeState.FAILED)
            ).all()
            for probe, campaign in failed:
                if probe.id in replaced or probe.outcome == "refused":
                    continue
                spec = CampaignSpec.model_validate(campaign.scenario["campaign"])
                # Not at once: whatever failed on our side is unlikely to be fixed a second later.
                later = now + timedelta(minutes=max(spec.min_spacing_minutes, 60))
                slot = self._next_free_slot(session, probe, spec, later)
                if slot is None:
                    continue  # the period is over: the fault stays visible, unreplaced
                generation = (probe.plan_key or f"probe{probe.id}").count("/r") + 1
                session.add(
                    Probe(
                        campaign_id=probe.campaign_id,
                        target_id=probe.target_id,
                        question_id=probe.question_id,
                        channel=probe.channel,
                        mode=probe.mode,
                        planned_at=slot,
                        persona_name=probe.persona_name,
                        persona_address=probe.persona_address,
                        persona_index=probe.persona_index,
                        replaces_probe_id=probe.id,
                        plan_key=f"{probe.plan_key}/r{generation}" if probe.plan_key else None,
                    )
                )
                result.replaced += 1
            session.commit()


def _due(session: Session, now: datetime) -> list[tuple[Probe, Target, Campaign]]:
    """Planned probes whose time has come, oldest first, with their target and campaign."""
    rows = session.exec(
        select(Probe, Target, Campaign)
        .join(Target, col(Probe.target_id) == col(Target.id))
        .join(Campaign, col(Probe.campaign_id) == col(Campaign.id))
        .where(Probe.state == ProbeState.PLANNED, col(Probe.planned_at) <= now)
        .order_by(col(Probe.planned_at))
    ).all()
    return [(p, t, c) for p, t, c in rows]


def _refusal(probe: Probe, target: Target) -> str | None:
    """The safety allowlist: only real, configured addresses of this campaign's targets."""
    if target.placeholder:
        return f"Refused: {target.name} is a placeholder target in the scenario"
    kind = channel(probe.channel)
    if not kind.address(target):
        return f"Refused: {target.name} has no {kind.address_name}"
    return None
