"""A purge that leaves nothing (issue 18, item 5): every table filled through the real parts,
then `kkik purge`; a scan of every column of every table, and of the Twilio simulator, finds
no personal datum, while the scores are exactly what they were."""

from __future__ import annotations

import asyncio
import contextlib
import json
import zlib
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, MetaData, select
from sqlmodel import Session

from harness.channels.email.store import MailStore
from harness.sandbox.twilio_calls import SwitchboardScript
from harness.store.models import CallEvent
from probes.email_analysis import TimingRules
from probes.imap_wire import FetchedMessage
from tests.factories import reply_to, seed_sent_probe
from tests.phone_rig import CALLER, make_rig, stop_rig, week_later

SWITCHBOARD = "+4663143000"
DIRECT = "063-14 35 55"  # the case officer's own number (not the switchboard's)
NOTE = "Lena Ek lät stressad men hjälpsam"
MAIL_NOTE = "Karin Berg hänvisade till bygglovs-e-tjänsten"
HEARD = "Hej du har kommit till Karin Berg på bygglov"
SIGNED = (
    "Hej Anna!\n\nEtt uterum på 12 kvm kräver bygglov.\n\nMed vänliga hälsningar\nKarin Berg\n"
    f"Bygglovshandläggare\nDirekt: {DIRECT}\nRådhusgatan 42, 831 82 Östersund\n"
)
# Everything above that names or reaches a person, and the tester's own phone number.
PERSONAL = ["Karin Berg", "Lena Ek", DIRECT, "Bygglovshandläggare", "Rådhusgatan", HEARD,
            CALLER, CALLER.replace("+46", "0"), "karin.berg"]  # fmt: skip


def _every_value(engine: Engine) -> list[tuple[str, str, str]]:
    """(table, column, text) of every value in the database; compressed mail unpacked."""
    found = []
    meta = MetaData()
    meta.reflect(engine)
    with engine.connect() as connection:
        for table in meta.sorted_tables:
            for row in connection.execute(select(table)).mappings():
                for column, value in row.items():
                    if isinstance(value, bytes | memoryview):
                        raw = bytes(value)
                        with contextlib.suppress(zlib.error):
                            raw = zlib.decompress(raw)
                        text = raw.decode("utf-8", "replace")
                    elif isinstance(value, dict | list):
                        text = json.dumps(value, ensure_ascii=False)
                    else:
                        text = str(value)
                    found.append((table.name, column, text))
    return found


def _hits(engine: Engine) -> list[tuple[str, str, str]]:
    return [
        (table, column, datum)
        for table, column, text in _every_value(engine)
        for datum in PERSONAL
        if datum in text
    ]


async def test_after_a_purge_no_personal_datum_is_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    script = SwitchboardScript(dial_delay=1, ring_seconds=5, person_after=0, talk_seconds=40)
    rig = await make_rig(
        tmp_path, monkeypatch, targets=[("2380", "063-14 30 00")],
        scripts={SWITCHBOARD: script}, record=True,
    )  # fmt: skip
    try:
        await rig.drive(week_later())
        [call] = rig.calls()
        assert call.outcome == "person"
        recordings = [r["sid"] for c in rig.sim.calls.values() for r in c.recordings]
        assert recordings, "the call was recorded"
        # A person's assessment with a note, changed once (the audit keeps both).
        assert rig.cli("call", "assess", str(call.id), "--direct-answer", "yes",
                       "--bemotande", "2", "--note", NOTE) == 0  # fmt: skip
        assert rig.cli("call", "assess", str(call.id), "--direct-answer", "yes",
                       "--bemotande", "3", "--note", NOTE + " och kunnig",
                       "--reason", "Lyssnade om") == 0  # fmt: skip
        # An e-mail answered with a signature, assessed with its sender details and a note.
        mail = seed_sent_probe(rig.engine, sent_at=rig.clock.now() - timedelta(days=3),
                               token="purge777", campaign_name="Telefontest")  # fmt: skip
        store = MailStore(rig.engine, rig.clock, TimingRules())
        arrived = mail.sent_at + timedelta(hours=2)
        raw = reply_to(mail, written_at=arrived, body=SIGNED)
        assert store.ingest("INBOX", 1, FetchedMessage(1, arrived, None, raw))
        assert rig.cli("mail", "assess", str(mail.probe_id), "--answered", "ja", "--correct",
                       "ja", "--extra-help", "nej", "--note", MAIL_NOTE) == 0  # fmt: skip
        # What a speech-detecting call stores: the caller's words, as Twilio heard them.
        with Session(rig.engine) as session:
            session.add(
                CallEvent(
                    probe_id=call.id, call_sid=call.call_sid, source="twilio", event="voice",
                    occurred_at=arrived, received_at=arrived, dedupe_key="voice:heard",
                    payload={"CallSid": call.call_sid, "SpeechResult": HEARD, "To": CALLER,
                             "From": "+46812345678", "Confidence": "0.9"},
                )
            )  # fmt: skip
            session.commit()
        before = _hits(rig.engine)
        for datum in ("Karin Berg", DIRECT, "Lena Ek", HEARD, CALLER):
            assert any(d == datum for _, _, d in before), f"{datum} was never stored"
        capsys.readouterr()
        assert rig.cli("score", "--json") == 0
        scores = capsys.readouterr().out

        # Everything is older than the cut-off: purge it all, recordings at Twilio included.
        now = rig.clock.advance(timedelta(days=1)).isoformat()
        # In a thread, as from a terminal: the simulator answers on this test's event loop.
        assert await asyncio.to_thread(rig.cli, "--lang", "en", "purge", "--before", now) == 0
        said = capsys.readouterr().out
        assert f"{len(recordings)} recordings deleted at Twilio." in said
        assert "could not be deleted" not in said

        assert _hits(rig.engine) == []
        assert all(not c.recordings for c in rig.sim.calls.values())
        assert sorted(rig.sim.deleted_recordings) == sorted(recordings)
        # The evidence the scores rest on is untouched.
        assert rig.cli("score", "--json") == 0
        assert capsys.readouterr().out == scores
        # A second purge finds nothing left, and Twilio is not asked again.
        assert await asyncio.to_thread(rig.cli, "--lang", "en", "purge", "--before", now) == 0
        assert "Purged: 0 messages, 0 answer assessments" in capsys.readouterr().out
        assert sorted(rig.sim.deleted_recordings) == sorted(recordings)
    finally:
        await stop_rig(rig)
