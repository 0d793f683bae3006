"""Telling the operator, by e-mail, when the campaign needs a person.

Four things: the mailbox watcher has been disconnected for a while (replies may be piling up
unseen), a municipality's address bounced or was refused, a question could not be sent at all (a
harness fault), and the runner paused the campaign because the same fault kept repeating. Each
alert has a key; the same key is not mailed again within ``alerts.repeat_minutes``, so a long
outage gives one mail, not hundreds.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from harness.core.clock import Clock
from harness.core.i18n import Lang, Text
from harness.core.labels import PROBE_OUTCOMES, fault_text, label, pause_text
from harness.store.models import Campaign, Probe, ProbeState, Target
from probes.base import ProbeContext, ProbeError, Transcript
from probes.email_send import SmtpSender
from probes.email_watch import WatchStats

log = logging.getLogger(__name__)

T = {
    "watcher_subject": Text(
        "kkik: brevlådan har inte bevakats på {minutes} minuter",
        "kkik: the mailbox has not been watched for {minutes} minutes",
    ),
    "watcher_body": Text(
        "Mappen {folder} har saknat fungerande anslutning sedan {since}.\n"
        "Senaste fel: {error}\n\nSvar som kommer under tiden hämtas när anslutningen är "
        "tillbaka, med rätt ankomsttid; kontrollera servern och inloggningen (kkik doctor).",
        "The folder {folder} has had no working connection since {since}.\n"
        "Last error: {error}\n\nReplies arriving meanwhile are fetched when the connection is "
        "back, with their true arrival time; check the server and the login (kkik doctor).",
    ),
    "bounce_subject": Text(
        "kkik: {target} tar inte emot e-post", "kkik: {target} does not accept mail"
    ),
    "bounce_body": Text(
        "Frågan till {target} ({address}) kom inte fram: {reason}\n\n"
        "Kontrollera kommunens officiella adress och uppdatera scenariot.",
        "The question to {target} ({address}) did not arrive: {reason}\n\n"
        "Check the municipality's official address and update the scenario.",
    ),
    "paused_subject": Text(
        "kkik: kampanjen {campaign} är pausad", "kkik: the campaign {campaign} is paused"
    ),
    "paused_body": Text(
        "Kampanjen {campaign} pausades {at}: {reason}",
        "The campaign {campaign} was paused at {at}: {reason}",
    ),
    "fault_subject": Text(
        "kkik: en fråga kunde inte skickas", "kkik: a question could not be sent"
    ),
    "fault_body": Text(
        "Fråga {probe} till {target} kunde inte skickas: {reason}\n\n"
        "Den räknas inte mot kommunen och ersätts med en ny tid.",
        "Question {probe} to {target} could not be sent: {reason}\n\n"
        "It does not count against the municipality and is replaced at a new time.",
    ),
}


@dataclass(frozen=True)
class Alert:
    key: str
    subject: str
    body: str


class Alerter:
    def __init__(
        self,
        sender: SmtpSender,
        from_address: str,
        recipients: Sequence[str],
        clock: Clock,
        lang: Lang,
        *,
        repeat: timedelta = timedelta(hours=4),
    ) -> None:
        self.sender = sender
        self.from_address = from_address
        self.recipients = tuple(recipients)
        self.clock = clock
        self.lang = lang
        self.repeat = repeat
        self.sent: dict[str, datetime] = {}
        self.seen_probes: set[int] = set()

    async def send(self, alert: Alert) -> bool:
        """Mail ``alert`` unless the same key went out within the repeat period."""
        now = self.clock.now()
        last = self.sent.get(alert.key)
        if last is not None and now - last < self.repeat:
            return False
        message = EmailMessage()
        message["From"] = self.from_address
        message["To"] = ", ".join(self.recipients)
        message["Subject"] = alert.subject
        message["Date"] = format_datetime(now)
        message["Message-ID"] = make_msgid(domain=self.from_address.rpartition("@")[2] or None)
        message.set_content(alert.body)
        raw = message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
        ctx = ProbeContext(clock=self.clock, transcript=Transcript(self.clock))
        try:
            for recipient in self.recipients:
                await self.sender.send(
                    ctx, raw, mail_from=self.from_address, rcpt_to=recipient, send_by=now
                )
        except ProbeError as exc:
            log.error("alert %s could not be mailed: %s", alert.key, exc)
            return False
        self.sent[alert.key] = now
        return True

    def watcher_alerts(self, stats: Mapping[str, WatchStats], down_for: timedelta) -> list[Alert]:
        now = self.clock.now()
        alerts = []
        for folder, folder_stats in stats.items():
            since = folder_stats.down_since
            if since is not None and now - since >= down_for:
                minutes = int(down_for.total_seconds() // 60)
                alerts.append(
                    Alert(
                        f"watcher:{folder}",
                        T["watcher_subject"](self.lang, minutes=minutes),
                        T["watcher_body"](
                            self.lang,
                            folder=folder,
                            since=since.isoformat(timespec="minutes"),
                            error=folder_stats.last_error or "–",
                        ),
                    )
                )
        return alerts

    def probe_alerts(self, engine: Engine) -> list[Alert]:
        """New bounces, refusals and harness faults since the last look."""
        alerts = []
        with Session(engine) as session:
            rows = session.exec(
                select(Probe, Target)
                .join(Target, col(Probe.target_id) == col(Target.id))
                .where(
                    col(Probe.outcome).in_(["bounced", "rejected", "harness_fault"])
                    | (Probe.state == ProbeState.FAILED)
                )
            ).all()
        for probe, target in rows:
            if probe.id is None or probe.id in self.seen_probes or probe.outcome == "refused":
                continue
            self.seen_probes.add(probe.id)
            if probe.outcome in ("bounced", "rejected"):
                alerts.append(
                    Alert(
                        f"bounce:{target.id}",
                        T["bounce_subject"](self.lang, target=target.name),
                        T["bounce_body"](
                            self.lang,
                            target=target.name,
                            address=target.email_address or "–",
                            reason=fault_text(
                                probe.fault_code,
                                probe.fault_params,
                                self.lang,
                                # Rows stored before reasons had codes: the stored words.
                                fallback=target.email_broken_reason
                                or label(PROBE_OUTCOMES, probe.outcome, self.lang),
                            ),
                        ),
                    )
                )
            else:
                alerts.append(
                    Alert(
                        f"fault:{probe.id}",
                        T["fault_subject"](self.lang),
                        T["fault_body"](
                            self.lang,
                            probe=probe.id,
                            target=target.name,
                            reason=fault_text(
                                probe.fault_code,
                                probe.fault_params,
                                self.lang,
                                fallback=probe.fault_reason,
                            ),
                        ),
                    )
                )
        return alerts

    def pause_alerts(self, engine: Engine) -> list[Alert]:
        """Campaigns the runner paused by itself; repeated while they stay paused."""
        with Session(engine) as session:
            paused = session.exec(
                select(Campaign).where(
                    Campaign.status == "paused", col(Campaign.paused_code).is_not(None)
                )
            ).all()
        return [
            Alert(
                f"paused:{c.id}:{c.paused_at.isoformat() if c.paused_at else ''}",
                T["paused_subject"](self.lang, campaign=c.name),
                T["paused_body"](
                    self.lang,
                    campaign=c.name,
                    at=c.paused_at.isoformat(timespec="minutes") if c.paused_at else "–",
                    reason=pause_text(c.paused_code, c.paused_params, self.lang),
                ),
            )
            for c in paused
        ]


async def check_and_send(
    alerter: Alerter,
    engine: Engine,
    stats: Mapping[str, WatchStats],
    down_for: timedelta,
) -> int:
    """One look for anything to tell the operator; returns how many alerts were mailed."""
    mailed = 0
    alerts = alerter.watcher_alerts(stats, down_for) + alerter.pause_alerts(engine)
    for alert in alerts + alerter.probe_alerts(engine):
        mailed += await alerter.send(alert)
    return mailed
