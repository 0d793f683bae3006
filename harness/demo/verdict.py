"""The offline demo's verdict: the measured scores against the scores of the world's truth.

The measured side is scored as ``kkik score`` scores (the campaign's evidence from the
database, the calendar and scoring rules from the configuration and the campaign's saved
scenario); the truth side is the same rules on the world's own record of what it did, judged by
the world's calendar. They must be equal in value, numerator and denominator for every measure
and municipality (:func:`judge`), and every planned probe must have ended exactly once
(:func:`account_for`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from harness.campaign.evidence import campaign_evidence
from harness.core.config import Settings
from harness.demo.phone_side import CallTruth
from harness.demo.world import World
from harness.rules.calendars import work_calendar
from harness.rules.measurement import scoring_rules, timeline_rules
from harness.sandbox.smtp import SmtpSandbox
from harness.store.models import Channel, Probe, ProbeState, Target
from results.calendar import WorkCalendar
from results.scoring import Evidence, Score, score

__all__ = ["DemoResult", "account_for", "judge"]


@dataclass
class DemoResult:
    out: Path
    measured: list[Score]
    truth: list[Score]
    mismatches: list[str]
    probes: int
    mails_delivered: int
    calls: int
    ground_truth: dict[str, Any] = field(default_factory=dict)
    # Probes not accounted for: not in a final state, sent twice or never, truth missing.
    unaccounted: list[str] = field(default_factory=list)
    states: dict[str, int] = field(default_factory=dict)
    questions_received: int = 0  # messages the municipalities' SMTP server took
    # E-mails whose truth "within one working day" depends on the campaign's own closed days:
    # within with them, late without (or the other way). Empty: the world's closed days were
    # never put to the test in this run.
    closed_day_verdicts: list[int] = field(default_factory=list)
    slow_stores: int = 0  # deliveries the watcher took over run.SLOW_STORE_SECONDS to store

    @property
    def equal(self) -> bool:
        return not self.mismatches


def judge(
    settings: Settings,
    engine: Engine,
    *,
    world: World,
    seed: int,
    calendar: WorkCalendar,
    email_truth: dict[int, dict[str, Any]],
    call_truth: dict[str, CallTruth],
    out: Path,
    delivered: int,
) -> DemoResult:
    """The measured scores and the truth's, compared, with ``ground-truth.json``'s content.

    ``calendar`` is the world's (the configured one with the world's closed days);
    ``email_truth`` and ``call_truth`` are what the world did, by probe id and by call SID.
    """
    measured_evidence, campaign = campaign_evidence(
        engine, world.campaign, settings.email.count_holding_replies,
        timeline_rules(settings),
    )  # fmt: skip
    # Measured as `kkik score` measures: the campaign's calendar from the configuration and
    # the scenario saved with the campaign. The truth is scored by the world's own calendar,
    # so a closed day the harness failed to honour would show up as a mismatch.
    measured_rules = scoring_rules(settings, campaign)
    measured = score(measured_evidence, measured_rules)
    rules = replace(measured_rules, calendar=calendar)
    truth_evidence: list[Evidence] = []
    for probe_id, t in email_truth.items():
        truth_evidence.append(
            Evidence(
                t["kommunkod"], "email", str(probe_id), datetime.fromisoformat(t["sent_at"]),
                answered_at=datetime.fromisoformat(t["answered_at"]) if t["answered_at"]
                else None,
            )
        )  # fmt: skip
    calls: dict[str, Any] = {}
    with Session(engine) as session:
        placed = session.exec(
            select(Probe, Target)
            .join(Target, col(Probe.target_id) == col(Target.id))
            .where(Probe.channel == Channel.PHONE, col(Probe.claimed_at).is_not(None))
        ).all()
    for probe, target in placed:
        truth = call_truth.get(probe.call_sid or "")
        if truth is None or truth.dial_at is None:
            continue
        calls[str(probe.id)] = {
            "kommunkod": target.kommunkod,
            "outcome": truth.outcome,
            "dial_at": truth.dial_at.isoformat(),
            "person_at": truth.person_at.isoformat() if truth.person_at else None,
            "direct_answer": truth.direct_answer,
            "bemotande": truth.bemotande,
        }
        truth_evidence.append(
            Evidence(
                target.kommunkod, "phone", str(probe.id), truth.dial_at, mode="bridged",
                outcome=truth.outcome,  # type: ignore[arg-type]
                person_at=truth.person_at, direct_answer=truth.direct_answer,
                bemotande=truth.bemotande,
            )
        )  # fmt: skip
    truth_scores = score(truth_evidence, rules)
    mismatches = _compare(measured, truth_scores)
    flips = _closed_day_verdicts(email_truth, calendar, work_calendar(settings))
    ground_truth = {
        "seed": seed,
        "campaign": world.campaign,
        "extra_closed_days": [d.isoformat() for d in world.extra_closed_days],
        "closed_day_verdicts": flips,
        "emails": {str(k): v for k, v in sorted(email_truth.items())},
        "calls": calls,
        "scores": [_score_json(s) for s in truth_scores],
    }
    return DemoResult(
        out=out,
        measured=measured,
        truth=truth_scores,
        mismatches=mismatches,
        probes=len(email_truth) + len(calls),
        mails_delivered=delivered,
        calls=len(calls),
        ground_truth=ground_truth,
        closed_day_verdicts=flips,
    )


def account_for(
    engine: Engine,
    smtp: SmtpSandbox,
    *,
    message_ids: int,
    email_truth: dict[int, dict[str, Any]],
    call_truth: dict[str, CallTruth],
) -> tuple[dict[str, int], list[str]]:
    """Every planned probe ended once: completed, its question or call made exactly once.

    In this world nothing fails on our side, so anything but COMPLETED (still planned or
    pending, failed and replaced, cancelled) is a probe the run lost track of.
    """
    problems: list[str] = []
    with Session(engine) as session:
        probes = session.exec(select(Probe)).all()
    states: dict[str, int] = {}
    for probe in probes:
        states[str(probe.state)] = states.get(str(probe.state), 0) + 1
        if probe.state != ProbeState.COMPLETED:
            problems.append(f"probe {probe.id} ({probe.channel}) is {probe.state}")
    if message_ids != smtp.received:
        problems.append(
            f"{smtp.received} questions reached SMTP for {message_ids} distinct Message-IDs"
        )
    emails = [p for p in probes if p.channel == Channel.EMAIL]
    for probe in emails:
        if probe.id not in email_truth or not probe.message_id:
            problems.append(f"e-mail probe {probe.id}: no question reached the municipality")
    if smtp.received != len(emails):
        problems.append(f"{smtp.received} questions sent for {len(emails)} e-mail probes")
    phones = [p for p in probes if p.channel == Channel.PHONE]
    sids = [p.call_sid for p in phones if p.call_sid]
    if len(set(sids)) != len(phones):
        problems.append(f"{len(set(sids))} distinct calls for {len(phones)} phone probes")
    if len(call_truth) != len(phones):
        problems.append(f"the world saw {len(call_truth)} calls for {len(phones)} probes")
    return states, problems


def _closed_day_verdicts(
    email_truth: dict[int, dict[str, Any]], world: WorkCalendar, configured: WorkCalendar
) -> list[int]:
    """The e-mails whose truth "within one working day" differs between the world's calendar
    (with the campaign's closed days) and the configured one (without them).

    Each is an answer the harness must judge by the campaign's own calendar to agree with the
    truth: the proof that the closed days were exercised, not merely declared.
    """
    flips = []
    for probe_id, t in sorted(email_truth.items()):
        if t["answered_at"] is None:
            continue
        sent = datetime.fromisoformat(t["sent_at"])
        answered = datetime.fromisoformat(t["answered_at"])
        if world.within(sent, answered) != configured.within(sent, answered):
            flips.append(probe_id)
    return flips


def _score_json(s: Score) -> dict[str, Any]:
    return {
        "kommunkod": s.kommunkod,
        "measure": s.measure_id,
        "value": s.value,
        "numerator": s.numerator,
        "denominator": s.denominator,
    }


def _compare(measured: list[Score], truth: list[Score]) -> list[str]:
    """Every (municipality, measure) whose measured value, numerator or denominator differs."""
    want = {(s.kommunkod, s.measure_id): s for s in truth}
    got = {(s.kommunkod, s.measure_id): s for s in measured}
    problems = []
    for key in sorted(set(want) | set(got)):
        a, b = got.get(key), want.get(key)
        fa = (a.value, a.numerator, a.denominator) if a else None
        fb = (b.value, b.numerator, b.denominator) if b else None
        if fa != fb:
            problems.append(f"{key[0]} {key[1]}: measured {fa}, truth {fb}")
    return problems
