"""The phone probe end to end: real SDK -> simulator -> signed callbacks -> web app -> runner.

Every expected instant below is worked out from the simulator's script: the runner places the
call at its planned slot T; in bridged mode Twilio rings the tester first (dial delay 1 s, rings
3 s: picks up at T+4), our TwiML says "Du kopplas nu till <kommun>." and then dials the
switchboard, whose leg has its own dial delay, ring time, queue and person.
"""

from __future__ import annotations

import io
import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from sqlmodel import Session, col, select
from twilio.request_validator import RequestValidator

from harness.sandbox.twilio_calls import CallbackFaults, SwitchboardScript, say_seconds
from harness.store.models import Assessment, AuditEntry, CallEvent, Probe, ProbeState, Target
from tests.phone_rig import CALLER, TOKEN, PhoneRig, PlacedCall, make_rig, stop_rig, week_later

S = timedelta(seconds=1)
OSTERSUND = "+4663143000"
KROKOM = "+4664016100"


def _events(rig: PhoneRig, probe_id: int | None = None) -> list[CallEvent]:
    with Session(rig.engine) as session:
        query = select(CallEvent).order_by(col(CallEvent.id))
        if probe_id is not None:
            query = query.where(CallEvent.probe_id == probe_id)
        return list(session.exec(query).all())


