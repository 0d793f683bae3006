"""The dashboard's derived data in pieces per municipality (harness.campaign.by_target): after a
change to one municipality's evidence only its piece is made again, and what is assembled from
the pieces equals a computation from scratch, on SQLite and on PostgreSQL.

The database is the demo's evidence copied to 12 municipalities (bench/dashboard_db.py), loaded
into an empty migrated database of each backend (``db_engine``)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, insert, select, text, update
from sqlmodel import Session, SQLModel, col

from bench.dashboard_db import build_national
from harness.campaign.by_target import TargetPieces, fingerprints
from harness.campaign.evidence import call_rows, campaign_evidence, email_evidence
from harness.campaign.reportdata import ReportPiece, report_data
from harness.channels.phone import store as phonestore
from harness.core.clock import SystemClock
from harness.core.config import Settings, load_config
from harness.demo.run import Demo
from harness.rules.measurement import scoring_rules, timeline_rules, timing_rules
from harness.store.db import make_engine
from harness.store.models import Assessment, AuditEntry, Channel, Message, Probe
from harness.web.call_pages import Placed, placed_calls
from harness.web.log_page import log_of
from results.calendar import DeadlineRule
from results.email_log import LogRow, log_rows
from results.scoring import Score, score

NOW = SystemClock().now()
MUNICIPALITIES = 12


@dataclass(frozen=True)
class World:
    settings: Settings
    national: Path


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    tmp = tmp_path_factory.mktemp("pieces")
    demo = Demo(tmp / "demo", seed=2026)
    asyncio.run(demo.run())
    national = tmp / "national.db"
    build_national(tmp / "demo" / "kkik.db", national, MUNICIPALITIES)
    return World(load_config(demo.config), national)


@pytest.fixture
def engine(world: World, db_engine: Engine) -> Engine:
    """The seeded database's rows in this backend's empty migrated database."""
    lite = make_engine(f"sqlite:///{world.national}")
    with lite.connect() as reading, db_engine.begin() as writing:
        for table in SQLModel.metadata.sorted_tables:
            rows = [dict(r._mapping) for r in reading.execute(select(table))]
            if "id" in table.c:
                rows.sort(key=lambda r: r["id"])  # a probe's replacement refers to an earlier one
            if rows:
                writing.execute(insert(table), rows)
            if rows and "id" in table.c and db_engine.dialect.name == "postgresql":
                writing.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), :n)"),
                    {"n": max(r["id"] for r in rows)},
                )
    lite.dispose()
    return db_engine


def target_of(engine: Engine, probe_id: int) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(select(col(Probe.target_id)).where(col(Probe.id) == probe_id)).one()[
                0
            ]
        )


def a_callback(engine: Engine, nth: int = 0) -> int:
    """A status callback of a placed call stored as the webhook stores one; its probe's id."""
    with Session(engine) as session:
        calls = session.scalars(
            select(Probe)
            .where(col(Probe.channel) == Channel.PHONE, col(Probe.claimed_at).is_not(None))
            .order_by(col(Probe.id))
        ).all()
        call = calls[nth]
        assert call.claimed_at is not None
        assert call.id is not None
        stored = phonestore.store_event(
            session,
            probe=call,
            event=phonestore.STATUS,
            params={
                "CallSid": call.call_sid or "CA-none",
                "CallStatus": "completed",
                "SequenceNumber": str(90 + nth),
                "CallDuration": "7",
            },
            received_at=call.claimed_at + timedelta(minutes=30),
        )
        assert stored
        session.commit()
        return call.id


def scores_of_the_whole(engine: Engine, settings: Settings) -> list[Score]:
    """The campaign's scores computed without pieces: its whole evidence, scored at once."""
    holding = settings.email.count_holding_replies
    evidence, found = campaign_evidence(engine, None, holding, timeline_rules(settings))
    return score(evidence, scoring_rules(settings, found))


def log_of_the_whole(engine: Engine, settings: Settings) -> list[LogRow]:
    """The e-mail log computed without pieces, in probe order."""
    rules = timing_rules(settings)
    rows = log_rows(
        email_evidence(engine, None, None, settings.timezone, rules.review_below),
        rules.calendar,
        DeadlineRule(settings.email.deadline_rule),
        count_holding_replies=settings.email.count_holding_replies,
    )
    return sorted(rows, key=lambda r: r.probe_id)


