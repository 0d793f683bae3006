"""The runner against a real SMTP server, on a controllable clock: never twice, never lost."""

from __future__ import annotations

import asyncio
import email
import email.policy
import shutil
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from harness.campaign.planning import plan_scenario
from harness.campaign.runner import PlaceNow, Runner, TickResult
from harness.core.clock import FakeClock
from harness.core.config import Settings, SmtpSettings
from harness.core.labels import fault_text, pause_text
from harness.rules.calendars import work_calendar
from harness.sandbox.certs import SandboxCA
from harness.sandbox.smtp import SmtpSandbox
from harness.store.models import AuditEntry, Campaign, Probe, ProbeState, Target
from harness.store.planstore import save_plan
from probes.email_send import EmailProbe, SmtpSender
from results.calendar import WorkCalendar
from tests.factories import seed_sent_probe

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 10, 5, 5, 0, tzinfo=UTC)  # Monday 07:00 in Stockholm, before any window
ENV = {"SMTP_PW": "smtp-losen-1"}

SCENARIO = """
[campaign]
name = "Runner test {unique}"
year = 2026
period_start = 2026-10-05
period_end = 2026-10-16
emails_per_target = 4
calls_per_target = 0
question_bank = "questions"

[[personas]]
name = "Anna Lindqvist"
address = "anna.lindqvist@fraga.example.se"

[[personas]]
name = "Erik Johansson"
address = "erik.johansson@fraga.example.se"

[[targets]]
kommunkod = "2380"
email = "kommunen-{unique}@ostersund.example.se"

[[targets]]
kommunkod = "2309"
email = "kommun-{unique}@krokom.example.se"
placeholder = {placeholder}
"""


def _plan(tmp_path: Path, engine: Engine, unique: str, *, placeholder: bool = False) -> None:
    shutil.copytree(ROOT / "scenarios" / "questions", tmp_path / "questions")
    path = tmp_path / "scenario.toml"
    path.write_text(
        SCENARIO.format(unique=unique, placeholder=str(placeholder).lower()), encoding="utf-8"
    )
    made = plan_scenario(path, Settings())
    with Session(engine) as session:
        save_plan(session, made.scenario, made.bank, made.probes, START)


def _runner(engine: Engine, clock: FakeClock, smtp: SmtpSandbox, ca: SandboxCA, **kw) -> Runner:
    settings = SmtpSettings.model_validate(
        {
            "host": "127.0.0.1",
            "port": smtp.port,
            "username": "matning@kkik.test",
            "password_env": "SMTP_PW",
            "timeout_seconds": 5,
        }
    )
    sender = SmtpSender(settings, tls_context=ca.client_context(), environ=kw.pop("env", ENV))
    return Runner(engine, clock, {"email": EmailProbe(sender)}, work_calendar(Settings()), **kw)


def _probes(engine: Engine) -> list[Probe]:
    with Session(engine) as session:
        return list(session.exec(select(Probe).order_by(col(Probe.planned_at))).all())


def _received(smtp: SmtpSandbox, unique: str) -> Counter[str]:
    """Message-IDs the server accepted for this test's recipients."""
    ids: Counter[str] = Counter()
    for message in smtp.messages:
        if any(unique in rcpt for rcpt in message.rcpt_tos):
            parsed = email.message_from_bytes(message.content, policy=email.policy.default)
            ids[str(parsed["Message-ID"])] += 1
    return ids


async def _run_campaign(runner: Runner, clock: FakeClock, until: datetime) -> None:
    """Tick at every due time, as the scheduler would wake the runner."""
    while True:
        due = runner.next_due()
        if due is None or due > until:
            return
        clock.set(max(due, clock.now()))
        await runner.tick()


