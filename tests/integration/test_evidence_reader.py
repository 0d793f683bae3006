"""The evidence reader (columns read once, call timelines reused while a call's events are the
same) gives exactly what the reader before it gave: the report's data, the scoring rows, the
call rows and the e-mail log, on the demo's database and on a national one seeded from it, on
SQLite and on PostgreSQL, and again after the evidence changed under a warm memo (a new
callback, a tester's mark, an assessment changed, a reply moved to another probe).

The reference is the reader as it was (:mod:`tests.integration.reader_before`)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select, text
from sqlmodel import Session, SQLModel, col

from bench.dashboard_db import build_national
from harness.campaign import evidence as reader
from harness.campaign.reportdata import report_data
from harness.channels.phone import store as phonestore
from harness.core.clock import SystemClock
from harness.core.config import Settings, load_config
from harness.demo.run import Demo
from harness.rules.measurement import timeline_rules
from harness.store import migrate
from harness.store.db import make_engine
from harness.store.models import Assessment, Channel, Message, Probe
from results.email_log import ProbeEvidence
from tests.integration import reader_before as before

NOW = SystemClock().now()
MUNICIPALITIES = 60  # a seeded national database, smaller than 290 to keep the test short


@dataclass(frozen=True)
class World:
    settings: Settings
    demo: Path
    national: Path


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    import asyncio

    tmp = tmp_path_factory.mktemp("reader")
    demo = Demo(tmp / "demo", seed=2026)
    asyncio.run(demo.run())
    national = tmp / "national.db"
    build_national(tmp / "demo" / "kkik.db", national, MUNICIPALITIES)
    return World(load_config(demo.config), tmp / "demo" / "kkik.db", national)


def assert_same(engine: Engine, settings: Settings) -> None:
    rules = timeline_rules(settings)
    zone, below = settings.timezone, 0.7
    holding = settings.email.count_holding_replies
    new, old = (
        reader.campaign_evidence(engine, None, holding, rules),
        before.campaign_evidence(engine, None, holding, rules),
    )
    assert new[0] == old[0]
    assert new[0], "no evidence: the comparison would prove nothing"
    assert reader.call_rows(engine, rules) == before.call_rows(engine, rules)
    one = reader.call_rows(engine, rules)[3]["probe"]
    assert reader.call_rows(engine, rules, one) == before.call_rows(engine, rules, one)
    log = reader.email_evidence(engine, None, None, zone, below)
    assert log == by_id(before.email_evidence(engine, None, None, zone, below))
    kommun = new[0][0].kommunkod
    since = min(e.sent_at for e in new[0]).date() + timedelta(days=3)
    assert reader.email_evidence(engine, kommun, since, zone, below) == by_id(
        before.email_evidence(engine, kommun, since, zone, below)
    )
    data = report_data(engine, settings, None, NOW)
    assert data == before.report_data(engine, settings, None, NOW)
    assert data.scores
    assert data.evidence


def by_id(log: list[ProbeEvidence]) -> list[ProbeEvidence]:
    """The reference's replies in the order of their ids. It read them in the table's order,
    which PostgreSQL does not keep for a row that was updated (a reply moved to another probe);
    the reader reads them by id."""
    return [
        replace(p, replies=tuple(sorted(p.replies, key=lambda r: r.message_id or 0))) for p in log
    ]


def change_the_evidence(engine: Engine) -> None:
    """What a live campaign does between two views: a callback and a mark on calls whose
    timelines are in the memo, an assessment changed, a reply moved to another probe."""
    with Session(engine) as session:
        calls = session.scalars(
            select(Probe)
            .where(col(Probe.channel) == Channel.PHONE, col(Probe.claimed_at).is_not(None))
            .order_by(col(Probe.id))
        ).all()
        first, second = calls[0], calls[1]
        assert first.claimed_at is not None
        assert second.claimed_at is not None
        phonestore.add_mark(session, first, "person", first.claimed_at + timedelta(seconds=40),
                            "tester")  # fmt: skip
        session.commit()
        stored = phonestore.store_event(
            session,
            probe=second,
            event=phonestore.STATUS,
            params={
                "CallSid": second.call_sid or "CA-none",
                "CallStatus": "completed",
                "SequenceNumber": "99",
                "CallDuration": "7",
            },
            received_at=second.claimed_at + timedelta(minutes=30),
        )
        assert stored
        assessment = session.scalars(select(Assessment).order_by(col(Assessment.id))).first()
        assert assessment is not None
        assessment.direct_answer = not assessment.direct_answer
        assessment.bemotande = 0 if assessment.bemotande else 3
        session.add(assessment)
        reply = session.scalars(
            select(Message).where(col(Message.probe_id).is_not(None)).order_by(col(Message.id))
        ).first()
        other = session.scalars(
            select(col(Probe.id))
            .where(col(Probe.channel) == Channel.EMAIL)
            .order_by(col(Probe.id).desc())
        ).first()
        assert reply is not None
        assert other is not None
        reply.probe_id = other
        session.add(reply)
        session.commit()


def check(engine: Engine, settings: Settings) -> None:
    assert_same(engine, settings)  # a cold memo
    assert_same(engine, settings)  # every timeline from the memo
    change_the_evidence(engine)
    assert_same(engine, settings)  # the changed calls recomputed, the rest reused


@pytest.fixture
def copy(tmp_path: Path) -> Iterator[Any]:
    made: list[Engine] = []

    def sqlite(source: Path) -> Engine:
        target = tmp_path / source.name
        target.write_bytes(source.read_bytes())
        engine = make_engine(f"sqlite:///{target}")
        made.append(engine)
        return engine

    yield sqlite
    for engine in made:
        engine.dispose()


def test_the_demo_database_on_sqlite(world: World, copy: Any):
    check(copy(world.demo), world.settings)


def test_a_national_database_on_sqlite(world: World, copy: Any):
    engine = copy(world.national)
    with engine.connect() as connection:
        targets = connection.execute(text("SELECT count(*) FROM target")).scalar_one()
    assert targets == MUNICIPALITIES
    check(engine, world.settings)


def _to_postgres(source: Path, url: str) -> Engine:
    """Every row of the SQLite database at ``source`` in the (empty) PostgreSQL one."""
    engine = make_engine(url)
    migrate.upgrade(engine)
    lite = make_engine(f"sqlite:///{source}")
    with lite.connect() as reading, engine.begin() as writing:
        for table in SQLModel.metadata.sorted_tables:
            rows = [dict(r._mapping) for r in reading.execute(select(table))]
            if "id" in table.c:
                rows.sort(key=lambda r: r["id"])  # a probe's replacement refers to an earlier one
            if rows:
                writing.execute(insert(table), rows)
            if "id" in table.c and rows:
                writing.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), :n)"),
                    {"n": max(r["id"] for r in rows)},
                )
    lite.dispose()
    return engine


def test_the_demo_database_on_postgresql(world: World, pg_database_url: str):
    engine = _to_postgres(world.demo, pg_database_url)
    try:
        check(engine, world.settings)
    finally:
        engine.dispose()


def test_a_national_database_on_postgresql(world: World, pg_database_url: str):
    engine = _to_postgres(world.national, pg_database_url)
    try:
        check(engine, world.settings)
    finally:
        engine.dispose()