def test_a_callback_makes_only_its_municipalitys_report_piece_again(engine: Engine, world: World):
    settings = world.settings
    pieces: TargetPieces[ReportPiece] = TargetPieces()
    with engine.connect() as connection:
        targets = set(fingerprints(connection, None))
    assert len(targets) == MUNICIPALITIES

    first = report_data(engine, settings, None, NOW, pieces)
    assert first == report_data(engine, settings, None, NOW)  # from scratch: no memo
    assert list(first.scores) == scores_of_the_whole(engine, settings)
    assert set(pieces.made) == targets
    assert all(n == 1 for n in pieces.made.values())
    assert first.scores
    assert first.evidence

    # Nothing changed: nothing made.
    assert report_data(engine, settings, None, NOW, pieces) == first
    assert pieces.made.total() == MUNICIPALITIES

    # A callback: its municipality's piece, and only that one, is made again.
    probe = a_callback(engine)
    changed = target_of(engine, probe)
    again = report_data(engine, settings, None, NOW, pieces)
    assert pieces.made.total() == MUNICIPALITIES + 1
    assert pieces.made[changed] == 2
    assert again == report_data(engine, settings, None, NOW)
    assert list(again.scores) == scores_of_the_whole(engine, settings)

    # An assessment changed in place (its count and highest id stay the same): its
    # municipality's piece again; and the scores moved with it.
    with Session(engine) as session:
        assessment = session.scalars(
            select(Assessment)
            .join(Probe, col(Probe.id) == col(Assessment.probe_id))
            .where(col(Probe.target_id) != changed)
            .order_by(col(Assessment.id))
        ).first()
        assert assessment is not None
        assessed = target_of(engine, assessment.probe_id)
        assessment.direct_answer = not assessment.direct_answer
        session.add(assessment)
        session.commit()
    after = report_data(engine, settings, None, NOW, pieces)
    assert pieces.made.total() == MUNICIPALITIES + 2
    assert pieces.made[assessed] == 2
    assert after == report_data(engine, settings, None, NOW)
    assert list(after.scores) == scores_of_the_whole(engine, settings)
    assert after.scores != again.scores

    # A person's correction (an audit entry): every piece is made again.
    with Session(engine) as session:
        session.add(AuditEntry(at=NOW, actor="test", action="reclassify", entity="message",
                               entity_id="1", before={}, after={}))  # fmt: skip
        session.commit()
    assert report_data(engine, settings, None, NOW, pieces) == after
    assert pieces.made.total() == 2 * MUNICIPALITIES + 2


def test_a_reply_moved_makes_both_municipalities_log_pieces_again(engine: Engine, world: World):
    settings = world.settings
    pieces: TargetPieces[list[LogRow]] = TargetPieces()
    first = log_of(engine, settings, pieces)
    assert first == log_of(engine, settings)
    assert sorted(first, key=lambda r: r.probe_id) == log_of_the_whole(engine, settings)
    assert first
    assert pieces.made.total() == MUNICIPALITIES

    # A callback changes no e-mail, but it is its municipality's evidence: that piece only.
    probe = a_callback(engine, 1)
    assert log_of(engine, settings, pieces) == first
    assert pieces.made.total() == MUNICIPALITIES + 1
    assert pieces.made[target_of(engine, probe)] == 2

    # A reply the watcher moves to another municipality's probe: both pieces, and the log
    # shows it.
    with engine.connect() as connection:
        first_reply = connection.execute(
            select(col(Message.id), col(Message.probe_id))
            .where(col(Message.probe_id).is_not(None))
            .order_by(col(Message.id))
        ).first()
        assert first_reply is not None
        reply, source = first_reply[0], first_reply[1] or 0
        other = connection.execute(
            select(col(Probe.id))
            .where(
                col(Probe.channel) == Channel.EMAIL,
                col(Probe.sent_at).is_not(None),
                col(Probe.target_id) != target_of(engine, source),
            )
            .order_by(col(Probe.id).desc())
        ).first()
    assert other is not None
    moved_to: int = other[0] or 0
    with engine.begin() as connection:
        connection.execute(
            update(Message).where(col(Message.id) == reply).values(probe_id=moved_to)
        )
    before = pieces.made.copy()
    moved = log_of(engine, settings, pieces)
    assert pieces.made - before == {target_of(engine, source): 1, target_of(engine, moved_to): 1}
    assert moved == log_of(engine, settings)
    assert sorted(moved, key=lambda r: r.probe_id) == log_of_the_whole(engine, settings)
    assert moved != first


def test_a_callback_makes_only_its_municipalitys_call_rows_again(engine: Engine, world: World):
    settings = world.settings
    zone = ZoneInfo(settings.timezone)
    pieces: TargetPieces[list[Placed]] = TargetPieces()
    first = placed_calls(engine, settings, zone, pieces)
    assert first == placed_calls(engine, settings, zone)
    assert first
    assert pieces.made.total() == MUNICIPALITIES

    probe = a_callback(engine, 2)
    before = pieces.made.copy()
    again = placed_calls(engine, settings, zone, pieces)
    assert pieces.made - before == {target_of(engine, probe): 1}
    assert again == placed_calls(engine, settings, zone)
    # The order of a computation of every call: when placed, then the probe's id.
    assert [r["probe"] for r in again] == [
        r["probe"] for r in call_rows(engine, timeline_rules(settings))
    ]
