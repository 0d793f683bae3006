"""A tick's work follows what is due, not what is open (issue 17, item 6); so does the
watcher's reading of the sent probes before each sync.

The give-up deadline of a waiting probe is computed once and stored (``Probe.give_up_at``); the
faults still to replace are found with NOT EXISTS. Measured here by what a tick reads: the
probe rows SQLAlchemy builds (the ``load`` event) and the statements it runs, on SQLite and on
the test rig's PostgreSQL, with a few and with many finished and waiting probes.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlmodel import Session, select

from harness.campaign.runner import Runner
from harness.campaign.upkeep import give_up
from harness.channels.email.store import MailStore
from harness.core.clock import FakeClock, SystemClock
from harness.store import migrate
from harness.store.db import make_engine
from harness.store.models import Campaign, CaseNumber, Channel, Probe, ProbeState, Target
from probes.email_analysis import TimingRules
from results.calendar import WorkCalendar

SPEC = {
    "name": "Skala",
    "year": 2026,
    "period_start": "2026-10-05",
    "period_end": "2026-11-13",
    "give_up_working_days": 2,
}
MONDAY = datetime(2026, 10, 5, 7, 0, tzinfo=UTC)  # 09:00 in Stockholm


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, sqlite_url: str) -> Iterator[Engine]:
    url = sqlite_url if request.param == "sqlite" else request.getfixturevalue("pg_database_url")
    made = make_engine(url)
    migrate.upgrade(made)
    yield made
    made.dispose()


def _campaign(engine: Engine) -> tuple[int, int]:
    with Session(engine) as session:
        campaign = Campaign(
            name="Skala", year=2026, period_start=date(2026, 10, 5),
            period_end=date(2026, 11, 13), created_at=MONDAY - timedelta(days=7),
            scenario={"campaign": SPEC},
        )  # fmt: skip
        session.add(campaign)
        session.flush()
        target = Target(
            campaign_id=campaign.id,  # type: ignore[arg-type]
            kommunkod="2380",
            name="Östersund",
            email_address="kommun@ostersund.example.se",
        )
        session.add(target)
        session.commit()
        assert campaign.id is not None
        assert target.id is not None
        return campaign.id, target.id


def _add(engine: Engine, ids: tuple[int, int], state: ProbeState, count: int, **values: Any):
    campaign_id, target_id = ids
    with Session(engine) as session:
        for _ in range(count):
            session.add(
                Probe(
                    campaign_id=campaign_id, target_id=target_id, channel=Channel.EMAIL,
                    planned_at=MONDAY, state=state, **values,
                )
            )  # fmt: skip
        session.commit()


class Reads:
    """Probe rows built and statements run while it is active."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.probes = 0
        self.statements = 0

    def _loaded(self, *_: object) -> None:
        self.probes += 1

    def _executed(self, *_: object) -> None:
        self.statements += 1

    def __enter__(self) -> Reads:
        event.listen(Probe, "load", self._loaded)
        event.listen(self.engine, "before_cursor_execute", self._executed)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(Probe, "load", self._loaded)
        event.remove(self.engine, "before_cursor_execute", self._executed)


async def test_a_ticks_reads_do_not_grow_with_finished_or_waiting_probes(engine: Engine):
    ids = _campaign(engine)
    runner = Runner(engine, FakeClock(MONDAY), {}, WorkCalendar(), resolver=None)
    later = MONDAY + timedelta(hours=2)  # nothing is due: deadlines are two office days away

    def grow(finished: int, waiting: int) -> None:
        _add(engine, ids, ProbeState.COMPLETED, finished, sent_at=MONDAY, outcome="answered")
        _add(engine, ids, ProbeState.FAILED, finished, outcome="refused")
        _add(engine, ids, ProbeState.SENT, waiting, sent_at=MONDAY)

    grow(5, 5)
    first = await runner.tick(later)  # the first tick stores every waiting probe's deadline
    assert first.given_up == 0
    with Reads(engine) as few:
        assert (await runner.tick(later)).work == 0
    grow(400, 400)
    await runner.tick(later)  # the new waiting probes get their deadlines, once
    with Session(engine) as session:
        waiting = session.exec(select(Probe).where(Probe.state == ProbeState.SENT)).all()
        assert len(waiting) == 405
        assert all(p.give_up_at is not None for p in waiting)
    with Reads(engine) as many:
        assert (await runner.tick(later)).work == 0
    assert few.probes == many.probes == 0
    assert few.statements == many.statements

    # Past the deadline (two office days of nine hours from Monday 09:00: Wednesday 09:00 in
    # Stockholm) every waiting probe is read once, given up at its deadline, and the tick after
    # reads none of them again.
    wednesday = datetime(2026, 10, 7, 8, 0, tzinfo=UTC)
    with Reads(engine) as due:
        assert (await runner.tick(wednesday)).given_up == 405
    assert due.probes == 405
    with Session(engine) as session:
        done = session.exec(select(Probe).where(Probe.outcome == "not_answered")).all()
        assert {p.completed_at for p in done} == {datetime(2026, 10, 7, 7, 0, tzinfo=UTC)}
        assert all(p.state == ProbeState.COMPLETED for p in done)
    with Reads(engine) as after:
        assert (await runner.tick(wednesday)).work == 0
    assert after.probes == 0


