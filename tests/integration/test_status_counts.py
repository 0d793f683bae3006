"""``kkik status`` counts what the evidence reader judges, on SQLite and PostgreSQL (issue 16).

The service reads its rows with SQLAlchemy Core to start fast; what it counts must stay what the
evidence reader (:func:`harness.campaign.evidence.campaign_evidence`, the one scoring reads)
says of every probe. The small demo world's campaign is run for real, then given what it lacks:
replies that do not count (a bounce, an automatic reply, a link held for review, a returned
original read as human, a reply with no arrival time, an answer reclassified away without
settling), a reply that counts on a probe whose stored outcome says unanswered, a holding reply,
calls that reached no person, reached one and wait for assessment (no assessment, or one
without a verdict), an automated call, a call that never got going, one still under way, a send
in doubt, a question refused, and planned probes. Each probe's verdict is compared with the
reader's, and the whole progress with the service's previous way of reading it.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections import defaultdict
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import Engine, delete
from sqlmodel import Session, SQLModel, col, select

from harness.campaign.evidence import NoCampaign, campaign_evidence
from harness.core.clock import FakeClock
from harness.core.config import Settings
from harness.demo.run import START, Demo
from harness.rules.measurement import timeline_rules
from harness.services.base import Context, ServiceError
from harness.services.progress import (
    CampaignProgress,
    ProbeVerdict,
    TargetProgress,
    campaign_progress,
    read_progress,
)
from harness.store import migrate
from harness.store.db import make_engine
from harness.store.models import (
    Assessment,
    CallEvent,
    Channel,
    Message,
    Probe,
    ProbeState,
    Target,
)
from results.phone_timeline import TimelineRules

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "tests" / "data" / "demo" / "world-small.toml"
HOLDING = Settings.model_validate({"email": {"count_holding_replies": True}})
RULES = [
    (False, TimelineRules()),
    (True, TimelineRules()),
    # A hold limit shorter than the world's queues turns calls that reached a person late
    # into calls that did not: the calls are judged by the rules given, on both sides.
    (False, TimelineRules(hold_limit=timedelta(seconds=20))),
]


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    demo = Demo(tmp_path_factory.mktemp("status-counts") / "demo", seed=7, world_path=SMALL)
    result = await demo.run()
    assert result.mismatches == []
    return demo.out / "kkik.db"


@pytest.fixture
def tricky(demo_db: Path, tmp_path: Path) -> tuple[Engine, dict[str, int]]:
    """A copy of the demo's database with the cases the world does not make (see the module)."""
    with (
        contextlib.closing(sqlite3.connect(demo_db)) as source,
        contextlib.closing(sqlite3.connect(tmp_path / "kkik.db")) as copy,
    ):
        source.backup(copy)
    engine = make_engine(f"sqlite:///{tmp_path / 'kkik.db'}")
    return engine, _add_tricky_cases(engine)


