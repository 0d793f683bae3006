"""Turn placed calls into outcomes: the runner's phone follow-up.

The webhooks only store events. On every tick this looks at each placed call (``sent``): it computes
the timeline from the stored events (:mod:`harness.channels.phone.store`), and once the call has a
verdict it fetches the call over REST to keep Twilio's own record beside the callbacks (start, end,
duration, price: "reconcile"), then completes the probe with its outcome. A failed call (our side)
becomes a harness fault, which the runner replaces. A call whose final callback never came is
fetched over REST once it must have ended (ring timeout + time limit + a margin), so a lost callback
cannot leave a probe open for ever.

The probe's ``outcome`` and ``completed_at`` are a summary for listings; scoring always
recomputes the timeline from the events, so changing the hold limit re-scores stored calls.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from harness.channels.phone import store as phonestore
from harness.core.clock import Clock, ensure_utc
from harness.core.events import OnEvent, RunEvent
from harness.store.models import Channel, Probe, ProbeState, Target
from probes.phone_call import PhoneProbe
from results.phone_timeline import TimelineRules

log = logging.getLogger(__name__)
MARGIN = timedelta(minutes=10)


class CallFinisher:
    def __init__(
        self,
        engine: Any,
        clock: Clock,
        phone: PhoneProbe | None,
        rules: TimelineRules,
        *,
        longest_call: timedelta,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.phone = phone
        self.rules = rules
        self.longest_call = longest_call
        self.on_event: OnEvent | None = None  # told of every call it completes (`kkik run`)

    async def __call__(self, now: datetime) -> int:
        with Session(self.engine) as session:
            open_calls = session.exec(
                select(Probe).where(Probe.channel == Channel.PHONE, Probe.state == ProbeState.SENT)
            ).all()
        finished = 0
        for probe in open_calls:
            if await self._finish(probe, now):
                finished += 1
        return finished

    async def _finish(self, probe: Probe, now: datetime) -> bool:
        assert probe.id is not None
        with Session(self.engine) as session:
            rows = phonestore.events_for(session, [probe.id])[probe.id]
        sid = probe.call_sid or next((r.call_sid for r in rows if not r.parent_call_sid), None)
        line = phonestore.timeline(probe, rows, self.rules)
        overdue = probe.sent_at is not None and now > ensure_utc(probe.sent_at) + (
            self.longest_call + MARGIN
        )
        if not line.finished and not overdue:
            return False
        if sid is not None and self.phone is not None:
            await self._reconcile(probe, sid, now)
            with Session(self.engine) as session:
                rows = phonestore.events_for(session, [probe.id])[probe.id]
            line = phonestore.timeline(probe, rows, self.rules)
        if not line.finished:
            log.warning("probe %s: call %s has no final status yet", probe.id, sid)
            return False
        with Session(self.engine) as session:
            row = session.get(Probe, probe.id)
            if row is None or row.state != ProbeState.SENT:
                return False
            row.call_sid = row.call_sid or sid
            row.outcome = line.outcome
            row.completed_at = line.ended_at or now
            if line.outcome == "failed":
                row.state = ProbeState.FAILED
                row.fault_reason = line.fault_reason
                row.fault_code = line.fault_code
                row.fault_params = line.fault_params
            else:
                row.state = ProbeState.COMPLETED
            session.add(row)
            session.commit()
            if self.on_event is not None:
                target = session.get(Target, row.target_id)
                self.on_event(
                    RunEvent(
                        "call_ended",
                        probe_id=row.id,
                        target=f"{target.kommunkod} {target.name}" if target else None,
                        channel=Channel.PHONE,
                        code=line.outcome,
                        params={"fault": row.fault_code, **(row.fault_params or {})},
                    )
                )
        return True

    async def _reconcile(self, probe: Probe, sid: str, now: datetime) -> None:
        assert self.phone is not None
        try:
            calls = [await self.phone.fetch(sid)]
            if probe.mode != "automated":
                calls += await self.phone.legs(sid)
        except Exception as exc:  # the API may be down; callbacks remain the record
            log.warning("probe %s: could not fetch call %s: %s", probe.id, sid, exc)
            return
        with Session(self.engine) as session:
            for facts in calls:
                if facts.get("status") in phonestore.FINAL_STATUSES:
                    phonestore.add_reconcile(session, probe, facts, now)
            session.commit()
