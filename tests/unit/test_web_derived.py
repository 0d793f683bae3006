"""The dashboard's derived data per data version: the version moves with every change of the
evidence, and the cache computes each entry once, keeps few, and never serves an old version."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from harness.channels.email.store import MailStore
from harness.core.clock import FakeClock
from harness.core.config import Settings
from harness.services.base import Context
from harness.services.review import Correction, correct
from harness.store.models import Assessment, CallEvent, Campaign, Message, Probe, ProbeState
from harness.web.derived import DerivedCache, data_version
from probes.email_analysis import TimingRules
from probes.imap_wire import FetchedMessage
from tests.factories import reply_to, seed_sent_probe

SENT = datetime(2026, 10, 6, 8, 0, tzinfo=UTC)


def test_the_version_moves_with_every_change_of_the_evidence(sqlite_engine: Engine):
    seen = [data_version(sqlite_engine)]

    def changed(what: str) -> None:
        version = data_version(sqlite_engine)
        assert version != seen[-1], what
        assert data_version(sqlite_engine) == version, what  # the same data, the same version
        seen.append(version)

    probe = seed_sent_probe(sqlite_engine, sent_at=SENT, token="ver11111")
    changed("a question sent")
    store = MailStore(sqlite_engine, FakeClock(SENT + timedelta(hours=2)), TimingRules())
    raw = reply_to(probe, written_at=SENT + timedelta(hours=2))
    assert store.ingest("INBOX", 1, FetchedMessage(1, SENT + timedelta(hours=2), None, raw))
    changed("a reply stored (and the probe settled)")
    ctx = Context(sqlite_engine, FakeClock(SENT + timedelta(days=1)), Settings(), "web:anna")
    with Session(sqlite_engine) as session:
        message = session.exec(select(Message)).one()
    correct(ctx, Correction(message_id=message.id or 0, reason="test", kind="auto_reply"))
    changed("a person's correction")
    with Session(sqlite_engine) as session:
        row = session.exec(select(Message)).one()
        row.probe_id = None  # the watcher's own re-link, without an audit entry
        session.add(row)
        session.commit()
    changed("a message's link to its probe")
    with Session(sqlite_engine) as session:
        sent = session.get(Probe, probe.probe_id)
        assert sent is not None
        sent.state = ProbeState.FAILED
        session.add(sent)
        session.commit()
    changed("a probe's state")
    with Session(sqlite_engine) as session:
        event = CallEvent(
            probe_id=probe.probe_id,
            call_sid="CA1",
            source="twilio",
            event="status",
            occurred_at=SENT,
            received_at=SENT,
            dedupe_key="k1",
        )
        session.add(event)
        session.commit()
    changed("a call event")
    for event_id in (1000, 500):  # two web workers commit out of id order
        with Session(sqlite_engine) as session:
            session.add(
                CallEvent(id=event_id, probe_id=probe.probe_id, call_sid="CA1", source="twilio",
                          event="status", occurred_at=SENT, received_at=SENT,
                          dedupe_key=f"k{event_id}")
            )  # fmt: skip
            session.commit()
        changed(f"a call event, id {event_id}")
    with Session(sqlite_engine) as session:
        session.add(Assessment(probe_id=probe.probe_id, assessor="x", person_reached=True,
                               assessed_at=SENT))  # fmt: skip
        session.commit()
    changed("an assessment")
    with Session(sqlite_engine) as session:
        session.delete(session.exec(select(Assessment)).one())
        session.commit()
    changed("an assessment removed")
    assert seen[-1] == seen[-3]  # the same rows as before it: the same version
    with Session(sqlite_engine) as session:
        campaign = session.exec(select(Campaign)).one()
        campaign.scenario = {"campaign": {"extra_closed_days": ["2026-10-07"]}}
        session.add(campaign)
        session.commit()
    changed("the campaign's closed days")


def test_each_entry_is_made_once_and_old_versions_are_dropped():
    cache = DerivedCache(entries=3)
    made: list[str] = []

    def make(value: str) -> str:
        made.append(value)
        return value

    assert cache.get("log", (1,), None, lambda: make("a")) == "a"
    assert cache.get("log", (1,), None, lambda: make("b")) == "a"  # cached
    assert cache.get("charts", (1,), "sv", lambda: make("c")) == "c"
    assert cache.get("charts", (1,), "en", lambda: make("d")) == "d"
    assert cache.get("log", (2,), None, lambda: make("e")) == "e"  # a new version: made again
    assert cache.get("log", (1,), None, lambda: make("f")) == "f"  # the old one was dropped
    assert made == ["a", "c", "d", "e", "f"]
    for n in range(10):
        cache.get("other", (n,), None, lambda: "x")
    assert len(cache._values) <= 3  # bounded


def test_requests_at_the_same_moment_wait_for_one_computation():
    cache = DerivedCache()
    started, release = threading.Event(), threading.Event()
    calls: list[int] = []

    def slow() -> int:
        calls.append(1)
        started.set()
        release.wait(5)
        return 42

    results: list[int] = []
    threads = [threading.Thread(target=lambda: results.append(cache.get("x", (1,), None, slow)))
               for _ in range(5)]  # fmt: skip
    for thread in threads:
        thread.start()
    assert started.wait(5)
    release.set()
    for thread in threads:
        thread.join(5)
    assert results == [42] * 5
    assert calls == [1]
    assert cache.computed == 1


def test_ready_makes_an_entry_in_the_background_once():
    cache = DerivedCache()
    started, release = threading.Event(), threading.Event()
    calls: list[int] = []

    def slow() -> str:
        calls.append(1)
        started.set()
        release.wait(5)
        return "svg"

    assert cache.ready("charts", (1,), "sv", slow) is None  # not made: started in a thread
    assert started.wait(5)
    assert cache.ready("charts", (1,), "sv", slow) is None  # being made: not started again
    release.set()
    for _ in range(500):
        if (found := cache.ready("charts", (1,), "sv", slow)) is not None:
            break
        threading.Event().wait(0.01)
    assert found == "svg"
    assert calls == [1]
    # A newer version is made afresh; the older one's entry is dropped when it is stored.
    assert cache.get("charts", (2,), "sv", lambda: "new") == "new"
    assert cache.ready("charts", (1,), "sv", lambda: "again") is None


def test_a_failed_background_entry_can_be_asked_for_again():
    cache = DerivedCache()

    def broken() -> str:
        raise RuntimeError("no")

    assert cache.ready("charts", (1,), "sv", broken) is None
    for _ in range(500):
        with cache._lock:
            if ("charts", (1,), "sv") not in cache._computing:
                break
        threading.Event().wait(0.01)
    assert cache.ready("charts", (1,), "sv", lambda: "drawn") is None  # started again
    for _ in range(500):
        if (found := cache.ready("charts", (1,), "sv", lambda: "drawn")) is not None:
            break
        threading.Event().wait(0.01)
    assert found == "drawn"


def test_a_background_entry_waits_for_the_page_that_asked_to_be_sent(
    monkeypatch: pytest.MonkeyPatch,
):
    cache = DerivedCache()
    sent, started = threading.Event(), threading.Event()

    def draw() -> str:
        started.set()
        return "svg"

    assert cache.ready("charts", (1,), "sv", draw, after=sent) is None
    assert not started.wait(0.3)  # the page is still being made: not begun
    sent.set()
    assert started.wait(5)  # begun once the page was sent

    # A page whose sending failed holds it up for AFTER_PAGE_SECONDS at most.
    monkeypatch.setattr("harness.web.derived.AFTER_PAGE_SECONDS", 0.2)
    never, again = threading.Event(), threading.Event()

    def draw_again() -> str:
        again.set()
        return "svg"

    assert cache.ready("charts", (2,), "sv", draw_again, after=never) is None
    assert again.wait(5)