def _add_tricky_cases(engine: Engine) -> dict[str, int]:
    """Change the copy; returns the probe ids of the cases, by name."""
    ids: dict[str, int] = {}
    with Session(engine) as session:
        probes = session.exec(select(Probe).order_by(col(Probe.id))).all()
        email = [p for p in probes if p.channel == Channel.EMAIL]
        unanswered = [p for p in email if p.outcome == "not_answered"]
        answered = [p for p in email if p.outcome == "answered"]
        phone = [p for p in probes if p.channel == Channel.PHONE]
        reached = [p for p in phone if p.outcome == "person"]
        assert len(unanswered) >= 3
        assert len(answered) >= 5
        assert len(reached) >= 4
        assert any(p.outcome == "no_person" for p in phone)  # a call without a person
        template = session.exec(select(Message).order_by(col(Message.id))).first()
        assert template is not None
        uid = max(m.uid for m in session.exec(select(Message)).all())

        def mail(probe: Probe, **changes: Any) -> None:
            nonlocal uid
            uid += 1
            assert probe.sent_at is not None
            fields = template.model_dump(exclude={"id"})
            fields.update(
                probe_id=probe.id,
                uid=uid,
                arrived_at=probe.sent_at + timedelta(hours=3),
                classification="human_reply",
                holding_reply=False,
                match_method="in_reply_to",
                match_confidence=0.95,
                bounce_final=None,
            )
            fields.update(changes)
            session.add(Message(**fields))

        # Replies that do not count, on a probe with no answer that still waits (state sent).
        ids["not_counting"] = _id(unanswered[0])
        unanswered[0].state = ProbeState.SENT
        mail(unanswered[0], classification="bounce", match_method="bounce_original",
             bounce_final=True)  # fmt: skip
        mail(unanswered[0], classification="auto_reply")
        mail(unanswered[0], match_confidence=0.5)  # held for review
        mail(unanswered[0], match_method="bounce_original")  # our original, returned
        mail(unanswered[0], arrived_at=None)
        # A reply that counts, though the stored outcome says unanswered: the rule decides.
        ids["counts_unsettled"] = _id(unanswered[1])
        mail(unanswered[1], match_method="manual", match_confidence=1.0)
        # A holding reply alone: an answer only when holding replies count.
        ids["holding"] = _id(unanswered[2])
        mail(unanswered[2], holding_reply=True)
        # An answer reclassified away without the probe being settled again.
        ids["reclassified"] = _id(answered[0])
        for message in session.exec(select(Message).where(Message.probe_id == answered[0].id)):
            message.classification = "unrelated"
            session.add(message)
        # Our faults, a refusal and a send in doubt.
        ids["failed_answered"] = _id(answered[1])
        answered[1].state = ProbeState.FAILED
        ids["failed_unsent"] = _id(answered[2])
        answered[2].state, answered[2].sent_at = ProbeState.FAILED, None
        ids["refused"] = _id(answered[3])
        answered[3].outcome = "refused"
        ids["in_doubt"] = _id(answered[4])
        answered[4].state, answered[4].outcome, answered[4].sent_at = (
            ProbeState.SENDING,
            "send_unknown",
            None,
        )
        # Calls waiting for assessment: none made, or one without a direct-answer verdict.
        ids["unassessed"], ids["no_verdict"] = _id(reached[0]), _id(reached[1])
        session.exec(delete(Assessment).where(col(Assessment.probe_id) == reached[0].id))
        verdictless = session.exec(
            select(Assessment).where(Assessment.probe_id == reached[1].id)
        ).one()
        verdictless.direct_answer = None
        session.add(verdictless)
        # An automated call that reached a person (speech heard) waits for no assessment.
        ids["automated"] = _id(reached[2])
        reached[2].mode = "automated"
        session.exec(delete(Assessment).where(col(Assessment.probe_id) == reached[2].id))
        answer = session.exec(
            select(CallEvent).where(
                CallEvent.probe_id == reached[2].id, CallEvent.status == "in-progress"
            )
        ).first()
        assert answer is not None
        heard = answer.occurred_at + timedelta(seconds=5)
        session.add(
            CallEvent(
                probe_id=reached[2].id,
                call_sid=answer.call_sid,
                source="twilio",
                event="speech_person",
                occurred_at=heard,
                received_at=heard,
                dedupe_key=f"test:speech:{reached[2].id}",
            )
        )
        # A call that never got going (the API refused it): no events, our fault.
        ids["never_placed"] = _id(reached[3])
        reached[3].outcome = "harness_fault"
        session.exec(delete(CallEvent).where(col(CallEvent.probe_id) == reached[3].id))
        # A call under way: its final statuses have not come yet.
        ongoing = next(p for p in phone if p.outcome == "no_person")
        ids["ongoing"] = _id(ongoing)
        ongoing.state, ongoing.outcome = ProbeState.SENT, None
        session.exec(
            delete(CallEvent).where(
                col(CallEvent.probe_id) == ongoing.id,
                col(CallEvent.status).in_(["completed", "busy", "no-answer", "failed"]),
            )
        )
        # Planned probes, one withdrawn: counted by state, never judged.
        for probe, state in ((email[-1], ProbeState.PLANNED), (phone[-1], ProbeState.PLANNED),
                             (email[-2], ProbeState.CANCELLED)):  # fmt: skip
            extra = Probe(
                campaign_id=probe.campaign_id,
                target_id=probe.target_id,
                question_id=probe.question_id,
                channel=probe.channel,
                mode=probe.mode,
                planned_at=START + timedelta(days=60, hours=len(ids)),
                state=state,
                plan_key=f"extra/{probe.channel}/{state}",
            )
            session.add(extra)
        session.add_all(probes)
        session.commit()
    return ids