async def test_it_sends_every_planned_question_once_at_its_time(
    db_engine: Engine, smtp_server: SmtpSandbox, tls_ca: SandboxCA, unique: str, tmp_path: Path
):
    _plan(tmp_path, db_engine, unique)
    clock = FakeClock(START)
    runner = _runner(db_engine, clock, smtp_server, tls_ca)
    assert (await runner.tick()).work == 0  # nothing due at 07:00 on the first day

    await _run_campaign(runner, clock, datetime(2026, 10, 17, tzinfo=UTC))

    probes = _probes(db_engine)
    assert len(probes) == 8
    assert {p.state for p in probes} == {ProbeState.SENT}
    received = _received(smtp_server, unique)
    assert set(received.values()) == {1}  # nobody got a question twice
    assert set(received) == {p.message_id for p in probes}  # chosen and stored before sending
    for probe in probes:
        assert probe.sent_at == probe.planned_at  # accepted at its slot (clock stands still)
        assert probe.send_response == "250 2.0.0 OK: queued"
        local = probe.planned_at.astimezone(work_calendar(Settings()).tz)
        assert "09:00" <= f"{local:%H:%M}" < "16:00"


async def test_two_runners_racing_for_the_same_probe_send_it_once(
    db_engine: Engine, smtp_server: SmtpSandbox, tls_ca: SandboxCA, unique: str, tmp_path: Path
):
    _plan(tmp_path, db_engine, unique)
    first = _probes(db_engine)[0]
    clock = FakeClock(first.planned_at)
    one = _runner(db_engine, clock, smtp_server, tls_ca)
    two = _runner(db_engine, clock, smtp_server, tls_ca)
    results = await asyncio.gather(one.tick(), two.tick())
    assert sum(r.sent for r in results) == 1
    assert list(_received(smtp_server, unique).values()) == [1]


async def test_a_crash_mid_send_is_resolved_from_evidence_or_flagged_never_resent(
    db_engine: Engine, smtp_server: SmtpSandbox, tls_ca: SandboxCA, unique: str, tmp_path: Path
):
    _plan(tmp_path, db_engine, unique)
    a, b = _probes(db_engine)[:2]
    # Both were claimed by a runner that then died: outcome unknown.
    with Session(db_engine) as session:
        for probe_id in (a.id, b.id):
            row = session.get(Probe, probe_id)
            assert row is not None
            row.state = ProbeState.SENDING
            row.message_id = f"<crash-{probe_id}-{unique}@fraga.example.se>"
            session.add(row)
        session.commit()
    evidence = b.planned_at + timedelta(seconds=3)

    async def resolver(probe: Probe) -> datetime | None:
        return evidence if probe.id == b.id else None  # only b's copy is in the Sent folder

    clock = FakeClock(b.planned_at + timedelta(minutes=1))
    runner = _runner(db_engine, clock, smtp_server, tls_ca, resolver=resolver)
    result = await runner.tick()
    assert (result.flagged, result.resolved) == (1, 1)
    with Session(db_engine) as session:
        flagged = session.get(Probe, a.id)
        resolved = session.get(Probe, b.id)
    assert flagged is not None
    assert (flagged.state, flagged.outcome) == (ProbeState.SENDING, "send_unknown")
    assert resolved is not None
    assert (resolved.state, resolved.sent_at) == (ProbeState.SENT, evidence)
    await runner.tick()  # a flagged probe stays for a person: never sent again
    assert not _received(smtp_server, unique)


async def test_a_slot_missed_while_stopped_moves_to_the_next_free_slot(
    db_engine: Engine, smtp_server: SmtpSandbox, tls_ca: SandboxCA, unique: str, tmp_path: Path
):
    _plan(tmp_path, db_engine, unique)
    first = _probes(db_engine)[0]
    tz = work_calendar(Settings()).tz
    evening = datetime.combine(first.planned_at.astimezone(tz).date(), datetime.min.time(), tz)
    clock = FakeClock(evening + timedelta(hours=19))  # 19:00 the same day: window closed
    runner = _runner(db_engine, clock, smtp_server, tls_ca)
    result = await runner.tick()
    assert result.sent == 0
    assert result.rescheduled == 1
    with Session(db_engine) as session:
        moved = session.get(Probe, first.id)
    assert moved is not None
    assert moved.state == ProbeState.PLANNED
    local = moved.planned_at.astimezone(tz)
    assert local.date() > first.planned_at.astimezone(tz).date()
    assert "09:00" <= f"{local:%H:%M}" < "16:00"
    assert not _received(smtp_server, unique)


