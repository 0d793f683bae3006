"""Where and when the runner may still send: today's window, a target's calls placed today, and
the next free slot for a probe whose slot passed or that replaces a harness fault.

The campaign days and the free-slot rule are the planner's own (:mod:`results.campaign_days`),
so a moved probe lands where the planner would have put it: the same grid, spacing and per-day
limits. The database reads that feed them (the target's other probes, today's placed calls) are
here; the rule is pure.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlmodel import Session, col, select

from harness.channels.registry import channel
from harness.core.scenario import WEEKDAYS, CampaignSpec
from harness.store.models import Probe, ProbeState
from results.calendar import WorkCalendar
from results.campaign_days import CampaignDays, grid, nearest_free

STEP_MINUTES = 5  # the planner's slot grid (PlanRules.slot_minutes)


class Slots:
    """The runner's view of a campaign's days and windows under one calendar.

    The calendar is the configuration's, shared by every campaign the runner serves: each
    campaign's own closed days are added per campaign (:meth:`days`), never baked in.
    """

    def __init__(self, calendar: WorkCalendar) -> None:
        self.calendar = calendar

    def days(self, spec: CampaignSpec) -> CampaignDays:
        """The campaign's days by the planner's own rule (results.campaign_days)."""
        return CampaignDays(
            spec.period_start,
            spec.period_end,
            frozenset(WEEKDAYS.index(day) for day in spec.weekdays),
            self.calendar.with_closed_days(spec.extra_closed_days),
        )

    def window_today(
        self, spec: CampaignSpec, channel_name: str, now: datetime
    ) -> tuple[datetime, datetime] | None:
        """Today's window as instants, if ``now`` is inside it on a campaign day."""
        tz = self.calendar.tz
        local = now.astimezone(tz)
        if not self.days(spec).is_campaign_day(local.date()):
            return None
        start_t, end_t = channel(channel_name).window(spec)
        start = datetime.combine(local.date(), start_t, tz)
        end = datetime.combine(local.date(), end_t, tz)
        return (start, end) if start <= local < end else None

    def tomorrow(self, now: datetime) -> datetime:
        """The start of the next local day (where a target whose day is full is looked for)."""
        local = now.astimezone(self.calendar.tz).date() + timedelta(days=1)
        return datetime.combine(local, time(0), self.calendar.tz)

    def placed_today(self, session: Session, probe: Probe, now: datetime) -> int:
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

    def next_free(
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
        tz = self.calendar.tz
        spacing = timedelta(minutes=spec.min_spacing_minutes)
        kind = channel(probe.channel)
        limit = kind.per_day(spec)
        window = kind.window(spec)
        wanted = probe.planned_at.astimezone(tz).time()
        days = self.days(spec)
        day = now.astimezone(tz).date()
        while day <= spec.period_end:
            if days.is_campaign_day(day):
                same_day = [o for o in others if o.planned_at.astimezone(tz).date() == day]
                if sum(o.channel == probe.channel for o in same_day) < limit:
                    slot = self._free_time(day, window, wanted, same_day, spacing, now)
                    if slot is not None:
                        return slot
            day += timedelta(days=1)
        return None

    def _free_time(
        self,
        day: date,
        window: tuple[time, time],
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
            for m in grid(window, STEP_MINUTES)
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