def _id(probe: Probe) -> int:
    assert probe.id is not None
    return probe.id


def _reader_verdicts(
    engine: Engine, count_holding: bool, rules: TimelineRules
) -> list[ProbeVerdict]:
    """Every probe's verdict as the evidence reader gives it."""
    evidence, _ = campaign_evidence(engine, None, count_holding, rules)
    return sorted(
        ProbeVerdict(
            int(row.probe_id),
            row.channel,
            row.harness_fault,
            answered=row.answered_at is not None,
            person=row.outcome == "person",
            to_assess=row.outcome == "person"
            and row.mode == "bridged"
            and row.direct_answer is None,
        )
        for row in evidence
    )


def _previous_progress(ctx: Context) -> CampaignProgress:
    """The service as it read the campaign before (commit 8143cb7): the evidence reader and the
    model classes. The oracle the Core reading is held to."""
    settings = ctx.settings
    try:
        evidence, campaign = campaign_evidence(
            ctx.engine, None, settings.email.count_holding_replies, timeline_rules(settings)
        )
    except NoCampaign:
        raise ServiceError("no_campaign_saved", name=None) from None
    with Session(ctx.engine) as session:
        targets = session.exec(
            select(Target).where(Target.campaign_id == campaign.id).order_by(col(Target.id))
        ).all()
        probes = session.exec(select(Probe).where(Probe.campaign_id == campaign.id)).all()
    by_id = {t.id: TargetProgress(t.kommunkod, t.name, t.paused) for t in targets}
    by_code = {t.kommunkod: t for t in by_id.values()}
    state_of: dict[str, str] = {}
    faults: dict[str, set[str]] = defaultdict(set)
    channels: set[str] = set()
    in_doubt = done = planned = 0
    for probe in probes:
        state_of[str(probe.id)] = probe.state
        if probe.state == ProbeState.CANCELLED:
            continue
        channels.add(probe.channel)
        planned += 1
        done += probe.state in (ProbeState.SENT, ProbeState.COMPLETED)
        in_doubt += probe.state == ProbeState.SENDING and probe.outcome == "send_unknown"
        if probe.state == ProbeState.FAILED:
            faults[probe.channel].add(str(probe.id))
        if probe.state == ProbeState.PLANNED:
            target = by_id[probe.target_id]
            side = target.email if probe.channel == Channel.EMAIL else target.phone
            side.planned += 1
            if side.next_due is None or probe.planned_at < side.next_due:
                side.next_due = probe.planned_at
    for row in evidence:
        target = by_code[row.kommunkod]
        if row.harness_fault:
            faults[row.channel].add(row.probe_id)
        elif row.channel == "email":
            target.email.sent += 1
            target.email.answered += row.answered_at is not None
            target.email.waiting += (
                row.answered_at is None and state_of.get(row.probe_id) == ProbeState.SENT
            )
        else:
            target.phone.placed += 1
            reached = row.outcome == "person"
            target.phone.person += reached
            target.phone.to_assess += (
                reached and row.mode == "bridged" and row.direct_answer is None
            )
    owner = {str(p.id): by_id[p.target_id] for p in probes}
    for channel, ids in faults.items():
        for probe_id in ids:
            target = owner[probe_id]
            (target.email if channel == Channel.EMAIL else target.phone).faults += 1
    return CampaignProgress(
        name=campaign.name,
        paused=campaign.status == "paused",
        targets=list(by_id.values()),
        channels=frozenset(channels),
        planned=planned,
        done=done,
        in_doubt=in_doubt,
    )


