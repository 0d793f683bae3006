"""``kkik plan``: show, check and store a campaign plan, as quality staff run it."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest
from sqlmodel import Session, select

from harness.store import migrate
from harness.store.db import make_engine
from harness.store.models import Campaign, Probe, ProbeState, Question, Target

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "scenarios" / "kkik-hosten-2026.toml"


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    """The template next to a copy of the question bank, as a user would set it up."""
    shutil.copytree(ROOT / "scenarios" / "questions", tmp_path / "questions")
    path = tmp_path / "kampanj.toml"
    path.write_text(TEMPLATE.read_text(encoding="utf-8"), encoding="utf-8")
    return path


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text('[database]\nurl = "sqlite:///kkik.db"\n')
    engine = make_engine(f"sqlite:///{tmp_path / 'kkik.db'}")
    migrate.upgrade(engine)
    engine.dispose()
    return path


def test_it_shows_the_template_plan(kkik):
    result = kkik("plan", str(TEMPLATE))
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0] == (
        "KKiK hösten 2026: 3 kommuner, 54 e-postfrågor och 54 samtal, "
        "2026-10-05 – 2026-11-13 (seed 2026)"
    )
    assert lines[3].startswith("2380 Östersund             18      18  2026-10-")
    assert lines[3].endswith("  9")
    assert lines[-1].startswith("OBS: Östersund, Krokom, Åre är platshållare")


def test_it_plans_deterministically_and_by_the_rules(kkik):
    first = json.loads(kkik("plan", str(TEMPLATE), "--json").out)
    again = json.loads(kkik("plan", str(TEMPLATE), "--json").out)
    other = json.loads(kkik("plan", str(TEMPLATE), "--json", "--seed", "7").out)
    assert first == again
    assert first["probes"] != other["probes"]
    probes = first["probes"]
    assert len(probes) == 108
    for target in ("2380", "2309", "2321"):
        own = [p for p in probes if p["target"] == target]
        assert Counter(p["channel"] for p in own) == {"email": 18, "phone": 18}
        assert len({p["question"] for p in own}) == 36  # never the same question twice
        for channel in ("email", "phone"):
            areas = Counter(p["area"] for p in own if p["channel"] == channel)
            assert set(areas.values()) == {2}  # nine areas, two each
        for p in own:
            clock = p["at"][11:16]
            assert "09:00" <= clock < "16:00"


def test_it_saves_again_without_duplicates_and_never_touches_sent_probes(
    kkik, scenario: Path, config: Path, tmp_path: Path
):
    saved = kkik("--lang", "en", "--config", str(config), "plan", str(scenario), "--save")
    assert saved.code == 0, saved.err
    assert saved.out.splitlines()[-1].endswith(
        ": 108 new, 0 updated, 0 already under way (untouched), 0 withdrawn."
    )
    engine = make_engine(f"sqlite:///{tmp_path / 'kkik.db'}")
    with Session(engine) as session:
        assert len(session.exec(select(Campaign)).all()) == 1
        assert len(session.exec(select(Target)).all()) == 3
        assert len(session.exec(select(Question)).all()) == 45
        probes = session.exec(select(Probe).order_by(Probe.planned_at)).all()  # type: ignore[arg-type]
        assert len(probes) == 108
        assert {p.state for p in probes} == {ProbeState.PLANNED}
        # The first three went out meanwhile.
        for probe in probes[:3]:
            probe.state = ProbeState.SENT
            session.add(probe)
        session.commit()
        sent = {p.id: (p.planned_at, p.question_id) for p in probes[:3]}

    # A different seed moves every planned probe, but not the ones already sent.
    moved = kkik(
        "--lang", "en", "--config", str(config), "plan", str(scenario), "--save", "--seed", "9"
    )  # fmt: skip
    assert moved.out.splitlines()[-1].endswith(
        ": 0 new, 105 updated, 3 already under way (untouched), 0 withdrawn."
    )
    # Fewer calls requested: the surplus planned calls are withdrawn, never deleted.
    fewer = scenario.read_text(encoding="utf-8").replace(
        "calls_per_target = 18", "calls_per_target = 9"
    )
    scenario.write_text(fewer, encoding="utf-8")
    cut = kkik("--lang", "en", "--config", str(config), "plan", str(scenario), "--save")
    assert cut.code == 0, cut.err
    with Session(engine) as session:
        probes = session.exec(select(Probe)).all()
        assert len(probes) == 108
        states = Counter(p.state for p in probes)
        assert states[ProbeState.SENT] == 3
        assert states[ProbeState.CANCELLED] >= 25
        for probe_id, before in sent.items():
            row = session.get(Probe, probe_id)
            assert row is not None
            assert (row.planned_at, row.question_id) == before


def test_it_refuses_a_window_outside_office_hours(kkik, scenario: Path):
    text = scenario.read_text(encoding="utf-8").replace(
        'call_window = { start = "09:00", end = "16:00" }',
        'call_window = { start = "07:00", end = "16:00" }',
    )
    scenario.write_text(text, encoding="utf-8")
    result = kkik("--lang", "en", "plan", str(scenario))
    assert result.code == 2
    assert result.err == (
        f"{scenario}: campaign.call_window: must lie within office hours 08:00–17:00 "
        '(got "07:00–16:00")\n'
    )


def test_it_refuses_a_period_too_short_for_the_probes(kkik, scenario: Path):
    text = scenario.read_text(encoding="utf-8").replace(
        "period_end = 2026-11-13", "period_end = 2026-10-09"
    )
    scenario.write_text(text, encoding="utf-8")
    result = kkik("plan", str(scenario))
    assert result.code == 2
    assert result.err.splitlines() == [
        f"{scenario}: campaign.period_end: för få arbetsdagar: 18 e-postfrågor kräver minst 9 "
        "arbetsdagar med högst 2 per dag, perioden har 5",
        f"{scenario}: campaign.period_end: för få arbetsdagar: 18 samtal kräver minst 9 "
        "arbetsdagar med högst 2 per dag, perioden har 5",
    ]


def test_it_reports_a_bad_question_bank(kkik, scenario: Path):
    bad = scenario.parent / "questions" / "bygglov.toml"
    bad.write_text(bad.read_text(encoding="utf-8").replace('area = "bygglov"', 'area = "bygg"'))
    result = kkik("--lang", "en", "plan", str(scenario))
    assert result.code == 2
    assert result.err.startswith(f"{bad}: area: unknown area 'bygg' (known: bygglov, ")


def test_it_refuses_a_persona_name_with_a_line_break(kkik, scenario: Path):
    # It passed kkik plan and crashed the runner on the first send (issue 15, L4).
    text = scenario.read_text(encoding="utf-8").replace(
        'name = "Erik Johansson"', 'name = "Erik Johansson\\r\\nBcc: alla@kommun.example.se"'
    )
    scenario.write_text(text, encoding="utf-8")
    result = kkik("--lang", "en", "plan", str(scenario))
    assert (result.code, result.out) == (2, "")
    assert result.err == (
        f"{scenario}: personas[1].name: must not contain line breaks or other control "
        'characters (it becomes a mail header) (got "Erik Johansson\\r\\nBcc: '
        'alla@kommun.example.se")\n'
    )