def test_a_new_runner_checks_the_stored_deadlines_against_its_calendar(engine: Engine):
    # A deadline stored under one calendar is computed again by the next runner's first tick:
    # the configuration may have closed a day in between (here Tuesday 6 October).
    ids = _campaign(engine)
    _add(engine, ids, ProbeState.SENT, 1, sent_at=MONDAY)
    assert give_up(engine, WorkCalendar(), MONDAY) == 0
    with Session(engine) as session:
        stored = session.exec(select(Probe)).one().give_up_at
    assert stored == datetime(2026, 10, 7, 7, 0, tzinfo=UTC)  # Wednesday 09:00

    closed = WorkCalendar(extra_closed_days=frozenset({date(2026, 10, 6)}))
    wednesday_1000 = datetime(2026, 10, 7, 8, 0, tzinfo=UTC)
    # Without the check the stale deadline would give the probe up; with it, it waits.
    assert give_up(engine, closed, wednesday_1000, recheck=True) == 0
    with Session(engine) as session:
        probe = session.exec(select(Probe)).one()
    assert probe.state == ProbeState.SENT
    assert probe.give_up_at == datetime(2026, 10, 8, 7, 0, tzinfo=UTC)  # Thursday 09:00


async def test_faults_already_replaced_are_not_read_again(engine: Engine):
    ids = _campaign(engine)
    runner = Runner(engine, FakeClock(MONDAY), {}, WorkCalendar(), resolver=None)
    _add(engine, ids, ProbeState.FAILED, 3, outcome="failed", plan_key=None)
    first = await runner.tick(MONDAY)
    assert first.replaced == 3
    with Reads(engine) as reads:
        again = await runner.tick(MONDAY)
    assert again.replaced == 0
    # The three replacements are planned for later today and not yet due: nothing is read.
    assert reads.probes == 0
    with Session(engine) as session:
        replacements = session.exec(
            select(Probe).where(Probe.replaces_probe_id.is_not(None))  # type: ignore[union-attr]
        ).all()
    assert len(replacements) == 3
    assert all(p.state == ProbeState.PLANNED for p in replacements)


def test_the_watcher_reads_each_sent_probe_once(engine: Engine):
    # MailStore.probe_refs, before every sync: a probe's own fields are read when it is first
    # seen sent; later calls read only ids, targets, closed days and new case numbers.
    ids = _campaign(engine)
    with Session(engine) as session:
        campaign = session.get(Campaign, ids[0])
        assert campaign is not None
        campaign.scenario = {"campaign": {**SPEC, "extra_closed_days": ["2026-10-07"]}}
        session.add(campaign)
        session.commit()

    def send(count: int, start: int) -> None:
        for k in range(start, start + count):
            _add(engine, ids, ProbeState.SENT, 1, sent_at=MONDAY, message_id=f"<q{k}@fraga.se>")

    store = MailStore(engine, SystemClock(), TimingRules())
    send(3, 0)
    first = store.probe_refs()
    assert [r.message_id for r in first] == [f"<q{k}@fraga.se>" for k in range(3)]
    assert all(r.closed_days == {date(2026, 10, 7)} for r in first)
    assert all(r.target_domains == ("ostersund.example.se",) for r in first)
    send(200, 3)
    with Reads(engine) as grown:
        assert len(store.probe_refs()) == 203
    assert grown.probes == 200  # only the new ones
    with Reads(engine) as again:
        refs = store.probe_refs()
    assert again.probes == 0
    assert store.probe_refs() is refs  # nothing changed: the same list, not rebuilt

    # A case number given to one question, and a target's new reply domain, are seen at once.
    with Session(engine) as session:
        probe_id = session.exec(select(Probe.id).where(Probe.message_id == "<q5@fraga.se>")).one()
        assert probe_id is not None
        session.add(CaseNumber(probe_id=probe_id, number="BN2026-123", found_at=MONDAY))
        target = session.get(Target, ids[1])
        assert target is not None
        target.extra_reply_domains = ["kommun.example.se"]
        session.add(target)
        session.commit()
    by_id = {r.message_id: r for r in store.probe_refs()}
    assert by_id["<q5@fraga.se>"].case_numbers == ("BN2026-123",)
    assert by_id["<q6@fraga.se>"].case_numbers == ()
    assert by_id["<q6@fraga.se>"].target_domains == ("ostersund.example.se", "kommun.example.se")