async def test_it_never_contacts_a_placeholder_target(
    db_engine: Engine, smtp_server: SmtpSandbox, tls_ca: SandboxCA, unique: str, tmp_path: Path
):
    _plan(tmp_path, db_engine, unique, placeholder=True)
    clock = FakeClock(START)
    runner = _runner(db_engine, clock, smtp_server, tls_ca)
    await _run_campaign(runner, clock, datetime(2026, 10, 17, tzinfo=UTC))
    with Session(db_engine) as session:
        krokom = session.exec(select(Target).where(Target.kommunkod == "2309")).one()
        refused = session.exec(select(Probe).where(Probe.target_id == krokom.id)).all()
    assert {(p.state, p.outcome) for p in refused} == {(ProbeState.FAILED, "refused")}
    assert len(refused) == 4  # refused, and not replaced by new attempts
    assert not any("krokom" in r for m in smtp_server.messages for r in m.rcpt_tos if unique in r)


async def test_our_own_failure_is_a_harness_fault_and_gets_a_replacement(
    db_engine: Engine, smtp_server: SmtpSandbox, tls_ca: SandboxCA, unique: str, tmp_path: Path
):
    _plan(tmp_path, db_engine, unique)
    first = _probes(db_engine)[0]
    clock = FakeClock(first.planned_at)
    runner = _runner(db_engine, clock, smtp_server, tls_ca, env={"SMTP_PW": "wrong"})
    result = await runner.tick()
    assert (result.failed, result.replaced) == (1, 1)
    with Session(db_engine) as session:
        failed = session.get(Probe, first.id)
        replacement = session.exec(select(Probe).where(Probe.replaces_probe_id == first.id)).one()
    assert failed is not None
    assert (failed.state, failed.outcome) == (ProbeState.FAILED, "harness_fault")
    assert failed.fault_reason is not None
    assert failed.fault_reason.startswith("SMTP login refused (535")
    assert failed.fault_code == "smtp_login_refused"
    assert fault_text(failed.fault_code, failed.fault_params, "sv").startswith(
        "utgående e-postserver nekade inloggningen (servern svarade ”535"
    )
    assert replacement.state == ProbeState.PLANNED
    assert replacement.plan_key == f"{first.plan_key}/r1"
    assert replacement.question_id == first.question_id
    assert replacement.planned_at > first.planned_at


async def test_the_same_fault_five_times_in_a_row_pauses_the_campaign_instead_of_burning_it(
    db_engine: Engine, smtp_server: SmtpSandbox, tls_ca: SandboxCA, unique: str, tmp_path: Path
):
    """Issue 16: a wrong password failed every probe, each replaced and failing again, until
    the plan was burnt. Now the fifth fault of the same kind in a row pauses the campaign, with
    the reason stored as a code, audited and told; nothing more is sent or failed."""
    _plan(tmp_path, db_engine, unique)
    clock = FakeClock(START)
    runner = _runner(
        db_engine, clock, smtp_server, tls_ca, env={"SMTP_PW": "wrong"}, pause_after_faults=5
    )
    events = []
    for _ in range(40):  # tick through the campaign's due times
        due = runner.next_due()
        if due is None or due > datetime(2026, 10, 17, tzinfo=UTC):
            break
        clock.set(max(due, clock.now()))
        events += (await runner.tick()).events
    with Session(db_engine) as session:
        campaign = session.exec(select(Campaign)).one()
        probes = session.exec(select(Probe)).all()
        audit = session.exec(select(AuditEntry).where(AuditEntry.entity == "campaign")).all()
    failed = [p for p in probes if p.outcome == "harness_fault"]
    assert len(failed) == 5  # the plan is intact: the rest still waits, planned
    assert {p.fault_code for p in failed} == {"smtp_login_refused"}
    assert all("535" in str((p.fault_params or {}).get("reply")) for p in failed)
    assert sum(p.state == ProbeState.PLANNED for p in probes) >= 8
    assert (campaign.status, campaign.paused_code) == ("paused", "repeated_fault")
    assert campaign.paused_params is not None
    assert campaign.paused_params["count"] == 5
    assert campaign.paused_params["fault"] == "smtp_login_refused"
    assert [(a.actor, a.action) for a in audit] == [("runner", "pause")]
    assert [e.kind for e in events].count("paused") == 1
    assert _received(smtp_server, unique) == Counter()
    # The reason reads whole in Swedish, the server's own words quoted as evidence.
    reason = pause_text(campaign.paused_code, campaign.paused_params, "sv")
    assert reason.startswith("samma fel hos oss 5 gånger i rad: utgående e-postserver nekade")
    assert "535" in reason


