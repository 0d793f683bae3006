"""``kkik status``, ``pause``, ``resume``, ``cancel`` and ``run`` as an operator uses them."""

from __future__ import annotations

import contextlib
import gc
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from harness.core.clock import FakeClock
from harness.store import migrate
from harness.store.db import make_engine
from harness.store.models import AuditEntry, Campaign, Probe, ProbeState, Target
from harness.store.runlock import RunLock, RunnerBusy

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def campaign(kkik, tmp_path: Path) -> Path:
    """A saved three-target plan; returns the config file."""
    shutil.copytree(ROOT / "scenarios" / "questions", tmp_path / "questions")
    template = (ROOT / "scenarios" / "kkik-hosten-2026.toml").read_text(encoding="utf-8")
    # As if the placeholders had been replaced by the real addresses.
    (tmp_path / "kampanj.toml").write_text(
        template.replace("placeholder = true", "placeholder = false"), encoding="utf-8"
    )
    config = tmp_path / "config.toml"
    config.write_text('[database]\nurl = "sqlite:///kkik.db"\n')
    engine = make_engine(f"sqlite:///{tmp_path / 'kkik.db'}")
    migrate.upgrade(engine)
    engine.dispose()
    saved = kkik("--config", str(config), "plan", str(tmp_path / "kampanj.toml"), "--save",
                 clock=before_the_campaign())  # fmt: skip
    assert saved.code == 0, saved.err
    return config


def before_the_campaign() -> FakeClock:
    """A clock before the template's period (it starts 2026-10-05), whatever today is."""
    return FakeClock(datetime(2026, 9, 28, 8, 0, tzinfo=UTC))


def _settled(database: Path) -> bytes:
    """The database file's bytes once every committed write is in it.

    In WAL mode a commit first lands in the -wal file and reaches the main file at a checkpoint,
    which happens when the last connection closes: an engine an earlier in-process command left
    open may do that at any moment. Checkpointing first makes the bytes comparable; a write by
    the command under test would still change them.
    """
    gc.collect()  # close connections of engines earlier commands left to the garbage collector
    with contextlib.closing(sqlite3.connect(database)) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return database.read_bytes()


def _engine(config: Path):
    return make_engine(f"sqlite:///{config.parent / 'kkik.db'}")


def test_it_shows_progress_per_municipality(kkik, campaign: Path):
    result = kkik("--config", str(campaign), "status")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0] == "KKiK hösten 2026"
    assert lines[1] == "[" + "." * 30 + "] 0/108"
    # One table per channel (issue 16): planned, sent, answered, waiting, faults, next.
    assert lines[3].startswith("E-post")
    assert lines[4].startswith("2380 Östersund")
    assert lines[4].split()[2:7] == ["18", "0", "0", "0", "0"]
    assert lines[4].endswith("2026-10-05 12:45")
    assert lines[8].startswith("Telefon")
    assert lines[9].split()[2:7] == ["18", "0", "0", "0", "0"]
    assert lines[9].endswith("2026-10-06 15:55")


def test_it_pauses_and_resumes_with_an_audit_trail(kkik, campaign: Path):
    assert kkik("--config", str(campaign), "pause", "--reason", "Valvaka").out == (
        "Pausad: KKiK hösten 2026.\n"
    )
    assert "[pausad]" in kkik("--config", str(campaign), "status").out.splitlines()[0]
    result = kkik("--lang", "en", "--config", str(campaign), "pause", "--target", "2309")
    assert result.out == "Paused: 2309 Krokom.\n"
    assert kkik("--config", str(campaign), "resume").code == 0
    with Session(_engine(campaign)) as session:
        assert session.exec(select(Campaign)).one().status == "running"
        assert session.exec(select(Target).where(Target.kommunkod == "2309")).one().paused
        audit = session.exec(select(AuditEntry).order_by(col(AuditEntry.id))).all()
    assert [(a.action, a.entity, a.reason) for a in audit] == [
        ("pause", "campaign", "Valvaka"),
        ("pause", "target", None),
        ("resume", "campaign", None),
    ]
    assert audit[0].actor.startswith("cli")
    assert (audit[0].before, audit[0].after) == ({"value": "planned"}, {"value": "paused"})
    missing = kkik("--lang", "en", "--config", str(campaign), "pause", "--target", "0180")
    assert (missing.code, missing.err) == (2, "No kommunkod 0180 in the campaign.\n")


def test_it_withdraws_only_planned_probes(kkik, campaign: Path):
    with Session(_engine(campaign)) as session:
        first, second = session.exec(select(Probe).order_by(col(Probe.id)).limit(2)).all()
        second.state = ProbeState.SENT
        session.add(second)
        first_id, second_id = first.id, second.id
        session.commit()
    result = kkik("--lang", "en", "--config", str(campaign), "cancel", str(first_id))
    assert result.out == f"Probe {first_id} withdrawn.\n"
    refused = kkik("--lang", "en", "--config", str(campaign), "cancel", str(second_id))
    assert refused.code == 1
    assert refused.err == (
        f"Probe {second_id} cannot be withdrawn (sent or placed, awaiting the outcome); only "
        "planned ones can.\n"
    )
    with Session(_engine(campaign)) as session:
        assert session.get(Probe, first_id).state == ProbeState.CANCELLED  # type: ignore[union-attr]
        assert session.exec(select(AuditEntry)).one().action == "cancel"