def _show(rig: PhoneRig, probe_id: int, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    capsys.readouterr()
    assert rig.cli("call", "show", str(probe_id), "--json") == 0
    row: dict[str, Any] = json.loads(capsys.readouterr().out)
    return row


def _at(row: dict[str, Any], key: str) -> datetime:
    assert row[key] is not None, f"{key} is missing"
    return datetime.fromisoformat(row[key])


def _bridged_dial(probe: PlacedCall, name: str) -> datetime:
    """When the municipal leg starts: tester picked up at T+4, then our Say ran."""
    return probe.claimed_at + 4 * S + timedelta(seconds=say_seconds(f"Du kopplas nu till {name}."))


async def test_bridged_person_at_once_then_assessed_and_scored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    script = SwitchboardScript(dial_delay=1, ring_seconds=7, person_after=0, talk_seconds=50)
    rig = await make_rig(
        tmp_path, monkeypatch, targets=[("2380", "063-14 30 00")], scripts={OSTERSUND: script}
    )
    try:
        await rig.drive(week_later())
        [probe] = rig.calls()
        assert probe.state == ProbeState.COMPLETED, probe.fault_reason
        assert probe.outcome == "person"
        assert probe.claimed_at == probe.planned_at  # placed at its slot
        # The REST create went to the tester's phone; the <Dial> leg to the switchboard in E.164.
        parent = rig.sim.calls[probe.call_sid]
        assert parent.to == CALLER
        assert parent.child is not None
        assert parent.child.to == OSTERSUND

        row = _show(rig, probe.id, capsys)
        dial = _bridged_dial(probe, "Östersund")
        assert _at(row, "dial_at") == dial
        assert _at(row, "ringing_at") == dial + 1 * S
        assert _at(row, "answered_at") == dial + 8 * S
        assert _at(row, "person_at") == dial + 8 * S  # the tester's mark, on the harness clock
        assert _at(row, "ended_at") == dial + 58 * S  # the person talked 50 s, then hung up
        assert row["time_to_answer"] == 8.0
        assert row["queue_time"] == 0.0
        assert row["awaiting_assessment"] is True

        # Waiting for assessment, then assessed: stored apart from the evidence, and audited.
        capsys.readouterr()
        assert rig.cli("call", "list") == 0
        assert f"{probe.id:<5} Östersund" in capsys.readouterr().out
        assert rig.cli("call", "assess", str(probe.id), "--direct-answer", "yes",
                       "--bemotande", "2", "--note", "Vänlig, svarade direkt") == 0  # fmt: skip
        assert "direct answer yes, treatment good (2)" in capsys.readouterr().out
        assert rig.cli("call", "assess", str(probe.id), "--direct-answer", "no",
                       "--bemotande", "3", "--reason", "Lyssnade om") == 0  # fmt: skip
        with Session(rig.engine) as session:
            [assessment] = session.exec(select(Assessment)).all()
            audit = session.exec(select(AuditEntry).order_by(col(AuditEntry.id))).all()
        assert (assessment.direct_answer, assessment.bemotande) == (False, 3)
        assert [a.action for a in audit] == ["mark_person", "assess", "reassess"]
        assert (audit[2].before or {})["bemotande"] == 2
        assert (audit[2].after or {})["bemotande"] == 3
        assert audit[2].reason == "Lyssnade om"
        capsys.readouterr()
        assert rig.cli("call", "list") == 0
        assert "No calls await assessment" in capsys.readouterr().out

        # The assessment turns into results.
        assert rig.cli("score", "--json") == 0
        scores = {s["measure"]: s for s in json.loads(capsys.readouterr().out)}
        assert scores["phone_direct_answer"]["value"] == 0
        assert scores["phone_direct_answer"]["denominator"] == 1
        assert scores["phone_bemotande"]["value"] == 100
        assert scores["phone_person_within_60s"]["numerator"] == 1

        # Twilio's own record of the call was fetched and kept beside the callbacks.
        reconciled = [e for e in _events(rig, probe.id) if e.source == "reconcile"]
        assert {e.payload["sid"] for e in reconciled} == {probe.call_sid, parent.child.sid}
        assert all(e.payload["price"] for e in reconciled)
    finally:
        await stop_rig(rig)


async def test_edition_2011_case_officer_mark_and_its_own_bemotande_scale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    """Issue 18, item 3: the tester marks "case officer reached" during the call; a 2011
    campaign is assessed on god / medelgod / dålig; U00413 and the share "god" are scored
    from those, not approximated."""
    script = SwitchboardScript(dial_delay=1, ring_seconds=7, person_after=0, talk_seconds=50)
    rig = await make_rig(
        tmp_path, monkeypatch, targets=[("2380", "063-14 30 00")], scripts={OSTERSUND: script},
        edition="2011", also_mark=("case_officer",),
    )  # fmt: skip
    try:
        await rig.drive(week_later())
        [probe] = rig.calls()
        assert probe.outcome == "person"
        # The four-level scale is refused for a 2011 campaign, with what to give instead.
        capsys.readouterr()
        assert rig.cli("call", "assess", str(probe.id), "--direct-answer", "yes",
                       "--bemotande", "3") == 2  # fmt: skip
        assert "2011 edition: treatment is assessed as good, fair or poor" in (
            capsys.readouterr().err
        )
        assert rig.cli("call", "assess", str(probe.id), "--direct-answer", "yes",
                       "--bemotande-2011", "god") == 0  # fmt: skip
        assert capsys.readouterr().out == (
            f"Call {probe.id}: direct answer yes, treatment good (the 2011 scale).\n"
        )
        with Session(rig.engine) as session:
            [assessment] = session.exec(select(Assessment)).all()
            actions = [a.action for a in session.exec(select(AuditEntry)).all()]
        assert (assessment.bemotande_2011, assessment.bemotande) == (2, None)
        assert actions == ["mark_person", "mark_case_officer", "assess"]
        assert rig.cli("score", "--json") == 0
        scores = {s["measure"]: s for s in json.loads(capsys.readouterr().out)}
        officer = scores["phone_contact_case_officer"]
        assert (officer["value"], officer["approximated"]) == (100, 0)
        good = scores["phone_bemotande_good_share"]
        assert (good["value"], good["numerator"], good["approximated"]) == (100, 1, 0)
        # The tester says after all that it was only the switchboard: the assessment decides.
        assert rig.cli("call", "assess", str(probe.id), "--direct-answer", "yes",
                       "--bemotande-2011", "medelgod", "--case-officer", "no",
                       "--reason", "Det var växeln") == 0  # fmt: skip
        capsys.readouterr()
        assert rig.cli("score", "--json") == 0
        scores = {s["measure"]: s for s in json.loads(capsys.readouterr().out)}
        assert scores["phone_contact_case_officer"]["value"] == 0
        assert scores["phone_bemotande_good_share"]["value"] == 0
    finally:
        await stop_rig(rig)


async def test_bridged_ivr_then_person(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    script = SwitchboardScript(dial_delay=2, ring_seconds=5, person_after=45, talk_seconds=30)
    rig = await make_rig(
        tmp_path, monkeypatch, targets=[("2380", "063-14 30 00")], scripts={OSTERSUND: script}
    )
    try:
        await rig.drive(week_later())
        [probe] = rig.calls()
        row = _show(rig, probe.id, capsys)
        dial = _bridged_dial(probe, "Östersund")
        assert row["outcome"] == "person"
        assert _at(row, "answered_at") == dial + 7 * S
        assert _at(row, "person_at") == dial + 52 * S
        assert row["queue_time"] == 45.0
        assert row["time_to_person"] == 52.0
        assert rig.marks == [(probe.id, dial + 52 * S)]
        # Assessed at the prompts, which name the levels.
        monkeypatch.setattr("sys.stdin", io.StringIO("ja\n1\n"))
        capsys.readouterr()
        assert rig.cli("call", "assess", str(probe.id)) == 0
        out = capsys.readouterr().out
        assert (
            "Treatment (3 mycket god/very good, 2 god/good, 1 medelgod/fair, 0 dålig/poor)" in out
        )
        assert "direct answer yes, treatment fair (1)" in out
    finally:
        await stop_rig(rig)


@pytest.mark.parametrize(
    ("script", "outcome", "ended_after_dial"),
    [
        (SwitchboardScript(outcome="busy", dial_delay=2), "busy", 2),
        # Rings past our ring timeout (60 s on <Dial>): no answer at ringing + 60 s.
        (SwitchboardScript(outcome="no_answer", dial_delay=1), "no_answer", 61),
        # A queue that nobody answers and that drops the caller after 6 minutes.
        (SwitchboardScript(ring_seconds=4, person_after=None, hangup_after=360), "no_person", 365),
    ],
    ids=["busy", "no-answer", "queue-drops-us"],
)
async def test_bridged_calls_that_reach_nobody(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    script: SwitchboardScript,
    outcome: str,
    ended_after_dial: int,
):
    rig = await make_rig(
        tmp_path, monkeypatch, targets=[("2380", "063-14 30 00")], scripts={OSTERSUND: script}
    )
    try:
        await rig.drive(week_later())
        [probe] = rig.calls()
        assert (probe.state, probe.outcome) == (ProbeState.COMPLETED, outcome)
        row = _show(rig, probe.id, capsys)
        dial = _bridged_dial(probe, "Östersund")
        assert _at(row, "dial_at") == dial
        assert _at(row, "ended_at") == dial + ended_after_dial * S
        assert row["person_at"] is None
        assert row["awaiting_assessment"] is False
        assert rig.marks == []
    finally:
        await stop_rig(rig)


async def test_tester_hanging_up_early_is_our_fault_and_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    # The tester gives up 40 s after picking up, while the switchboard's queue is still playing.
    tester = SwitchboardScript(ring_seconds=3, person_after=None, prompts=(), hangup_after=40)
    script = SwitchboardScript(ring_seconds=5, person_after=120)
    rig = await make_rig(
        tmp_path,
        monkeypatch,
        targets=[("2380", "063-14 30 00")],
        scripts={OSTERSUND: script},
        tester=tester,
    )
    try:
        first = rig.probes()[0]
        await rig.drive(first.planned_at + timedelta(minutes=30))
        probe = rig.calls()[0]
        assert probe.state == ProbeState.FAILED
        assert probe.fault_reason == "The tester hung up before a person answered"
        [replacement] = [p for p in rig.probes() if p.replaces_probe_id == probe.id]
        assert replacement.state == ProbeState.PLANNED
        row = _show(rig, probe.id, capsys)
        assert _at(row, "ended_at") == probe.claimed_at + 44 * S  # tester picked up at T+4
        assert rig.cli("score", "--json") == 0
        scores = {s["measure"]: s for s in json.loads(capsys.readouterr().out)}
        assert scores["phone_direct_answer"]["denominator"] == 0  # excluded, not a failure
        assert scores["phone_direct_answer"]["value"] is None
    finally:
        await stop_rig(rig)


async def test_automated_person_at_once_hears_the_test_call_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    script = SwitchboardScript(dial_delay=1, ring_seconds=9, person_after=0)
    rig = await make_rig(
        tmp_path,
        monkeypatch,
        mode="automated",
        targets=[("2380", "063-14 30 00")],
        scripts={OSTERSUND: script},
    )
    try:
        await rig.drive(week_later())
        [probe] = rig.calls()
        assert probe.mode == "automated"
        assert probe.outcome == "person"
        call = rig.sim.calls[probe.call_sid]
        assert call.to == OSTERSUND
        assert call.machine_detection == "Enable"
        row = _show(rig, probe.id, capsys)
        start = probe.claimed_at
        assert _at(row, "dial_at") == start
        assert _at(row, "answered_at") == start + 10 * S
        assert _at(row, "person_at") == start + 10 * S  # AMD: a person greeted us
        assert row["answered_by"] == "human"
        # AMD took 2.5 s; then our message, then we hung up: no staff time wasted.
        said = say_seconds("x " * len(_message().split()))
        assert _at(row, "ended_at") == start + timedelta(seconds=int(10 + 2.5 + said))
        assert row["awaiting_assessment"] is False
        capsys.readouterr()
        assert rig.cli("call", "assess", str(probe.id), "--direct-answer", "yes",
                       "--bemotande", "3") == 2  # fmt: skip
        assert "automated" in capsys.readouterr().err
    finally:
        await stop_rig(rig)


def _message() -> str:
    from harness.web.twilio_hooks import TEST_CALL_MESSAGE

    return TEST_CALL_MESSAGE


async def test_automated_ivr_then_person_is_found_by_speech(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    script = SwitchboardScript(dial_delay=1, ring_seconds=4, person_after=65, greeting_seconds=2)
    rig = await make_rig(
        tmp_path,
        monkeypatch,
        mode="automated",
        targets=[("2380", "063-14 30 00")],
        scripts={OSTERSUND: script},
    )
    try:
        await rig.drive(week_later())
        [probe] = rig.calls()
        row = _show(rig, probe.id, capsys)
        answered = probe.claimed_at + 5 * S
        assert row["outcome"] == "person"
        assert row["answered_by"] == "machine_start"
        assert _at(row, "answered_at") == answered
        # The greeting starts 65 s after pick-up and is recognised when it ends (2 s, plus the
        # 0.5 s pause that ends a speech result): that is when we know a person is there.
        assert _at(row, "person_at") == answered + timedelta(seconds=67.5)
        # The queue messages in between were heard and not taken for a person.
        heard = [r.get("SpeechResult") for r in rig.sim.calls[probe.call_sid].twiml_requests]
        assert "Alla våra handläggare är upptagna. Var god dröj." in heard
    finally:
        await stop_rig(rig)


async def test_automated_queue_without_person_hangs_up_at_the_hold_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    script = SwitchboardScript(ring_seconds=4, person_after=None)
    rig = await make_rig(
        tmp_path,
        monkeypatch,
        mode="automated",
        targets=[("2380", "063-14 30 00")],
        scripts={OSTERSUND: script},
    )
    try:
        await rig.drive(week_later())
        [probe] = rig.calls()
        row = _show(rig, probe.id, capsys)
        assert row["outcome"] == "no_person"
        answered = _at(row, "answered_at")
        ended = _at(row, "ended_at")
        # We stop listening at the first speech result after 300 s (prompts come every 20 s).
        assert timedelta(seconds=300) < ended - answered <= timedelta(seconds=330)
    finally:
        await stop_rig(rig)


async def test_duplicated_and_reordered_callbacks_change_nothing(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    db_url: str,
):
    """On both backends: the webhooks' insert-or-ignore is SQLite's and PostgreSQL's own."""
    script = SwitchboardScript(dial_delay=1, ring_seconds=7, person_after=30)
    (tmp_path / "plain").mkdir()
    (tmp_path / "faulty").mkdir()
    plain = await make_rig(
        tmp_path / "plain", monkeypatch, targets=[("2380", "063-14 30 00")],
        scripts={OSTERSUND: script},
    )  # fmt: skip
    try:
        await plain.drive(week_later())
        expected = _show(plain, plain.calls()[0].id, capsys)
    finally:
        await stop_rig(plain)
    rig = await make_rig(
        tmp_path / "faulty",
        monkeypatch,
        targets=[("2380", "063-14 30 00")],
        scripts={OSTERSUND: script},
        faults=CallbackFaults(duplicate=0.6, max_delay=8.0, seed=7),
        database_url=db_url,
    )
    try:
        await rig.drive(week_later())
        [probe] = rig.calls()
        row = _show(rig, probe.id, capsys)
        keys = ("outcome", "time_to_answer", "time_to_person", "queue_time")
        assert {k: row[k] for k in keys} == {k: expected[k] for k in keys}
        offset = probe.claimed_at - plain.calls()[0].claimed_at
        for key in ("dial_at", "ringing_at", "answered_at", "person_at", "ended_at"):
            assert _at(row, key) == _at(expected, key) + offset
        sent = [d["params"] for d in rig.sim.deliveries if "SequenceNumber" in d["params"]]
        order = [(p["CallSid"], int(p["SequenceNumber"])) for p in sent]
        assert len(order) > len(set(order))  # some were delivered twice ...
        assert order != sorted(order, key=lambda k: (k[0], k[1]))  # ... and out of order
        stored = [e for e in _events(rig, probe.id) if e.event == "status"]
        assert len(stored) == len(set(order))  # every callback exactly once
    finally:
        await stop_rig(rig)


async def _post(rig: PhoneRig, path: str, params: dict[str, str], signature: str) -> int:
    headers = {"X-Twilio-Signature": signature}
    async with (
        aiohttp.ClientSession() as http,
        http.post(rig.web.url + path, data=params, headers=headers) as response,
    ):
        return response.status


async def test_forged_and_replayed_callbacks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    rig = await make_rig(
        tmp_path,
        monkeypatch,
        targets=[("2380", "063-14 30 00")],
        scripts={OSTERSUND: SwitchboardScript()},
    )
    try:
        await rig.drive(week_later())
        [probe] = rig.calls()
        before = len(_events(rig))
        public = rig.settings.web.public_url
        path = "/twilio/status?" + urlencode({"probe": probe.id, "leg": "municipal"})
        params: dict[str, str] = {
            "CallSid": probe.call_sid,
            "CallStatus": "completed",
            "SequenceNumber": "99",
            "Timestamp": "Mon, 05 Oct 2026 08:00:00 +0000",
        }
        good = RequestValidator(TOKEN).compute_signature(public + path, params)
        wrong_key = RequestValidator("not-the-token").compute_signature(public + path, params)
        assert await _post(rig, path, params, "") == 403
        assert await _post(rig, path, params, wrong_key) == 403
        assert await _post(rig, path, params | {"CallStatus": "busy"}, good) == 403  # tampered
        other = "/twilio/status?" + urlencode({"probe": probe.id + 1, "leg": "municipal"})
        assert await _post(rig, other, params, good) == 403  # replayed onto another URL
        voice = f"/twilio/voice/{probe.id}?step=answer"
        assert await _post(rig, voice, params, good) == 403
        assert await _post(rig, "/twilio/recording?probe=1", params, good) == 403
        assert len(_events(rig)) == before  # no trace of any forged request

        # A genuine callback replayed as it was is accepted once and stored once.
        assert await _post(rig, path, params, good) == 200
        assert await _post(rig, path, params, good) == 200
        assert len(_events(rig)) == before + 1

        # A genuine callback for a call nobody placed: 200-class answer, a log line, unattached.
        stray = {"CallSid": "CA" + "0" * 32, "CallStatus": "ringing", "SequenceNumber": "1"}
        stray_path = "/twilio/status"
        signed = RequestValidator(TOKEN).compute_signature(public + stray_path, stray)
        with caplog.at_level(logging.WARNING, logger="harness.web.twilio_hooks"):
            assert await _post(rig, stray_path, stray, signed) == 200
        assert "unknown call CA000" in caplog.text
        assert _events(rig)[-1].probe_id is None
    finally:
        await stop_rig(rig)


async def test_swedish_number_formats_reach_twilio_as_e164(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    rig = await make_rig(
        tmp_path,
        monkeypatch,
        mode="automated",
        targets=[
            ("2380", "063-14 30 00"),
            ("2309", "+46 (0)640-161 00"),
            ("0180", "08 508 290 00"),
        ],
        scripts={
            OSTERSUND: SwitchboardScript(),
            KROKOM: SwitchboardScript(outcome="busy"),
            "+46850829000": SwitchboardScript(outcome="no_answer"),
        },
    )
    try:
        await rig.drive(week_later())
        dialled = {c.to for c in rig.sim.calls.values()}
        assert dialled == {OSTERSUND, KROKOM, "+46850829000"}
        outcomes = sorted(p.outcome or "" for p in rig.probes())
        assert outcomes == ["busy", "no_answer", "person"]
    finally:
        await stop_rig(rig)


async def test_pause_stops_new_calls_and_two_calls_a_day_at_most(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    rig = await make_rig(
        tmp_path,
        monkeypatch,
        mode="automated",
        calls=4,
        targets=[("2380", "063-14 30 00")],
        scripts={OSTERSUND: SwitchboardScript()},
    )
    try:
        # Squeeze all four into one morning, as a hand-edited plan might.
        first_day = datetime(2026, 10, 6, 7, 0, tzinfo=UTC)
        with Session(rig.engine) as session:
            for k, probe in enumerate(session.exec(select(Probe)).all()):
                probe.planned_at = first_day + timedelta(minutes=30 * k)
                session.add(probe)
            session.commit()
        await rig.drive(datetime(2026, 10, 6, 16, 0, tzinfo=UTC))
        placed = [p for p in rig.probes() if p.claimed_at is not None]
        assert len(placed) == 2
        assert len(rig.sim.calls) == 2
        waiting = [p for p in rig.probes() if p.claimed_at is None]
        assert all(p.planned_at.date() > first_day.date() for p in waiting)

        assert rig.cli("pause", "--reason", "Växeln har driftstörning") == 0
        await rig.drive(datetime(2026, 10, 7, 16, 0, tzinfo=UTC))
        assert len(rig.sim.calls) == 2  # paused: nobody called
        assert rig.cli("resume") == 0
        await rig.drive(week_later())
        assert len(rig.sim.calls) == 4
        by_day: dict[object, int] = {}
        for c in rig.calls():
            day = c.claimed_at.date()
            by_day[day] = by_day.get(day, 0) + 1
        assert max(by_day.values()) <= 2
    finally:
        await stop_rig(rig)


async def test_a_campaign_with_calls_runs_end_to_end(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    db_url: str,
):
    scripts = {
        OSTERSUND: SwitchboardScript(ring_seconds=5, person_after=20, talk_seconds=40),
        KROKOM: SwitchboardScript(outcome="busy"),
        "+46850829000": SwitchboardScript(ring_seconds=12, person_after=0, talk_seconds=90),
    }
    rig = await make_rig(
        tmp_path,
        monkeypatch,
        calls=2,
        targets=[("2380", "063-14 30 00"), ("2309", "0640-161 00"), ("0180", "08-508 290 00")],
        scripts=scripts,
        database_url=db_url,
    )
    try:
        await rig.drive(week_later())
        probes = rig.probes()
        assert len(probes) == 6
        with Session(rig.engine) as session:
            code = {t.id: t.kommunkod for t in session.exec(select(Target)).all()}
        outcomes = sorted((code[p.target_id], p.outcome or "") for p in probes)
        assert outcomes == [
            ("0180", "person"), ("0180", "person"), ("2309", "busy"), ("2309", "busy"),
            ("2380", "person"), ("2380", "person"),
        ]  # fmt: skip
        capsys.readouterr()
        assert rig.cli("call", "list", "--json") == 0
        waiting = json.loads(capsys.readouterr().out)
        assert len(waiting) == 4
        for k, row in enumerate(waiting):
            answer = "yes" if k % 2 == 0 else "no"
            assert rig.cli("call", "assess", str(row["probe"]), "--direct-answer", answer,
                           "--bemotande", str(3 - k % 2)) == 0  # fmt: skip
            expected = 20.0 if row["kommunkod"] == "2380" else 0.0
            assert row["queue_time"] == expected
        capsys.readouterr()
        assert rig.cli("score", "--json") == 0
        scores = {(s["kommunkod"], s["measure"]): s for s in json.loads(capsys.readouterr().out)}
        assert scores[("2309", "phone_direct_answer")]["value"] == 0  # busy counts as a failure
        assert scores[("2309", "phone_direct_answer")]["denominator"] == 2
        assert scores[("2380", "phone_direct_answer")]["value"] == 50
        assert scores[("2380", "phone_bemotande")]["value"] == 83  # (3 + 2) / 6
        assert scores[("0180", "phone_person_within_60s")]["value"] == 100
    finally:
        await stop_rig(rig)