async def test_different_faults_or_a_success_between_them_do_not_pause(
    db_engine: Engine, smtp_server: SmtpSandbox, tls_ca: SandboxCA, unique: str, tmp_path: Path
):
    _plan(tmp_path, db_engine, unique)
    clock = FakeClock(START)
    wrong = _runner(
        db_engine, clock, smtp_server, tls_ca, env={"SMTP_PW": "wrong"}, pause_after_faults=5
    )
    right = _runner(db_engine, clock, smtp_server, tls_ca, pause_after_faults=5)
    for n in range(12):
        due = wrong.next_due()
        assert due is not None
        clock.set(max(due, clock.now()))
        await (wrong if n % 4 else right).tick()  # a success after every three faults
    with Session(db_engine) as session:
        campaign = session.exec(select(Campaign)).one()
    assert campaign.status != "paused"
    assert campaign.paused_code is None


async def test_a_stored_persona_name_with_a_line_break_is_our_fault_not_a_crash(
    db_engine: Engine, smtp_server: SmtpSandbox, tls_ca: SandboxCA, unique: str, tmp_path: Path
):
    # A plan saved before scenarios were checked for header values (issue 15, L4): the runner
    # crashed on the first send; now the probe fails as ours and nothing leaves.
    _plan(tmp_path, db_engine, unique)
    first = _probes(db_engine)[0]
    with Session(db_engine) as session:
        probe = session.get(Probe, first.id)
        assert probe is not None
        probe.persona_name = "Anna Lindqvist\r\nBcc: alla@kommun.example.se"
        session.add(probe)
        session.commit()
    clock = FakeClock(first.planned_at)
    result = await _runner(db_engine, clock, smtp_server, tls_ca).tick()
    assert result.failed == 1
    with Session(db_engine) as session:
        failed = session.get(Probe, first.id)
    assert failed is not None
    assert (failed.state, failed.outcome) == (ProbeState.FAILED, "harness_fault")
    assert (failed.fault_reason or "").startswith("Not sent: From name holds a line break")
    assert _received(smtp_server, unique) == Counter()


async def test_a_refused_recipient_marks_the_address_broken(
    db_engine: Engine, smtp_server: SmtpSandbox, tls_ca: SandboxCA, unique: str, tmp_path: Path
):
    _plan(tmp_path, db_engine, unique)
    address = f"kommunen-{unique}@ostersund.example.se"
    smtp_server.handler.rcpt_replies[address] = "550 5.1.1 <kommunen>: Recipient address rejected"
    clock = FakeClock(START)
    runner = _runner(db_engine, clock, smtp_server, tls_ca)
    await _run_campaign(runner, clock, datetime(2026, 10, 17, tzinfo=UTC))
    with Session(db_engine) as session:
        ostersund = session.exec(select(Target).where(Target.kommunkod == "2380")).one()
        outcomes = Counter(
            p.outcome
            for p in session.exec(select(Probe).where(Probe.target_id == ostersund.id)).all()
        )
    assert outcomes == {"rejected": 4}  # counted as not answered; no replacements
    assert ostersund.email_broken_reason is not None
    assert "550 5.1.1" in ostersund.email_broken_reason


async def test_it_gives_up_on_an_unanswered_question_after_ten_working_days(
    db_engine: Engine, smtp_server: SmtpSandbox, tls_ca: SandboxCA, unique: str, tmp_path: Path
):
    _plan(tmp_path, db_engine, unique)
    first = _probes(db_engine)[0]
    clock = FakeClock(first.planned_at)
    runner = _runner(db_engine, clock, smtp_server, tls_ca)
    await runner.tick()
    clock.set(first.planned_at + timedelta(days=13))  # not yet: 9 working days later
    assert (await runner.tick()).given_up == 0
    clock.set(first.planned_at + timedelta(days=15))
    assert (await runner.tick()).given_up >= 1
    with Session(db_engine) as session:
        probe = session.get(Probe, first.id)
    assert probe is not None
    assert (probe.state, probe.outcome) == (ProbeState.COMPLETED, "not_answered")