CHANNELS = (
    "\n[mail.smtp]\nhost = 'smtp.kkik.example.se'\nusername = 'matning'\n"
    "password_env = 'KKIK_TEST_SMTP_PW'\n"
    "[mail.imap]\nhost = 'imap.kkik.example.se'\nusername = 'matning'\n"
    "password_env = 'KKIK_TEST_IMAP_PW'\n"
    '[phone]\naccount_sid = "AC' + "0" * 32 + '"\nauth_token_env = "KKIK_TEST_TWILIO"\n'
    'from_number = "+46812345678"\ncaller_number = "+46701234567"\n'
    '[web]\npublic_url = "https://kkik.example.se"\n'
)


def test_a_dry_run_contacts_nobody_and_changes_nothing(kkik, campaign: Path):
    # Both channels set up, none of their secrets at hand: a dry run needs none (issue 16).
    campaign.write_text(campaign.read_text() + CHANNELS)
    before = _settled(campaign.parent / "kkik.db")
    # Monday of the first week at 12:50: Östersund's first question (12:45) is due, inside its
    # window; Åre's call at 09:30 is due too.
    result = kkik(
        "--lang", "en", "--config", str(campaign), "run", "--dry-run", "--at", "2026-10-05T12:50"
    )  # fmt: skip
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0] == "Would send at 2026-10-05 12:50: 3"
    assert "2380 Östersund e-mail" in result.out
    assert lines[4] == "Would move (slot missed, window closed): 0"
    assert lines[5] == "Coming up:"
    assert lines[6].startswith("  2026-10-05 15:35  2309 Krokom")
    # The evening of the same day: nothing can be sent, the due ones would move.
    evening = kkik(
        "--lang", "en", "--config", str(campaign), "run", "--dry-run", "--at", "2026-10-05T19:00"
    )  # fmt: skip
    assert evening.out.splitlines()[0] == "Would send at 2026-10-05 19:00: 0"
    assert evening.out.splitlines()[1] == "Would move (slot missed, window closed): 4"
    with Session(_engine(campaign)) as session:
        assert {p.state for p in session.exec(select(Probe)).all()} == {ProbeState.PLANNED}
    assert _settled(campaign.parent / "kkik.db") == before
    misuse = kkik("--lang", "en", "--config", str(campaign), "run", "--at", "2026-10-05T12:50")
    assert (misuse.code, misuse.err) == (2, "--at works only with --dry-run\n")


def test_run_refuses_placeholder_targets_and_a_period_that_is_over(kkik, campaign: Path):
    """Issue 16: a campaign saved with placeholders (before plan --save refused them) or whose
    period has passed is refused by `kkik run` before anything is sent, naming what to change."""
    with Session(_engine(campaign)) as session:
        krokom = session.exec(select(Target).where(Target.kommunkod == "2309")).one()
        krokom.placeholder = True
        session.add(krokom)
        session.commit()
    before = _settled(campaign.parent / "kkik.db")
    result = kkik("--config", str(campaign), "run", clock=before_the_campaign())
    assert result.code == 2
    name = "KKiK hösten 2026"
    assert result.err.splitlines() == [
        f"Kampanjen ”{name}”: 2309 Krokom är platshållare. Skriv in kommunernas riktiga "
        "adresser och nummer i scenariot, ta bort placeholder = true och spara planen igen "
        "(`kkik plan SCENARIO --save`).",
        "Inget startat, inget skickat.",
    ]
    with Session(_engine(campaign)) as session:
        krokom = session.exec(select(Target).where(Target.kommunkod == "2309")).one()
        krokom.placeholder = False
        session.add(krokom)
        session.commit()
    late = FakeClock(datetime(2026, 12, 6, 9, 0, tzinfo=UTC))
    over = kkik("--lang", "en", "--config", str(campaign), "run", clock=late)
    assert over.code == 2
    assert over.err.splitlines()[0] == (
        f"The campaign “{name}”: the period 2026-10-05 – 2026-11-13 is already over (today "
        "2026-12-06); its 108 planned questions cannot be sent. Choose a new period in the "
        "scenario and save the plan again."
    )
    with Session(_engine(campaign)) as session:
        assert {p.state for p in session.exec(select(Probe)).all()} == {ProbeState.PLANNED}
    assert before != b""


def test_a_dry_run_needs_no_credentials_and_says_why_a_probe_waits(
    kkik, campaign: Path, monkeypatch: pytest.MonkeyPatch
):
    """Issue 16: the README's dry run asked for the Twilio token though it contacts nobody."""
    monkeypatch.delenv("KKIK_TEST_TWILIO", raising=False)
    phone_only = CHANNELS[CHANNELS.index("[phone]") :]
    campaign.write_text(campaign.read_text() + "\n" + phone_only)
    kkik("--config", str(campaign), "pause", "--target", "2321", clock=before_the_campaign())
    result = kkik("--config", str(campaign), "run", "--dry-run", "--at", "2026-10-05T12:50")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[:6] == [
        "Skulle skicka 2026-10-05 12:50: 0",
        "Skulle flytta (missad tid, fönstret stängt): 0",
        "Skickas inte nu (3):",
        "  #1 2321 Åre samtal: kommunen är pausad",
        "  #2 2321 Åre e-post: kommunen är pausad",
        "  #3 2380 Östersund e-post: kanalen är inte inställd i konfigurationen",
    ]


def test_a_second_runner_is_refused_with_a_clear_message(kkik, campaign: Path):
    with RunLock(_engine(campaign)):
        result = kkik("--lang", "en", "--config", str(campaign), "run", clock=before_the_campaign())
    assert result.code == 1
    assert result.err == (
        f"Another kkik run is already working on sqlite:///{campaign.parent / 'kkik.db'}; "
        "only one at a time.\n"
    )


def test_the_run_lock_is_exclusive_and_released(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'kkik.db'}")
    with RunLock(engine), pytest.raises(RunnerBusy):
        RunLock(engine).acquire()
    RunLock(engine).acquire().release()
