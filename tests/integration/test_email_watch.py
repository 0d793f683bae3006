"""The mailbox watcher against real IMAP servers: pymap in-process and Dovecot as a subprocess."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import aioimaplib
import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from harness.channels.email.store import MailStore, decompress
from harness.core.clock import SystemClock
from harness.core.config import ImapSettings
from harness.sandbox.accounts import Account
from harness.sandbox.certs import SandboxCA
from harness.sandbox.dovecot import DovecotSandbox, dovecot_unavailable_reason
from harness.sandbox.pymap import PymapSandbox
from harness.store.models import Message, Probe, ProbeState, Question
from probes.email_analysis import TimingRules
from probes.email_watch import MailWatcher, WatchTiming
from probes.imap_client import ImapMailbox
from tests.factories import loopback_imap, reply_to, seed_sent_probe
from tests.integration.conftest import require_server

SENT = datetime(2026, 10, 6, 7, 15, tzinfo=UTC)  # Tuesday 09:15 in Stockholm
FAST = WatchTiming(idle_renew_seconds=30, poll_seconds=0.2, first_backoff=0.05, max_backoff=0.5)
USER = Account("fraga@fraga.example.se", "imap-pw", xoauth2_token="imap-token")


def _imap(port: int, **changes: object) -> ImapSettings:
    return loopback_imap(port, USER.username, **changes)


def _watcher(
    engine: Engine, connect: Callable[[], ImapMailbox], folders: tuple[str, ...] = ("INBOX",)
) -> tuple[MailWatcher, MailStore]:
    store = MailStore(engine, SystemClock(), TimingRules())
    watcher = MailWatcher(
        connect, store, SystemClock(), folders=folders, since=date(2026, 10, 5), timing=FAST
    )
    return watcher, store


def _count(engine: Engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(Message)).one()


@contextlib.asynccontextmanager
async def _running(watcher: MailWatcher) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(watcher.run())
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _until(watcher: MailWatcher, check: Callable[[], bool], seconds: float = 10) -> None:
    async with asyncio.timeout(seconds):
        await watcher.wait_synced(check)


async def _sync_once(watcher: MailWatcher, server: PymapSandbox, folder: str = "INBOX") -> int:
    """One sync pass on a fresh connection, as after a restart."""
    mailbox = ImapMailbox(_imap(server.port), environ=ENV)
    await mailbox.connect()
    try:
        return await watcher.sync(mailbox, folder)
    finally:
        await mailbox.close()


@pytest.fixture
async def pymap() -> AsyncIterator[PymapSandbox]:
    async with PymapSandbox([USER]) as server:
        yield server


ENV = {"IMAP_PW": USER.password}


def _connect_pymap(server: PymapSandbox) -> Callable[[], ImapMailbox]:
    return lambda: ImapMailbox(_imap(server.port), environ=ENV)


async def test_it_records_a_reply_delivered_while_idling(pymap: PymapSandbox, db_engine: Engine):
    probe = seed_sent_probe(db_engine, sent_at=SENT)
    watcher, _ = _watcher(db_engine, _connect_pymap(pymap), ("INBOX", "Junk"))
    arrived = SENT + timedelta(hours=3, minutes=2)
    async with _running(watcher):
        await _until(watcher, lambda: watcher.stats["INBOX"].syncs >= 1)
        # The reply lands in the junk folder, which did not even exist when watching began.
        raw = reply_to(probe, written_at=arrived - timedelta(minutes=1))
        await pymap.deliver(USER.username, raw, when=arrived, folder="Junk")
        await _until(watcher, lambda: _count(db_engine) == 1)

    with Session(db_engine) as session:
        message = session.exec(select(Message)).one()
        stored_probe = session.get(Probe, probe.probe_id)
    assert message.folder == "Junk"
    assert message.classification == "human_reply"
    assert message.probe_id == probe.probe_id
    assert message.match_method == "in_reply_to"
    assert message.arrived_at == arrived
    assert message.arrival_source == "internaldate"
    assert message.date_skewed is False
    assert decompress(message.raw_compressed).startswith(b"From: Karin Berg")
    assert stored_probe is not None
    assert stored_probe.state == ProbeState.COMPLETED
    assert stored_probe.outcome == "answered"
    assert stored_probe.completed_at == arrived
    assert watcher.stats["INBOX"].connects == 1
    assert watcher.stats["INBOX"].errors == 0


async def test_it_takes_arrival_from_our_received_header_and_flags_a_skewed_date(
    pymap: PymapSandbox, db_engine: Engine
):
    probe = seed_sent_probe(db_engine, sent_at=SENT)
    stamped = SENT + timedelta(hours=5)
    raw = reply_to(
        probe,
        written_at=SENT + timedelta(hours=1),  # offline Outlook: Date: is when Send was pressed
        received_by="mx.fraga.example.se",
        received_at=stamped,
    )
    await pymap.deliver(USER.username, raw, when=stamped + timedelta(seconds=30))
    watcher, _ = _watcher(db_engine, _connect_pymap(pymap))
    assert await _sync_once(watcher, pymap) == 1
    with Session(db_engine) as session:
        message = session.exec(select(Message)).one()
    assert message.arrived_at == stamped
    assert message.arrival_source == "received_header"
    assert message.date_skewed is True
    assert message.needs_review is True
    assert message.review_note == "Date: far from arrival"


async def _delete_and_recreate(server: PymapSandbox, folder: str) -> None:
    client = aioimaplib.IMAP4(host=server.host, port=server.port, timeout=5)
    await client.wait_hello_from_server()
    await client.login(USER.username, USER.password)
    assert (await client.delete(folder)).result == "OK"
    assert (await client.create(folder)).result == "OK"
    await client.logout()


async def test_it_resyncs_without_duplicates_when_uidvalidity_changes(
    pymap: PymapSandbox, db_engine: Engine
):
    probes = [seed_sent_probe(db_engine, sent_at=SENT, token=t) for t in ("aaaa1111", "bbbb2222")]
    replies = [reply_to(p, written_at=SENT + timedelta(hours=2)) for p in (*probes, probes[0])]
    replies[2] = reply_to(probes[0], written_at=SENT + timedelta(hours=4))  # a second answer
    for raw in replies[:2]:
        await pymap.deliver(USER.username, raw, when=SENT + timedelta(hours=2), folder="Junk")
    watcher, _ = _watcher(db_engine, _connect_pymap(pymap), ("Junk",))

    async def sync() -> int:
        return await _sync_once(watcher, pymap, "Junk")

    assert await sync() == 2
    first_validity = watcher.sink.folder_mark("Junk")
    # The server renumbers the folder (rebuilt index): same messages, new UIDs, new UIDVALIDITY.
    await _delete_and_recreate(pymap, "Junk")
    for raw in replies:
        await pymap.deliver(USER.username, raw, when=SENT + timedelta(hours=4), folder="Junk")
    assert await sync() == 1
    mark = watcher.sink.folder_mark("Junk")
    assert first_validity is not None
    assert mark is not None
    assert mark.uidvalidity != first_validity.uidvalidity
    assert _count(db_engine) == 3
    assert await sync() == 0


async def test_a_reply_that_came_before_its_question_was_recorded_as_sent_is_matched_later(
    pymap: PymapSandbox, db_engine: Engine
):
    # The municipality has the question from the SMTP server's 250; the probe becomes `sent`
    # only when the runner commits it (after the Sent-folder copy, or after a crash when the
    # copy is found). A reply in between is stored unmatched; the next sync must match it.
    probe = seed_sent_probe(db_engine, sent_at=SENT)
    # Another probe to the same municipality with the same subject, sent: the reply must not
    # land on it by subject and domain while its own question is not recorded yet.
    other = seed_sent_probe(db_engine, sent_at=SENT - timedelta(days=1), token="bbbb2222")
    with Session(db_engine) as session:
        row = session.get(Probe, probe.probe_id)
        other_row = session.get(Probe, other.probe_id)
        assert row is not None
        assert other_row is not None
        other_question = session.get(Question, other_row.question_id)
        assert other_question is not None
        other_question.subject = probe.subject
        # Claimed by the runner a moment ago (the watcher then reads only mail fetched since).
        row.state, row.sent_at, row.claimed_at = ProbeState.SENDING, None, SystemClock().now()
        session.add_all([row, other_question])
        session.commit()
    arrived = SENT + timedelta(minutes=1)
    raw = reply_to(probe, written_at=arrived)
    await pymap.deliver(USER.username, raw, when=arrived)
    watcher, _ = _watcher(db_engine, _connect_pymap(pymap))
    assert await _sync_once(watcher, pymap) == 1
    with Session(db_engine) as session:
        assert session.exec(select(Message)).one().probe_id is None

    with Session(db_engine) as session:
        row = session.get(Probe, probe.probe_id)
        assert row is not None
        row.state, row.sent_at = ProbeState.SENT, SENT
        session.add(row)
        session.commit()
    assert await _sync_once(watcher, pymap) == 0  # nothing new in the mailbox

    with Session(db_engine) as session:
        message = session.exec(select(Message)).one()
        stored_probe = session.get(Probe, probe.probe_id)
    assert message.probe_id == probe.probe_id
    assert message.match_method == "in_reply_to"
    assert message.needs_review is False
    assert stored_probe is not None
    assert stored_probe.state == ProbeState.COMPLETED
    assert stored_probe.outcome == "answered"
    assert stored_probe.completed_at == arrived


async def test_it_stores_malformed_mail_raw_and_keeps_watching(
    pymap: PymapSandbox, db_engine: Engine
):
    junk = [
        b"\x00\xff\xfe garbage without headers",
        b'Subject: =?x-unknown?B?w6XDpMO2?=\r\nContent-Type: multipart/mixed; boundary="b"\r\n'
        b"\r\n--b\r\nContent-Type: text/plain; charset=x-unknown\r\n\r\nh\xe4lsningar\r\n",
        b"From: \xc3\xa5sa@kommun.example.se\r\nSubject: tr\xe4sig rubrik\r\n\r\n" + b"x" * 200_000,
    ]
    watcher, _ = _watcher(db_engine, _connect_pymap(pymap))
    async with _running(watcher):
        await _until(watcher, lambda: watcher.stats["INBOX"].syncs >= 1)
        for raw in junk:
            await pymap.deliver(USER.username, raw, when=SENT)
        await _until(watcher, lambda: _count(db_engine) == 3)
        probe = seed_sent_probe(db_engine, sent_at=SENT)
        await pymap.deliver(
            USER.username, reply_to(probe, written_at=SENT + timedelta(hours=1)), when=SENT
        )
        await _until(watcher, lambda: _count(db_engine) == 4)
    with Session(db_engine) as session:
        rows = session.exec(select(Message).order_by(Message.uid)).all()  # type: ignore[arg-type]
    assert [decompress(r.raw_compressed) for r in rows[:3]] == junk
    assert all(r.malformed for r in rows[:3])
    # PostgreSQL's text holds no NUL: shown as U+FFFD on both backends, kept in the raw bytes.
    assert rows[0].text_body == "\ufffdÿþ garbage without headers"
    assert rows[3].probe_id == probe.probe_id
    assert watcher.stats["INBOX"].errors == 0


async def test_it_syncs_a_mailbox_of_a_thousand_messages_and_refetches_only_new_ones(
    pymap: PymapSandbox, db_engine: Engine
):
    probe = seed_sent_probe(db_engine, sent_at=SENT)
    mailbox_content = [
        (
            reply_to(
                probe,
                written_at=SENT + timedelta(minutes=i),
                message_id=f"<m{i}@ostersund.example.se>",
                threaded=i % 2 == 0,
            ),
            SENT + timedelta(minutes=i + 1),
        )
        for i in range(1000)
    ]
    await pymap.deliver_many(USER.username, mailbox_content)
    watcher, _ = _watcher(db_engine, _connect_pymap(pymap))
    assert await _sync_once(watcher, pymap) == 1000
    assert _count(db_engine) == 1000
    # The earliest counting reply is the probe's answer, whatever the order of fetching.
    with Session(db_engine) as session:
        answered = session.get(Probe, probe.probe_id)
    assert answered is not None
    assert answered.completed_at == SENT + timedelta(minutes=1)

    # A restart: a new watcher over the same database fetches only what arrived since.
    for i in range(1000, 1003):
        raw = reply_to(probe, written_at=SENT, message_id=f"<m{i}@ostersund.example.se>")
        await pymap.deliver(USER.username, raw, when=SENT + timedelta(days=1))
    restarted, _ = _watcher(db_engine, _connect_pymap(pymap))
    assert await _sync_once(restarted, pymap) == 3
    assert restarted.stats["INBOX"].fetched == 3


# --- Dovecot ------------------------------------------------------------------------------


@pytest.fixture
def own_dovecot(tls_ca: SandboxCA) -> Iterator[DovecotSandbox]:
    reason = dovecot_unavailable_reason()
    require_server("Dovecot", reason is None, reason or "")
    # A fixed workdir keeps the mail across a restart, as a real server's disk would. Not under
    # pytest's tmp_path: Dovecot's unprivileged processes must traverse every parent folder.
    workdir = Path(tempfile.mkdtemp(prefix="kkik-dovecot-restart-"))
    workdir.chmod(0o755)
    server = DovecotSandbox([USER], ca=tls_ca, workdir=workdir)
    yield server
    server.stop()
    shutil.rmtree(workdir, ignore_errors=True)


async def test_it_loses_nothing_when_dovecot_restarts_during_idle(
    own_dovecot: DovecotSandbox, db_engine: Engine
):
    probe = seed_sent_probe(db_engine, sent_at=SENT)
    own_dovecot.start()
    try:
        watcher, _ = _watcher(
            db_engine, lambda: ImapMailbox(_imap(own_dovecot.imap_port), environ=ENV)
        )
        deliver = own_dovecot.lmtp_deliver
        async with _running(watcher):
            await _until(watcher, lambda: watcher.stats["INBOX"].syncs >= 1)
            first = reply_to(probe, written_at=SENT, message_id="<first@ostersund.example.se>")
            await asyncio.to_thread(deliver, USER.username, "karin@ostersund.example.se", first)
            await _until(watcher, lambda: _count(db_engine) == 1)

            await asyncio.to_thread(own_dovecot.stop)
            await asyncio.to_thread(own_dovecot.start)
            # Delivered before the watcher is back: found by the UID sync on reconnect.
            for n in (2, 3):
                raw = reply_to(probe, written_at=SENT, message_id=f"<n{n}@ostersund.example.se>")
                await asyncio.to_thread(deliver, USER.username, "karin@ostersund.example.se", raw)
            await _until(watcher, lambda: _count(db_engine) == 3, seconds=20)
        assert watcher.stats["INBOX"].connects >= 2
        assert watcher.stats["INBOX"].errors >= 1
        assert watcher.stats["INBOX"].down_since is None  # connected again
    finally:
        own_dovecot.stop()
    with Session(db_engine) as session:
        ids = sorted(m.message_id_header or "" for m in session.exec(select(Message)).all())
    assert ids == [
        "<first@ostersund.example.se>",
        "<n2@ostersund.example.se>",
        "<n3@ostersund.example.se>",
    ]


async def test_it_watches_dovecot_over_tls_with_xoauth2(
    own_dovecot: DovecotSandbox, tls_ca: SandboxCA, db_engine: Engine
):
    probe = seed_sent_probe(db_engine, sent_at=SENT)
    own_dovecot.start()
    try:

        async def token() -> str:
            return "imap-token"

        def connect() -> ImapMailbox:
            settings = _imap(
                own_dovecot.imaps_port,
                security="tls",
                auth="xoauth2",
                password_env=None,
                oauth_token_env="IMAP_TOKEN",
            )
            return ImapMailbox(settings, tls_context=tls_ca.client_context(), token_provider=token)

        watcher, _ = _watcher(db_engine, connect)
        async with _running(watcher):
            await _until(watcher, lambda: watcher.stats["INBOX"].syncs >= 1)
            raw = reply_to(probe, written_at=SENT + timedelta(hours=1))
            await asyncio.to_thread(
                own_dovecot.lmtp_deliver, USER.username, "karin@ostersund.example.se", raw
            )
            await _until(watcher, lambda: _count(db_engine) == 1)
    finally:
        own_dovecot.stop()
    with Session(db_engine) as session:
        message = session.exec(select(Message)).one()
    # Dovecot's LMTP stamps its own Received: header; that is the arrival evidence.
    assert message.arrival_source == "received_header"
    assert message.arrived_at is not None
    assert message.probe_id == probe.probe_id
    assert watcher.stats["INBOX"].errors == 0


class _NoIdleMailbox(ImapMailbox):
    """A server without IDLE, as some hosted mailboxes still are."""

    @property
    def has_idle(self) -> bool:
        return False


async def test_it_falls_back_to_polling_without_idle(pymap: PymapSandbox, db_engine: Engine):
    probe = seed_sent_probe(db_engine, sent_at=SENT)
    watcher, _ = _watcher(db_engine, lambda: _NoIdleMailbox(_imap(pymap.port), environ=ENV))
    async with _running(watcher):
        await _until(watcher, lambda: watcher.stats["INBOX"].syncs >= 1)
        await pymap.deliver(USER.username, reply_to(probe, written_at=SENT), when=SENT)
        await _until(watcher, lambda: _count(db_engine) == 1)
    # Found by a later poll (every 0.2 s here), not by a push.
    assert watcher.stats["INBOX"].syncs >= 2
    assert watcher.stats["INBOX"].connects == 1


# --- mail that arrives while the watcher syncs ------------------------------------------------
# A server tells of each change once. Mail that arrives after the sync's SELECT is told of in the
# SEARCH or FETCH response (Dovecot) or when IDLE begins; either way the watcher must fetch it at
# once, not at the IDLE's renewal (25 minutes in production). FAST renews IDLE after 0.3 s, so
# these tests wait on a renewal of their own: 30 s.
PUSH_PROMPT = 3.0


async def test_mail_appended_between_a_command_and_idle_is_pushed_when_idle_begins(
    pymap: PymapSandbox,
):
    mailbox = ImapMailbox(_imap(pymap.port), environ=ENV)
    await mailbox.connect()
    try:
        await mailbox.select("INBOX")
        assert await mailbox.uids_after(0) == []
        # Another connection appends after our last command and before our IDLE.
        await pymap.deliver(USER.username, b"Subject: hej\r\n\r\nhej\r\n", when=SENT)
        began = SystemClock().monotonic()
        assert await mailbox.wait_for_push(30) is True
        assert SystemClock().monotonic() - began < PUSH_PROMPT
    finally:
        await mailbox.close()


async def test_dovecot_pushes_mail_delivered_before_idle_when_idle_begins(
    own_dovecot: DovecotSandbox,
):
    # What the pymap sandbox was corrected to do (harness.sandbox.pymap).
    own_dovecot.start()
    mailbox = ImapMailbox(_imap(own_dovecot.imap_port), environ=ENV)
    try:
        await mailbox.connect()
        await mailbox.select("INBOX")
        before = await mailbox.uids_after(0)
        await asyncio.to_thread(
            own_dovecot.lmtp_deliver, USER.username, "karin@ostersund.example.se",
            b"Subject: under synken\r\nMessage-ID: <sync@ostersund.example.se>\r\n\r\nhej\r\n",
        )  # fmt: skip
        await mailbox.uids_after(max(before, default=0))
        began = SystemClock().monotonic()
        assert await mailbox.wait_for_push(30) is True
        assert SystemClock().monotonic() - began < PUSH_PROMPT
    finally:
        await mailbox.close()
        own_dovecot.stop()


async def test_growth_told_in_a_command_response_is_fetched_without_waiting_for_idle(
    pymap: PymapSandbox,
):
    mailbox = ImapMailbox(_imap(pymap.port), environ=ENV)
    await mailbox.connect()
    try:
        await mailbox.select("INBOX")
        await pymap.deliver(USER.username, b"Subject: hej\r\n\r\nhej\r\n", when=SENT)
        # The server tells of the new message in the response to the sync's search (pymap
        # searches what the session knew, then reports the change), and IDLE will not tell it
        # again; aioimaplib drops an EXISTS that comes during a UID command.
        await mailbox.uids_after(0)
        began = SystemClock().monotonic()
        assert await mailbox.wait_for_push(30) is True
        assert SystemClock().monotonic() - began < PUSH_PROMPT
        # Told once: the next wait is a real IDLE again.
        assert await mailbox.wait_for_push(0.3) is False
    finally:
        await mailbox.close()