@pytest.mark.parametrize("what", ["campaign", "target"])
async def test_nothing_is_sent_while_paused(
    db_engine: Engine,
    smtp_server: SmtpSandbox,
    tls_ca: SandboxCA,
    unique: str,
    tmp_path: Path,
    what: str,
):
    _plan(tmp_path, db_engine, unique)
    with Session(db_engine) as session:
        if what == "campaign":
            for campaign in session.exec(select(Campaign)).all():
                campaign.status = "paused"
                session.add(campaign)
        else:
            for target in session.exec(select(Target)).all():
                target.paused = True
                session.add(target)
        session.commit()
    first = _probes(db_engine)[0]
    runner = _runner(db_engine, FakeClock(first.planned_at), smtp_server, tls_ca)
    assert (await runner.tick()).sent == 0
    assert not _received(smtp_server, unique)


async def test_calls_wait_while_the_phone_channel_is_not_set_up(
    db_engine: Engine, smtp_server: SmtpSandbox, tls_ca: SandboxCA, unique: str, tmp_path: Path
):
    shutil.copytree(ROOT / "scenarios" / "questions", tmp_path / "questions")
    path = tmp_path / "scenario.toml"
    text = SCENARIO.format(unique=unique, placeholder="false").replace(
        "calls_per_target = 0", "calls_per_target = 2"
    )
    path.write_text(
        text.replace('email = "kommun-', 'switchboard = "0640-161 00"\nemail = "kommun-')
    )
    made = plan_scenario(path, Settings())
    with Session(db_engine) as session:
        save_plan(session, made.scenario, made.bank, made.probes, START)
    call = next(p for p in _probes(db_engine) if p.channel == "phone")
    runner = _runner(db_engine, FakeClock(call.planned_at), smtp_server, tls_ca)
    result = await runner.tick()
    assert result.waiting >= 1
    assert (result.failed, result.replaced) == (0, 0)
    with Session(db_engine) as session:
        waiting = session.get(Probe, call.id)
    assert waiting is not None
    assert waiting.state == ProbeState.PLANNED


@pytest.mark.parametrize(
    ("sent", "days", "not_yet", "given_up"),
    [
        # Monday 08:00 in Stockholm, one office day: due at 17:00 the same day.
        (datetime(2026, 10, 5, 6, 0, tzinfo=UTC), 1,
         datetime(2026, 10, 5, 14, 59, tzinfo=UTC), datetime(2026, 10, 5, 15, 1, tzinfo=UTC)),
        # Friday 16:00, two office days: Monday's 9 hours and Tuesday's first 8.
        (datetime(2026, 10, 9, 14, 0, tzinfo=UTC), 2,
         datetime(2026, 10, 13, 13, 59, tzinfo=UTC), datetime(2026, 10, 13, 14, 1, tzinfo=UTC)),
    ],
)  # fmt: skip
def test_giving_up_reads_only_questions_old_enough_yet_misses_none(
    db_engine: Engine, sent: datetime, days: int, not_yet: datetime, given_up: datetime
):
    seeded = seed_sent_probe(db_engine, sent_at=sent)
    with Session(db_engine) as session:
        campaign = session.exec(select(Campaign)).one()
        campaign.scenario = {"campaign": _spec_with_give_up(days)}
        session.add(campaign)
        session.commit()
    clock = FakeClock(not_yet)
    runner = Runner(db_engine, clock, {}, WorkCalendar(), resolver=None)
    result = TickResult()
    runner._give_up(not_yet, result)
    assert result.given_up == 0
    runner._give_up(given_up, result)
    assert result.given_up == 1
    with Session(db_engine) as session:
        probe = session.get(Probe, seeded.probe_id)
        assert probe is not None
        assert (probe.state, probe.outcome) == (ProbeState.COMPLETED, "not_answered")
        assert probe.completed_at is not None
        assert not_yet < probe.completed_at <= given_up