def _check(engine: Engine, ids: dict[str, int]) -> None:
    """Verdicts and progress equal to the reader's, and the tricky cases as they should be."""
    for count_holding, rules in RULES:
        stored = read_progress(engine, None, count_holding, rules)
        assert stored is not None
        verdicts = _reader_verdicts(engine, count_holding, rules)
        assert sorted(stored.verdicts) == verdicts, (count_holding, rules)
        # By name too; a name no campaign has is none.
        named = read_progress(engine, stored.name, count_holding, rules)
        assert named is not None
        assert sorted(named.verdicts) == verdicts
        assert read_progress(engine, "no such campaign", count_holding, rules) is None
    for settings in (Settings(), HOLDING):
        ctx = Context(engine, FakeClock(START), settings, "test")
        assert campaign_progress(ctx) == _previous_progress(ctx)

    # The comparison is not between empty or uniform lists: each case is judged as it must be.
    stored = read_progress(engine, None, False, TimelineRules())
    assert stored is not None
    by_id = {v.probe_id: v for v in stored.verdicts}
    assert not by_id[ids["not_counting"]].answered
    assert by_id[ids["counts_unsettled"]].answered
    assert not by_id[ids["holding"]].answered
    assert not by_id[ids["reclassified"]].answered
    assert by_id[ids["failed_answered"]].fault
    assert by_id[ids["failed_unsent"]].fault
    assert ids["refused"] not in by_id
    assert ids["in_doubt"] not in by_id
    assert by_id[ids["unassessed"]].to_assess
    assert by_id[ids["no_verdict"]].to_assess
    assert by_id[ids["automated"]].person
    assert not by_id[ids["automated"]].to_assess
    assert by_id[ids["never_placed"]].fault
    ongoing = by_id[ids["ongoing"]]
    assert (ongoing.fault, ongoing.person) == (False, False)
    assert any(v.channel == "phone" and not v.fault and not v.person for v in stored.verdicts)
    holding = read_progress(engine, None, True, TimelineRules())
    assert holding is not None
    assert next(v for v in holding.verdicts if v.probe_id == ids["holding"]).answered
    progress = campaign_progress(Context(engine, FakeClock(START), Settings(), "test"))
    assert progress.in_doubt == 1
    assert sum(t.phone.to_assess for t in progress.targets) == 2
    assert sum(t.email.waiting for t in progress.targets) == 1
    assert sum(t.email.planned + t.phone.planned for t in progress.targets) == 2


def test_status_counts_as_the_evidence_reader_on_sqlite(tricky: tuple[Engine, dict[str, int]]):
    engine, ids = tricky
    try:
        _check(engine, ids)
    finally:
        engine.dispose()


def test_status_counts_as_the_evidence_reader_on_postgres(
    tricky: tuple[Engine, dict[str, int]], pg_database_url: str, kkik, tmp_path: Path
):
    source, ids = tricky
    engine = make_engine(pg_database_url)
    try:
        migrate.upgrade(engine)
        _copy_rows(source, engine)
        _check(engine, ids)
    finally:
        engine.dispose()
        source.dispose()
    # The command itself on both databases: the same table, word for word, in both languages.
    sqlite_config, pg_config = tmp_path / "sqlite.toml", tmp_path / "pg.toml"
    sqlite_config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "kkik.db"}"\n', "utf-8")
    pg_config.write_text(f'[database]\nurl = "{pg_database_url}"\n', "utf-8")
    for lang in ("sv", "en"):
        on_sqlite = kkik("--lang", lang, "--config", str(sqlite_config), "status")
        on_pg = kkik("--lang", lang, "--config", str(pg_config), "status")
        assert (on_sqlite.code, on_sqlite.err) == (on_pg.code, on_pg.err) == (0, "")
        assert on_sqlite.out == on_pg.out
        waits = "2 samtal väntar på bedömning" if lang == "sv" else "2 calls wait for assessment"
        doubt = "1 utskick i ovisshet" if lang == "sv" else "1 sends in doubt"
        assert waits in on_pg.out
        assert doubt in on_pg.out


def _copy_rows(source: Engine, target: Engine) -> None:
    """Every row of every table, in the order of their foreign keys."""
    with source.connect() as reading, target.begin() as writing:
        for table in SQLModel.metadata.sorted_tables:
            rows = [dict(row._mapping) for row in reading.execute(table.select())]
            if rows:
                writing.execute(table.insert(), rows)
