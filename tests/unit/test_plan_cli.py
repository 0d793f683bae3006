"""``kkik plan``: show, check and store a campaign plan, as quality staff run it."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session, select

from harness.core.clock import FakeClock
from harness.store import migrate
from harness.store.db import make_engine
from harness.store.models import Campaign, Probe, ProbeState, Question, Target

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "scenarios" / "kkik-hosten-2026.toml"


def before_the_campaign() -> FakeClock:
    """A clock before the template's period (it starts 2026-10-05), whatever today is."""
    return FakeClock(datetime(2026, 9, 28, 8, 0, tzinfo=UTC))


def ready(scenario: Path) -> Path:
    """The template as a user leaves it after putting in the real addresses."""
    text = scenario.read_text(encoding="utf-8").replace("placeholder = true", "placeholder = false")
    scenario.write_text(text, encoding="utf-8")
    return scenario


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
    ready(scenario)
    saved = kkik(
        "--lang", "en", "--config", str(config), "plan", str(scenario), "--save",
        clock=before_the_campaign(),
    )  # fmt: skip
    assert saved.code == 0, saved.err
    assert saved.out.splitlines()[-1].endswith(
        ": 108 new, 0 updated, 0 planned again after a fault on our side, 0 already under way "
        "(untouched), 0 withdrawn."
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
        "--lang", "en", "--config", str(config), "plan", str(scenario), "--save", "--seed", "9",
        clock=before_the_campaign(),
    )  # fmt: skip
    assert moved.out.splitlines()[-1].endswith(
        ": 0 new, 105 updated, 0 planned again after a fault on our side, 3 already under way "
        "(untouched), 0 withdrawn."
    )
    # Fewer calls requested: the surplus planned calls are withdrawn, never deleted.
    fewer = scenario.read_text(encoding="utf-8").replace(
        "calls_per_target = 18", "calls_per_target = 9"
    )
    scenario.write_text(fewer, encoding="utf-8")
    cut = kkik(
        "--lang", "en", "--config", str(config), "plan", str(scenario), "--save",
        clock=before_the_campaign(),
    )  # fmt: skip
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


def test_saving_the_unedited_template_is_refused_naming_what_to_change(
    kkik, scenario: Path, config: Path, tmp_path: Path
):
    """Issue 16: the template saved as it came, then `kkik run`, burnt all 108 probes."""
    result = kkik("--config", str(config), "plan", str(scenario), "--save",
                  clock=before_the_campaign())  # fmt: skip
    assert result.code == 2
    assert result.err.splitlines() == [
        f"{scenario}: targets[{i}]: {name} är en platshållare: skriv in kommunens riktiga "
        "e-postadress och växelnummer och ta bort placeholder = true innan planen sparas"
        for i, name in enumerate(("2380 Östersund", "2309 Krokom", "2321 Åre"))
    ] + ["Inget sparat. Rätta scenariot och spara igen."]
    engine = make_engine(f"sqlite:///{tmp_path / 'kkik.db'}")
    with Session(engine) as session:
        assert session.exec(select(Campaign)).all() == []  # nothing written
    # Shown without --save, the plan is only a plan: it says what to change but is not refused.
    assert kkik("plan", str(scenario), clock=before_the_campaign()).code == 0


def test_saving_a_campaign_whose_period_is_over_is_refused(kkik, scenario: Path, config: Path):
    ready(scenario)
    after = FakeClock(datetime(2026, 12, 6, 9, 0, tzinfo=UTC))
    result = kkik("--lang", "en", "--config", str(config), "plan", str(scenario), "--save",
                  clock=after)  # fmt: skip
    assert result.code == 2
    assert result.err.splitlines() == [
        f"{scenario}: campaign.period_end: the campaign period is already over (today is "
        "2026-12-06); choose a period that has not passed (campaign.period_start and "
        'period_end) (got "2026-11-13")',
        "Nothing saved. Correct the scenario and save again.",
    ]


def test_probes_refused_for_a_placeholder_are_planned_again_once_it_is_corrected(
    kkik, scenario: Path, config: Path, tmp_path: Path
):
    """A database burnt before the check existed: the refused probes come back, nothing sent
    is touched."""
    ready(scenario)
    clock = before_the_campaign()
    assert kkik("--config", str(config), "plan", str(scenario), "--save", clock=clock).code == 0
    engine = make_engine(f"sqlite:///{tmp_path / 'kkik.db'}")
    with Session(engine) as session:
        probes = session.exec(select(Probe).order_by(Probe.planned_at)).all()  # type: ignore[arg-type]
        sent_id = probes[0].id
        probes[0].state, probes[0].sent_at = ProbeState.SENT, probes[0].planned_at
        for probe in probes[1:11]:  # refused by a safety rule, as the runner did then
            probe.state, probe.outcome = ProbeState.FAILED, "refused"
            probe.fault_code, probe.completed_at = "refused_placeholder", probe.planned_at
        for probe in probes[11:13]:  # a harness fault already replaced: left to its stand-in
            probe.state, probe.outcome = ProbeState.FAILED, "harness_fault"
            stand_in = Probe(
                campaign_id=probe.campaign_id,
                target_id=probe.target_id,
                channel=probe.channel,
                planned_at=probe.planned_at,
                replaces_probe_id=probe.id,
                plan_key=f"{probe.plan_key}/r1",
            )
            session.add(stand_in)
        session.add_all(probes)
        session.commit()
    again = kkik("--lang", "en", "--config", str(config), "plan", str(scenario), "--save",
                 clock=clock)  # fmt: skip
    assert again.code == 0, again.err
    assert ": 0 new, 95 updated, 10 planned again after a fault on our side, 3 already " in (
        again.out
    )
    with Session(engine) as session:
        rows = session.exec(select(Probe)).all()
        states = Counter(p.state for p in rows)
        sent = session.get(Probe, sent_id)
    # The ten back, and the two stand-ins kept (saving again used to withdraw them).
    assert states[ProbeState.PLANNED] == 105 + 2
    assert states[ProbeState.FAILED] == 2
    assert sent is not None
    assert sent.state == ProbeState.SENT
    assert all(p.fault_code is None for p in rows if p.state == ProbeState.PLANNED)


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