def _spec_with_give_up(days: int) -> dict[str, object]:
    return {
        "name": "Ge upp",
        "year": 2026,
        "period_start": "2026-10-05",
        "period_end": "2026-11-13",
        "give_up_working_days": days,
    }


def test_giving_up_counts_each_campaigns_own_closed_days(db_engine: Engine):
    # Two campaigns in one database, each with a question sent Tuesday 20 October 15:00 and a
    # give-up limit of one working day. One declares Wednesday its staff day: its deadline
    # moves from Wednesday 15:00 to Thursday 15:00; the other's does not. The runner serves both
    # with the configured calendar and must add each campaign's own days itself.
    sent = datetime(2026, 10, 20, 13, 0, tzinfo=UTC)
    staff_day = seed_sent_probe(db_engine, sent_at=sent, campaign_name="Med personaldag")
    plain = seed_sent_probe(
        db_engine, sent_at=sent, token="bbbb2222", campaign_name="Utan personaldag"
    )
    with Session(db_engine) as session:
        for campaign in session.exec(select(Campaign)).all():
            spec = _spec_with_give_up(1)
            if campaign.name == "Med personaldag":
                spec["extra_closed_days"] = ["2026-10-21"]
            campaign.scenario = {"campaign": spec}
            session.add(campaign)
        session.commit()
    runner = Runner(db_engine, FakeClock(sent), {}, work_calendar(Settings()), resolver=None)

    wednesday_1600 = datetime(2026, 10, 21, 14, 0, tzinfo=UTC)
    result = TickResult()
    runner._give_up(wednesday_1600, result)
    assert result.given_up == 1
    with Session(db_engine) as session:
        given_up, waiting = (
            session.get(Probe, plain.probe_id),
            session.get(Probe, staff_day.probe_id),
        )
        assert given_up is not None
        assert waiting is not None
        assert (given_up.state, given_up.outcome) == (ProbeState.COMPLETED, "not_answered")
        assert given_up.completed_at == datetime(2026, 10, 21, 13, 0, tzinfo=UTC)
        assert waiting.state == ProbeState.SENT

    thursday_1501 = datetime(2026, 10, 22, 13, 1, tzinfo=UTC)
    runner._give_up(thursday_1501, result)
    assert result.given_up == 2
    with Session(db_engine) as session:
        waiting = session.get(Probe, staff_day.probe_id)
        assert waiting is not None
        assert (waiting.state, waiting.outcome) == (ProbeState.COMPLETED, "not_answered")
        assert waiting.completed_at == datetime(2026, 10, 22, 13, 0, tzinfo=UTC)


async def test_a_probe_is_not_placed_early_on_its_campaigns_closed_day(
    db_engine: Engine, smtp_server: SmtpSandbox, tls_ca: SandboxCA, unique: str, tmp_path: Path
):
    # The call console's "Ring" (Runner.place_now) runs on the configured calendar like every
    # runner; the campaign's own staff day (Wednesday 7 October) must still close its window.
    shutil.copytree(ROOT / "scenarios" / "questions", tmp_path / "questions")
    path = tmp_path / "scenario.toml"
    text = SCENARIO.format(unique=unique, placeholder="false")
    path.write_text(
        text.replace(
            "calls_per_target = 0", "calls_per_target = 0\nextra_closed_days = [2026-10-07]"
        )
    )
    made = plan_scenario(path, Settings())
    with Session(db_engine) as session:
        save_plan(session, made.scenario, made.bank, made.probes, START)
    tz = work_calendar(Settings()).tz
    later = next(
        p for p in _probes(db_engine) if p.planned_at.astimezone(tz).date() > date(2026, 10, 8)
    )
    assert later.id is not None
    staff_day_1000 = datetime(2026, 10, 7, 8, 0, tzinfo=UTC)
    runner = _runner(db_engine, FakeClock(staff_day_1000), smtp_server, tls_ca)
    assert (await runner.place_now(later.id)).reason == "outside_window"
    assert not _received(smtp_server, unique)
    thursday_1000 = datetime(2026, 10, 8, 8, 0, tzinfo=UTC)
    assert await runner.place_now(later.id, thursday_1000) == PlaceNow(True, "placed")
    assert sum(_received(smtp_server, unique).values()) == 1
